"""Helpers shared by the recurrent-layer test scripts (check_*.py)."""
import subprocess
import sys


def run(cmd):
    """Runs cmd; exits the test naming the command and its output when it fails."""
    r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if r.returncode != 0:
        sys.exit("FAILED: %s\n%s" % (" ".join(cmd), r.stdout))
    return r.stdout
