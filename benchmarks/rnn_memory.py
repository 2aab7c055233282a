#!/usr/bin/env python3
"""Training-step memory and time of a long LSTM (or GRU), per --rnn-memory policy, next to PyTorch.

    /usr/bin/python3 benchmarks/rnn_memory.py --nncc build/tools/nncc [--steps 100 400 1600]
        [--cell lstm|gru] [--threads 2] [--runs 5] [--rounds 5] [--work build/rnn_memory]
        [--out docs/benchmarks.md]

The model is a 1-layer LSTM (--cell gru: GRU), input and hidden 512, batch
16, exported from PyTorch for each sequence length T. One step = forward, the sum of squares
of the output sequence as the loss, backward, SGD (`nncc bench --train`;
PyTorch: zero_grad, forward, loss.backward(), optimizer.step(), eager).

nncc's peak_arena_bytes counts the intermediate buffers only (activations,
gradients, kernel scratch), not weights, graph inputs or outputs. The
output sequence y is T-sized by the model's definition (T * 16 * 512 * 4
bytes), and so is its gradient, which under checkpoint takes y's buffer
(the LSTM's backward does not read y; a GRU's always does). Process peak RSS is measured for both (the
maximum resident set of a fresh process that runs the steps). With --out,
the "Recurrent memory policies" section (GRU: "Recurrent memory policies,
GRU") of that Markdown file is replaced (or added).
"""
import os
import re
import statistics
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_common import machine, parser, replace_section, run  # noqa: E402

POLICIES = ["store-all", "recompute-gates", "checkpoint", "budget=64M", "budget=128M", "budget=256M"]

EXPORT = r"""
import sys, torch
T, path, cell = int(sys.argv[1]), sys.argv[2], sys.argv[3]
torch.manual_seed(0)
class RNN1(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.rnn = getattr(torch.nn, cell)(512, 512)
    def forward(self, x):
        return self.rnn(x)[0]
torch.onnx.export(RNN1().eval(), (torch.randn(T, 16, 512),), path, opset_version=14,
                  input_names=["input"], output_names=["output"])
"""

TORCH_STEP = r"""
import resource, sys, time, statistics, torch
T, threads, runs, cell = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
torch.set_num_threads(threads)
torch.manual_seed(0)
rnn = getattr(torch.nn, cell)(512, 512)
x = torch.randn(T, 16, 512)
opt = torch.optim.SGD(rnn.parameters(), lr=1e-6)
def step():
    opt.zero_grad(set_to_none=True)
    loss = (rnn(x)[0] ** 2).sum()
    loss.backward()
    opt.step()
step()
times = []
for _ in range(runs):
    t0 = time.perf_counter(); step(); times.append((time.perf_counter() - t0) * 1000)
print("%.3f %d" % (statistics.median(times), resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024))
"""

# Runs a command and prints its peak RSS (bytes) after its output.
RSS = r"""
import resource, subprocess, sys
r = subprocess.run(sys.argv[1:], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
sys.stdout.write(r.stdout)
print("peak_rss_bytes=%d" % (resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024))
sys.exit(r.returncode)
"""



def mb(n):
    return "%.0f" % (n / 1e6)


def saved_gates(nncc, model, policy, steps):
    """Which gates the training step's forward saves under `policy`, in
    words (nncc inspect --train shows the forward as nn.lstm_with_gates,
    nn.lstm_saving or nn.gru_with_gates, whose last result is [1, K, 16,
    2048]: the rows of the last K steps, all when K = T)."""
    out = run([nncc, "inspect", "--train", model, "--rnn-memory", policy])
    m = re.search(r"\(nn\.(?:lstm_with_gates|lstm_saving|gru_with_gates)\)(?:\n\s+.*)*?"
                  r"\n\s+-> %\d+ float32\[1, (\d+), 16, 2048\]", out)
    if not m:
        return "recomputes them"
    if int(m.group(1)) == steps:
        return "saves them"
    return "saves those of the last %s of the %d steps" % (m.group(1), steps)


def main():
    p = parser(__doc__, "rnn_memory", runs=5)
    p.add_argument("--steps", type=int, nargs="+", default=[100, 400, 1600])
    p.add_argument("--cell", choices=["lstm", "gru"], default="lstm")
    a = p.parse_args()
    cell = a.cell.upper()
    os.makedirs(a.work, exist_ok=True)
    rows, checks = [], []
    for T in a.steps:
        model = os.path.join(a.work, "%s1_T%d.onnx" % (a.cell, T))
        if not os.path.exists(model):
            run(["/usr/bin/python3", "-c", EXPORT, str(T), model, cell])
        # The policies alternate for --rounds rounds (this machine's speed
        # drifts over minutes); each keeps the median of its rounds' medians.
        times, results = {policy: [] for policy in POLICIES}, {}
        for _ in range(a.rounds):
            for policy in POLICIES:
                out = run([sys.executable, "-c", RSS, a.nncc, "bench", "--train", model, "--lr", "1e-6",
                           "--threads", str(a.threads), "--runs", str(a.runs), "--warmup", "1", "--rnn-memory",
                           policy])
                m = re.search(r"median_ms=([0-9.]+) min_ms=[0-9.]+ peak_arena_bytes=([0-9]+)", out)
                rss = int(re.search(r"peak_rss_bytes=([0-9]+)", out).group(1))
                times[policy].append(float(m.group(1)))
                results[policy] = (statistics.median(times[policy]), int(m.group(2)), rss)
                print("T=%-5d %-16s %9.1f ms  arena %6s MB  rss %6s MB" % (T, policy, times[policy][-1],
                                                                              mb(results[policy][1]), mb(rss)))
        tms, trss = run(["/usr/bin/python3", "-c", TORCH_STEP, str(T), str(a.threads), str(a.runs),
                         cell]).split()
        print("T=%-5d %-16s %9.1f ms  rss %6s MB" % (T, "pytorch", float(tms), mb(int(trss))))
        base_ms, base_arena, _ = results["store-all"]
        seq_bytes = T * 16 * 512 * 4  # y: T-sized by the model's definition (dY may share its buffer)
        for policy in POLICIES:
            ms, arena, rss = results[policy]
            rest = arena - seq_bytes
            rows.append("| %d | %s | %.1f | %.2f | %s | %.0f%% | %s | %.0f%% | %s |" % (
                T, policy, ms, ms / base_ms, mb(arena), 100.0 * (1 - arena / base_arena), mb(rest),
                100.0 * (1 - rest / (base_arena - seq_bytes)), mb(rss)))
        rows.append("| %d | PyTorch (eager) | %.1f | %.2f | - | - | - | - | %s |" % (
            T, float(tms), float(tms) / base_ms, mb(int(trss))))
        saved = T * 16 * 4 * 512 * 4  # the gate pre-activations (a GRU's three and r * h_{t-1})
        checks.append("At T=%d the gates take %s MB: %s." % (T, mb(saved), "; ".join(
            "`%s` %s" % (p, saved_gates(a.nncc, model, p, T))
            for p in POLICIES if p.startswith("budget="))))
        if T == max(a.steps) and a.cell == "lstm":
            ms, arena, _ = results["checkpoint"]
            checks.append("At T=%d, `checkpoint` needs %.0f%% less arena than `store-all` (goal: at least 80%%), "
                          "%.0f%% less beyond the T-sized y, at %.2fx its step time (goal: at most 1.35x)." % (
                              T, 100.0 * (1 - arena / base_arena),
                              100.0 * (1 - (arena - seq_bytes) / (base_arena - seq_bytes)), ms / base_ms))
    title = "Recurrent memory policies" + (", GRU" if a.cell == "gru" else "")
    section = "\n".join([
        "## " + title, "",
        "%s, %d threads. `benchmarks/rnn_memory.py%s`: a training step (forward, sum-of-squares "
        "loss of the output sequence, backward, SGD) of a 1-layer %s, input and hidden 512, batch 16, for "
        "each `--rnn-memory` policy and PyTorch. Time is the median of %d steps (nncc: the median over %d "
        "rounds in which the policies alternate); arena is nncc's "
        "`peak_arena_bytes` (intermediate buffers and kernel scratch; the output sequence y alone takes "
        "T x 16 x 512 x 4 bytes, and its gradient as much again unless it takes y's buffer%s); RSS is the peak "
        "resident set of the whole process (weights, inputs, the runtime and, for PyTorch, its autograd "
        "graph).%s" % (
            machine(), a.threads, " --cell gru" if a.cell == "gru" else "", cell, a.runs, a.rounds,
            ", which it does under `checkpoint`, whose backward does not read y" if a.cell == "lstm" else "",
            "" if a.cell == "lstm" else
            " A GRU's state is h, which y holds: its backward recomputes a segment's rows (the three gates' "
            "pre-activations and r * h_{t-1}, 4 x 512 wide like an LSTM's gates) from x and y alone, so no "
            "policy saves states, and `checkpoint` only recomputes in segments of ceil(sqrt(T)) steps."), "",
        "| T | policy | ms / step | vs store-all | arena (MB) | arena saved | beyond y (MB) | saved there | "
        "peak RSS (MB) |",
        "|---:|---|---:|---:|---:|---:|---:|---:|---:|"] + rows + [""] + checks + [""])
    print("\n".join(checks))
    if a.out:
        replace_section(a.out, title, section)


if __name__ == "__main__":
    main()
