"""`ragft.rag.answering`: the Answerer the faces call, its validate policy (off, flag, refuse), the optional
Store capabilities' defaults, and sync's progress callback."""
from __future__ import annotations

import pytest

from ragft.errors import InputError
from ragft.llm.base import Generation
from ragft.rag.answering import Answerer
from ragft.rag.engine import Index
from ragft.rag.grounding import UNSUPPORTED_REFUSAL
from ragft.rag.stores import open_store
from ragft.rag.stores.base import Store

QUESTION = "What does the global interpreter lock do?"


class Inventing:
    """A generator that cites passage 1 for a claim no passage makes."""

    name = "inventing"
    model = "inventing-1"
    text = "The global interpreter lock was designed by Martian engineers in 1802 [1]."

    def generate(self, request):
        return Generation(text=self.text, cited=[1], input_tokens=10, output_tokens=12, model=self.model)

    def stream(self, request):
        yield self.text


@pytest.fixture
def index(tmp_path, corpus):
    with Index.open(tmp_path / "index", embedder="test-hashing") as opened:
        opened.sync([corpus], progress=False)
        yield opened


def test_index_ask_and_the_answerer_give_the_same_cited_answer(index):
    direct = Answerer(index).ask(QUESTION, k=3, use_cache=False)
    through_index = index.ask(QUESTION, k=3, use_cache=False)
    assert direct.text == through_index.text and "one thread" in direct.text
    assert [c.doc_id for c in direct.citations] == [c.doc_id for c in through_index.citations] == ["advanced/gil.md"]
    assert direct.validation is None


def test_flag_checks_a_grounded_answer_and_keeps_it(index):
    plain = Answerer(index).ask(QUESTION, k=3, use_cache=False)
    flagged = Answerer(index).ask(QUESTION, k=3, use_cache=False, stream=True, validate="flag")
    assert flagged.text == "".join(flagged) == plain.text        # checked whole, then handed out as one piece
    report = flagged.validation.report
    assert report.sentences and report.unsupported_count == 0 and not flagged.validation.refused
    assert flagged.validation.to_json()["refused"] is False and "unsupported_answer" not in flagged.validation.to_json()


def test_flag_marks_an_invented_sentence_and_refuse_withholds_the_answer(index):
    flagged = Answerer(index).ask(QUESTION, generator=Inventing(), k=3, use_cache=False, validate="flag")
    assert flagged.text == Inventing.text and flagged.validation.report.hallucinated
    assert not flagged.validation.refused
    refused = Answerer(index).ask(QUESTION, generator=Inventing(), k=3, use_cache=False, validate="refuse")
    assert refused.text == UNSUPPORTED_REFUSAL and refused.validation.refused
    assert refused.validation.unsupported_answer == Inventing.text
    as_json = refused.validation.to_json()
    assert as_json["refused"] is True and as_json["unsupported_answer"] == Inventing.text
    assert as_json["unsupported_count"] == 1 and not as_json["sentences"][0]["supported"]


def test_a_refused_answer_is_cached_as_generated_and_checked_again_when_served(index):
    answerer = Answerer(index)
    first = answerer.ask(QUESTION, generator=Inventing(), k=3, validate="refuse")
    again = answerer.ask(QUESTION, generator=Inventing(), k=3, validate="refuse")
    plain = answerer.ask(QUESTION, generator=Inventing(), k=3)
    assert first.cache["hit"] is None and again.cache["hit"] == "exact" and plain.cache["hit"] == "exact"
    assert first.text == again.text == UNSUPPORTED_REFUSAL and plain.text == Inventing.text


def test_an_unknown_validate_mode_is_a_one_line_error_naming_the_field(index):
    with pytest.raises(InputError, match="validate: unknown mode 'strict'; choose one of: off, flag, refuse"):
        Answerer(index).ask(QUESTION, validate="strict")


def test_the_answerer_creates_one_generator_per_name_and_options(index):
    answerer = Answerer(index)
    assert answerer.generator("extractive", {}) is answerer.generator("extractive", {})
    with pytest.raises(InputError, match="generator 'extractive' does not take the option"):
        answerer.generator("extractive", {"colour": "blue"})


class Minimal(Store):
    """A backend that implements only the required methods: the optional ones come from Store."""

    def __init__(self, inner):
        self.inner = inner

    def upsert(self, chunks, vectors):
        self.inner.upsert(chunks, vectors)

    def delete_documents(self, doc_ids):
        return self.inner.delete_documents(doc_ids)

    def dense_search(self, vector, k, where=None):
        return self.inner.dense_search(vector, k, where)

    def get(self, chunk_ids):
        return self.inner.get(chunk_ids)

    def chunks(self):
        return self.inner.chunks()

    def count(self):
        return self.inner.count()

    def read_meta(self):
        return self.inner.read_meta()

    def write_meta(self, meta):
        self.inner.write_meta(meta)


def test_optional_store_capabilities_have_working_defaults(index):
    lance = open_store(str(index.path))
    minimal = Minimal(lance)
    doc_ids = ["tuples.md", "advanced/gil.md"]
    assert sorted(minimal.chunk_ids(doc_ids)) == sorted(lance.chunk_ids(doc_ids)) and minimal.chunk_ids(doc_ids)
    assert minimal.dim is None and minimal.index_description == "exact" and minimal.compact() is False
    assert minimal.close() is None and isinstance(minimal, Store)
    assert lance.dim == index.embedder.dim


def test_sync_reports_each_file_then_the_compaction_to_its_callback(tmp_path, corpus, capsys):
    events = []
    with Index.open(tmp_path / "index", embedder="test-hashing") as opened:
        report = opened.sync([corpus], on_progress=lambda *event: events.append(event))
        files = len(report.added)
        assert events == [("indexing", i, files) for i in range(1, files + 1)] + \
            [("compacting", 0, 1), ("compacting", 1, 1)]
        events.clear()
        opened.sync([corpus], on_progress=lambda *event: events.append(event))   # nothing changed
        assert events == []
    assert capsys.readouterr().err == ""          # the default reporter draws nothing off a terminal
