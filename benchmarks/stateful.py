#!/usr/bin/env python3
"""Stateful stacked RNNs against PyTorch: streaming inference and truncated BPTT.

    /usr/bin/python3 benchmarks/stateful.py --nncc build/tools/nncc [--threads 2] [--rounds 3]
        [--runs 20] [--work build/stateful] [--out docs/benchmarks.md]

The models: a 4-layer LSTM and a 4-layer GRU (PyTorch's; input and hidden
512, batch 8) that take their initial states as inputs after x and return
their final states after y (`y, (h, c) = lstm(x, (h0, c0))`), exported from
PyTorch; a chunk of 100 steps. Streaming inference runs one chunk from given
states (`nncc bench` with the states as inputs); a truncated-BPTT training
step (`nncc bench --train`: forward from the carried states, sum-of-squares
loss of y, backward, SGD, the final states carried to the next step) is
timed next to PyTorch's loop (the same step, the states detached between
steps; `torch.set_num_threads` as --threads). nncc runs the layers as one
stack (`--schedule wavefront`, cells along diagonals) and one kernel per
layer (`--schedule sequential`). All alternate for --rounds rounds; the
median over rounds of each run's median is kept. With --out, the "Stateful
RNNs" section of that Markdown file is replaced (or added).
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_common import TORCH_TIMING, against_pytorch, machine, parser, pytorch_rows, run, write_pytorch_section  # noqa: E402

T, B, H, L = 100, 8, 512, 4

EXPORT = r"""
import os, sys, torch
from onnx import numpy_helper
torch.manual_seed(0)
kind, path, data = sys.argv[1], sys.argv[2], sys.argv[3]
T, B, H, L = %d, %d, %d, %d
rnn = getattr(torch.nn, kind)(H, H, L).eval()
lstm = kind == "LSTM"
class M(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.rnn = rnn
    def forward(self, x, *s):
        y, final = self.rnn(x, tuple(s) if lstm else s[0])
        return (y,) + (tuple(final) if lstm else (final,))
x = torch.randn(T, B, H)
states = [0.5 * torch.randn(L, B, H) for _ in range(2 if lstm else 1)]
names = ["x", "h0", "c0"][:1 + len(states)]
torch.onnx.export(M(), (x, *states), path, opset_version=14, input_names=names,
                  output_names=["y", "hn", "cn"][:1 + len(states)])
os.makedirs(data, exist_ok=True)
for k, t in enumerate([x] + states):
    with open(os.path.join(data, "input_%%d.pb" %% k), "wb") as f:
        f.write(numpy_helper.from_array(t.numpy(), name=names[k]).SerializeToString())
""" % (T, B, H, L)

# PyTorch in a fresh process (torch.set_num_threads before any parallel
# work): the forward from given states, or a truncated-BPTT step.
TORCH_TIMER = r"""
import sys, torch
kind, mode, threads, runs = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
torch.set_num_threads(threads)
torch.manual_seed(0)
T, B, H, L = %d, %d, %d, %d
rnn = getattr(torch.nn, kind)(H, H, L)
lstm = kind == "LSTM"
x = torch.randn(T, B, H)
states = [0.5 * torch.randn(L, B, H) for _ in range(2 if lstm else 1)]
def step():
    global states
    if mode == "forward":
        with torch.inference_mode():
            rnn(x, tuple(states) if lstm else states[0])
        return
    y, final = rnn(x, tuple(states) if lstm else states[0])
    loss = (y ** 2).sum()
    rnn.zero_grad()
    loss.backward()
    with torch.no_grad():
        for p in rnn.parameters():
            p -= 1e-4 * p.grad
    states = [t.detach() for t in (final if lstm else (final,))]
""" % (T, B, H, L) + TORCH_TIMING


def main():
    p = parser(__doc__, "stateful", runs=20)
    p.set_defaults(rounds=3)
    a = p.parse_args()
    os.makedirs(a.work, exist_ok=True)
    kinds = ("LSTM", "GRU")
    models, inputs = {}, {}
    for kind in kinds:
        models[kind] = os.path.join(a.work, kind.lower() + "4_states.onnx")
        data = os.path.join(a.work, kind.lower() + "_data")
        if not os.path.exists(models[kind]):
            run(["/usr/bin/python3", "-c", EXPORT, kind, models[kind], data])
        inputs[kind] = [x for k in range(3 if kind == "LSTM" else 2)
                        for x in ("--input", os.path.join(data, "input_%d.pb" % k))]
        plan = run([a.nncc, "inspect", models[kind], "--train"])
        assert "nn.%s_stack_grad" % kind.lower() in plan, "the %s's training step is not stacked" % kind
    med, arena = against_pytorch(a, kinds, models, TORCH_TIMER, inputs)
    rows = pytorch_rows(kinds, med, arena, {"forward": "forward from given states",
                                            "train": "truncated-BPTT training step"}, "")
    write_pytorch_section(
        a, "Stateful RNNs (streaming inference, truncated BPTT)",
        "%s, %d threads. `benchmarks/stateful.py`: a 4-layer LSTM and a 4-layer GRU (PyTorch's; input and hidden "
        "512, batch 8) that take their initial states as inputs and return their final states, on chunks of 100 "
        "steps. The training step is truncated BPTT: forward from the carried states, sum-of-squares loss of y, "
        "backward and SGD, the final states carried to the next step (`nncc bench --train`; PyTorch's loop "
        "detaches them). Median ms (median over %d alternating rounds); the speedup is PyTorch's time over each "
        "one's; the arena is nncc's planned intermediates." % (machine(), a.threads, a.rounds),
        rows,
        "The stack takes the layers' initial states and writes their final states itself (PyTorch's per-layer "
        "slices of h0 and concatenation of the final states fold away), so stateful models run and train as one "
        "wavefront like stateless ones. PyTorch here is Debian's build (`BLAS_INFO=generic`: its GEMMs go to the "
        "system BLAS, OpenBLAS on this machine), not an MKL build: the ratios compare against what `apt install python3-torch` gives.")

if __name__ == "__main__":
    main()
