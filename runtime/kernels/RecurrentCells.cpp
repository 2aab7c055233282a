//===- RecurrentCells.cpp -------------------------------------------------===//
#include "runtime/kernels/RecurrentCells.h"
#include "runtime/kernels/FastMath.h"

namespace nncc {
namespace kernels {

namespace {
template <bool Peephole>
inline void lstmLoop(int64_t H, const float *__restrict x, const float *__restrict hr, const float *__restrict peep,
                     float *__restrict c, float *__restrict h) {
  for (int64_t j = 0; j < H; ++j) {
    float gi = x[j] + hr[j], go = x[H + j] + hr[H + j], gf = x[2 * H + j] + hr[2 * H + j],
          gc = x[3 * H + j] + hr[3 * H + j];
    float cPrev = c[j];
    if (Peephole) {
      gi += peep[j] * cPrev;
      gf += peep[2 * H + j] * cPrev;
    }
    float cNew = fastSigmoid(gf) * cPrev + fastSigmoid(gi) * fastTanh(gc);
    if (Peephole)
      go += peep[H + j] * cNew;
    c[j] = cNew;
    h[j] = fastSigmoid(go) * fastTanh(cNew);
  }
}
} // namespace

NNCC_VECTOR_CLONES
void lstmRow(int64_t H, const float *x, const float *hr, const float *peep, float *c, float *h) {
  if (peep)
    lstmLoop<true>(H, x, hr, peep, c, h);
  else
    lstmLoop<false>(H, x, hr, nullptr, c, h);
}

NNCC_VECTOR_CLONES
void gruRowLinearBeforeReset(int64_t H, const float *__restrict x, const float *__restrict hr,
                             const float *__restrict rbh, float *__restrict h) {
  for (int64_t j = 0; j < H; ++j) {
    float z = fastSigmoid(x[j] + hr[j]), r = fastSigmoid(x[H + j] + hr[H + j]);
    float n = fastTanh(x[2 * H + j] + r * (hr[2 * H + j] + rbh[j]));
    h[j] = (1.f - z) * n + z * h[j];
  }
}

NNCC_VECTOR_CLONES
void gruRowGates(int64_t H, const float *__restrict x, const float *__restrict hr, const float *__restrict h,
                 float *__restrict z, float *__restrict rh) {
  for (int64_t j = 0; j < H; ++j) {
    z[j] = fastSigmoid(x[j] + hr[j]);
    rh[j] = fastSigmoid(x[H + j] + hr[H + j]) * h[j];
  }
}

NNCC_VECTOR_CLONES
void gruRowOutput(int64_t H, const float *__restrict x, const float *__restrict rhR, const float *__restrict rbh,
                  const float *__restrict z, float *__restrict h) {
  for (int64_t j = 0; j < H; ++j) {
    float n = fastTanh(x[2 * H + j] + rhR[j] + rbh[j]);
    h[j] = (1.f - z[j]) * n + z[j] * h[j];
  }
}

} // namespace kernels
} // namespace nncc
