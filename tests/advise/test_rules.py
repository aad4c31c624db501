"""rules.toml is data: thresholds are named parameters a partial rules file (or a Rules object) overrides."""
import pytest

from ragft.advise import advise
from ragft.advise.framework import decide
from ragft.advise.rules import load_rules
from ragft.errors import InputError


def test_packaged_rules_quote_the_seed_gate_and_name_every_threshold():
    rules = load_rules()
    assert rules.gate.quote == "Start with question 1. If you answer no, stop. You probably do not need fine-tuning."
    assert (rules.q1.min_stable_months, rules.q2.tight_below_s, rules.q3.finetune_min_examples) == (6, 2, 100)
    assert rules.q4.rag_per_query_usd == (0.005, 0.02)
    assert rules.hybrid.min_labeled_examples == 10_000


def test_a_partial_rules_file_overrides_one_threshold_and_keeps_the_rest(tmp_path, profile):
    path = tmp_path / "rules.toml"
    path.write_text("[q1]\nmin_stable_months = 1\n")
    rules = load_rules(path)
    assert rules.q1.min_stable_months == 1
    assert rules.q2.tight_below_s == 2
    assert advise(profile(knowledge_valid_months=3), rules=rules).stopped_at is None
    assert advise(profile(knowledge_valid_months=3)).stopped_at == "q1"


def test_a_rules_file_with_an_unknown_threshold_is_rejected_with_a_suggestion(tmp_path):
    path = tmp_path / "rules.toml"
    path.write_text("[q2]\ntight_below = 1.0\n")
    with pytest.raises(InputError, match=r"unknown key 'q2.tight_below' \(did you mean tight_below_s\?\)"):
        load_rules(path)


def test_a_rules_file_can_replace_the_decision_table(tmp_path, profile):
    path = tmp_path / "rules.toml"
    path.write_text('[[decisions]]\nid = "always-hybrid"\nwhen = {}\narchitecture = "hybrid"\nquote = "x"\n')
    verdict = advise(profile(), rules=load_rules(path))
    assert (verdict.architecture, verdict.decided_by) == ("hybrid", "always-hybrid")


def test_a_decision_table_without_a_catch_all_row_fails_loudly():
    rules = load_rules()
    rows = [row for row in rules.decisions if row.when]
    with pytest.raises(InputError, match="catch-all row"):
        decide({"stable": True, "knowledge": "documents", "hybrid": False, "latency": "fits", "cost": "fits",
                "enough_examples": True}, rules.model_copy(update={"decisions": rows}))


def test_unknown_facts_match_only_rows_that_ask_for_unknown():
    rules = load_rules()
    facts = {"stable": None, "latency": "tight", "knowledge": None, "enough_examples": True,
             "cost": "rag-over-ceiling", "hybrid": False}
    assert decide(facts, rules).id == "latency-and-cost-point-to-fine-tuning"
    assert decide({**facts, "stable": False}, rules).id == "stop-at-q1"
