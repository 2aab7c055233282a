//===- RecurrentCells.cpp -------------------------------------------------===//
#include "runtime/kernels/RecurrentCells.h"
#include "runtime/kernels/FastMath.h"

#include <algorithm>

namespace nncc {
namespace kernels {

namespace {
/// A pre-activation within [-clip, clip] (ONNX's clip attribute), when
/// there is one.
template <bool Clip> inline float clipped(float v, float clip) {
  return Clip ? std::min(std::max(v, -clip), clip) : v;
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
  bool clips = clip < kNoClip;
  if (peep && clips)
    lstmLoop<true, true>(H, x, hr, peep, c, h, clip);
  else if (peep)
    lstmLoop<true, false>(H, x, hr, peep, c, h, clip);
  else if (clips)
    lstmLoop<false, true>(H, x, hr, nullptr, c, h, clip);
  else
    lstmLoop<false, false>(H, x, hr, nullptr, c, h, clip);
}

namespace {
template <bool Peephole>
inline void lstmTrainLoop(int64_t H, float *__restrict a, const float *__restrict peep,
                          const float *__restrict cPrev, float *__restrict cNew) {
  for (int64_t j = 0; j < H; ++j) {
    float gi = a[j], go = a[H + j], gf = a[2 * H + j], cp = cPrev[j];
    if (Peephole) {
      gi += peep[j] * cp;
      gf += peep[2 * H + j] * cp;
    }
    float it = fastSigmoid(gi), ft = fastSigmoid(gf), ct = fastTanh(a[3 * H + j]);
    float cn = ft * cp + it * ct;
    if (Peephole)
      go += peep[H + j] * cn;
    a[j] = it;
    a[H + j] = fastSigmoid(go);
    a[2 * H + j] = ft;
    a[3 * H + j] = ct;
    cNew[j] = cn;
  }
}

template <bool Peephole>
inline void lstmBackwardLoop(int64_t H, float *__restrict a, const float *__restrict peep,
                             const float *__restrict cPrev, const float *__restrict cNew, const float *__restrict dh,
                             float *__restrict dc, float *__restrict dp) {
  for (int64_t j = 0; j < H; ++j) {
    float it = a[j], ot = a[H + j], ft = a[2 * H + j], ct = a[3 * H + j];
    float cp = cPrev[j], hc = fastTanh(cNew[j]), dhv = dh[j];
    float dcv = dc[j] + dhv * ot * (1.f - hc * hc);
    float dao = dhv * hc * ot * (1.f - ot);
    if (Peephole)
      dcv += dao * peep[H + j];
    float dai = dcv * ct * it * (1.f - it);
    float daf = dcv * cp * ft * (1.f - ft);
    float dac = dcv * it * (1.f - ct * ct);
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

NNCC_VECTOR_CLONES
void lstmRowHidden(int64_t H, const float *__restrict a, const float *__restrict cNew, float *__restrict h) {
  for (int64_t j = 0; j < H; ++j)
    h[j] = a[H + j] * fastTanh(cNew[j]);
}

NNCC_VECTOR_CLONES
void lstmRowTrain(int64_t H, float *a, const float *peep, const float *cPrev, float *cNew) {
  if (peep)
    lstmTrainLoop<true>(H, a, peep, cPrev, cNew);
  else
    lstmTrainLoop<false>(H, a, nullptr, cPrev, cNew);
}

NNCC_VECTOR_CLONES
void lstmRowBackward(int64_t H, float *a, const float *peep, const float *cPrev, const float *cNew, const float *dh,
                     float *dc, float *dp) {
  if (peep)
    lstmBackwardLoop<true>(H, a, peep, cPrev, cNew, dh, dc, dp);
  else
    lstmBackwardLoop<false>(H, a, nullptr, cPrev, cNew, dh, dc, dp);
}

namespace {
template <bool Clip>
inline void gruLinearBeforeResetLoop(int64_t H, const float *__restrict x, const float *__restrict hr,
                                     const float *__restrict rbh, float *__restrict h, float clip) {
  for (int64_t j = 0; j < H; ++j) {
    float z = fastSigmoid(clipped<Clip>(x[j] + hr[j], clip)), r = fastSigmoid(clipped<Clip>(x[H + j] + hr[H + j], clip));
    float n = fastTanh(clipped<Clip>(x[2 * H + j] + r * (hr[2 * H + j] + rbh[j]), clip));
    h[j] = (1.f - z) * n + z * h[j];
  }
}
} // namespace

NNCC_VECTOR_CLONES
void gruRowLinearBeforeReset(int64_t H, const float *x, const float *hr, const float *rbh, float *h, float clip) {
  if (clip < kNoClip)
    gruLinearBeforeResetLoop<true>(H, x, hr, rbh, h, clip);
  else
    gruLinearBeforeResetLoop<false>(H, x, hr, rbh, h, clip);
}

NNCC_VECTOR_CLONES
void gruRowBackwardLinearBeforeReset(int64_t H, float *__restrict a, const float *__restrict rbh,
                                     const float *__restrict hPrev, float *__restrict dh) {
  for (int64_t j = 0; j < H; ++j) {
    float z = fastSigmoid(a[j]), r = fastSigmoid(a[H + j]), hrh = a[3 * H + j] + rbh[j];
    float n = fastTanh(a[2 * H + j] + r * hrh), dhv = dh[j];
    float dah = dhv * (1.f - z) * (1.f - n * n);
    a[j] = dhv * (hPrev[j] - n) * z * (1.f - z);
    a[H + j] = dah * hrh * r * (1.f - r);
    a[2 * H + j] = dah * r;
    a[3 * H + j] = dah;
    dh[j] = dhv * z;
  }
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
  if (clip < kNoClip)
    rnnTanhLoop<true>(H, x, hr, h, clip);
  else
    rnnTanhLoop<false>(H, x, hr, h, clip);
}

NNCC_VECTOR_CLONES
void rnnRowTanhBackward(int64_t H, const float *__restrict h, const float *__restrict dh, float *__restrict da) {
  for (int64_t j = 0; j < H; ++j)
    da[j] = dh[j] * (1.f - h[j] * h[j]);
}

NNCC_VECTOR_CLONES
void rnnRowTanhBackwardInPlace(int64_t H, float *__restrict a, const float *__restrict dh) {
  for (int64_t j = 0; j < H; ++j) {
    float t = fastTanh(a[j]);
    a[j] = dh[j] * (1.f - t * t);
  }
}

NNCC_VECTOR_CLONES
void rnnRowRelu(int64_t H, const float *x, const float *hr, float *h, float clip) {
  if (clip < kNoClip)
    rnnReluLoop<true>(H, x, hr, h, clip);
  else
    rnnReluLoop<false>(H, x, hr, h, clip);
}

NNCC_VECTOR_CLONES
void rnnRowReluBackward(int64_t H, const float *__restrict h, const float *__restrict dh, float *__restrict da) {
  for (int64_t j = 0; j < H; ++j)
    da[j] = h[j] > 0.f ? dh[j] : 0.f;
}

NNCC_VECTOR_CLONES
void rnnRowReluBackwardInPlace(int64_t H, float *__restrict a, const float *__restrict dh) {
  for (int64_t j = 0; j < H; ++j)
    a[j] = a[j] > 0.f ? dh[j] : 0.f;
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
  if (clip < kNoClip)
    gruGatesLoop<true>(H, x, hr, h, z, rh, clip);
  else
    gruGatesLoop<false>(H, x, hr, h, z, rh, clip);
}

NNCC_VECTOR_CLONES
void gruRowOutput(int64_t H, const float *x, const float *rhR, const float *rbh, const float *z, float *h, float clip) {
  if (clip < kNoClip)
    gruOutputLoop<true>(H, x, rhR, rbh, z, h, clip);
  else
    gruOutputLoop<false>(H, x, rhR, rbh, z, h, clip);
}

NNCC_VECTOR_CLONES
void gruRowBackwardOutput(int64_t H, float *__restrict a, const float *__restrict hPrev, float *__restrict dh) {
  for (int64_t j = 0; j < H; ++j) {
    float z = fastSigmoid(a[j]), n = fastTanh(a[2 * H + j]), dhv = dh[j];
    a[j] = dhv * (hPrev[j] - n) * z * (1.f - z);
    a[2 * H + j] = dhv * (1.f - z) * (1.f - n * n);
    dh[j] = dhv * z;
  }
}

NNCC_VECTOR_CLONES
void gruRowBackwardGates(int64_t H, float *__restrict a, const float *__restrict hPrev, const float *__restrict drh,
                         float *__restrict dh) {
  for (int64_t j = 0; j < H; ++j) {
    float r = fastSigmoid(a[H + j]);
    a[H + j] = drh[j] * hPrev[j] * r * (1.f - r);
    dh[j] += drh[j] * r;
  }
}

} // namespace kernels
} // namespace nncc
