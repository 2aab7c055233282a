#!/usr/bin/env bash
# Quick start, part 2: installs what is needed, builds nncc (and an
# AddressSanitizer + UBSan build of the tool for the bad-input tests) and runs
# every test: unit tests, lit tests, the ONNX backend conformance run, the
# seven PyTorch models and the bad-input suite.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
"$root/scripts/install-deps.sh"
"$root/scripts/build.sh" "$root/build"
"$root/scripts/build.sh" "$root/build-asan" -DNNCC_SANITIZE=ON -DNNCC_TOOLS_ONLY=ON
cd "$root/build"
# glibc fills freed heap memory with 0xa5, so a read through a stale pointer
# fails every run instead of in a few percent of them.
export MALLOC_PERTURB_="${MALLOC_PERTURB_:-165}"
# Compiled graphs' workspaces and outputs start as NaNs on every call, so a
# kernel that reads what the call did not write fails too.
export NNCC_POISON_WORKSPACE="${NNCC_POISON_WORKSPACE:-1}"
ctest --output-on-failure -j "${NNCC_JOBS:-2}" "$@"
