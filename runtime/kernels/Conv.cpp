//===- Conv.cpp - convolution and transposed convolution (1-3 D) ----------===//
//
// Both go through im2col / col2im and the shared GEMM. Spatial ranks below
// three are padded with unit dimensions.
//
//===----------------------------------------------------------------------===//
#include "runtime/kernels/Gemm.h"
#include "runtime/kernels/Kernels.h"
#include "runtime/kernels/Meta.h"
#include "runtime/kernels/PostOps.h"

#include <algorithm>

using namespace nncc::kernels;

namespace {

struct Geometry {
  int64_t in[3], k[3], out[3], s[3], p[3], d[3];
  int64_t inSize() const { return in[0] * in[1] * in[2]; }
  int64_t kSize() const { return k[0] * k[1] * k[2]; }
  int64_t outSize() const { return out[0] * out[1] * out[2]; }
  bool pointwise() const {
    for (int i = 0; i < 3; ++i)
      if (k[i] != 1 || s[i] != 1 || p[i] != 0)
        return false;
    return true;
  }
};

struct ConvArgs {
  TensorArg x, w, b, y, residual;
  int64_t group;
  Geometry g;
  PostOps post;
};

/// x [N, C, ...], w, b, y, group, strides, pads (begins then ends), dilations.
/// For the transposed convolution the roles of in and out swap (in is y's).
ConvArgs readConv(Meta &m, bool transposed) {
  ConvArgs a;
  a.x = m.tensor(); a.w = m.tensor(); a.b = m.tensor(); a.y = m.tensor();
  a.group = m.i();
  IntList strides = m.ints(), pads = m.ints(), dils = m.ints();
  if (!transposed) {
    m.i(); // constant weights (used by the oneDNN kernel's cache)
    m.i(); // channels last: only the host's oneDNN kernel sees it set
    a.post.read(m);
    a.residual = m.tensor();
  }
  int sp = a.x.rank - 2, off = 3 - sp;
  Geometry &g = a.g;
  for (int i = 0; i < 3; ++i) {
    g.in[i] = g.k[i] = g.out[i] = g.s[i] = g.d[i] = 1;
    g.p[i] = 0;
  }
  for (int i = 0; i < sp; ++i) {
    g.in[off + i] = transposed ? a.y.dim(2 + i) : a.x.dim(2 + i);
    g.out[off + i] = transposed ? a.x.dim(2 + i) : a.y.dim(2 + i);
    g.k[off + i] = a.w.dim(2 + i);
    g.s[off + i] = strides[i];
    g.p[off + i] = pads[i];
    g.d[off + i] = dils[i];
  }
  return a;
}

/// col[(c, kd, kh, kw), (od, oh, ow)] = x[c, od*s - p + kd*d, ...] or 0.
template <typename T> void im2col(const T *x, int64_t channels, const Geometry &g, T *col) {
  int64_t outSize = g.outSize();
  for (int64_t c = 0; c < channels; ++c)
    for (int64_t kd = 0; kd < g.k[0]; ++kd)
      for (int64_t kh = 0; kh < g.k[1]; ++kh)
        for (int64_t kw = 0; kw < g.k[2]; ++kw) {
          T *row = col + (((c * g.k[0] + kd) * g.k[1] + kh) * g.k[2] + kw) * outSize;
          const T *xc = x + c * g.inSize();
          for (int64_t od = 0; od < g.out[0]; ++od) {
            int64_t id = od * g.s[0] - g.p[0] + kd * g.d[0];
            for (int64_t oh = 0; oh < g.out[1]; ++oh) {
              int64_t ih = oh * g.s[1] - g.p[1] + kh * g.d[1];
              T *r = row + (od * g.out[1] + oh) * g.out[2];
              if (id < 0 || id >= g.in[0] || ih < 0 || ih >= g.in[1]) {
                std::fill(r, r + g.out[2], T(0));
                continue;
              }
              const T *xr = xc + (id * g.in[1] + ih) * g.in[2];
              int64_t base = kw * g.d[2] - g.p[2];
              for (int64_t ow = 0; ow < g.out[2]; ++ow) {
                int64_t iw = ow * g.s[2] + base;
                r[ow] = (iw >= 0 && iw < g.in[2]) ? xr[iw] : T(0);
              }
            }
          }
        }
}

/// The adjoint of im2col: x[c, ...] += col[(c, k...), (o...)].
template <typename T> void col2im(const T *col, int64_t channels, const Geometry &g, T *x) {
  int64_t outSize = g.outSize();
  for (int64_t c = 0; c < channels; ++c)
    for (int64_t kd = 0; kd < g.k[0]; ++kd)
      for (int64_t kh = 0; kh < g.k[1]; ++kh)
        for (int64_t kw = 0; kw < g.k[2]; ++kw) {
          const T *row = col + (((c * g.k[0] + kd) * g.k[1] + kh) * g.k[2] + kw) * outSize;
          T *xc = x + c * g.inSize();
          for (int64_t od = 0; od < g.out[0]; ++od) {
            int64_t id = od * g.s[0] - g.p[0] + kd * g.d[0];
            if (id < 0 || id >= g.in[0])
              continue;
            for (int64_t oh = 0; oh < g.out[1]; ++oh) {
              int64_t ih = oh * g.s[1] - g.p[1] + kh * g.d[1];
              if (ih < 0 || ih >= g.in[1])
                continue;
              const T *r = row + (od * g.out[1] + oh) * g.out[2];
              T *xr = xc + (id * g.in[1] + ih) * g.in[2];
              int64_t base = kw * g.d[2] - g.p[2];
              for (int64_t ow = 0; ow < g.out[2]; ++ow) {
                int64_t iw = ow * g.s[2] + base;
                if (iw >= 0 && iw < g.in[2])
                  xr[iw] += r[ow];
              }
            }
          }
        }
}

template <typename T> void convTyped(const ConvArgs &a, Scratch &s) {
  const Geometry &g = a.g;
  int64_t N = a.x.dim(0), C = a.x.dim(1), M = a.w.dim(0), Cg = C / a.group, Mg = M / a.group;
  int64_t K = Cg * g.kSize(), P = g.outSize();
  bool pointwise = g.pointwise();
  T *col = pointwise ? nullptr : s.alloc<T>(K * P);
  // With a residual, the product goes to `acc` first: the residual may be
  // y's own buffer (planned in place), read back element by element below.
  bool residual = a.residual.present();
  T *acc = residual ? s.alloc<T>(Mg * P) : nullptr;
  GemmScratch<T> gs = allocGemm<T>(s, P, K);
  if (s.measuring())
    return;
  const T *X = a.x.as<T>(), *W = a.w.as<T>();
  T *Y = a.y.as<T>();
  for (int64_t n = 0; n < N; ++n)
    for (int64_t gi = 0; gi < a.group; ++gi) {
      const T *xg = X + (n * C + gi * Cg) * g.inSize();
      const T *src = xg;
      if (!pointwise) {
        im2col(xg, Cg, g, col);
        src = col;
      }
      T *yg = Y + (n * M + gi * Mg) * P;
      gemm<T>(false, false, Mg, P, K, T(1), W + gi * Mg * K, K, src, P, T(0), residual ? acc : yg, P, gs);
      if (a.b.present() || a.post.n)
        for (int64_t m = 0; m < Mg; ++m) {
          T bias = a.b.present() ? a.b.as<T>()[gi * Mg + m] : T(0);
          T *row = yg + m * P;
          const T *in = residual ? acc + m * P : row;
          const T *res = residual ? a.residual.as<T>() + (row - Y) : nullptr;
          if (!a.post.n) {
            for (int64_t q = 0; q < P; ++q)
              row[q] = in[q] + bias;
          } else {
            for (int64_t q = 0; q < P; ++q)
              row[q] = a.post.apply<T>(in[q] + bias, res ? res[q] : T(0));
          }
        }
    }
}

template <typename T> void convTransposeTyped(const ConvArgs &a, Scratch &s) {
  // g.in is y's spatial size, g.out is x's (the roles of im2col swap).
  const Geometry &g = a.g;
  int64_t N = a.x.dim(0), C = a.x.dim(1), Cg = C / a.group, Mg = a.w.dim(1), M = Mg * a.group;
  int64_t K = Mg * g.kSize(), P = g.outSize();
  T *col = s.alloc<T>(K * P);
  GemmScratch<T> gs = allocGemm<T>(s, P, Cg);
  if (s.measuring())
    return;
  const T *X = a.x.as<T>(), *W = a.w.as<T>();
  T *Y = a.y.as<T>();
  std::fill(Y, Y + a.y.numel(), T(0));
  for (int64_t n = 0; n < N; ++n)
    for (int64_t gi = 0; gi < a.group; ++gi) {
      // col[K, P] = W_g^T [K, Cg] * x_g [Cg, P]
      gemm<T>(true, false, K, P, Cg, T(1), W + gi * Cg * K, K, X + (n * C + gi * Cg) * P, P, T(0), col, P, gs);
      col2im(col, Mg, g, Y + (n * M + gi * Mg) * g.inSize());
    }
  if (a.b.present())
    for (int64_t n = 0; n < N; ++n)
      for (int64_t m = 0; m < M; ++m) {
        T *row = Y + (n * M + m) * g.inSize();
        for (int64_t q = 0; q < g.inSize(); ++q)
          row[q] += a.b.as<T>()[m];
      }
}

} // namespace

// On the host the oneDNN kernel (DnnlConv.cpp) is nncc_conv and calls this
// one for what it does not handle.
#ifdef NNCC_USE_DNNL
#define NNCC_PORTABLE_CONV nncc_conv_portable
#else
#define NNCC_PORTABLE_CONV nncc_conv
#endif

extern "C" NNCC_KERNEL(NNCC_PORTABLE_CONV) {
  Meta m(meta, buffers);
  ConvArgs a = readConv(m, false);
  Scratch s = m.scratch();
  dispatchFloat(a.x.dtype, [&](auto t) { convTyped<decltype(t)>(a, s); });
}

NNCC_SCRATCH(NNCC_PORTABLE_CONV) {
  Meta m(meta, nullptr);
  ConvArgs a = readConv(m, false);
  Scratch s;
  dispatchFloat(a.x.dtype, [&](auto t) { convTyped<decltype(t)>(a, s); });
  return (int64_t)s.bytes();
}

extern "C" NNCC_KERNEL(nncc_conv_transpose) {
  Meta m(meta, buffers);
  ConvArgs a = readConv(m, true);
  Scratch s = m.scratch();
  dispatchFloat(a.x.dtype, [&](auto t) { convTransposeTyped<decltype(t)>(a, s); });
}

NNCC_SCRATCH(nncc_conv_transpose) {
  Meta m(meta, nullptr);
  ConvArgs a = readConv(m, true);
  Scratch s;
  dispatchFloat(a.x.dtype, [&](auto t) { convTransposeTyped<decltype(t)>(a, s); });
  return (int64_t)s.bytes();
}
