#!/usr/bin/env python3
"""Splits each file named on the command line with LangChain's own
RecursiveCharacterTextSplitter, as the original chunker did, and prints the chunk
texts as JSON: {"<path>": ["chunk", ...], ...}. Used by tdg's differential test
(tests/it/chunk_cli.rs) and the chunking benchmark (benches/chunking.rs).

usage: langchain_chunks.py [--time] CHUNK_SIZE CHUNK_OVERLAP FILE...

With --time, prints instead {"seconds", "bytes", "chunks", "digest"}: the time spent
in split_text alone (files read beforehand), and the SHA-256 of every chunk text,
each followed by a NUL byte, in file order, to check the chunks are identical.
"""
import hashlib
import json
import sys
import time

from langchain_text_splitters import RecursiveCharacterTextSplitter

args = sys.argv[1:]
timed = args[:1] == ["--time"]
if timed:
    args = args[1:]
size, overlap, paths = int(args[0]), int(args[1]), args[2:]
splitter = RecursiveCharacterTextSplitter(
    chunk_size=size, chunk_overlap=overlap, separators=["\n\n", "\n", " ", ""]
)
if timed:
    texts = []
    for path in paths:
        with open(path, encoding="utf-8") as f:
            texts.append(f.read())
    started = time.perf_counter()
    chunks = [splitter.split_text(text) for text in texts]
    seconds = time.perf_counter() - started
    digest = hashlib.sha256()
    for document in chunks:
        for chunk in document:
            digest.update(chunk.encode("utf-8") + b"\0")
    json.dump({
        "seconds": seconds,
        "bytes": sum(len(t.encode("utf-8")) for t in texts),
        "chunks": sum(len(c) for c in chunks),
        "digest": digest.hexdigest(),
    }, sys.stdout)
else:
    out = {}
    for path in paths:
        with open(path, encoding="utf-8") as f:
            out[path] = splitter.split_text(f.read())
    json.dump(out, sys.stdout, ensure_ascii=False)
