"""Answering from an `Index`: retrieval -> prompt -> generator -> citations -> validation/refusal -> answer cache.

`Answerer(index).ask(question, ...)` is what the CLI, the web app and the eval systems call (`Index.ask` delegates
here for library users). An Answerer keeps the generators it created, so a local model loads once per answerer.
"""
from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from typing import Any, Iterator, Literal

from ragft.errors import InputError
from ragft.rag.document import Hit
from ragft.rag.injection import flag_hits

# off: no check; flag: check every sentence against the retrieved chunks and report it; refuse: also replace an
# answer with an unsupported sentence by a refusal.
Validate = Literal["off", "flag", "refuse"]
VALIDATE_MODES = ("off", "flag", "refuse")


@dataclass(frozen=True)
class Citation:
    ref: int                    # the [n] shown in the answer
    chunk_id: str
    doc_id: str
    title: str
    source: str
    text: str


@dataclass(frozen=True)
class Validation:
    """The judge-free support check of an answer (ragft.rag.grounding) and what the policy did with it."""

    report: Any                              # ragft.rag.grounding.SupportReport
    refused: bool                            # the text was replaced by UNSUPPORTED_REFUSAL
    unsupported_answer: str | None = None    # the withheld text when refused

    def to_json(self) -> dict[str, Any]:
        from ragft.rag.grounding import support_json

        return {**support_json(self.report), "refused": self.refused,
                **({"unsupported_answer": self.unsupported_answer} if self.refused else {})}


@dataclass
class Answer:
    """An answer with numbered citations; iterate it to stream the text (when asked with stream=True)."""

    question: str
    text: str
    citations: list[Citation]
    hits: list[Hit]
    input_tokens: int
    output_tokens: int
    model: str
    generator: str
    timings: dict[str, float]             # seconds: embed, search, generate, total (+ first_token)
    cache: dict[str, Any]                 # hit: None|"exact"|"near", similarity, and cumulative stats
    tokens_estimated: bool = False        # True when counted with ragft.llm.tokens, not reported by the model
    injection: list = field(default_factory=list)   # ragft.rag.injection flags on the retrieved chunks
    validation: Validation | None = None  # set when asked with validate="flag" or "refuse"

    def __iter__(self) -> Iterator[str]:
        pieces = self.__dict__.pop("_pieces", None)
        if pieces is None:
            yield self.text
            return
        yield from pieces


class Answerer:
    """Answers questions from one open Index; keeps the generators it creates (one per name and options)."""

    def __init__(self, index):
        self.index = index
        self._generators: dict[str, Any] = {}

    def ask(
        self,
        question: str,
        generator: str | Any = "extractive",
        k: int = 5,
        stream: bool = False,
        *,
        mode: str = "hybrid",
        where: dict[str, Any] | None = None,
        use_cache: bool = True,
        max_tokens: int = 256,
        validate: Validate = "off",
        **generator_options: Any,
    ) -> Answer:
        """Retrieve k chunks, generate an answer citing them as [n], and cache it.

        `generator`: a registry name (options such as model=, base_url= are passed to it) or a Generator.
        With stream=True the returned Answer yields text pieces when iterated; its text, citations, token
        counts and timings are filled in once the stream is drained. `validate`: "flag" checks each sentence
        against the retrieved chunks (answer.validation), "refuse" also withholds an answer with an unsupported
        sentence; either way the whole answer is checked before any of it is returned (no streaming)."""
        if validate not in VALIDATE_MODES:
            raise InputError(f"validate: unknown mode {validate!r}; choose one of: {', '.join(VALIDATE_MODES)}")
        if validate != "off":
            answer = self._ask(question, generator, k, False, mode, where, use_cache, max_tokens, generator_options)
            return _validated(answer, refuse=validate == "refuse")
        return self._ask(question, generator, k, stream, mode, where, use_cache, max_tokens, generator_options)

    def _ask(self, question, generator, k, stream, mode, where, use_cache, max_tokens, generator_options) -> Answer:
        index, answers = self.index, self.index.answers
        started = time.perf_counter()
        gen = self.generator(generator, generator_options)
        setup = json.dumps(
            {"generator": _generator_id(gen, generator_options), "k": k, "mode": mode, "where": where,
             "max_tokens": max_tokens},
            sort_keys=True, default=str,
        )
        vector = None
        timings: dict[str, float] = {}
        if use_cache:
            hit = answers.exact(question, setup, index.generation)
            if hit is None and mode != "bm25":
                start = time.perf_counter()
                vector = index.embed_query(question)
                timings["embed"] = time.perf_counter() - start
                hit = answers.near(vector, setup, index.generation)
            answers.count(hit is not None)
            if hit is not None:
                return self._cached_answer(question, hit, timings, started)
        hits, retrieve_timings, vector = index.retrieve(question, k, mode, where, vector)
        timings = {**timings, **retrieve_timings}
        request = _request(question, hits, max_tokens)
        answer = Answer(
            question=question, text="", citations=[], hits=hits, input_tokens=0, output_tokens=0,
            model="", generator=gen.name, timings=timings,
            cache={"hit": None, "similarity": None, **answers.stats()}, injection=flag_hits(hits),
        )
        if not stream:
            start = time.perf_counter()
            generation = gen.generate(request)
            timings["generate"] = time.perf_counter() - start
            _complete(answer, generation.text, generation.cited, generation.input_tokens,
                      generation.output_tokens, generation.model, started)
            if use_cache:
                answers.put(question, vector, setup, index.generation, _answer_record(answer))
            return answer
        answer.__dict__["_pieces"] = self._stream(answer, gen, request, setup, vector, use_cache, started)
        return answer

    def _stream(self, answer, gen, request, setup, vector, use_cache, started) -> Iterator[str]:
        from ragft.llm.prompts import cited_refs, system_prompt, user_message
        from ragft.llm.tokens import count_tokens

        start = time.perf_counter()
        pieces: list[str] = []
        for piece in gen.stream(request):
            if not pieces:
                answer.timings["first_token"] = time.perf_counter() - start
            pieces.append(piece)
            yield piece
        answer.timings["generate"] = time.perf_counter() - start
        text = "".join(pieces)
        prompt = system_prompt(request) + "\n" + user_message(request)
        _complete(answer, text, cited_refs(text, request.passages), count_tokens(prompt), count_tokens(text),
                  getattr(gen, "model", "") or gen.name, started)
        answer.tokens_estimated = True
        if use_cache:
            self.index.answers.put(answer.question, vector, setup, self.index.generation, _answer_record(answer))

    def _cached_answer(self, question: str, hit, timings: dict[str, float], started: float) -> Answer:
        record = hit.answer
        chunks = {c.id: c for c in self.index.store.get([h["chunk_id"] for h in record["hits"]])}
        hits = [
            Hit(chunk=chunks[h["chunk_id"]], score=h["score"], rank=i + 1, scores=h["scores"])
            for i, h in enumerate(record["hits"]) if h["chunk_id"] in chunks
        ]
        timings = {**timings, "search": 0.0, "generate": 0.0, "total": time.perf_counter() - started}
        return Answer(
            question=question, text=record["text"], citations=_citations(hits, record["cited"]), hits=hits,
            input_tokens=0, output_tokens=0, model=record["model"], generator=record["generator"],
            timings=timings,
            cache={"hit": hit.kind, "similarity": round(hit.similarity, 4), "cached_question": hit.question,
                   "saved_input_tokens": record["input_tokens"], "saved_output_tokens": record["output_tokens"],
                   **self.index.answers.stats()},
            injection=flag_hits(hits),
        )

    def generator(self, generator: str | Any, options: dict[str, Any]):
        """The Generator a name and options give, created once per answerer; a Generator is used as is."""
        if not isinstance(generator, str):
            return generator
        key = json.dumps([generator, options], sort_keys=True, default=str)
        if key not in self._generators:
            from ragft.llm import create_generator

            given = {k: v for k, v in options.items() if v is not None}
            try:
                self._generators[key] = create_generator(generator, **given)
            except TypeError as error:
                raise InputError(
                    f"generator '{generator}' does not take the option(s) {', '.join(sorted(given))} ({error})"
                ) from None
        return self._generators[key]


def validate_answer(answer: Answer, refuse: bool = False) -> Validation:
    """Check each sentence of a finished answer against its retrieved chunks (an answer that declines as a whole
    has nothing to check); `refuse`: an unsupported sentence withholds the whole answer."""
    from ragft.rag.grounding import check_support, is_abstention

    text = answer.text
    report = check_support("" if is_abstention(text) else text, [hit.chunk.text for hit in answer.hits])
    refused = refuse and report.hallucinated
    return Validation(report=report, refused=refused, unsupported_answer=text if refused else None)


def _validated(answer: Answer, refuse: bool) -> Answer:
    from ragft.rag.grounding import UNSUPPORTED_REFUSAL

    answer.validation = validate_answer(answer, refuse)
    if answer.validation.refused:
        answer.text = UNSUPPORTED_REFUSAL
    return answer


def _complete(answer: Answer, text, cited, input_tokens, output_tokens, model, started) -> None:
    answer.text = text
    answer.citations = _citations(answer.hits, cited)
    answer.input_tokens, answer.output_tokens, answer.model = input_tokens, output_tokens, model
    answer.timings["total"] = time.perf_counter() - started


def _request(question: str, hits: list[Hit], max_tokens: int):
    from ragft.llm.base import GenerationRequest, Passage

    passages = tuple(
        Passage(ref=i + 1, chunk_id=hit.chunk.id, text=hit.chunk.text, title=hit.chunk.title)
        for i, hit in enumerate(hits)
    )
    return GenerationRequest(question=question, passages=passages, max_tokens=max_tokens)


def _citations(hits: list[Hit], cited: list[int]) -> list[Citation]:
    citations = []
    for ref in cited:
        if 1 <= ref <= len(hits):
            chunk = hits[ref - 1].chunk
            citations.append(Citation(ref, chunk.id, chunk.doc_id, chunk.title,
                                      str(chunk.metadata.get("source", "")), chunk.text))
    return citations


def _generator_id(gen, options: dict[str, Any]) -> str:
    model = options.get("model") or getattr(gen, "model", "") or ""
    base_url = options.get("base_url") or ""
    return f"{gen.name}|{model}|{base_url}"


def _answer_record(answer: Answer) -> dict[str, Any]:
    return {
        "text": answer.text,
        "cited": [c.ref for c in answer.citations],
        "hits": [{"chunk_id": h.chunk.id, "score": h.score, "scores": h.scores} for h in answer.hits],
        "input_tokens": answer.input_tokens,
        "output_tokens": answer.output_tokens,
        "model": answer.model,
        "generator": answer.generator,
    }
