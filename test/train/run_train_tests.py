#!/usr/bin/env python3
"""`nncc train` end to end on the digits data (../shared/data/digits.csv.gz).

- an MLP and a small CNN exported by PyTorch (export_digits_mlp.py,
  export_digits_cnn.py) reach >= 97% held-out accuracy in a fixed number of
  epochs with a fixed seed;
- a run stopped after a snapshot and resumed ends with bit-identical
  parameters to an uninterrupted run;
- the saved model runs with `nncc run`;
- bad data (wrong column count, non-numeric cell, label out of range) and a
  loss that does not fit the model fail with a message naming the cause.
"""
import argparse
import gzip
import os
import subprocess
import sys

import onnx
from onnx import numpy_helper

HERE = os.path.dirname(os.path.abspath(__file__))


def run(cmd, expect_ok=True):
    r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=600)
    if expect_ok and r.returncode != 0:
        sys.exit("FAIL: %s\n%s" % (" ".join(cmd), r.stdout))
    return r


def params(path):
    m = onnx.load(path)
    return {t.name: numpy_helper.to_array(t).tobytes() for t in m.graph.initializer}


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--nncc", required=True)
    p.add_argument("--data", required=True)
    p.add_argument("--work", required=True)
    a = p.parse_args()
    os.makedirs(a.work, exist_ok=True)
    model = os.path.join(a.work, "digits_mlp.onnx")
    run([sys.executable, os.path.join(HERE, "export_digits_mlp.py"), model, "--seed", "0"])
    base = [a.nncc, "train", model, "--data", a.data, "--scale", "0.0625", "--solver", "momentum", "--lr", "0.1",
            "--momentum", "0.9", "--batch", "64", "--epochs", "30", "--seed", "1", "--holdout", "0.2",
            "--threads", "2"]
    failures = 0

    # 1. Accuracy, and the saved model.
    full = os.path.join(a.work, "full.onnx")
    r = run(base + ["--save", full])
    last = r.stdout.strip().splitlines()[-1]
    acc = float(last.split("=")[1]) if last.startswith("accuracy=") else -1
    ok = acc >= 0.97
    failures += not ok
    print("%s  digits MLP, momentum, 30 epochs: %s (need >= 0.97)" % ("ok  " if ok else "FAIL", last))
    print("      " + "\n      ".join(r.stdout.strip().splitlines()[:3]))

    # 1b. The small CNN (conv, max-pool gradients).
    cnn = os.path.join(a.work, "digits_cnn.onnx")
    run([sys.executable, os.path.join(HERE, "export_digits_cnn.py"), cnn, "--seed", "0"])
    r = run([a.nncc, "train", cnn, "--data", a.data, "--scale", "0.0625", "--solver", "momentum", "--lr", "0.05",
             "--batch", "32", "--epochs", "30", "--seed", "1", "--threads", "2"])
    cl = r.stdout.strip().splitlines()[-1]
    ok = cl.startswith("accuracy=") and float(cl.split("=")[1]) >= 0.97
    failures += not ok
    print("%s  digits CNN, momentum, 30 epochs: %s (need >= 0.97)" % ("ok  " if ok else "FAIL", cl))

    # 1c. nncc inspect --train logs which nodes need backward.
    r = run([a.nncc, "inspect", "--train", cnn, "--loss", "softmax_cross_entropy", "--batch", "32"])
    marked = [l for l in r.stdout.splitlines() if l.endswith("needs backward computation.")]
    ok = len(marked) == 8 and "planned peak of the intermediates" in r.stdout
    failures += not ok
    print("%s  nncc inspect --train: %d nodes need backward, e.g. %s" % ("ok  " if ok else "FAIL", len(marked),
                                                                          marked[0] if marked else "-"))

    # 2. The saved model runs.
    x = numpy_helper.from_array(__import__("numpy").zeros((1, 64), dtype="float32"), "pixels")
    xin = os.path.join(a.work, "x.pb")
    with open(xin, "wb") as f:
        f.write(x.SerializeToString())
    r = run([a.nncc, "run", full, "--input", xin, "--output-dir", os.path.join(a.work, "out")], expect_ok=False)
    ok = r.returncode == 0 and os.path.exists(os.path.join(a.work, "out", "output_0.pb"))
    failures += not ok
    print("%s  the trained model runs with nncc run" % ("ok  " if ok else "FAIL"))

    # 3. Kill and resume: stop after iteration 130 (snapshots every 50), resume
    #    from iteration 100, compare with the uninterrupted run.
    prefix = os.path.join(a.work, "snap")
    stopped = run(base + ["--snapshot", "50", "--snapshot-prefix", prefix, "--stop-after", "130"]).stdout
    resumed = os.path.join(a.work, "resumed.onnx")
    r = run(base + ["--resume", prefix + "_iter_100.snapshot", "--save", resumed])
    pa, pb = params(full), params(resumed)
    # The resumed run really starts at 100: it reports so and prints no
    # progress of the iterations before.
    started = "at iteration 100" in r.stdout and not any(
        l.startswith("iter %d " % k) for l in r.stdout.splitlines() for k in range(1, 101))
    ok = (pa.keys() == pb.keys() and all(pa[k] == pb[k] for k in pa) and r.stdout.strip().splitlines()[-1] == last
          and started and "stopped after iteration 130" in stopped)
    failures += not ok
    print("%s  stopped at 130, resumed from the snapshot of 100: parameters bit-identical" %
          ("ok  " if ok else "FAIL"))

    # 4. Bad input.
    rows = gzip.open(a.data, "rt").read().splitlines()

    def bad(name, lines, extra, want):
        nonlocal failures
        path = os.path.join(a.work, name + ".csv")
        with open(path, "w") as f:
            f.write("\n".join(lines) + "\n")
        cmd = [a.nncc, "train", model, "--data", path, "--epochs", "1"] + extra
        r = run(cmd, expect_ok=False)
        ok = r.returncode != 0 and want in r.stdout and "Sanitizer" not in r.stdout
        failures += not ok
        print("%s  %-28s %s" % ("ok  " if ok else "FAIL", name, r.stdout.strip().splitlines()[-1][:110]))

    bad("wrong column count", rows[:5] + [rows[5] + ",3"] + rows[6:200], [], "line 6")
    bad("non-numeric cell", rows[:7] + [rows[7].replace(",", ",x", 1)] + rows[8:200], [], "line 8")
    bad("label out of range", rows[:9] + [rows[9].rsplit(",", 1)[0] + ",12"] + rows[10:200], [], "line 10")
    bad("mse on 10 outputs", rows[:200], ["--loss", "mse"], "one output per row")
    bad("unknown solver", rows[:200], ["--solver", "sgdd"], "unknown solver")
    if failures:
        sys.exit("%d training check(s) failed" % failures)


if __name__ == "__main__":
    main()
