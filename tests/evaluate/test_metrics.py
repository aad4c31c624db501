"""Metric values on hand-built cases, with the arithmetic written out."""
from __future__ import annotations

import math

import pytest

from ragft.evaluate.evalset import EvalItem
from ragft.evaluate.metrics import (aggregate, exact_match, is_abstention, lcs_length, normalize_answer, rouge_l,
                                    score_question, score_retrieval, token_f1)
from ragft.rag.document import Chunk, Hit


def test_squad_normalisation_drops_case_punctuation_and_articles():
    assert normalize_answer("The  Cat, sat on a mat!") == "cat sat on mat"


def test_token_f1_counts_shared_tokens_once_per_occurrence():
    # pred tokens: cat sat mat (3); ref: cat sat on mat today (5); shared 3 -> P=1, R=3/5, F1=2*0.6/1.6=0.75
    assert token_f1("The cat sat mat", "a cat sat on the mat today") == pytest.approx(0.75)
    assert token_f1("", "") == 1.0 and token_f1("cat", "") == 0.0 and token_f1("dog", "cat") == 0.0


def test_rouge_l_uses_the_longest_common_subsequence():
    # pred: a b c d e f (6), ref: a x c y e (5); LCS = a c e = 3 -> P=3/6, R=3/5, F1=2*.5*.6/1.1=0.5454..
    assert lcs_length("a b c d e f".split(), "a x c y e".split()) == 3
    assert rouge_l("alpha beta gamma delta eps phi", "alpha x gamma y eps") == pytest.approx(6 / 11)
    assert rouge_l("same words", "Same words.") == 1.0


def test_exact_match_after_normalisation():
    assert exact_match("The answer.", "answer") == 1.0 and exact_match("answers", "answer") == 0.0


def test_retrieval_scores_for_a_ranked_list_of_doc_ids():
    # gold {g1, g2}; ranking x g2 y g1: first hit at rank 2 -> MRR 1/2, hit@1 0;
    # recall@3 = 1/2 (only g2 in top 3); nDCG = (1/log2(3) + 1/log2(5)) / (1/log2(2) + 1/log2(3))
    scores = score_retrieval(["x", "g2", "y", "g1"], ["g1", "g2"], k=3)
    assert scores.hit_at_1 == 0.0 and scores.mrr == 0.5 and scores.recall_at_k == 0.5
    expected = (1 / math.log2(3) + 1 / math.log2(5)) / (1 + 1 / math.log2(3))
    assert scores.ndcg_at_10 == pytest.approx(expected)


def test_a_chunk_matches_when_its_document_is_gold_and_counts_once():
    hits = [Hit(Chunk(f"doc.md#{i}", "faq/a.md", "text"), score=1.0, rank=i) for i in (1, 2)]
    hits.append(Hit(Chunk("c3", "faq/b.md", "text"), score=0.5, rank=3))
    scores = score_retrieval(hits, ["faq/a.md"], k=5)
    # the second chunk of faq/a.md adds no gain: DCG = 1 = IDCG
    assert (scores.hit_at_1, scores.recall_at_k, scores.mrr, scores.ndcg_at_10) == (1.0, 1.0, 1.0, 1.0)
    assert score_retrieval(hits, ["c3"], k=2).recall_at_k == 0.0          # chunk id gold, outside top 2


def test_a_jsonl_record_id_matches_its_gold_file():
    assert score_retrieval(["qa.jsonl#7"], ["qa.jsonl"]).hit_at_1 == 1.0


def test_score_question_flags_a_hallucinated_sentence():
    item = EvalItem(id="q1", question="Can I delete Python?", relevant_ids=["faq/installed/003.md"],
                    reference_answer="That depends on where Python came from.")
    context = Chunk("c1", "faq/installed/003.md",
                    "If someone installed it deliberately, you can remove it without hurting anything.")
    honest = score_question(item, "That depends on where Python came from [1].", [Hit(context, 1.0, 1)])
    invented = score_question(item, "That depends on where Python came from. Python 2 deletes itself in 2020.",
                              [Hit(context, 1.0, 1)])
    assert honest["hallucinated"] == 0.0 and honest["supported_ratio"] == 1.0 and honest["hit_at_1"] == 1.0
    assert invented["hallucinated"] == 1.0 and invented["supported_ratio"] == 0.5
    closed_book = score_question(item, "I don't know.")
    assert "hit_at_1" not in closed_book and closed_book["hallucinated"] == 0.0 and closed_book["abstained"]
    assert "grounded" not in closed_book                      # no passages of its own to be grounded in


DELETE_ITEM = EvalItem(id="q", question="Can I delete Python?", relevant_ids=["faq/installed/003.md"],
                       reference_answer="That depends on where Python came from.")
DELETE_GOLD = ("That depends on where Python came from. If someone installed it deliberately, you can remove it "
               "without hurting anything. On Windows, use the Add/Remove Programs icon in the Control Panel.")


def test_every_system_is_checked_against_the_same_evidence_reference_plus_gold_document():
    true_but_not_in_reference = "On Windows, use the Add/Remove Programs icon in the Control Panel."
    closed_book = score_question(DELETE_ITEM, true_but_not_in_reference, evidence=[DELETE_GOLD])
    assert closed_book["hallucinated"] == 0.0          # the gold document says it: not flagged
    reference_only = score_question(DELETE_ITEM, true_but_not_in_reference)
    assert reference_only["hallucinated"] == 1.0       # the short reference alone does not
    invented = score_question(DELETE_ITEM, "On Windows, Python deletes itself in 2020.", evidence=[DELETE_GOLD])
    assert invented["hallucinated"] == 1.0 and invented["unsupported_sentences"]


def test_a_retrieving_system_is_not_checked_against_its_own_passages_but_gets_a_grounding_score():
    other = Chunk("c9", "faq/general/001.md", "Python is an interpreted, interactive, object-oriented language.")
    quote = "Python is an interpreted, interactive, object-oriented language."
    row = score_question(DELETE_ITEM, quote, [Hit(other, 1.0, 1)], evidence=[DELETE_GOLD])
    assert row["grounded"] == 1.0 and row["grounded_ratio"] == 1.0    # it quoted its passage...
    assert row["hallucinated"] == 1.0                                   # ...which is not this question's evidence
    assert row["hit_at_1"] == 0.0
    gold_quote = score_question(DELETE_ITEM, "On Windows, use the Add/Remove Programs icon.",
                                [Hit(Chunk("c1", "faq/installed/003.md", DELETE_GOLD), 1.0, 1)],
                                evidence=[DELETE_GOLD])
    assert gold_quote["grounded"] == 1.0 and gold_quote["hallucinated"] == 0.0


@pytest.mark.parametrize("answer", ["I don't know.", "", "  ", "I don't know. The passages do not say.",
                                    "Sorry, but the context does not mention deleting Python."])
def test_an_answer_that_declines_as_a_whole_is_an_abstention_scored_wrong_and_not_hallucinated(answer):
    item = EvalItem(id="q", question="Do I need to know the version?", reference_answer="You don't need to know it.")
    assert is_abstention(answer)
    row = score_question(item, answer)
    assert row["abstained"] and row["hallucinated"] == 0.0
    # "I don't know" shares "don't know" with the reference, but an abstention is a wrong answer
    assert (row["token_f1"], row["exact_match"], row["rouge_l"]) == (0.0, 0.0, 0.0)
    assert token_f1("I don't know.", item.reference_answer) > 0


@pytest.mark.parametrize("answer", ["I don't know. Python 2 deletes itself in 2020.",
                                    "I don't know the version, but Python 2 deletes itself in 2020."])
def test_an_abstention_phrase_inside_a_longer_answer_does_not_excuse_its_claims(answer):
    assert not is_abstention(answer)
    row = score_question(DELETE_ITEM, answer, evidence=[DELETE_GOLD])
    assert not row["abstained"] and row["hallucinated"] == 1.0


def test_declining_is_the_right_answer_when_the_reference_declines_too():
    item = EvalItem(id="q", question="What is the airspeed of a swallow?", reference_answer="I don't know.")
    assert score_question(item, "I don't know.")["token_f1"] == 1.0


def test_aggregate_gives_mean_and_interval_per_metric():
    rows = [{"id": str(i), "token_f1": v, "hallucinated": float(i % 2)} for i, v in enumerate([0.2, 0.4, 0.6, 0.8])]
    result = aggregate(rows)
    assert result["token_f1"].mean == pytest.approx(0.5) and result["token_f1"].n == 4
    assert 0.2 <= result["token_f1"].low <= 0.5 <= result["token_f1"].high <= 0.8
    assert result["hallucinated"].higher_is_better is False and set(result) == {"token_f1", "hallucinated"}
