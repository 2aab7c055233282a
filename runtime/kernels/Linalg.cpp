//===- Linalg.cpp - matmul, gemm, einsum, det ----------------------------===//
#include "runtime/kernels/Gemm.h"
#include "runtime/kernels/Kernels.h"
#include "runtime/kernels/LinalgArgs.h"
#include "runtime/kernels/Meta.h"
#include "runtime/kernels/PostOps.h"

#include <cmath>

using namespace nncc::kernels;

namespace {

struct MatMulShape {
  int64_t M, N, K, batches;
  int64_t aBatch[kMaxRank], bBatch[kMaxRank], outBatch[kMaxRank];
  int aRank, bRank, outRank;
};

/// numpy.matmul geometry: 1-D operands promoted, batch dims broadcast.
MatMulShape matmulShape(const TensorArg &a, const TensorArg &b) {
  MatMulShape s;
  int64_t as[kMaxRank + 1], bs[kMaxRank + 1];
  int ar = a.rank, br = b.rank;
  for (int i = 0; i < ar; ++i) as[i] = a.shape[i];
  for (int i = 0; i < br; ++i) bs[i] = b.shape[i];
  if (ar == 1) { as[1] = as[0]; as[0] = 1; ar = 2; }
  if (br == 1) { bs[1] = 1; br = 2; }
  s.M = as[ar - 2];
  s.K = as[ar - 1];
  s.N = bs[br - 1];
  s.aRank = ar - 2;
  s.bRank = br - 2;
  for (int i = 0; i < s.aRank; ++i) s.aBatch[i] = as[i];
  for (int i = 0; i < s.bRank; ++i) s.bBatch[i] = bs[i];
  s.outRank = maxOf(s.aRank, s.bRank);
  s.batches = 1;
  for (int d = 0; d < s.outRank; ++d) {
    int da = d - (s.outRank - s.aRank), db = d - (s.outRank - s.bRank);
    int64_t x = da >= 0 ? s.aBatch[da] : 1, y = db >= 0 ? s.bBatch[db] : 1;
    s.outBatch[d] = maxOf(x, y);
    s.batches *= s.outBatch[d];
  }
  return s;
}

/// Batch index of an operand of batch shape `batch` broadcast to `out`.
int64_t batchIndex(int64_t flat, const int64_t *out, int outRank, const int64_t *batch, int rank) {
  int64_t coord[kMaxRank];
  for (int d = outRank - 1; d >= 0; --d) {
    coord[d] = flat % out[d];
    flat /= out[d];
  }
  int64_t index = 0, stride = 1;
  for (int d = rank - 1; d >= 0; --d) {
    index += (batch[d] == 1 ? 0 : coord[d + outRank - rank]) * stride;
    stride *= batch[d];
  }
  return index;
}

/// The fused epilogue over all of y.
template <typename T> void applyPostOps(const PostOps &post, const TensorArg &y) {
  if (!post.n)
    return;
  T *Y = y.as<T>();
  for (int64_t k = 0, n = y.numel(); k < n; ++k)
    Y[k] = post.apply<T>(Y[k], T(0));
}


template <typename T> void matmulTyped(const MatMulArgs &args, Scratch &s) {
  const TensorArg &a = args.a, &b = args.b, &y = args.y, &bias = args.bias;
  MatMulShape g = matmulShape(a, b);
  GemmScratch<T> gs = allocGemm<T>(s, g.N, g.K);
  if (s.measuring())
    return;
  // With a bias, every row of y starts as the bias and the GEMMs accumulate.
  T beta = T(0);
  if (bias.present()) {
    int64_t rows = y.numel() / g.N;
    for (int64_t r = 0; r < rows; ++r)
      std::memcpy(y.as<T>() + r * g.N, bias.data, g.N * sizeof(T));
    beta = T(1);
  }
  // B without batch dimensions: all of A's rows form one GEMM.
  bool bShared = true;
  int64_t aCount = 1;
  for (int i = 0; i < g.bRank; ++i)
    bShared &= g.bBatch[i] == 1;
  for (int i = 0; i < g.aRank; ++i)
    aCount *= g.aBatch[i];
  if (bShared && g.batches > 1 && aCount == g.batches) {
    gemm<T>(false, false, g.batches * g.M, g.N, g.K, T(1), a.as<T>(), g.K, b.as<T>(), g.N, beta, y.as<T>(), g.N, gs);
  } else {
    for (int64_t bi = 0; bi < g.batches; ++bi) {
      const T *pa = a.as<T>() + batchIndex(bi, g.outBatch, g.outRank, g.aBatch, g.aRank) * g.M * g.K;
      const T *pb = b.as<T>() + batchIndex(bi, g.outBatch, g.outRank, g.bBatch, g.bRank) * g.K * g.N;
      gemm<T>(false, false, g.M, g.N, g.K, T(1), pa, g.K, pb, g.N, beta, y.as<T>() + bi * g.M * g.N, g.N, gs);
    }
  }
  applyPostOps<T>(args.post, y);
}


template <typename T> void gemmTyped(const GemmArgs &g, Scratch &s) {
  int64_t M = g.y.dim(0), N = g.y.dim(1), K = g.ta ? g.a.dim(0) : g.a.dim(1);
  GemmScratch<T> gs = allocGemm<T>(s, N, K);
  if (s.measuring())
    return;
  T *Y = g.y.as<T>();
  T beta = T(0);
  if (g.c.present() && g.beta != 0) {
    // Broadcast C ([], [N], [1, N], [M, 1], [M, N]) into Y, scaled by beta.
    int64_t c0 = g.c.rank >= 2 ? g.c.dim(g.c.rank - 2) : 1, c1 = g.c.rank >= 1 ? g.c.last() : 1;
    const T *C = g.c.as<T>();
    for (int64_t m = 0; m < M; ++m)
      for (int64_t n = 0; n < N; ++n)
        Y[m * N + n] = T(g.beta) * C[(c0 == 1 ? 0 : m) * c1 + (c1 == 1 ? 0 : n)];
    beta = T(1);
  }
  gemm<T>(g.ta, g.tb, M, N, K, T(g.alpha), g.a.as<T>(), g.a.dim(1), g.b.as<T>(), g.b.dim(1), beta, Y, N, gs);
  applyPostOps<T>(g.post, g.y);
}

//===----------------------------------------------------------------------===//
// Einsum: the explicit equation "ab,bc->ac" with single letters.
//===----------------------------------------------------------------------===//

constexpr int kMaxEinsumInputs = 16, kMaxLetters = 64;

template <typename T>
void einsumTyped(const TensorArg *ins, int n, const TensorArg &y, const char *eq) {
  // letter -> loop position; output letters first.
  int pos[128];
  for (int &p : pos) p = -1;
  int64_t size[kMaxLetters];
  int numLetters = 0, numOut = 0;
  const char *arrow = std::strstr(eq, "->");
  for (const char *c = arrow + 2; *c; ++c) {
    pos[(unsigned char)*c] = numLetters;
    size[numLetters++] = 1;
    ++numOut;
  }
  int64_t strides[kMaxEinsumInputs][kMaxLetters] = {};
  const char *c = eq;
  for (int i = 0; i < n; ++i) {
    int64_t st[kMaxRank];
    ins[i].strides(st);
    for (int k = 0; *c && *c != ',' && c != arrow; ++c, ++k) {
      int &p = pos[(unsigned char)*c];
      if (p < 0) {
        p = numLetters;
        size[numLetters++] = 1;
      }
      size[p] = maxOf(size[p], ins[i].shape[k]);
      if (ins[i].shape[k] != 1)
        strides[i][p] += st[k];
    }
    if (*c == ',')
      ++c;
  }
  int64_t outCount = y.numel(), inner = 1;
  for (int k = numOut; k < numLetters; ++k)
    inner *= size[k];
  int64_t idx[kMaxLetters];
  T *Y = y.as<T>();
  for (int64_t o = 0; o < outCount; ++o) {
    int64_t rem = o;
    for (int k = numOut - 1; k >= 0; --k) {
      idx[k] = rem % size[k];
      rem /= size[k];
    }
    T acc = 0;
    for (int64_t r = 0; r < inner; ++r) {
      int64_t rr = r;
      for (int k = numLetters - 1; k >= numOut; --k) {
        idx[k] = rr % size[k];
        rr /= size[k];
      }
      T prod = 1;
      for (int i = 0; i < n; ++i) {
        int64_t off = 0;
        for (int k = 0; k < numLetters; ++k)
          off += idx[k] * strides[i][k];
        prod *= ins[i].as<T>()[off];
      }
      acc += prod;
    }
    Y[o] = acc;
  }
}

} // namespace

#ifdef NNCC_USE_DNNL // the host runs oneDNN's matmul where it can (DnnlMatMul.cpp)
#define NNCC_PORTABLE_MATMUL nncc_matmul_portable
#define NNCC_PORTABLE_GEMM nncc_gemm_portable
#else
#define NNCC_PORTABLE_MATMUL nncc_matmul
#define NNCC_PORTABLE_GEMM nncc_gemm
#endif

extern "C" NNCC_KERNEL(NNCC_PORTABLE_MATMUL) {
  Meta m(meta, buffers);
  MatMulArgs args = readMatMul(m);
  Scratch s = m.scratch();
  dispatchAll(args.a.dtype, [&](auto t) { matmulTyped<decltype(t)>(args, s); });
}

NNCC_SCRATCH(NNCC_PORTABLE_MATMUL) {
  Meta m(meta, nullptr);
  MatMulArgs args = readMatMul(m);
  Scratch s;
  dispatchAll(args.a.dtype, [&](auto t) { matmulTyped<decltype(t)>(args, s); });
  return (int64_t)s.bytes();
}

extern "C" NNCC_KERNEL(NNCC_PORTABLE_GEMM) {
  Meta m(meta, buffers);
  GemmArgs g = readGemm(m);
  Scratch s = m.scratch();
  dispatchAll(g.a.dtype, [&](auto t) { gemmTyped<decltype(t)>(g, s); });
}

NNCC_SCRATCH(NNCC_PORTABLE_GEMM) {
  Meta m(meta, nullptr);
  GemmArgs g = readGemm(m);
  Scratch s;
  dispatchAll(g.a.dtype, [&](auto t) { gemmTyped<decltype(t)>(g, s); });
  return (int64_t)s.bytes();
}

extern "C" NNCC_KERNEL(nncc_einsum) {
  Meta m(meta, buffers);
  int64_t n = m.i();
  TensorArg ins[kMaxEinsumInputs];
  for (int64_t k = 0; k < n && k < kMaxEinsumInputs; ++k)
    ins[k] = m.tensor();
  TensorArg y = m.tensor();
  char eq[512];
  m.str(eq, sizeof eq);
  dispatchAll(y.dtype, [&](auto t) { einsumTyped<decltype(t)>(ins, (int)n, y, eq); });
}

namespace {
template <typename T> void detTyped(const TensorArg &x, const TensorArg &y, Scratch &s) {
  int64_t n = x.last(), count = y.numel();
  double *a = s.alloc<double>(n * n);
  if (s.measuring())
    return;
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
        for (int64_t k = 0; k < n; ++k) {
          double t = a[c * n + k];
          a[c * n + k] = a[piv * n + k];
          a[piv * n + k] = t;
        }
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
}
} // namespace

extern "C" NNCC_KERNEL(nncc_det) {
  Meta m(meta, buffers);
  TensorArg x = m.tensor(), y = m.tensor();
  Scratch s = m.scratch();
  dispatchFloat(x.dtype, [&](auto t) { detTyped<decltype(t)>(x, y, s); });
}

NNCC_SCRATCH(nncc_det) {
  Meta m(meta, nullptr);
  TensorArg x = m.tensor(), y = m.tensor();
  Scratch s;
  dispatchFloat(x.dtype, [&](auto t) { detTyped<decltype(t)>(x, y, s); });
  return (int64_t)s.bytes();
}
