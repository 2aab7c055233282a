"""Writes Conv -> BatchNormalization -> Relu (ONNX, opset 13) with random
weights and statistics, and a test-data set computed with numpy."""
import os
import sys

import numpy as np
import onnx
from onnx import helper, numpy_helper, TensorProto

out = sys.argv[1]
os.makedirs(os.path.join(out, "data"), exist_ok=True)
rng = np.random.default_rng(1)
N, C, H, W, M = 2, 3, 6, 5, 4
x = rng.standard_normal((N, C, H, W)).astype(np.float32)
w = rng.standard_normal((M, C, 3, 3)).astype(np.float32)
b = rng.standard_normal(M).astype(np.float32)
gamma = rng.uniform(0.5, 2, M).astype(np.float32)
beta = rng.standard_normal(M).astype(np.float32)
mean = rng.standard_normal(M).astype(np.float32)
var = rng.uniform(0.5, 2, M).astype(np.float32)
eps = 1e-3
g = helper.make_graph(
    [helper.make_node("Conv", ["x", "w", "b"], ["c"], name="conv", pads=[1, 1, 1, 1]),
     helper.make_node("BatchNormalization", ["c", "gamma", "beta", "mean", "var"], ["n"], name="bn", epsilon=eps),
     helper.make_node("Relu", ["n"], ["y"], name="relu")],
    "conv_bn",
    [helper.make_tensor_value_info("x", TensorProto.FLOAT, [N, C, H, W])],
    [helper.make_tensor_value_info("y", TensorProto.FLOAT, [N, M, H, W])],
    [numpy_helper.from_array(a, n) for a, n in
     [(w, "w"), (b, "b"), (gamma, "gamma"), (beta, "beta"), (mean, "mean"), (var, "var")]])
onnx.save(helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)]), os.path.join(out, "model.onnx"))

xp = np.pad(x.astype(np.float64), ((0, 0), (0, 0), (1, 1), (1, 1)))
c = np.zeros((N, M, H, W))
for i in range(3):
    for j in range(3):
        c += np.einsum("nchw,mc->nmhw", xp[:, :, i:i + H, j:j + W], w[:, :, i, j].astype(np.float64))
c += b[None, :, None, None]
n = (c - mean[None, :, None, None]) / np.sqrt(var[None, :, None, None] + eps) * gamma[None, :, None, None] \
    + beta[None, :, None, None]
y = np.maximum(n, 0).astype(np.float32)
for name, arr in [("input_0.pb", x), ("output_0.pb", y)]:
    with open(os.path.join(out, "data", name), "wb") as f:
        f.write(numpy_helper.from_array(arr).SerializeToString())
