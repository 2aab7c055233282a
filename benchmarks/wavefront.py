#!/usr/bin/env python3
"""Wavefront against layer-by-layer execution of a 4-layer LSTM.

    /usr/bin/python3 benchmarks/wavefront.py --nncc build/tools/nncc [--threads 2] [--rounds 5]
        [--runs 20] [--work build/wavefront] [--out docs/benchmarks.md]

The models: 4 LSTM layers, input and hidden 512, batch 8, 100 steps, exported
from PyTorch, and the same GRU, the same GRU with ONNX's default cell
(linear_before_reset = 0: the model's GRU nodes changed to it), simple RNN
(tanh), and the LSTM and the RNN with ONNX's clip (3) on every layer. `--schedule wavefront`
runs the LSTM as one nn.lstm_stack (the GRU as one nn.gru_stack, the RNN as
one nn.rnn_stack; cells of layer l+1 overlap those of layer l on the thread
pool) and, in the training step (`nncc bench --train`: forward,
sum-of-squares loss, backward, SGD), its gradients as one nn.lstm_stack_grad
(nn.gru_stack_grad, nn.rnn_stack_grad; reverse diagonals); `--schedule
sequential` runs the four nn.lstm (and nn.lstm_grad) kernels one after the
other, each using every thread inside its steps. The two alternate for
--rounds rounds; the median over rounds of each run's median is kept. Next
to them: the arithmetic rate each reaches (the LSTM's multiply-adds x 2 per
ms), and the machine's FMA peak (nncc-kernel-bench's BM_PeakFma, each round),
which bounds what any schedule could gain. With --out, the
"Wavefront scheduling" section of that Markdown file is replaced (or added).
"""
import json
import os
import re
import statistics
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_common import machine, parser, replace_section, run  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

EXPORT = r"""
import sys, onnx, torch
torch.manual_seed(0)
kind, H = sys.argv[2], int(sys.argv[3])
class M(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.rnn = getattr(torch.nn, kind.rstrip("0"))(H, H, 4)
    def forward(self, x):
        return self.rnn(x)[0]
torch.onnx.export(M().eval(), (torch.randn(100, 8, H),), sys.argv[1], opset_version=14,
                  input_names=["input"], output_names=["output"])
if kind == "GRU0":  # ONNX's default GRU cell: linear_before_reset = 0
    model = onnx.load(sys.argv[1])
    for node in model.graph.node:
        for attr in node.attribute:
            if node.op_type == "GRU" and attr.name == "linear_before_reset":
                attr.i = 0
    onnx.save(model, sys.argv[1])
if kind in ("LSTM0", "RNN0"):  # ONNX's clip on every layer (3: it binds on the largest pre-activations)
    model = onnx.load(sys.argv[1])
    for node in model.graph.node:
        if node.op_type in ("LSTM", "RNN"):
            node.attribute.append(onnx.helper.make_attribute("clip", 3.0))
    onnx.save(model, sys.argv[1])
"""




def medians(bench, name, repetitions):
    """The median aggregate of each case of nncc-kernel-bench's benchmark
    `name` (a list of Google Benchmark's JSON records), or [] without it."""
    if not os.path.exists(bench):
        return []
    out = run([bench, "--benchmark_filter=" + name, "--benchmark_format=json",
               "--benchmark_repetitions=%d" % repetitions, "--benchmark_report_aggregates_only=true"])
    return [b for b in json.loads(out)["benchmarks"] if b.get("aggregate_name") == "median"]


def step_products(bench):
    """Microseconds of one step's recurrent product (BM_RecurrentStep):
    {(threads, independent): us}, or {} without the kernel benchmarks."""
    result = {}
    for b in medians(bench, "BM_RecurrentStep", 5):
        m = re.search(r"threads:(\d+)/independent:(\d+)", b["name"])
        if m:
            result[(int(m.group(1)), int(m.group(2)))] = b["real_time"]
    return result


def peak_fma(bench):
    """GFLOP/s of register-only FMAs (BM_PeakFma) on {1, 2} threads, or {}."""
    result = {}
    for b in medians(bench, "BM_PeakFma", 3):
        m = re.search(r"threads:(\d+)", b["name"])
        if m:
            result[int(m.group(1))] = b["GFLOP/s"] / 1e9
    return result


def main():
    p = parser(__doc__, "wavefront")
    p.add_argument("--kernel-bench", default=os.path.join(ROOT, "build", "benchmarks", "nncc-kernel-bench"))
    a = p.parse_args()
    os.makedirs(a.work, exist_ok=True)
    # (LSTM-128 and LSTM-256: the LSTM with hidden 128 and 256)
    kinds = {"LSTM": ("LSTM", 512), "GRU": ("GRU", 512), "GRU0": ("GRU0", 512), "RNN": ("RNN", 512),
             "LSTM0": ("LSTM0", 512), "RNN0": ("RNN0", 512), "LSTM-128": ("LSTM", 128), "LSTM-256": ("LSTM", 256)}
    paths = {kind: os.path.join(a.work, kind.lower().replace("-", "_") + "4.onnx") for kind in kinds}
    for kind, path in paths.items():
        if not os.path.exists(path):
            run(["/usr/bin/python3", "-c", EXPORT, path, kinds[kind][0], str(kinds[kind][1])])
    # Multiply-adds x 2 per layer: the forward is x W^T and h R^T over all
    # steps; the backward (the forward saved the gates: store-all) is
    # dh = dA R, dW, dR and dX.
    T, B, I, H, L = 100, 8, 512, 512, 4
    unit = 2.0 * T * B * 4 * H * (I + H) * L
    # (A GRU without linear_before_reset multiplies r * h_{t-1} instead of
    # h_{t-1} by R_h: the same FLOPs.)
    # Under recompute-gates the backward also recomputes the gates (x W^T
    # and h R^T again: one forward's FLOPs more, counted).
    flops = {"forward": unit, "train": 3 * unit, "gru": unit * 3 / 4, "gru_train": 3 * unit * 3 / 4,
             "gru0": unit * 3 / 4, "gru0_train": 3 * unit * 3 / 4, "rnn": unit / 4, "rnn_train": 3 * unit / 4,
             "train_recompute": 4 * unit, "gru_train_recompute": 4 * unit * 3 / 4, "clip": unit, "clip_train": 3 * unit,
             "rnn_clip": unit / 4, "rnn_clip_train": 3 * unit / 4,
             "train_recompute_256": 4 * unit / 4, "train_recompute_128": 4 * unit / 16}
    modes = ("forward", "train", "gru", "gru_train", "gru0", "gru0_train", "rnn", "rnn_train", "train_recompute",
             "train_recompute_256", "train_recompute_128", "gru_train_recompute", "clip", "clip_train",
             "rnn_clip", "rnn_clip_train")

    def kind_of(mode):
        return "GRU0" if mode.startswith("gru0") else "GRU" if mode.startswith("gru") else \
            "RNN0" if mode.startswith("rnn_clip") else "RNN" if mode.startswith("rnn") else \
            "LSTM0" if mode.startswith("clip") else \
            "LSTM-" + mode.split("_")[-1] if mode.startswith("train_recompute_") else "LSTM"

    def extra_of(mode):
        extra = ["--train"] if "train" in mode else []
        return extra + (["--rnn-memory", "recompute-gates"] if "recompute" in mode else [])

    # Whether the wavefront schedule stacks each model's layers (the pass
    # decides: under recompute-gates an LSTM of hidden 512 keeps its layers).
    stacked = {}
    for mode in modes:
        out = run([a.nncc, "bench", paths[kind_of(mode)], "--threads", str(a.threads), "--runs", "1",
                   "--warmup", "0", "--profile"] + extra_of(mode))
        stacked[mode] = "_stack" in out
    times = {(mode, sch): [] for mode in modes for sch in ("wavefront", "sequential")}
    arena = {}
    peaks, peaks1 = [], []  # the machine's FMA peak on --threads threads and on 1, once per round
    for _ in range(a.rounds):
        peak = peak_fma(a.kernel_bench)
        if a.threads in peak and 1 in peak:
            peaks.append(peak[a.threads])
            peaks1.append(peak[1])
        for mode, schedule in times:
            extra = ["--runs", str(max(5, a.runs // 2)), "--warmup", "2"] if "train" in mode \
                else ["--runs", str(a.runs)]
            out = run([a.nncc, "bench", paths[kind_of(mode)], "--schedule", schedule, "--threads",
                       str(a.threads)] + extra + extra_of(mode))
            m = re.search(r"median_ms=([0-9.]+) min_ms=[0-9.]+ peak_arena_bytes=([0-9]+)", out)
            times[(mode, schedule)].append(float(m.group(1)))
            arena[(mode, schedule)] = int(m.group(2))
    med = {k: statistics.median(v) for k, v in times.items()}
    steps = step_products(a.kernel_bench)
    best = max(flops[mode] / ms / 1e6 for (mode, _), ms in med.items() if mode in ("forward", "train"))
    rows = []
    for mode in modes:
        w, s = med[(mode, "wavefront")], med[(mode, "sequential")]
        print("%s: wavefront %.2f ms, sequential %.2f ms, speedup %.2fx" % (mode, w, s, s / w))
        cell = mode[:3] if mode[:3] in ("gru", "rnn") else "lstm"
        train = "train" in mode
        layers = "4 nn.%s%s kernels, threads inside each step" % (cell, " + 4 nn.%s_grad" % cell if train else "")
        stack = "nn.%s_stack%s, cells of 8 steps along diagonals" % (
            cell, " + nn.%s_stack_grad (reverse diagonals)" % cell if train else "")
        for schedule, what in (("sequential", layers),
                               ("wavefront", stack if stacked[mode] else "not stacked: " + layers)):
            ms = med[(mode, schedule)]
            rows.append("| %s | %s (%s) | %.1f | %.0f | %d |" % (
                {"forward": "forward", "train": "training step", "gru": "GRU forward",
                 "gru_train": "GRU training step", "gru0": "GRU (ONNX default cell) forward",
                 "gru0_train": "GRU (ONNX default cell) training step", "rnn": "RNN forward",
                 "rnn_train": "RNN training step", "train_recompute": "training step, `--rnn-memory recompute-gates`",
                 "gru_train_recompute": "GRU training step, `--rnn-memory recompute-gates`",
                 "train_recompute_256": "training step, `--rnn-memory recompute-gates`, hidden 256",
                 "train_recompute_128": "training step, `--rnn-memory recompute-gates`, hidden 128",
                 "clip": "forward, ONNX's clip = 3", "clip_train": "training step, ONNX's clip = 3",
                 "rnn_clip": "RNN forward, ONNX's clip = 3",
                 "rnn_clip_train": "RNN training step, ONNX's clip = 3"}[mode],
                schedule, what, ms,
                flops[mode] / ms / 1e6, arena[(mode, schedule)] // 1024))
        rows.append("| | **speedup of the wavefront** | **%.2fx** | | |" % (s / w))
    lines = [
        "## Wavefront scheduling", "",
        "%s, %d threads. `benchmarks/wavefront.py`: a 4-layer LSTM (input and hidden 512, "
        "batch 8, 100 steps) and the same GRU (PyTorch's, linear_before_reset; and with ONNX's default cell, "
        "linear_before_reset = 0, whose h gate multiplies r * h_{t-1} by R_h: a second product per step) "
        "and simple RNN (tanh), and the LSTM and the RNN with ONNX's clip attribute (3) on every layer, whose "
        "rows clamp the pre-activations (the clipped RNN stack's forward also saves them for its backward); median ms (median over %d alternating rounds). The training step is forward, "
        "sum-of-squares loss, backward and SGD (`nncc bench --train`)." % (machine(), a.threads, a.rounds), "",
        "| pass | schedule | ms | GFLOP/s | arena (KiB) |", "|---|---|---:|---:|---:|"] + rows + [""]
    text = (
        "The goal is 1.6x for both (2.0x is the limit on 2 cores). GFLOP/s counts the multiply-adds: the "
        "LSTM's %.1f GFLOP forward and %.1f GFLOP per training step (the forward saves the gates (store-all), "
        "and the backward is dh = dA R, dW, dR and dX), the GRU's 3/4 of the LSTM's, the RNN's 1/4. The "
        "layer-by-layer schedule already keeps both threads busy inside each step, so there is no idle time for the wavefront to fill: it gains only what "
        "single-threaded cells run faster than products split across threads. The GRU with ONNX's default cell "
        "has two dependent products per step (h R_zr^T, then (r * h) R_h^T), each split across the threads "
        "with a wait between them layer by layer, which makes its layers slower than the linear_before_reset "
        "GRU's for the same FLOPs; its stack runs both unsplit in each cell. Under `--rnn-memory recompute-gates` the stack's forward saves no "
        "gates (only the lower layers' outputs and each chunk's cell state) and each backward cell recomputes its "
        "chunk's gates with two GEMMs of its 64 rows and adds its chunk's weight gradients, single-threaded beside "
        "the other layers' cells, one of which (the bottom layer's) computes no dX; layer by layer, each layer's "
        "backward starts each segment of 256 rows from the cell state its forward saved there and recomputes the "
        "segment's gates with GEMMs on both threads. Both recompute the same FLOPs. For the LSTM of hidden 512 the "
        "layers are the faster, so the pass keeps them (the \"not stacked\" rows; `stackRecomputes` in "
        "passes/StackRecurrent.cpp); at hidden 256 and 128, where a step's product split across two threads "
        "loses more, the stack is the faster and the pass stacks them." % (
            flops["forward"] / 1e9, flops["train"] / 1e9))
    if len(steps) == 3:
        one, split, both = steps[(1, 0)], steps[(2, 0)], steps[(2, 1)]
        text += (
            " The work that cannot be hoisted into GEMMs over many steps is one [8, 512] x [512, 2048] product "
            "per layer and step, forward (h R^T) and backward (dA R), each streaming its layer's 4 MB R "
            "(`nncc-kernel-bench --benchmark_filter=RecurrentStep`, median of 5): %.1f us on one thread, %.1f us "
            "split over two threads (layer by layer), %.1f us for two such products of different layers at "
            "once, one per thread (the wavefront): the wavefront does two steps' products in %.2fx the time "
            "layer-by-layer execution takes for one, so on these products it can gain at most %.2fx." % (
                one, split, both, both / split, 2 * split / both))
    if peaks:
        # No schedule computes faster than the FMA units can: the most any
        # schedule could gain over layer by layer is peak / its rate.
        peak = statistics.median(peaks)
        rate = {mode: flops[mode] / med[(mode, "sequential")] / 1e6 for mode in ("forward", "train")}
        best_share, best_what = best / peak, "the faster schedule's forward or training step"
        if (1, 0) in steps:
            one = 2e-3 * 8 * 2048 * 512 / steps[(1, 0)]  # GFLOP/s of one thread's step product
            peak1 = statistics.median(peaks1)
            if one / peak1 > best_share:
                best_share, best_what = one / peak1, "one step's product on one thread, %.0f of %.0f GFLOP/s" % (
                    one, peak1)
        text += (
            " **The bound.** Fused multiply-adds in registers, with no memory traffic at all, run at %.0f "
            "GFLOP/s on %d threads of this machine (`nncc-kernel-bench --benchmark_filter=PeakFma`, median "
            "over the rounds: %s); no schedule of this work can run faster. Layer by layer already reaches "
            "%.0f%% of that peak in the forward and %.0f%% in the training step, so no schedule could be more "
            "than %.2fx (forward) or %.2fx (training step) faster than it. The 1.6x goal would need the "
            "wavefront to run at %.0f%% and %.0f%% of the peak; the best rate measured here is %.0f%% (%s)." % (
                peak, a.threads, ", ".join("%.0f" % p for p in peaks),
                100 * rate["forward"] / peak, 100 * rate["train"] / peak,
                peak / rate["forward"], peak / rate["train"],
                160 * rate["forward"] / peak, 160 * rate["train"] / peak, 100 * best_share, best_what))
        if len(steps) == 3:
            # Tighter: the step products (h R^T forward, dA R backward) stream
            # a layer's R each; they run at most at the better rate two threads
            # reach on them (split or side by side), everything else at most
            # at the peak.
            product = 2.0 * B * 4 * H * H
            step_rate = max(1e-3 * product / steps[(2, 0)], 2e-3 * product / steps[(2, 1)])
            recurrent = {"forward": product * T * L, "train": 2 * product * T * L}
            least = {mode: 1e3 * (recurrent[mode] / (step_rate * 1e9) + (flops[mode] - recurrent[mode]) / (peak * 1e9))
                     for mode in recurrent}
            text += (
                " Tighter: the step products (%.1f GFLOP of the forward, %.1f of the training step) each stream "
                "a 4 MB R and reach at most %.0f GFLOP/s on %d threads however they are scheduled (the better "
                "of split and side by side above). With them at that rate and every other FLOP at the FMA peak, "
                "a forward would take at least %.1f ms and a training step %.1f ms: at most %.2fx and %.2fx "
                "faster than layer by layer." % (
                    recurrent["forward"] / 1e9, recurrent["train"] / 1e9, step_rate, a.threads,
                    least["forward"], least["train"], med[("forward", "sequential")] / least["forward"],
                    med[("train", "sequential")] / least["train"]))
        print("peak %.0f GFLOP/s; sequential at %.0f%% (forward), %.0f%% (train) of it" % (
            peak, 100 * rate["forward"] / peak, 100 * rate["train"] / peak))
    section = "\n".join(lines + [text, ""])
    if a.out:
        replace_section(a.out, "Wavefront scheduling", section)


if __name__ == "__main__":
    main()
