#!/usr/bin/env python3
"""Recurrent layers unrolled into per-timestep cells (--unroll-recurrent).

    check_unroll.py NNCC NODE_TEST_DIR MODELS_DIR

Every ONNX backend node test of LSTM, GRU and RNN, and the lstm_lm and
gru_2layer reference models, must match its reference output when run with
--unroll-recurrent. `nncc inspect` must show the layers gone (their cells in
their place: matmuls and fused pointwise kernels) for every one.
"""
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from recurrent_common import run  # noqa: E402


def main():
    nncc, nodes, models = sys.argv[1:4]
    cases = sorted(d for d in os.listdir(nodes) if re.match(r"test_(lstm|gru|rnn|simple_rnn)_", d))
    cases = [(c, os.path.join(nodes, c)) for c in cases]
    cases += [(m, os.path.join(models, m)) for m in ("lstm_lm", "gru_2layer")]
    unrolled = 0
    for name, d in cases:
        model = os.path.join(d, "model.onnx")
        out = run([nncc, "run", model, "--test-data", os.path.join(d, "test_data_set_0"), "--unroll-recurrent",
                   "--rtol", "1e-4", "--atol", "1e-5"])
        plan = run([nncc, "inspect", model, "--unroll-recurrent"])
        whole = len(re.findall(r"\((nn\.lstm|nn\.gru|nn\.rnn)\)", plan))
        unrolled += whole == 0
        print("%-34s %s  %s" % (name, out.strip().splitlines()[-1],
                                "unrolled" if whole == 0 else "%d layer(s) kept whole" % whole))
    assert unrolled == len(cases), "layers kept whole: unrolled %d of %d" % (unrolled, len(cases))


if __name__ == "__main__":
    main()
