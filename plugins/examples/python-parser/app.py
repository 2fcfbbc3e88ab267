"""A tdg parser plugin written in Python, built into a WebAssembly component with
componentize-py.

It reads answers written as question and answer lines, a layout small models often
fall back to instead of JSON:

    Q: What does the license grant?
    A: A perpetual, worldwide copyright license.

Numbered forms ("Q1.", "Question 2:") work too, and a JSON array of
{"question", "answer"} objects is accepted as well.

Build:  componentize-py -d ../../../wit/v0.1 -w parser-plugin componentize app -o python_parser.wasm
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


def from_lines(response: str) -> list:
    """Pairs from "Q: ..." / "A: ..." lines; an answer may continue on later lines."""
    pairs = []
    question = None
    answer = None
    for line in response.splitlines():
        q = QUESTION.match(line)
        a = ANSWER.match(line)
        if q:
            if question and answer:
                pairs.append((question, answer))
            question, answer = q.group(1).strip(), None
        elif a and question:
            answer = a.group(1).strip()
        elif answer is not None and line.strip():
            answer += " " + line.strip()
    if question and answer:
        pairs.append((question, answer))
    return pairs


def from_json(response: str) -> list:
    """Pairs from a JSON array of {"question", "answer"} objects, if there is one."""
    start, end = response.find("["), response.rfind("]")
    if start < 0 or end < start:
        return []
    try:
        items = json.loads(response[start : end + 1])
    except ValueError:
        return []
    return [
        (str(item.get("question", "")).strip(), str(item.get("answer", "")).strip())
        for item in items
        if isinstance(item, dict)
    ]


class Parser(exports.Parser):
    def parse(self, response: str, expected: int) -> list:
        pairs = [(q, a) for q, a in from_lines(response) or from_json(response) if q and a]
        if not pairs:
            if "Q:" in response or "{" in response:
                raise Err(ParseError_NoPairs("Every question or answer was empty. Write each pair as a 'Q:' line and an 'A:' line."))
            raise Err(ParseError_NoJson("No pairs found. Write each pair as a 'Q:' line followed by an 'A:' line."))
        host.log(host.LogLevel.DEBUG, f"python parser: {len(pairs)} pairs (asked for {expected})")
        return [types.QaPair(question=q, answer=a) for q, a in pairs]
