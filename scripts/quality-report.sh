#!/usr/bin/env bash
# The quality gate's figures (see BENCHMARKS.md, "Quality gate").
#
#   scripts/quality-report.sh                       # precision/recall on the labelled set
#   scripts/quality-report.sh URL [MODEL] [CHUNKS]  # and a default run on the bundled corpus
#
# Without arguments: runs the gate at default settings over
# tests/fixtures/quality/labelled.jsonl and prints its precision and recall and the
# confusion of the labeller's reasons against the gate's.
# With the base URL of an OpenAI-compatible server (e.g. http://127.0.0.1:8011 for
# `python3 -m llama_cpp.server --model SmolLM2-135M-Instruct.Q4_1.gguf --port 8011`):
# also generates, at default settings, from the first CHUNKS (default 20) chunks of the
# bundled GPL-3 document, and prints the chunks with at least one kept pair, the pairs
# kept and the pairs dropped by reason.
set -euo pipefail
cd "$(dirname "$0")/.."

cargo test -q --test it quality_labelled -- --nocapture 2>&1 |
    sed -n '/labelled pairs:/,/^test result/p' | grep -v '^test result'

[ $# -ge 1 ] || exit 0
url=$1
model=${2:-smollm2}
chunks=${3:-20}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/chunks"
python3 - "$chunks" "$work/chunks/GPL-3_chunks.json" <<'PY'
import json, sys
doc = json.load(open("tests/fixtures/corpus/GPL-3_chunks.json"))
doc["chunks"] = doc["chunks"][: int(sys.argv[1])]
json.dump(doc, open(sys.argv[2], "w"))
PY
# The test run above built the binary (integration tests build it).
tdg=${CARGO_TARGET_DIR:-target}/debug/tdg
"$tdg" -q generate --provider openai --base-url "$url" --model "$model" \
    --chunks-dir "$work/chunks" --qa-dir "$work/qa" --concurrency 1 --request-timeout 1800 || true
"$tdg" stats "$work/qa" --json > "$work/stats.json"
python3 - "$work/qa/GPL-3_qa.json" "$work/stats.json" "$chunks" <<'PY'
import json, sys
qa = json.load(open(sys.argv[1]))
stats = json.load(open(sys.argv[2]))
kept = qa.get("training_pairs", [])
chunks_with_pairs = len({pair["chunk_id"] for pair in kept})
print(f"\ncorpus run: GPL-3, first {sys.argv[3]} chunks, default settings")
print(f"chunks with at least one kept pair: {chunks_with_pairs}/{sys.argv[3]}")
print(f"pairs kept: {len(kept)}")
dropped = stats.get("quality", {}).get("dropped", {})
print("pairs dropped by reason:", ", ".join(f"{k} {v}" for k, v in sorted(dropped.items())) or "none")
PY
