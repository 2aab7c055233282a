#!/usr/bin/env python3
"""ONNX operators without backend test data, against PyTorch.

Builds each case as an ONNX backend-test folder (model.onnx, input_*.pb,
output_*.pb) in WORK, the expected outputs computed by PyTorch or
torchvision, and runs `nncc run --test-data` on it:

  - MaxRoiPool: torchvision.ops.roi_pool (Caffe's ROI pooling), rois that
    reach past the image, fractional scales, several batches;
  - LpNormalization: torch.nn.functional.normalize, p 1 and 2, axes.

  check_torch_ops.py NNCC WORK
"""
import os
import subprocess
import sys

import numpy as np
import onnx
import torch
import torchvision
from onnx import helper, numpy_helper, TensorProto


def write_case(work, name, node, inputs, outputs, opset=13):
    folder = os.path.join(work, name)
    data = os.path.join(folder, "test_data_set_0")
    os.makedirs(data, exist_ok=True)
    graph = helper.make_graph(
        [node], name,
        [helper.make_tensor_value_info(n, TensorProto.FLOAT, list(v.shape)) for n, v in inputs],
        [helper.make_tensor_value_info(n, TensorProto.FLOAT, list(v.shape)) for n, v in outputs])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])
    onnx.save(model, os.path.join(folder, "model.onnx"))
    for k, (n, v) in enumerate(inputs):
        with open(os.path.join(data, "input_%d.pb" % k), "wb") as f:
            f.write(numpy_helper.from_array(v, n).SerializeToString())
    for k, (n, v) in enumerate(outputs):
        with open(os.path.join(data, "output_%d.pb" % k), "wb") as f:
            f.write(numpy_helper.from_array(v, n).SerializeToString())
    return folder


def cases(rng):
    # MaxRoiPool: (batch index, x1, y1, x2, y2), some past the image.
    def random_rois(count, n, extent):
        xs, ys = (np.sort(rng.uniform(-8, extent, size=(count, 2)), axis=1) for _ in range(2))
        return [[k % n, xs[k, 0], ys[k, 0], xs[k, 1], ys[k, 1]] for k in range(count)]
    for (n, c, h, w), rois, pooled, scale in [
        ((1, 3, 10, 12), [[0, 1, 1, 8, 6], [0, 0, 0, 11, 9], [0, 4.4, 2.6, 4.4, 2.6]], (3, 2), 1.0),
        ((2, 4, 16, 16), [[1, 2, 3, 30, 25], [0, -6, -4, 10, 40], [1, 20, 20, 40, 40], [0, 0, 0, 0, 0]], (7, 7), 0.5),
        ((2, 8, 20, 24), random_rois(6, 2, 90), (5, 4), 0.25),
    ]:
        x = rng.standard_normal((n, c, h, w)).astype(np.float32)
        r = np.array(rois, dtype=np.float32)
        y = torchvision.ops.roi_pool(torch.from_numpy(x), torch.from_numpy(r), pooled, scale).numpy()
        node = helper.make_node("MaxRoiPool", ["x", "rois"], ["y"], pooled_shape=list(pooled), spatial_scale=scale)
        yield "max_roi_pool_%dx%d_%s" % (pooled[0], pooled[1], str(scale).replace(".", "_")), node, \
            [("x", x), ("rois", r)], [("y", y)]
    # LpNormalization
    x = rng.standard_normal((3, 5, 7)).astype(np.float32)
    for p in (1, 2):
        for axis in (-1, 0, 1):
            y = torch.nn.functional.normalize(torch.from_numpy(x), p=p, dim=axis, eps=0).numpy()
            node = helper.make_node("LpNormalization", ["x"], ["y"], p=p, axis=axis)
            yield "lp_normalization_p%d_axis%d" % (p, axis), node, [("x", x)], [("y", y)]


def main():
    nncc, work = sys.argv[1], sys.argv[2]
    rng = np.random.default_rng(3)
    failed = 0
    count = 0
    for name, node, inputs, outputs in cases(rng):
        folder = write_case(work, name, node, inputs, outputs)
        p = subprocess.run([nncc, "run", os.path.join(folder, "model.onnx"), "--test-data",
                            os.path.join(folder, "test_data_set_0"), "--quiet", "--atol", "1e-6"],
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        count += 1
        if p.returncode != 0:
            failed += 1
            print("FAIL %s: %s" % (name, p.stdout.strip()))
        else:
            print("ok   %s" % name)
    print("%d of %d cases match PyTorch" % (count - failed, count))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
