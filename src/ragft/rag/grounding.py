"""Judge-free support checking: is each sentence of an answer backed by the sources it was given?

A sentence is supported when a window of 1-2 consecutive source sentences covers enough of its content
words (stopwords removed, lightly stemmed) and agrees with it on numbers, names and negation. The default
threshold is tuned on 152 labelled real Gemma 3 270M answers (tests/data/support-calibration/); on the held-out
half precision is 0.65 and recall 0.80 for flagging unsupported answers, and most supported answers that restate
the question are flagged too (docs/evaluation.md, benchmarks/bench_support_checker.py --labelled).
An optional LLM judge (LLMJudge) asks a ragft Generator instead.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from typing import TYPE_CHECKING, Sequence

if TYPE_CHECKING:
    from ragft.llm.base import Generator

DEFAULT_THRESHOLD = 0.75
DEFAULT_WINDOW = 2

STOPWORDS = frozenset("""
a about above after again against all also am an and any are as at be because been before being below
between both but by can could did do does doing down during each either else etc even ever every few for
from further had has have having he her here hers herself him himself his how however i if in into is it its
itself just let may me might more most much must my myself nor now of off on once one only or other ought
our ours ourselves out over own per quite rather same shall she should so some such than that the their
theirs them themselves then there these they this those through thus to too under until up upon us use used
uses using very via was we were what when where whether which while who whom whose why will with within
would yes yet you your yours yourself yourselves e g i e eg ie
""".split())
NEGATIONS = frozenset({"not", "no", "never", "cannot", "none", "nothing", "neither", "nor", "without",
                       "nobody", "nowhere"})

_CITATION = re.compile(r"\s*\[\^?\d+(?:\s*[,;–-]\s*\d+)*\]|\s*【\d+】")
_TOKEN = re.compile(r"\d+(?:[.,]\d+)*|[A-Za-z_][A-Za-z0-9_]*")
_NUMBER = re.compile(r"(?<![\w.])\d+(?:[.,]\d+)*(?![\w])")
_ABBREVIATIONS = ("e.g.", "i.e.", "etc.", "vs.", "cf.", "Mr.", "Dr.", "Ms.", "No.", "approx.", "St.")
_SENTENCE_END = re.compile(r"(?<=[.!?])[\"')\]]*\s+(?=[A-Z0-9\"'(\[`*_])")
_BULLET = re.compile(r"^\s*(?:[*+-]|\d+[.)])\s+")
_CITATION_RUN = re.compile(r"(?:\s*(?:\[\^?\d+(?:\s*[,;–-]\s*\d+)*\]|【\d+】))+")
# "Dan J." and "J. R. R." are initials; "types in C." ends a sentence.
_INITIAL = re.compile(r"(?:^|\b[A-Z][A-Za-z]*\.?\s)[A-Z]\.$")
# A sentence that declines to answer, from its first words: "I don't know ...", "Sorry, the passages do not ...".
_DECLINES = re.compile(
    r"(?i)^[\s*_>-]*(?:(?:sorry|unfortunately|i['’]?m sorry|i am sorry)\b[,.!]?\s*(?:but\s+)?)?"
    r"(?:i\s+(?:do\s+not|don['’]?t)\s+know|i\s+(?:cannot|can['’]?t|can\s+not|am\s+unable\s+to|am\s+not\s+able\s+to)"
    r"\s+(?:answer|say|tell|find|help|determine|provide)|i['’]?m\s+not\s+(?:sure|certain|able)|i\s+am\s+not\s+(?:sure|certain)"
    r"|(?:it\s+is|it['’]s|this\s+is)\s+not\s+(?:stated|mentioned|specified|clear)"
    r"|there\s+is\s+no\s+(?:information|answer|mention)\b|no\s+(?:information|answer)\s*(?:[.!]|$|(?:is\s+)?"
    r"(?:available|given|provided|found))"
    r"|(?:the|these|this|my)\s+(?:provided\s+)?(?:context|sources?|passages?|documents?|documentation|text)\s+"
    r"(?:does|do)\s+(?:not|n['’]t)|none\s+of\s+the\s+(?:retrieved\s+)?(?:passages|sources|documents))")
_CONTRAST = re.compile(r"(?i)\b(?:but|however|although|though|yet|except)\b|[;:]\s*(?:it|this|that|the|they|you)\b")


@dataclass(frozen=True)
class SentenceSupport:
    text: str
    supported: bool
    score: float                 # share of the sentence's content words found in the best source window
    best_source: int | None      # index into `sources` of that window; None when nothing matched
    reason: str = ""             # why it is unsupported, empty when supported


@dataclass(frozen=True)
class SupportReport:
    sentences: list[SentenceSupport]
    unsupported_count: int
    supported_ratio: float
    threshold: float
    method: str = "lexical"

    @property
    def hallucinated(self) -> bool:
        """True when at least one sentence is not supported by the sources."""
        return self.unsupported_count > 0


# --- text pieces ---------------------------------------------------------------------------------

def strip_citations(text: str) -> str:
    return _CITATION.sub("", text)


def split_sentences(text: str) -> list[str]:
    """Sentences of prose, one per bullet item, one per code block; citation markers removed.

    A citation marker that closes a sentence or a quote ("... in C. [1] If ...", "... as follows: [2] The ...")
    is a boundary in itself: what precedes it is one cited claim, whatever punctuation it ends with.
    """
    pieces: list[str] = []
    for claim in _cited_claims(text):
        pieces.extend(_split_uncited(strip_citations(claim)))
    return pieces


def _cited_claims(text: str) -> list[str]:
    """`text` cut after each citation marker that ends a claim; "X [1] and Y [2]." stays whole."""
    claims, start = [], 0
    for marker in _CITATION_RUN.finditer(text):
        before, after = text[start:marker.start()].rstrip(), text[marker.end():]
        glued = marker.start() > 0 and text[marker.start() - 1].isalnum() and not marker.group(0)[0].isspace()
        if glued or not after[:1].isspace() or not after.strip():
            continue                    # "a[1]" is code, "[1]." and "[1]," continue the sentence
        if before[-1:].isalnum() and re.match(r"\s+[a-z]", after):
            continue                    # a citation inside a sentence: "used by Google [1] and NASA [2]."
        claims.append(text[start:marker.end()])
        start = marker.end()
    claims.append(text[start:])
    return claims


def _split_uncited(text: str) -> list[str]:
    pieces: list[str] = []
    for block in re.split(r"\n\s*\n", text):
        lines = [ln for ln in block.splitlines() if ln.strip()]
        if not lines:
            continue
        if all(ln.startswith(("    ", "\t")) for ln in lines) or lines[0].lstrip().startswith(("```", ">>>")):
            pieces.append("\n".join(ln.strip() for ln in lines if not ln.strip().startswith("```")))
            continue
        units: list[list[str]] = []
        for line in lines:
            if _BULLET.match(line) or not units:
                units.append([_BULLET.sub("", line).strip()])
            else:
                units[-1].append(line.strip())
        for unit in units:
            pieces.extend(_split_prose(" ".join(unit)))
    return [piece for piece in pieces if piece.strip()]


def _split_prose(text: str) -> list[str]:
    sentences: list[str] = []
    for part in _SENTENCE_END.split(re.sub(r"\s+", " ", text).strip()):
        if sentences and (sentences[-1].endswith(_ABBREVIATIONS) or _INITIAL.search(sentences[-1])):
            sentences[-1] += " " + part
        else:
            sentences.append(part)
    return sentences


def _normalise(text: str) -> str:
    text = re.sub(r"(?i)\bcan['’]t\b", "can not", text)
    text = re.sub(r"(?i)\bwon['’]t\b", "will not", text)
    return re.sub(r"(?i)n['’]t\b", " not", text)


_SUFFIXES = (("ational", "ate"), ("ization", "ize"), ("fulness", "ful"), ("iveness", "ive"), ("ousness", "ous"),
             ("sses", "ss"), ("ies", "y"), ("ied", "y"), ("ing", ""), ("edly", ""), ("ed", ""), ("ly", ""),
             ("es", ""), ("s", ""))


@lru_cache(maxsize=65536)
def stem(word: str) -> str:
    """A light suffix stripper: enough to match plural/verb forms ("checks", "checked", "checking")."""
    if len(word) <= 2 or not word.isalpha():
        return word
    for suffix, replacement in _SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= (2 if suffix in ("s", "es") else 3):
            if suffix == "s" and word.endswith(("ss", "us", "is")):
                break
            word = word[: -len(suffix)] + replacement
            break
    if word.endswith("e") and len(word) > 2:
        word = word[:-1]
    if len(word) > 3 and word[-1] == word[-2] and word[-1] not in "aeiouls":
        word = word[:-1]
    return word


def content_terms(text: str) -> set[str]:
    """Stemmed content words (stopwords and negations removed) and numbers of a piece of text."""
    return {_term(tok) for tok in _TOKEN.findall(_normalise(text)) if _is_content(tok)}


def all_terms(text: str) -> set[str]:
    return {_term(tok) for tok in _TOKEN.findall(_normalise(text))}


def _term(token: str) -> str:
    return token.replace(",", "") if token[0].isdigit() else stem(token.lower())


def _is_content(token: str) -> bool:
    lower = token.lower()
    return token[0].isdigit() or (len(lower) > 1 and lower not in STOPWORDS and lower not in NEGATIONS)


def numbers(text: str) -> set[str]:
    return {n.replace(",", "").rstrip(".") for n in _NUMBER.findall(text)}


def names(text: str) -> set[str]:
    """Name-like tokens whose swap changes meaning: capitalised words after the first word of a sentence,
    ALL-CAPS words, and code identifiers (snake_case, CamelCase inside, dotted.names)."""
    found = set()
    tokens = list(re.finditer(r"[A-Za-z_][\w.]*[\w]|[A-Za-z]", _normalise(text)))
    for index, match in enumerate(tokens):
        token = match.group(0)
        first_of_sentence = index == 0 or re.search(r"[.!?:]\s*[\"'(]?\s*$", text[:match.start()])
        is_name = (("_" in token or "." in token or re.search(r"[a-z][A-Z]", token))
                   or (token.isupper() and len(token) > 1)
                   or (token[0].isupper() and not first_of_sentence))
        if is_name and token.lower() not in STOPWORDS:
            found.update(stem(part.lower()) for part in re.split(r"[.]", token) if part)
    return found


def negated(text: str) -> bool:
    return any(tok.lower() in NEGATIONS for tok in _TOKEN.findall(_normalise(text)))


# --- checking ---------------------------------------------------------------------------------------

@dataclass(frozen=True)
class _Window:
    source: int
    text: str
    terms: frozenset[str] = field(default_factory=frozenset)        # content terms
    words: frozenset[str] = field(default_factory=frozenset)        # every token, stemmed


def _windows(sources: Sequence[str], size: int) -> list[_Window]:
    windows = []
    for index, source in enumerate(sources):
        sentences = split_sentences(source)
        for width in range(1, size + 1):
            for start in range(0, max(len(sentences) - width + 1, 0)):
                text = " ".join(sentences[start:start + width])
                windows.append(_Window(index, text, frozenset(content_terms(text)), frozenset(all_terms(text))))
    return windows


def _flat(text: str) -> str:
    return " ".join(text.split()).casefold()


def declines(sentence: str) -> bool:
    """A sentence that declines to answer ("I don't know ...", "The passages do not say ...") makes no claim;
    "I don't know the version, but it was 1991." goes on to claim something, so it is not declining."""
    match = _DECLINES.match(sentence)
    return bool(match) and not _CONTRAST.search(sentence, match.end())


def is_abstention(answer: str) -> bool:
    """An answer that declines as a whole: empty, or every sentence declines ("I don't know.", "The context
    does not say."). "I don't know X, but Y." or "I don't know. Y is Z." are answers: their claims are checked."""
    sentences = split_sentences(answer)
    return not sentences or all(declines(sentence) for sentence in sentences)


def check_sentence(sentence: str, windows: list[_Window], threshold: float,
                   flat_sources: Sequence[str] = ()) -> SentenceSupport:
    """`flat_sources`: the sources through `_flat`; a sentence quoted from one of them is supported outright.
    A sentence without content words, or one that declines to answer, claims nothing and passes."""
    terms = content_terms(sentence)
    if not terms or declines(sentence):
        return SentenceSupport(sentence, True, 1.0, None, "")
    quoted = _flat(sentence)
    for index, source in enumerate(flat_sources):
        if quoted in source:
            return SentenceSupport(sentence, True, 1.0, index, "")
    best, best_score = None, 0.0
    for window in windows:
        score = len(terms & window.terms) / len(terms)
        if score > best_score:
            best, best_score = window, score
    if best is None:
        return SentenceSupport(sentence, False, 0.0, None, "no content word appears in the sources")
    reason = ""
    missing_numbers = sorted(numbers(sentence) - numbers(best.text))
    missing_names = sorted(names(sentence) - best.words)
    if best_score < threshold:
        reason = f"coverage {best_score:.2f} < {threshold:.2f}"
    elif missing_numbers:
        reason = f"number {missing_numbers[0]} is not in the source"
    elif missing_names:
        reason = f"name '{missing_names[0]}' is not in the source"
    elif negated(sentence) != negated(best.text):
        reason = "negation differs from the source"
    return SentenceSupport(sentence, not reason, round(best_score, 4), best.source, reason)


def check_support(answer: str, sources: Sequence[str], threshold: float = DEFAULT_THRESHOLD,
                  window: int = DEFAULT_WINDOW) -> SupportReport:
    """Check every sentence of `answer` against `sources` (retrieved passages and/or a reference)."""
    sources = [strip_citations(s) for s in sources]
    windows, flat_sources = _windows(sources, window), [_flat(s) for s in sources]
    results = [check_sentence(sentence, windows, threshold, flat_sources) for sentence in split_sentences(answer)]
    unsupported = sum(not r.supported for r in results)
    ratio = (len(results) - unsupported) / len(results) if results else 1.0
    return SupportReport(results, unsupported, ratio, threshold)


UNSUPPORTED_REFUSAL = ("I can't answer this reliably: part of the generated answer is not supported by the "
                       "retrieved passages, so it was withheld.")


def support_json(report: SupportReport) -> dict:
    """A report as plain data, one entry per sentence (for --json and the web faces)."""
    return {"method": report.method, "threshold": report.threshold, "supported_ratio": round(report.supported_ratio, 4),
            "unsupported_count": report.unsupported_count,
            "sentences": [{"text": s.text, "supported": s.supported, "score": s.score, "best_source": s.best_source,
                           "reason": s.reason} for s in report.sentences]}


# --- optional LLM judge -----------------------------------------------------------------------------

JUDGE_PROMPT = (
    "You check whether a sentence is supported by the sources. Answer with one word: SUPPORTED if the "
    "sources state it (or it follows directly from them), UNSUPPORTED otherwise.\n\n"
    "Sources:\n{sources}\n\nSentence: {sentence}\n\nVerdict:"
)


class LLMJudge:
    """Sentence-level support verdicts from a ragft Generator, with the exact prompt recorded."""

    method = "llm-judge"

    def __init__(self, generator: "Generator", prompt: str = JUDGE_PROMPT, max_tokens: int = 4):
        self.generator, self.prompt, self.max_tokens = generator, prompt, max_tokens

    def check_support(self, answer: str, sources: Sequence[str]) -> SupportReport:
        from ragft.llm.base import GenerationRequest

        joined = "\n".join(f"[{i + 1}] {strip_citations(s)}" for i, s in enumerate(sources))
        results = []
        for sentence in split_sentences(answer):
            request = GenerationRequest(question=self.prompt.format(sources=joined, sentence=sentence),
                                        system="", max_tokens=self.max_tokens, temperature=0.0, stop=("\n",))
            verdict = self.generator.generate(request).text.strip().upper()
            supported = verdict.startswith("SUPPORTED")
            results.append(SentenceSupport(sentence, supported, 1.0 if supported else 0.0, None,
                                           "" if supported else f"judge said {verdict[:20]!r}"))
        unsupported = sum(not r.supported for r in results)
        ratio = (len(results) - unsupported) / len(results) if results else 1.0
        return SupportReport(results, unsupported, ratio, threshold=0.5, method=self.method)
