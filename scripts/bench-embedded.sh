#!/usr/bin/env bash
# Benchmarks the embedded engine on the first 20 chunks of GPL-3_chunks.json with
# SmolLM2-135M-Instruct, 3 questions a chunk, at most 600 tokens: chunks per minute,
# generated tokens per second and peak RSS at --concurrency 1, 2, 4 and 8. If
# llama-cpp-python's server is installed (pip install 'llama-cpp-python[server]'),
# the same model behind it, driven by tdg's openai provider, runs side by side.
#
#   scripts/bench-embedded.sh            # TDG_BIN (default target/release/tdg)
#
# Prints one Markdown table row per run. Needs GNU time (/usr/bin/time).
set -euo pipefail
cd "$(dirname "$0")/.."

tdg="${TDG_BIN:-target/release/tdg}"
model="${TDG_TEST_MODEL:-$(scripts/fetch-test-model.sh)}"
threads="${BENCH_THREADS:-$(nproc)}"
work="$(mktemp -d)"
trap 'rm -rf "$work"; [ -n "${server_pid:-}" ] && kill "$server_pid" 2>/dev/null || true' EXIT

mkdir -p "$work/chunks"
python3 - "$work/chunks/GPL-3_chunks.json" <<'PY'
import json, sys
doc = json.load(open("tests/fixtures/corpus/GPL-3_chunks.json"))
doc["chunks"] = doc["chunks"][:20]
json.dump(doc, open(sys.argv[1], "w"))
PY

# One run: prints "| label | s | chunks/min | tokens/s | peak RSS MiB | chunks with a kept pair |".
# $1 label, $2 a process whose peak RSS counts too (the server), rest: tdg's arguments.
run() {
    local label="$1" extra_pid="$2"
    shift 2
    local qa="$work/qa-$RANDOM"
    local start end
    start=$(date +%s.%N)
    # A run where some chunks' answers hold no pair exits with 1; it still counts.
    /usr/bin/time -f '%M' -o "$work/rss" "$tdg" -q generate --chunks-dir "$work/chunks" --qa-dir "$qa" \
        --questions-per-chunk 3 --max-tokens 600 "$@" >/dev/null || true
    end=$(date +%s.%N)
    local rss_kib
    rss_kib=$(tail -1 "$work/rss")
    if [ -n "$extra_pid" ]; then
        rss_kib=$(awk '/VmHWM/ {print $2}' "/proc/$extra_pid/status")
    fi
    "$tdg" stats --json "$qa" > "$work/stats.json"
    python3 - "$label" "$start" "$end" "$rss_kib" "$work/stats.json" "$qa/GPL-3_qa.json" <<'PY'
import json, sys
label, start, end, rss, stats, qa = sys.argv[1:]
seconds = float(end) - float(start)
total = json.load(open(stats))["total"]
pairs = json.load(open(qa))["training_pairs"]
kept = len({p["chunk_id"] for p in pairs})
done = total["chunks_completed"]
print(f"| {label} | {seconds:.1f} | {done / seconds * 60:.1f} | {total['tokens_out'] / seconds:.1f} "
      f"| {int(rss) / 1024:.0f} | {kept} of 20 |")
PY
}

echo "| run | seconds | chunks/min | generated tokens/s | peak RSS (MiB) | chunks keeping a pair |"
echo "|---|---|---|---|---|---|"
# BENCH_ONLY=server runs only the side-by-side server; BENCH_ONLY=embedded only tdg's engine.
# BENCH_CONCURRENCY="1 4" picks the engine's concurrencies (default 1 2 4 8).
for concurrency in $([ "${BENCH_ONLY:-}" = server ] || echo "${BENCH_CONCURRENCY:-1 2 4 8}"); do
    run "embedded, --concurrency $concurrency" "" --provider embedded --model "$model" \
        --threads "$threads" --concurrency "$concurrency"
done

if [ "${BENCH_ONLY:-}" = embedded ]; then
    :
elif python3 -c 'import llama_cpp.server' 2>/dev/null; then
    port=18089
    python3 -m llama_cpp.server --model "$model" --port "$port" --n_ctx 4096 \
        --n_threads "$threads" >"$work/server.log" 2>&1 &
    server_pid=$!
    for _ in $(seq 120); do
        curl -sf "http://127.0.0.1:$port/v1/models" >/dev/null && break
        sleep 1
    done
    # As a user would run it (tdg's defaults), then with the pair schema sent along.
    run "llama-cpp-python server, openai provider" "$server_pid" \
        --provider openai --base-url "http://127.0.0.1:$port" --model smollm2 \
        --concurrency 1
    run "llama-cpp-python server, openai provider, --structured" "$server_pid" \
        --provider openai --base-url "http://127.0.0.1:$port" --model smollm2 \
        --structured --concurrency 1
else
    echo "(llama-cpp-python's server is not installed: no side-by-side run)" >&2
fi
