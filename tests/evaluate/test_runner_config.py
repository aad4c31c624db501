"""The run config: one file (or the flags) that makes an eval run reproducible, with one-line errors."""
from __future__ import annotations

import pytest

from ragft.errors import InputError, RagftError
from ragft.evaluate.config import RetrievalSettings, config_from_mapping, load_config, parse_systems
from ragft.evaluate.questions import load_questions
from ragft.rag.search import SearchConfig

from .conftest import PYTHON_DOC_TREE


def test_a_toml_config_names_bench_systems_and_knobs_with_paths_relative_to_the_file(tmp_path):
    (tmp_path / "eval.toml").write_text(
        'bench = "python-faq"\nbench_source = "data"\nk = 3\nseed = 7\nrepeat = 2\nlimit = 50\n'
        'price_model = "gpt-4.1-mini"\n\n'
        '[[systems]]\nname = "rag"\nkind = "rag"\nk = 3\n\n'
        '[[systems]]\nname = "tuned"\nkind = "hybrid"\ngenerator = "local"\nadapter = "adapters/a"\n')
    config = load_config(tmp_path / "eval.toml")
    assert config.bench == ["python-faq"] and config.bench_source == str(tmp_path / "data")
    assert (config.k, config.seed, config.repeat, config.limit) == (3, 7, 2, 50)
    assert [s.kind for s in config.systems] == ["rag", "hybrid"]
    assert config.systems[1].adapter == str(tmp_path / "adapters" / "a")
    assert config.needs_index and config.label == "python-faq"


def test_a_yaml_config_takes_systems_as_a_comma_list_and_flags_override_it(tmp_path):
    (tmp_path / "eval.yaml").write_text("evalset: set.jsonl\ndocs: corpus\nsystems: closed-book,rag\nk: 4\n")
    config = load_config(tmp_path / "eval.yaml", {"seed": 5})
    assert config.evalset == str(tmp_path / "set.jsonl") and config.docs == [str(tmp_path / "corpus")]
    assert [(s.name, s.k) for s in config.systems] == [("closed-book", 4), ("rag", 4)] and config.seed == 5


def test_parse_systems_gives_tuned_kinds_the_local_generator_and_the_adapter():
    systems = parse_systems("closed-book,rag,fine-tuned,hybrid", "openai", "ad", {"model": "gpt-4o-mini"})
    assert [(s.kind, s.generator, s.adapter) for s in systems] == [
        ("closed-book", "openai", None), ("rag", "openai", None), ("fine-tuned", "local", "ad"), ("hybrid", "local", "ad")]
    with pytest.raises(InputError, match="--systems: unknown system 'rga'; choose from closed-book, rag,"):
        parse_systems("closed-book,rga")


@pytest.mark.parametrize("data, message", [
    ({"systems": "rag"}, "flags: give exactly one of bench (--bench) or evalset (--evalset)"),
    ({"bench": "python-faq", "evalset": "x.jsonl", "systems": "rag"}, "flags: give exactly one of bench"),
    ({"evalset": "x.jsonl", "systems": "rag"}, "flags: an eval set with rag or hybrid systems needs docs"),
    ({"bench": "python-faq", "systems": "rag", "limit": 0}, "flags: limit = 0 is invalid"),
    ({"bench": "python-faq", "systems": "rag", "repat": 2}, "flags: unknown key 'repat' (did you mean repeat?)"),
])
def test_bad_configs_fail_with_one_line_naming_the_field(data, message):
    with pytest.raises(InputError) as error:
        config_from_mapping(data, "flags")
    assert str(error.value).startswith(message) and "\n" not in str(error.value)


def test_limit_takes_a_seeded_sample_in_bench_order_and_split_keeps_one_part(tmp_path):
    base = {"bench": "python-faq", "bench_source": str(PYTHON_DOC_TREE), "bench_cache": str(tmp_path),
            "distractors": 0, "systems": "closed-book"}
    everything = load_questions(config_from_mapping(base)).items
    sample = load_questions(config_from_mapping({**base, "limit": 8})).items
    again = load_questions(config_from_mapping({**base, "limit": 8})).items
    other = load_questions(config_from_mapping({**base, "limit": 8, "seed": 1})).items
    order = [item.id for item in everything]
    assert sample == again and sample != other and len(sample) == 8
    assert [order.index(item.id) for item in sample] == sorted(order.index(item.id) for item in sample)
    test_part = load_questions(config_from_mapping({**base, "split": "test"})).items
    assert len(test_part) == len(everything) - int(len(everything) * 0.6) - int(len(everything) * 0.2)


def test_two_benches_prefix_question_ids_with_their_bench(tmp_path):
    from .conftest import DEBIAN_FAQ_TREE

    config = config_from_mapping({"bench": "python-faq,debian-faq", "bench_source": str(PYTHON_DOC_TREE),
                                  "bench_cache": str(tmp_path), "distractors": 0, "systems": "closed-book"})
    with pytest.raises(RagftError):
        load_questions(config)      # one --from folder must hold both packages
    (tmp_path / "both").mkdir()
    for tree in (PYTHON_DOC_TREE, DEBIAN_FAQ_TREE):
        _copy_tree(tree, tmp_path / "both")
    config = config.model_copy(update={"bench_source": str(tmp_path / "both")})
    questions = load_questions(config)
    prefixes = {item.id.split(":", 1)[0] for item in questions.items}
    assert prefixes == {"python-faq", "debian-faq"} and len(questions.corpus_dirs) == 2


def _copy_tree(source, target):
    import shutil

    shutil.copytree(source, target, dirs_exist_ok=True)


def test_retrieval_settings_default_to_the_engine_search_config_and_carry_its_json():
    assert RetrievalSettings().search_config() == SearchConfig()
    rrf = SearchConfig(fusion="rrf", rrf_k=20.0, weights={"dense": 1.0, "bm25": 0.5}, candidates=50)
    retrieval = RetrievalSettings(chunk_tokens=64, overlap=8, source="/indexes/tuned", **rrf.to_json())
    assert retrieval.search_config() == rrf
    assert (retrieval.chunk_tokens, retrieval.overlap) == (64, 8)
