//===- Recurrent.cpp - ONNX LSTM, GRU and RNN (layout 0) ------------------===//
//
// The input projection of all timesteps is one GEMM per direction; each step
// then does one recurrent GEMM ([B, H] x [H, gates*H]) and the pointwise
// gate math. Sequence lengths, both directions, clip, peepholes and every
// ONNX activation are supported.
//
//===----------------------------------------------------------------------===//
#include "runtime/kernels/Gemm.h"
#include "runtime/kernels/Kernels.h"
#include "runtime/kernels/Meta.h"

#include <algorithm>
#include <cmath>
#include <vector>

using namespace nncc::kernels;

namespace {

struct Activation {
  int code;
  double alpha, beta;
  double operator()(double x) const {
    switch (code) {
    case 0: return x > 0 ? x : 0;
    case 1: return std::tanh(x);
    case 2: return 1.0 / (1.0 + std::exp(-x));
    case 3: return alpha * x + beta;
    case 4: return x >= 0 ? x : alpha * x;
    case 5: return x > alpha ? x : 0;
    case 6: return alpha * std::tanh(beta * x);
    case 7: return std::max(0.0, std::min(1.0, alpha * x + beta));
    case 8: return x >= 0 ? x : alpha * (std::exp(x) - 1);
    case 9: return x / (1 + std::fabs(x));
    case 10: return std::log1p(std::exp(x));
    default: return x;
    }
  }
};

struct Common {
  TensorArg x, w, r, b, lens, h0;
  int64_t hidden, direction;
  std::vector<Activation> acts;
  bool hasClip;
  double clip;

  void readTail(Meta &m) {
    hidden = m.i();
    direction = m.i();
    int64_t n = m.i();
    for (int64_t k = 0; k < n; ++k) {
      Activation a;
      a.code = (int)m.i();
      a.alpha = m.f();
      a.beta = m.f();
      acts.push_back(a);
    }
    hasClip = m.i();
    clip = m.f();
  }
  int64_t numDirections() const { return direction == 2 ? 2 : 1; }
  bool reverse(int64_t d) const { return direction == 1 || (direction == 2 && d == 1); }
  double clipped(double v) const { return hasClip ? std::max(-clip, std::min(clip, v)) : v; }
  int64_t length(int64_t b, int64_t T) const {
    return lens.present() ? std::max<int64_t>(0, std::min(indexAt(lens, b), T)) : T;
  }
};

/// xw[T*B, G*H] = X[T*B, I] * W_d^T (+ the input bias).
template <typename T> std::vector<T> inputProjection(const Common &c, int64_t d, int64_t gates) {
  int64_t Tn = c.x.dim(0), B = c.x.dim(1), I = c.x.dim(2), H = c.hidden, G = gates * H;
  std::vector<T> xw((size_t)Tn * B * G);
  gemm<T>(false, true, Tn * B, G, I, T(1), c.x.as<T>(), I, c.w.as<T>() + d * G * I, I, T(0), xw.data(), G);
  if (c.b.present()) {
    const T *wb = c.b.as<T>() + d * 2 * G;
    for (int64_t row = 0; row < Tn * B; ++row)
      for (int64_t g = 0; g < G; ++g)
        xw[row * G + g] += wb[g];
  }
  return xw;
}

template <typename T> void lstmTyped(Common &c, const TensorArg &c0, const TensorArg &p, const TensorArg &y,
                                     const TensorArg &yh, const TensorArg &yc, bool inputForget) {
  int64_t Tn = c.x.dim(0), B = c.x.dim(1), H = c.hidden, G = 4 * H, D = c.numDirections();
  if (y.present())
    std::fill(y.as<T>(), y.as<T>() + y.numel(), T(0));
  std::vector<T> h(B * H), cell(B * H), hr(B * G);
  for (int64_t d = 0; d < D; ++d) {
    std::vector<T> xw = inputProjection<T>(c, d, 4);
    const T *rb = c.b.present() ? c.b.as<T>() + d * 2 * G + G : nullptr;
    const T *peep = p.present() ? p.as<T>() + d * 3 * H : nullptr;
    const Activation &f = c.acts[d * 3], &g = c.acts[d * 3 + 1], &hact = c.acts[d * 3 + 2];
    for (int64_t k = 0; k < B * H; ++k) {
      h[k] = c.h0.present() ? c.h0.as<T>()[d * B * H + k] : T(0);
      cell[k] = c0.present() ? c0.as<T>()[d * B * H + k] : T(0);
    }
    for (int64_t s = 0; s < Tn; ++s) {
      gemm<T>(false, true, B, G, H, T(1), h.data(), H, c.r.as<T>() + d * G * H, H, T(0), hr.data(), G);
      for (int64_t bi = 0; bi < B; ++bi) {
        int64_t len = c.length(bi, Tn);
        if (s >= len)
          continue;
        int64_t t = c.reverse(d) ? len - 1 - s : s;
        const T *xr = xw.data() + (t * B + bi) * G;
        const T *hrr = hr.data() + bi * G;
        for (int64_t j = 0; j < H; ++j) {
          auto pre = [&](int gate) {
            double v = (double)xr[gate * H + j] + (double)hrr[gate * H + j];
            if (rb)
              v += rb[gate * H + j];
            return v;
          };
          double cPrev = cell[bi * H + j];
          double gi = pre(0), go = pre(1), gf = pre(2), gc = pre(3);
          if (peep) {
            gi += peep[j] * cPrev;
            gf += peep[2 * H + j] * cPrev;
          }
          double it = f(c.clipped(gi));
          double ft = inputForget ? 1 - it : f(c.clipped(gf));
          double ct = g(c.clipped(gc));
          double cNew = ft * cPrev + it * ct;
          if (peep)
            go += peep[H + j] * cNew;
          double ot = f(c.clipped(go));
          double hNew = ot * hact(cNew);
          cell[bi * H + j] = (T)cNew;
          h[bi * H + j] = (T)hNew;
          if (y.present())
            y.as<T>()[((t * D + d) * B + bi) * H + j] = (T)hNew;
        }
      }
    }
    if (yh.present())
      std::copy(h.begin(), h.end(), yh.as<T>() + d * B * H);
    if (yc.present())
      std::copy(cell.begin(), cell.end(), yc.as<T>() + d * B * H);
  }
}

template <typename T> void gruTyped(Common &c, const TensorArg &y, const TensorArg &yh, bool linearBeforeReset) {
  int64_t Tn = c.x.dim(0), B = c.x.dim(1), H = c.hidden, G = 3 * H, D = c.numDirections();
  if (y.present())
    std::fill(y.as<T>(), y.as<T>() + y.numel(), T(0));
  std::vector<T> h(B * H), hr(B * G), rh(B * H), rhR(B * H);
  for (int64_t d = 0; d < D; ++d) {
    std::vector<T> xw = inputProjection<T>(c, d, 3);
    const T *rb = c.b.present() ? c.b.as<T>() + d * 2 * G + G : nullptr;
    const T *R = c.r.as<T>() + d * G * H;
    const Activation &f = c.acts[d * 2], &g = c.acts[d * 2 + 1];
    for (int64_t k = 0; k < B * H; ++k)
      h[k] = c.h0.present() ? c.h0.as<T>()[d * B * H + k] : T(0);
    for (int64_t s = 0; s < Tn; ++s) {
      gemm<T>(false, true, B, G, H, T(1), h.data(), H, R, H, T(0), hr.data(), G);
      std::vector<double> z(B * H), r(B * H);
      for (int64_t bi = 0; bi < B; ++bi) {
        int64_t len = c.length(bi, Tn);
        if (s >= len)
          continue;
        int64_t t = c.reverse(d) ? len - 1 - s : s;
        const T *xr = xw.data() + (t * B + bi) * G;
        for (int64_t j = 0; j < H; ++j) {
          double gz = (double)xr[j] + hr[bi * G + j] + (rb ? rb[j] : 0);
          double gr = (double)xr[H + j] + hr[bi * G + H + j] + (rb ? rb[H + j] : 0);
          z[bi * H + j] = f(c.clipped(gz));
          r[bi * H + j] = f(c.clipped(gr));
          rh[bi * H + j] = (T)(r[bi * H + j] * h[bi * H + j]);
        }
      }
      if (!linearBeforeReset)
        gemm<T>(false, true, B, H, H, T(1), rh.data(), H, R + 2 * H * H, H, T(0), rhR.data(), H);
      for (int64_t bi = 0; bi < B; ++bi) {
        int64_t len = c.length(bi, Tn);
        if (s >= len)
          continue;
        int64_t t = c.reverse(d) ? len - 1 - s : s;
        const T *xr = xw.data() + (t * B + bi) * G;
        for (int64_t j = 0; j < H; ++j) {
          double rbh = rb ? rb[2 * H + j] : 0;
          double rec = linearBeforeReset ? r[bi * H + j] * ((double)hr[bi * G + 2 * H + j] + rbh)
                                         : (double)rhR[bi * H + j] + rbh;
          double ht = g(c.clipped((double)xr[2 * H + j] + rec));
          double zt = z[bi * H + j];
          double hNew = (1 - zt) * ht + zt * h[bi * H + j];
          h[bi * H + j] = (T)hNew;
          if (y.present())
            y.as<T>()[((t * D + d) * B + bi) * H + j] = (T)hNew;
        }
      }
    }
    if (yh.present())
      std::copy(h.begin(), h.end(), yh.as<T>() + d * B * H);
  }
}

template <typename T> void rnnTyped(Common &c, const TensorArg &y, const TensorArg &yh) {
  int64_t Tn = c.x.dim(0), B = c.x.dim(1), H = c.hidden, D = c.numDirections();
  if (y.present())
    std::fill(y.as<T>(), y.as<T>() + y.numel(), T(0));
  std::vector<T> h(B * H), hr(B * H);
  for (int64_t d = 0; d < D; ++d) {
    std::vector<T> xw = inputProjection<T>(c, d, 1);
    const T *rb = c.b.present() ? c.b.as<T>() + d * 2 * H + H : nullptr;
    const Activation &f = c.acts[d];
    for (int64_t k = 0; k < B * H; ++k)
      h[k] = c.h0.present() ? c.h0.as<T>()[d * B * H + k] : T(0);
    for (int64_t s = 0; s < Tn; ++s) {
      gemm<T>(false, true, B, H, H, T(1), h.data(), H, c.r.as<T>() + d * H * H, H, T(0), hr.data(), H);
      for (int64_t bi = 0; bi < B; ++bi) {
        int64_t len = c.length(bi, Tn);
        if (s >= len)
          continue;
        int64_t t = c.reverse(d) ? len - 1 - s : s;
        for (int64_t j = 0; j < H; ++j) {
          double v = (double)xw[(t * B + bi) * H + j] + hr[bi * H + j] + (rb ? rb[j] : 0);
          T hNew = (T)f(c.clipped(v));
          h[bi * H + j] = hNew;
          if (y.present())
            y.as<T>()[((t * D + d) * B + bi) * H + j] = hNew;
        }
      }
    }
    if (yh.present())
      std::copy(h.begin(), h.end(), yh.as<T>() + d * B * H);
  }
}

} // namespace

extern "C" NNCC_KERNEL(nncc_lstm) {
  Meta m(meta, buffers);
  Common c;
  c.x = m.tensor(); c.w = m.tensor(); c.r = m.tensor(); c.b = m.tensor(); c.lens = m.tensor(); c.h0 = m.tensor();
  TensorArg c0 = m.tensor(), p = m.tensor(), y = m.tensor(), yh = m.tensor(), yc = m.tensor();
  c.readTail(m);
  bool inputForget = m.i();
  dispatchFloat(c.x.dtype, [&](auto t) { lstmTyped<decltype(t)>(c, c0, p, y, yh, yc, inputForget); });
}

extern "C" NNCC_KERNEL(nncc_gru) {
  Meta m(meta, buffers);
  Common c;
  c.x = m.tensor(); c.w = m.tensor(); c.r = m.tensor(); c.b = m.tensor(); c.lens = m.tensor(); c.h0 = m.tensor();
  TensorArg y = m.tensor(), yh = m.tensor();
  c.readTail(m);
  bool lbr = m.i();
  dispatchFloat(c.x.dtype, [&](auto t) { gruTyped<decltype(t)>(c, y, yh, lbr); });
}

extern "C" NNCC_KERNEL(nncc_rnn) {
  Meta m(meta, buffers);
  Common c;
  c.x = m.tensor(); c.w = m.tensor(); c.r = m.tensor(); c.b = m.tensor(); c.lens = m.tensor(); c.h0 = m.tensor();
  TensorArg y = m.tensor(), yh = m.tensor();
  c.readTail(m);
  dispatchFloat(c.x.dtype, [&](auto t) { rnnTyped<decltype(t)>(c, y, yh); });
}
