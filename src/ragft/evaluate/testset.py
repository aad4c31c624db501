"""Eval sets from plain documents: chunks sampled across the corpus (stratified by document), a generator asked
for one question and reference answer grounded in each chunk, then quality filters with counts kept/dropped.

Filters, in order: the draft parses; its answer is supported by its chunk (ragft.rag.grounding's support
checker); the question cannot be answered from its own text (the answer's content words are not mostly in the
question); it is not a near-duplicate of a question kept before (content-word Jaccard). Questions that copy a
run of the chunk's wording verbatim are kept but tagged `copies-chunk`. Kinds (fact, how-to, multi-sentence) are
mixed on purpose and tagged `kind:...`. A sidecar manifest (`<evalset>.manifest.json`) records the chunks used,
the generator, the counts and the filters, so `ragft finetune prepare --eval-set` keeps those chunks out of
training (`ragft.text.drawn_from_eval_chunks`)."""
from __future__ import annotations

import difflib
import json
import random
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ragft.errors import InputError
from ragft.evaluate.draft import Draft
from ragft.evaluate.evalset import EvalItem, save_evalset
from ragft.files import write_atomic
from ragft.rag.document import Chunk
from ragft.text import chunk_key, words

KINDS = ("fact", "how-to", "multi-sentence")
MANIFEST_FORMAT = "ragft-testset-v1"
MIN_CHUNK_WORDS = 25            # shorter chunks (a heading, a link line) make poor questions
SELF_ANSWER_SHARE = 0.7         # answer content words already in the question: answerable from the question
DUPLICATE_JACCARD = 0.8         # content-word Jaccard of two questions: near-duplicates
VERBATIM_RUN = 8                # words copied in a row from the chunk: the question copies its wording
MAX_OUTPUT_TOKENS = 160
LOCAL_OUTPUT_TOKENS = 96        # the local model writes "Q?\nAnswer: A" without JSON; a blank line stops it

KIND_ASK = {
    "fact": "a short fact-lookup question (what, which, who, when) answered by one phrase or sentence",
    "how-to": "a how-to question (How do I ...?) answered by the steps, command or setting the passage gives",
    "multi-sentence": "a why or explain question whose answer needs two or three sentences of the passage",
}

SYSTEM_PROMPT = (
    "You write evaluation questions for a documentation assistant, using only the passage given. "
    "The question must make sense without the passage (name what it asks about), must not contain its own "
    "answer, and should use your own words rather than copy the passage. The answer must be stated in the "
    "passage. Reply with one JSON object and nothing else: {\"question\": \"...\", \"answer\": \"...\"}"
)

# The local base model continues a document: one worked example per kind, then the open "Question:".
_LOCAL_EXAMPLES = {
    "fact": ("The Nile is about 6,650 km long and flows north into the Mediterranean Sea.",
             "Into which sea does the Nile flow?", "The Nile flows into the Mediterranean Sea."),
    "how-to": ("To list the files of an installed package, run dpkg -L followed by the package name.",
               "How do I see which files an installed package put on the system?",
               "Run dpkg -L followed by the package name."),
    "multi-sentence": (("Bread goes stale because its starch recrystallises as it cools. Warming it briefly "
                        "reverses this for a while."),
                       "Why does bread go stale, and can it be undone?",
                       "Its starch recrystallises as it cools. Warming it briefly reverses this for a while."),
}


# --- chunks ----------------------------------------------------------------------------------------

def corpus_chunks(docs: Path | str, max_tokens: int = 200, overlap: int = 32) -> list[Chunk]:
    """The corpus cut as `ragft rag index` cuts it (discovery, loaders, chunking); no index is built."""
    from ragft.rag.chunking import chunk_documents
    from ragft.rag.loaders import discover, load_all

    documents = load_all(discover([docs]))
    return chunk_documents(documents, max_tokens=max_tokens, overlap=overlap)


def sample_chunks(chunks: Sequence[Chunk], n: int, seed: int = 0) -> list[Chunk]:
    """Up to n chunks, stratified by document: documents in a seeded order take turns giving one chunk
    (each document's chunks in a seeded order), so a big file cannot crowd out the others."""
    usable = [c for c in chunks if len(c.text.split()) >= MIN_CHUNK_WORDS]
    rng = random.Random(seed)
    by_doc: dict[str, list[Chunk]] = {}
    for chunk in usable:
        by_doc.setdefault(chunk.doc_id, []).append(chunk)
    queues = []
    for doc_id in sorted(by_doc):
        pile = list(by_doc[doc_id])
        rng.shuffle(pile)
        queues.append(pile)
    rng.shuffle(queues)
    chosen: list[Chunk] = []
    while len(chosen) < n and any(queues):
        for pile in queues:
            if pile and len(chosen) < n:
                chosen.append(pile.pop())
    return chosen


def kind_for(position: int) -> str:
    return KINDS[position % len(KINDS)]


# --- prompts ---------------------------------------------------------------------------------------

def draft_request(chunk: Chunk, kind: str, max_tokens: int = MAX_OUTPUT_TOKENS):
    """The request a chat generator gets: the chunk as passage [1], the kind of question asked for."""
    from ragft.llm.base import GenerationRequest, Passage

    ask = (f"Write {KIND_ASK[kind]}, answered by passage [1], and its reference answer taken from the passage. "
           "Reply with JSON only.")
    return GenerationRequest(question=ask, passages=(Passage(ref=1, chunk_id=chunk.id, text=chunk.text,
                                                             title=chunk.title),),
                             system=SYSTEM_PROMPT, max_tokens=max_tokens, temperature=0.0)


def local_prompt(request) -> str:
    """The completion text the local base model continues (its stops end the draft at the blank line)."""
    kind = next((k for k in KINDS if KIND_ASK[k] in request.question), "fact")
    passage, question, answer = _LOCAL_EXAMPLES[kind]
    text = " ".join(request.passages[0].text.split())
    return ("Write a question that the passage answers, and the answer taken from the passage.\n\n"
            f"Passage: {passage}\nQuestion: {question}\nAnswer: {answer}\n\n"
            f"Passage: {text}\nQuestion:")


_JSON_OBJECT = re.compile(r"\{.*\}", re.DOTALL)
_LINES = re.compile(r"^\s*(?:(?:Question|Q)\s*:\s*)?(?P<q>.+?)\s*\n+\s*(?:Answer|A)\s*:\s*(?P<a>.+?)\s*$", re.DOTALL | re.IGNORECASE)


def parse_draft(text: str) -> tuple[str, str] | None:
    """(question, answer) from a JSON object or "Question: ... / Answer: ..." lines; None when neither."""
    match = _JSON_OBJECT.search(text)
    if match:
        try:
            data = json.loads(match.group(0))
        except json.JSONDecodeError:
            data = None
        if isinstance(data, dict):
            question, answer = data.get("question"), data.get("answer")
            if isinstance(question, str) and isinstance(answer, str) and question.strip() and answer.strip():
                return " ".join(question.split()), " ".join(answer.split())
    match = _LINES.match(text.strip())
    if match:
        question, answer = " ".join(match.group("q").split()), " ".join(match.group("a").split())
        answer = re.sub(r"\s*\[\d+\]", "", answer)
        if question and answer:
            return question, answer
    return None


# --- the plan (what will be spent) -----------------------------------------------------------------

@dataclass(frozen=True)
class Estimate:
    calls: int
    input_tokens: int
    output_tokens: int              # at most: calls x max output tokens
    usd: float | None               # None: the model is not in the cost catalog
    price_model: str | None
    method: str                     # how tokens were counted and what was priced

    def text(self) -> str:
        cost = ("cost unknown (not in the cost catalog; pass --price-model MODEL)" if self.usd is None
                else "no API cost" if self.usd == 0 and self.price_model is None
                else f"about ${self.usd:.4f}" + (f" at {self.price_model} prices" if self.price_model else ""))
        return (f"{self.calls} generator calls, about {self.input_tokens:,} input and at most "
                f"{self.output_tokens:,} output tokens: {cost} ({self.method})")


def estimate_cost(chunks: Sequence[Chunk], generator: str, model: str | None,
                  price_model: str | None = None) -> Estimate:
    """Tokens of every request about to be sent, priced with the `ragft cost` catalog. The local model costs
    no money (its time is the cost); an unknown model leaves usd None."""
    from ragft.llm.prompts import user_message

    requests = [draft_request(chunk, kind_for(i)) for i, chunk in enumerate(chunks)]
    calls, out_tokens = len(requests), len(requests) * MAX_OUTPUT_TOKENS
    if generator == "local":
        from ragft.llm.tokens import count_tokens

        tokens = sum(count_tokens(local_prompt(r)) for r in requests)
        return Estimate(calls, tokens, calls * LOCAL_OUTPUT_TOKENS, 0.0, None,
                        "the local model runs on this machine: its time is the cost; tokens by ragft's simple counter")
    from ragft.costs import load_catalog
    from ragft.costs.tokens import counter_for

    catalog = load_catalog()
    name = price_model or model
    chat = catalog.chat.get(name) if name else None
    counter = counter_for(chat.tokenizer if chat else "cl100k_base")
    tokens = sum(counter.count(SYSTEM_PROMPT) + counter.count(user_message(r)) + 6 for r in requests)
    if chat is None:
        return Estimate(calls, tokens, out_tokens, None, name, f"tokens by {counter.method}")
    usd = (tokens * chat.input_per_1m + out_tokens * chat.output_per_1m) / 1e6
    return Estimate(calls, tokens, out_tokens, usd, chat.name, f"tokens by {counter.method}; "
                    f"prices {chat.provenance}")


# --- drafts and filters ----------------------------------------------------------------------------

@dataclass
class FilterCount:
    name: str
    kept: int
    dropped: int = 0
    flagged: int = 0
    what: str = ""


@dataclass
class TestsetResult:
    items: list[EvalItem]
    requested: int
    sampled: int
    filters: list[FilterCount]
    estimate: Estimate | None
    manifest: dict[str, Any] = field(default_factory=dict)

    @property
    def thin(self) -> bool:
        return len(self.items) < self.requested


def generate_drafts(chunks: Sequence[Chunk], generator, on_progress: Callable[[int, int], None] | None = None,
                    start: int = 0) -> tuple[list[Draft], int]:
    """One draft per chunk (kinds cycling from `start`); (drafts, how many outputs did not parse)."""
    drafts, unparsed = [], 0
    name = getattr(generator, "name", "generator")
    limit = LOCAL_OUTPUT_TOKENS if name == "local" else MAX_OUTPUT_TOKENS
    for position, chunk in enumerate(chunks):
        kind = kind_for(start + position)
        parsed = parse_draft(generator.generate(draft_request(chunk, kind, limit)).text)
        if parsed is None:
            unparsed += 1
        else:
            drafts.append(Draft(parsed[0], parsed[1], chunk, kind, f"llm:{name}"))
        if on_progress:
            on_progress(position + 1, len(chunks))
    return drafts, unparsed


def answerable_from_question(question: str, answer: str) -> bool:
    """True when most of the answer's content words already stand in the question."""
    from ragft.rag.grounding import content_terms

    wanted = content_terms(answer)
    if not wanted:
        return True
    return len(wanted & content_terms(question)) / len(wanted) >= SELF_ANSWER_SHARE


def question_similarity(a: str, b: str) -> float:
    from ragft.rag.grounding import content_terms

    x, y = content_terms(a), content_terms(b)
    return len(x & y) / len(x | y) if x | y else 1.0


def copies_chunk(question: str, chunk_text: str) -> bool:
    """The question repeats VERBATIM_RUN or more words of the chunk in a row."""
    q, c = words(question), words(chunk_text)
    match = difflib.SequenceMatcher(None, q, c, autojunk=False).find_longest_match(0, len(q), 0, len(c))
    return match.size >= VERBATIM_RUN


_POINTS_AT_PASSAGE = re.compile(r"(?i)\b(?:the|this|above|given) (?:passage|text|excerpt|paragraph)\b|\bthe following\b"
                                r"|\b(?:mentioned|described|shown) above\b|\baccording to (?:the|this) ")


def apply_filters(drafts: Sequence[Draft], unparsed: int = 0) -> tuple[list[tuple[Draft, list[str]]],
                                                                       list[FilterCount]]:
    """The drafts that pass every filter with their tags, and the count each filter kept and dropped."""
    from ragft.rag.grounding import check_support

    counts = [FilterCount("parsed", len(drafts), unparsed, what="the generator's reply held a question and an answer")]
    supported = [d for d in drafts if not check_support(d.answer, [d.chunk.text]).hallucinated]
    counts.append(FilterCount("supported", len(supported), len(drafts) - len(supported),
                              what="every answer sentence supported by its chunk (ragft.rag.grounding)"))
    standalone = [d for d in supported if not _POINTS_AT_PASSAGE.search(d.question)]
    counts.append(FilterCount("standalone", len(standalone), len(supported) - len(standalone),
                              what="the question does not point at a passage the user never sees "
                                   "('the passage', 'the following', 'this text')"))
    needs_chunk = [d for d in standalone if not answerable_from_question(d.question, d.answer)]
    counts.append(FilterCount("not-answerable-from-question", len(needs_chunk), len(standalone) - len(needs_chunk),
                              what=f"under {SELF_ANSWER_SHARE:.0%} of the answer's content words in the question"))
    unique: list[Draft] = []
    for draft in needs_chunk:
        if all(question_similarity(draft.question, kept.question) < DUPLICATE_JACCARD for kept in unique):
            unique.append(draft)
    counts.append(FilterCount("not-near-duplicate", len(unique), len(needs_chunk) - len(unique),
                              what=f"content-word Jaccard under {DUPLICATE_JACCARD} with every earlier question"))
    tagged = []
    for draft in unique:
        tags = [f"kind:{draft.kind}", f"chunk:{draft.chunk.id}", f"origin:{draft.origin}"]
        if copies_chunk(draft.question, draft.chunk.text):
            tags.append("copies-chunk")
        tagged.append((draft, tags))
    flagged = sum("copies-chunk" in tags for _, tags in tagged)
    counts.append(FilterCount("copies-chunk (flag)", len(tagged), 0, flagged,
                              what=f"{VERBATIM_RUN}+ words in a row copied from the chunk: kept, tagged copies-chunk"))
    return tagged, counts


# --- the whole thing -------------------------------------------------------------------------------

def build_testset(drafts: Sequence[Draft], unparsed: int, *, requested: int, sampled: int, docs: Path | str,
                  generator: str, model: str | None, seed: int, estimate: Estimate | None,
                  chunking: dict[str, int]) -> TestsetResult:
    """Filter the drafts, number the kept ones q0001..., and describe it all in the manifest."""
    tagged, counts = apply_filters(drafts, unparsed)
    tagged = tagged[:requested]
    items = [EvalItem(id=f"q{i + 1:04d}", question=d.question, reference_answer=d.answer,
                      relevant_ids=[d.chunk.doc_id], tags=tags) for i, (d, tags) in enumerate(tagged)]
    used: dict[str, dict[str, Any]] = {}
    for draft in drafts:
        used.setdefault(draft.chunk.id, {"id": draft.chunk.id, "doc_id": draft.chunk.doc_id,
                                         "heading_path": list(draft.chunk.heading_path),
                                         "key": chunk_key(draft.chunk.text), "text": draft.chunk.text, "items": []})
    for item, (draft, _) in zip(items, tagged):
        used[draft.chunk.id]["items"].append(item.id)
    manifest = {
        "format": MANIFEST_FORMAT, "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "docs": str(docs), "generator": generator, "model": model, "seed": seed, "chunking": chunking,
        "requested": requested, "sampled_chunks": sampled, "drafts": len(drafts) + unparsed, "kept": len(items),
        "kinds": {kind: sum(f"kind:{kind}" in i.tags for i in items) for kind in KINDS},
        "filters": [asdict(c) for c in counts],
        "estimate": asdict(estimate) if estimate else None,
        "chunks": list(used.values()),
    }
    return TestsetResult(items, requested, sampled, counts, estimate, manifest)


def manifest_path(evalset: Path | str) -> Path:
    path = Path(evalset)
    stem = path.name[: -len(path.suffix)] if path.suffix else path.name
    return path.with_name(f"{stem}.manifest.json")


def save_testset(result: TestsetResult, out: Path | str) -> tuple[Path, Path]:
    """The eval set JSONL and its sidecar manifest, each written atomically."""
    if not result.items:
        raise InputError(f"{out}: no question survived the filters ({_counts_line(result.filters)}); "
                         "try more chunks (--n), another generator or model, or --structure")
    evalset = save_evalset(result.items, out)
    sidecar = write_atomic(manifest_path(out), json.dumps(result.manifest, indent=2, ensure_ascii=False) + "\n")
    return evalset, sidecar


def _counts_line(counts: Iterable[FilterCount]) -> str:
    return ", ".join(f"{c.name} dropped {c.dropped}" for c in counts if c.dropped)


# --- keeping the eval chunks out of training --------------------------------------------------------

def eval_chunk_texts(evalset: Path | str) -> list[str]:
    """The texts of the chunks behind the kept questions of a generated eval set ([] without a manifest)."""
    sidecar = manifest_path(evalset)
    if not sidecar.is_file():
        return []
    try:
        data = json.loads(sidecar.read_text(encoding="utf-8"))
    except json.JSONDecodeError as error:
        raise InputError(f"{sidecar}: unreadable eval-set manifest ({error.msg}); regenerate it with "
                         "`ragft eval make`") from None
    return [c["text"] for c in data.get("chunks", []) if c.get("items") and c.get("text")]


# --- from a folder to an eval set --------------------------------------------------------------------

def generator_options(generator: str, model: str | None, base_url: str | None) -> dict[str, Any]:
    if generator == "local":
        return {"prompt": local_prompt, **({"base": model} if model else {})}
    return {k: v for k, v in (("model", model), ("base_url", base_url)) if v}


def make_testset(docs: Path | str, generator: str | None, *, n: int = 200, model: str | None = None,
                 base_url: str | None = None, seed: int = 0, price_model: str | None = None,
                 structure: bool = False, confirm: Callable[[Estimate], bool] = lambda estimate: True,
                 on_progress: Callable[[int, int], None] | None = None,
                 max_tokens: int = 200, overlap: int = 32) -> TestsetResult:
    """Questions from plain documents. With `structure` (or no generator), headings and definition lists
    give pairs first at no cost; the generator (if any) drafts the rest from sampled chunks, after
    `confirm(estimate)` agrees to what it will spend."""
    if n < 1:
        raise InputError(f"--n {n}: ask for at least one question")
    if generator in (None, "none") and not structure:
        structure = True
    chunks = corpus_chunks(docs, max_tokens=max_tokens, overlap=overlap)
    drafts: list[Draft] = []
    if structure:
        from ragft.evaluate.structured import structured_drafts

        drafts = structured_drafts(docs, chunks)[:n]
    if generator in (None, "none") and not drafts:
        raise InputError(f"{docs}: no headings or definition lists to take questions from (plain text has none); "
                         "draft them with --generator local (offline) or a provider")
    unparsed, estimate, sampled = 0, None, len(drafts)
    if generator not in (None, "none") and len(drafts) < n:
        taken = {d.chunk.id for d in drafts}
        picked = sample_chunks([c for c in chunks if c.id not in taken], n - len(drafts), seed)
        if not picked:
            raise InputError(f"{docs}: no chunk of {MIN_CHUNK_WORDS}+ words to ask about; check the folder")
        estimate = estimate_cost(picked, generator, model, price_model)
        if not confirm(estimate):
            raise InputError("not confirmed: nothing was sent to the generator")
        from ragft.llm.base import create_generator

        gen = create_generator(generator, **generator_options(generator, model, base_url))
        more, unparsed = generate_drafts(picked, gen, on_progress, start=len(drafts))
        drafts += more
        sampled += len(picked)
    return build_testset(drafts, unparsed, requested=n, sampled=sampled, docs=docs,
                         generator=generator or "none", model=model, seed=seed, estimate=estimate,
                         chunking={"max_tokens": max_tokens, "overlap": overlap})
