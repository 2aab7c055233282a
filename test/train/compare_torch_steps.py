#!/usr/bin/env python3
"""Whole-model training check: nncc's first SGD steps against PyTorch's.

    compare_torch_steps.py NNCC MODELS_DIR SHARED_MODELS_DIR [NAME...]

For each model exported by ../shared/models/export_models.py (same seed, so
PyTorch rebuilds the same weights), both run three SGD steps from the same
input (test_data_set_0/input_0.pb) and print the loss before each update.
Step 1 compares the forward pass and the loss; steps 2 and 3 come after one
and two updates, so they compare every parameter's gradient through the
whole network (LSTM, GRU, attention, layer norm, embedding ...). The loss
must change by at least 1% over the steps, or the check could not see a
wrong gradient; the step losses must agree within 1e-3 relative. The
recurrent models run under every --rnn-memory policy and both schedules.
"""
import os
import re
import subprocess
import sys

import numpy as np
import onnx
import torch
from onnx import numpy_helper

# name: (loss, learning rate); labels for cross-entropy are k * 7 mod classes
# over the flattened rows, as `nncc bench --train` makes them.
CASES = {
    "mlp": ("softmax_cross_entropy", 0.5),
    "lstm_lm": ("softmax_cross_entropy", 20.0),
    "gru_2layer": ("sum_squares", 2e-5),
    "transformer_enc": ("sum_squares", 1e-5),
}


# Extra flags the recurrent models also run with (each must match PyTorch).
RECURRENT_VARIANTS = [["--rnn-memory", p] for p in ("recompute-gates", "checkpoint", "budget=256K")] + [
    ["--schedule", "sequential"]]
VARIANTS = {"lstm_lm": RECURRENT_VARIANTS, "gru_2layer": RECURRENT_VARIANTS}


def torch_losses(em, name, x, loss, lr, steps=3):
    torch.manual_seed(0)
    np.random.seed(0)
    model = em.MODELS[name][0]().eval()
    opt = torch.optim.SGD(model.parameters(), lr=lr)
    out = []
    for _ in range(steps):
        opt.zero_grad()
        y = model(x)
        if loss == "sum_squares":
            l = (y * y).sum()
        else:
            flat = y.reshape(-1, y.shape[-1])
            labels = torch.arange(flat.shape[0]) * 7 % flat.shape[1]
            l = torch.nn.functional.cross_entropy(flat, labels)
        l.backward()
        opt.step()
        out.append(float(l))
    return out


def compare(nncc, d, inp, name, loss, lr, theirs, extra):
    """nncc's three step losses (with the flags `extra`) against PyTorch's."""
    label = " ".join([name] + extra)
    r = subprocess.run([nncc, "bench", "--train", os.path.join(d, "model.onnx"), "--input", inp, "--losses",
                        "--loss", loss, "--lr", repr(lr), "--runs", "1", "--warmup", "2", "--threads", "2"] + extra,
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if r.returncode != 0:
        print("%s: nncc failed (exit %d):\n%s" % (label, r.returncode, r.stdout))
        return False
    ours = [float(v) for v in re.findall(r"^step \d+ loss (\S+)$", r.stdout, re.M)]
    change = abs(theirs[-1] - theirs[0]) / abs(theirs[0])
    worst = max(abs(a - b) / max(abs(b), 1e-30) for a, b in zip(ours, theirs)) if len(ours) == 3 else 1.0
    ok = len(ours) == 3 and worst <= 1e-3 and change >= 0.01
    print("%-44s %-22s nncc %s  torch %s  loss change %.1f%%  worst rel diff %.2e  %s" % (
        label, loss, " ".join("%.6g" % v for v in ours), " ".join("%.6g" % v for v in theirs), 100 * change, worst,
        "ok" if ok else "FAILED"))
    return ok


def main():
    nncc, models, shared = sys.argv[1:4]
    names = sys.argv[4:] or list(CASES)
    sys.path.insert(0, shared)
    import export_models as em
    torch.set_num_threads(2)
    failed = False
    for name in names:
        loss, lr = CASES[name]
        d = os.path.join(models, name)
        inp = os.path.join(d, "test_data_set_0", "input_0.pb")
        t = onnx.TensorProto()
        t.ParseFromString(open(inp, "rb").read())
        x = torch.from_numpy(numpy_helper.to_array(t).copy())
        theirs = torch_losses(em, name, x, loss, lr)
        for extra in [[]] + VARIANTS.get(name, []):
            failed |= not compare(nncc, d, inp, name, loss, lr, theirs, extra)
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
