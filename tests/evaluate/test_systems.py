"""Systems under test, built from SystemConfig: what each reads, what it answers, and what it refuses."""
from __future__ import annotations

import pytest

from ragft.errors import InputError
from ragft.evaluate.evalset import EvalItem
from ragft.evaluate.records import SystemConfig
from ragft.evaluate.systems import SYSTEMS, BuildContext, build_system
from ragft.llm.base import GENERATORS
from ragft.llm.generators.extractive import ExtractiveGenerator
from ragft.rag.engine import Index


class Recording(ExtractiveGenerator):
    """The extractive generator, keeping every request it was given."""

    name = "recording"
    requests: list = []

    def generate(self, request):
        Recording.requests.append(request)
        return super().generate(request)


@pytest.fixture(autouse=True)
def recording_generator():
    with GENERATORS.registered("recording", Recording):
        yield

ITEM = EvalItem(id="q1", question="How do I add an item to the end of a list?",
                reference_answer="Use append to add an item to the end of a list.", relevant_ids=["lists.md"])


@pytest.fixture(scope="module")
def index(tmp_path_factory):
    root = tmp_path_factory.mktemp("systems")
    docs = root / "docs"
    docs.mkdir()
    (docs / "lists.md").write_text("# Lists\n\nPython lists are mutable. Append adds an item to the end of a list.\n")
    (docs / "tuples.md").write_text("# Tuples\n\nTuples are immutable sequences of heterogeneous values.\n")
    (docs / "gil.md").write_text("# The GIL\n\nThe global interpreter lock lets one thread run bytecode at a time.\n")
    with Index.open(root / "index", embedder="minilm") as opened:
        opened.sync([docs], root=docs, progress=False)
        yield opened


def test_the_registry_knows_the_four_kinds():
    assert SYSTEMS.names() == ["closed-book", "fine-tuned", "hybrid", "rag"]


def test_closed_book_extractive_abstains_without_retrieving(tmp_path):
    system = build_system(SystemConfig(name="cb", kind="closed-book"), BuildContext())
    answer = system.answer(ITEM)
    assert answer.answer.startswith("I don't know") and answer.hits is None and answer.contexts == []
    assert set(answer.timings) == {"generate", "total", "ttft"} and answer.output_tokens > 0
    assert 0 < answer.timings["ttft"] <= answer.timings["total"]


def test_rag_answers_from_the_gold_document_with_stage_timings(index):
    system = build_system(SystemConfig(name="rag", kind="rag", k=2), BuildContext(index=index))
    answer = system.answer(ITEM)
    assert answer.contexts[0].doc_id == "lists.md" and len(answer.contexts) == 2
    assert "lists.md" in answer.cited_doc_ids and "Append adds an item" in answer.answer
    assert {"embed", "search", "generate", "total", "ttft"} <= set(answer.timings)
    # the first piece comes after retrieval: ttft counts embed + search, and never exceeds the whole answer
    retrieval = answer.timings["embed"] + answer.timings["search"]
    assert retrieval < answer.timings["ttft"] <= answer.timings["total"]
    assert answer.input_tokens > 0 and answer.hits[0].chunk.doc_id == "lists.md"


def test_each_request_carries_the_seed_and_temperature_of_its_repeat(index):
    config = SystemConfig(name="rag", kind="rag", generator="recording", generator_options={"temperature": 0.7})
    system = build_system(config, BuildContext(index=index))
    Recording.requests.clear()
    system.answer(ITEM, seed=3)
    closed = build_system(config.model_copy(update={"kind": "closed-book"}), BuildContext())
    closed.answer(ITEM, seed=4)
    assert [(r.seed, r.temperature) for r in Recording.requests] == [(3, 0.7), (4, 0.7)]
    assert Recording.requests[0].passages and not Recording.requests[1].passages


def test_systems_with_the_same_generator_settings_share_one_generator(index):
    context = BuildContext(index=index)
    rag = build_system(SystemConfig(name="rag", kind="rag"), context)
    closed = build_system(SystemConfig(name="cb", kind="closed-book"), context)
    assert rag.generator is closed.generator and len(context.generators) == 1


def test_a_retrieving_system_without_an_index_is_refused():
    with pytest.raises(InputError, match="system rag: rag needs an index"):
        build_system(SystemConfig(name="rag", kind="rag"), BuildContext())


def test_tuned_systems_need_an_adapter_on_the_local_generator_or_a_tuned_model_on_any_other(tmp_path):
    with pytest.raises(InputError, match="fine-tuned needs a generator with a model to tune"):
        build_system(SystemConfig(name="ft", kind="fine-tuned"), BuildContext())
    with pytest.raises(InputError, match=r"fine-tuned needs an adapter; train one with `ragft finetune train`"):
        build_system(SystemConfig(name="ft", kind="fine-tuned", generator="local"), BuildContext())
    half = tmp_path / "adapter"
    half.mkdir()
    with pytest.raises(InputError, match="no ragft-adapter.json"):
        build_system(SystemConfig(name="hy", kind="hybrid", generator="local", adapter=str(half)),
                     BuildContext(index=object()))
    with pytest.raises(InputError, match="on generator 'openai-compatible' needs the tuned model: --tuned-model"):
        build_system(SystemConfig(name="ft", kind="fine-tuned", generator="openai-compatible",
                                  generator_options={"model": "base"}), BuildContext())
    with pytest.raises(InputError, match="an adapter is a local LoRA and needs generator 'local', not 'openai'"):
        build_system(SystemConfig(name="ft", kind="fine-tuned", generator="openai", adapter=str(half)), BuildContext())
    with pytest.raises(InputError, match="with generator 'local' give a LoRA adapter"):
        build_system(SystemConfig(name="ft", kind="fine-tuned", generator="local", tuned_model="ft:x"), BuildContext())


def test_a_tuned_model_shares_the_base_generator_settings_but_answers_by_its_own_name():
    context = BuildContext()
    options = {"model": "base-model", "base_url": "http://127.0.0.1:9/v1", "temperature": 0.3}
    closed = build_system(SystemConfig(name="cb", kind="closed-book", generator="openai-compatible",
                                       generator_options=options), context)
    tuned = build_system(SystemConfig(name="ft", kind="fine-tuned", generator="openai-compatible",
                                      generator_options=options, tuned_model="base-model-ft"), context)
    assert (closed.generator.model, tuned.generator.model) == ("base-model", "base-model-ft")
    assert closed.generator.client.base_url == tuned.generator.client.base_url and len(context.generators) == 2
    assert tuned.temperature == closed.temperature == 0.3


class Whole:
    """A generator that does not stream: its Generation carries no first-token time."""

    name = "whole"

    def generate(self, request):
        from ragft.llm.base import Generation

        return Generation(text="An answer.", output_tokens=2, model="whole")


def test_a_generator_that_does_not_stream_has_no_ttft_and_the_table_says_why(index):
    from ragft.evaluate.records import QuestionRecord
    from ragft.evaluate.table import build_table

    records = []
    for kind, streams in (("rag", False), ("closed-book", True)):
        system = build_system(SystemConfig(name=kind, kind=kind), BuildContext(index=index))
        if not streams:
            system.generator = Whole()
        answer = system.answer(ITEM)
        assert ("ttft" in answer.timings) == streams
        records.append(QuestionRecord(system=kind, question_id="q1", question=ITEM.question, answer=answer.answer,
                                      reference_answer=ITEM.reference_answer, timings=answer.timings))
    row = next(r for r in build_table(records, ["rag", "closed-book"], run_id="r", bench="b").rows
               if r.key == "ttft_p95")
    assert row.values["rag"].value is None and row.values["rag"].note == (
        "n/a: the generator does not stream (no first-token time)")
    assert row.values["closed-book"].value == records[1].timings["ttft"]
