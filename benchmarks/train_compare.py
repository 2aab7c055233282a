#!/usr/bin/env python3
"""A training step of nncc against PyTorch (eager), same model, batch, loss and solver.

    benchmarks/train_compare.py --nncc build/tools/nncc --models build/models \
        [--threads 2] [--rounds 3] [--runs 30] [--out docs/benchmarks.md]

One step = forward, softmax cross-entropy loss, backward, SGD update
(nncc: `nncc bench --train`, one compiled graph; PyTorch: zero_grad,
forward, loss.backward(), optimizer.step()). The two alternate for several
rounds; the median over rounds of each run's median is kept. With --out,
the "Training step" section of that Markdown file is replaced (or added).

Models: mlp (batch 64) and lstm_lm (seq 35, batch 8; the loss is the mean
cross-entropy over all 280 predicted tokens).
"""
import argparse
import os
import re
import statistics
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_common import machine, replace_section, run  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SHARED = os.path.join(os.path.dirname(ROOT), "shared")

TORCH_STEP = r"""
import sys, time, statistics, torch
sys.path.insert(0, sys.argv[1])
import export_models as em
threads, runs = int(sys.argv[3]), int(sys.argv[4])
torch.set_num_threads(threads)
torch.manual_seed(0)
name = sys.argv[2]
if name == "mlp":
    model = em.MLP(); x = torch.rand(64, 784) * 2 - 1; y = torch.arange(64) * 7 % 10
else:  # lstm_lm: labels as nncc bench makes them (row-major k * 7 mod vocab)
    model = em.LSTMLM(); x = torch.randint(0, 10000, (35, 8)); y = torch.arange(35 * 8) * 7 % 10000
opt = torch.optim.SGD(model.parameters(), lr=0.01)
lossf = torch.nn.CrossEntropyLoss()
def step():
    opt.zero_grad(set_to_none=True)
    out = model(x)
    loss = lossf(out.reshape(-1, out.shape[-1]), y)
    loss.backward()
    opt.step()
for _ in range(5):
    step()
times = []
for _ in range(runs):
    t0 = time.perf_counter(); step(); times.append((time.perf_counter() - t0) * 1000)
print("%.4f %.4f" % (statistics.median(times), min(times)))
"""



def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--nncc", default=os.path.join(ROOT, "build", "tools", "nncc"))
    p.add_argument("--models", default=os.path.join(ROOT, "build", "models"))
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--runs", type=int, default=30)
    p.add_argument("--out")
    a = p.parse_args()
    rows = []
    for name in ["mlp", "lstm_lm"]:
        ours, theirs, theirsMin, oursMin, arena = [], [], [], [], 0
        for _ in range(a.rounds):
            out = run([a.nncc, "bench", "--train", os.path.join(a.models, name, "model.onnx"), "--loss",
                       "softmax_cross_entropy", "--solver", "sgd", "--lr", "0.01", "--threads", str(a.threads),
                       "--runs", str(a.runs)])
            m = re.search(r"median_ms=([0-9.]+) min_ms=([0-9.]+) peak_arena_bytes=([0-9]+)", out)
            ours.append(float(m.group(1)))
            oursMin.append(float(m.group(2)))
            arena = int(m.group(3))
            med, mn = run(["/usr/bin/python3", "-c", TORCH_STEP, os.path.join(SHARED, "models"), name,
                           str(a.threads), str(a.runs)]).split()
            theirs.append(float(med))
            theirsMin.append(float(mn))
        n, t = statistics.median(ours), statistics.median(theirs)
        nm, tm = min(oursMin), min(theirsMin)
        batch = "64" if name == "mlp" else "8 (seq 35)"
        rows.append("| %s | %s | %.3f | %.3f | %.2f | %.3f | %.3f | %d |" % (name, batch, n, t, n / t, nm, tm,
                                                                         arena // 1024))
        print("%-8s nncc %.3f ms  torch %.3f ms  ratio %.2f  (min %.3f vs %.3f)" % (name, n, t, n / t, nm, tm))
    section = "\n".join([
        "## Training step", "",
        "%s. " % machine() +
        "`benchmarks/train_compare.py`, %d threads: forward + softmax cross-entropy + backward + SGD, "
        "median ms per step (median over %d alternating rounds of %d steps). Ratios below 1.0 mean nncc is faster." %
        (a.threads, a.rounds, a.runs) + " PyTorch's step time varies widely on this 2-core machine (its autograd "
        "thread competes with the compute threads); the min columns show the best step of each.", "",
        "| model | batch | nncc | PyTorch | nncc / PyTorch | nncc min | PyTorch min | nncc arena (KiB) |",
        "|---|---:|---:|---:|---:|---:|---:|---:|"]
        + rows + [""])
    if a.out:
        replace_section(a.out, "Training step", section)


if __name__ == "__main__":
    main()
