//===- RecurrentCells.cpp -------------------------------------------------===//
#include "runtime/kernels/RecurrentCells.h"
#include "runtime/kernels/FastMath.h"

#include <algorithm>
#include <type_traits>

namespace nncc {
namespace kernels {

namespace {
/// A pre-activation within [-clip, clip] (ONNX's clip attribute), when
/// there is one.
template <bool Clip> inline float clipped(float v, float clip) {
  return Clip ? std::min(std::max(v, -clip), clip) : v;
}
/// The derivative of clipped(v): 0 where the clip binds (as the general
/// path's Common::clipSlope).
template <bool Clip> inline float clipSlope(float v, float clip) {
  return Clip && (v > clip || v < -clip) ? 0.f : 1.f;
}
/// Calls f(std::true_type) when there is a clip, f(std::false_type) when
/// not: the loops' Clip parameter.
template <typename F> inline void withClip(float clip, F f) {
  if (clip < kNoClip)
    f(std::true_type());
  else
    f(std::false_type());
}

template <bool Peephole, bool Clip>
inline void lstmLoop(int64_t H, const float *__restrict x, const float *__restrict hr, const float *__restrict peep,
                     float *__restrict c, float *__restrict h, float clip) {
  for (int64_t j = 0; j < H; ++j) {
    float gi = x[j] + hr[j], go = x[H + j] + hr[H + j], gf = x[2 * H + j] + hr[2 * H + j],
          gc = x[3 * H + j] + hr[3 * H + j];
    float cPrev = c[j];
    if (Peephole) {
      gi += peep[j] * cPrev;
      gf += peep[2 * H + j] * cPrev;
    }
    float cNew = fastSigmoid(clipped<Clip>(gf, clip)) * cPrev +
                 fastSigmoid(clipped<Clip>(gi, clip)) * fastTanh(clipped<Clip>(gc, clip));
    if (Peephole)
      go += peep[H + j] * cNew;
    c[j] = cNew;
    h[j] = fastSigmoid(clipped<Clip>(go, clip)) * fastTanh(cNew);
  }
}
} // namespace

NNCC_VECTOR_CLONES
void lstmRow(int64_t H, const float *x, const float *hr, const float *peep, float *c, float *h, float clip) {
  withClip(clip, [&](auto clips) {
    if (peep)
      lstmLoop<true, decltype(clips)::value>(H, x, hr, peep, c, h, clip);
    else
      lstmLoop<false, decltype(clips)::value>(H, x, hr, nullptr, c, h, clip);
  });
}

namespace {
/// With Clip `a` keeps the pre-activations (peepholes in), as the general
/// path does: the backward needs them for the clip's derivative.
template <bool Peephole, bool Clip>
inline void lstmTrainLoop(int64_t H, float *__restrict a, const float *__restrict peep,
                          const float *__restrict cPrev, float *__restrict cNew, float clip) {
  for (int64_t j = 0; j < H; ++j) {
    float gi = a[j], go = a[H + j], gf = a[2 * H + j], cp = cPrev[j];
    if (Peephole) {
      gi += peep[j] * cp;
      gf += peep[2 * H + j] * cp;
    }
    float it = fastSigmoid(clipped<Clip>(gi, clip)), ft = fastSigmoid(clipped<Clip>(gf, clip)),
          ct = fastTanh(clipped<Clip>(a[3 * H + j], clip));
    float cn = ft * cp + it * ct;
    if (Peephole)
      go += peep[H + j] * cn;
    if (Clip) {
      a[j] = gi;
      a[H + j] = go;
      a[2 * H + j] = gf;
    } else {
      a[j] = it;
      a[H + j] = fastSigmoid(go);
      a[2 * H + j] = ft;
      a[3 * H + j] = ct;
    }
    cNew[j] = cn;
  }
}

template <bool Peephole, bool Clip>
inline void lstmBackwardLoop(int64_t H, float *__restrict a, const float *__restrict peep,
                             const float *__restrict cPrev, const float *__restrict cNew, const float *__restrict dh,
                             float *__restrict dc, float *__restrict dp, float clip) {
  for (int64_t j = 0; j < H; ++j) {
    float it = a[j], ot = a[H + j], ft = a[2 * H + j], ct = a[3 * H + j];
    float si = 1.f, so = 1.f, sf = 1.f, sc = 1.f; // (the clip's derivatives)
    if (Clip) { // (`a` holds the pre-activations)
      si = clipSlope<Clip>(it, clip);
      so = clipSlope<Clip>(ot, clip);
      sf = clipSlope<Clip>(ft, clip);
      sc = clipSlope<Clip>(ct, clip);
      it = fastSigmoid(clipped<Clip>(it, clip));
      ot = fastSigmoid(clipped<Clip>(ot, clip));
      ft = fastSigmoid(clipped<Clip>(ft, clip));
      ct = fastTanh(clipped<Clip>(ct, clip));
    }
    float cp = cPrev[j], hc = fastTanh(cNew[j]), dhv = dh[j];
    float dcv = dc[j] + dhv * ot * (1.f - hc * hc);
    float dao = dhv * hc * ot * (1.f - ot) * so;
    if (Peephole)
      dcv += dao * peep[H + j];
    float dai = dcv * ct * it * (1.f - it) * si;
    float daf = dcv * cp * ft * (1.f - ft) * sf;
    float dac = dcv * it * (1.f - ct * ct) * sc;
    float dcp = dcv * ft;
    if (Peephole) {
      dcp += dai * peep[j] + daf * peep[2 * H + j];
      dp[j] += dai * cp;
      dp[H + j] += dao * cNew[j];
      dp[2 * H + j] += daf * cp;
    }
    a[j] = dai;
    a[H + j] = dao;
    a[2 * H + j] = daf;
    a[3 * H + j] = dac;
    dc[j] = dcp;
  }
}
} // namespace

namespace {
template <bool Clip>
inline void lstmHiddenLoop(int64_t H, const float *__restrict a, const float *__restrict cNew, float *__restrict h,
                           float clip) {
  for (int64_t j = 0; j < H; ++j)
    h[j] = (Clip ? fastSigmoid(clipped<Clip>(a[H + j], clip)) : a[H + j]) * fastTanh(cNew[j]);
}
} // namespace

NNCC_VECTOR_CLONES
void lstmRowHidden(int64_t H, const float *a, const float *cNew, float *h, float clip) {
  withClip(clip, [&](auto clips) { lstmHiddenLoop<decltype(clips)::value>(H, a, cNew, h, clip); });
}

NNCC_VECTOR_CLONES
void lstmRowTrain(int64_t H, float *a, const float *peep, const float *cPrev, float *cNew, float clip) {
  withClip(clip, [&](auto clips) {
    if (peep)
      lstmTrainLoop<true, decltype(clips)::value>(H, a, peep, cPrev, cNew, clip);
    else
      lstmTrainLoop<false, decltype(clips)::value>(H, a, nullptr, cPrev, cNew, clip);
  });
}

NNCC_VECTOR_CLONES
void lstmRowBackward(int64_t H, float *a, const float *peep, const float *cPrev, const float *cNew, const float *dh,
                     float *dc, float *dp, float clip) {
  withClip(clip, [&](auto clips) {
    if (peep)
      lstmBackwardLoop<true, decltype(clips)::value>(H, a, peep, cPrev, cNew, dh, dc, dp, clip);
    else
      lstmBackwardLoop<false, decltype(clips)::value>(H, a, nullptr, cPrev, cNew, dh, dc, dp, clip);
  });
}

namespace {
template <bool Clip>
inline void gruLinearBeforeResetLoop(int64_t H, const float *__restrict x, const float *__restrict hr,
                                     const float *__restrict rbh, float *__restrict h, float clip) {
  for (int64_t j = 0; j < H; ++j) {
    float z = fastSigmoid(clipped<Clip>(x[j] + hr[j], clip));
    float r = fastSigmoid(clipped<Clip>(x[H + j] + hr[H + j], clip));
    float n = fastTanh(clipped<Clip>(x[2 * H + j] + r * (hr[2 * H + j] + rbh[j]), clip));
    h[j] = (1.f - z) * n + z * h[j];
  }
}
} // namespace

NNCC_VECTOR_CLONES
void gruRowLinearBeforeReset(int64_t H, const float *x, const float *hr, const float *rbh, float *h, float clip) {
  withClip(clip, [&](auto clips) { gruLinearBeforeResetLoop<decltype(clips)::value>(H, x, hr, rbh, h, clip); });
}

namespace {
template <bool Clip>
inline void gruBackwardLinearBeforeResetLoop(int64_t H, float *__restrict a, const float *__restrict rbh,
                                             const float *__restrict hPrev, float *__restrict dh, float clip) {
  for (int64_t j = 0; j < H; ++j) {
    float az = a[j], ar = a[H + j];
    float z = fastSigmoid(clipped<Clip>(az, clip)), r = fastSigmoid(clipped<Clip>(ar, clip));
    float hrh = a[3 * H + j] + rbh[j];
    float ah = a[2 * H + j] + r * hrh;
    float n = fastTanh(clipped<Clip>(ah, clip)), dhv = dh[j];
    float dah = dhv * (1.f - z) * (1.f - n * n) * clipSlope<Clip>(ah, clip);
    a[j] = dhv * (hPrev[j] - n) * z * (1.f - z) * clipSlope<Clip>(az, clip);
    a[H + j] = dah * hrh * r * (1.f - r) * clipSlope<Clip>(ar, clip);
    a[2 * H + j] = dah * r;
    a[3 * H + j] = dah;
    dh[j] = dhv * z;
  }
}
} // namespace

NNCC_VECTOR_CLONES
void gruRowBackwardLinearBeforeReset(int64_t H, float *a, const float *rbh, const float *hPrev, float *dh,
                                     float clip) {
  withClip(clip, [&](auto clips) {
    gruBackwardLinearBeforeResetLoop<decltype(clips)::value>(H, a, rbh, hPrev, dh, clip);
  });
}

namespace {
template <bool Clip>
inline void rnnTanhLoop(int64_t H, const float *__restrict x, const float *__restrict hr, float *__restrict h,
                        float clip) {
  for (int64_t j = 0; j < H; ++j)
    h[j] = fastTanh(clipped<Clip>(x[j] + hr[j], clip));
}
template <bool Clip>
inline void rnnReluLoop(int64_t H, const float *__restrict x, const float *__restrict hr, float *__restrict h,
                        float clip) {
  for (int64_t j = 0; j < H; ++j) {
    float v = clipped<Clip>(x[j] + hr[j], clip);
    h[j] = v > 0.f ? v : 0.f; // (NaN and -0 give +0, as the general path)
  }
}
} // namespace

NNCC_VECTOR_CLONES
void rnnRowTanh(int64_t H, const float *x, const float *hr, float *h, float clip) {
  withClip(clip, [&](auto clips) { rnnTanhLoop<decltype(clips)::value>(H, x, hr, h, clip); });
}

NNCC_VECTOR_CLONES
void rnnRowTanhBackward(int64_t H, const float *__restrict h, const float *__restrict dh, float *__restrict da) {
  for (int64_t j = 0; j < H; ++j)
    da[j] = dh[j] * (1.f - h[j] * h[j]);
}

namespace {
template <bool Clip>
inline void rnnTanhBackwardLoop(int64_t H, float *__restrict a, const float *__restrict dh, float clip) {
  for (int64_t j = 0; j < H; ++j) {
    float t = fastTanh(clipped<Clip>(a[j], clip));
    a[j] = dh[j] * (1.f - t * t) * clipSlope<Clip>(a[j], clip);
  }
}
template <bool Clip>
inline void rnnReluBackwardLoop(int64_t H, float *__restrict a, const float *__restrict dh, float clip) {
  for (int64_t j = 0; j < H; ++j)
    a[j] = a[j] > 0.f ? dh[j] * clipSlope<Clip>(a[j], clip) : 0.f;
}
} // namespace

NNCC_VECTOR_CLONES
void rnnRowTanhBackwardInPlace(int64_t H, float *a, const float *dh, float clip) {
  withClip(clip, [&](auto clips) { rnnTanhBackwardLoop<decltype(clips)::value>(H, a, dh, clip); });
}

NNCC_VECTOR_CLONES
void rnnRowRelu(int64_t H, const float *x, const float *hr, float *h, float clip) {
  withClip(clip, [&](auto clips) { rnnReluLoop<decltype(clips)::value>(H, x, hr, h, clip); });
}

NNCC_VECTOR_CLONES
void rnnRowReluBackward(int64_t H, const float *__restrict h, const float *__restrict dh, float *__restrict da) {
  for (int64_t j = 0; j < H; ++j)
    da[j] = h[j] > 0.f ? dh[j] : 0.f;
}

NNCC_VECTOR_CLONES
void rnnRowReluBackwardInPlace(int64_t H, float *a, const float *dh, float clip) {
  withClip(clip, [&](auto clips) { rnnReluBackwardLoop<decltype(clips)::value>(H, a, dh, clip); });
}

namespace {
template <bool Clip>
inline void gruGatesLoop(int64_t H, const float *__restrict x, const float *__restrict hr, const float *__restrict h,
                         float *__restrict z, float *__restrict rh, float clip) {
  for (int64_t j = 0; j < H; ++j) {
    z[j] = fastSigmoid(clipped<Clip>(x[j] + hr[j], clip));
    rh[j] = fastSigmoid(clipped<Clip>(x[H + j] + hr[H + j], clip)) * h[j];
  }
}
template <bool Clip>
inline void gruOutputLoop(int64_t H, const float *__restrict x, const float *__restrict rhR,
                          const float *__restrict rbh, const float *__restrict z, float *__restrict h, float clip) {
  for (int64_t j = 0; j < H; ++j) {
    float n = fastTanh(clipped<Clip>(x[2 * H + j] + rhR[j] + rbh[j], clip));
    h[j] = (1.f - z[j]) * n + z[j] * h[j];
  }
}
} // namespace

NNCC_VECTOR_CLONES
void gruRowGates(int64_t H, const float *x, const float *hr, const float *h, float *z, float *rh, float clip) {
  withClip(clip, [&](auto clips) { gruGatesLoop<decltype(clips)::value>(H, x, hr, h, z, rh, clip); });
}

NNCC_VECTOR_CLONES
void gruRowOutput(int64_t H, const float *x, const float *rhR, const float *rbh, const float *z, float *h, float clip) {
  withClip(clip, [&](auto clips) { gruOutputLoop<decltype(clips)::value>(H, x, rhR, rbh, z, h, clip); });
}

namespace {
template <bool Clip>
inline void gruBackwardOutputLoop(int64_t H, float *__restrict a, const float *__restrict hPrev, float *__restrict dh,
                                  float clip) {
  for (int64_t j = 0; j < H; ++j) {
    float az = a[j], ah = a[2 * H + j];
    float z = fastSigmoid(clipped<Clip>(az, clip)), n = fastTanh(clipped<Clip>(ah, clip)), dhv = dh[j];
    a[j] = dhv * (hPrev[j] - n) * z * (1.f - z) * clipSlope<Clip>(az, clip);
    a[2 * H + j] = dhv * (1.f - z) * (1.f - n * n) * clipSlope<Clip>(ah, clip);
    dh[j] = dhv * z;
  }
}
template <bool Clip>
inline void gruBackwardGatesLoop(int64_t H, float *__restrict a, const float *__restrict hPrev,
                                 const float *__restrict drh, float *__restrict dh, float clip) {
  for (int64_t j = 0; j < H; ++j) {
    float ar = a[H + j], r = fastSigmoid(clipped<Clip>(ar, clip));
    a[H + j] = drh[j] * hPrev[j] * r * (1.f - r) * clipSlope<Clip>(ar, clip);
    dh[j] += drh[j] * r;
  }
}
} // namespace

NNCC_VECTOR_CLONES
void gruRowBackwardOutput(int64_t H, float *a, const float *hPrev, float *dh, float clip) {
  withClip(clip, [&](auto clips) { gruBackwardOutputLoop<decltype(clips)::value>(H, a, hPrev, dh, clip); });
}

NNCC_VECTOR_CLONES
void gruRowBackwardGates(int64_t H, float *a, const float *hPrev, const float *drh, float *dh, float clip) {
  withClip(clip, [&](auto clips) { gruBackwardGatesLoop<decltype(clips)::value>(H, a, hPrev, drh, dh, clip); });
}

} // namespace kernels
} // namespace nncc
