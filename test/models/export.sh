#!/usr/bin/env bash
# Exports the reference models of shared/models/export_models.py once into
# the build tree (a stamp file marks a complete export).
#   export.sh PYTHON SHARED_DIR OUT_DIR
set -euo pipefail
python="$1" shared="$2" out="$3"
stamp="$out/.exported"
script="$shared/models/export_models.py"
[ -f "$script" ] || { echo "export.sh: $script not found (the shared/ folder must be beside the project)" >&2; exit 1; }
if [ -f "$stamp" ] && [ "$stamp" -nt "$script" ]; then
  echo "models already exported in $out"
  exit 0
fi
mkdir -p "$out"
"$python" "$script" "$out"
touch "$stamp"
