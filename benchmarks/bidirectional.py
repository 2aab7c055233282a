#!/usr/bin/env python3
"""Bidirectional layers: both directions at once against one after the other.

    /usr/bin/python3 benchmarks/bidirectional.py --nncc build/tools/nncc [--threads 2] [--rounds 5]
        [--runs 20] [--work build/bidirectional] [--out docs/benchmarks.md]

The models: 2 bidirectional LSTM layers (input and hidden 512, batch 8, 100
steps), exported from PyTorch, and the same GRU and simple RNN (tanh). Layer
2 reads both directions of layer 1, so nothing stacks; under `--schedule
wavefront` (the default) nn-stack-recurrent marks each layer to run its two
directions at once, one per thread (`nncc.directions_at_once`), and under
`--schedule sequential` they run one after the other, each using every
thread inside its steps. Inference and the training step (`nncc bench
--train`: forward, sum-of-squares loss, backward, SGD, under the default
store-all policy and under checkpoint; the backward runs its directions at
once too, each with its own working set, so the arena grows). The two schedules alternate for --rounds
rounds; the median over rounds of each run's median is kept. With --out,
the "Bidirectional layers" section of that Markdown file is replaced (or
added).
"""
import os
import re
import statistics
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_common import machine, parser, replace_section, run  # noqa: E402

EXPORT = r"""
import sys, torch
torch.manual_seed(0)
class M(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.rnn = getattr(torch.nn, sys.argv[2])(512, 512, 2, bidirectional=True)
    def forward(self, x):
        return self.rnn(x)[0]
torch.onnx.export(M().eval(), (torch.randn(100, 8, 512),), sys.argv[1], opset_version=14,
                  input_names=["input"], output_names=["output"])
"""


def main():
    a = parser(__doc__, "bidirectional").parse_args()
    os.makedirs(a.work, exist_ok=True)
    kinds = ("LSTM", "GRU", "RNN")
    paths = {kind: os.path.join(a.work, kind.lower() + "_bi2.onnx") for kind in kinds}
    for kind, path in paths.items():
        if not os.path.exists(path):
            run(["/usr/bin/python3", "-c", EXPORT, path, kind])
    # forward; training step under store-all (the default) and checkpoint
    cases = [(kind, mode) for kind in kinds for mode in ("forward", "train", "checkpoint")]
    times = {(case, sch): [] for case in cases for sch in ("wavefront", "sequential")}
    arena = {}
    for _ in range(a.rounds):
        for ((kind, mode), schedule) in times:
            extra = ["--train", "--runs", str(max(5, a.runs // 2)), "--warmup", "2"] if mode != "forward" else [
                "--runs", str(a.runs)]
            if mode == "checkpoint":
                extra += ["--rnn-memory", "checkpoint"]
            out = run([a.nncc, "bench", paths[kind], "--schedule", schedule, "--threads", str(a.threads)] + extra)
            m = re.search(r"median_ms=([0-9.]+) min_ms=[0-9.]+ peak_arena_bytes=([0-9]+)", out)
            times[((kind, mode), schedule)].append(float(m.group(1)))
            arena[((kind, mode), schedule)] = int(m.group(2))
    med = {k: statistics.median(v) for k, v in times.items()}
    rows = []
    for kind, mode in cases:
        at_once, apart = med[((kind, mode), "wavefront")], med[((kind, mode), "sequential")]
        what = "%s %s" % (kind, {"forward": "forward", "train": "training step",
                                 "checkpoint": "training step, `--rnn-memory checkpoint`"}[mode])
        print("%s: directions at once %.2f ms, one after the other %.2f ms, %.2fx" % (
            what, at_once, apart, apart / at_once))
        rows.append("| %s | %.1f | %.1f | **%.2fx** | %.1f | %.1f |" % (
            what, apart, at_once, apart / at_once, arena[((kind, mode), "sequential")] / 2**20,
            arena[((kind, mode), "wavefront")] / 2**20))
    lines = [
        "## Bidirectional layers", "",
        "%s, %d threads. `benchmarks/bidirectional.py`: 2 bidirectional layers (input and hidden 512, batch 8, "
        "100 steps) of PyTorch's LSTM, GRU and RNN (tanh); median ms (median over %d alternating rounds). "
        "`--schedule sequential` runs a layer's directions one after the other, each step's products split "
        "across the threads; the default `--schedule wavefront` runs them at once, one direction per thread. "
        "In the training step the backward does too (under the default store-all policy, and under "
        "recompute-gates and checkpoint when their segments are shorter than the sequence: here checkpoint's "
        "10 steps; a budget keeps one working set, which it bounds, and runs the directions in turn), each "
        "direction with its own working set: the arena (MiB, with the kernels' scratch) grows by that much. "
        "The backward's "
        "GEMMs over the whole sequence (dW, dR, dX) keep both threads busy either way, so it gains less than "
        "the forward." % (machine(), a.threads, a.rounds), "",
        "| pass | one after the other (ms) | at once (ms) | speedup | arena, in turn | arena, at once |",
        "|---|---:|---:|---:|---:|---:|"] + rows + [""]
    if a.out:
        replace_section(a.out, "Bidirectional layers", "\n".join(lines))


if __name__ == "__main__":
    main()
