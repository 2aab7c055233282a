#!/usr/bin/env python3
"""ONNX operators without (enough) backend test data, against PyTorch.

Builds each case as an ONNX backend-test folder (model.onnx, input_*.pb,
output_*.pb) in WORK, the expected outputs computed by PyTorch or
torchvision (a NumPy reference where PyTorch has no such operator), and
runs `nncc run --test-data` on it:

  - MaxRoiPool: torchvision.ops.roi_pool (Caffe's ROI pooling), rois that
    reach past the image, fractional scales, several batches;
  - LpNormalization: torch.nn.functional.normalize, p 1 and 2, axes;
  - TfIdfVectorizer in IDF and TFIDF modes with weights (the backend data
    has TF only): the ONNX definition written out in NumPy;
  - outputs whose length depends on the data, as PyTorch exports them:
    boolean-mask indexing (NonZero, Transpose, GatherND and the ops after
    them), torch.nonzero, torch.unique (with and without dim, inverse and
    counts), and the boxes torchvision.ops.nms keeps, gathered in the graph.

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


def tfidf_reference(x, pool, counts, indexes, weights, min_n, max_n, max_skip, mode):
    """ONNX TfIdfVectorizer: n-grams of tokens skip + 1 apart, counted into
    the column of their pool entry (unigrams once per position)."""
    rows = x.reshape(-1, x.shape[-1])
    grams = {}  # n-gram -> its index in the pool's order
    j = 0
    bounds = list(counts) + [len(pool)]
    for level in range(len(counts)):
        n = level + 1
        for g in range(bounds[level], bounds[level + 1], n):
            grams[tuple(pool[g:g + n])] = j
            j += 1
    width = max(indexes) + 1
    y = np.zeros((rows.shape[0], width), np.float32)
    for r, row in enumerate(rows):
        for n in range(min_n, max_n + 1):
            for skip in range(0, 1 if n == 1 else max_skip + 1):
                for i in range(len(row) - (n - 1) * (skip + 1)):
                    key = tuple(int(v) for v in row[i:i + (n - 1) * (skip + 1) + 1:skip + 1])
                    if key in grams:
                        y[r, indexes[grams[key]]] += 1
    w = np.ones(len(indexes), np.float32) if weights is None else np.asarray(weights, np.float32)
    out = y.copy()
    for g, c in enumerate(indexes):
        out[:, c] = (y[:, c] > 0) * w[g] if mode == "IDF" else y[:, c] * w[g] if mode == "TFIDF" else y[:, c]
    return out.reshape(x.shape[:-1] + (width,))


def write_case(work, name, node, inputs, outputs, opset=13):
    """`node` is an ONNX node, or a torch module that torch.onnx exports."""
    folder = os.path.join(work, name)
    data = os.path.join(folder, "test_data_set_0")
    os.makedirs(data, exist_ok=True)
    if isinstance(node, torch.nn.Module):
        opset = getattr(node, "opset", opset)
        torch.onnx.export(node, tuple(torch.from_numpy(v) for _, v in inputs), os.path.join(folder, "model.onnx"),
                          input_names=[n for n, _ in inputs], output_names=[n for n, _ in outputs],
                          opset_version=opset)
    else:
        graph = helper.make_graph(
            [node], name,
            [helper.make_tensor_value_info(n, onnx.mapping.NP_TYPE_TO_TENSOR_TYPE[v.dtype], list(v.shape))
             for n, v in inputs],
            [helper.make_tensor_value_info(n, onnx.mapping.NP_TYPE_TO_TENSOR_TYPE[v.dtype], list(v.shape))
             for n, v in outputs])
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
        if scale == 0.5:  # in half precision (the max is exact in either)
            xh, rh = x.astype(np.float16), r.astype(np.float16)
            yh = torchvision.ops.roi_pool(torch.from_numpy(xh.astype(np.float32)),
                                          torch.from_numpy(rh.astype(np.float32)), pooled, scale).numpy()
            yield "max_roi_pool_f16", node, [("x", xh), ("rois", rh)], [("y", yh.astype(np.float16))]
    # LpNormalization, a zero vector along the last axis staying zero (as in
    # ONNX Runtime; PyTorch's eps=0 would divide 0 by 0).
    x = rng.standard_normal((3, 5, 7)).astype(np.float32)
    x[1, 2, :] = 0
    for p in (1, 2):
        for axis in (-1, 0, 1):
            y = torch.nn.functional.normalize(torch.from_numpy(x), p=p, dim=axis, eps=0).numpy()
            y = np.nan_to_num(y, nan=0.0)
            node = helper.make_node("LpNormalization", ["x"], ["y"], p=p, axis=axis)
            yield "lp_normalization_p%d_axis%d" % (p, axis), node, [("x", x)], [("y", y)]
    # TfIdfVectorizer: 6 unigrams, 4 bigrams and 2 trigrams of tokens 0..5.
    pool = [0, 1, 2, 3, 4, 5,  1, 2, 2, 3, 5, 5, 0, 1,  1, 1, 2, 3, 5, 0]
    counts = [0, 6, 14]
    indexes = [5, 4, 3, 2, 1, 0, 6, 7, 8, 9, 10, 11]
    weights = [0.5, 1.5, 2.0, 0.25, 1.0, 3.0, 0.75, 1.25, 2.5, 0.1, 4.0, 0.3]
    x = rng.integers(0, 6, size=(3, 17)).astype(np.int64)
    for mode, min_n, max_n, skip, w in [("IDF", 1, 3, 2, weights), ("TFIDF", 2, 3, 3, weights),
                                        ("TFIDF", 1, 2, 0, None), ("IDF", 1, 1, 0, None)]:
        y = tfidf_reference(x, pool, counts, indexes, w, min_n, max_n, skip, mode)
        attrs = dict(mode=mode, min_gram_length=min_n, max_gram_length=max_n, max_skip_count=skip,
                     pool_int64s=pool, ngram_counts=counts, ngram_indexes=indexes)
        if w is not None:
            attrs["weights"] = w
        node = helper.make_node("TfIdfVectorizer", ["x"], ["y"], **attrs)
        yield "tfidf_%s_%d_%d_skip%d%s" % (mode.lower(), min_n, max_n, skip, "_weights" if w else ""), node, \
            [("x", x)], [("y", y)]


class Lambda(torch.nn.Module):
    def __init__(self, f):
        super().__init__()
        self.f = f

    def forward(self, *xs):
        return self.f(*xs)


def data_dependent_cases(rng):
    """Models whose outputs have a length known only at run time, exported
    by PyTorch; the expected outputs are PyTorch's."""
    def case(name, f, inputs, opset=13):
        module = Lambda(f)
        module.opset = opset
        with torch.no_grad():
            ys = module(*(torch.from_numpy(v) for _, v in inputs))
        ys = ys if isinstance(ys, tuple) else (ys,)
        return name, module, inputs, [("y%d" % k, y.numpy()) for k, y in enumerate(ys)]

    x = rng.standard_normal((4, 6)).astype(np.float32)
    yield case("masked_select", lambda x: x[x > 0.3] * 2 + 1, [("x", x)])
    yield case("masked_rows", lambda x: torch.softmax(x[x.sum(1) > 0], dim=1), [("x", x)])
    yield case("masked_rows_none", lambda x: x[x.sum(1) > 100].t() * 3, [("x", x)])
    # What the model computes from masked rows: each op carries their count
    # along the dimension it maps theirs to.
    w, W = rng.standard_normal(6).astype(np.float32), rng.standard_normal((6, 3)).astype(np.float32)
    kept = lambda x: x[x.sum(1) > 0]  # noqa: E731
    yield case("masked_matvec", lambda x: kept(x) @ torch.from_numpy(w), [("x", x)])
    yield case("masked_matmul", lambda x: torch.relu(kept(x) @ torch.from_numpy(W) + 1), [("x", x)])
    yield case("masked_reshape", lambda x: kept(x).reshape(-1, 2, 3).transpose(1, 2), [("x", x)])
    yield case("masked_flatten", lambda x: torch.flatten(kept(x).unsqueeze(1), 1), [("x", x)])
    for opset in (11, 13):
        yield case("masked_squeeze_opset%d" % opset, lambda x: kept(x).unsqueeze(0).unsqueeze(3).squeeze(3) - 1,
                   [("x", x)], opset)
        yield case("masked_softmax_opset%d" % opset, lambda x: torch.log_softmax(kept(x), dim=1), [("x", x)], opset)
    yield case("masked_slice", lambda x: kept(x)[:, 1:5:2], [("x", x)])
    yield case("masked_tail", lambda x: kept(x)[1:] * 2, [("x", x)])
    yield case("masked_window", lambda x: kept(x)[1:3], [("x", x)])
    yield case("masked_past_the_end", lambda x: kept(x)[5:], [("x", x)])
    yield case("masked_argmax", lambda x: kept(x).argmax(1), [("x", x)])
    yield case("masked_reductions", lambda x: (kept(x).sum(1), kept(x).mean(1, keepdim=True), kept(x).amax(1)),
               [("x", x)])
    yield case("masked_gather_columns", lambda x: kept(x)[:, torch.tensor([0, 2, 5])], [("x", x)])
    yield case("masked_concat", lambda x: torch.cat([kept(x), kept(x) * 2], dim=1), [("x", x)])
    yield case("masked_where", lambda x: torch.where(kept(x) > 0, kept(x), torch.zeros(1)), [("x", x)])
    # Reductions along the selected rows: the unused entries masked with the
    # reduction's neutral element first.
    yield case("masked_row_reductions",
               lambda x: (kept(x).sum(0), kept(x).mean(0), kept(x).amax(0), kept(x).amin(0),
                          kept(x).argmax(0), (kept(x) - 5).prod(0), torch.logsumexp(kept(x), 0)),
               [("x", x)])
    yield case("masked_mean_all", lambda x: x[x > 0.3].mean() + x[x < -0.2].sum(), [("x", x)])
    yield case("masked_scaled_by_count", lambda x: kept(x).sum(1) * kept(x).shape[0], [("x", x)])
    yield case("nonzero_count", lambda x: torch.nonzero(x > 0).shape[0] + torch.zeros(1, dtype=torch.int64),
               [("x", x)])
    yield case("gathered_columns", lambda x: x[:, torch.nonzero(x[0] > 0)[:, 0]] + 1, [("x", x)])
    yield case("nonzero", lambda x: torch.nonzero(x > 0.5), [("x", x)])
    yield case("nonzero_columns", lambda x: torch.nonzero(x > 0).t() + 1, [("x", x)])
    t = rng.integers(0, 5, size=(12,)).astype(np.int64)
    yield case("unique", lambda t: torch.unique(t, sorted=True, return_inverse=True, return_counts=True),
               [("t", t)])
    rows = rng.integers(0, 2, size=(7, 3)).astype(np.int64)
    yield case("unique_rows", lambda r: torch.unique(r, dim=0, return_inverse=True, return_counts=True),
               [("r", rows)])
    yield case("unique_columns", lambda r: torch.unique(r.t(), dim=1), [("r", rows)])
    boxes = np.sort(rng.uniform(0, 40, size=(20, 2, 2)), axis=1).transpose(0, 2, 1).reshape(20, 4)
    boxes = boxes[:, [0, 2, 1, 3]].astype(np.float32)  # x1, y1, x2, y2
    scores = rng.uniform(0, 1, size=(20,)).astype(np.float32)
    yield case("nms_top3", lambda b, s: b[torchvision.ops.nms(b, s, 0.3)[:3]],
               [("boxes", boxes), ("scores", scores)])
    yield case("nms_kept_boxes",
               lambda b, s: b[torchvision.ops.nms(b, s, 0.3)] * torch.tensor([1.0, 1.0, 2.0, 2.0]),
               [("boxes", boxes), ("scores", scores)])


def main():
    nncc, work = sys.argv[1], sys.argv[2]
    rng = np.random.default_rng(3)
    failed = 0
    count = 0
    for name, node, inputs, outputs in list(cases(rng)) + list(data_dependent_cases(rng)):
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
    print("%d of %d cases match their references" % (count - failed, count))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
