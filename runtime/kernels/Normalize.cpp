//===- Normalize.cpp - softmax, log-softmax and layer normalization -------===//
//
// Row kernels: a row is the `len` elements along the normalized axis (or
// axes), `inner` apart. Rows run in parallel on the host. Contiguous float
// rows take vectorized paths (fastExp; sums in vector lanes, combined in a
// fixed order, so results do not depend on threads); the rest accumulate in
// double.
//
//===----------------------------------------------------------------------===//
#include "runtime/kernels/FastMath.h"
#include "runtime/kernels/Kernels.h"
#include "runtime/kernels/Meta.h"
#include "runtime/kernels/Parallel.h"

#include <cmath>
#include <type_traits>

using namespace nncc::kernels;

namespace {

/// y = exp(x - max(x)) / sum (or x - max - log(sum) for log-softmax).
NNCC_VECTOR_CLONES
void softmaxRowF32(const float *__restrict x, float *__restrict y, int64_t len, bool log) {
  float mx = x[0];
  for (int64_t k = 1; k < len; ++k)
    mx = x[k] > mx ? x[k] : mx;
  constexpr int kLanes = 16;
  float lane[kLanes] = {};
  int64_t k = 0;
  for (; k + kLanes <= len; k += kLanes)
    for (int l = 0; l < kLanes; ++l) {
      float e = fastExp(x[k + l] - mx);
      y[k + l] = e;
      lane[l] += e;
    }
  float sum = 0;
  for (; k < len; ++k) {
    y[k] = fastExp(x[k] - mx);
    sum += y[k];
  }
  for (int l = 0; l < kLanes; ++l)
    sum += lane[l];
  if (log) {
    float shift = mx + std::log(sum);
    for (int64_t j = 0; j < len; ++j)
      y[j] = x[j] - shift;
  } else {
    float s = 1.f / sum;
    for (int64_t j = 0; j < len; ++j)
      y[j] *= s;
  }
}

/// Sum of x[0, len) in kLanes partial sums (vectorizable, fixed order).
inline float laneSum(const float *__restrict x, int64_t len, float shift, bool squares) {
  constexpr int kLanes = 16;
  float lane[kLanes] = {};
  int64_t k = 0;
  for (; k + kLanes <= len; k += kLanes)
    for (int l = 0; l < kLanes; ++l) {
      float v = x[k + l] - shift;
      lane[l] += squares ? v * v : v;
    }
  float sum = 0;
  for (; k < len; ++k) {
    float v = x[k] - shift;
    sum += squares ? v * v : v;
  }
  for (int l = 0; l < kLanes; ++l)
    sum += lane[l];
  return sum;
}

NNCC_VECTOR_CLONES
void layerNormRowF32(const float *__restrict x, float *__restrict y, int64_t len, const float *__restrict scale,
                     bool scaleAll, const float *__restrict bias, bool biasAll, float eps, float &mean,
                     float &invStd) {
  float mu = laneSum(x, len, 0.f, false) / (float)len;
  float inv = 1.f / std::sqrt(laneSum(x, len, mu, true) / (float)len + eps);
  if (!scaleAll && bias && !biasAll) {
    for (int64_t k = 0; k < len; ++k)
      y[k] = (x[k] - mu) * inv * scale[k] + bias[k];
  } else {
    for (int64_t k = 0; k < len; ++k) {
      float v = (x[k] - mu) * inv * (scaleAll ? scale[0] : scale[k]);
      y[k] = bias ? v + (biasAll ? bias[0] : bias[k]) : v;
    }
  }
  mean = mu;
  invStd = inv;
}

template <typename T> T expOf(T v) {
  if constexpr (std::is_same<T, float>::value)
    return fastExp(v);
  else
    return std::exp(v);
}

/// meta: x, y, axis, log (0 softmax, 1 log-softmax).
template <typename T> void softmaxTyped(const TensorArg &x, const TensorArg &y, int64_t axis, bool log) {
  int64_t outer = 1, len = x.dim(axis), inner = 1;
  for (int64_t d = 0; d < axis; ++d) outer *= x.dim(d);
  for (int64_t d = axis + 1; d < x.rank; ++d) inner *= x.dim(d);
  const T *X = x.as<T>();
  T *Y = y.as<T>();
  parallelFor(outer * inner, len * 8, [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r) {
      int64_t base = (r / inner) * len * inner + r % inner;
      const T *xr = X + base;
      T *yr = Y + base;
      if constexpr (std::is_same<T, float>::value) {
        if (inner == 1) {
          softmaxRowF32(xr, yr, len, log);
          continue;
        }
      }
      T mx = xr[0];
      for (int64_t k = 1; k < len; ++k)
        mx = xr[k * inner] > mx ? xr[k * inner] : mx;
      double sum = 0;
      if (inner == 1) {
        for (int64_t k = 0; k < len; ++k) { // contiguous: vectorizes
          T e = expOf<T>(xr[k] - mx);
          yr[k] = e;
          sum += e;
        }
      } else {
        for (int64_t k = 0; k < len; ++k) {
          T e = expOf<T>(xr[k * inner] - mx);
          yr[k * inner] = e;
          sum += e;
        }
      }
      if (log) {
        T lse = (T)std::log(sum);
        for (int64_t k = 0; k < len; ++k)
          yr[k * inner] = xr[k * inner] - mx - lse;
      } else {
        T s = (T)(1.0 / sum);
        for (int64_t k = 0; k < len; ++k)
          yr[k * inner] *= s;
      }
    }
  });
}

/// meta: x, scale, bias | none, y, mean | none, inv_std_dev | none, axis,
/// epsilon. Normalizes over dimensions [axis, rank); scale and bias have
/// either one element per normalized element or one in all.
template <typename T>
void layerNormTyped(const TensorArg &x, const TensorArg &scale, const TensorArg &bias, const TensorArg &y,
                    const TensorArg &mean, const TensorArg &invStd, int64_t axis, double eps) {
  int64_t rows = 1, len = 1;
  for (int64_t d = 0; d < axis; ++d) rows *= x.dim(d);
  for (int64_t d = axis; d < x.rank; ++d) len *= x.dim(d);
  const T *X = x.as<T>(), *S = scale.as<T>(), *B = bias.present() ? bias.as<T>() : nullptr;
  bool sAll = scale.numel() == 1, bAll = bias.present() && bias.numel() == 1;
  T *Y = y.as<T>();
  parallelFor(rows, len * 6, [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r) {
      const T *xr = X + r * len;
      T *yr = Y + r * len;
      if constexpr (std::is_same<T, float>::value) {
        float mu, inv;
        layerNormRowF32(xr, yr, len, S, sAll, B, bAll, (float)eps, mu, inv);
        if (mean.present())
          mean.as<T>()[r] = mu;
        if (invStd.present())
          invStd.as<T>()[r] = inv;
        continue;
      }
      double sum = 0;
      for (int64_t k = 0; k < len; ++k)
        sum += xr[k];
      T mu = (T)(sum / len);
      double sq = 0;
      for (int64_t k = 0; k < len; ++k) {
        double d = (double)(xr[k] - mu);
        sq += d * d;
      }
      T inv = (T)(1.0 / std::sqrt(sq / len + eps));
      for (int64_t k = 0; k < len; ++k) {
        T v = (xr[k] - mu) * inv * (sAll ? S[0] : S[k]);
        yr[k] = B ? v + (bAll ? B[0] : B[k]) : v;
      }
      if (mean.present())
        mean.as<T>()[r] = mu;
      if (invStd.present())
        invStd.as<T>()[r] = inv;
    }
  });
}

} // namespace

extern "C" NNCC_KERNEL(nncc_softmax) {
  Meta m(meta, buffers);
  TensorArg x = m.tensor(), y = m.tensor();
  int64_t axis = m.i();
  bool log = m.i();
  dispatchFloat(x.dtype, [&](auto t) { softmaxTyped<decltype(t)>(x, y, axis, log); });
}

extern "C" NNCC_KERNEL(nncc_layer_norm) {
  Meta m(meta, buffers);
  TensorArg x = m.tensor(), scale = m.tensor(), bias = m.tensor(), y = m.tensor(), mean = m.tensor(),
            invStd = m.tensor();
  int64_t axis = m.i();
  double eps = m.f();
  dispatchFloat(x.dtype, [&](auto t) { layerNormTyped<decltype(t)>(x, scale, bias, y, mean, invStd, axis, eps); });
}
