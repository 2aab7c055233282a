#!/usr/bin/env python3
"""Results do not depend on the thread count: runs each model with
--threads 1, 2 and 3 and requires bit-identical outputs.

  check_threads.py --nncc build/tools/nncc --models build/models --work DIR
"""
import argparse
import filecmp
import os
import shutil
import subprocess
import sys

MODELS = ["mlp", "resnet18", "mobilenet_v2", "squeezenet1_1", "lstm_lm", "gru_2layer", "transformer_enc"]


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--nncc", required=True)
    p.add_argument("--models", required=True)
    p.add_argument("--work", required=True)
    args = p.parse_args()
    shutil.rmtree(args.work, ignore_errors=True)
    failures = 0
    for m in MODELS:
        d = os.path.join(args.models, m)
        outs = []
        for t in (1, 2, 3):
            out = os.path.join(args.work, "%s-%d" % (m, t))
            r = subprocess.run([args.nncc, "run", os.path.join(d, "model.onnx"), "--input",
                                os.path.join(d, "test_data_set_0", "input_0.pb"), "--threads", str(t),
                                "--output-dir", out, "--quiet"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               text=True)
            if r.returncode != 0:
                print("FAIL %s --threads %d: exit %d\n%s" % (m, t, r.returncode, r.stdout))
                failures += 1
                break
            outs.append(out)
        else:
            names = sorted(os.listdir(outs[0]))
            differ = [n for o in outs[1:] for n in names
                      if not filecmp.cmp(os.path.join(outs[0], n), os.path.join(o, n), shallow=False)]
            print("%s %s" % ("FAIL" if differ else "ok  ", m) + (": differs with threads in " + ", ".join(differ)
                                                              if differ else ": identical with 1, 2 and 3 threads"))
            failures += bool(differ)
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
