"""What the benchmark scripts of benchmarks/ share: running a command,
naming the machine, and replacing one section of docs/benchmarks.md."""
import argparse
import datetime
import os
import re
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
