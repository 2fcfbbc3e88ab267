#!/usr/bin/env bash
# Writes SmolLM2-135M-Instruct at F16 (271 MB) beside the Q4_1 test model, converted
# from it with llama.cpp's own quantizer through llama-cpp-python
# (pip install 'llama-cpp-python[server]', which the benchmark's server side needs
# anyway), and prints its path. The same model with weights 3.5 times as large: the
# benchmark's case where decoding reads weights more than it computes, so that
# batching several sequences pays (see BENCHMARKS.md).
#
#   TDG_TEST_MODEL="$(scripts/test-model-f16.sh)" scripts/bench-embedded.sh
set -euo pipefail
cd "$(dirname "$0")/.."

q4="${TDG_TEST_MODEL:-$(scripts/fetch-test-model.sh)}"
f16="${q4%.Q4_1.gguf}.F16-from-Q4_1.gguf"
if [ ! -s "$f16" ]; then
    python3 - "$q4" "$f16.part" >&2 <<'PY'
import ctypes, sys
import llama_cpp
params = llama_cpp.llama_model_quantize_default_params()
params.ftype = llama_cpp.LLAMA_FTYPE_MOSTLY_F16
params.allow_requantize = True
status = llama_cpp.llama_model_quantize(sys.argv[1].encode(), sys.argv[2].encode(), ctypes.byref(params))
sys.exit(status)
PY
    mv "$f16.part" "$f16"
fi
echo "$f16"
