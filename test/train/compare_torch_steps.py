#!/usr/bin/env python3
"""Whole-model training check: nncc's first SGD steps against PyTorch's.

    compare_torch_steps.py NNCC MODELS_DIR SHARED_MODELS_DIR [NAME...]

For each model exported by ../shared/models/export_models.py (same seed, so
PyTorch rebuilds the same weights), both run three SGD steps from the same
input (test_data_set_0/input_0.pb) and print the loss before each update.
Step 1 compares the forward pass and the loss; steps 2 and 3 come after one
and two updates, so they compare every parameter's gradient through the
whole network (LSTM, GRU, attention, layer norm, embedding ...), and
through an ONNX while loop (a Loop whose body computes its condition from
the data: nncc runs it as a loop and differentiates it with a backward
loop over the saved iterations). The loss
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


WHILE_LIMIT, WHILE_TRIPS, WHILE_LR = 2.0, 10, 0.05
OUTER_LIMIT, OUTER_TRIPS, OUTER_SCALE = 0.6, 6, 0.8


def while_loop_model(d, trips=WHILE_TRIPS, nested=False):
    """An ONNX Loop run as a loop: h <- tanh(h W) (h starts as the input),
    while sum(h^2) > WHILE_LIMIT, at most `trips` times (INT64_MAX: as
    PyTorch exports a scripted `while`, whose iterations nncc's backward
    then saves in a capacity of rows); W a weight. `nested`: that loop is
    the body of an outer while loop, h <- OUTER_SCALE (inner loop from h)
    while sum(h^2) > OUTER_LIMIT, at most OUTER_TRIPS times. Writes
    d/model.onnx and d/input.pb; returns the input and W."""
    from onnx import TensorProto, helper
    rng = np.random.default_rng(5)
    x = rng.standard_normal((4, 3)).astype(np.float32)
    w = (0.6 * rng.standard_normal((3, 3))).astype(np.float32)
    state = lambda name: helper.make_tensor_value_info(name, TensorProto.FLOAT, [4, 3])
    head = [helper.make_tensor_value_info("i", TensorProto.INT64, []),
            helper.make_tensor_value_info("c", TensorProto.BOOL, [])]
    cond = [helper.make_tensor_value_info("cout", TensorProto.BOOL, [])]

    def stop_below(h, lim):  # sum(h^2) > lim
        return [helper.make_node("Mul", [h, h], [h + "2"]),
                helper.make_node("ReduceSum", [h + "2"], [h + "_e"], keepdims=0),
                helper.make_node("Greater", [h + "_e", lim], ["cout"])]
    body = helper.make_graph(
        [helper.make_node("MatMul", ["xin", "W"], ["p"]), helper.make_node("Tanh", ["p"], ["h"])] +
        stop_below("h", "lim"), "body", head + [state("xin")], cond + [state("h")])
    loop = helper.make_node("Loop", ["trips", "", "x"], ["y"], body=body)
    constants = [numpy_helper.from_array(np.array(trips, np.int64), "trips"), numpy_helper.from_array(w, "W"),
                 numpy_helper.from_array(np.array(WHILE_LIMIT, np.float32), "lim")]
    nodes = []
    if nested:  # (the scale a Constant node: an initializer would be trained)
        outer = helper.make_graph(
            [helper.make_node("Loop", ["trips", "", "hin"], ["g"], body=body),
             helper.make_node("Mul", ["g", "scale"], ["hout"])] + stop_below("hout", "outer_lim"),
            "outer", head + [state("hin")], cond + [state("hout")])
        loop = helper.make_node("Loop", ["outer_trips", "", "x"], ["y"], body=outer)
        nodes = [helper.make_node("Constant", [], ["scale"],
                                  value=numpy_helper.from_array(np.array(OUTER_SCALE, np.float32)))]
        constants += [numpy_helper.from_array(np.array(OUTER_TRIPS, np.int64), "outer_trips"),
                      numpy_helper.from_array(np.array(OUTER_LIMIT, np.float32), "outer_lim")]
    g = helper.make_graph(nodes + [loop], "while_loop", [state("x")], [state("y")], constants)
    os.makedirs(d, exist_ok=True)
    onnx.save(helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)]), os.path.join(d, "model.onnx"))
    with open(os.path.join(d, "input.pb"), "wb") as f:
        f.write(numpy_helper.from_array(x).SerializeToString())
    return x, w


def while_loop_torch(x, w, steps=3, trips=WHILE_TRIPS, nested=False):
    """The same loop(s) and SGD steps in PyTorch (sum-of-squares loss); the
    losses and each step's (inner) iteration counts."""
    W = torch.nn.Parameter(torch.from_numpy(w.copy()))
    opt = torch.optim.SGD([W], lr=WHILE_LR)
    out, ran = [], []

    def inner(h):
        i = 0
        while i < trips:
            h = torch.tanh(h @ W)
            i += 1
            if not float((h * h).sum()) > WHILE_LIMIT:
                break
        ran.append(i)
        return h
    for _ in range(steps):
        opt.zero_grad()
        h = torch.from_numpy(x.copy())
        if nested:
            for _ in range(OUTER_TRIPS):
                h = inner(h) * OUTER_SCALE
                if not float((h * h).sum()) > OUTER_LIMIT:
                    break
        else:
            h = inner(h)
        l = (h * h).sum()
        l.backward()
        opt.step()
        out.append(float(l))
    return out, ran


def main():
    nncc, models, shared = sys.argv[1:4]
    whiles = {"while_loop": (WHILE_TRIPS, False), "while_loop_unbounded": (2 ** 63 - 1, False),
              "nested_while_loops": (WHILE_TRIPS, True)}
    names = sys.argv[4:] or list(CASES) + list(whiles)
    sys.path.insert(0, shared)
    import export_models as em
    torch.set_num_threads(2)
    failed = False
    for name in names:
        if name in whiles:
            d = os.path.join(models, name)
            x, w = while_loop_model(d, *whiles[name])
            theirs, trips = while_loop_torch(x, w, 3, *whiles[name])
            print("%s: PyTorch's (inner) loop ran %s iterations in the three steps" % (name, trips))
            if not (1 < max(trips) < WHILE_TRIPS and (len(trips) > 3) == whiles[name][1]):
                print("%s: the condition should stop the loop early; it did not: FAILED" % name)
                failed = True
            failed |= not compare(nncc, d, os.path.join(d, "input.pb"), name, "sum_squares", WHILE_LR, theirs, [])
            continue
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
