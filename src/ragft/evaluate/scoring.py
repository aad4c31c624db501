"""Scoring one answer: a question through one system, timed and scored (retrieval, quality, hallucination
against the gold evidence, grounding, the optional judge); a failure is kept on the row with its reason."""
from __future__ import annotations

from typing import Any

from ragft.errors import RagftError
from ragft.evaluate.config import EvalConfig
from ragft.evaluate.evalset import EvalItem
from ragft.evaluate.records import QuestionRecord
from ragft.evaluate.systems import System, SystemAnswer
from ragft.secrets import redact


def answer_and_score(system: System, item: EvalItem, repeat: int, config: EvalConfig, judge=None,
                     gold=None) -> QuestionRecord:
    """One question through one system, scored; a failure is recorded on the row, never dropped."""
    base = dict(system=system.name, question_id=item.id, question=item.question,
                reference_answer=item.reference_answer, relevant_ids=list(item.relevant_ids), repeat=repeat)
    try:
        answer = system.answer(item, config.seed + repeat)
    except KeyboardInterrupt:
        raise
    except Exception as error:      # a provider outage or a model crash: keep the row with its reason
        message = redact(str(error) if isinstance(error, RagftError) else f"{type(error).__name__}: {error}")
        return QuestionRecord(answer="", error=message, **base)
    return QuestionRecord(answer=answer.answer, contexts=answer.contexts, timings=answer.timings,
                          input_tokens=answer.input_tokens, output_tokens=answer.output_tokens,
                          model=answer.model, **base, **_scores(item, answer, system.config.k, judge, gold))


def _scores(item: EvalItem, answer: SystemAnswer, k: int, judge, gold=None) -> dict[str, Any]:
    """Scores of one answer. Hallucination is checked for every system against the same evidence: the
    reference plus the gold documents' text (`gold`: an evidence.GoldDocuments; None = the reference alone);
    retrieving systems also get `grounded`, support by their own retrieved passages alone."""
    from ragft.evaluate.metrics import score_question

    texts = gold.texts(item.relevant_ids) if gold is not None else {}
    contexts = [c.text for c in answer.contexts] if answer.hits is not None else None
    row = score_question(item, answer.answer, retrieved=answer.hits, contexts=contexts, k=k,
                         evidence=list(texts.values()))
    out: dict[str, Any] = {
        "retrieval": {name: row[name] for name in ("hit_at_1", "recall_at_k", "mrr", "ndcg_at_10") if name in row},
        "quality": {name: row[name] for name in ("exact_match", "token_f1", "rouge_l")},
        "hallucinated": bool(row["hallucinated"]), "abstained": bool(row["abstained"]),
        "supported_ratio": row["supported_ratio"], "unsupported_sentences": row["unsupported_sentences"],
        "evidence_ids": list(texts),
    }
    if "grounded" in row:
        out["grounded"], out["grounded_ratio"] = bool(row["grounded"]), row["grounded_ratio"]
    if judge is not None:
        out["judge_hallucinated"] = (False if row["abstained"] else judge.check_support(
            answer.answer, list(texts.values()) + [item.reference_answer]).hallucinated)
    return out
