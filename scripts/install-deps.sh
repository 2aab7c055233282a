#!/usr/bin/env bash
# Installs the Debian 12 packages nncc needs to build, run and test.
# Idempotent: does nothing when everything is installed. Needs root (or sudo).
set -euo pipefail

PACKAGES=(
  build-essential cmake ninja-build ccache git
  llvm-15-dev clang-15 libmlir-15-dev mlir-15-tools
  libprotobuf-dev protobuf-compiler libonnx-dev libonnx-testdata
  python3 python3-onnx python3-torch python3-torchvision python3-numpy
  libgtest-dev libbenchmark-dev libdnnl-dev ocl-icd-opencl-dev libopenblas-dev libgloo-dev
  g++-aarch64-linux-gnu qemu-user
)

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#PACKAGES[@]} packages are installed"
  exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { echo "install-deps: run as root or install sudo" >&2; exit 1; }
  SUDO=sudo
fi
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q
$SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
