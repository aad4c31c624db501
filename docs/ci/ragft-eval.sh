#!/usr/bin/env bash
# The ragft regression gate for any CI (or a laptop): answer the eval set, fail on thresholds, fail on a paired
# regression against the last accepted run, and keep the index (with its embedding cache) and RAGFT_CACHE_DIR
# between runs so only changed documents are re-embedded. See docs/ci-recipe.md.
#
#   RAGFT_DOCS=docs RAGFT_EVALSET=evalset.jsonl docs/ci/ragft-eval.sh
#
# Settings (environment):            default
#   RAGFT_DOCS       corpus folder    (required)
#   RAGFT_EVALSET    eval-set JSONL   (required; `ragft eval make DOCS --generator ...` writes one)
#   RAGFT_CI_DIR     state kept between runs: cache/, index/, baseline/, runs/     .ragft-ci
#   RAGFT_SYSTEMS    systems to run   rag
#   RAGFT_FAIL_UNDER thresholds       token_f1=0.35,recall_at_5=0.85
#   RAGFT_FAIL_OVER  thresholds       hallucination_rate=0.05
#   RAGFT_METRIC     paired regression metric against the baseline                   token_f1
#   RAGFT_UPDATE_BASELINE=1          accept this run as the new baseline when it passes (e.g. on main)
#   RAGFT_ARGS       more `ragft eval run` flags, e.g. "--generator openai --model gpt-4o-mini --limit 200"
#   RAGFT            the ragft command                                               ragft
set -euo pipefail

: "${RAGFT_DOCS:?set RAGFT_DOCS to the corpus folder}"
: "${RAGFT_EVALSET:?set RAGFT_EVALSET to the eval-set JSONL}"
STATE=${RAGFT_CI_DIR:-.ragft-ci}
export RAGFT_CACHE_DIR=${RAGFT_CACHE_DIR:-$STATE/cache}
RAGFT=${RAGFT:-ragft}
RUN="$STATE/runs/$(date -u +%Y%m%d-%H%M%S)-$$"
mkdir -p "$STATE/runs" "$RAGFT_CACHE_DIR" "$RUN"

# The index (and the embedding cache inside it) from the last run: the run syncs it, re-embedding only what changed.
if [ -d "$STATE/index" ]; then
  cp -a "$STATE/index" "$RUN/index"
  echo "ragft-eval: reusing the cached index ($STATE/index)"
fi

status=0
# shellcheck disable=SC2086  # RAGFT_ARGS is a list of flags
$RAGFT eval run --evalset "$RAGFT_EVALSET" --docs "$RAGFT_DOCS" --systems "${RAGFT_SYSTEMS:-rag}" \
  --out "$RUN" --fail-under "${RAGFT_FAIL_UNDER:-token_f1=0.35,recall_at_5=0.85}" \
  --fail-over "${RAGFT_FAIL_OVER:-hallucination_rate=0.05}" --junit "$RUN/junit-thresholds.xml" \
  ${RAGFT_ARGS:-} || status=$?

# Keep the index for the next run, whether the gate passed or not (an interrupted run leaves none).
if [ -d "$RUN/index" ]; then
  rm -rf "$STATE/index.new" && cp -a "$RUN/index" "$STATE/index.new"
  rm -rf "$STATE/index" && mv "$STATE/index.new" "$STATE/index"
fi

if [ "$status" -le 1 ] && [ -d "$STATE/baseline" ] && [ -f "$RUN/table.json" ]; then
  $RAGFT eval compare "$STATE/baseline" "$RUN" --fail-on-regression --metric "${RAGFT_METRIC:-token_f1}" \
    --junit "$RUN/junit-regression.xml" || status=$((status > 0 ? status : $?))
fi

if [ "$status" -eq 0 ] && { [ "${RAGFT_UPDATE_BASELINE:-0}" = 1 ] || [ ! -d "$STATE/baseline" ]; }; then
  rm -rf "$STATE/baseline.new" && cp -a "$RUN" "$STATE/baseline.new" && rm -rf "$STATE/baseline.new/index"
  rm -rf "$STATE/baseline" && mv "$STATE/baseline.new" "$STATE/baseline"
  echo "ragft-eval: $RUN is the baseline now"
fi
echo "ragft-eval: run folder $RUN (exit $status)"
exit "$status"
