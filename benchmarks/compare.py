#!/usr/bin/python3
"""nncc against ONNX Runtime and PyTorch (eager) on the shared models.

For each thread count and model, runs the three in turn for several rounds
(alternating, so that drift of the machine hits all of them alike) and keeps
the median over rounds of each run's median latency. Writes a Markdown report
(docs/benchmarks.md) with the date, the CPU, the medians and the ratios, and
prints the same table.

  benchmarks/compare.py --nncc build/tools/nncc --models build/models \\
      [--threads 1 2] [--rounds 3] [--runs 30] [--ort-dir DIR] [--out docs/benchmarks.md]
      [--kernels build/benchmarks/nncc-kernel-bench] [MODEL ...]

ONNX Runtime is onnxruntime-node 1.30 timed by ../shared/bench/ort_bench.js;
without it in --ort-dir, it is installed there from the npm registry first.
PyTorch is Debian's python3-torch, the models built by
../shared/models/export_models.py with the same seeds as the exported ones.
"""
import argparse
import datetime
import json
import os
import platform
import re
import statistics
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
SHARED = os.path.join(os.path.dirname(ROOT), "shared")
MODELS = ["mlp", "resnet18", "mobilenet_v2", "squeezenet1_1", "transformer_enc", "lstm_lm", "gru_2layer"]
ORT_VERSION = "1.30.0"

# Times the PyTorch model in a fresh process: torch.set_num_threads must come
# before any parallel work, and each thread count gets its own interpreter.
TORCH_TIMER = r"""
import sys, time, statistics, torch
sys.path.insert(0, sys.argv[1])
import export_models as em
name, threads, runs = sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
torch.set_num_threads(threads)
torch.manual_seed(0)
make_model, make_input = em.MODELS[name]
model = make_model().eval()
x = make_input()
times = []
with torch.inference_mode():
    for _ in range(5):
        model(x)
    for _ in range(runs):
        t0 = time.perf_counter()
        model(x)
        times.append((time.perf_counter() - t0) * 1e3)
print("%.4f %.4f" % (statistics.median(times), min(times)))
"""


def log(msg):
    print(msg, file=sys.stderr, flush=True)


def run(cmd, env=None):
    r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    if r.returncode != 0:
        raise RuntimeError("%s failed (exit %d):\n%s%s" % (" ".join(cmd), r.returncode, r.stdout, r.stderr))
    return r.stdout


def ensure_ort(ort_dir):
    if os.path.isdir(os.path.join(ort_dir, "node_modules", "onnxruntime-node")):
        return
    log("installing onnxruntime-node@%s into %s (npm registry)" % (ORT_VERSION, ort_dir))
    os.makedirs(ort_dir, exist_ok=True)
    run(["npm", "install", "--prefix", ort_dir, "--ignore-scripts", "--no-audit", "--no-fund",
         "onnxruntime-node@" + ORT_VERSION])


def time_nncc(args, model_dir, threads):
    out = run([args.nncc, "bench", os.path.join(model_dir, "model.onnx"), "--threads", str(threads), "--runs",
               str(args.runs), "--input", os.path.join(model_dir, "test_data_set_0", "input_0.pb")])
    m = re.search(r"median_ms=([\d.]+) min_ms=([\d.]+) peak_arena_bytes=(\d+)", out.strip().splitlines()[-1])
    c = re.search(r"compiled .* in (\d+) ms", out)
    if not m:
        raise RuntimeError("unexpected `nncc bench` output:\n" + out)
    return float(m.group(1)), {"compile_ms": int(c.group(1)) if c else None, "arena": int(m.group(3))}


def time_ort(args, model_dir, threads):
    env = dict(os.environ, NODE_PATH=os.path.join(args.ort_dir, "node_modules"))
    out = run(["node", os.path.join(SHARED, "bench", "ort_bench.js"), model_dir, str(threads), str(args.runs)], env)
    median, _, diff = out.split()
    return float(median), {"diff": float(diff)}


def time_torch(args, name, threads):
    out = run(["/usr/bin/python3", "-c", TORCH_TIMER, os.path.join(SHARED, "models"), name, str(threads),
               str(args.runs)])
    return float(out.split()[0]), {}


def cpu_name():
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def versions():
    torch = run(["/usr/bin/python3", "-c", "import torch; print(torch.__version__)"]).strip()
    return {"onnxruntime-node": ORT_VERSION, "torch": torch}


def kernel_table(binary):
    """The microbenchmarks' GFLOP/s, as Markdown rows."""
    out = run([binary, "--benchmark_format=json", "--benchmark_min_time=0.2"])
    rows = []
    for b in json.loads(out)["benchmarks"]:
        if b.get("run_type") == "aggregate":
            continue
        gflops = b.get("GFLOP/s", b.get("counters", {}).get("GFLOP/s"))
        rows.append("| %s | %.3f | %s |" % (b["name"], b["real_time"] / 1e3 if b["time_unit"] == "us" else
                                             b["real_time"] / 1e6 if b["time_unit"] == "ns" else b["real_time"],
                                             "%.1f" % (gflops / 1e9) if gflops else "-"))
    return rows


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--nncc", default=os.path.join(ROOT, "build", "tools", "nncc"))
    p.add_argument("--models", default=os.path.join(ROOT, "build", "models"))
    p.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    p.add_argument("--rounds", type=int, default=3, help="alternating rounds per model (default 3)")
    p.add_argument("--runs", type=int, default=30, help="timed runs per measurement (default 30)")
    p.add_argument("--ort-dir", default=os.environ.get("NNCC_ORT_DIR", os.path.join(ROOT, "build", "ort")))
    p.add_argument("--no-torch", action="store_true", help="skip PyTorch")
    p.add_argument("--kernels", help="the kernel microbenchmark binary, to add its table")
    p.add_argument("--out", help="write the Markdown report here (e.g. docs/benchmarks.md)")
    p.add_argument("models_", nargs="*", metavar="MODEL", help="models (default: all seven)")
    args = p.parse_args()
    names = args.models_ or MODELS
    for n in names:
        if not os.path.exists(os.path.join(args.models, n, "model.onnx")):
            sys.exit("no %s/model.onnx in %s: build the `models` target first (ninja models)" % (n, args.models))
    ensure_ort(args.ort_dir)

    tools = [("nncc", lambda d, n, t: time_nncc(args, d, t)), ("ort", lambda d, n, t: time_ort(args, d, t))]
    if not args.no_torch:
        tools.append(("torch", lambda d, n, t: time_torch(args, n, t)))
    results = {}
    for t in args.threads:
        for n in names:
            d = os.path.join(args.models, n)
            samples = {k: [] for k, _ in tools}
            extra = {}
            for r in range(args.rounds):
                order = tools if r % 2 == 0 else list(reversed(tools))
                for k, f in order:
                    ms, info = f(d, n, t)
                    samples[k].append(ms)
                    extra.setdefault(k, info)
            res = {k: statistics.median(v) for k, v in samples.items()}
            res["compile_ms"] = extra["nncc"]["compile_ms"]
            res["arena"] = extra["nncc"]["arena"]
            results[(n, t)] = res
            log("%-16s t=%d  nncc %8.3f ms  ort %8.3f ms%s  nncc/ort %.2f" %
                (n, t, res["nncc"], res["ort"], "  torch %8.3f ms" % res["torch"] if "torch" in res else "",
                 res["nncc"] / res["ort"]))

    lines = ["# Benchmarks", "",
             "Generated by `benchmarks/compare.py` on %s: %s, %d logical cores, %s." %
             (datetime.date.today().isoformat(), cpu_name(), os.cpu_count(), platform.platform()),
             "Latency of one inference (median over %d rounds of the median of %d runs), in ms; "
             "the three alternate on each model. Ratios below 1.0 mean nncc is faster." % (args.rounds, args.runs),
             "Versions: " + ", ".join("%s %s" % kv for kv in versions().items()) + ".", ""]
    for t in args.threads:
        lines += ["## %d thread%s" % (t, "" if t == 1 else "s"), "",
                  "| model | nncc | ONNX Runtime | PyTorch | nncc / ORT | nncc / PyTorch | compile (ms) | arena (KiB) |",
                  "|---|---:|---:|---:|---:|---:|---:|---:|"]
        for n in names:
            r = results[(n, t)]
            torch = r.get("torch")
            lines.append("| %s | %.3f | %.3f | %s | %.2f | %s | %s | %d |" %
                         (n, r["nncc"], r["ort"], "%.3f" % torch if torch else "-", r["nncc"] / r["ort"],
                          "%.2f" % (r["nncc"] / torch) if torch else "-", r["compile_ms"], r["arena"] // 1024))
        lines.append("")
    if args.kernels:
        lines += ["## Kernels", "",
                  "`%s` (Google Benchmark), one thread unless the name says otherwise." %
                  os.path.relpath(args.kernels, ROOT), "",
                  "| benchmark | time (ms) | GFLOP/s |", "|---|---:|---:|"] + kernel_table(args.kernels) + [""]
    report = "\n".join(lines)
    print(report)
    if args.out:
        # Keep the section benchmarks/train_compare.py writes.
        if os.path.exists(args.out):
            old = open(args.out).read()
            at = old.find("## Training step")
            if at >= 0:
                report = report.rstrip("\n") + "\n\n" + old[at:]
        tmp = args.out + ".tmp"
        with open(tmp, "w") as f:
            f.write(report)
        os.replace(tmp, args.out)
        log("wrote " + args.out)


if __name__ == "__main__":
    main()
