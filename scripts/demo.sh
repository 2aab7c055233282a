#!/usr/bin/env bash
# Quick start, part 1: installs what is needed, builds nncc, exports the
# default model (the `mlp` of ../shared/models) into the build tree and runs
# it, printing its outputs, the comparison with PyTorch's and the time.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
"$root/scripts/install-deps.sh"
"$root/scripts/build.sh" "$root/build"
cmake --build "$root/build" --target models -j "${NNCC_JOBS:-2}"
model="$root/build/models/mlp"
echo
echo "$ nncc run build/models/mlp/model.onnx --test-data build/models/mlp/test_data_set_0 --repeat 20"
"$root/build/tools/nncc" run "$model/model.onnx" --test-data "$model/test_data_set_0" --repeat 20
