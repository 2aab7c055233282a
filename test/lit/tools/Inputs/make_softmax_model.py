"""Writes a small ONNX model (Gemm + Softmax) and one test-data set."""
import os
import sys

import numpy as np
import onnx
from onnx import helper, numpy_helper, TensorProto

out = sys.argv[1]
os.makedirs(os.path.join(out, "data"), exist_ok=True)
rng = np.random.default_rng(0)
w = rng.standard_normal((4, 3)).astype(np.float32)
x = rng.standard_normal((2, 4)).astype(np.float32)
g = helper.make_graph(
    [helper.make_node("Gemm", ["x", "w"], ["h"], name="fc"),
     helper.make_node("Softmax", ["h"], ["y"], name="softmax", axis=1)],
    "softmax_model",
    [helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 4])],
    [helper.make_tensor_value_info("y", TensorProto.FLOAT, [2, 3])],
    [numpy_helper.from_array(w, "w")])
onnx.save(helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)]), os.path.join(out, "model.onnx"))
h = x @ w
e = np.exp(h - h.max(axis=1, keepdims=True))
y = e / e.sum(axis=1, keepdims=True)
for name, arr in [("input_0.pb", x), ("output_0.pb", y)]:
    with open(os.path.join(out, "data", name), "wb") as f:
        f.write(numpy_helper.from_array(arr).SerializeToString())
