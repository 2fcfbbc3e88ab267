#!/usr/bin/env python3
"""Collects every pair real model runs produced, kept and dropped, for labelling
(tests/fixtures/quality/README.md says how the set was made).

usage: quality-collect.py OUT.jsonl RUN=PATH...

PATH is a tdg Q&A directory (its checkpoint `.tdg-checkpoint.sqlite3` holds every pair
the parser returned, whatever the gate decided) or a JSON Lines file written by
scripts/quality-grammar-run.py. Pairs come out in run, document and chunk order,
without labels.
"""
import json, pathlib, sqlite3, sys


def from_checkpoint(run, qa_dir):
    db = sqlite3.connect(pathlib.Path(qa_dir) / ".tdg-checkpoint.sqlite3")
    settings = {row[0]: json.loads(row[1]) for row in db.execute("SELECT id, json FROM settings")}
    columns = [row[1] for row in db.execute("PRAGMA table_info(chunks)")]
    settings_column = "settings_id" if "settings_id" in columns else None
    query = "SELECT stem, position, chunk_id, pairs" + (f", {settings_column}" if settings_column else "") + \
        " FROM chunks WHERE status = 'completed' ORDER BY stem, position"
    for row in db.execute(query):
        recorded = settings.get(row[4], {}) if settings_column else {}
        embedded = recorded.get("provider") == "embedded"
        for pair in json.loads(row[3]):
            yield {
                "document": row[0], "chunk_id": row[2],
                "question": pair["question"], "answer": pair["answer"],
                "source": {"run": run, "model": "SmolLM2-135M-Instruct Q4_1",
                           "temperature": recorded.get("temperature"),
                           # The embedded engine decodes under the grammar when structured.
                           "grammar": bool(embedded and recorded.get("structured")),
                           # Answers decoded as quotations of the chunk (--quote-answers).
                           **({"quoted": True} if recorded.get("quote_answers") else {}),
                           "driver": "tdg generate --provider embedded" if embedded else "tdg generate"},
            }


def from_grammar_log(run, path):
    for line in open(path):
        record = json.loads(line)
        try:  # raw newlines inside strings are allowed, as tdg's parser allows them
            pairs = json.loads(record["raw"], strict=False)
        except json.JSONDecodeError:
            pairs = record["pairs"]
        for pair in pairs if isinstance(pairs, list) else []:
            # tdg's parser drops pairs without a question or an answer.
            if not isinstance(pair, dict) or not str(pair.get("question", "")).strip() \
                    or not str(pair.get("answer", "")).strip():
                continue
            yield {
                "document": record["document"], "chunk_id": record["chunk_id"],
                "question": pair.get("question", ""), "answer": pair.get("answer", ""),
                "source": {"run": run, "model": "SmolLM2-135M-Instruct Q4_1",
                           "temperature": record["temperature"], "grammar": True,
                           "driver": "scripts/quality-grammar-run.py"},
            }


def main():
    with open(sys.argv[1], "w") as out:
        for spec in sys.argv[2:]:
            run, path = spec.split("=", 1)
            pairs = from_checkpoint(run, path) if pathlib.Path(path).is_dir() else from_grammar_log(run, path)
            for pair in pairs:
                out.write(json.dumps(pair, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
