#!/usr/bin/env bash
# Generates the embedded-engine runs whose pairs were labelled for
# tests/fixtures/quality/labelled.jsonl (its README says how): SmolLM2-135M-Instruct on
# slices of the bundled corpus at temperatures 0.2, 0.7 and 1.0 under the grammar, and
# at 0.7 without it, 3 pairs asked per chunk. Every pair the parser returned is kept in
# each run's checkpoint, whatever the gate decided; scripts/quality-collect.py reads
# them out for labelling.
#
#   scripts/quality-embedded-runs.sh OUT_DIR      # TDG_BIN (default target/release/tdg)
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:?usage: scripts/quality-embedded-runs.sh OUT_DIR}
tdg="${TDG_BIN:-target/release/tdg}"
model="${TDG_TEST_MODEL:-$(scripts/fetch-test-model.sh)}"
mkdir -p "$out"

# slice NAME DOCUMENT FROM TO: chunks FROM..TO (exclusive) of one corpus document.
slice() {
    mkdir -p "$out/chunks-$1"
    python3 - "$2" "$3" "$4" "$out/chunks-$1/$2_chunks.json" <<'PY'
import json, sys
name, start, end, path = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
doc = json.load(open(f"tests/fixtures/corpus/{name}_chunks.json"))
doc["chunks"] = doc["chunks"][start:end]
json.dump(doc, open(path, "w"))
PY
}

# run NAME TEMPERATURE STRUCTURED: one run over chunks-NAME into qa-NAME.
run() {
    "$tdg" -q generate --provider embedded --model "$model" --chunks-dir "$out/chunks-$1" \
        --qa-dir "$out/qa-$1" --temperature "$2" --structured="$3" --questions-per-chunk 3 \
        --max-tokens 600 --concurrency 4 --parse-retries 0 --overwrite ||
        echo "(run $1: some chunks failed, as answers without JSON do)" >&2
    echo "run $1 (temperature $2, grammar $3) done" >&2
}

slice t02 Apache-2.0 0 17; slice t02 GPL-3 0 20
slice t07 GPL-3 20 45
slice t10 node-url-api 0 15
slice plain node-url-api 15 30
for spec in ${RUNS:-t02:0.2:true t07:0.7:true t10:1.0:true plain:0.7:false}; do
    IFS=: read -r name temperature structured <<<"$spec"
    run "$name" "$temperature" "$structured"
done
