//===- Pool.cpp - max / average / Lp pooling, max unpooling (1-3 D) -------===//
#include "runtime/kernels/Kernels.h"
#include "runtime/kernels/Meta.h"

#include <algorithm>
#include <cmath>
#include <limits>

using namespace nncc::kernels;

namespace {

struct Window {
  int64_t in[3] = {1, 1, 1}, out[3] = {1, 1, 1}, k[3] = {1, 1, 1}, s[3] = {1, 1, 1}, pb[3] = {0, 0, 0},
          pe[3] = {0, 0, 0}, d[3] = {1, 1, 1};
};

Window window(const TensorArg &x, const TensorArg &y, IntList k, IntList s, IntList p, IntList d) {
  Window w;
  int64_t sp = x.rank - 2, off = 3 - sp;
  for (int64_t i = 0; i < sp; ++i) {
    w.in[off + i] = x.dim(2 + i);
    w.out[off + i] = y.dim(2 + i);
    w.k[off + i] = k[i];
    w.s[off + i] = s[i];
    w.pb[off + i] = p[i];
    w.pe[off + i] = p[i + sp];
    w.d[off + i] = d[i];
  }
  return w;
}

/// kind: 0 max, 1 average, 2 Lp. `indices` (optional) receives the flat
/// index of each maximum in x (row-major, or column-major spatial order
/// when storageOrder is 1).
template <typename T>
void poolTyped(const TensorArg &x, const TensorArg &y, const Window &w, int kind, bool countPad, int64_t p,
               int64_t *indices, int64_t storageOrder) {
  int64_t planes = x.dim(0) * x.dim(1);
  int64_t inSize = w.in[0] * w.in[1] * w.in[2], outSize = w.out[0] * w.out[1] * w.out[2];
  const T *X = x.as<T>();
  T *Y = y.as<T>();
  for (int64_t pl = 0; pl < planes; ++pl) {
    const T *xp = X + pl * inSize;
    for (int64_t od = 0; od < w.out[0]; ++od)
      for (int64_t oh = 0; oh < w.out[1]; ++oh)
        for (int64_t ow = 0; ow < w.out[2]; ++ow) {
          int64_t o[3] = {od, oh, ow};
          int64_t start[3], end[3], padded = 1;
          for (int i = 0; i < 3; ++i) {
            start[i] = o[i] * w.s[i] - w.pb[i];
            end[i] = start[i] + (w.k[i] - 1) * w.d[i] + 1;
            // The divisor with count_include_pad counts the padding, not
            // the ceil_mode overhang beyond it.
            int64_t hiPad = std::min(end[i], w.in[i] + w.pe[i]);
            padded *= (hiPad - start[i] + w.d[i] - 1) / w.d[i];
          }
          double acc = kind == 0 ? -std::numeric_limits<double>::infinity() : 0.0;
          int64_t count = 0, best = -1;
          for (int64_t kd = 0; kd < w.k[0]; ++kd) {
            int64_t id = start[0] + kd * w.d[0];
            if (id < 0 || id >= w.in[0]) continue;
            for (int64_t kh = 0; kh < w.k[1]; ++kh) {
              int64_t ih = start[1] + kh * w.d[1];
              if (ih < 0 || ih >= w.in[1]) continue;
              for (int64_t kw = 0; kw < w.k[2]; ++kw) {
                int64_t iw = start[2] + kw * w.d[2];
                if (iw < 0 || iw >= w.in[2]) continue;
                int64_t flat = (id * w.in[1] + ih) * w.in[2] + iw;
                double v = (double)xp[flat];
                ++count;
                if (kind == 0) {
                  if (v > acc || best < 0) {
                    acc = v;
                    best = flat;
                  }
                } else if (kind == 1) {
                  acc += v;
                } else {
                  acc += std::pow(std::fabs(v), (double)p);
                }
              }
            }
          }
          int64_t oflat = (od * w.out[1] + oh) * w.out[2] + ow;
          double r;
          if (kind == 0)
            r = count ? acc : 0.0;
          else if (kind == 1)
            r = acc / (double)(countPad ? padded : std::max<int64_t>(count, 1));
          else
            r = std::pow(acc, 1.0 / (double)p);
          Y[pl * outSize + oflat] = (T)r;
          if (indices) {
            int64_t idx = best;
            if (storageOrder == 1 && best >= 0) {
              int64_t bw = best % w.in[2], bh = (best / w.in[2]) % w.in[1], bd = best / (w.in[2] * w.in[1]);
              idx = (bw * w.in[1] + bh) * w.in[0] + bd;
            }
            indices[pl * outSize + oflat] = pl * inSize + idx;
          }
        }
  }
}

} // namespace

#ifdef NNCC_USE_DNNL
#define NNCC_PORTABLE_POOL nncc_pool_portable
#else
#define NNCC_PORTABLE_POOL nncc_pool
#endif

extern "C" NNCC_KERNEL(NNCC_PORTABLE_POOL) {
  Meta m(meta, buffers);
  TensorArg x = m.tensor(), y = m.tensor();
  int kind = (int)m.i();
  IntList k = m.ints(), s = m.ints(), p = m.ints(), d = m.ints();
  bool countPad = m.i();
  int64_t pn = m.i();
  Window w = window(x, y, k, s, p, d);
  dispatchAll(x.dtype, [&](auto t) { poolTyped<decltype(t)>(x, y, w, kind, countPad, pn, nullptr, 0); });
}

extern "C" NNCC_KERNEL(nncc_maxpool_indices) {
  Meta m(meta, buffers);
  TensorArg x = m.tensor(), y = m.tensor(), i = m.tensor();
  IntList k = m.ints(), s = m.ints(), p = m.ints(), d = m.ints();
  int64_t order = m.i();
  Window w = window(x, y, k, s, p, d);
  dispatchAll(x.dtype, [&](auto t) { poolTyped<decltype(t)>(x, y, w, 0, false, 2, i.as<int64_t>(), order); });
}

extern "C" NNCC_KERNEL(nncc_max_unpool) {
  Meta m(meta, buffers);
  TensorArg x = m.tensor(), idx = m.tensor(), y = m.tensor();
  IntList indexShape = m.ints();
  size_t es = elementSize(y.dtype);
  auto *Y = static_cast<uint8_t *>(y.data);
  auto *X = static_cast<const uint8_t *>(x.data);
  std::fill(Y, Y + y.numel() * es, 0);
  // An index is a flat position in indexShape; it keeps its coordinates in y.
  TensorArg from;
  from.rank = (int)indexShape.size();
  for (int d = 0; d < from.rank; ++d)
    from.shape[d] = indexShape[d];
  int64_t fs[kMaxRank], ys[kMaxRank];
  from.strides(fs);
  y.strides(ys);
  for (int64_t k = 0; k < x.numel(); ++k) {
    int64_t j = indexAt(idx, k), off = 0;
    bool ok = j >= 0 && j < from.numel();
    for (int d = 0; ok && d < from.rank; ++d) {
      int64_t c = (j / fs[d]) % indexShape[d];
      ok = c < y.dim(d);
      off += c * ys[d];
    }
    if (ok)
      std::copy(X + k * es, X + (k + 1) * es, Y + off * es);
  }
}
