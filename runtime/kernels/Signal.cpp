//===- Signal.cpp - DFT and STFT ------------------------------------------===//
//
// Direct O(n^2) transforms in double precision; complex values are a trailing
// dimension of 2 (real, imaginary), real inputs a trailing dimension of 1.
//
//===----------------------------------------------------------------------===//
#include "runtime/kernels/Kernels.h"
#include "runtime/kernels/Meta.h"

#include <cmath>

using namespace nncc::kernels;

namespace {

/// out[k] = sum_n in[n] * e^(sign 2 pi i k n / N), k < outBins; in has inLen
/// points (zero-padded or truncated to N).
void dft(const double *re, const double *im, int64_t inLen, int64_t N, int64_t outBins, bool inverse, double *outRe,
         double *outIm) {
  double sign = inverse ? 1 : -1;
  for (int64_t k = 0; k < outBins; ++k) {
    double sr = 0, si = 0;
    for (int64_t n = 0; n < minOf(inLen, N); ++n) {
      double angle = sign * 2 * M_PI * (double)((k * n) % N) / (double)N;
      double c = std::cos(angle), s = std::sin(angle);
      sr += re[n] * c - im[n] * s;
      si += re[n] * s + im[n] * c;
    }
    if (inverse) {
      sr /= N;
      si /= N;
    }
    outRe[k] = sr;
    outIm[k] = si;
  }
}

} // namespace

namespace {

struct DftArgs {
  TensorArg x, y;
  int64_t axis, N;
  bool inverse;
};

DftArgs readDft(Meta &m) {
  DftArgs a;
  a.x = m.tensor();
  a.y = m.tensor();
  a.axis = m.i();
  a.inverse = m.i();
  a.N = m.i(); // transform length (x is zero-padded or truncated to it)
  return a;
}

template <typename T> void dftTyped(const DftArgs &a, Scratch &s) {
  int64_t inLen = a.x.dim(a.axis), outBins = a.y.dim(a.axis), comps = a.x.last();
  double *re = s.alloc<double>(inLen), *im = s.alloc<double>(inLen), *oRe = s.alloc<double>(outBins),
         *oIm = s.alloc<double>(outBins);
  if (s.measuring())
    return;
  int64_t outer = 1, inner = 1;
  for (int64_t d = 0; d < a.axis; ++d) outer *= a.x.dim(d);
  for (int64_t d = a.axis + 1; d < a.x.rank - 1; ++d) inner *= a.x.dim(d);
  const T *X = a.x.as<T>();
  T *Y = a.y.as<T>();
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t i = 0; i < inner; ++i) {
      for (int64_t n = 0; n < inLen; ++n) {
        const T *p = X + ((o * inLen + n) * inner + i) * comps;
        re[n] = p[0];
        im[n] = comps == 2 ? p[1] : 0;
      }
      dft(re, im, inLen, a.N, outBins, a.inverse, oRe, oIm);
      for (int64_t k = 0; k < outBins; ++k) {
        T *q = Y + ((o * outBins + k) * inner + i) * 2;
        q[0] = (T)oRe[k];
        q[1] = (T)oIm[k];
      }
    }
}

struct StftArgs {
  TensorArg s, w, y;
  int64_t step, len;
};

StftArgs readStft(Meta &m) {
  StftArgs a;
  a.s = m.tensor();
  a.w = m.tensor();
  a.y = m.tensor();
  a.step = m.i();
  a.len = m.i();
  return a;
}

template <typename T> void stftTyped(const StftArgs &a, Scratch &sc) {
  int64_t len = a.len, bins = a.y.dim(2);
  double *re = sc.alloc<double>(len), *im = sc.alloc<double>(len), *oRe = sc.alloc<double>(bins),
         *oIm = sc.alloc<double>(bins);
  if (sc.measuring())
    return;
  int64_t B = a.s.dim(0), L = a.s.dim(1), comps = a.s.dim(2), frames = a.y.dim(1);
  const T *S = a.s.as<T>();
  T *Y = a.y.as<T>();
  for (int64_t b = 0; b < B; ++b)
    for (int64_t f = 0; f < frames; ++f) {
      for (int64_t n = 0; n < len; ++n) {
        double wv = a.w.present() ? (double)a.w.as<T>()[n] : 1.0;
        const T *p = S + (b * L + f * a.step + n) * comps;
        re[n] = p[0] * wv;
        im[n] = comps == 2 ? p[1] * wv : 0;
      }
      dft(re, im, len, len, bins, false, oRe, oIm);
      for (int64_t k = 0; k < bins; ++k) {
        T *q = Y + ((b * frames + f) * bins + k) * 2;
        q[0] = (T)oRe[k];
        q[1] = (T)oIm[k];
      }
    }
}

} // namespace

extern "C" NNCC_KERNEL(nncc_dft) {
  Meta m(meta, buffers);
  DftArgs a = readDft(m);
  Scratch s = m.scratch();
  dispatchFloat(a.x.dtype, [&](auto t) { dftTyped<decltype(t)>(a, s); });
}

NNCC_SCRATCH(nncc_dft) {
  Meta m(meta, nullptr);
  DftArgs a = readDft(m);
  Scratch s;
  dispatchFloat(a.x.dtype, [&](auto t) { dftTyped<decltype(t)>(a, s); });
  return (int64_t)s.bytes();
}

extern "C" NNCC_KERNEL(nncc_stft) {
  Meta m(meta, buffers);
  StftArgs a = readStft(m);
  Scratch s = m.scratch();
  dispatchFloat(a.s.dtype, [&](auto t) { stftTyped<decltype(t)>(a, s); });
}

NNCC_SCRATCH(nncc_stft) {
  Meta m(meta, nullptr);
  StftArgs a = readStft(m);
  Scratch s;
  dispatchFloat(a.s.dtype, [&](auto t) { stftTyped<decltype(t)>(a, s); });
  return (int64_t)s.bytes();
}
