#!/usr/bin/env bash
# The quality gate's figures (see BENCHMARKS.md, "Quality gate").
#
#   scripts/quality-report.sh                    # precision/recall on the labelled set
#   scripts/quality-report.sh MODEL.gguf [N]     # and a default run of the embedded engine
#
# Without arguments: runs the gate at default settings over
# tests/fixtures/quality/labelled.jsonl and prints its precision and recall and the
# confusion of the labeller's reasons against the gate's.
# With a GGUF model (e.g. "$(scripts/fetch-test-model.sh)" for SmolLM2-135M-Instruct):
# also generates with the embedded engine at default settings from the bundled corpus
# (the first N chunks of each document if N is given), and prints, per document and in
# total, the chunks with at least one kept pair, the pairs kept and the pairs dropped by
# reason, then every kept pair, to be read against its chunk. TDG_BIN picks the binary
# (default target/release/tdg); TDG_REPORT_KEEP=DIR keeps the run's chunks and Q&A
# directory there (its checkpoint holds every pair, for scripts/quality-collect.py).
set -euo pipefail
cd "$(dirname "$0")/.."

cargo test -q --test it quality_labelled -- --nocapture 2>&1 |
    sed -n '/labelled pairs:/,/^test result/p' | grep -v '^test result'

[ $# -ge 1 ] || exit 0
model=$1
limit=${2:-}
tdg="${TDG_BIN:-target/release/tdg}"
work=${TDG_REPORT_KEEP:-}
if [ -n "$work" ]; then
    rm -rf "$work" && mkdir -p "$work"
else
    work=$(mktemp -d)
    trap 'rm -rf "$work"' EXIT
fi
mkdir -p "$work/chunks"
python3 - "$work/chunks" "$limit" <<'PY'
import json, pathlib, sys
out, limit = pathlib.Path(sys.argv[1]), sys.argv[2]
for path in sorted(pathlib.Path("tests/fixtures/corpus").glob("*_chunks.json")):
    doc = json.load(open(path))
    if limit:
        doc["chunks"] = doc["chunks"][: int(limit)]
    json.dump(doc, open(out / path.name, "w"))
PY
"$tdg" -q generate --provider embedded --model "$model" \
    --chunks-dir "$work/chunks" --qa-dir "$work/qa" --concurrency 4 --with-quality
"$tdg" stats "$work/qa" --json > "$work/stats.json"
python3 - "$work/qa" "$work/stats.json" "$work/chunks" <<'PY'
import json, pathlib, sys
qa_dir, stats = pathlib.Path(sys.argv[1]), json.load(open(sys.argv[2]))
chunks_dir = pathlib.Path(sys.argv[3])
print("\nembedded engine, default settings, bundled corpus")
print("| document | chunks | chunks keeping a pair | pairs kept |")
print("|---|---|---|---|")
chunks_total = kept_chunks_total = kept_total = 0
for path in sorted(qa_dir.glob("*_qa.json")):
    qa = json.load(open(path))
    kept = qa.get("training_pairs", [])
    # The chunks this run was given (the document's first N with a limit).
    chunks = len(json.load(open(chunks_dir / (path.name[: -len("_qa.json")] + "_chunks.json")))["chunks"])
    kept_chunks = len({pair["chunk_id"] for pair in kept})
    chunks_total += chunks; kept_chunks_total += kept_chunks; kept_total += len(kept)
    print(f"| {path.name[:-8]} | {chunks} | {kept_chunks} | {len(kept)} |")
print(f"| total | {chunks_total} | {kept_chunks_total} | {kept_total} |")
print("\nkept pairs, to read against their chunks:")
for path in sorted(qa_dir.glob("*_qa.json")):
    for pair in json.load(open(path)).get("training_pairs", []):
        print(f"- {path.name[:-8]} {pair['chunk_id']}: {pair['question']!r} -> {pair['answer']!r}")
dropped = stats.get("quality", {}).get("dropped", {})
print("pairs dropped by reason:", ", ".join(f"{k} {v}" for k, v in sorted(dropped.items())) or "none")
PY
