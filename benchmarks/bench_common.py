"""What the benchmark scripts of benchmarks/ share: running a command,
naming the machine, and replacing one section of docs/benchmarks.md."""
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
