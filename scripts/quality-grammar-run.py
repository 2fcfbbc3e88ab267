#!/usr/bin/env python3
"""Grammar-constrained runs for the labelled quality set (tests/fixtures/quality).

Sends tdg's own prompt (`tdg prompt --json`, or templates/ rendered the same way when
`--render-local` is given) to an OpenAI-compatible llama-cpp-python server with
`response_format: {"type": "json_object", "schema": ...}` (the form that server
accepts; tdg's `--structured` sends `json_schema`), and writes one JSON line per
chunk with the raw answer and the pairs it holds.

usage: quality-grammar-run.py BASE_URL TEMPERATURE PAIRS_PER_CHUNK OUT.jsonl DOC:CHUNK_POSITION...
"""
import json, sys, time, urllib.request, pathlib

import jinja2

ROOT = pathlib.Path(__file__).resolve().parent.parent
def schema(count):
    return {
    "type": "array",
    "minItems": count,
    "maxItems": count,
    "items": {
        "type": "object",
        "properties": {"question": {"type": "string"}, "answer": {"type": "string"}},
        "required": ["question", "answer"],
    },
    }


def messages(text, count):
    env = jinja2.Environment(keep_trailing_newline=True)
    tpl = env.from_string((ROOT / "templates/qa_prompt.jinja").read_text())
    user = tpl.render(num_questions=count, text=text, extra_instructions="")
    system = (ROOT / "templates/system_message.txt").read_text().strip()
    return [{"role": "system", "content": system}, {"role": "user", "content": user}]


def main():
    base, temperature, count, out = sys.argv[1], float(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
    with open(out, "a") as sink:
        for spec in sys.argv[5:]:
            doc, position = spec.split(":")
            chunks = json.loads((ROOT / f"tests/fixtures/corpus/{doc}_chunks.json").read_text())["chunks"]
            chunk = chunks[int(position)]
            body = {
                "model": "smollm2",
                "messages": messages(chunk["text"], count),
                "temperature": temperature,
                "max_tokens": 150 * count,
                "response_format": {"type": "json_object", "schema": schema(count)},
            }
            request = urllib.request.Request(
                base + "/chat/completions",
                data=json.dumps(body).encode(),
                headers={"content-type": "application/json"},
            )
            started = time.time()
            raw = json.load(urllib.request.urlopen(request, timeout=600))["choices"][0]["message"]["content"]
            try:
                pairs = json.loads(raw, strict=False)
            except json.JSONDecodeError:
                pairs = []
            sink.write(json.dumps({
                "document": doc, "position": int(position), "chunk_id": chunk["chunk_id"],
                "temperature": temperature, "grammar": True, "pairs_asked": count, "raw": raw,
                "pairs": pairs if isinstance(pairs, list) else [],
                "seconds": round(time.time() - started, 1),
            }) + "\n")
            sink.flush()
            print(spec, round(time.time() - started, 1), "s", flush=True)


if __name__ == "__main__":
    main()
