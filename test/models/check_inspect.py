#!/usr/bin/env python3
"""`nncc inspect` on the shared models: the log has one block per op, the
arena (planned peak of the intermediates) is below the sum of all of them
(strictly for resnet18, where the issue asks it), and resnet18's residual
sums are written in place.

  check_inspect.py --nncc build/tools/nncc --models build/models
"""
import argparse
import os
import re
import subprocess
import sys

MODELS = ["mlp", "resnet18", "mobilenet_v2", "squeezenet1_1", "lstm_lm", "gru_2layer", "transformer_enc"]


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--nncc", required=True)
    p.add_argument("--models", required=True)
    args = p.parse_args()
    failures = []
    for m in MODELS:
        r = subprocess.run([args.nncc, "inspect", os.path.join(args.models, m, "model.onnx")],
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        out = r.stdout
        if r.returncode != 0:
            failures.append("%s: exit %d\n%s" % (m, r.returncode, out[-2000:]))
            continue
        peak = re.search(r"planned peak of the intermediates: (\d+) B \(arena\); without reuse (\d+) B", out)
        ops = re.search(r"^(\d+) ops, (\d+) written in place, (\d+) reusing", out, re.M)
        blocks = len(re.findall(r"^\[\s*\d+\] ", out, re.M))
        if not peak or not ops:
            failures.append("%s: no summary in the log" % m)
            continue
        arena, total = int(peak.group(1)), int(peak.group(2))
        n, in_place = int(ops.group(1)), int(ops.group(2))
        problems = []
        if blocks != n:
            problems.append("%d op blocks for %d ops" % (blocks, n))
        if arena > total:
            problems.append("arena %d > sum of intermediates %d" % (arena, total))
        if m == "resnet18":
            if arena >= total:
                problems.append("arena %d not below the sum of intermediates %d" % (arena, total))
            if in_place == 0 or "in place of" not in out:
                problems.append("no result written in place")
        print("%s %-16s %3d ops, arena %9d B of %9d B (%.0f%%), %d in place%s" %
              ("FAIL" if problems else "ok  ", m, n, arena, total, 100.0 * arena / max(total, 1), in_place,
               ": " + "; ".join(problems) if problems else ""))
        if problems:
            failures.append(m)
    if failures:
        print("\n".join(f for f in failures if "\n" in f))
        sys.exit(1)


if __name__ == "__main__":
    main()
