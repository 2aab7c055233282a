#!/usr/bin/env python3
"""`nncc compile` bundles, linked into a C (and a C++) program and run:
for AArch64 under qemu-aarch64, for x86-64 natively. Outputs are compared
with the references (rtol 1e-3; atol 1e-4 for the models, 1e-7 for node
tests). Also checks the AArch64 hot loops use NEON FMAs, and that bad
targets, bad models and unwritable directories fail cleanly.

  run_bundle_tests.py --nncc build/tools/nncc --models build/models --work DIR
                      [--target arm|x86|all] [-k PATTERN]
"""
import argparse
import os
import re
import shutil
import subprocess
import sys

import numpy as np
import onnx
from onnx import numpy_helper

HERE = os.path.dirname(os.path.abspath(__file__))
NODE = "/usr/share/libonnx-testdata/data/node"
MODELS = ["mlp", "resnet18", "mobilenet_v2", "squeezenet1_1", "lstm_lm", "gru_2layer", "transformer_enc"]
NODE_TESTS = [
    "test_conv_with_strides_and_asymmetric_padding", "test_conv_with_strides_padding", "test_basic_conv_with_padding",
    "test_convtranspose", "test_convtranspose_pads", "test_maxpool_2d_pads", "test_maxpool_2d_strides",
    "test_nonmaxsuppression_two_batches", "test_tfidfvectorizer_tf_batch_uniandbigrams_skip5", "test_nonzero_example",
    "test_unique_sorted_with_axis_3d",
    "test_averagepool_2d_pads", "test_averagepool_3d_default", "test_globalaveragepool", "test_gemm_all_attributes",
    "test_gemm_default_matrix_bias", "test_matmul_4d", "test_matmul_2d", "test_add_bcast", "test_mul",
    "test_relu", "test_sigmoid", "test_tanh", "test_clip", "test_softmax_axis_1", "test_logsoftmax_axis_1",
    "test_batchnorm_example", "test_layer_normalization_3d_axis1_epsilon", "test_lstm_defaults",
    "test_lstm_with_initial_bias", "test_lstm_with_peepholes", "test_gru_defaults", "test_gru_seq_length",
    "test_rnn_seq_length", "test_reduce_mean_keepdims_example", "test_transpose_all_permutations_3",
    "test_concat_3d_axis_1", "test_gather_0", "test_pow", "test_argmax_keepdims_example",
]
TARGETS = {
    "arm": dict(cc="aarch64-linux-gnu-gcc", cxx="aarch64-linux-gnu-g++",
                run=["qemu-aarch64", "-L", "/usr/aarch64-linux-gnu"], objdump="aarch64-linux-gnu-objdump"),
    "x86": dict(cc="gcc", cxx="g++", run=[], objdump="objdump"),
}


def run(cmd, **kw):
    return subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, errors="replace", **kw)


def compare(actual, expected, rtol, atol):
    if actual.shape != expected.shape:
        return "shape %s vs %s" % (actual.shape, expected.shape)
    if expected.dtype.kind in "fc":
        a, e = actual.astype(np.float64), expected.astype(np.float64)
        bad = ~((np.abs(a - e) <= atol + rtol * np.abs(e)) | (np.isnan(a) & np.isnan(e)))
    else:
        bad = actual != expected
    if bad.any():
        i = int(np.argmax(bad.reshape(-1)))
        return "%d of %d differ; first at %d: %r vs %r" % (bad.sum(), bad.size, i, actual.reshape(-1)[i],
                                                           expected.reshape(-1)[i])
    return None


def bundle_case(args, target, name, model, data, atol, cxx=False, flags=(), fails_with=None, compile_says=None):
    """Compiles `model` with `flags` (nncc compile printing `compile_says`),
    runs the bundle on `data` and compares its outputs; with `fails_with`,
    the run must fail saying that instead."""
    t = TARGETS[target]
    work = os.path.join(args.work, target, name)
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    p = run([args.nncc, "compile", model, "-target=" + target, "--name", name, "-o", work] + list(flags))
    if p.returncode:
        return "nncc compile failed: " + p.stdout.strip()[-800:]
    if compile_says and compile_says not in p.stdout:
        return "nncc compile did not say %r: %s" % (compile_says, p.stdout.strip()[-800:])
    compiler = t["cxx"] if cxx else t["cc"]
    src = os.path.join(work, "harness.cpp" if cxx else "harness.c")
    shutil.copy(os.path.join(HERE, "harness.c"), src)
    exe = os.path.join(work, "harness")
    cmd = [compiler, "-O1", "-DBUNDLE=" + name, '-DBUNDLE_HEADER="%s.h"' % name, "-I" + work, src,
           os.path.join(work, name + ".o"), os.path.join(work, "libnncc_rt.a"), "-lm", "-o", exe]
    if "--weights=external" in flags:
        cmd.insert(1, '-DWEIGHTS_FILE="%s"' % os.path.join(work, name + ".weights.bin"))
    if not cxx:
        cmd.insert(1, "-std=c11")
    p = run(cmd)
    if p.returncode:
        return "link failed: " + p.stdout.strip()[-800:]
    m = onnx.load(model, load_external_data=False)
    inits = {i.name for i in m.graph.initializer}
    inputs = [i for i in m.graph.input if i.name not in inits]
    ins, outs, expected = [], [], []
    for k in range(len(inputs)):
        arr = numpy_helper.to_array(onnx.load_tensor(os.path.join(data, "input_%d.pb" % k)))
        path = os.path.join(work, "in_%d.bin" % k)
        np.ascontiguousarray(arr).tofile(path)
        ins.append(path)
    k = 0
    while os.path.exists(os.path.join(data, "output_%d.pb" % k)):
        expected.append(numpy_helper.to_array(onnx.load_tensor(os.path.join(data, "output_%d.pb" % k))))
        outs.append(os.path.join(work, "out_%d.bin" % k))
        k += 1
    p = run(t["run"] + [exe] + ins + outs, timeout=900)
    if fails_with:
        if p.returncode == 0 or fails_with not in p.stdout:
            return "expected the run to fail with %r; it returned %d: %s" % (fails_with, p.returncode,
                                                                             p.stdout.strip()[-400:])
        return None
    if p.returncode:
        return "run failed (%d): %s" % (p.returncode, p.stdout.strip()[-800:])
    for path, e in zip(outs, expected):
        a = np.fromfile(path, dtype=e.dtype).reshape(e.shape)
        why = compare(a, e, 1e-3, atol)
        if why:
            return "%s: %s" % (os.path.basename(path), why)
    return None


def neon_check(args):
    """The AArch64 GEMM (behind conv and matmul) and the generated elementwise
    loops use NEON vector arithmetic."""
    work = os.path.join(args.work, "arm", "resnet18")
    lib = os.path.join(work, "libnncc_rt.a")
    if not os.path.exists(lib):
        return "no AArch64 runtime archive in " + work
    dis = run([TARGETS["arm"]["objdump"], "-d", "--demangle", lib]).stdout
    problems = []
    gemm = re.search(r"<void nncc::kernels::gemm<float>\(.*?>:\n(.*?)\n\n", dis, re.S)
    if not gemm:
        problems.append("nncc::kernels::gemm<float> not found in the disassembly")
    elif len(re.findall(r"\bfmla\s+v\d+\.4s", gemm.group(1))) < 4:
        problems.append("fewer than 4 `fmla vN.4s` in nncc::kernels::gemm<float>")
    if not re.search(r"<nncc_conv>:", dis):
        problems.append("nncc_conv not in the runtime")
    # resnet18's activations and residual sums are fused into its convolution
    # calls; the transformer's layer norms, GELUs and softmaxes are generated.
    obj = os.path.join(args.work, "arm", "transformer_enc", "transformer_enc.o")
    model_dis = run([TARGETS["arm"]["objdump"], "-d", obj]).stdout
    if not re.search(r"\b(fmax|fadd|fmla|fmul)\s+v\d+\.4s", model_dis):
        problems.append("no NEON vector arithmetic in the generated model code (transformer_enc.o)")
    return "; ".join(problems) or None


def bad_input(args):
    work = os.path.join(args.work, "bad")
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    mlp = os.path.join(args.models, "mlp", "model.onnx")
    open(os.path.join(work, "blocker"), "w").write("a file, not a directory")
    # A Caffe2 NetDef (written in protobuf wire format): recognised and refused.
    def varint(v):
        out = b""
        while True:
            b, v = v & 0x7F, v >> 7
            out += bytes([b | 0x80 if v else b])
            if not v:
                return out
    field = lambda n, payload: varint(n << 3 | 2) + varint(len(payload)) + payload
    netdef = os.path.join(work, "predict_net.pb")
    open(netdef, "wb").write(field(1, b"net") + field(2, field(1, b"x") + field(2, b"c") + field(4, b"Conv")) +
                             field(2, field(1, b"c") + field(2, b"r") + field(4, b"Relu")))
    cases = [
        ([mlp, "-target=sparc9000", "-o", work + "/x"], "unknown target 'sparc9000'"),
        ([mlp, "-target=arm", "-mcpu=pentium4", "-o", work + "/x"], "unknown CPU 'pentium4' for aarch64"),
        ([mlp, "-target=arm", "-mcpu=native", "-o", work + "/x"], "not a aarch64 CPU"),
        ([os.path.join(HERE, "harness.c"), "-target=arm", "-o", work + "/y"], "not a valid ONNX model"),
        ([mlp, "-target=arm", "-o", work + "/blocker/out"], "blocker"),
        ([mlp, "-target=arm", "--name", "3bad-name", "-o", work + "/z"], "must be a C identifier"),
        ([netdef, "-target=arm", "-o", work + "/w"], "is a Caffe2 NetDef (operators Conv, Relu)"),
    ]
    problems = []
    for argv, expect in cases:
        p = run([args.nncc, "compile"] + argv)
        if p.returncode == 0 or expect not in p.stdout:
            problems.append("%s: exit %d, %r" % (" ".join(argv[1:2]), p.returncode, p.stdout.strip()[:300]))
    for d in ["x", "y", "z", "w"]:
        if os.path.exists(os.path.join(work, d)) and os.listdir(os.path.join(work, d)):
            problems.append("files left in %s after a failed compile" % d)
    return "; ".join(problems) or None


def while_loop_model(work):
    """An ONNX Loop whose trip count M is an input and whose body computes its
    condition (sum(x) < limit): a bundle runs it as a loop. Two data sets, one
    stopped by M and one by the condition; the expected outputs come from the
    same loop in NumPy."""
    from onnx import TensorProto, helper
    body = helper.make_graph([
        helper.make_node("Mul", ["xin", "two"], ["x2"]),
        helper.make_node("Add", ["x2", "b"], ["xout"]),
        helper.make_node("ReduceSum", ["xout"], ["s"], keepdims=0),
        helper.make_node("Less", ["s", "limit"], ["cout"]),
    ], "body", [helper.make_tensor_value_info("i", TensorProto.INT64, []),
                helper.make_tensor_value_info("c", TensorProto.BOOL, []),
                helper.make_tensor_value_info("xin", TensorProto.FLOAT, [4])],
        [helper.make_tensor_value_info("cout", TensorProto.BOOL, []),
         helper.make_tensor_value_info("xout", TensorProto.FLOAT, [4])],
        [helper.make_tensor("two", TensorProto.FLOAT, [], [2.0])])
    graph = helper.make_graph([helper.make_node("Loop", ["M", "", "x"], ["y"], body=body)], "while_loop",
                              [helper.make_tensor_value_info("M", TensorProto.INT64, []),
                               helper.make_tensor_value_info("x", TensorProto.FLOAT, [4]),
                               helper.make_tensor_value_info("b", TensorProto.FLOAT, [4]),
                               helper.make_tensor_value_info("limit", TensorProto.FLOAT, [])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [4])])
    root = os.path.join(work, "while_loop")
    os.makedirs(root, exist_ok=True)
    model = os.path.join(root, "model.onnx")
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)]), model)
    sets = []
    for k, (trips, limit) in enumerate([(3, 1e9), (100, 1000.0)]):
        x, b = np.array([1, 2, 3, 4], np.float32), np.full(4, 0.5, np.float32)
        y, i, go = x.copy(), 0, True
        while i < trips and go:
            y = (y * np.float32(2) + b).astype(np.float32)
            go, i = bool(y.sum() < limit), i + 1
        data = os.path.join(root, "test_data_set_%d" % k)
        os.makedirs(data, exist_ok=True)
        for j, arr in enumerate([np.array(trips, np.int64), x, b, np.array(limit, np.float32)]):
            with open(os.path.join(data, "input_%d.pb" % j), "wb") as f:
                f.write(numpy_helper.from_array(arr).SerializeToString())
        with open(os.path.join(data, "output_0.pb"), "wb") as f:
            f.write(numpy_helper.from_array(y).SerializeToString())
        sets.append(data)
    return model, sets


def save_data_set(root, k, inputs, outputs):
    data = os.path.join(root, "test_data_set_%d" % k)
    os.makedirs(data, exist_ok=True)
    for kind, arrays in (("input", inputs), ("output", outputs)):
        for j, arr in enumerate(arrays):
            with open(os.path.join(data, "%s_%d.pb" % (kind, j)), "wb") as f:
                f.write(numpy_helper.from_array(arr).SerializeToString())
    return data


def while_scan_model(work):
    """An ONNX Loop with scan outputs whose iterations only the run knows (the
    trip count M is an input and the body computes its condition): each
    iteration writes a row of x and its iteration number. The bundle's
    buffers hold a capacity of rows and NAME_run_rows reports how many the
    run wrote. Data sets stopped by M (0 and 3 iterations) and by the
    condition; the expected outputs come from the same loop in NumPy."""
    from onnx import TensorProto, helper
    body = helper.make_graph([
        helper.make_node("Mul", ["xin", "two"], ["x2"]),
        helper.make_node("Add", ["x2", "b"], ["xout"]),
        helper.make_node("ReduceSum", ["xout"], ["s"], keepdims=0),
        helper.make_node("Less", ["s", "limit"], ["cout"]),
        helper.make_node("Identity", ["xout"], ["xs"]),
        helper.make_node("Identity", ["i"], ["is"]),
    ], "body", [helper.make_tensor_value_info("i", TensorProto.INT64, []),
                helper.make_tensor_value_info("c", TensorProto.BOOL, []),
                helper.make_tensor_value_info("xin", TensorProto.FLOAT, [4])],
        [helper.make_tensor_value_info("cout", TensorProto.BOOL, []),
         helper.make_tensor_value_info("xout", TensorProto.FLOAT, [4]),
         helper.make_tensor_value_info("xs", TensorProto.FLOAT, [4]),
         helper.make_tensor_value_info("is", TensorProto.INT64, [])],
        [helper.make_tensor("two", TensorProto.FLOAT, [], [2.0])])
    graph = helper.make_graph([helper.make_node("Loop", ["M", "", "x"], ["y", "ys", "iters"], body=body)],
                              "while_scan",
                              [helper.make_tensor_value_info("M", TensorProto.INT64, []),
                               helper.make_tensor_value_info("x", TensorProto.FLOAT, [4]),
                               helper.make_tensor_value_info("b", TensorProto.FLOAT, [4]),
                               helper.make_tensor_value_info("limit", TensorProto.FLOAT, [])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [4]),
                               helper.make_tensor_value_info("ys", TensorProto.FLOAT, ["n", 4]),
                               helper.make_tensor_value_info("iters", TensorProto.INT64, ["n"])])
    root = os.path.join(work, "while_scan")
    os.makedirs(root, exist_ok=True)
    model = os.path.join(root, "model.onnx")
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)]), model)
    sets = {}
    for trips, limit in [(0, 1e9), (3, 1e9), (4, 1e9), (100, 1000.0), (100, 1e9)]:
        x, b = np.array([1, 2, 3, 4], np.float32), np.full(4, 0.5, np.float32)
        y, i, go, ys = x.copy(), 0, True, []
        while i < trips and go:
            y = (y * np.float32(2) + b).astype(np.float32)
            ys.append(y)
            go, i = bool(y.sum() < limit), i + 1
        rows = np.array(ys, np.float32).reshape(-1, 4)
        sets[(trips, limit)] = save_data_set(
            root, len(sets), [np.array(trips, np.int64), x, b, np.array(limit, np.float32)],
            [y, rows, np.arange(len(ys), dtype=np.int64)])
    return model, sets


def long_scan_model(work):
    """A Scan of 100 steps (more than nncc unrolls: it runs as a loop, gathering
    step t of x and writing row t of the scan outputs), x read backwards:
    s <- tanh(s + x_t), outputs 2 s and x_t, the second reversed and along
    axis 1. The expected outputs come from NumPy."""
    from onnx import TensorProto, helper
    T = 100
    body = helper.make_graph([
        helper.make_node("Add", ["s", "xt"], ["a"]),
        helper.make_node("Tanh", ["a"], ["s2"]),
        helper.make_node("Mul", ["s2", "two"], ["y"]),
        helper.make_node("Identity", ["xt"], ["xo"]),
    ], "body", [helper.make_tensor_value_info("s", TensorProto.FLOAT, [4]),
                helper.make_tensor_value_info("xt", TensorProto.FLOAT, [4])],
        [helper.make_tensor_value_info("s2", TensorProto.FLOAT, [4]),
         helper.make_tensor_value_info("y", TensorProto.FLOAT, [4]),
         helper.make_tensor_value_info("xo", TensorProto.FLOAT, [4])],
        [helper.make_tensor("two", TensorProto.FLOAT, [], [2.0])])
    graph = helper.make_graph([helper.make_node("Scan", ["s0", "x"], ["sT", "ys", "xs"], body=body,
                                                num_scan_inputs=1, scan_input_directions=[1],
                                                scan_output_directions=[0, 1], scan_output_axes=[0, 1])],
                              "long_scan",
                              [helper.make_tensor_value_info("s0", TensorProto.FLOAT, [4]),
                               helper.make_tensor_value_info("x", TensorProto.FLOAT, [T, 4])],
                              [helper.make_tensor_value_info("sT", TensorProto.FLOAT, [4]),
                               helper.make_tensor_value_info("ys", TensorProto.FLOAT, [T, 4]),
                               helper.make_tensor_value_info("xs", TensorProto.FLOAT, [4, T])])
    root = os.path.join(work, "long_scan")
    data = os.path.join(root, "test_data_set_0")
    os.makedirs(data, exist_ok=True)
    model = os.path.join(root, "model.onnx")
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)]), model)
    rng = np.random.default_rng(3)
    s0, x = rng.standard_normal(4).astype(np.float32), rng.standard_normal((T, 4)).astype(np.float32)
    s, ys, xs = s0.copy(), [], []
    for t in range(T):
        s = np.tanh(s + x[T - 1 - t]).astype(np.float32)
        ys.append(2 * s)
        xs.append(x[T - 1 - t])
    xs = np.stack(xs[::-1]).T  # reversed: step t in column T - 1 - t
    for j, arr in enumerate([s0, x]):
        with open(os.path.join(data, "input_%d.pb" % j), "wb") as f:
            f.write(numpy_helper.from_array(arr).SerializeToString())
    for j, arr in enumerate([s, np.stack(ys), np.ascontiguousarray(xs)]):
        with open(os.path.join(data, "output_%d.pb" % j), "wb") as f:
            f.write(numpy_helper.from_array(arr).SerializeToString())
    return model, data


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--nncc", required=True)
    ap.add_argument("--models", required=True)
    ap.add_argument("--work", required=True)
    ap.add_argument("--target", default="all", choices=["arm", "x86", "all"])
    ap.add_argument("-k", dest="pattern")
    args = ap.parse_args()
    targets = ["arm", "x86"] if args.target == "all" else [args.target]
    cases = []
    for target in targets:
        for m in MODELS:
            cases.append((target, m, os.path.join(args.models, m, "model.onnx"),
                          os.path.join(args.models, m, "test_data_set_0"), 1e-4, False))
        for t in NODE_TESTS:
            cases.append((target, t[5:], os.path.join(NODE, t, "model.onnx"),
                          os.path.join(NODE, t, "test_data_set_0"), 1e-7, False))
    # An ONNX Loop run as a loop (trip count and condition from the data).
    loop_model, loop_sets = while_loop_model(args.work)
    for target in targets:
        for k, data in enumerate(loop_sets):
            cases.append((target, "while_loop_%d" % k, loop_model, data, 1e-7, False))
    # Its scan outputs: rows as many as the run made, up to a capacity; a run
    # needing more than --loop-rows fails with 2.
    scan_loop, scan_sets = while_scan_model(args.work)
    for target in targets:
        for (trips, limit), data in scan_sets.items():
            if (trips, limit) not in [(100, 1e9), (4, 1e9)]:  # (30 iterations; 4: below)
                cases.append((target, "while_scan_%d_%d" % (trips, min(limit, 9999)), scan_loop, data, 1e-7, False))
        cases.append((target, "while_scan_rows_4", scan_loop, scan_sets[(3, 1e9)], 1e-7, False,
                      ["--loop-rows=4"], None, "output 1 ('ys') has rows known only at run time (a loop's scan output, the entries NonMaxSuppression, NonZero, Unique or Compress found): room for 4; while_scan_rows_4_run_rows tells how many a run wrote, and a run needing more returns 2 (--loop-rows=N)"))
        cases.append((target, "while_scan_rows_4_full", scan_loop, scan_sets[(4, 1e9)], 1e-7, False,
                      ["--loop-rows=4"]))
        cases.append((target, "while_scan_ran_out", scan_loop, scan_sets[(100, 1e9)], 1e-7, False,
                      ["--loop-rows=4"], "run returned 2"))
    cases.append(("x86", "while_scan_cxx", scan_loop, scan_sets[(100, 1000.0)], 1e-7, True))
    scan_model, scan_data = long_scan_model(args.work)
    if "(nn.loop)" not in run([args.nncc, "inspect", scan_model]).stdout:
        print("FAIL      long_scan: the 100-step Scan was not imported as a loop")
        return 1
    for target in targets:
        cases.append((target, "long_scan", scan_model, scan_data, 1e-5, False))
    cases.append(("x86", "mlp_cxx", os.path.join(args.models, "mlp", "model.onnx"),
                  os.path.join(args.models, "mlp", "test_data_set_0"), 1e-4, True))
    # Weights in NAME.weights.bin, handed over by the harness (NAME_run
    # returns 1 before).
    for target in targets:
        cases.append((target, "mlp_external", os.path.join(args.models, "mlp", "model.onnx"),
                      os.path.join(args.models, "mlp", "test_data_set_0"), 1e-4, False, ["--weights=external"]))
    # A model is recognised by content: an ONNX model saved as model.pb works.
    os.makedirs(args.work, exist_ok=True)
    renamed = os.path.join(args.work, "mlp_as_pb.pb")
    shutil.copy(os.path.join(args.models, "mlp", "model.onnx"), renamed)
    cases.append(("arm", "mlp_as_pb", renamed, os.path.join(args.models, "mlp", "test_data_set_0"), 1e-4, False))
    failures = 0
    for target, name, model, data, atol, cxx, *more in cases:
        if args.pattern and not re.search(args.pattern, name):
            continue
        why = bundle_case(args, target, name, model, data, atol, cxx, *more)
        print("%-4s %-4s %-45s %s" % ("FAIL" if why else "ok", target, name + (" (C++)" if cxx else ""), why or ""))
        sys.stdout.flush()
        failures += bool(why)
    for title, check in [("NEON in the AArch64 hot loops", neon_check), ("bad input", bad_input)]:
        if args.pattern and "arm" not in targets:
            continue
        why = check(args)
        print("%-4s      %-45s %s" % ("FAIL" if why else "ok", title, why or ""))
        failures += bool(why)
    print("%d failure(s)" % failures)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
