//===- Linalg.cpp - matmul, gemm, einsum, det ----------------------------===//
#include "runtime/kernels/Gemm.h"
#include "runtime/kernels/Kernels.h"
#include "runtime/kernels/Meta.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <vector>

using namespace nncc::kernels;

namespace {

/// Batch index of an operand of shape `batch` broadcast to `outBatch`.
int64_t broadcastBatchIndex(int64_t flat, const std::vector<int64_t> &outBatch,
                            const std::vector<int64_t> &batch) {
  int64_t index = 0, stride = 1;
  int64_t off = (int64_t)outBatch.size() - (int64_t)batch.size();
  std::vector<int64_t> coord(outBatch.size());
  for (int64_t d = (int64_t)outBatch.size() - 1; d >= 0; --d) {
    coord[d] = flat % outBatch[d];
    flat /= outBatch[d];
  }
  for (int64_t d = (int64_t)batch.size() - 1; d >= 0; --d) {
    int64_t c = batch[d] == 1 ? 0 : coord[d + off];
    index += c * stride;
    stride *= batch[d];
  }
  return index;
}

template <typename T> void matmulTyped(const TensorArg &a, const TensorArg &b, const TensorArg &y) {
  std::vector<int64_t> as = a.shape, bs = b.shape;
  if (as.size() == 1) as.insert(as.begin(), 1);
  if (bs.size() == 1) bs.push_back(1);
  int64_t M = as[as.size() - 2], K = as.back(), N = bs.back();
  std::vector<int64_t> ab(as.begin(), as.end() - 2), bb(bs.begin(), bs.end() - 2);
  std::vector<int64_t> ob(std::max(ab.size(), bb.size()), 1);
  for (size_t d = 0; d < ob.size(); ++d) {
    int64_t da = d < ob.size() - ab.size() ? 1 : ab[d - (ob.size() - ab.size())];
    int64_t db = d < ob.size() - bb.size() ? 1 : bb[d - (ob.size() - bb.size())];
    ob[d] = std::max(da, db);
  }
  int64_t batches = 1;
  for (int64_t d : ob)
    batches *= d;
  const T *A = a.as<T>(), *B = b.as<T>();
  T *Y = y.as<T>();
  for (int64_t bi = 0; bi < batches; ++bi) {
    const T *pa = A + broadcastBatchIndex(bi, ob, ab) * M * K;
    const T *pb = B + broadcastBatchIndex(bi, ob, bb) * K * N;
    T *py = Y + bi * M * N;
    gemm<T>(false, false, M, N, K, T(1), pa, K, pb, N, T(0), py, N);
  }
}

template <typename T>
void gemmTyped(const TensorArg &a, const TensorArg &b, const TensorArg &c, const TensorArg &y, bool ta, bool tb,
               double alpha, double beta) {
  int64_t M = y.dim(0), N = y.dim(1), K = ta ? a.dim(0) : a.dim(1);
  T *Y = y.as<T>();
  if (c.present() && beta != 0) {
    // Broadcast C ([], [N], [1, N], [M, 1], [M, N], ...) into Y, scaled by beta.
    std::vector<int64_t> cs = c.shape;
    while (cs.size() < 2)
      cs.insert(cs.begin(), 1);
    const T *C = c.as<T>();
    for (int64_t m = 0; m < M; ++m)
      for (int64_t n = 0; n < N; ++n)
        Y[m * N + n] = T(beta) * C[(cs[0] == 1 ? 0 : m) * cs[1] + (cs[1] == 1 ? 0 : n)];
    gemm<T>(ta, tb, M, N, K, T(alpha), a.as<T>(), a.dim(1), b.as<T>(), b.dim(1), T(1), Y, N);
  } else {
    gemm<T>(ta, tb, M, N, K, T(alpha), a.as<T>(), a.dim(1), b.as<T>(), b.dim(1), T(0), Y, N);
  }
}

} // namespace

extern "C" NNCC_KERNEL(nncc_matmul) {
  Meta m(meta, buffers);
  TensorArg a = m.tensor(), b = m.tensor(), y = m.tensor();
  dispatchAll(a.dtype, [&](auto t) { matmulTyped<decltype(t)>(a, b, y); });
}

extern "C" NNCC_KERNEL(nncc_gemm) {
  Meta m(meta, buffers);
  TensorArg a = m.tensor(), b = m.tensor(), c = m.tensor(), y = m.tensor();
  bool ta = m.i(), tb = m.i();
  double alpha = m.f(), beta = m.f();
  dispatchAll(a.dtype, [&](auto t) { gemmTyped<decltype(t)>(a, b, c, y, ta, tb, alpha, beta); });
}

namespace {
template <typename T> void einsumTyped(const std::vector<TensorArg> &ins, const TensorArg &y, const std::string &eq) {
  auto arrow = eq.find("->");
  std::vector<std::string> terms;
  size_t start = 0;
  std::string lhs = eq.substr(0, arrow), out = eq.substr(arrow + 2);
  for (size_t k = 0; k <= lhs.size(); ++k)
    if (k == lhs.size() || lhs[k] == ',') {
      terms.push_back(lhs.substr(start, k - start));
      start = k + 1;
    }
  std::map<char, int64_t> size;
  for (size_t i = 0; i < ins.size(); ++i)
    for (size_t k = 0; k < terms[i].size(); ++k)
      size[terms[i][k]] = std::max(size[terms[i][k]], ins[i].shape[k]);
  std::vector<char> letters;
  for (char c : out)
    letters.push_back(c);
  for (auto &kv : size)
    if (out.find(kv.first) == std::string::npos)
      letters.push_back(kv.first);
  std::map<char, int> pos;
  for (size_t k = 0; k < letters.size(); ++k)
    pos[letters[k]] = (int)k;
  // Per input: stride of each loop letter (0 when broadcast or absent).
  std::vector<std::vector<int64_t>> strides(ins.size(), std::vector<int64_t>(letters.size(), 0));
  for (size_t i = 0; i < ins.size(); ++i) {
    auto st = ins[i].strides();
    for (size_t k = 0; k < terms[i].size(); ++k)
      if (ins[i].shape[k] != 1)
        strides[i][pos[terms[i][k]]] += st[k];
  }
  int64_t outCount = y.numel(), inner = 1;
  for (size_t k = out.size(); k < letters.size(); ++k)
    inner *= size[letters[k]];
  T *Y = y.as<T>();
  std::vector<int64_t> idx(letters.size());
  for (int64_t o = 0; o < outCount; ++o) {
    int64_t rem = o;
    for (int64_t k = (int64_t)out.size() - 1; k >= 0; --k) {
      idx[k] = rem % size[letters[k]];
      rem /= size[letters[k]];
    }
    T acc = 0;
    for (int64_t r = 0; r < inner; ++r) {
      int64_t rr = r;
      for (int64_t k = (int64_t)letters.size() - 1; k >= (int64_t)out.size(); --k) {
        idx[k] = rr % size[letters[k]];
        rr /= size[letters[k]];
      }
      T prod = 1;
      for (size_t i = 0; i < ins.size(); ++i) {
        int64_t off = 0;
        for (size_t k = 0; k < letters.size(); ++k)
          off += idx[k] * strides[i][k];
        prod *= ins[i].as<T>()[off];
      }
      acc += prod;
    }
    Y[o] = acc;
  }
}
} // namespace

extern "C" NNCC_KERNEL(nncc_einsum) {
  Meta m(meta, buffers);
  int64_t n = m.i();
  std::vector<TensorArg> ins;
  for (int64_t k = 0; k < n; ++k)
    ins.push_back(m.tensor());
  TensorArg y = m.tensor();
  std::string eq = m.str();
  dispatchAll(y.dtype, [&](auto t) { einsumTyped<decltype(t)>(ins, y, eq); });
}

extern "C" NNCC_KERNEL(nncc_det) {
  Meta m(meta, buffers);
  TensorArg x = m.tensor(), y = m.tensor();
  dispatchFloat(x.dtype, [&](auto t) {
    using T = decltype(t);
    int64_t n = x.shape.back(), count = y.numel();
    std::vector<double> a(n * n);
    for (int64_t b = 0; b < count; ++b) {
      const T *src = x.as<T>() + b * n * n;
      for (int64_t k = 0; k < n * n; ++k)
        a[k] = src[k];
      double det = 1;
      for (int64_t c = 0; c < n && det != 0; ++c) {
        int64_t piv = c;
        for (int64_t r = c + 1; r < n; ++r)
          if (std::fabs(a[r * n + c]) > std::fabs(a[piv * n + c]))
            piv = r;
        if (a[piv * n + c] == 0) {
          det = 0;
          break;
        }
        if (piv != c) {
          for (int64_t k = 0; k < n; ++k)
            std::swap(a[c * n + k], a[piv * n + k]);
          det = -det;
        }
        det *= a[c * n + c];
        for (int64_t r = c + 1; r < n; ++r) {
          double f = a[r * n + c] / a[c * n + c];
          for (int64_t k = c; k < n; ++k)
            a[r * n + k] -= f * a[c * n + k];
        }
      }
      y.as<T>()[b] = (T)det;
    }
  });
}
