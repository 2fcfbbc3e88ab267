#!/usr/bin/env python3
"""Splits each file named on the command line with LangChain's own
RecursiveCharacterTextSplitter, as the original chunker did, and prints the chunk
texts as JSON: {"<path>": ["chunk", ...], ...}. Used by tdg's differential test
(tests/it/chunk_cli.rs) and the chunking benchmark (benches/chunking.rs).

usage: langchain_chunks.py CHUNK_SIZE CHUNK_OVERLAP FILE...
"""
import json
import sys

from langchain_text_splitters import RecursiveCharacterTextSplitter

size, overlap = int(sys.argv[1]), int(sys.argv[2])
splitter = RecursiveCharacterTextSplitter(
    chunk_size=size, chunk_overlap=overlap, separators=["\n\n", "\n", " ", ""]
)
out = {}
for path in sys.argv[3:]:
    with open(path, encoding="utf-8") as f:
        out[path] = splitter.split_text(f.read())
json.dump(out, sys.stdout, ensure_ascii=False)
