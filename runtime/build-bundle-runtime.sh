#!/usr/bin/env bash
# Builds the runtime kernels as a static library for a bundle target.
#   build-bundle-runtime.sh CXX AR SOURCE_ROOT OUT_DIR [compiler flags...]
# The kernels need no libstdc++ at link time: no exceptions, RTTI or
# thread-safe statics, and they never allocate.
set -euo pipefail
cxx="$1" ar="$2" src="$3" out="$4"
shift 4
mkdir -p "$out/obj"
objs=()
for f in Gemm Linalg Conv Pool Reorder Normalize ParallelFor Index Random Resample Recurrent RecurrentCells RecurrentGemm Signal; do
  "$cxx" -std=c++17 -O3 -fPIC -fno-exceptions -fno-rtti -fno-threadsafe-statics \
    -fno-asynchronous-unwind-tables -ffp-contract=fast "$@" -I"$src" \
    -c "$src/runtime/kernels/$f.cpp" -o "$out/obj/$f.o"
  objs+=("$out/obj/$f.o")
done
rm -f "$out/libnncc_rt.a"
"$ar" rcs "$out/libnncc_rt.a" "${objs[@]}"
