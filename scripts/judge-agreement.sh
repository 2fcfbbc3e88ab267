#!/usr/bin/env bash
# How often `tdg validate`'s judge agrees with the hand labels of
# tests/fixtures/quality/labelled.jsonl: the labelled pairs are written as the original
# tool's Q&A files (each pair with its chunk's text), judged by MODEL through the
# embedded engine (its judgment decoded under the score grammar), and each judgment's
# pass (overall score >= 8) is compared with the label keep.
#
#   scripts/judge-agreement.sh MODEL.gguf [DROPS]
#
# Judges every pair labelled keep and the first DROPS (default 40) labelled drop, one
# judgment per (document, chunk, question). TDG_BIN picks the binary
# (default target/release/tdg).
set -euo pipefail
cd "$(dirname "$0")/.."
model=${1:?usage: scripts/judge-agreement.sh MODEL.gguf [DROPS]}
drops=${2:-40}
tdg="${TDG_BIN:-target/release/tdg}"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/qa"
python3 - "$work/qa" "$drops" <<'PY'
import json, pathlib, sys
out, drops = pathlib.Path(sys.argv[1]), int(sys.argv[2])
texts = {}
for path in pathlib.Path("tests/fixtures/corpus").glob("*_chunks.json"):
    for chunk in json.load(open(path))["chunks"]:
        texts[(path.name[: -len("_chunks.json")], chunk["chunk_id"])] = chunk["text"]
files, seen, dropped = {}, set(), 0
for line in open("tests/fixtures/quality/labelled.jsonl"):
    pair = json.loads(line)
    key = (pair["document"], pair["chunk_id"], pair["question"])
    if key in seen:
        continue
    if pair["label"] == "drop":
        if dropped >= drops:
            continue
        dropped += 1
    seen.add(key)
    files.setdefault(pair["document"], []).append({
        "question": pair["question"], "answer": pair["answer"],
        "file_name": pair["document"] + ".txt", "chunk_id": pair["chunk_id"],
        "chunk_index": int(pair["chunk_id"].split("_")[1]),
        "source_text": texts[(pair["document"], pair["chunk_id"])],
    })
# The original tool's file layout (tests/fixtures/Apache-2.0_qa.json), holding these pairs.
template = json.load(open("tests/fixtures/Apache-2.0_qa.json"))
for document, pairs in files.items():
    template["metadata"]["file_name"] = document + ".txt"
    template["training_pairs"] = pairs
    json.dump(template, open(out / f"{document}_qa.json", "w"))
PY
"$tdg" -q validate --qa-dir "$work/qa" --provider embedded --model "$model" --concurrency 4
python3 - "$work/qa/.tdg-checkpoint.sqlite3" <<'PY'
import json, sqlite3, sys
labels = {}
for line in open("tests/fixtures/quality/labelled.jsonl"):
    pair = json.loads(line)
    labels.setdefault((pair["document"], pair["question"]), pair["label"])
db = sqlite3.connect(sys.argv[1])
rows = db.execute("SELECT stem, question, overall, error FROM judgments").fetchall()
table = {(l, v): 0 for l in ("keep", "drop") for v in ("pass", "fail", "no score")}
for stem, question, overall, error in rows:
    verdict = "no score" if overall is None else ("pass" if overall >= 8 else "fail")
    table[(labels[(stem, question)], verdict)] += 1
scored = [(l, v) for (l, v), n in table.items() for _ in range(n) if v != "no score"]
agree = sum(1 for l, v in scored if (l == "keep") == (v == "pass"))
print(f"judged {len(rows)} pairs; {len(scored)} with a score")
print("| label | judge pass | judge fail | no score |")
print("|---|---|---|---|")
for label in ("keep", "drop"):
    print(f"| {label} | {table[(label, 'pass')]} | {table[(label, 'fail')]} | {table[(label, 'no score')]} |")
if scored:
    print(f"agreement with the labels: {agree}/{len(scored)} ({100 * agree / len(scored):.0f}%)")
PY
