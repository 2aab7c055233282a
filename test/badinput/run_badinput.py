#!/usr/bin/env python3
"""Bad input must give a clear message naming the cause and a non-zero exit:
never a crash, a hang or a sanitizer report.

Runs each case with the AddressSanitizer + UBSan build of nncc when it exists
(--asan-nncc, built by scripts/test.sh), else with the normal build.
"""
import argparse
import os
import random
import subprocess
import sys

import numpy as np
import onnx
from onnx import helper, numpy_helper, TensorProto


def save_tensor(path, array):
    t = numpy_helper.from_array(array)
    with open(path, "wb") as f:
        f.write(t.SerializeToString())


def small_model(path, op="Relu", extra=None):
    nodes = [helper.make_node(op, ["x"], ["y"], name="first")]
    if extra:
        nodes += extra
    out = nodes[-1].output[0]
    g = helper.make_graph(nodes, "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 3])],
                          [helper.make_tensor_value_info(out, TensorProto.FLOAT, None)])
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)])
    onnx.save(m, path)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--nncc", required=True)
    ap.add_argument("--asan-nncc")
    ap.add_argument("--models", required=True)
    ap.add_argument("--work", required=True)
    args = ap.parse_args()
    nncc = args.asan_nncc if args.asan_nncc and os.path.exists(args.asan_nncc) else args.nncc
    sanitized = nncc == args.asan_nncc
    os.makedirs(args.work, exist_ok=True)
    w = lambda name: os.path.join(args.work, name)
    mlp = os.path.join(args.models, "mlp", "model.onnx")
    mlp_data = os.path.join(args.models, "mlp", "test_data_set_0")

    # --- build the bad inputs ---------------------------------------------
    blob = open(mlp, "rb").read()
    open(w("truncated.onnx"), "wb").write(blob[: len(blob) // 3])
    rng = random.Random(1)
    open(w("random.onnx"), "wb").write(bytes(rng.randrange(256) for _ in range(4096)))
    open(w("empty.onnx"), "wb").write(b"")
    small_model(w("unknown_op.onnx"), "Relu", [
        helper.make_node("FancyAttention", ["y"], ["z"], name="attn0"),
        helper.make_node("Relu", ["z"], ["u"], name="r2"),
        helper.make_node("FancyAttention", ["u"], ["v"], name="attn1"),
        helper.make_node("MagicNorm", ["v"], ["out"], name="norm7")])
    small_model(w("relu.onnx"))
    save_tensor(w("wrong_shape.pb"), np.zeros((64, 700), np.float32))
    save_tensor(w("wrong_dtype.pb"), np.zeros((64, 784), np.float64))
    save_tensor(w("good_small.pb"), np.ones((2, 3), np.float32))
    open(w("random_tensor.pb"), "wb").write(bytes(rng.randrange(256) for _ in range(333)))
    # A model whose initializer claims more data than it holds.
    m = onnx.load(mlp)
    init = m.graph.initializer[0]
    init.raw_data = init.raw_data[:100]
    onnx.save(m, w("short_initializer.onnx"))
    # A Reshape whose shape input is not known at compile time.
    g = helper.make_graph([helper.make_node("Reshape", ["x", "s"], ["y"], name="rs")], "g",
                          [helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 3]),
                           helper.make_tensor_value_info("s", TensorProto.INT64, [2])],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)])
    onnx.save(helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)]), w("dynamic_reshape.onnx"))
    # A recurrent state its output hands back (h -> hn): carried by the
    # trainer, so `nncc train` on shuffled rows refuses it; with a symbolic
    # batch in the state, training refuses it too.
    for name, rows in (("carried.onnx", 4), ("carried_symbolic.onnx", "n")):
        g = helper.make_graph(
            [helper.make_node("MatMul", ["x", "W"], ["p"]), helper.make_node("Add", ["p", "h"], ["q"]),
             helper.make_node("Tanh", ["q"], ["y"]), helper.make_node("Identity", ["y"], ["hn"])], "g",
            [helper.make_tensor_value_info("x", TensorProto.FLOAT, [4, 3]),
             helper.make_tensor_value_info("h", TensorProto.FLOAT, [rows, 3])],
            [helper.make_tensor_value_info("y", TensorProto.FLOAT, [4, 3]),
             helper.make_tensor_value_info("hn", TensorProto.FLOAT, [rows, 3])],
            [numpy_helper.from_array(np.eye(3, dtype=np.float32), name="W")])
        onnx.save(helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)]), w(name))
    # A second input no output hands back (a mask): given for each step.
    g = helper.make_graph(
        [helper.make_node("MatMul", ["x", "W"], ["p"]), helper.make_node("Mul", ["p", "m"], ["y"])], "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [4, 3]),
         helper.make_tensor_value_info("m", TensorProto.FLOAT, [4, 3])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [4, 3])],
        [numpy_helper.from_array(np.eye(3, dtype=np.float32), name="W")])
    onnx.save(helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)]), w("given.onnx"))
    with open(w("rows.csv"), "w") as f:
        f.write("".join("%d,%d,%d,%d\n" % (k, k + 1, k + 2, k % 2) for k in range(8)))
    # An LSTM whose clip is not positive (ONNX: a threshold).
    rng_np = np.random.default_rng(0)
    g = helper.make_graph(
        [helper.make_node("LSTM", ["x", "W", "R"], ["y"], hidden_size=2, clip=-1.0, name="lstm0")], "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 3, 3])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)],
        [numpy_helper.from_array(rng_np.standard_normal((1, 8, 3)).astype(np.float32), name="W"),
         numpy_helper.from_array(rng_np.standard_normal((1, 8, 2)).astype(np.float32), name="R")])
    onnx.save(helper.make_model(g, opset_imports=[helper.make_opsetid("", 14)]), w("negative_clip.onnx"))
    # A model with a symbolic batch dimension.
    g = helper.make_graph([helper.make_node("Relu", ["x"], ["y"])], "g",
                          [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", 3])],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)])
    onnx.save(helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)]), w("symbolic.onnx"))
    # A loop run as a loop (its condition comes from the input n) with a scan
    # output: its length is known only at run time (bundles hold up to
    # --loop-rows rows).
    body = helper.make_graph(
        [helper.make_node("Neg", ["xin"], ["xout"]), helper.make_node("Identity", ["xin"], ["scan"]),
         helper.make_node("Less", ["i", "n"], ["cout"])], "body",
        [helper.make_tensor_value_info("i", TensorProto.INT64, []),
         helper.make_tensor_value_info("c", TensorProto.BOOL, []),
         helper.make_tensor_value_info("xin", TensorProto.FLOAT, [3])],
        [helper.make_tensor_value_info(o, t, s) for o, t, s in (
            ("cout", TensorProto.BOOL, []), ("xout", TensorProto.FLOAT, [3]), ("scan", TensorProto.FLOAT, [3]))])
    g = helper.make_graph([helper.make_node("Loop", ["ten", "", "x"], ["y", "ys"], body=body)], "g",
                          [helper.make_tensor_value_info("x", TensorProto.FLOAT, [3]),
                           helper.make_tensor_value_info("n", TensorProto.INT64, [])],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, None),
                           helper.make_tensor_value_info("ys", TensorProto.FLOAT, None)],
                          [numpy_helper.from_array(np.array(10, np.int64), "ten")])
    onnx.save(helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)]), w("while_scan.onnx"))
    # Sequences: a sequence input, SequenceAt at a position from an input.
    seq_in = helper.make_tensor_sequence_value_info("xs", TensorProto.FLOAT, None)
    g = helper.make_graph([helper.make_node("SequenceAt", ["xs", "pos"], ["y"], name="at")], "g",
                          [seq_in, helper.make_tensor_value_info("pos", TensorProto.INT64, [])],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)])
    onnx.save(helper.make_model(g, opset_imports=[helper.make_opsetid("", 15)]), w("sequence_at.onnx"))
    with open(w("two_tensors.pb"), "wb") as f:
        f.write(onnx.helper.make_sequence("xs", onnx.SequenceProto.TENSOR,
                                          [numpy_helper.from_array(np.ones((2, 3), np.float32)),
                                           numpy_helper.from_array(np.ones((4,), np.float32))]).SerializeToString())
    save_tensor(w("position_5.pb"), np.array(5, np.int64))
    # MaxRoiPool with rois of 4 columns; TfIdfVectorizer with a string pool.
    g = helper.make_graph([helper.make_node("MaxRoiPool", ["x", "rois"], ["y"], pooled_shape=[2, 2], name="pool")],
                          "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 2, 8, 8]),
                                helper.make_tensor_value_info("rois", TensorProto.FLOAT, [3, 4])],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)])
    onnx.save(helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)]), w("roi_pool_4_columns.onnx"))
    g = helper.make_graph([helper.make_node("TfIdfVectorizer", ["x"], ["y"], mode="TF", min_gram_length=1,
                                            max_gram_length=1, max_skip_count=0, ngram_counts=[0],
                                            ngram_indexes=[0, 1], pool_strings=["a", "b"], name="tfidf")],
                          "g", [helper.make_tensor_value_info("x", TensorProto.INT64, [4])],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)])
    onnx.save(helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)]), w("tfidf_strings.onnx"))
    # The indices NonZero finds, their maximum along the dimension whose
    # length only the run knows (an integer maximum has no neutral element
    # to mask the unused entries with).
    g = helper.make_graph([helper.make_node("NonZero", ["x"], ["nz"], name="nonzero"),
                           helper.make_node("ReduceMax", ["nz"], ["y"], keepdims=0, name="total")],
                          "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [3, 4])],
                          [helper.make_tensor_value_info("y", TensorProto.INT64, None)])
    onnx.save(helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)]), w("nonzero_summed.onnx"))
    os.makedirs(w("empty_test_data"), exist_ok=True)
    os.makedirs(w("unwritable"), exist_ok=True)
    open(w("unwritable/file"), "w").write("x")

    cases = [
        ("truncated model", ["run", w("truncated.onnx")], "is not a valid ONNX model"),
        ("random bytes", ["run", w("random.onnx")], "not a valid ONNX model"),
        ("empty file", ["run", w("empty.onnx")], "is empty"),
        ("missing model", ["run", w("nope.onnx")], "cannot open"),
        ("directory as model", ["run", args.work], "is a directory"),
        ("unknown ops named at once", ["run", w("unknown_op.onnx"), "--input", w("good_small.pb")],
         "FancyAttention (nodes 'attn0', 'attn1')"),
        ("unknown ops, second one", ["run", w("unknown_op.onnx"), "--input", w("good_small.pb")],
         "MagicNorm (node 'norm7')"),
        ("wrong input shape", ["run", mlp, "--input", w("wrong_shape.pb")],
         "has shape [64, 700] but the model expects [64, 784]"),
        ("wrong input dtype", ["run", mlp, "--input", w("wrong_dtype.pb")],
         "has element type float64 but the model expects float32"),
        ("missing input file", ["run", mlp, "--input", w("missing.pb")], "cannot open"),
        ("no input given", ["run", mlp], "the model takes 1 input(s)"),
        ("too many inputs", ["run", w("relu.onnx"), "--input", w("good_small.pb"), "--input", w("good_small.pb")],
         "the model takes 1 input(s)"),
        ("random bytes as input", ["run", w("relu.onnx"), "--input", w("random_tensor.pb")], "input 0"),
        ("short initializer", ["run", w("short_initializer.onnx"), "--test-data", mlp_data], "holds 100 bytes"),
        ("clip not positive", ["inspect", w("negative_clip.onnx")], "node 'lstm0': 'nn.lstm' op clip must be positive"),
        ("wrong dtype, 2nd input", ["run", w("dynamic_reshape.onnx"), "--input", w("good_small.pb"), "--input",
                                 w("good_small.pb")], "has element type float32 but the model expects int64"),
        ("test data without outputs", ["run", mlp, "--test-data", w("empty_test_data")], "has no output_*.pb"),
        ("unwritable output dir", ["run", w("relu.onnx"), "--input", w("good_small.pb"), "--output-dir",
                                   w("unwritable/file")], "not a directory"),
        ("unknown option", ["run", mlp, "--frobnicate"], "unknown option '--frobnicate'"),
        ("bad -O level", ["run", w("relu.onnx"), "--input", w("good_small.pb"), "-O7"], "optimization level"),
        ("bad --input-shape", ["run", w("symbolic.onnx"), "--input-shape", "x=2xq"], "not a shape"),
        ("unknown command", ["frobnicate"], "unknown command"),
        ("bad --schedule", ["run", w("relu.onnx"), "--input", w("good_small.pb"), "--schedule", "diagonal"],
         "--schedule takes wavefront or sequential, got 'diagonal'"),
        ("bad --max-parallel-timesteps", ["run", w("relu.onnx"), "--input", w("good_small.pb"),
                                          "--max-parallel-timesteps", "0"], "--max-parallel-timesteps takes"),
        ("bad --rnn-memory", ["bench", "--train", mlp, "--rnn-memory", "half"],
         "--rnn-memory takes store-all, recompute-gates, checkpoint or budget=BYTES"),
        ("bad --rnn-memory budget", ["bench", "--train", mlp, "--rnn-memory", "budget=lots"], "got 'budget=lots'"),
        ("train input of wrong shape", ["bench", "--train", mlp, "--input", w("wrong_shape.pb")],
         "does not have the type and shape of the model's input"),
        ("nncc train, carried states", ["train", w("carried.onnx"), "--data", w("rows.csv"), "--loss", "mse"],
         "is a recurrent state its outputs hand back"),
        ("nncc train, given input", ["train", w("given.onnx"), "--data", w("rows.csv"), "--loss", "mse"],
         "is given for each batch beside the features"),
        ("bench --train, given input missing", ["bench", "--train", w("given.onnx"), "--runs", "1"],
         "give every input of the model, in its order, with --input (2 files)"),
        ("carried state, symbolic shape", ["bench", "--train", w("carried_symbolic.onnx"), "--runs", "1"],
         "has symbolic dimensions"),
        ("loop rows not a count", ["compile", w("while_scan.onnx"), "-target=arm", "--loop-rows=0", "-o",
                                   w("while_out")], "--loop-rows takes a number of rows from 1"),
        ("sequence input, random bytes", ["run", w("sequence_at.onnx"), "--input", w("random_tensor.pb"),
                                          "--input", w("position_5.pb")],
         "input 0: '%s' is not a serialized ONNX SequenceProto" % w("random_tensor.pb")),
        ("sequence input, no length", ["compile", w("sequence_at.onnx"), "-target=x86-64", "-o", w("seq_out")],
         "graph input 'xs' is a sequence, whose length nncc must know at compile time"),
        ("sequence position past the end", ["run", w("sequence_at.onnx"), "--input", w("two_tensors.pb"),
                                            "--input", w("position_5.pb")],
         "position 5 is out of range for a sequence of 2 elements"),
        ("max_roi_pool rois of 4 columns", ["inspect", w("roi_pool_4_columns.onnx")],
         "node 'pool': MaxRoiPool: rois must be [num_rois, 5] (batch index, x1, y1, x2, y2), not [3, 4]"),
        ("tfidf with a string pool", ["inspect", w("tfidf_strings.onnx")], "a pool of strings is not supported"),
        ("nonzero's indices, their maximum", ["compile", w("nonzero_summed.onnx"), "-target=x86-64", "-o",
                                               w("nz_out")],
         "ReduceMax node 'total' reads 'nz', the indices NonZero found: its length (dimension 1) is known only at "
         "run time, and it reduces along that dimension"),
        ("unwritable trace", ["bench", w("relu.onnx"), "--runs", "1", "--trace", w("unwritable/file/t.json")],
         "cannot write the trace"),
    ]
    failures = 0
    for title, argv, expect in cases:
        try:
            p = subprocess.run([nncc] + argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               errors="replace", timeout=300,
                               env=dict(os.environ, ASAN_OPTIONS="detect_leaks=1:abort_on_error=0",
                                        UBSAN_OPTIONS="print_stacktrace=1"))
        except subprocess.TimeoutExpired:
            print("FAIL  %-28s hung (timeout)" % title)
            failures += 1
            continue
        out = p.stdout + p.stderr
        problems = []
        if p.returncode == 0:
            problems.append("exit code 0")
        if p.returncode < 0:
            problems.append("killed by signal %d" % -p.returncode)
        if "AddressSanitizer" in out or "LeakSanitizer" in out or "runtime error:" in out:
            problems.append("sanitizer report")
        if expect not in out:
            problems.append("message lacks %r" % expect)
        if problems:
            failures += 1
            print("FAIL  %-28s %s\n      output: %s" % (title, "; ".join(problems), out.strip()[:2000]))
        else:
            print("ok    %-28s %s" % (title, out.strip().splitlines()[0][:150]))
    print("%d of %d bad-input cases behave%s" % (len(cases) - failures, len(cases),
                                                 " (AddressSanitizer + UBSan build)" if sanitized else ""))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
