"""Per-question scores and their aggregates: retrieval against gold ids (hit@1, recall@k, MRR, nDCG@10),
answers against the reference (exact match, token F1, ROUGE-L), abstention, and via rag.grounding hallucination
(against the reference + gold documents, the same for every system) and grounding in the system's own passages."""
from __future__ import annotations

import math
import re
import string
from collections import Counter
from dataclasses import dataclass
from typing import Any, Iterable, Mapping, Sequence

from ragft.evaluate.evalset import EvalItem
from ragft.evaluate.stats import bootstrap_ci
from ragft.rag.grounding import DEFAULT_THRESHOLD, SupportReport, check_support, is_abstention  # noqa: F401 (re-exported)

NDCG_CUTOFF = 10

# metric name -> higher is better; the order is the order reports show them in
METRICS: dict[str, bool] = {
    "hit_at_1": True, "recall_at_k": True, "mrr": True, "ndcg_at_10": True,
    "exact_match": True, "token_f1": True, "rouge_l": True,
    "hallucinated": False, "supported_ratio": True, "abstained": False, "grounded": True, "grounded_ratio": True,
}


# --- answer quality -------------------------------------------------------------------------------

_PUNCTUATION = set(string.punctuation)


def normalize_answer(text: str) -> str:
    """SQuAD normalisation: lower case, punctuation and the articles a/an/the removed, spaces collapsed."""
    text = "".join(ch for ch in text.lower() if ch not in _PUNCTUATION)
    text = re.sub(r"\b(a|an|the)\b", " ", text)
    return " ".join(text.split())


def exact_match(prediction: str, reference: str) -> float:
    return float(normalize_answer(prediction) == normalize_answer(reference))


def token_f1(prediction: str, reference: str) -> float:
    """SQuAD token F1: harmonic mean of precision and recall of the shared normalised tokens (multiset)."""
    pred, ref = normalize_answer(prediction).split(), normalize_answer(reference).split()
    if not pred or not ref:
        return float(pred == ref)
    common = sum((Counter(pred) & Counter(ref)).values())
    if common == 0:
        return 0.0
    precision, recall = common / len(pred), common / len(ref)
    return 2 * precision * recall / (precision + recall)


def lcs_length(a: Sequence[str], b: Sequence[str]) -> int:
    """Length of the longest common subsequence (dynamic programming, one row at a time)."""
    if len(a) < len(b):
        a, b = b, a
    previous = [0] * (len(b) + 1)
    for token in a:
        current = [0]
        for j, other in enumerate(b, start=1):
            current.append(previous[j - 1] + 1 if token == other else max(previous[j], current[j - 1]))
        previous = current
    return previous[-1]


def rouge_l(prediction: str, reference: str) -> float:
    """ROUGE-L F1 over SQuAD-normalised tokens: LCS/len(prediction) and LCS/len(reference), harmonic mean."""
    pred, ref = normalize_answer(prediction).split(), normalize_answer(reference).split()
    if not pred or not ref:
        return float(pred == ref)
    lcs = lcs_length(pred, ref)
    if lcs == 0:
        return 0.0
    precision, recall = lcs / len(pred), lcs / len(ref)
    return 2 * precision * recall / (precision + recall)


@dataclass(frozen=True)
class AnswerScores:
    exact_match: float
    token_f1: float
    rouge_l: float


def score_answer(answer: str, reference: str) -> AnswerScores:
    return AnswerScores(exact_match(answer, reference), token_f1(answer, reference), rouge_l(answer, reference))


# --- retrieval ------------------------------------------------------------------------------------

def _candidate_ids(item: Any) -> tuple[str, ...]:
    """The ids a retrieved item answers to: a Hit/Chunk gives its chunk id and its doc id."""
    if isinstance(item, str):
        return (item,)
    chunk = getattr(item, "chunk", item)
    ids = tuple(str(getattr(chunk, name)) for name in ("id", "doc_id") if getattr(chunk, name, None))
    return ids


def _matched_gold(candidates: Iterable[str], gold: Sequence[str]) -> str | None:
    """The gold id a retrieved item matches: equal ids, or a JSONL record id 'file.jsonl#3' under gold 'file.jsonl'."""
    for candidate in candidates:
        for wanted in gold:
            if candidate == wanted or candidate.startswith(wanted + "#"):
                return wanted
    return None


@dataclass(frozen=True)
class RetrievalScores:
    hit_at_1: float
    recall_at_k: float
    mrr: float
    ndcg_at_10: float
    k: int


def score_retrieval(retrieved: Sequence[Any], relevant_ids: Sequence[str], k: int = 5) -> RetrievalScores:
    """Scores of one ranked list (ids, Chunks or Hits) against the gold ids. Each gold id counts once: a
    second chunk of an already-found gold document adds nothing (binary relevance, nDCG at 10)."""
    gold = list(dict.fromkeys(relevant_ids))
    if not gold:
        raise ValueError("score_retrieval needs at least one relevant id")
    found: list[str | None] = []
    seen: set[str] = set()
    for item in retrieved:
        match = _matched_gold(_candidate_ids(item), gold)
        found.append(match if match and match not in seen else None)
        if match:
            seen.add(match)
    first = next((rank for rank, item in enumerate(retrieved, start=1)
                  if _matched_gold(_candidate_ids(item), gold)), None)
    dcg = sum(1 / math.log2(rank + 1) for rank, match in enumerate(found[:NDCG_CUTOFF], start=1) if match)
    ideal = sum(1 / math.log2(rank + 1) for rank in range(1, min(len(gold), NDCG_CUTOFF) + 1))
    return RetrievalScores(
        hit_at_1=float(first == 1),
        recall_at_k=sum(1 for match in found[:k] if match) / len(gold),
        mrr=1 / first if first else 0.0,
        ndcg_at_10=dcg / ideal,
        k=k,
    )


# --- hallucination ----------------------------------------------------------------------------------

def support_of(answer: str, evidence: Sequence[str], reference: str | None = None,
               threshold: float = DEFAULT_THRESHOLD) -> SupportReport:
    """Support of each answer sentence by the evidence texts (gold documents, or retrieved passages for the
    grounding row) and the reference answer."""
    sources = list(evidence) + ([reference] if reference else [])
    return check_support(answer, sources, threshold=threshold)


# --- one question, many questions ------------------------------------------------------------------

def _context_texts(retrieved: Sequence[Any]) -> list[str]:
    return [getattr(getattr(item, "chunk", item), "text", "") for item in retrieved if not isinstance(item, str)]


def score_question(item: EvalItem, answer: str | None = None, retrieved: Sequence[Any] | None = None,
                   contexts: Sequence[str] | None = None, k: int = 5,
                   threshold: float = DEFAULT_THRESHOLD, evidence: Sequence[str] = ()) -> dict[str, Any]:
    """One flat row of scores for a question: retrieval metrics when the item has gold ids and `retrieved`
    is given (None = the system does not retrieve), answer metrics when an answer is given.

    Hallucination is checked against the same evidence for every system: the reference answer plus
    `evidence` (the texts of the question's gold documents; empty = the reference alone). A retrieving
    system also gets `grounded`: every sentence supported by its own passages (`contexts`, default the
    texts of the retrieved chunks), without the reference. An answer that abstains as a whole scores 0 on
    exact match, F1 and ROUGE-L (unless the reference itself declines), is not hallucinated and is grounded."""
    row: dict[str, Any] = {"id": item.id}
    if item.relevant_ids and retrieved is not None:
        row.update({name: value for name, value in vars(score_retrieval(retrieved, item.relevant_ids, k)).items()
                    if name != "k"})
    if answer is None:
        return row
    abstained = is_abstention(answer)
    wrong = abstained and not is_abstention(item.reference_answer)
    row.update(vars(AnswerScores(0.0, 0.0, 0.0) if wrong else score_answer(answer, item.reference_answer)))
    row["abstained"] = abstained
    if abstained:
        row["hallucinated"], row["supported_ratio"], row["unsupported_sentences"] = 0.0, 1.0, []
        if retrieved is not None or contexts is not None:
            row["grounded"], row["grounded_ratio"] = 1.0, 1.0
        return row
    report = support_of(answer, evidence, item.reference_answer, threshold)
    row["hallucinated"], row["supported_ratio"] = float(report.hallucinated), report.supported_ratio
    row["unsupported_sentences"] = [s.text for s in report.sentences if not s.supported]
    if retrieved is not None or contexts is not None:
        own = check_support(answer, _context_texts(retrieved or ()) if contexts is None else contexts,
                            threshold=threshold)
        row["grounded"], row["grounded_ratio"] = float(not own.hallucinated), own.supported_ratio
    return row


@dataclass(frozen=True)
class Estimate:
    mean: float
    low: float
    high: float
    n: int
    higher_is_better: bool


def aggregate(rows: Sequence[Mapping[str, Any]], metrics: Sequence[str] | None = None,
              n_resamples: int = 1000, confidence: float = 0.95, seed: int = 0) -> dict[str, Estimate]:
    """Mean and bootstrap interval of every metric present in the rows (rows lacking it are left out)."""
    names = metrics or [name for name in METRICS if any(name in row for row in rows)]
    out = {}
    for name in names:
        values = [float(row[name]) for row in rows if row.get(name) is not None]
        if values:
            mean, low, high = bootstrap_ci(values, n_resamples, confidence, seed)
            out[name] = Estimate(mean, low, high, len(values), METRICS.get(name, True))
    return out
