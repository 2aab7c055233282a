"""What the benchmark scripts of benchmarks/ share: running a command,
naming the machine, replacing one section of docs/benchmarks.md, and timing
nncc's two schedules against PyTorch."""
import argparse
import datetime
import os
import re
import statistics
import subprocess


def run(cmd, env=None):
    """stdout of cmd; raises with its output when it fails."""
    r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    if r.returncode != 0:
        raise RuntimeError("%s failed (exit %d):\n%s%s" % (" ".join(cmd), r.returncode, r.stdout, r.stderr))
    return r.stdout


def cpu_model():
    if os.path.exists("/proc/cpuinfo"):
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return "unknown CPU"


def machine():
    """'YYYY-MM-DD, <CPU>, N cores': when and where a table was measured."""
    return "%s, %s, %d cores" % (datetime.date.today().isoformat(), cpu_model(), os.cpu_count())


def replace_section(path, title, section):
    """Replaces the `## title` section of the Markdown file (or appends it)."""
    text = open(path).read() if os.path.exists(path) else "# Benchmarks\n"
    heading = "## " + title
    if heading + "\n" in text:
        text = re.sub(re.escape(heading) + r"\n.*?(?=\n## |\Z)", lambda _: section.rstrip("\n") + "\n", text,
                      flags=re.S)
    else:
        text = text.rstrip("\n") + "\n\n" + section
    with open(path, "w") as f:
        f.write(text)
    print("wrote " + path)


def parser(doc, work, runs=20):
    """The options the timing scripts share: --nncc, --threads, --rounds
    (alternating rounds), --runs (per nncc bench), --work (models, under
    build/ by default) and --out (the Markdown file to update)."""
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    p = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--nncc", default=os.path.join(root, "build", "tools", "nncc"))
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--runs", type=int, default=runs)
    p.add_argument("--work", default=os.path.join(root, "build", work))
    p.add_argument("--out")
    return p


WHO = ("wavefront", "sequential", "pytorch")

# The end of a PyTorch timer script (against_pytorch's `torch_timer`): it
# defines `step()` and reads `runs`; this times 3 warm-up and `runs` steps
# and prints the median ms.
TORCH_TIMING = r"""
import statistics, time
times = []
for k in range(3 + runs):
    t0 = time.perf_counter()
    step()
    if k >= 3:
        times.append((time.perf_counter() - t0) * 1e3)
print("%.4f" % statistics.median(times))
"""


def against_pytorch(a, kinds, models, torch_timer, inputs=None):
    """Times each kind's forward and training step (sum-of-squares loss,
    backward, SGD at 1e-4) as nncc runs it, one stack (`--schedule
    wavefront`) and layer by layer (`--schedule sequential`), and as the
    script `torch_timer` does in PyTorch (run with kind, mode, threads and
    runs; it prints its median ms), alternating for a.rounds rounds.
    `models` and `inputs` (extra `nncc bench` arguments) are by kind. Returns
    the median over rounds of each run's median ms and nncc's peak arena
    bytes, both by (kind, mode, who)."""
    train_runs = str(max(5, a.runs // 2))
    cases = [(kind, mode, who) for kind in kinds for mode in ("forward", "train") for who in WHO]
    times = {c: [] for c in cases}
    arena = {}
    for _ in range(a.rounds):
        for kind, mode, who in cases:
            if who == "pytorch":
                out = run(["/usr/bin/python3", "-c", torch_timer, kind, mode, str(a.threads),
                           train_runs if mode == "train" else str(a.runs)])
                times[(kind, mode, who)].append(float(out.split()[0]))
                continue
            extra = ["--train", "--lr", "1e-4", "--runs", train_runs, "--warmup", "2"] if mode == "train" else \
                ["--runs", str(a.runs)]
            out = run([a.nncc, "bench", models[kind], "--schedule", who, "--threads", str(a.threads)] +
                      (inputs or {}).get(kind, []) + extra)
            m = re.search(r"median_ms=([0-9.]+) min_ms=[0-9.]+ peak_arena_bytes=([0-9]+)", out)
            times[(kind, mode, who)].append(float(m.group(1)))
            arena[(kind, mode, who)] = int(m.group(2))
    return {c: statistics.median(v) for c, v in times.items()}, arena


def pytorch_rows(kinds, med, arena, passes, pytorch_label):
    """Markdown table rows of against_pytorch's results: per kind and mode
    (`passes`: its words for "forward" and "train"), each way's ms, PyTorch's
    time over it and nncc's arena in KiB."""
    torch_version = run(["/usr/bin/python3", "-c", "import torch; print(torch.__version__)"]).strip()
    rows = []
    for kind in kinds:
        for mode in ("forward", "train"):
            torch_ms = med[(kind, mode, "pytorch")]
            what = "%s %s" % (kind, passes[mode])
            for who in WHO:
                ms = med[(kind, mode, who)]
                label = {"wavefront": "nncc, one stack (wavefront)", "sequential": "nncc, layer by layer",
                         "pytorch": "PyTorch %s%s" % (torch_version, pytorch_label)}[who]
                kib = "%d" % (arena[(kind, mode, who)] // 1024) if who != "pytorch" else ""
                rows.append("| %s | %s | %.1f | %.2fx | %s |" % (what, label, ms, torch_ms / ms, kib))
                print("%s %s %s: %.2f ms (PyTorch / it: %.2fx)" % (kind, mode, who, ms, torch_ms / ms))
                what = ""
    return rows


def write_pytorch_section(a, title, intro, rows, outro):
    """Prints the section `title` (intro, pytorch_rows' table, outro) and,
    with --out, replaces it in that Markdown file."""
    section = "\n".join(["## " + title, "", intro, "",
                         "| model, pass | runs as | ms | speedup over PyTorch | arena (KiB) |",
                         "|---|---|---:|---:|---:|"] + rows + ["", outro, ""])
    print(section)
    if a.out:
        replace_section(a.out, title, section)
