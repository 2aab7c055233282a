//===- RecurrentCommon.h - operands of the recurrent kernels ----*- C++ -*-===//
//
// What the forward (Recurrent.cpp) and backward (RecurrentGrad.cpp) kernels
// of ONNX LSTM, GRU and RNN share: the activation functions by code (those
// of codegen/LowerKernels.cpp) with their derivatives, and the operands and
// attributes common to the three layers.
//
//===----------------------------------------------------------------------===//
#ifndef NNCC_RUNTIME_KERNELS_RECURRENTCOMMON_H
#define NNCC_RUNTIME_KERNELS_RECURRENTCOMMON_H

#include "runtime/kernels/Gemm.h"
#include "runtime/kernels/Meta.h"
#include "runtime/kernels/Parallel.h"
#include "runtime/kernels/RecurrentCells.h"
#include "runtime/kernels/RecurrentGemm.h"

#include <algorithm>
#include <cmath>
#include <memory>
#include <mutex>

namespace nncc {
namespace kernels {

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
  /// The derivative at x.
  double derivative(double x) const {
    switch (code) {
    case 0: return x > 0 ? 1 : 0;
    case 1: { double t = std::tanh(x); return 1 - t * t; }
    case 2: { double s = 1.0 / (1.0 + std::exp(-x)); return s * (1 - s); }
    case 3: return alpha;
    case 4: return x >= 0 ? 1 : alpha;
    case 5: return x > alpha ? 1 : 0;
    case 6: { double t = std::tanh(beta * x); return alpha * beta * (1 - t * t); }
    case 7: { double v = alpha * x + beta; return v > 0 && v < 1 ? alpha : 0; }
    case 8: return x >= 0 ? 1 : alpha * std::exp(x);
    case 9: { double d = 1 + std::fabs(x); return 1 / (d * d); }
    case 10: return 1.0 / (1.0 + std::exp(-x));
    default: return 1;
    }
  }
};

struct Common {
  TensorArg x, w, r, b, lens, h0;
  /// The call's meta prefix (a kernel-cache key), set by the kernel entry.
  const int64_t *meta = nullptr;
  int64_t metaLength = 0;
  int64_t hidden, direction;
  Activation acts[6];
  bool hasClip;
  double clip;

  void readHead(Meta &m) {
    x = m.tensor(); w = m.tensor(); r = m.tensor(); b = m.tensor(); lens = m.tensor(); h0 = m.tensor();
  }
  void readTail(Meta &m) {
    hidden = m.i();
    direction = m.i();
    int64_t n = m.i();
    for (int64_t k = 0; k < n; ++k) {
      Activation a;
      a.code = (int)m.i();
      a.alpha = m.f();
      a.beta = m.f();
      if (k < 6)
        acts[k] = a;
    }
    hasClip = m.i();
    clip = m.f();
  }
  int64_t numDirections() const { return direction == 2 ? 2 : 1; }
  /// The usual cell, whose rows RecurrentCells has (with clip or without):
  /// the default activations (the fast path).
  bool standard(int64_t d, int perDirection) const {
    const Activation *a = acts + d * perDirection;
    for (int k = 0; k < perDirection; ++k)
      if (a[k].code != (k == 0 ? 2 : 1)) // sigmoid, then tanh
        return false;
    return true;
  }
  int64_t steps() const { return x.dim(0); }
  int64_t batch() const { return x.dim(1); }
  bool reverse(int64_t d) const { return direction == 1 || (direction == 2 && d == 1); }
  double clipped(double v) const { return hasClip ? std::max(-clip, std::min(clip, v)) : v; }
  /// The clip of the fast path's rows (RecurrentCells: kNoClip for none).
  float rowClip() const { return hasClip ? (float)clip : kNoClip; }
  /// The derivative of clipped() at v: 0 where the clip is active.
  double clipSlope(double v) const { return hasClip && (v > clip || v < -clip) ? 0.0 : 1.0; }
  int64_t length(int64_t b, int64_t T) const {
    return lens.present() ? maxOf<int64_t>(0, minOf(indexAt(lens, b), T)) : T;
  }
  /// Whether row b runs at step st (within its length): runsAt(st, T)(b),
  /// for RecurrentGemm::runRows.
  auto runsAt(int64_t st, int64_t T) const {
    return [this, st, T](int64_t b) { return st < length(b, T); };
  }
};

/// Runs direction(d) for each of a layer's D directions (forward or
/// backward). On 2 threads a bidirectional layer marked `atOnce`
/// (nn-stack-recurrent's wavefront schedule) runs its two directions at
/// once, one per thread (their products and rows then single-threaded),
/// which beats splitting every step of one direction across both threads
/// (docs/benchmarks.md); otherwise they run one after the other, each using
/// every thread inside its steps. At once, each direction needs its own
/// buffers.
template <typename F> void forEachDirection(int64_t D, bool atOnce, F &&direction) {
#ifdef NNCC_HOST_THREADS
  if (atOnce && D == 2 && omp_get_max_threads() == 2) {
    parallelFor(2, int64_t(1) << 20, [&](int64_t d0, int64_t d1) {
      for (int64_t d = d0; d < d1; ++d)
        direction(d);
    });
    return;
  }
#else
  (void)atOnce;
#endif
  for (int64_t d = 0; d < D; ++d)
    direction(d);
}

/// Serializes the directions' additions into a result they share (a
/// backward's dX) while forEachDirection runs them at once. (Each element
/// then gets one addition per direction onto zero: either order gives the
/// same sum.) A std::lock_guard takes it; without host threads it does
/// nothing.
class DirectionLock {
public:
#ifdef NNCC_HOST_THREADS
  void lock() { mutex.lock(); }
  void unlock() { mutex.unlock(); }

private:
  std::mutex mutex;
#else
  void lock() {}
  void unlock() {}
#endif
};

/// The input projection of a forward pass, computed for a chunk of steps at
/// a time so that its memory does not grow with the sequence length: row
/// slot[(st - first) * B + b] holds x_t W^T + biases of step st of batch
/// row b (t is st, or len - 1 - st in reverse). With lengths only the rows
/// within them have one, one step's after the other, in any order of the
/// lengths.
template <typename T> class StepProjection {
public:
  /// Rows (steps x batch) per chunk: enough for an efficient GEMM.
  static constexpr int64_t kRows = 128;
  /// Full chunks from which W is prepared for them.
  static constexpr int64_t kPreparedChunks = 4;
  StepProjection(const Common &c, int64_t gates, int64_t summedGates, Scratch &s)
      : c(c), gates(gates), summed(summedGates) {
    int64_t B = c.batch(), Tn = c.steps();
    chunk = maxOf<int64_t>(1, minOf<int64_t>(Tn, kRows / maxOf<int64_t>(B, 1)));
    xw = s.alloc<T>(chunk * B * gates * c.hidden);
    xrows = s.alloc<T>(chunk * B * c.x.dim(2));
    slot = s.alloc<int64_t>(chunk * B);
  }
  void setDirection(int64_t dir, const GemmScratch<T> &scratch) {
    d = dir;
    gs = scratch;
    first = end = -1;
#ifdef NNCC_USE_DNNL
    // Full chunks of a long sequence: W prepared (reordered) once per
    // direction and call, which pays off from a few chunks on (host only:
    // bundles never allocate, and their RecurrentGemm is the GEMM).
    int64_t G = gates * c.hidden, I = c.x.dim(2);
    full.reset();
    if (c.steps() / chunk >= kPreparedChunks) {
      full = std::make_unique<RecurrentGemm<T>>(chunk * c.batch(), G, I, c.w.template as<T>() + d * G * I, I, gs);
      full->prepareFor(I, G); // (outside a parallel region: on every thread)
    }
#endif
  }
  /// Makes step st's rows available (outside parallel regions, or on a
  /// direction's own thread: forEachDirection).
  void ensure(int64_t st) {
    if (st >= first && st < end)
      return;
    int64_t Tn = c.steps(), B = c.batch(), I = c.x.dim(2), G = gates * c.hidden;
    first = st;
    end = minOf(Tn, st + chunk);
    int64_t rows = 0;
    for (int64_t k = first; k < end; ++k)
      for (int64_t b = 0; b < B; ++b)
        slot[(k - first) * B + b] = k < c.length(b, Tn) ? rows++ : -1;
    const T *xin = c.x.as<T>() + first * B * I;
    if (c.lens.present() || c.reverse(d)) {
      // The rows within their lengths (the others take no projection),
      // gathered in time order.
      for (int64_t k = first; k < end; ++k)
        for (int64_t b = 0; b < B; ++b) {
          int64_t len = c.length(b, Tn), at = slot[(k - first) * B + b];
          if (at < 0)
            continue;
          int64_t t = c.reverse(d) ? len - 1 - k : k;
          const T *src = c.x.as<T>() + (t * B + b) * I;
          std::copy(src, src + I, xrows + at * I);
        }
      xin = xrows;
    }
    if (rows == 0)
      return;
#ifdef NNCC_USE_DNNL
    if (full)
      full->run(xin, I, xw, G, xin == xrows ? gatheredRows(rows, chunk * B) : rows);
    else
#endif
      gemm<T>(false, true, rows, G, I, T(1), xin, I, c.w.as<T>() + d * G * I, I, T(0), xw, G, gs);
    if (!c.b.present())
      return;
    const T *wb = c.b.as<T>() + d * 2 * G, *rb = wb + G;
    int64_t sumTo = summed * c.hidden;
    parallelFor(rows, G, [&](int64_t r0, int64_t r1) {
      for (int64_t row = r0; row < r1; ++row)
        for (int64_t g = 0; g < G; ++g)
          xw[row * G + g] += g < sumTo ? wb[g] + rb[g] : wb[g];
    });
  }
  /// Row b of step st (within its length).
  const T *row(int64_t st, int64_t b) const {
    return xw + slot[(st - first) * c.batch() + b] * gates * c.hidden;
  }

private:
  const Common &c;
  int64_t gates, summed, chunk = 1, d = 0, first = -1, end = -1;
  T *xw = nullptr, *xrows = nullptr;
  int64_t *slot = nullptr; ///< per step and batch row of the chunk: its row of xw, or -1
  GemmScratch<T> gs;
#ifdef NNCC_USE_DNNL
  std::unique_ptr<RecurrentGemm<T>> full;
#endif
};

} // namespace kernels
} // namespace nncc

#endif
