//===- Recurrent.cpp - ONNX LSTM, GRU and RNN (layout 0) ------------------===//
//
// The input projection is hoisted out of the steps: one GEMM per chunk of
// about 128 rows (steps x batch) per direction (StepProjection); each step
// then does one recurrent product ([B, H] x [H, gates*H]; a GRU without
// linear_before_reset two) and the pointwise gate math. Sequence lengths,
// both directions (at once on 2 threads when marked: forEachDirection),
// clip, peepholes and every ONNX activation are supported.
//
//===----------------------------------------------------------------------===//
#include "runtime/kernels/FastMath.h"
#include "runtime/kernels/Gemm.h"
#include "runtime/kernels/Parallel.h"
#include "runtime/kernels/RecurrentCells.h"
#include "runtime/kernels/RecurrentCommon.h"
#include "runtime/kernels/RecurrentGemm.h"
#include "runtime/kernels/Kernels.h"
#include "runtime/kernels/Meta.h"
#ifdef NNCC_USE_DNNL
#include "runtime/kernels/KernelCache.h"
#endif

#include <algorithm>
#include <cmath>
#include <memory>
#include <optional>
#include <type_traits>

using namespace nncc::kernels;

namespace {

/// Buffers of one recurrent layer, from the scratch.
template <typename T> struct RecurrentBuffers {
  T *h, *cell, *hr, *rh, *rhR, *rbh;
  T *gathered; ///< with lengths: the rows of h (or r * h) a step's product takes, when not the first ones
  double *z, *r;
  GemmScratch<T> gs;
};

/// Row bi of step st of direction d in a forward's saved pre-activations
/// (`gates`: [D, K, B, width], those of the last K of the Tn steps), or null
/// for a step before them (or when none are saved).
template <typename T> T *savedRow(const TensorArg &gates, int64_t Tn, int64_t d, int64_t st, int64_t bi) {
  if (!gates.present() || st < Tn - gates.dim(1))
    return nullptr;
  int64_t K = gates.dim(1);
  return gates.as<T>() + ((d * K + st - (Tn - K)) * gates.dim(2) + bi) * gates.dim(3);
}

template <typename T> RecurrentBuffers<T> allocRecurrent(const Common &c, int64_t gates, Scratch &s) {
  int64_t Tn = c.steps(), B = c.batch(), H = c.hidden, G = gates * H;
  RecurrentBuffers<T> r;
  r.h = s.alloc<T>(B * H);
  r.cell = s.alloc<T>(B * H);
  r.hr = s.alloc<T>(B * G);
  r.rh = s.alloc<T>(B * H);
  r.rhR = s.alloc<T>(B * H);
  r.rbh = s.alloc<T>(H);
  r.gathered = c.lens.present() ? s.alloc<T>(B * H) : nullptr;
  r.z = s.alloc<double>(B * H);
  r.r = s.alloc<double>(B * H);
  r.gs = allocGemm<T>(s, G, maxOf(c.x.dim(2), H));
  return r;
}

/// A layer's buffers and input projection: one set, or one per direction
/// when a bidirectional layer runs both at once (marked `atOnce`:
/// forEachDirection).
template <typename T> struct DirectionBuffers {
  DirectionBuffers(const Common &c, int64_t gates, int64_t summedGates, bool atOnce, Scratch &s)
      : count(atOnce && c.numDirections() == 2 ? 2 : 1) {
    for (int k = 0; k < count; ++k) {
      buf[k] = allocRecurrent<T>(c, gates, s);
      proj[k].emplace(c, gates, summedGates, s);
    }
  }
  bool atOnce() const { return count == 2; }
  RecurrentBuffers<T> &of(int64_t d) { return buf[atOnce() ? d : 0]; }
  /// Sets up each direction's projection before they run at once (outside
  /// the parallel region: its weights are prepared on every thread).
  void prepare() {
    for (int k = 0; atOnce() && k < 2; ++k)
      proj[k]->setDirection(k, buf[k].gs);
  }
  /// Direction d's projection, as it starts (in turn: the shared one, set
  /// up for d now).
  StepProjection<T> &begin(int64_t d) {
    if (!atOnce())
      proj[0]->setDirection(d, buf[0].gs);
    return *proj[atOnce() ? d : 0];
  }

private:
  int count;
  RecurrentBuffers<T> buf[2];
  std::optional<StepProjection<T>> proj[2]; // (bundles never allocate: no heap)
};

struct LSTMArgs {
  Common c;
  TensorArg c0, p, y, yh, yc;
  bool inputForget;
  bool constantR; // R is a graph parameter: its prepared form is kept
  /// nn.lstm_checkpointed: [D, ceil(T / segmentSteps), 2, B, H] gets c and h
  /// before the first step of each segment (the backward starts from them).
  TensorArg checkpoints;
  int64_t segmentSteps;
  /// nn.lstm_with_gates: [D, T, B, 4H] gets the gate pre-activations
  /// x W^T + h R^T + biases of every step, in step order (store-all: the
  /// backward reads them instead of recomputing them); nn.lstm_saving:
  /// [D, K, B, 4H], those of the last K steps.
  TensorArg gates;
  bool directionsAtOnce; ///< see forEachDirection
};

#ifdef NNCC_USE_DNNL
struct CachedRecurrentGemm : CachedKernel {
  std::unique_ptr<RecurrentGemm<float>> gemm;
};
#endif

/// The kept recurrent product of direction d (KernelCache, host only) when
/// R never changes; null otherwise.
template <typename T> RecurrentGemm<T> *cachedRecurrentProduct(const LSTMArgs &a, int64_t d, const GemmScratch<T> &gs) {
#ifdef NNCC_USE_DNNL
  const Common &c = a.c;
  int64_t B = c.batch(), H = c.hidden, G = 4 * H;
  const T *R = c.r.as<T>() + d * G * H;
  if constexpr (std::is_same<T, float>::value)
    if (a.constantR && c.meta)
      return kernelCache()
          .get<CachedRecurrentGemm>(c.meta, c.metaLength, R,
                                    [&] {
                                      auto e = std::make_unique<CachedRecurrentGemm>();
                                      e->gemm = std::make_unique<RecurrentGemm<float>>(B, G, H, R, H, gs);
                                      e->gemm->prepareFor(H, G); // (before other calls share it)
                                      return e;
                                    })
          ->gemm.get();
#endif
  (void)a, (void)d, (void)gs;
  return nullptr;
}

LSTMArgs readLSTM(Meta &m) {
  LSTMArgs a;
  a.c.readHead(m);
  a.c0 = m.tensor(); a.p = m.tensor(); a.y = m.tensor(); a.yh = m.tensor(); a.yc = m.tensor();
  a.c.readTail(m);
  a.inputForget = m.i();
  a.constantR = m.i();
  a.checkpoints = m.tensor();
  a.segmentSteps = m.i();
  a.gates = m.tensor();
  a.directionsAtOnce = m.i();
  return a;
}

template <typename T> void lstmTyped(const LSTMArgs &a, Scratch &s) {
  const Common &c = a.c;
  DirectionBuffers<T> dirs(c, 4, 4, a.directionsAtOnce, s);
  if (s.measuring())
    return;
  int64_t Tn = c.steps(), B = c.batch(), H = c.hidden, G = 4 * H, D = c.numDirections();
  const TensorArg &y = a.y, &yh = a.yh, &yc = a.yc;
  if (y.present())
    std::fill(y.as<T>(), y.as<T>() + y.numel(), T(0));
  // Each direction's recurrent product: kept across calls when R never
  // changes, else prepared now (on every thread).
  std::optional<RecurrentGemm<T>> local[2];
  RecurrentGemm<T> *products[2] = {nullptr, nullptr};
  dirs.prepare();
  for (int64_t d = 0; d < D; ++d) {
    products[d] = cachedRecurrentProduct<T>(a, d, dirs.of(d).gs);
    if (!products[d]) {
      local[d].emplace(B, G, H, c.r.as<T>() + d * G * H, H, dirs.of(d).gs);
      local[d]->prepareFor(H, G);
      products[d] = &*local[d];
    }
  }
  forEachDirection(D, dirs.atOnce(), [&](int64_t d) {
    StepProjection<T> &proj = dirs.begin(d);
    RecurrentGemm<T> &recurrent = *products[d];
    T *h = dirs.of(d).h, *cell = dirs.of(d).cell, *hr = dirs.of(d).hr;
    const T *peep = a.p.present() ? a.p.as<T>() + d * 3 * H : nullptr;
    const Activation &f = c.acts[d * 3], &g = c.acts[d * 3 + 1], &hact = c.acts[d * 3 + 2];
    for (int64_t k = 0; k < B * H; ++k) {
      h[k] = c.h0.present() ? c.h0.as<T>()[d * B * H + k] : T(0);
      cell[k] = a.c0.present() ? a.c0.as<T>()[d * B * H + k] : T(0);
    }
    bool fast = std::is_same<T, float>::value && c.standard(d, 3) && !a.inputForget;
    // Row bi of step st's pre-activations into `gates` (zero past a
    // length), for the steps it keeps.
    auto saveGates = [&](int64_t st, int64_t bi, bool live) {
      T *out = savedRow<T>(a.gates, Tn, d, st, bi);
      if (!out)
        return;
      if (!live)
        return std::fill(out, out + G, T(0));
      const T *xr = proj.row(st, bi), *hrr = hr + bi * G;
      for (int64_t k = 0; k < G; ++k)
        out[k] = xr[k] + hrr[k];
    };
    for (int64_t st = 0; st < Tn; ++st) {
      if (a.checkpoints.present() && st % a.segmentSteps == 0) {
        // Rows past their length keep their last state, as the backward's.
        // (c, then h unless only c is saved: its backward reads y.)
        int64_t states = a.checkpoints.dim(2);
        T *saved = a.checkpoints.as<T>() + (d * a.checkpoints.dim(1) + st / a.segmentSteps) * states * B * H;
        std::copy(cell, cell + B * H, saved);
        if (states > 1)
          std::copy(h, h + B * H, saved + B * H);
      }
      proj.ensure(st);
      auto runs = c.runsAt(st, Tn);
      recurrent.runRows(h, H, hr, G, B, runs, dirs.of(d).gathered);
      if (fast) {
        // Rows in parallel; each row's gates vectorized (RecurrentCells).
        parallelFor(B, H * 64, [&](int64_t b0, int64_t b1) {
          for (int64_t bi = b0; bi < b1; ++bi) {
            int64_t len = c.length(bi, Tn);
            if (a.gates.present())
              saveGates(st, bi, st < len);
            if (st >= len)
              continue;
            int64_t t = c.reverse(d) ? len - 1 - st : st;
            float *hh = (float *)h + bi * H;
            lstmRow(H, (const float *)proj.row(st, bi), (const float *)hr + bi * G, (const float *)peep,
                    (float *)cell + bi * H, hh, c.rowClip());
            if (y.present())
              std::copy(hh, hh + H, y.as<float>() + ((t * D + d) * B + bi) * H);
          }
        });
        continue;
      }
      for (int64_t bi = 0; bi < B; ++bi) {
        int64_t len = c.length(bi, Tn);
        if (a.gates.present())
          saveGates(st, bi, st < len);
        if (st >= len)
          continue;
        int64_t t = c.reverse(d) ? len - 1 - st : st;
        const T *xr = proj.row(st, bi);
        const T *hrr = hr + bi * G;
        for (int64_t j = 0; j < H; ++j) {
          auto pre = [&](int gate) { return (double)xr[gate * H + j] + (double)hrr[gate * H + j]; };
          double cPrev = cell[bi * H + j];
          double gi = pre(0), go = pre(1), gf = pre(2), gc = pre(3);
          if (peep) {
            gi += peep[j] * cPrev;
            gf += peep[2 * H + j] * cPrev;
          }
          double it = f(c.clipped(gi));
          double ft = a.inputForget ? 1 - it : f(c.clipped(gf));
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
      std::copy(h, h + B * H, yh.as<T>() + d * B * H);
    if (yc.present())
      std::copy(cell, cell + B * H, yc.as<T>() + d * B * H);
  });
}

struct GRUArgs {
  Common c;
  TensorArg y, yh;
  bool linearBeforeReset;
  /// nn.gru_with_gates: [D, T, B, 4H] gets every step's z, r and h
  /// pre-activations (the h gate's as the variant defines it) and r * h_{t-1}
  /// (linear_before_reset: h_{t-1} R_h^T), in step order, as the backward
  /// would recompute them; [D, K, B, 4H] those of the last K steps.
  TensorArg gates;
  bool directionsAtOnce; ///< see forEachDirection
};

GRUArgs readGRU(Meta &m) {
  GRUArgs a;
  a.c.readHead(m);
  a.y = m.tensor(); a.yh = m.tensor();
  a.c.readTail(m);
  a.linearBeforeReset = m.i();
  a.gates = m.tensor();
  a.directionsAtOnce = m.i();
  return a;
}

template <typename T> void gruTyped(const GRUArgs &a, Scratch &s) {
  const Common &c = a.c;
  DirectionBuffers<T> dirs(c, 3, 2, a.directionsAtOnce, s);
  if (s.measuring())
    return;
  int64_t Tn = c.steps(), B = c.batch(), H = c.hidden, G = 3 * H, D = c.numDirections();
  const TensorArg &y = a.y, &yh = a.yh;
  if (y.present())
    std::fill(y.as<T>(), y.as<T>() + y.numel(), T(0));
  // Each direction's products, prepared now (on every thread): h R^T,
  // without linear_before_reset only z's and r's columns, and then
  // (r * h_{t-1}) R_h^T.
  std::optional<RecurrentGemm<T>> products[2], resets[2];
  dirs.prepare();
  for (int64_t d = 0; d < D; ++d) {
    const T *R = c.r.as<T>() + d * G * H;
    products[d].emplace(B, a.linearBeforeReset ? G : 2 * H, H, R, H, dirs.of(d).gs);
    products[d]->prepareFor(H, G);
    resets[d].emplace(B, H, H, R + 2 * H * H, H, dirs.of(d).gs);
    if (!a.linearBeforeReset)
      resets[d]->prepareFor(H, H);
  }
  forEachDirection(D, dirs.atOnce(), [&](int64_t d) {
    RecurrentBuffers<T> &buf = dirs.of(d);
    StepProjection<T> &proj = dirs.begin(d);
    RecurrentGemm<T> &recurrent = *products[d], &resetGemm = *resets[d];
    T *h = buf.h, *hr = buf.hr, *rh = buf.rh, *rhR = buf.rhR;
    double *z = buf.z, *r = buf.r;
    const T *rb = c.b.present() ? c.b.as<T>() + d * 2 * G + G : nullptr; // only its h gate is used
    T *rbh = buf.rbh;
    for (int64_t j = 0; j < H; ++j)
      rbh[j] = rb ? rb[2 * H + j] : T(0);
    const T *R = c.r.as<T>() + d * G * H;
    const Activation &f = c.acts[d * 2], &g = c.acts[d * 2 + 1];
    for (int64_t k = 0; k < B * H; ++k)
      h[k] = c.h0.present() ? c.h0.as<T>()[d * B * H + k] : T(0);
    bool fast = std::is_same<T, float>::value && c.standard(d, 2);
    // Row bi of step st into `gates` (zero past a length), once h R^T and,
    // without linear_before_reset, (r * h_{t-1}) R_h^T are known, for the
    // steps it keeps.
    auto saveGates = [&](int64_t st, int64_t bi, bool live) {
      T *out = savedRow<T>(a.gates, Tn, d, st, bi);
      if (!out)
        return;
      if (!live)
        return std::fill(out, out + 4 * H, T(0));
      const T *xr = proj.row(st, bi), *hrr = hr + bi * G;
      for (int64_t j = 0; j < 2 * H; ++j)
        out[j] = xr[j] + hrr[j];
      for (int64_t j = 0; j < H; ++j) {
        out[2 * H + j] = a.linearBeforeReset ? xr[2 * H + j] : xr[2 * H + j] + rhR[bi * H + j] + rbh[j];
        out[3 * H + j] = a.linearBeforeReset ? hrr[2 * H + j] : rh[bi * H + j];
      }
    };
    for (int64_t st = 0; st < Tn; ++st) {
      proj.ensure(st);
      auto runs = c.runsAt(st, Tn);
      recurrent.runRows(h, H, hr, G, B, runs, buf.gathered);
      if (fast) {
        float *zf = (float *)z; // the double buffer holds floats here
        auto rows = [&](int64_t b0, int64_t b1, int half) {
          for (int64_t bi = b0; bi < b1; ++bi) {
            int64_t len = c.length(bi, Tn);
            if (half == 1 && a.gates.present())
              saveGates(st, bi, st < len);
            if (st >= len)
              continue;
            int64_t t = c.reverse(d) ? len - 1 - st : st;
            const float *xr = (const float *)proj.row(st, bi), *hrr = (const float *)hr + bi * G;
            float *hh = (float *)h + bi * H;
            if (half == 0) {
              gruRowGates(H, xr, hrr, hh, zf + bi * H, (float *)rh + bi * H, c.rowClip());
              continue;
            }
            if (a.linearBeforeReset)
              gruRowLinearBeforeReset(H, xr, hrr, (const float *)rbh, hh, c.rowClip());
            else
              gruRowOutput(H, xr, (const float *)rhR + bi * H, (const float *)rbh, zf + bi * H, hh, c.rowClip());
            if (y.present())
              std::copy(hh, hh + H, y.as<float>() + ((t * D + d) * B + bi) * H);
          }
        };
        if (!a.linearBeforeReset) {
          parallelFor(B, H * 32, [&](int64_t b0, int64_t b1) { rows(b0, b1, 0); });
          resetGemm.runRows(rh, H, rhR, H, B, runs, buf.gathered);
        }
        parallelFor(B, H * 48, [&](int64_t b0, int64_t b1) { rows(b0, b1, 1); });
        continue;
      }
      for (int64_t bi = 0; bi < B; ++bi) {
        int64_t len = c.length(bi, Tn);
        if (st >= len)
          continue;
        int64_t t = c.reverse(d) ? len - 1 - st : st;
        const T *xr = proj.row(st, bi);
        for (int64_t j = 0; j < H; ++j) {
          double gz = (double)xr[j] + hr[bi * G + j];
          double gr = (double)xr[H + j] + hr[bi * G + H + j];
          z[bi * H + j] = f(c.clipped(gz));
          r[bi * H + j] = f(c.clipped(gr));
          rh[bi * H + j] = (T)(r[bi * H + j] * h[bi * H + j]);
        }
      }
      if (!a.linearBeforeReset)
        resetGemm.runRows(rh, H, rhR, H, B, runs, buf.gathered);
      for (int64_t bi = 0; bi < B; ++bi) {
        int64_t len = c.length(bi, Tn);
        if (a.gates.present())
          saveGates(st, bi, st < len);
        if (st >= len)
          continue;
        int64_t t = c.reverse(d) ? len - 1 - st : st;
        const T *xr = proj.row(st, bi);
        for (int64_t j = 0; j < H; ++j) {
          double rec = a.linearBeforeReset ? r[bi * H + j] * ((double)hr[bi * G + 2 * H + j] + rbh[j])
                                           : (double)rhR[bi * H + j] + rbh[j];
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
      std::copy(h, h + B * H, yh.as<T>() + d * B * H);
  });
}

struct RNNArgs {
  Common c;
  TensorArg y, yh;
  TensorArg gates; ///< nn.rnn_with_gates: [D, T, B, H], every step's pre-activations (or the last K steps')
  bool directionsAtOnce; ///< see forEachDirection
};

RNNArgs readRNN(Meta &m) {
  RNNArgs a;
  a.c.readHead(m);
  a.y = m.tensor(); a.yh = m.tensor();
  a.c.readTail(m);
  a.gates = m.tensor();
  a.directionsAtOnce = m.i();
  return a;
}

template <typename T> void rnnTyped(const RNNArgs &a, Scratch &s) {
  const Common &c = a.c;
  DirectionBuffers<T> dirs(c, 1, 1, a.directionsAtOnce, s);
  if (s.measuring())
    return;
  int64_t Tn = c.steps(), B = c.batch(), H = c.hidden, D = c.numDirections();
  const TensorArg &y = a.y, &yh = a.yh;
  if (y.present())
    std::fill(y.as<T>(), y.as<T>() + y.numel(), T(0));
  std::optional<RecurrentGemm<T>> products[2]; // prepared now, on every thread
  dirs.prepare();
  for (int64_t d = 0; d < D; ++d) {
    products[d].emplace(B, H, H, c.r.as<T>() + d * H * H, H, dirs.of(d).gs);
    products[d]->prepareFor(H, H);
  }
  forEachDirection(D, dirs.atOnce(), [&](int64_t d) {
    StepProjection<T> &proj = dirs.begin(d);
    RecurrentGemm<T> &recurrent = *products[d];
    T *h = dirs.of(d).h, *hr = dirs.of(d).hr;
    const Activation &f = c.acts[d];
    for (int64_t k = 0; k < B * H; ++k)
      h[k] = c.h0.present() ? c.h0.as<T>()[d * B * H + k] : T(0);
    // float, tanh (code 1) or Relu (code 0): the vectorized rows.
    bool fast = std::is_same<T, float>::value && (f.code == 1 || f.code == 0);
    for (int64_t st = 0; st < Tn; ++st) {
      proj.ensure(st);
      recurrent.runRows(h, H, hr, H, B, c.runsAt(st, Tn), dirs.of(d).gathered);
      for (int64_t bi = 0; bi < B; ++bi) {
        int64_t len = c.length(bi, Tn);
        T *saved = savedRow<T>(a.gates, Tn, d, st, bi); // (the steps it keeps)
        if (st >= len) {
          if (saved) // zero past a length
            std::fill(saved, saved + H, T(0));
          continue;
        }
        int64_t t = c.reverse(d) ? len - 1 - st : st;
        if (fast) {
          const T *xr = proj.row(st, bi), *hrr = hr + bi * H;
          if (saved)
            for (int64_t j = 0; j < H; ++j)
              saved[j] = xr[j] + hrr[j];
          T *hh = h + bi * H;
          if (f.code == 1)
            rnnRowTanh(H, (const float *)xr, (const float *)hrr, (float *)hh, c.rowClip());
          else
            rnnRowRelu(H, (const float *)xr, (const float *)hrr, (float *)hh, c.rowClip());
          if (y.present())
            std::copy(hh, hh + H, y.as<T>() + ((t * D + d) * B + bi) * H);
          continue;
        }
        for (int64_t j = 0; j < H; ++j) {
          double v = (double)proj.row(st, bi)[j] + hr[bi * H + j];
          if (saved)
            saved[j] = (T)v;
          T hNew = (T)f(c.clipped(v));
          h[bi * H + j] = hNew;
          if (y.present())
            y.as<T>()[((t * D + d) * B + bi) * H + j] = hNew;
        }
      }
    }
    if (yh.present())
      std::copy(h, h + B * H, yh.as<T>() + d * B * H);
  });
}

} // namespace

#define NNCC_RECURRENT_KERNEL(name, Args, read, typed)                                             \
  extern "C" NNCC_KERNEL(name) {                                                                   \
    Meta m(meta, buffers);                                                                         \
    Args a = read(m);                                                                              \
    a.c.meta = meta;                                                                               \
    a.c.metaLength = m.consumed();                                                                 \
    Scratch s = m.scratch();                                                                       \
    dispatchFloat(a.c.x.dtype, [&](auto t) { typed<decltype(t)>(a, s); });                         \
  }                                                                                                \
  NNCC_SCRATCH(name) {                                                                             \
    Meta m(meta, nullptr);                                                                         \
    Args a = read(m);                                                                              \
    Scratch s;                                                                                     \
    dispatchFloat(a.c.x.dtype, [&](auto t) { typed<decltype(t)>(a, s); });                         \
    return (int64_t)s.bytes();                                                                     \
  }

NNCC_RECURRENT_KERNEL(nncc_lstm, LSTMArgs, readLSTM, lstmTyped)
NNCC_RECURRENT_KERNEL(nncc_gru, GRUArgs, readGRU, gruTyped)
NNCC_RECURRENT_KERNEL(nncc_rnn, RNNArgs, readRNN, rnnTyped)
