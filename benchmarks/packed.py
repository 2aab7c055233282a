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
run's median is kept. With --out, the "Padded batches" section of that
Markdown file is replaced (or added).
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_common import TORCH_TIMING, against_pytorch, machine, parser, pytorch_rows, run, write_pytorch_section  # noqa: E402

T, B, H, L = 100, 8, 512, 4
LENGTHS = [100, 93, 85, 77, 64, 52, 40, 28]

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
        "Like PyTorch's packed kernels, nncc's shrink the batch as rows end: a step's products take only the "
        "rows up to the last one still running (the rows are sorted longest first), and each chunk's input "
        "projection and, in the backward, dX, the weight gradients and recomputed gates only the rows within "
        "their lengths (in any order of the lengths); a row past its length keeps its state and contributes "
        "nothing. PyTorch here is Debian's build (`BLAS_INFO=generic`, OpenBLAS), as in the "
        "sections above.")

if __name__ == "__main__":
    main()
