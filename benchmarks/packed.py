#!/usr/bin/env python3
"""Stacked RNNs over padded batches (sequence lengths) against PyTorch.

    /usr/bin/python3 benchmarks/packed.py --nncc build/tools/nncc [--threads 2] [--rounds 3]
        [--runs 20] [--work build/packed] [--out docs/benchmarks.md]

The models: a 4-layer LSTM and a 4-layer GRU (PyTorch's; input and hidden
512, batch 8, 100 steps) over a padded batch whose rows have 100, 93, 85,
77, 64, 52, 40 and 28 steps, packed with PyTorch's `pack_padded_sequence`
(unsorted) and padded back, exported from PyTorch: every ONNX LSTM (GRU)
node has the lengths as `sequence_lens`. nncc runs the layers as one stack
(`--schedule wavefront`: cells along diagonals, each row its own steps) and
one kernel per layer (`--schedule sequential`); PyTorch runs the packed
sequence (its kernels shrink the batch as rows end). The forward and a
training step (sum-of-squares loss of y, backward, SGD; `nncc bench
--train`) alternate for --rounds rounds; the median over rounds of each
run's median is kept. Then the order of the rows: the same 4-layer LSTM
built with its lengths as an input, given longest first, in the order
28, 100, 52, 77, 40, 93, 64, 85 (unsorted: as a server batches requests)
and with every row full, forward and training step, nncc only. With --out,
the "Padded batches" section of that Markdown file is replaced (or added).
"""
import os
import re
import statistics
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_common import TORCH_TIMING, against_pytorch, machine, parser, pytorch_rows, run, write_pytorch_section  # noqa: E402

T, B, H, L = 100, 8, 512, 4
LENGTHS = [100, 93, 85, 77, 64, 52, 40, 28]
ORDERS = {"longest first": LENGTHS, "unsorted": [28, 100, 52, 77, 40, 93, 64, 85], "every row full": [T] * B}

# The LSTM with its lengths as an input (for the order of the rows): the
# model, x and each order's lengths as tensor files.
BY_ORDER = r"""
import os, sys
import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper
T, B, H, L = %d, %d, %d, %d
orders = %r
work = sys.argv[1]
rng = np.random.default_rng(0)
nodes, inits, x = [], [], "x"
for l in range(L):
    s = 1 / np.sqrt(H)
    for name, shape in (("W", (1, 4 * H, H)), ("R", (1, 4 * H, H)), ("B", (1, 8 * H))):
        inits.append(numpy_helper.from_array(rng.uniform(-s, s, shape).astype(np.float32), "%%s%%d" %% (name, l)))
    nodes.append(helper.make_node("LSTM", [x, "W%%d" %% l, "R%%d" %% l, "B%%d" %% l, "lengths"], ["y%%d" %% l],
                                  hidden_size=H))
    nodes.append(helper.make_node("Squeeze", ["y%%d" %% l, "axis"], ["h%%d" %% l]))
    x = "h%%d" %% l
inits.append(numpy_helper.from_array(np.array([1], np.int64), "axis"))
graph = helper.make_graph(nodes, "lstm4_lengths", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [T, B, H]),
                          helper.make_tensor_value_info("lengths", TensorProto.INT32, [B])],
                          [helper.make_tensor_value_info(x, TensorProto.FLOAT, [T, B, H])], inits)
onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 14)]), os.path.join(work, "lstm4_lengths.onnx"))
def save(a, name):
    with open(os.path.join(work, name), "wb") as f:
        f.write(numpy_helper.from_array(a).SerializeToString())
save(rng.standard_normal((T, B, H)).astype(np.float32), "x.pb")
for k, (order, lengths) in enumerate(orders):
    save(np.array(lengths, np.int32), "lengths%%d.pb" %% k)
"""

MODEL = r"""
import torch
T, B, H, L = %d, %d, %d, %d
lengths = torch.tensor(%r)
class Packed(torch.nn.Module):
    def __init__(self, kind):
        super().__init__()
        self.rnn = getattr(torch.nn, kind)(H, H, L)
    def forward(self, x):
        packed = torch.nn.utils.rnn.pack_padded_sequence(x, lengths, enforce_sorted=False)
        y = self.rnn(packed)[0]
        return torch.nn.utils.rnn.pad_packed_sequence(y, total_length=x.shape[0])[0]
""" % (T, B, H, L, LENGTHS)

EXPORT = MODEL + r"""
import sys, warnings
torch.manual_seed(0)
m = Packed(sys.argv[1]).eval()
with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    torch.onnx.export(m, (torch.randn(T, B, H),), sys.argv[2], opset_version=14, input_names=["x"],
                      output_names=["y"])
"""

# PyTorch in a fresh process (torch.set_num_threads before any parallel
# work): the forward, or a training step.
TORCH_TIMER = MODEL + r"""
import sys
kind, mode, threads, runs = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
torch.set_num_threads(threads)
torch.manual_seed(0)
m = Packed(kind)
x = torch.randn(T, B, H)
def step():
    if mode == "forward":
        with torch.inference_mode():
            m(x)
        return
    loss = (m(x) ** 2).sum()
    m.zero_grad()
    loss.backward()
    with torch.no_grad():
        for p in m.parameters():
            p -= 1e-4 * p.grad
""" + TORCH_TIMING


def main():
    p = parser(__doc__, "packed", runs=20)
    p.set_defaults(rounds=3)
    a = p.parse_args()
    os.makedirs(a.work, exist_ok=True)
    kinds = ("LSTM", "GRU")
    models = {}
    for kind in kinds:
        models[kind] = os.path.join(a.work, kind.lower() + "4_packed.onnx")
        if not os.path.exists(models[kind]):
            run(["/usr/bin/python3", "-c", EXPORT, kind, models[kind]])
        plan = run([a.nncc, "inspect", models[kind], "--train"])
        assert "nn.%s_stack_grad" % kind.lower() in plan, "the %s's training step is not stacked" % kind
    med, arena = against_pytorch(a, kinds, models, TORCH_TIMER)
    rows = pytorch_rows(kinds, med, arena, {"forward": "forward", "train": "training step"}, ", packed sequence")
    order_rows = by_order(a)
    write_pytorch_section(
        a, "Padded batches",
        "%s, %d threads. `benchmarks/packed.py`: a 4-layer LSTM and a 4-layer GRU (PyTorch's; input and hidden "
        "512, batch 8, 100 steps) over a padded batch whose rows have %s steps (%.0f%% of the padded steps), "
        "packed with `pack_padded_sequence` and exported with the lengths as every layer's `sequence_lens`. The "
        "training step is sum-of-squares loss of y, backward and SGD (`nncc bench --train`). Median ms (median "
        "over %d alternating rounds); the speedup is PyTorch's time over each one's; the arena is nncc's planned "
        "intermediates." % (machine(), a.threads, ", ".join(map(str, LENGTHS)),
                            100.0 * sum(LENGTHS) / (T * B), a.rounds),
        rows,
        "Like PyTorch's packed kernels, nncc's shrink the batch as rows end: every product (a step's h_{t-1} "
        "R^T and dA R, each chunk's input projection and, in the backward, dX, the weight gradients and "
        "recomputed gates) takes only the rows within their lengths, in any order of the lengths (the rows "
        "exported here are sorted longest first); a row past its length keeps its state and contributes "
        "nothing. PyTorch here is Debian's build (`BLAS_INFO=generic`, OpenBLAS), as in the "
        "sections above.\n\n"
        "The order of the rows (nncc only; PyTorch's `pack_padded_sequence` sorts them): the same 4-layer LSTM "
        "built with its lengths as an input (random weights), median ms (median over %d alternating rounds). "
        "Unsorted, a step's rows that run are not the first ones: its products gather them.\n\n"
        "| lengths | pass | one stack (wavefront) | layer by layer |\n|---|---|---:|---:|\n%s"
        % (max(a.rounds, 5), "\n".join(order_rows)))


def by_order(a):
    """The LSTM with its lengths as an input, each order of ORDERS, forward
    and training step, one stack and layer by layer (alternating rounds):
    Markdown rows."""
    run(["/usr/bin/python3", "-c", BY_ORDER % (T, B, H, L, list(ORDERS.items())), a.work])
    model = os.path.join(a.work, "lstm4_lengths.onnx")
    train_runs = str(max(5, a.runs // 2))
    times = {}
    rounds = max(a.rounds, 5)  # (cheap next to PyTorch's; the differences are small)
    for _ in range(rounds):
        for k, order in enumerate(ORDERS):
            for mode in ("forward", "train"):
                for who in ("wavefront", "sequential"):
                    extra = ["--train", "--lr", "1e-4", "--runs", train_runs, "--warmup", "2"] \
                        if mode == "train" else ["--runs", str(a.runs)]
                    out = run([a.nncc, "bench", model, "--schedule", who, "--threads", str(a.threads), "--input",
                               os.path.join(a.work, "x.pb"), "--input",
                               os.path.join(a.work, "lengths%d.pb" % k)] + extra)
                    ms = float(re.search(r"median_ms=([0-9.]+)", out).group(1))
                    times.setdefault((order, mode, who), []).append(ms)
    rows = []
    for order, lengths in ORDERS.items():
        for mode in ("forward", "train"):
            ms = [statistics.median(times[(order, mode, who)]) for who in ("wavefront", "sequential")]
            print("lengths %s, %s: %.1f / %.1f ms" % (order, mode, ms[0], ms[1]))
            rows.append("| %s (%s) | %s | %.1f | %.1f |" % (order, ", ".join(map(str, lengths)) if len(set(lengths)) > 1
                                                          else "all %d" % lengths[0],
                                                          "forward" if mode == "forward" else "training step",
                                                          ms[0], ms[1]))
    return rows

if __name__ == "__main__":
    main()
