//===- Signal.cpp - DFT and STFT ------------------------------------------===//
//
// Direct O(n^2) transforms in double precision; complex values are a trailing
// dimension of 2 (real, imaginary), real inputs a trailing dimension of 1.
//
//===----------------------------------------------------------------------===//
#include "runtime/kernels/Kernels.h"
#include "runtime/kernels/Meta.h"

#include <cmath>
#include <vector>

using namespace nncc::kernels;

namespace {

/// out[k] = sum_n in[n] * e^(sign 2 pi i k n / N), k < outBins; in has inLen
/// points (zero-padded or truncated to N).
void dft(const double *re, const double *im, int64_t inLen, int64_t N, int64_t outBins, bool inverse, double *outRe,
         double *outIm) {
  double sign = inverse ? 1 : -1;
  for (int64_t k = 0; k < outBins; ++k) {
    double sr = 0, si = 0;
    for (int64_t n = 0; n < std::min(inLen, N); ++n) {
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

extern "C" NNCC_KERNEL(nncc_dft) {
  Meta m(meta, buffers);
  TensorArg x = m.tensor(), y = m.tensor();
  int64_t axis = m.i();
  bool inverse = m.i();
  int64_t N = m.i(); // transform length (x is zero-padded or truncated to it)
  int64_t inLen = x.dim(axis), outBins = y.dim(axis), comps = x.shape.back();
  int64_t outer = 1, inner = 1;
  for (int64_t d = 0; d < axis; ++d) outer *= x.dim(d);
  for (int64_t d = axis + 1; d < x.rank() - 1; ++d) inner *= x.dim(d);
  dispatchFloat(x.dtype, [&](auto t) {
    using T = decltype(t);
    const T *X = x.as<T>();
    T *Y = y.as<T>();
    std::vector<double> re(inLen), im(inLen), oRe(outBins), oIm(outBins);
    for (int64_t o = 0; o < outer; ++o)
      for (int64_t i = 0; i < inner; ++i) {
        for (int64_t n = 0; n < inLen; ++n) {
          const T *p = X + ((o * inLen + n) * inner + i) * comps;
          re[n] = p[0];
          im[n] = comps == 2 ? p[1] : 0;
        }
        dft(re.data(), im.data(), inLen, N, outBins, inverse, oRe.data(), oIm.data());
        for (int64_t k = 0; k < outBins; ++k) {
          T *q = Y + ((o * outBins + k) * inner + i) * 2;
          q[0] = (T)oRe[k];
          q[1] = (T)oIm[k];
        }
      }
  });
}

extern "C" NNCC_KERNEL(nncc_stft) {
  Meta m(meta, buffers);
  TensorArg s = m.tensor(), w = m.tensor(), y = m.tensor();
  int64_t step = m.i(), len = m.i();
  int64_t B = s.dim(0), L = s.dim(1), comps = s.dim(2), frames = y.dim(1), bins = y.dim(2);
  dispatchFloat(s.dtype, [&](auto t) {
    using T = decltype(t);
    const T *S = s.as<T>();
    T *Y = y.as<T>();
    std::vector<double> re(len), im(len), oRe(bins), oIm(bins);
    for (int64_t b = 0; b < B; ++b)
      for (int64_t f = 0; f < frames; ++f) {
        for (int64_t n = 0; n < len; ++n) {
          double wv = w.present() ? (double)w.as<T>()[n] : 1.0;
          const T *p = S + (b * L + f * step + n) * comps;
          re[n] = p[0] * wv;
          im[n] = comps == 2 ? p[1] * wv : 0;
        }
        dft(re.data(), im.data(), len, len, bins, false, oRe.data(), oIm.data());
        for (int64_t k = 0; k < bins; ++k) {
          T *q = Y + ((b * frames + f) * bins + k) * 2;
          q[0] = (T)oRe[k];
          q[1] = (T)oIm[k];
        }
      }
  });
}
