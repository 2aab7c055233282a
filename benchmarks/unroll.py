#!/usr/bin/env python3
"""Recurrent layers unrolled into cells (--unroll-recurrent) against their
whole-layer kernels (stacked, and layer by layer): inference time, compile
time and arena.

    /usr/bin/python3 benchmarks/unroll.py --nncc build/tools/nncc [--threads 2] [--rounds 3]
        [--runs 20] [--work build/unroll] [--models build/models] [--out docs/benchmarks.md]

The models: lstm_lm and gru_2layer (../shared/models/export_models.py, under
--models), and wavefront.py's 4-layer LSTM and GRU with ONNX's default cell
(linear_before_reset = 0: two products per step), input and hidden 512,
batch 8, 100 steps. Each runs with its layers' kernels (the default: the
layers stacked, wavefront schedule), the same kernels layer by layer
(--schedule sequential) and unrolled into per-step cells; the three alternate for --rounds rounds and the median over rounds of each run's
median is kept, next to the compile time nncc bench reports (the median over
rounds). With --out, the "Unrolled recurrent cells" section of that
Markdown file is replaced (or added).
"""
import os
import re
import statistics
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_common import machine, parser, replace_section, run  # noqa: E402
from wavefront import EXPORT  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


# The three ways compared: the layers' kernels stacked (the default, cells of
# the layers along diagonals of the thread pool), the same kernels layer by
# layer, and the layers unrolled into cells (run in program order, each op
# across the threads).
MODES = (("kernels", []), ("layer by layer", ["--schedule", "sequential"]), ("unrolled", ["--unroll-recurrent"]))


def bench(a, path, flags):
    """(median ms, compile ms, peak arena bytes) of one nncc bench run."""
    cmd = [a.nncc, "bench", path, "--threads", str(a.threads), "--runs", str(a.runs)] + flags
    out = run(cmd)
    ms = float(re.search(r"median_ms=([0-9.]+)", out).group(1))
    compiled = re.search(r"compiled .* in ([0-9]+) ms", out)
    arena = int(re.search(r"peak_arena_bytes=([0-9]+)", out).group(1))
    return ms, float(compiled.group(1)) if compiled else float("nan"), arena


def main():
    p = parser(__doc__, "unroll", runs=20)
    p.add_argument("--models", default=os.path.join(ROOT, "build", "models"))
    a = p.parse_args()
    models_dir = a.models
    os.makedirs(a.work, exist_ok=True)
    models = [("lstm_lm", os.path.join(models_dir, "lstm_lm", "model.onnx")),
              ("gru_2layer", os.path.join(models_dir, "gru_2layer", "model.onnx"))]
    for kind, label in (("LSTM", "4-layer LSTM, 100 steps, 512 units, batch 8"),
                        ("GRU0", "4-layer GRU (ONNX's default cell), 100 steps, 512 units, batch 8")):
        path = os.path.join(a.work, kind.lower() + "4.onnx")
        if not os.path.exists(path):
            print("exporting " + path, flush=True)
            run(["/usr/bin/python3", "-c", EXPORT, path, kind, "512"])
        models.append((label, path))
    rows = []
    for label, path in models:
        if not os.path.exists(path):
            raise SystemExit("missing %s: build the models first (ctest -R models_export)" % path)
        times = {m: [] for m, _ in MODES}
        compiles = {m: [] for m, _ in MODES}
        arenas = {}
        for r in range(a.rounds):
            for mode, flags in MODES:
                ms, compile_ms, arenas[mode] = bench(a, path, flags)
                times[mode].append(ms)
                compiles[mode].append(compile_ms)
                print("%s round %d %s: %.2f ms (compiled in %.0f ms)" % (label, r + 1, mode, ms, compile_ms),
                      flush=True)
        med = {m: statistics.median(times[m]) for m, _ in MODES}
        rows.append((label, med["kernels"], med["layer by layer"], med["unrolled"],
                     statistics.median(compiles["kernels"]), statistics.median(compiles["unrolled"]),
                     arenas["kernels"], arenas["unrolled"]))
    lines = ["## Unrolled recurrent cells", "",
             "`benchmarks/unroll.py` (%s; %d threads, median of %d rounds of %d runs): inference with each "
             "recurrent layer's kernel (stacked, wavefront schedule) against the same model compiled with "
             "`--unroll-recurrent`, whose cells are one recurrent product (`nn.gemm` reading R as it is) and "
             "one `nn.fused` op per step (two for ONNX's default GRU cell, whose reset gate comes before "
             "its second product; the input projection made in chunks of about 128 rows, so the arena does "
             "not grow with the steps), the compile time and the peak arena `nncc bench` reports." %
             (machine(), a.threads, a.rounds, a.runs), "",
             "The layer-by-layer column runs the same kernels with `--schedule sequential`: the unrolled cells "
             "run in program order too, one op at a time across the threads, so they have no wavefront; that "
             "column is the one they compare with step for step.", "",
             "| model | kernels (ms) | layer by layer (ms) | unrolled (ms) | unrolled / kernels "
             "| unrolled / layer by layer | compile, kernels (s) | compile, unrolled (s) "
             "| arena, kernels (MB) | arena, unrolled (MB) |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for label, k, s, u, ck, cu, ak, au in rows:
        lines.append("| %s | %.2f | %.2f | %.2f | %.2fx | %.2fx | %.1f | %.1f | %.1f | %.1f |" %
                     (label, k, s, u, u / k, u / s, ck / 1e3, cu / 1e3, ak / 1e6, au / 1e6))
    section = "\n".join(lines) + "\n"
    print(section)
    if a.out:
        replace_section(a.out, "Unrolled recurrent cells", section)


if __name__ == "__main__":
    main()
