"""Calibrate and measure the judge-free support checker (ragft.rag.grounding) on the real Python FAQ.

--labelled (the calibration that counts): real Gemma 3 270M answers labelled by reading them against their
evidence (tests/data/support-calibration/), split by question with a fixed seed; the threshold is tuned on one
half and precision/recall reported on the other (ragft.evaluate.calibration).

The synthetic mode below only shows that the checker implements its own rules. Supported cases: sentences of
each FAQ answer checked against their own entry, verbatim and lightly reworded (contractions, inflections,
parentheses dropped). Unsupported cases: sentences checked against another entry
(a random one, and the most similar one), and sentences with a number, a negation or a name changed, checked
against their own entry. Entries are split in two halves: the threshold is chosen on the even-numbered
entries (best F1 for flagging unsupported sentences) and precision/recall are reported on the odd ones.

    python benchmarks/bench_support_checker.py [--bench python-faq|debian-faq] [--from DIR] [--json]
    python benchmarks/bench_support_checker.py --recheck RUN/questions.jsonl   # re-score recorded answers
    python benchmarks/bench_support_checker.py --labelled tests/data/support-calibration/answers.jsonl

The threshold in ragft.rag.grounding comes from the python-faq run; the debian-faq run checks that it
transfers to another corpus and writing style.
"""
from __future__ import annotations

import argparse
import json
import re
import sys
import time
from dataclasses import dataclass

import numpy as np

from ragft.evaluate.benches import load_bench
from ragft.rag.grounding import DEFAULT_THRESHOLD, check_support, content_terms, names, split_sentences

THRESHOLDS = [round(t, 2) for t in np.arange(0.30, 1.0001, 0.05)]
_AUX = re.compile(r"\b(is|are|was|were|can|could|should|will|would|must|may|does|do|did|has|have)\b")
_NEGATION = re.compile(r"\s*\b(not|never)\b|n't\b")


@dataclass(frozen=True)
class Case:
    kind: str
    supported: bool          # the truth
    sentence: str
    source: str
    half: str                # "calibration" or "held-out"


def entry_texts(bench) -> list[tuple[str, str]]:
    out = []
    for item in bench.questions:
        text = (bench.corpus_dir / item.relevant_ids[0]).read_text(encoding="utf-8")
        out.append((item.id, text.split("\n", 1)[1].strip()))
    return out


def prose_sentences(answer: str) -> list[str]:
    return [s for s in split_sentences(answer)
            if "\n" not in s and not s.startswith(">>>") and len(content_terms(s)) >= 4]


def reword(sentence: str) -> str:
    """Meaning-preserving edits a paraphrasing answerer makes: contractions, inflections, asides dropped."""
    edits = [(r"\bdo not\b", "don't"), (r"\bdon't\b", "do not"), (r"\bis not\b", "isn't"),
             (r"\bcannot\b", "can't"), (r"\bit is\b", "it's"), (r"\bIt is\b", "It's"), (r"\s*\([^()]*\)", "")]
    for pattern, replacement in edits:
        sentence = re.sub(pattern, replacement, sentence)
    words = sentence.split(" ")
    for i, word in enumerate(words):
        if len(word) >= 6 and word.isalpha() and word.islower():
            words[i] = word[:-1] if word.endswith("s") else word + "s"
            break
    return " ".join(words)


def change_number(sentence: str) -> str | None:
    match = re.search(r"(?<![\w.])(\d+)(?![\w])", sentence)
    if not match:
        return None
    return sentence[:match.start()] + str(int(match.group(1)) + 1) + sentence[match.end():]


def flip_negation(sentence: str) -> str | None:
    if _NEGATION.search(sentence):
        flipped = _NEGATION.sub("", sentence, count=1).replace("ca ", "can ").replace("wo ", "will ")
        return flipped if flipped != sentence else None
    match = _AUX.search(sentence)
    return sentence[:match.end()] + " not" + sentence[match.end():] if match else None


def swap_name(sentence: str, own: str, pool: list[str], salt: int) -> str | None:
    own_terms = content_terms(own)
    for token in re.findall(r"[A-Za-z_][\w]*", sentence)[1:]:
        if token[0].isupper() and names(f"x {token}"):
            candidates = [p for p in pool if p.lower() not in own.lower() and not content_terms(p) & own_terms]
            if candidates:
                return re.sub(rf"\b{re.escape(token)}\b", candidates[salt % len(candidates)], sentence, count=1)
    return None


def build_cases(entries: list[tuple[str, str]]) -> list[Case]:
    terms = [content_terms(text) for _, text in entries]
    pool = sorted({w for _, text in entries for w in re.findall(r"(?<=[a-z,;] )[A-Z][a-z]{3,}\b", text)})
    cases = []
    n = len(entries)
    for i, (_, text) in enumerate(entries):
        half = "calibration" if i % 2 == 0 else "held-out"
        random_other = entries[(i + n // 2) % n][1]
        similar = max((j for j in range(n) if j != i),
                      key=lambda j: len(terms[i] & terms[j]) / (len(terms[i] | terms[j]) or 1))
        for k, sentence in enumerate(prose_sentences(text)):
            cases.append(Case("verbatim", True, sentence, text, half))
            reworded = reword(sentence)
            if reworded != sentence:
                cases.append(Case("reworded", True, reworded, text, half))
            cases.append(Case("wrong entry (random)", False, sentence, random_other, half))
            cases.append(Case("wrong entry (most similar)", False, sentence, entries[similar][1], half))
            for kind, changed in (("number changed", change_number(sentence)),
                                  ("negation flipped", flip_negation(sentence)),
                                  ("name swapped", swap_name(sentence, text, pool, i + k))):
                if changed and changed != sentence:
                    cases.append(Case(kind, False, changed, text, half))
    return cases


def score(cases: list[Case]) -> list[tuple[float, bool]]:
    """(coverage, passes the number/name/negation checks) per case: the threshold applies afterwards."""
    out = []
    for case in cases:
        report = check_support(case.sentence, [case.source], threshold=0.0)
        worst = min(report.sentences, key=lambda s: (s.supported, s.score), default=None)
        out.append((worst.score, worst.supported) if worst else (1.0, True))
    return out


def rates(cases: list[Case], scores: list[tuple[float, bool]], threshold: float) -> dict:
    truth = np.array([not c.supported for c in cases])                # positive class: unsupported
    flagged = np.array([not (ok and s >= threshold) for s, ok in scores])
    tp, fp, fn = int(np.sum(truth & flagged)), int(np.sum(~truth & flagged)), int(np.sum(truth & ~flagged))
    precision = tp / (tp + fp) if tp + fp else 1.0
    recall = tp / (tp + fn) if tp + fn else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    false_alarm = fp / max(int(np.sum(~truth)), 1)
    return {"threshold": threshold, "precision": precision, "recall": recall, "f1": f1,
            "false_alarm_rate": false_alarm, "n": len(cases)}


def recheck(path: str) -> None:
    """Hallucination verdicts of a recorded `ragft eval run` redone with this checker, per system, against the
    evidence the eval now uses: the reference + the gold documents read from the run's corpus snapshot."""
    from pathlib import Path

    from ragft.evaluate.evidence import GoldDocuments
    from ragft.evaluate.metrics import is_abstention, support_of

    corpus = Path(path).parent / "corpus"
    gold = GoldDocuments(sorted(p for p in corpus.iterdir() if p.is_dir()) if corpus.is_dir() else [])
    counts: dict[str, list[int]] = {}
    with open(path, encoding="utf-8") as rows:
        for row in map(json.loads, rows):
            if row.get("error") or is_abstention(row["answer"]):
                continue
            evidence = list(gold.texts(row.get("relevant_ids", [])).values())
            report = support_of(row["answer"], evidence, row["reference_answer"])
            seen = counts.setdefault(row["system"], [0, 0, 0])
            seen[0] += 1
            seen[1] += bool(row["hallucinated"])
            seen[2] += report.hallucinated
    print(f"evidence: reference + gold documents from {corpus}" if gold.available else "evidence: reference only")
    for system, (answered, recorded, now) in counts.items():
        print(f"{system}: {answered} answers (abstentions left out), flagged when recorded {recorded}, now {now}")


def labelled(path: str, as_json: bool) -> None:
    """Tune on one seeded half of the labelled answers, report the other half (and the default threshold)."""
    from ragft.evaluate.calibration import halves, load_labelled, rates, tune

    cases = load_labelled(path)
    tuning, held = halves(cases)
    chosen, sweep = tune(tuning)
    result = {
        "answers": len(cases), "by_label": {label: sum(c.label == label for c in cases)
                                             for label in ("supported", "unsupported", "abstains")},
        "by_system": {s: sum(c.system == s for c in cases) for s in sorted({c.system for c in cases})},
        "tuning_answers": len(tuning), "held_out_answers": len(held),
        "tuning_sweep": [vars(r) for r in sweep], "chosen_threshold": chosen, "default_threshold": DEFAULT_THRESHOLD,
        "held_out_at_chosen": vars(rates(held, chosen)), "held_out_at_default": vars(rates(held, DEFAULT_THRESHOLD)),
        "held_out_by_system_at_default": {s: vars(rates([c for c in held if c.system == s], DEFAULT_THRESHOLD))
                                          for s in sorted({c.system for c in held})},
    }
    if as_json:
        json.dump(result, sys.stdout, indent=2)
        print()
        return
    print(f"{path}: {len(cases)} answers {result['by_label']} {result['by_system']}")
    print_sweep(result["tuning_sweep"], "tuning half")
    print(f"chosen on the tuning half: {chosen}; default in code: {DEFAULT_THRESHOLD}")
    for name in ("held_out_at_chosen", "held_out_at_default"):
        r = result[name]
        print(f"{name}: precision {r['precision']:.3f} recall {r['recall']:.3f} f1 {r['f1']:.3f} "
              f"false-alarm {r['false_alarm_rate']:.3f} (n={r['n']}, unsupported {r['unsupported']})")
    for system, r in result["held_out_by_system_at_default"].items():
        print(f"  {system:12s} precision {r['precision']:.3f} recall {r['recall']:.3f} "
              f"false-alarm {r['false_alarm_rate']:.3f} (n={r['n']}, unsupported {r['unsupported']})")


def print_sweep(rows: list[dict], half: str) -> None:
    """The threshold sweep as a plain table (rows: threshold, precision, recall, f1, false_alarm_rate)."""
    print(f"threshold  precision  recall  f1     false-alarm   ({half}, positive = unsupported)")
    for row in rows:
        print(f"{row['threshold']:.2f}       {row['precision']:.3f}      {row['recall']:.3f}   {row['f1']:.3f}  "
              f"{row['false_alarm_rate']:.3f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bench", default="python-faq", help="python-faq (calibration) or debian-faq (transfer)")
    parser.add_argument("--from", dest="source_dir", help="extracted package tree (default: apt-get)")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--recheck", help="questions.jsonl of an eval run: redo its hallucination verdicts")
    parser.add_argument("--labelled", help="labelled real answers (tests/data/support-calibration/answers.jsonl)")
    args = parser.parse_args()
    if args.recheck:
        return recheck(args.recheck)
    if args.labelled:
        return labelled(args.labelled, args.json)
    started = time.perf_counter()
    bench = load_bench(args.bench, source_dir=args.source_dir, distractors=0)
    cases = build_cases(entry_texts(bench))
    scores = score(cases)
    calib = [i for i, c in enumerate(cases) if c.half == "calibration"]
    held = [i for i, c in enumerate(cases) if c.half == "held-out"]
    pick = lambda idx: ([cases[i] for i in idx], [scores[i] for i in idx])  # noqa: E731
    sweep = [rates(*pick(calib), t) for t in THRESHOLDS]
    chosen = max(sweep, key=lambda r: (round(r["f1"], 4), -r["false_alarm_rate"]))["threshold"]
    result = {
        "source": {"package": bench.source.package, "version": bench.source.version,
                   "deb_sha256": bench.source.deb_sha256, "tree_sha256": bench.source.tree_sha256},
        "entries": len(bench.questions),
        "cases": {kind: sum(c.kind == kind for c in cases) for kind in dict.fromkeys(c.kind for c in cases)},
        "calibration_sweep": sweep,
        "chosen_threshold": chosen,
        "default_threshold": DEFAULT_THRESHOLD,
        "held_out_at_default": rates(*pick(held), DEFAULT_THRESHOLD),
        "held_out_by_kind_at_default": {
            kind: sum((scores[i][1] and scores[i][0] >= DEFAULT_THRESHOLD) == cases[i].supported
                      for i in held if cases[i].kind == kind) / max(1, sum(cases[i].kind == kind for i in held))
            for kind in dict.fromkeys(c.kind for c in cases)},
        "seconds": round(time.perf_counter() - started, 1),
    }
    if args.json:
        json.dump(result, sys.stdout, indent=2)
        print()
        return
    print(f"{bench.name} {bench.source.version}: {result['entries']} entries, {len(cases)} cases {result['cases']}")
    print_sweep(sweep, "calibration half")
    held_row = result["held_out_at_default"]
    print(f"chosen on calibration half: {chosen}; default in code: {DEFAULT_THRESHOLD}")
    print(f"held-out at default: precision {held_row['precision']:.3f} recall {held_row['recall']:.3f} "
          f"f1 {held_row['f1']:.3f} false-alarm {held_row['false_alarm_rate']:.3f} (n={held_row['n']})")
    for kind, accuracy in result["held_out_by_kind_at_default"].items():
        print(f"  {kind:28s} correct {accuracy:.3f}")
    print(f"{result['seconds']} s")


if __name__ == "__main__":
    main()
