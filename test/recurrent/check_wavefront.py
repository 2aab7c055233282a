#!/usr/bin/env python3
"""Stacked LSTMs (and GRUs) under both schedules, and the wavefront's trace.

    check_wavefront.py NNCC WORK_DIR

A 3-layer LSTM (input 24, hidden 32, batch 4, 37 steps: several cells of 16
steps per layer, the last one short) exported by PyTorch with its output:
`nncc run` must match PyTorch with --schedule wavefront (one nn.lstm_stack),
with --max-parallel-timesteps 1 and with --schedule sequential (three
nn.lstm kernels), and the wavefront's outputs must be identical whatever the
number of threads. `nncc bench --trace` must write a Chrome trace in which,
with 2 threads, a cell of layer l+1 runs beside the next cell of layer l,
on another thread (their overlap in time is reported, as it also depends on
the OS's scheduling when other processes load the machine). The same for
a 3-layer GRU (one nn.gru_stack), with and without biases, and a 3-layer
simple RNN (tanh: one nn.rnn_stack); then PyTorch's other RNN (Relu) and
GRUs as ONNX defines them by default (linear_before_reset = 0: PyTorch's
weights, the model's GRU nodes changed to it, the reference a PyTorch module
computing that cell with autograd).

Training, LSTM, GRU and RNN: three SGD steps (`nncc bench --train --losses`, loss
the sum of squares of the output) under each schedule must give PyTorch's
losses; with the wavefront the layers' gradients run as one
nn.lstm_stack_grad (nn.gru_stack_grad, nn.rnn_stack_grad), the losses are identical with 1 and
2 threads, and its trace shows the backward's reverse diagonals: cell
(l-1, c) beside (l, c-1) on another thread.

Stateful stacks (LSTM, GRU, RNN): the model takes the initial states as
inputs and returns y with the final states (PyTorch's slices of h0 per
layer and concatenation of the layers' final states: nncc folds both into
the stack's own [layers, batch, hidden] states). Outputs and three SGD
steps' losses must match PyTorch, bit-identical across threads: trained
by truncated BPTT (each step starting from the previous step's final
states, `nncc bench --train` carrying them), and with initial states
learned as parameters and the final states in the loss, whose gradients
flow through the stacked backward to the initial states. An encoder-decoder
(LSTM, GRU, RNN): the encoder's final states start the decoder; both run and
train as stacks, against PyTorch.
"""
import copy
import json
import os
import sys
import warnings

import numpy as np
import onnx
import torch
from onnx import numpy_helper

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from recurrent_common import run  # noqa: E402


LR, STEPS = 0.01, 3  # the training checks' SGD steps


def export(module, x, model, data, reference=None):
    """Exports `module`'s first output for input x to `model`, with x and
    the first output of `reference` (default: module) as the test data in
    `data`."""
    with torch.no_grad():
        y = (reference or module)(x)[0]

    class M(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.rnn = module

        def forward(self, x):
            return self.rnn(x)[0]

    torch.onnx.export(M(), (x,), model, opset_version=14, input_names=["input"], output_names=["output"])
    for file, arr in (("input_0.pb", x), ("output_0.pb", y)):
        with open(os.path.join(data, file), "wb") as f:
            f.write(numpy_helper.from_array(arr.numpy(), name=file[:-5]).SerializeToString())


def case(work, group, name, model):
    """A case's folder under work/group, its test-data folder (made) and the
    path of its model (file name `model`)."""
    d = os.path.join(work, group, name)
    data = os.path.join(d, "test_data_set_0")
    os.makedirs(data, exist_ok=True)
    return d, data, os.path.join(d, model)


def pytorch_losses(rnn, x, lr=LR, states=None):
    """PyTorch's losses (the sum of squares of the first output) over STEPS
    SGD steps (rate lr) of a copy of rnn. With `states` (a list: an
    LSTM's h and c, or h) rnn is a torch.nn RNN run from them, each step
    starting from the previous step's final states, detached (truncated
    BPTT)."""
    m = copy.deepcopy(rnn).train()
    reference = []
    for _ in range(STEPS):
        if states is None:
            y = m(x)[0]
        else:
            y, final = m(x, tuple(states) if len(states) == 2 else states[0])
            states = [t.detach() for t in (final if len(states) == 2 else (final,))]
        loss = (y ** 2).sum()
        reference.append(loss.item())
        m.zero_grad()
        loss.backward()
        with torch.no_grad():
            for p in m.parameters():
                p -= lr * p.grad
    return reference


def nncc_losses(nncc, model, data, extra, reference, label, lr=LR, inputs=1):
    """nncc's losses over the same SGD steps (`nncc bench --train`, given
    the first `inputs` inputs of data: the features, then the carried
    states to start from), each within 1e-4 of PyTorch's."""
    files = [a for k in range(inputs) for a in ("--input", os.path.join(data, "input_%d.pb" % k))]
    out = run([nncc, "bench", model, "--train", "--losses"] + files + ["--lr", str(lr), "--runs", str(STEPS),
                                                                      "--warmup", "0"] + extra)
    got = [float(l.split()[-1]) for l in out.splitlines() if l.startswith("step ")]
    assert len(got) == STEPS, out
    for k, (g, r) in enumerate(zip(got, reference)):
        assert abs(g - r) <= 1e-4 * abs(r), "%s step %d with %s: loss %g, PyTorch %g" % (label, k + 1, extra, g, r)
    print("%s training with %-30s losses %s (PyTorch %s)" % (label, " ".join(extra), got, reference))
    return got


class ResetFirstGRU(torch.nn.Module):
    """A torch.nn.GRU's weights in ONNX's default GRU cell
    (linear_before_reset = 0): the h gate multiplies r * h_{t-1} by R_h,
    where PyTorch's multiplies h_{t-1} and then applies r. Computed step by
    step with autograd: the reference for the model's outputs and losses."""

    def __init__(self, gru):
        super().__init__()
        self.gru = gru

    def forward(self, x):
        g, H = self.gru, self.gru.hidden_size
        for l in range(g.num_layers):
            w_ih, w_hh = getattr(g, "weight_ih_l%d" % l), getattr(g, "weight_hh_l%d" % l)
            b_ih, b_hh = getattr(g, "bias_ih_l%d" % l), getattr(g, "bias_hh_l%d" % l)
            xs = x @ w_ih.T + b_ih  # PyTorch's gate order: r, z, n
            h, outs = x.new_zeros(x.shape[1], H), []
            for t in range(x.shape[0]):
                hr = h @ w_hh[:2 * H].T + b_hh[:2 * H]
                r = torch.sigmoid(xs[t, :, :H] + hr[:, :H])
                z = torch.sigmoid(xs[t, :, H:2 * H] + hr[:, H:])
                n = torch.tanh(xs[t, :, 2 * H:] + (r * h) @ w_hh[2 * H:].T + b_hh[2 * H:])
                h = (1 - z) * n + z * h
                outs.append(h)
            x = torch.stack(outs)
        return x, h


def check_inference(nncc, work, kind, bias=True, variant=None):
    """A 3-layer `kind` (torch.nn.LSTM, GRU or RNN; with `bias`) under both
    schedules and thread counts, and its trace; returns the model, its data
    and the PyTorch module. `variant`: "relu" (an RNN) or "reset_first" (a
    GRU exported with linear_before_reset = 0)."""
    name = kind.__name__.lower()
    label = name + (" " + variant if variant else "") + ("" if bias else " without biases")
    if not bias:
        work = os.path.join(work, "no_bias")
    if variant:
        work = os.path.join(work, variant)
    _, data, model = case(work, "", name, name + "3.onnx")
    torch.manual_seed(0)
    extra = {"nonlinearity": "relu"} if variant == "relu" else {}
    rnn = kind(24, 32, 3, bias=bias, **extra).eval()
    exported = rnn
    if variant == "reset_first":
        rnn = ResetFirstGRU(rnn)
    x = torch.randn(37, 4, 24)
    export(exported, x, model, data, reference=rnn)
    if variant == "reset_first":  # the model's GRU nodes to ONNX's default cell
        onnx_model = onnx.load(model)
        gru_nodes = [n for n in onnx_model.graph.node if n.op_type == "GRU"]
        assert len(gru_nodes) == 3, [n.op_type for n in onnx_model.graph.node]
        for node in gru_nodes:
            for attr in node.attribute:
                if attr.name == "linear_before_reset":
                    attr.i = 0
        onnx.save(onnx_model, model)

    plan = run([nncc, "inspect", model])
    assert "nn.%s_stack" % name in plan, "the three layers were not stacked:\n" + plan
    if variant:  # the stack says which cell it runs
        ir = run([nncc, "inspect", model, "--print-after=nn-stack-recurrent"])
        cell = 'activation = "Relu"' if variant == "relu" else "linear_before_reset = false"
        assert cell in ir[ir.index("nn.%s_stack " % name):], ir
    plan = run([nncc, "inspect", model, "--schedule", "sequential"])
    assert plan.count("(nn.%s)" % name) == 3 and "_stack" not in plan, plan
    for extra in [[], ["--max-parallel-timesteps", "1"], ["--schedule", "sequential"]]:
        out = run([nncc, "run", model, "--test-data", data, "--rtol", "1e-4", "--atol", "1e-5"] + extra)
        print("%s: match with %-36s %s" % (label, " ".join(extra) or "--schedule wavefront",
                                             out.strip().splitlines()[-1]))
    outs = []
    for threads in ["1", "2"]:
        path = os.path.join(work, name, "out_%s" % threads)
        run([nncc, "run", model, "--input", os.path.join(data, "input_0.pb"), "--output-dir", path, "--threads",
             threads])
        t = onnx.TensorProto()
        t.ParseFromString(open(os.path.join(path, sorted(os.listdir(path))[0]), "rb").read())
        outs.append(numpy_helper.to_array(t))
    assert np.array_equal(outs[0], outs[1]), "the wavefront's results depend on the number of threads"
    print("%s: identical with 1 and 2 threads" % label)

    trace = os.path.join(work, name, "trace.json")
    run([nncc, "bench", model, "--runs", "2", "--warmup", "1", "--threads", "2", "--trace", trace])
    events = [e for e in json.load(open(trace))["traceEvents"] if e["name"].startswith(name + "_cells ")]
    cells = {(e["args"]["layer"], e["args"]["step"]): e for e in events}
    layers = 1 + max(l for l, _ in cells)
    starts = sorted({s for _, s in cells})
    assert layers == 3 and len(cells) == 3 * len(starts) and len(starts) >= 3, "unexpected cells: %s" % sorted(cells)
    # (l+1, c) and (l, c+1) are on one diagonal: run at once, on different
    # threads. (Whether they overlap in time also depends on the OS, e.g.
    # when other processes load the machine: reported, not required.)
    apart = overlaps = 0
    for (l, s), e in cells.items():
        k = starts.index(s)
        if l + 1 < layers and k + 1 < len(starts):
            a, b = cells[(l + 1, s)], cells[(l, starts[k + 1])]  # (l+1, c) and (l, c+1)
            apart += a["tid"] != b["tid"]
            if a["tid"] != b["tid"] and a["ts"] < b["ts"] + b["dur"] and b["ts"] < a["ts"] + a["dur"]:
                overlaps += 1
    print("%s trace: %d cells, %d (l+1, c) / (l, c+1) pairs on different threads, %d overlapping in time" % (
        label, len(cells), apart, overlaps))
    if (os.cpu_count() or 1) >= 2:
        assert apart > 0, "no cell of layer l+1 ran beside the next cell of layer l"
    return model, data, rnn, x


def check_training(nncc, work, name, model, data, rnn, x, label):
    """Three SGD steps of the stacked `name` (lstm, gru or rnn; `label` in
    messages) against PyTorch under both schedules and thread counts, its
    profile, and its backward's trace."""
    reference = pytorch_losses(rnn, x)
    plan = run([nncc, "inspect", model, "--train"])
    assert "nn.%s_stack_grad" % name in plan and "nn.%s_grad" % name not in plan, \
        "the gradients were not stacked:\n" + plan
    # recompute-gates stacks too: the forward saves no gates and the stacked
    # backward recomputes each chunk's. So does checkpoint for GRUs and RNNs
    # (whose layers keep y under it too); LSTMs under checkpoint keep their
    # own kernels (about 2 sqrt(T) saved states, y not kept).
    for policy in ["checkpoint", "recompute-gates"]:
        plan = run([nncc, "inspect", model, "--train", "--rnn-memory", policy])
        if policy == "checkpoint" and name == "lstm":
            assert plan.count("(nn.lstm_grad)") == 3 and "_stack_grad" not in plan, plan
        else:
            assert "nn.%s_stack_grad" % name in plan and "(nn.%s_grad)" % name not in plan, plan
    train = [nncc, "bench", model, "--train", "--losses", "--input", os.path.join(data, "input_0.pb"), "--lr",
             str(LR), "--runs", str(STEPS), "--warmup", "0"]
    losses = {}
    for extra in [["--threads", "1"], ["--threads", "2"], ["--max-parallel-timesteps", "1"],
                  ["--schedule", "sequential"]]:
        losses[" ".join(extra)] = nncc_losses(nncc, model, data, extra, reference, label)
    assert losses["--threads 1"] == losses["--threads 2"], "the wavefront's training depends on the threads"
    recomputed = [nncc_losses(nncc, model, data, ["--rnn-memory", "recompute-gates", "--threads", t], reference,
                              label) for t in "12"]
    assert recomputed[0] == recomputed[1], "the wavefront's training under recompute-gates depends on the threads"

    # --profile: where the step's time goes, the stacked kernels by name.
    out = run(train + ["--threads", "2", "--profile"])
    kinds = out[out.index("time by op kind"):out.index("time by op (")]
    for kind in ["nn.%s_stack " % name, "nn.%s_stack_grad " % name]:
        assert kind in kinds, "the training step's profile lacks %s:\n%s" % (kind, out)
    assert out.rstrip().splitlines()[-1].startswith("median_ms="), out

    trace = os.path.join(os.path.dirname(model), "train_trace.json")
    run(train + ["--threads", "2", "--trace", trace])
    events = [e for e in json.load(open(trace))["traceEvents"] if e["name"].startswith(name + "_cells_backward")]
    cells = {(e["args"]["layer"], e["args"]["step"]): e for e in events}
    starts = sorted({s for _, s in cells})
    assert len(cells) == 3 * len(starts) and len(starts) >= 2, "unexpected backward cells: %s" % sorted(cells)
    apart = overlaps = 0
    for (l, s), e in cells.items():
        k = starts.index(s)
        if l >= 1 and k >= 1:
            a, b = cells[(l - 1, s)], cells[(l, starts[k - 1])]  # (l-1, c) and (l, c-1)
            apart += a["tid"] != b["tid"]
            if a["tid"] != b["tid"] and a["ts"] < b["ts"] + b["dur"] and b["ts"] < a["ts"] + a["dur"]:
                overlaps += 1
    print("%s backward trace: %d cells, %d (l-1, c) / (l, c-1) pairs on different threads, %d overlapping in time" % (
        label, len(cells), apart, overlaps))
    if (os.cpu_count() or 1) >= 2:
        assert apart > 0, "no backward cell of layer l-1 ran beside the previous cell of layer l"


def check_bidirectional(nncc, work, kind, variant=None):
    """A 2-layer bidirectional `kind` (`variant` "relu": an RNN with Relu):
    its layers cannot stack (layer l+1 reads both directions of layer l),
    but on 2 threads each layer runs its two directions at once, one per
    thread, forward and backward. 150 steps (several projection chunks) and
    the final states as outputs too. Outputs and three SGD steps' losses
    must match PyTorch with 1, 2 and 3 threads (outputs) or 1 and 2
    (losses, under store-all and checkpoint), bit-identical across them."""
    name = kind.__name__.lower()
    label = "bidirectional %s%s" % (name, " " + variant if variant else "")
    d, data, model = case(work, "bidirectional", name + (variant or ""), name + "_bi2.onnx")
    torch.manual_seed(0)
    rnn = kind(24, 32, 2, bidirectional=True, **({"nonlinearity": "relu"} if variant == "relu" else {})).eval()
    x = torch.randn(150, 4, 24)

    class M(torch.nn.Module):  # y and the final states
        def __init__(self):
            super().__init__()
            self.rnn = rnn

        def forward(self, x):
            y, state = self.rnn(x)
            return (y,) + (state if isinstance(state, tuple) else (state,))

    with torch.no_grad():
        ys = M()(x)
    names = ["y", "h", "c"][:len(ys)]
    torch.onnx.export(M(), (x,), model, opset_version=14, input_names=["input"], output_names=names)
    for file, arr in [("input_0.pb", x)] + [("output_%d.pb" % k, y) for k, y in enumerate(ys)]:
        with open(os.path.join(data, file), "wb") as f:
            f.write(numpy_helper.from_array(arr.numpy(), name=file[:-3]).SerializeToString())
    outs = []
    for threads in ["1", "2", "3"]:
        out = run([nncc, "run", model, "--test-data", data, "--rtol", "1e-4", "--atol", "1e-5", "--threads", threads])
        path = os.path.join(d, "out_%s" % threads)
        run([nncc, "run", model, "--input", os.path.join(data, "input_0.pb"), "--output-dir", path, "--threads",
             threads])
        got = []
        for file in sorted(os.listdir(path)):
            t = onnx.TensorProto()
            t.ParseFromString(open(os.path.join(path, file), "rb").read())
            got.append(numpy_helper.to_array(t))
        assert len(got) == len(ys), sorted(os.listdir(path))
        outs.append(got)
        print("%s, %s threads: %s" % (label, threads, out.strip().splitlines()[-1]))
    for o in outs[1:]:
        assert all(np.array_equal(p, q) for p, q in zip(outs[0], o)), "%s depends on the threads" % label
    lr = LR / 100 if variant == "relu" else LR  # (150 steps of Relu: 0.01 makes the third step's loss overflow)
    reference = pytorch_losses(rnn, x, lr)
    losses = [nncc_losses(nncc, model, data, ["--threads", t], reference, label, lr) for t in "12"]
    assert losses[0] == losses[1], "%s training depends on the threads" % label
    # Under checkpoint (segments of 13 steps) the backward runs the
    # directions at once too, each with its own working set.
    losses = [nncc_losses(nncc, model, data, ["--rnn-memory", "checkpoint", "--threads", t], reference, label, lr)
              for t in "12"]
    assert losses[0] == losses[1], "%s training under checkpoint depends on the threads" % label


def check_stateful(nncc, work, kind):
    """A 3-layer `kind` from given initial states, its first output y and
    the final states concatenated ([steps + layers (x 2: LSTM), batch,
    hidden]), run and trained as one stack."""
    name = kind.__name__.lower()
    label = "stateful " + name
    d, data, model = case(work, "stateful", name, name + "_state3.onnx")
    torch.manual_seed(0)
    rnn = kind(24, 32, 3).eval()
    lstm = kind is torch.nn.LSTM
    x = torch.randn(37, 4, 24)
    states = [0.5 * torch.randn(3, 4, 32) for _ in range(2 if lstm else 1)]

    class M(torch.nn.Module):
        """rnn from the states given after x: y and the final states, one
        output (`concat`) or each its own (y, h_n[, c_n])."""

        def __init__(self, concat):
            super().__init__()
            self.rnn, self.concat = rnn, concat

        def forward(self, x, *s):
            y, final = self.rnn(x, tuple(s) if lstm else s[0])
            final = tuple(final) if lstm else (final,)
            return (torch.cat((y,) + final, 0),) if self.concat else (y,) + final

    with torch.no_grad():
        out = M(True)(x, *states)[0]
    names = ["input", "h0", "c0"][:1 + len(states)]
    torch.onnx.export(M(True), (x, *states), model, opset_version=14, input_names=names, output_names=["output"])
    inputs = []
    for k, arr in enumerate([x] + states):
        inputs.append(os.path.join(data, "input_%d.pb" % k))
        with open(inputs[-1], "wb") as f:
            f.write(numpy_helper.from_array(arr.numpy(), name=names[k]).SerializeToString())
    with open(os.path.join(data, "output_0.pb"), "wb") as f:
        f.write(numpy_helper.from_array(out.numpy(), name="output").SerializeToString())

    # One stack, reading the initial states and writing the final ones
    # itself: PyTorch's per-layer slices and concatenation fold away.
    plan = run([nncc, "inspect", model])
    assert "(nn.%s_stack)" % name in plan and "(nn.%s)" % name not in plan and "(nn.slice)" not in plan, plan
    got = []
    for extra in [["--threads", "1"], ["--threads", "2"], ["--schedule", "sequential"]]:
        res = run([nncc, "run", model, "--test-data", data, "--rtol", "1e-4", "--atol", "1e-5"] + extra)
        print("%s: match with %-24s %s" % (label, " ".join(extra), res.strip().splitlines()[-1]))
        path = os.path.join(d, "out_" + "_".join(extra).replace("-", ""))
        run([nncc, "run", model, "--output-dir", path] + [a for i in inputs for a in ("--input", i)] + extra)
        t = onnx.TensorProto()
        t.ParseFromString(open(os.path.join(path, sorted(os.listdir(path))[0]), "rb").read())
        got.append(numpy_helper.to_array(t))
    assert np.array_equal(got[0], got[1]), "%s depends on the threads" % label

    # Truncated BPTT: the model returns y and the final states, each step
    # starting from the previous step's (the --input files after the first
    # give the first step's); the loss reads y only, and no gradient flows
    # into the states.
    lr = LR / 10  # (0.01: the GRU's and RNN's losses grow)
    tbptt = os.path.join(d, name + "_tbptt3.onnx")
    torch.onnx.export(M(False), (x, *states), tbptt, opset_version=14, input_names=names,
                      output_names=["y", "hn", "cn"][:1 + len(states)])
    plan = run([nncc, "inspect", tbptt, "--train"])
    assert "nn.%s_stack_grad" % name in plan and "nn.%s_grad" % name not in plan, plan
    reference = pytorch_losses(rnn, x, lr, states)
    losses = [nncc_losses(nncc, tbptt, data, extra, reference, label + " TBPTT", lr, inputs=len(inputs))
              for extra in [["--threads", "1"], ["--threads", "2"], ["--schedule", "sequential"]]]
    assert losses[0] == losses[1], "%s TBPTT depends on the threads" % label

    # Training (one input: the features), the initial states learned as
    # parameters: the loss, the sum of squares of the output, reads the
    # final states, and the stacked backward returns the initial states'
    # gradients.
    class Learned(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.rnn = copy.deepcopy(rnn)
            self.s = torch.nn.ParameterList([torch.nn.Parameter(t.clone()) for t in states])

        def forward(self, x):
            y, final = self.rnn(x, tuple(self.s) if lstm else self.s[0])
            return (torch.cat([y] + list(final if lstm else (final,)), 0),)

    learned = Learned().train()
    train_model = os.path.join(d, name + "_learned_state3.onnx")
    torch.onnx.export(copy.deepcopy(learned).eval(), (x,), train_model, opset_version=14, input_names=["input"],
                      output_names=["output"], do_constant_folding=False)
    plan = run([nncc, "inspect", train_model, "--train"])
    assert "nn.%s_stack_grad" % name in plan and "nn.%s_grad" % name not in plan, plan
    reference = pytorch_losses(learned, x, lr)
    losses = [nncc_losses(nncc, train_model, data, extra, reference, label, lr)
              for extra in [["--threads", "1"], ["--threads", "2"], ["--schedule", "sequential"]]]
    assert losses[0] == losses[1], "%s training depends on the threads" % label


def check_seq2seq(nncc, work, kind):
    """An encoder-decoder: a 2-layer `kind` reads 37 steps and hands its
    final states to a 2-layer decoder of 20 steps, whose y is the output.
    Both run as stacks (the encoder's y unread: it runs for its final
    states), and train so: the decoder's stacked backward returns its
    initial states' gradients, which become the encoder's final states'
    gradients (its backward has no dy). Outputs and three SGD steps'
    losses against PyTorch, identical with 1 and 2 threads."""
    name = kind.__name__.lower()
    label = "seq2seq " + name
    _, data, model = case(work, "seq2seq", name, name + "_seq2seq.onnx")
    torch.manual_seed(0)

    class Seq2Seq(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.enc, self.dec = kind(24, 32, 2), kind(16, 32, 2)

        def forward(self, x):
            _, state = self.enc(x[:, :, :24])
            return (self.dec(x[:20, :, 24:], state)[0],)

    m = Seq2Seq().eval()
    x = torch.randn(37, 4, 40)
    with torch.no_grad():
        y = m(x)[0]
    torch.onnx.export(m, (x,), model, opset_version=14, input_names=["input"], output_names=["output"])
    for file, arr in (("input_0.pb", x), ("output_0.pb", y)):
        with open(os.path.join(data, file), "wb") as f:
            f.write(numpy_helper.from_array(arr.numpy(), name=file[:-5]).SerializeToString())
    for train in ([], ["--train"]):
        plan = run([nncc, "inspect", model] + train)
        for op in ("nn.%s_stack" % name,) + (("nn.%s_stack_grad" % name,) if train else ()):
            assert plan.count("(%s)" % op) == 2, "%s: the encoder and the decoder are not two %s:\n%s" % (
                label, op, plan)
    for threads in ("1", "2"):
        out = run([nncc, "run", model, "--test-data", data, "--rtol", "1e-4", "--atol", "1e-5", "--threads", threads])
        print("%s, %s threads: %s" % (label, threads, out.strip().splitlines()[-1]))
    reference = pytorch_losses(m, x)
    losses = [nncc_losses(nncc, model, data, extra, reference, label)
              for extra in [["--threads", "1"], ["--threads", "2"], ["--schedule", "sequential"]]]
    assert losses[0] == losses[1], "%s training depends on the threads" % label


def check_packed(nncc, work, kind):
    """A 3-layer `kind` over a padded batch of rows of 37, 20, 11 and 30
    steps (PyTorch's pack_padded_sequence with enforce_sorted=False, whose
    export sorts the rows: ONNX's sequence_lens on every layer, sorted;
    unsorted lengths are the unit tests'): its y (zeros past each row's length) and final states
    (each row's at its last step), run and trained as one stack. Outputs
    and three SGD steps' losses against PyTorch, identical with 1 and 2
    threads; also under recompute-gates and checkpoint, and layer by layer
    (store-all and checkpoint); and with the lengths as the model's second
    input, given for each training step (`--input`)."""
    name = kind.__name__.lower()
    label = "packed " + name
    _, data, model = case(work, "packed", name, name + "_packed3.onnx")
    torch.manual_seed(0)
    lengths = torch.tensor([37, 20, 11, 30])

    class Packed(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.rnn = kind(24, 32, 3)

        def forward(self, x):
            packed = torch.nn.utils.rnn.pack_padded_sequence(x, lengths, enforce_sorted=False)
            y, state = self.rnn(packed)
            y = torch.nn.utils.rnn.pad_packed_sequence(y, total_length=x.shape[0])[0]
            return y, (state[0] if isinstance(state, tuple) else state)

    m = Packed().eval()
    x = torch.randn(37, 4, 24)
    with torch.no_grad():
        ys = m(x)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(m, (x,), model, opset_version=14, input_names=["input"], output_names=["y", "h"])
    for file, arr in (("input_0.pb", x), ("output_0.pb", ys[0]), ("output_1.pb", ys[1])):
        with open(os.path.join(data, file), "wb") as f:
            f.write(numpy_helper.from_array(arr.numpy(), name=file[:-3]).SerializeToString())
    for train in ([], ["--train"]):
        plan = run([nncc, "inspect", model] + train)
        ops = ("nn.%s_stack" % name,) + (("nn.%s_stack_grad" % name,) if train else ())
        assert all(plan.count("(%s)" % op) == 1 for op in ops) and "(nn.%s)" % name not in plan, \
            "%s: the layers are not one stack:\n%s" % (label, plan)
    for threads in ("1", "2"):
        out = run([nncc, "run", model, "--test-data", data, "--rtol", "1e-4", "--atol", "1e-5", "--threads", threads])
        print("%s, %s threads: %s" % (label, threads, out.strip().splitlines()[-1]))
    reference = pytorch_losses(m, x)
    losses = [nncc_losses(nncc, model, data, extra, reference, label)
              for extra in [["--threads", "1"], ["--threads", "2"], ["--rnn-memory", "recompute-gates"],
                            ["--rnn-memory", "checkpoint"], ["--schedule", "sequential"],
                            ["--schedule", "sequential", "--rnn-memory", "checkpoint"]]]
    assert losses[0] == losses[1], "%s training depends on the threads" % label
    # The lengths as the model's second input (each batch its own: PyTorch
    # exports a TopK and Gathers that sort the rows), given for every
    # training step: the same losses.
    given_model = model.replace(".onnx", "_lengths.onnx")
    given_data = os.path.join(os.path.dirname(data), "given_lengths")
    os.makedirs(given_data, exist_ok=True)

    class GivenLengths(torch.nn.Module):
        def __init__(self, rnn):
            super().__init__()
            self.rnn = rnn

        def forward(self, x, lengths):
            packed = torch.nn.utils.rnn.pack_padded_sequence(x, lengths, enforce_sorted=False)
            return (torch.nn.utils.rnn.pad_packed_sequence(self.rnn(packed)[0], total_length=x.shape[0])[0],)

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(GivenLengths(m.rnn), (x, lengths), given_model, opset_version=14,
                          input_names=["input", "lengths"], output_names=["y"])
    for k, arr in enumerate((x, lengths)):
        with open(os.path.join(given_data, "input_%d.pb" % k), "wb") as f:
            f.write(numpy_helper.from_array(arr.numpy(), name="input_%d" % k).SerializeToString())
    plan = run([nncc, "inspect", given_model, "--train"])
    assert plan.count("(nn.%s_stack_grad)" % name) == 1, "%s with given lengths: not one stack:\n%s" % (label, plan)
    for extra in [[], ["--schedule", "sequential", "--rnn-memory", "recompute-gates"]]:
        nncc_losses(nncc, given_model, given_data, extra, reference, label + ", lengths given", inputs=2)


def main():
    nncc, work = sys.argv[1], sys.argv[2]
    check_inference(nncc, work, torch.nn.GRU, bias=False)  # (the stack gives the layers zero biases)
    for kind, variant in ((torch.nn.GRU, None), (torch.nn.GRU, "reset_first"), (torch.nn.RNN, None),
                          (torch.nn.RNN, "relu"), (torch.nn.LSTM, None)):
        model, data, rnn, x = check_inference(nncc, work, kind, variant=variant)
        name = kind.__name__.lower()
        check_training(nncc, work, name, model, data, rnn, x, name + (" " + variant if variant else ""))
    for kind, variant in ((torch.nn.LSTM, None), (torch.nn.GRU, None), (torch.nn.RNN, None), (torch.nn.RNN, "relu")):
        check_bidirectional(nncc, work, kind, variant)
    for kind in (torch.nn.LSTM, torch.nn.GRU, torch.nn.RNN):
        check_stateful(nncc, work, kind)
    for kind in (torch.nn.LSTM, torch.nn.GRU, torch.nn.RNN):
        check_seq2seq(nncc, work, kind)
    for kind in (torch.nn.LSTM, torch.nn.GRU, torch.nn.RNN):
        check_packed(nncc, work, kind)


if __name__ == "__main__":
    main()
