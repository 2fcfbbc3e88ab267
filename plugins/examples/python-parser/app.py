"""A tdg parser plugin written in Python, built into a WebAssembly component with
componentize-py.

It reads answers written as question and answer lines, a layout small models often
fall back to instead of JSON:

    Q: What does the license grant?
    A: A perpetual, worldwide copyright license.

Numbered forms ("Q1.", "Question 2:") work too, and a JSON array of
{"question", "answer"} objects is accepted as well. A "Type: factual" line after a
pair (or a "type" field in JSON) labels its question type, kept when it is one of
the types asked for (or, when none were, one tdg knows). With `--task reasoning`, a
"Reasoning: ..." line before the answer (or a "reasoning" field in JSON), or else the
<think> block before the pairs, is each pair's reasoning.

Build:  componentize-py -d ../../../wit/v0.3 -w parser-plugin componentize app -o python_parser.wasm
Use:    tdg generate ... --parser plugins/examples/python-parser/python_parser.wasm
"""

import json
import re

from componentize_py_types import Err
from wit_world import exports
from wit_world.exports.parser import ParseError_NoJson, ParseError_NoPairs
from wit_world.imports import host, types

QUESTION = re.compile(r"^\s*(?:q|question)\s*\d*\s*[:.)\-]\s*(.+)$", re.IGNORECASE)
ANSWER = re.compile(r"^\s*(?:a|answer)\s*\d*\s*[:.)\-]\s*(.+)$", re.IGNORECASE)
TYPE = re.compile(r"^\s*type\s*\d*\s*[:.)\-]\s*(.+)$", re.IGNORECASE)
REASONING = re.compile(r"^\s*reasoning\s*\d*\s*[:.)\-]\s*(.+)$", re.IGNORECASE)
THINK = re.compile(r"<think>(.*?)</think>", re.DOTALL)
KNOWN_TYPES = ("factual", "analytical", "explanatory", "inferential")


def checked_type(label, asked: list):
    """The label, lower-case, if it names a type asked for (or a known one); else None."""
    if not isinstance(label, str):
        return None
    label = label.strip().lower()
    return label if label in (asked or KNOWN_TYPES) else None


def from_lines(response: str) -> list:
    """(question, answer, type, reasoning) from "Q: ..." / "A: ..." lines, with optional
    "Reasoning: ..." (before the answer) and "Type: ..." lines; an answer may continue
    on later lines."""
    pairs = []
    question = answer = kind = reasoning = None
    for line in response.splitlines():
        q = QUESTION.match(line)
        a = ANSWER.match(line)
        t = TYPE.match(line)
        r = REASONING.match(line)
        if q:
            if question and answer:
                pairs.append((question, answer, kind, reasoning))
            question, answer, kind, reasoning = q.group(1).strip(), None, None, None
        elif r and question and answer is None:
            reasoning = r.group(1).strip()
        elif a and question:
            answer = a.group(1).strip()
        elif t and answer is not None:
            kind = t.group(1).strip()
        elif answer is not None and line.strip():
            answer += " " + line.strip()
    if question and answer:
        pairs.append((question, answer, kind, reasoning))
    return pairs


def from_json(response: str) -> list:
    """(question, answer, type) from a JSON array of {"question", "answer", "type"}
    objects, if there is one."""
    start, end = response.find("["), response.rfind("]")
    if start < 0 or end < start:
        return []
    try:
        items = json.loads(response[start : end + 1])
    except ValueError:
        return []
    return [
        (
            str(item.get("question", "")).strip(),
            str(item.get("answer", "")).strip(),
            item.get("type"),
            item.get("reasoning"),
        )
        for item in items
        if isinstance(item, dict)
    ]


class Parser(exports.Parser):
    def parse(self, response: str, request) -> list:
        expected, question_types = request.expected, request.question_types
        thinking = "\n\n".join(t.strip() for t in THINK.findall(response) if t.strip())
        response = THINK.sub("", response)
        pairs = [p for p in from_lines(response) or from_json(response) if p[0] and p[1]]
        if not pairs:
            if "Q:" in response or "{" in response:
                raise Err(ParseError_NoPairs("Every question or answer was empty. Write each pair as a 'Q:' line and an 'A:' line."))
            raise Err(ParseError_NoJson("No pairs found. Write each pair as a 'Q:' line followed by an 'A:' line."))
        host.log(host.LogLevel.DEBUG, f"python parser: {len(pairs)} pairs (asked for {expected})")
        return [
            types.Example(
                question=q,
                answer=a,
                question_type=checked_type(t, question_types),
                # The host keeps reasoning only under the reasoning task.
                reasoning=(str(r).strip() if r else None) or thinking or None,
                follow_ups=[],
            )
            for q, a, t, r in pairs
        ]
