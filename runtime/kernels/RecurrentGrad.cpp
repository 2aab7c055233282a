//===- RecurrentGrad.cpp - backward of ONNX LSTM, GRU and RNN -------------===//
//
// Backpropagation through time for the layers of Recurrent.cpp. Under
// store-all (and a budget they fit) the forward saved its gate
// pre-activations (nn.lstm_with_gates, nn.gru_with_gates, nn.rnn_with_gates)
// and the backward works in them; under a budget that holds those of some
// steps, in the last steps' (nn.lstm_saving; nn.gru_with_gates,
// nn.rnn_with_gates with saved_steps). Otherwise the forward
// output y holds h_t of every step, so the gate pre-activations are
// recomputed with two GEMMs over many steps at once (x W^T and h_{t-1} R^T),
// not step by step. The backward walk is then sequential in time only for the
// pointwise cell math and one [B, gates*H] x [gates*H, H] product per step;
// the weight gradients are GEMMs over many steps (dW = dA^T X,
// dR = dA^T H_prev) and so is dX = dA W.
//
// Every layer walks segments of S steps, last first; the memory policy
// (store-all, recompute-gates, checkpoint, budget) picks S, from the whole
// sequence down to a few steps. Segments are gathered by step (row
// (st - s0) * B + b), so reverse directions and sequence lengths (rows past
// their length have zero gradient) share the GEMMs with the forward one.
//
//===----------------------------------------------------------------------===//
#include "runtime/kernels/Kernels.h"
#include "runtime/kernels/RecurrentCells.h"
#include "runtime/kernels/RecurrentCommon.h"
#include "runtime/kernels/RecurrentGemm.h"
#include "runtime/kernels/RecurrentSegments.h"

#include <initializer_list>
#include <memory>
#include <optional>
#include <type_traits>
#include <utility>

using namespace nncc::kernels;

namespace {

/// Operands and results every backward kernel has.
struct GradCommon {
  Common c;
  TensorArg y, dy, dyh;
  /// [D, K, B, width]: the pre-activations of the last K steps (K = T:
  /// every step's), saved by the forward (nn.*_with_gates: store-all, or a
  /// budget that holds them; nn.lstm_saving and nn.*_with_gates with
  /// saved_steps: a budget that holds K steps'). Read by this backward
  /// alone, which works in them.
  TensorArg gates;
  TensorArg dx, dw, dr, db, dh0;
  bool directionsAtOnce = false; ///< marked by nn-stack-recurrent (the meta's last)

  void readGrads(Meta &m) { y = m.tensor(); dy = m.tensor(); dyh = m.tensor(); }
  void readResults(Meta &m) { dx = m.tensor(); dw = m.tensor(); dr = m.tensor(); db = m.tensor(); dh0 = m.tensor(); }
  /// The whole meta of a GRU or RNN backward, up to its own attributes.
  void read(Meta &m) {
    c.readHead(m);
    readGrads(m);
    gates = m.tensor();
    readResults(m);
    c.readTail(m);
  }
  int64_t D() const { return c.numDirections(); }
  /// The working sets a backward with segments of S steps keeps: one per
  /// direction when it runs both at once (forEachDirection): marked,
  /// bidirectional, and store-all (whose one segment is the whole sequence
  /// anyway) or recompute-gates or checkpoint with segments shorter than
  /// the sequence (two working sets of a few steps each; with one segment
  /// they would hold the whole sequence twice, as much as store-all's).
  /// Under a budget one working set, which the budget bounds, serves the
  /// directions in turn.
  int sets(int64_t policy, int64_t S) const {
    bool atOnce = policy == 0 || ((policy == 1 || policy == 2) && S < c.steps());
    return directionsAtOnce && D() == 2 && atOnce ? 2 : 1;
  }
  /// Time index of step `st` of row b (length len) in direction d.
  int64_t timeOf(int64_t d, int64_t st, int64_t len) const { return c.reverse(d) ? len - 1 - st : st; }
};

/// Before the directions: the zero state row and dX (the directions add
/// into it).
template <typename T> void startBackward(const GradCommon &g, T *zeros) {
  std::fill(zeros, zeros + g.c.hidden, T(0));
  if (g.dx.present())
    std::fill(g.dx.as<T>(), g.dx.as<T>() + g.dx.numel(), T(0));
}

/// The running hidden-state gradient: dY_h at the start, plus dY of each step.
template <typename T> void initialHiddenGrad(const GradCommon &g, int64_t d, T *dh) {
  int64_t B = g.c.batch(), H = g.c.hidden;
  if (g.dyh.present())
    std::copy(g.dyh.as<T>() + d * B * H, g.dyh.as<T>() + (d + 1) * B * H, dh);
  else
    std::fill(dh, dh + B * H, T(0));
}

template <typename T> const T *dyRow(const GradCommon &g, int64_t d, int64_t t, int64_t b) {
  if (!g.dy.present())
    return nullptr;
  return g.dy.as<T>() + ((t * g.D() + d) * g.c.batch() + b) * g.c.hidden;
}

/// Gathers x_t and h_{t-1} of steps [s0, s1) of direction d by step (row
/// (st - s0) * B + b; zero past a row's length). Without hp, x_t only.
template <typename T>
void gatherSegment(const GradCommon &g, int64_t d, int64_t s0, int64_t s1, T *xg, T *hp, const T *zeros) {
  const Common &c = g.c;
  int64_t Tn = c.steps(), B = c.batch(), H = c.hidden, I = c.x.dim(2), D = g.D();
  const T *y = hp ? g.y.as<T>() : nullptr;
  parallelFor(B, (s1 - s0) * (I + H), [&](int64_t b0, int64_t b1) {
    for (int64_t b = b0; b < b1; ++b) {
      int64_t len = c.length(b, Tn);
      for (int64_t st = s0; st < s1; ++st) {
        T *xr = xg + ((st - s0) * B + b) * I, *hr = hp ? hp + ((st - s0) * B + b) * H : nullptr;
        if (st >= len) {
          std::fill(xr, xr + I, T(0));
          if (hp)
            std::fill(hr, hr + H, T(0));
          continue;
        }
        const T *xs = c.x.as<T>() + (g.timeOf(d, st, len) * B + b) * I;
        std::copy(xs, xs + I, xr);
        if (!hp)
          continue;
        const T *hs = st > 0 ? y + ((g.timeOf(d, st - 1, len) * D + d) * B + b) * H
                             : (c.h0.present() ? c.h0.as<T>() + (d * B + b) * H : zeros);
        std::copy(hs, hs + H, hr);
      }
    }
  });
}

/// A bias gradient: the rows of every segment summed in double, so that the
/// policies (which split the steps into different segments) agree to the
/// rounding of the sum, not of the order it was added in.
struct RowSums {
  double *sum = nullptr;
  int64_t width = 0;
  /// Only for a gradient that is asked for (`wanted`).
  void alloc(Scratch &s, int64_t n, bool wanted) {
    width = wanted ? n : 0;
    sum = wanted ? s.alloc<double>(n) : nullptr;
  }
  void clear() { std::fill(sum, sum + width, 0.0); }
  /// Adds `count` rows of `n` values (leading dimension ld) at column `at`.
  template <typename T> void add(const T *rows, int64_t count, int64_t ld, int64_t n, int64_t at = 0) {
    for (int64_t r = 0; r < count; ++r)
      for (int64_t j = 0; j < n; ++j)
        sum[at + j] += (double)rows[r * ld + j];
  }
  template <typename T> void store(T *out, int64_t n, int64_t at = 0) const {
    for (int64_t j = 0; j < n; ++j)
      out[j] = (T)sum[at + j];
  }
};

/// dX (+)= the segment's dA W, scattered back to time order (given start:
/// of the running rows, gathered by runningRowsToFront).
template <typename T>
void scatterInputGrad(const GradCommon &g, int64_t d, int64_t s0, int64_t s1, const T *dxg,
                      const int64_t *start = nullptr) {
  const Common &c = g.c;
  int64_t Tn = c.steps(), B = c.batch(), I = c.x.dim(2);
  parallelFor(B, (s1 - s0) * I, [&](int64_t b0, int64_t b1) {
    for (int64_t st = s0; st < s1; ++st) {
      auto runs = [&](int64_t r) { return st < c.length(r, Tn); };
      // (row b's: the step's first, then those of the rows before it that run)
      int64_t row = start ? start[st - s0] + placeAmongRunning(b0, runs) : (st - s0) * B + b0;
      for (int64_t b = b0; b < b1; ++b) {
        if (!runs(b)) // (only with lengths: start given)
          continue;
        T *dst = g.dx.as<T>() + (g.timeOf(d, st, c.length(b, Tn)) * B + b) * I;
        const T *src = dxg + row++ * I;
        for (int64_t j = 0; j < I; ++j)
          dst[j] += src[j];
      }
    }
  });
}

/// The rows of a segment that take products in its backward: with lengths,
/// each step's rows still within their lengths (gatherRowsThatRun: in any
/// order of the lengths) move to the front of every one of `arrays` ({rows,
/// their leading dimension}: the gate gradients and the x_t and h_{t-1}
/// rows the weight gradients read; the rows left out are past their
/// lengths, with zero gradients), and `start` gets the row where each of
/// the segment's steps begins (scatterInputGrad's). Returns the row count
/// (all of the segment's, unmoved, without lengths).
template <typename T>
int64_t runningRowsToFront(const Common &c, int64_t s0, int64_t s1,
                           std::initializer_list<std::pair<T *, int64_t>> arrays, int64_t *&start) {
  if (!c.lens.present()) {
    start = nullptr;
    return (s1 - s0) * c.batch();
  }
  int64_t rows = 0;
  for (auto [buf, ld] : arrays)
    if (buf)
      rows = gatherRowsThatRun(
          buf, ld, c.batch(), s1 - s0, [&](int64_t k, int64_t b) { return s0 + k < c.length(b, c.steps()); }, buf,
          start);
  return rows;
}

/// Undoes runningRowsToFront (given its `start` and count; nothing
/// without): each row goes back to row (st - s0) * B + b of every one of
/// `arrays`. The other rows keep whatever they held: rows past a length,
/// which nothing reads before their gradients are set to zeros.
template <typename T>
void runningRowsToPlaces(const Common &c, int64_t s0, int64_t s1,
                         std::initializer_list<std::pair<T *, int64_t>> arrays, const int64_t *start,
                         int64_t count) {
  if (!start)
    return;
  for (auto [buf, ld] : arrays)
    if (buf)
      rowsThatRunToPlaces(
          buf, ld, c.batch(), s1 - s0, [&](int64_t k, int64_t b) { return s0 + k < c.length(b, c.steps()); },
          count);
}

//===----------------------------------------------------------------------===//
// LSTM
//===----------------------------------------------------------------------===//

struct LSTMGradArgs {
  GradCommon g;
  TensorArg c0, p, dyc, dc0, dp;
  /// [D, ceil(T / spacing), states (c, then h), B, H]: the states before
  /// every `spacing` steps, saved by the forward (nn.lstm_checkpointed: the
  /// checkpoint policy, without y, c and h; recompute-gates and a budget,
  /// with y, only c).
  TensorArg checkpoints;
  bool inputForget;
  int64_t policy;  // 0 store-all, 1 recompute-gates, 2 checkpoint, 3 budget
  int64_t budget;  // bytes, for the budget policy
  int64_t spacing; // > 0: the saved checkpoints' segment length
};

LSTMGradArgs readLSTMGrad(Meta &m) {
  LSTMGradArgs a;
  a.g.c.readHead(m);
  a.c0 = m.tensor(); a.p = m.tensor();
  a.g.readGrads(m);
  a.dyc = m.tensor();
  a.checkpoints = m.tensor();
  a.g.gates = m.tensor();
  a.g.readResults(m);
  a.dc0 = m.tensor(); a.dp = m.tensor();
  a.g.c.readTail(m);
  a.inputForget = m.i();
  a.policy = m.i();
  a.budget = m.i();
  a.spacing = m.i();
  a.g.directionsAtOnce = m.i();
  return a;
}

/// The LSTM backward works on segments of S steps, last segment first. For
/// each it gathers the segment's x_t and h_{t-1} (h from y), recomputes the
/// gate pre-activations with two GEMMs, runs the cells forward from the cell
/// state saved at the segment's start (a checkpoint), then back through the
/// segment's steps; the weight gradients accumulate one GEMM per segment.
/// The memory policy picks S: the whole sequence (store-all: every step's
/// gates at once, which the forward saved: nn.lstm_with_gates), about
/// sqrt(T) (checkpoint: at most
/// ceil(T/S) + S + 2 cell states live), a GEMM-sized handful of steps
/// (recompute-gates: only h and the checkpointed c persist) or the largest S
/// whose working set fits a byte budget. The forward saves the states before
/// each segment (nn.lstm_checkpointed) where autodiff knew the shapes; the
/// backward reads them when its segments are multiples of theirs, and
/// otherwise a first pass forward through the segments computes them.
///
/// Without y (the checkpoint policy: autodiff leaves it out so that the
/// T-sized output can die early) h is recomputed too: the checkpoints also
/// keep h before each segment, and a segment's cells run step by step, each
/// adding its h_{t-1} R^T to the hoisted x W^T.
struct LSTMSegments {
  int64_t S = 1, count = 1;
};

/// Whether the backward works in the forward's saved pre-activations of
/// every step (nn.*_with_gates; read by this backward alone, which turns
/// them into the gates' gradients, segment by segment): with y.
inline bool gatesInPlace(const GradCommon &g) {
  return g.gates.present() && g.y.present() && g.gates.dim(1) == g.c.steps();
}
/// How many steps' pre-activations the forward saved for this backward,
/// the last ones (nn.lstm_saving, nn.*_with_gates with saved_steps: some;
/// otherwise nn.*_with_gates: all), with y.
inline int64_t savedGateSteps(const GradCommon &g) {
  return g.gates.present() && g.y.present() ? g.gates.dim(1) : 0;
}
/// Direction d's saved pre-activation rows (`width` each) from step s0 on,
/// when the forward saved them (store-all: all steps; a budget: the last
/// savedGateSteps); null when the backward must recompute them.
template <typename T> T *savedRowsFrom(const GradCommon &g, int64_t d, int64_t s0, int64_t width) {
  int64_t K = savedGateSteps(g), from = g.c.steps() - K;
  if (K == 0 || s0 < from)
    return nullptr;
  return g.gates.as<T>() + (d * K + s0 - from) * g.c.batch() * width;
}

/// The backward's working set for segments of S steps.
template <typename T> struct LSTMGradBuffers {
  T *buf, *xg, *hp, *cs, *ck, *hk, *dxg, *dh, *dc, *dhr, *step, *dpRows, *zeros;
  T *gathered; ///< with lengths: the rows a step's product takes, when not the first ones
  int64_t *start; ///< where each step's rows begin in a segment's backward (runningRowsToFront)
  RowSums dbSum;
  GemmScratch<T> gs;

  LSTMGradBuffers(const LSTMGradArgs &a, int64_t S, Scratch &s) {
    const Common &c = a.g.c;
    int64_t Tn = c.steps(), B = c.batch(), H = c.hidden, G = 4 * H, I = c.x.dim(2);
    int64_t count = (Tn + S - 1) / S;
    bool withY = a.g.y.present();
    // The segment's pre-activations, activations, then dA (or the saved ones).
    buf = gatesInPlace(a.g) ? nullptr : s.alloc<T>(S * B * G);
    xg = s.alloc<T>(S * B * I);    // its x_t rows, by step
    hp = s.alloc<T>((withY ? S : S + 1) * B * H); // its h_{t-1} rows (recomputed: and the last h_t)
    cs = s.alloc<T>(S * B * H);    // its c_t rows
    ck = s.alloc<T>(count * B * H); // c before each segment's first step
    hk = withY ? nullptr : s.alloc<T>(count * B * H); // and h, when y does not hold it
    dxg = a.g.dx.present() ? s.alloc<T>(S * B * I) : nullptr;
    start = c.lens.present() ? s.alloc<int64_t>(S) : nullptr;
    dh = s.alloc<T>(B * H);
    dc = s.alloc<T>(B * H);
    dhr = s.alloc<T>(B * H);
    step = s.alloc<T>(B * G);
    gathered = c.lens.present() ? s.alloc<T>(B * G) : nullptr; // (rows of dA or h)
    dpRows = s.alloc<T>(B * 3 * H);
    zeros = s.alloc<T>(H);
    dbSum.alloc(s, G, a.g.db.present());
    gs = allocGemm<T>(s, maxOf(maxOf(G, I), H), maxOf(maxOf(S * B, G), maxOf(H, I)));
  }
};

/// Segment length for a memory policy (0 store-all, 1 recompute-gates,
/// 2 checkpoint, 3 budget); bytesOf(S) is the working set for S steps and
/// `spacing` (> 0) that of the checkpoints the forward saved, `savedFrom`
/// (> 0) the first step whose gates the forward saved (nn.lstm_saving; a
/// GRU's or RNN's nn.*_with_gates with saved_steps).
template <typename BytesFn>
LSTMSegments chooseSegments(int64_t policy, int64_t budget, int64_t Tn, int64_t B, int64_t spacing,
                            int64_t savedFrom, BytesFn bytesOf) {
  Tn = maxOf<int64_t>(Tn, 1);
  LSTMSegments seg;
  switch (policy) {
  case 1: seg.S = spacing > 0 ? spacing : nncc::recomputeSegmentSteps(Tn, B); break;
  case 2: seg.S = spacing > 0 ? spacing : nncc::checkpointSegmentSteps(Tn); break;
  case 3: {
    // The largest S that fits: first among those (multiples of the saved
    // checkpoints' segments, if any: no first pass) that start a segment at
    // savedFrom (none straddles it, recomputing saved steps), then among the
    // whole sequence and those multiples, then any; failing that, the
    // smallest working set.
    int64_t best = -1, smallest = 1, smallestBytes = bytesOf(1);
    for (int64_t S = Tn; S >= 1 && best < 0 && savedFrom > 0; --S)
      if ((spacing <= 0 || S % spacing == 0) && savedFrom % S == 0 && bytesOf(S) <= budget)
        best = S;
    for (int64_t S = Tn; S >= 1 && best < 0; --S)
      if ((S == Tn || spacing <= 0 || S % spacing == 0) && bytesOf(S) <= budget)
        best = S;
    for (int64_t S = Tn; S >= 1; --S) {
      int64_t bytes = bytesOf(S);
      if (best < 0 && bytes <= budget)
        best = S;
      if (bytes < smallestBytes) {
        smallest = S;
        smallestBytes = bytes;
      }
    }
    seg.S = best > 0 ? best : smallest;
    break;
  }
  default: seg.S = Tn;
  }
  seg.count = (Tn + seg.S - 1) / seg.S;
  return seg;
}

/// The segments of a backward whose working set for S steps is Buffers(a, S)
/// and, when it works in them, the saved pre-activations, and the
/// checkpoints saved every `spacing` steps (`checkpoints`; the budget counts
/// them: they live from the forward to here).
template <typename Buffers, typename Args>
LSTMSegments segmentsFor(const Args &a, const TensorArg *checkpoints = nullptr, int64_t spacing = 0) {
  using T = std::remove_pointer_t<decltype(Buffers::buf)>;
  int64_t saved = savedGateSteps(a.g) > 0 ? a.g.gates.numel() * (int64_t)sizeof(T) : 0;
  if (checkpoints && checkpoints->present())
    saved += checkpoints->numel() * (int64_t)sizeof(T);
  else
    spacing = 0;
  int64_t savedFrom = savedGateSteps(a.g) > 0 ? a.g.c.steps() - savedGateSteps(a.g) : 0;
  return chooseSegments(a.policy, a.budget, a.g.c.steps(), a.g.c.batch(), spacing, savedFrom, [&](int64_t S) {
    Scratch measure;
    Buffers probe(a, S, measure);
    (void)probe;
    return saved + (int64_t)measure.bytes();
  });
}

/// A backward's working sets (Buffers for segments of S steps): one, or one
/// per direction when it runs both at once (GradCommon::sets).
template <typename Buffers> struct WorkingSets {
  using T = std::remove_pointer_t<decltype(Buffers::buf)>;
  std::optional<Buffers> set[2];
  int count;

  template <typename Args> WorkingSets(const Args &a, int64_t S, Scratch &s) : count(a.g.sets(a.policy, S)) {
    for (int k = 0; k < count; ++k)
      set[k].emplace(a, S, s);
  }
  bool atOnce() const { return count == 2; }
  Buffers &of(int64_t d) { return *set[atOnce() ? d : 0]; }
  /// startBackward, and every set's zero row.
  void start(const GradCommon &g) {
    startBackward<T>(g, set[0]->zeros);
    if (atOnce())
      std::fill(set[1]->zeros, set[1]->zeros + g.c.hidden, T(0));
  }
};

template <typename T> void lstmGradTyped(const LSTMGradArgs &a, Scratch &s) {
  const GradCommon &g = a.g;
  const Common &c = g.c;
  int64_t Tn = c.steps(), B = c.batch(), H = c.hidden, G = 4 * H, D = g.D(), I = c.x.dim(2);
  LSTMSegments seg = segmentsFor<LSTMGradBuffers<T>>(a, &a.checkpoints, a.spacing);
  int64_t S = seg.S;
  // Saved checkpoints are read when the segments are multiples of theirs
  // (the lowering passes their segment length): segment k starts at their
  // k * stride. Otherwise the first pass computes the checkpoints.
  // (Without y they must hold h too.)
  int64_t stride = a.spacing > 0 && S % a.spacing == 0 ? S / a.spacing : 0;
  bool useSaved = a.checkpoints.present() && stride > 0 && (g.y.present() || a.checkpoints.dim(2) > 1);
  // Saved pre-activations (store-all; a budget: all, or those of the last
  // steps) replace the recomputing GEMMs, and the backward works in them, a
  // segment's rows at a time; the gathered x_t and h_{t-1} rows are still
  // needed for dW and dR. A segment works in them when all its steps are
  // among the saved ones (from step savedFrom on).
  int64_t savedSteps = savedGateSteps(g), savedFrom = Tn - savedSteps;
  auto inSaved = [&](int64_t s0) { return savedSteps > 0 && s0 >= savedFrom; };
  WorkingSets<LSTMGradBuffers<T>> sets(a, S, s);
  bool withY = g.y.present();
  // The states before segment k of direction d, as nn.lstm_checkpointed lays
  // them out: c, then (with 2 states) h.
  auto saved = [&](const TensorArg &t, int64_t d, int64_t k, int which) {
    return t.as<T>() + (((d * t.dim(1) + k * stride) * t.dim(2) + which) * B) * H;
  };
  if (s.measuring())
    return;
  sets.start(g);
  DirectionLock dxLock;
  forEachDirection(D, sets.atOnce(), [&](int64_t d) {
    LSTMGradBuffers<T> &bufs = sets.of(d);
    T *buf = bufs.buf, *xg = bufs.xg, *hp = bufs.hp, *cs = bufs.cs, *ck = bufs.ck, *hk = bufs.hk, *dxg = bufs.dxg,
      *dh = bufs.dh, *dc = bufs.dc, *dhr = bufs.dhr, *step = bufs.step, *dpRows = bufs.dpRows, *zeros = bufs.zeros;
    const GemmScratch<T> &gs = bufs.gs;
    const T *W = c.w.as<T>() + d * G * I, *R = c.r.as<T>() + d * G * H;
    const T *peep = a.p.present() ? a.p.as<T>() + d * 3 * H : nullptr;
    const Activation &f = c.acts[d * 3], &gact = c.acts[d * 3 + 1], &hact = c.acts[d * 3 + 2];
    bool fast = std::is_same<T, float>::value && c.standard(d, 3) && !a.inputForget;
    auto rowOf = [&](T *base, int64_t s0, int64_t st, int64_t b, int64_t width) {
      return base + ((st - s0) * B + b) * width;
    };
    // x W^T of a whole segment, W prepared once for all segments.
    RecurrentGemm<T> inputProduct(S * B, G, I, W, I, gs);
    // Gathers x_t and h_{t-1} of steps [s0, s1) and recomputes their gate
    // pre-activations x W^T + h R^T + biases (zero rows past a length).
    // Without y only x W^T + biases: the cells add h_{t-1} R^T step by step.
    // (Saved rows: only points buf at them, and gathers unless `gather` is
    // false: the first pass needs neither x nor h.)
    auto recompute = [&](int64_t s0, int64_t s1, bool gather = true) {
      int64_t rows = (s1 - s0) * B;
      if (inSaved(s0)) {
        buf = savedRowsFrom<T>(g, d, s0, G);
        if (gather)
          gatherSegment<T>(g, d, s0, s1, xg, hp, zeros);
        return;
      }
      buf = bufs.buf;
      // (with lengths over the running rows only, moved to the front and
      // back again)
      gatherSegment<T>(g, d, s0, s1, xg, withY ? hp : nullptr, zeros);
      T *hpRows = withY ? hp : nullptr;
      int64_t *start = bufs.start, running = runningRowsToFront<T>(c, s0, s1, {{xg, I}, {hpRows, H}}, start);
      if (rows == S * B)
        inputProduct.run(xg, I, buf, G, start ? gatheredRows(running, rows) : rows);
      else
        gemm<T>(false, true, running, G, I, T(1), xg, I, W, I, T(0), buf, G, gs);
      if (withY)
        gemm<T>(false, true, running, G, H, T(1), hp, H, R, H, T(1), buf, G, gs);
      if (c.b.present()) {
        const T *wb = c.b.as<T>() + d * 2 * G, *rb = wb + G;
        parallelFor(running, G, [&](int64_t r0, int64_t r1) {
          for (int64_t row = r0; row < r1; ++row)
            for (int64_t k = 0; k < G; ++k)
              buf[row * G + k] += wb[k] + rb[k];
        });
      }
      runningRowsToPlaces<T>(c, s0, s1, {{buf, G}, {xg, I}, {hpRows, H}}, start, running);
    };
    // One cell forward: fast rows keep the gate activations in ar, the
    // others the full pre-activations (peepholes in); cNew gets c_t.
    auto cellRow = [&](T *ar, const T *cPrev, T *cNew) {
      if (fast) {
        lstmRowTrain(H, (float *)ar, (const float *)peep, (const float *)cPrev, (float *)cNew, c.rowClip());
        return;
      }
      for (int64_t j = 0; j < H; ++j) {
        double cp = cPrev[j];
        double gi = ar[j], gf = ar[2 * H + j];
        if (peep) {
          gi += peep[j] * cp;
          gf += peep[2 * H + j] * cp;
        }
        double it = f(c.clipped(gi));
        double ft = a.inputForget ? 1 - it : f(c.clipped(gf));
        double cn = ft * cp + it * gact(c.clipped((double)ar[3 * H + j]));
        ar[j] = (T)gi;
        ar[2 * H + j] = (T)gf;
        if (peep)
          ar[H + j] = (T)((double)ar[H + j] + peep[H + j] * cn);
        cNew[j] = (T)cn;
      }
    };
    // h_t of a cell that cellRow ran.
    auto hiddenRow = [&](const T *ar, const T *cNew, T *h) {
      if (fast)
        return lstmRowHidden(H, (const float *)ar, (const float *)cNew, (float *)h, c.rowClip());
      for (int64_t j = 0; j < H; ++j)
        h[j] = (T)(f(c.clipped((double)ar[H + j])) * hact((double)cNew[j]));
    };
    // The product h_{t-1} R^T of one step, when h is recomputed.
    RecurrentGemm<T> forwardProduct(B, G, H, R, H, gs);
    // The cells of steps [s0, s1) forward from the checkpoint k; cs gets c_t.
    // Without y, step by step: each adds h_{t-1} R^T (hp's row st - s0, the
    // checkpoint's h for the first) and leaves h_t in the next row of hp.
    // With `keepRows` (the first pass, in saved rows the backward reads
    // again) each row is activated in a copy (in `step`).
    auto cellsForward = [&](int64_t k, int64_t s0, int64_t s1, bool keepRows = false) {
      if (withY) {
        parallelFor(B, (s1 - s0) * H * 8, [&](int64_t b0, int64_t b1) {
          for (int64_t b = b0; b < b1; ++b) {
            int64_t len = c.length(b, Tn);
            const T *cPrev = ck + (k * B + b) * H;
            for (int64_t st = s0; st < minOf(s1, len); ++st) {
              T *cNew = rowOf(cs, s0, st, b, H), *ar = rowOf(buf, s0, st, b, G);
              if (keepRows)
                ar = std::copy(ar, ar + G, step + b * G) - G;
              cellRow(ar, cPrev, cNew);
              cPrev = cNew;
            }
          }
        });
        return;
      }
      std::copy(hk + k * B * H, hk + (k + 1) * B * H, hp);
      for (int64_t st = s0; st < s1; ++st) {
        forwardProduct.runRows(rowOf(hp, s0, st, 0, H), H, step, G, B, c.runsAt(st, Tn), bufs.gathered);
        parallelFor(B, H * 16, [&](int64_t b0, int64_t b1) {
          for (int64_t b = b0; b < b1; ++b) {
            T *hNext = rowOf(hp, s0, st + 1, b, H);
            if (st >= c.length(b, Tn)) {
              std::fill(hNext, hNext + H, T(0));
              continue;
            }
            T *ar = rowOf(buf, s0, st, b, G), *cNew = rowOf(cs, s0, st, b, H);
            const T *pr = step + b * G;
            for (int64_t j = 0; j < G; ++j)
              ar[j] += pr[j];
            cellRow(ar, st > s0 ? rowOf(cs, s0, st - 1, b, H) : ck + (k * B + b) * H, cNew);
            hiddenRow(ar, cNew, hNext);
          }
        });
      }
    };
    // Checkpoints: c (and, without y, h) before each segment, given or
    // computed in a first pass forward through the segments.
    if (useSaved) {
      for (int64_t k = 0; k < seg.count; ++k) {
        std::copy(saved(a.checkpoints, d, k, 0), saved(a.checkpoints, d, k, 0) + B * H, ck + k * B * H);
        if (hk)
          std::copy(saved(a.checkpoints, d, k, 1), saved(a.checkpoints, d, k, 1) + B * H, hk + k * B * H);
      }
    }
    for (int64_t b = 0; b < B && !useSaved; ++b) {
      const T *c0 = a.c0.present() ? a.c0.as<T>() + (d * B + b) * H : zeros;
      std::copy(c0, c0 + H, ck + b * H);
      if (!withY) {
        const T *h0 = c.h0.present() ? c.h0.as<T>() + (d * B + b) * H : zeros;
        std::copy(h0, h0 + H, hk + b * H);
      }
    }
    for (int64_t k = 0; k + 1 < seg.count && !useSaved; ++k) {
      int64_t s0 = k * S, s1 = minOf(Tn, s0 + S);
      recompute(s0, s1, /*gather=*/!inSaved(s0));
      cellsForward(k, s0, s1, /*keepRows=*/inSaved(s0));
      for (int64_t b = 0; b < B; ++b) {
        int64_t last = minOf(s1, c.length(b, Tn)) - 1;
        const T *src = last >= s0 ? rowOf(cs, s0, last, b, H) : ck + (k * B + b) * H;
        std::copy(src, src + H, ck + ((k + 1) * B + b) * H);
        if (!withY) {
          const T *h = last >= s0 ? rowOf(hp, s0, last + 1, b, H) : hk + (k * B + b) * H;
          std::copy(h, h + H, hk + ((k + 1) * B + b) * H);
        }
      }
    }
    // Backward through time, segment by segment.
    RecurrentGemm<T> back(B, H, G, R, H, gs, /*kByN=*/true); // dh_{t-1} = dA_t R
    initialHiddenGrad<T>(g, d, dh);
    if (a.dyc.present())
      std::copy(a.dyc.as<T>() + d * B * H, a.dyc.as<T>() + (d + 1) * B * H, dc);
    else
      std::fill(dc, dc + B * H, T(0));
    std::fill(dpRows, dpRows + B * 3 * H, T(0));
    T *db = g.db.present() ? g.db.as<T>() + d * 2 * G : nullptr;
    bufs.dbSum.clear();
    for (int64_t k = seg.count - 1; k >= 0; --k) {
      int64_t s0 = k * S, s1 = minOf(Tn, s0 + S);
      recompute(s0, s1);
      cellsForward(k, s0, s1);
      for (int64_t st = s1 - 1; st >= s0; --st) {
        parallelFor(B, H * 32, [&](int64_t b0, int64_t b1) {
          for (int64_t b = b0; b < b1; ++b) {
            int64_t len = c.length(b, Tn);
            T *stepRow = step + b * G, *ar = rowOf(buf, s0, st, b, G);
            if (st >= len) {
              std::fill(stepRow, stepRow + G, T(0));
              std::fill(ar, ar + G, T(0)); // no gradient past the length
              continue;
            }
            int64_t t = g.timeOf(d, st, len);
            T *dhb = dh + b * H, *dcr = dc + b * H, *dpr = dpRows + b * 3 * H;
            const T *cNew = rowOf(cs, s0, st, b, H);
            const T *cPrev = st > s0 ? rowOf(cs, s0, st - 1, b, H) : ck + (k * B + b) * H;
            if (const T *dyr = dyRow<T>(g, d, t, b))
              for (int64_t j = 0; j < H; ++j)
                dhb[j] += dyr[j];
            if (fast) {
              lstmRowBackward(H, (float *)ar, (const float *)peep, (const float *)cPrev, (const float *)cNew,
                              (const float *)dhb, (float *)dcr, (float *)dpr, c.rowClip());
            } else {
              for (int64_t j = 0; j < H; ++j) {
                double cp = cPrev[j], cn = cNew[j];
                double ai = ar[j], ao = ar[H + j], af = ar[2 * H + j], ac = ar[3 * H + j];
                double it = f(c.clipped(ai)), ot = f(c.clipped(ao)), gt = gact(c.clipped(ac));
                double ft = a.inputForget ? 1 - it : f(c.clipped(af));
                double hc = hact(cn), dhv = dhb[j];
                double dcv = (double)dcr[j] + dhv * ot * hact.derivative(cn);
                double dao = dhv * hc * f.derivative(c.clipped(ao)) * c.clipSlope(ao);
                if (peep)
                  dcv += dao * peep[H + j];
                double di = dcv * gt, dg = dcv * it, df = dcv * cp, dcp = dcv * ft, daf = 0;
                if (a.inputForget)
                  di -= df;
                else
                  daf = df * f.derivative(c.clipped(af)) * c.clipSlope(af);
                double dai = di * f.derivative(c.clipped(ai)) * c.clipSlope(ai);
                double dac = dg * gact.derivative(c.clipped(ac)) * c.clipSlope(ac);
                if (peep) {
                  dcp += dai * peep[j] + daf * peep[2 * H + j];
                  dpr[j] += (T)(dai * cp);
                  dpr[H + j] += (T)(dao * cn);
                  dpr[2 * H + j] += (T)(daf * cp);
                }
                ar[j] = (T)dai;
                ar[H + j] = (T)dao;
                ar[2 * H + j] = (T)daf;
                ar[3 * H + j] = (T)dac;
                dcr[j] = (T)dcp;
              }
            }
            std::copy(ar, ar + G, stepRow);
          }
        });
        back.runRows(step, G, dhr, H, B, c.runsAt(st, Tn), bufs.gathered);
        for (int64_t b = 0; b < B; ++b)
          if (st < c.length(b, Tn))
            std::copy(dhr + b * H, dhr + (b + 1) * H, dh + b * H);
      }
      // The segment's share of dW, dR, dB and dX, over the running rows.
      T beta = T(k == seg.count - 1 ? 0 : 1);
      int64_t *start = bufs.start, running = runningRowsToFront<T>(c, s0, s1, {{buf, G}, {xg, I}, {hp, H}}, start);
      if (g.dw.present())
        gemm<T>(true, false, G, I, running, T(1), buf, G, xg, I, beta, g.dw.as<T>() + d * G * I, I, gs);
      if (g.dr.present())
        gemm<T>(true, false, G, H, running, T(1), buf, G, hp, H, beta, g.dr.as<T>() + d * G * H, H, gs);
      if (db)
        bufs.dbSum.add(buf, running, G, G);
      if (dxg) {
        gemm<T>(false, false, running, I, G, T(1), buf, G, W, I, T(0), dxg, I, gs);
        std::lock_guard<DirectionLock> hold(dxLock);
        scatterInputGrad<T>(g, d, s0, s1, dxg, start);
      }
    }
    if (db) {
      bufs.dbSum.store(db, G);
      std::copy(db, db + G, db + G); // Rb: as Wb
    }
    if (g.dh0.present())
      std::copy(dh, dh + B * H, g.dh0.as<T>() + d * B * H);
    if (a.dc0.present())
      std::copy(dc, dc + B * H, a.dc0.as<T>() + d * B * H);
    if (a.dp.present()) {
      T *dp = a.dp.as<T>() + d * 3 * H;
      std::fill(dp, dp + 3 * H, T(0));
      for (int64_t b = 0; b < B; ++b)
        for (int64_t j = 0; j < 3 * H; ++j)
          dp[j] += dpRows[b * 3 * H + j];
    }
  });
}

//===----------------------------------------------------------------------===//
// GRU
//===----------------------------------------------------------------------===//

struct GRUGradArgs {
  GradCommon g;
  bool linearBeforeReset;
  int64_t policy, budget; // as for the LSTM
};

GRUGradArgs readGRUGrad(Meta &m) {
  GRUGradArgs a;
  a.g.read(m);
  a.linearBeforeReset = m.i();
  a.policy = m.i();
  a.budget = m.i();
  a.g.directionsAtOnce = m.i();
  return a;
}

/// The GRU backward's working set for segments of S steps. A GRU's state is
/// h alone, which y holds, so segments need no checkpoints: each recomputes
/// its gates from x and y (unless the forward saved them), and the
/// policies only trade GEMM size for memory.
template <typename T> struct GRUGradBuffers {
  T *buf, *xg, *hp, *dxg, *dh, *dhr, *drh, *step, *zeros;
  T *gathered; ///< with lengths: the rows a step's product takes, when not the first ones
  int64_t *start; ///< where each step's rows begin in a segment's backward (runningRowsToFront)
  RowSums dbSum; // the three gates', then (linear_before_reset) Rb_h's
  GemmScratch<T> gs;

  GRUGradBuffers(const GRUGradArgs &a, int64_t S, Scratch &s) {
    const Common &c = a.g.c;
    int64_t B = c.batch(), H = c.hidden, G = 3 * H, I = c.x.dim(2);
    // Rows of 4H: the pre-activations, then the gates' gradients (3H); then
    // (linear_before_reset) h_{t-1} R_h^T, then the gradient of it (+ Rb_h),
    // or r_t * h_{t-1}. (With the forward's saved rows of every step, none:
    // the backward works in those.)
    buf = gatesInPlace(a.g) ? nullptr : s.alloc<T>(S * B * (G + H));
    xg = s.alloc<T>(S * B * I);
    hp = s.alloc<T>(S * B * H);
    dxg = a.g.dx.present() ? s.alloc<T>(S * B * I) : nullptr;
    start = c.lens.present() ? s.alloc<int64_t>(S) : nullptr;
    dh = s.alloc<T>(B * H);
    dhr = s.alloc<T>(B * H);
    drh = s.alloc<T>(B * H); // d(r * h_{t-1}) of a step (without linear_before_reset)
    step = s.alloc<T>(B * G);
    gathered = c.lens.present() ? s.alloc<T>(B * G) : nullptr; // (rows of dA or h)
    zeros = s.alloc<T>(H);
    dbSum.alloc(s, G + H, a.g.db.present());
    gs = allocGemm<T>(s, maxOf(maxOf(G, I), H), maxOf(maxOf(S * B, G), maxOf(H, I)));
  }
};

template <typename T> void gruGradTyped(const GRUGradArgs &a, Scratch &s) {
  const GradCommon &g = a.g;
  const Common &c = g.c;
  int64_t Tn = c.steps(), B = c.batch(), H = c.hidden, G = 3 * H, D = g.D(), I = c.x.dim(2);
  bool lbr = a.linearBeforeReset;
  LSTMSegments seg = segmentsFor<GRUGradBuffers<T>>(a);
  int64_t S = seg.S;
  WorkingSets<GRUGradBuffers<T>> sets(a, S, s);
  if (s.measuring())
    return;
  int64_t LD = G + H; // buf's rows: the gates (G), then sb (H)
  sets.start(g);
  DirectionLock dxLock;
  forEachDirection(D, sets.atOnce(), [&](int64_t d) {
    GRUGradBuffers<T> &bufs = sets.of(d);
    T *xg = bufs.xg, *hp = bufs.hp, *dh = bufs.dh, *drh = bufs.drh;
    const GemmScratch<T> &gs = bufs.gs;
    const T *W = c.w.as<T>() + d * G * I, *R = c.r.as<T>() + d * G * H;
    const T *wb = c.b.present() ? c.b.as<T>() + d * 2 * G : nullptr;
    const T *rbh = wb ? wb + G + 2 * H : nullptr;
    const Activation &f = c.acts[d * 2], &gact = c.acts[d * 2 + 1];
    T *db = g.db.present() ? g.db.as<T>() + d * 2 * G : nullptr;
    bufs.dbSum.clear();
    initialHiddenGrad<T>(g, d, dh);
    auto row = [&](T *base, int64_t s0, int64_t st, int64_t b, int64_t width) {
      return base + ((st - s0) * B + b) * width;
    };
    // float, sigmoid and tanh (with clip or without): the vectorized rows
    // (as the stacked GRUs' backward runs them).
    bool fast = std::is_same<T, float>::value && c.standard(d, 2);
    // The per-step products with R, prepared once: dh_{t-1} += [da_z, da_r
    // (, da_h r)] R, and without linear_before_reset d(r * h_{t-1}) = dA_h R_h.
    RecurrentGemm<T> back(B, H, lbr ? G : 2 * H, R, H, gs, /*kByN=*/true);
    std::unique_ptr<RecurrentGemm<T>> backH =
        lbr ? nullptr : std::make_unique<RecurrentGemm<T>>(B, H, H, R + 2 * H * H, H, gs, /*kByN=*/true);
    for (int64_t k = seg.count - 1; k >= 0; --k) {
      int64_t s0 = k * S, s1 = minOf(Tn, s0 + S);
      T *saved = savedRowsFrom<T>(g, d, s0, LD), *buf = saved ? saved : bufs.buf, *sb = buf + G;
      // The segment's pre-activations: x W^T + biases, + h R_zr^T for z and
      // r; the h gate's recurrent part as the variant defines it.
      // (Saved by the forward: only x and h_{t-1} are gathered, for dW and dR.)
      // (Recomputed with lengths over the running rows only, moved to the
      // front and back again.)
      gatherSegment<T>(g, d, s0, s1, xg, hp, bufs.zeros);
      if (!saved) {
        int64_t *start = bufs.start, running = runningRowsToFront<T>(c, s0, s1, {{xg, I}, {hp, H}}, start);
        gemm<T>(false, true, running, G, I, T(1), xg, I, W, I, T(0), buf, LD, gs);
        if (wb)
          for (int64_t r = 0; r < running; ++r)
            for (int64_t j = 0; j < G; ++j)
              buf[r * LD + j] += j < 2 * H ? wb[j] + wb[G + j] : wb[j];
        gemm<T>(false, true, running, 2 * H, H, T(1), hp, H, R, H, T(1), buf, LD, gs);
        if (lbr) {
          gemm<T>(false, true, running, H, H, T(1), hp, H, R + 2 * H * H, H, T(0), sb, LD, gs);
        } else {
          for (int64_t r = 0; r < running; ++r)
            for (int64_t j = 0; j < H; ++j)
              sb[r * LD + j] = (T)(f(c.clipped((double)buf[r * LD + H + j])) * (double)hp[r * H + j]);
          gemm<T>(false, true, running, H, H, T(1), sb, LD, R + 2 * H * H, H, T(1), buf + 2 * H, LD, gs);
          if (rbh)
            for (int64_t r = 0; r < running; ++r)
              for (int64_t j = 0; j < H; ++j)
                buf[r * LD + 2 * H + j] += rbh[j];
        }
        runningRowsToPlaces<T>(c, s0, s1, {{buf, LD}, {xg, I}, {hp, H}}, start, running);
      }
      for (int64_t st = s1 - 1; st >= s0; --st) {
        // Phase 1: dz, dn and the h gate's gradient; with linear_before_reset
        // also dr (all of the step's gate gradients).
        parallelFor(B, H * 32, [&](int64_t b0, int64_t b1) {
          for (int64_t b = b0; b < b1; ++b) {
            int64_t len = c.length(b, Tn);
            T *stepRow = bufs.step + b * G;
            if (st >= len) {
              std::fill(stepRow, stepRow + G, T(0));
              continue;
            }
            int64_t t = g.timeOf(d, st, len);
            T *ar = row(buf, s0, st, b, LD), *dhb = dh + b * H, *sr = row(sb, s0, st, b, LD);
            const T *hpr = row(hp, s0, st, b, H), *dyr = dyRow<T>(g, d, t, b);
            if (fast && !lbr) { // dz and dh gate now, dr once d(r * h_{t-1}) is known
              if (dyr)
                for (int64_t j = 0; j < H; ++j)
                  dhb[j] += dyr[j];
              gruRowBackwardOutput(H, (float *)ar, (const float *)hpr, (float *)dhb, c.rowClip());
              std::copy(ar, ar + H, stepRow);
              std::copy(ar + 2 * H, ar + 3 * H, stepRow + 2 * H);
              continue;
            }
            if (fast) {
              // The row is [z, r, the h gate's input part, h_{t-1} R_h^T]; the
              // cell gives [dz, dr, d(h_{t-1} R_h^T + Rb_h), dh gate]: the
              // last two trade places (dW's columns are the gates').
              if (dyr)
                for (int64_t j = 0; j < H; ++j)
                  dhb[j] += dyr[j];
              gruRowBackwardLinearBeforeReset(H, (float *)ar, (const float *)(rbh ? rbh : bufs.zeros),
                                              (const float *)hpr, (float *)dhb, c.rowClip());
              for (int64_t j = 0; j < H; ++j)
                std::swap(ar[2 * H + j], sr[j]);
              std::copy(ar, ar + 2 * H, stepRow);
              std::copy(sr, sr + H, stepRow + 2 * H);
              continue;
            }
            for (int64_t j = 0; j < H; ++j) {
              double dhv = (double)dhb[j] + (dyr ? (double)dyr[j] : 0.0);
              double az = ar[j], arr = ar[H + j];
              double zt = f(c.clipped(az)), rt = f(c.clipped(arr));
              double hrh = lbr ? (double)sr[j] + (rbh ? (double)rbh[j] : 0.0) : 0.0;
              double ah = lbr ? (double)ar[2 * H + j] + rt * hrh : (double)ar[2 * H + j];
              double nt = gact(c.clipped(ah));
              double daz = dhv * ((double)hpr[j] - nt) * f.derivative(c.clipped(az)) * c.clipSlope(az);
              double dah = dhv * (1 - zt) * gact.derivative(c.clipped(ah)) * c.clipSlope(ah);
              dhb[j] = (T)(dhv * zt); // the direct path; R's part is added below
              ar[j] = stepRow[j] = (T)daz;
              ar[2 * H + j] = (T)dah;
              if (lbr) {
                double dar = dah * hrh * f.derivative(c.clipped(arr)) * c.clipSlope(arr);
                ar[H + j] = stepRow[H + j] = (T)dar;
                sr[j] = stepRow[2 * H + j] = (T)(dah * rt); // the gradient of h_{t-1} R_h^T + Rb_h
              } else {
                stepRow[2 * H + j] = (T)dah;
              }
            }
          }
        });
        if (!lbr) {
          // d(r * h_{t-1}) = dA_h R_h, then dr and r's share of dh_{t-1}.
          backH->runRows(bufs.step + 2 * H, G, drh, H, B, c.runsAt(st, Tn), bufs.gathered);
          parallelFor(B, H * 16, [&](int64_t b0, int64_t b1) {
            for (int64_t b = b0; b < b1; ++b) {
              if (st >= c.length(b, Tn))
                continue;
              T *ar = row(buf, s0, st, b, LD), *dhb = dh + b * H, *stepRow = bufs.step + b * G;
              const T *hpr = row(hp, s0, st, b, H);
              if (fast) {
                gruRowBackwardGates(H, (float *)ar, (const float *)hpr, (const float *)drh + b * H, (float *)dhb,
                                    c.rowClip());
                std::copy(ar + H, ar + 2 * H, stepRow + H);
                continue;
              }
              for (int64_t j = 0; j < H; ++j) {
                double arr = (double)ar[H + j], rt = f(c.clipped(arr)), drhv = drh[b * H + j];
                double dar = drhv * (double)hpr[j] * f.derivative(c.clipped(arr)) * c.clipSlope(arr);
                dhb[j] = (T)((double)dhb[j] + drhv * rt);
                ar[H + j] = stepRow[H + j] = (T)dar;
              }
            }
          });
        }
        // dh_{t-1} += [da_z, da_r (, da_h r)] R.
        back.runRows(bufs.step, G, bufs.dhr, H, B, c.runsAt(st, Tn), bufs.gathered);
        for (int64_t b = 0; b < B; ++b)
          if (st < c.length(b, Tn))
            for (int64_t j = 0; j < H; ++j)
              dh[b * H + j] += bufs.dhr[b * H + j];
      }
      // No gradient past a row's length.
      for (int64_t b = 0; b < B; ++b)
        for (int64_t st = maxOf(s0, c.length(b, Tn)); st < s1; ++st) {
          std::fill(row(buf, s0, st, b, LD), row(buf, s0, st, b, LD) + LD, T(0)); // sb too
        }
      // The segment's share of dW, dR, dB and dX.
      // (over the running rows; sb's are in buf's)
      T beta = T(k == seg.count - 1 ? 0 : 1);
      int64_t *start = bufs.start, running = runningRowsToFront<T>(c, s0, s1, {{buf, LD}, {xg, I}, {hp, H}}, start);
      if (g.dw.present())
        gemm<T>(true, false, G, I, running, T(1), buf, LD, xg, I, beta, g.dw.as<T>() + d * G * I, I, gs);
      if (g.dr.present()) {
        T *dr = g.dr.as<T>() + d * G * H;
        gemm<T>(true, false, 2 * H, H, running, T(1), buf, LD, hp, H, beta, dr, H, gs);
        if (lbr)
          gemm<T>(true, false, H, H, running, T(1), sb, LD, hp, H, beta, dr + 2 * H * H, H, gs);
        else
          gemm<T>(true, false, H, H, running, T(1), buf + 2 * H, LD, sb, LD, beta, dr + 2 * H * H, H, gs);
      }
      if (db) {
        bufs.dbSum.add(buf, running, LD, G);
        if (lbr)
          bufs.dbSum.add(sb, running, LD, H, G);
      }
      if (bufs.dxg) {
        gemm<T>(false, false, running, I, G, T(1), buf, LD, W, I, T(0), bufs.dxg, I, gs);
        std::lock_guard<DirectionLock> hold(dxLock);
        scatterInputGrad<T>(g, d, s0, s1, bufs.dxg, start);
      }
    }
    if (db) {
      std::fill(db, db + 2 * G, T(0));
      bufs.dbSum.store(db, G);
      if (lbr)
        bufs.dbSum.store(db + G + 2 * H, H, G);
      std::copy(db, db + 2 * H, db + G); // Rb_z, Rb_r: as Wb
      if (!lbr)
        std::copy(db + 2 * H, db + 3 * H, db + G + 2 * H);
    }
    if (g.dh0.present())
      std::copy(dh, dh + B * H, g.dh0.as<T>() + d * B * H);
  });
}

//===----------------------------------------------------------------------===//
// RNN
//===----------------------------------------------------------------------===//

struct RNNGradArgs {
  GradCommon g;
  int64_t policy, budget; // as for the LSTM
};

RNNGradArgs readRNNGrad(Meta &m) {
  RNNGradArgs a;
  a.g.read(m);
  a.policy = m.i();
  a.budget = m.i();
  a.g.directionsAtOnce = m.i();
  return a;
}

/// The RNN backward's working set for segments of S steps. Like the GRU's,
/// its state is h alone, which y holds: segments need no checkpoints, each
/// recomputes its pre-activations from x and y (unless the forward saved
/// them).
template <typename T> struct RNNGradBuffers {
  T *buf, *xg, *hp, *dxg, *dh, *dhr, *step, *zeros;
  T *gathered; ///< with lengths: the rows a step's product takes, when not the first ones
  int64_t *start; ///< where each step's rows begin in a segment's backward (runningRowsToFront)
  RowSums dbSum;
  GemmScratch<T> gs;

  RNNGradBuffers(const RNNGradArgs &a, int64_t S, Scratch &s) {
    const Common &c = a.g.c;
    int64_t B = c.batch(), H = c.hidden, I = c.x.dim(2);
    // The pre-activations, then their gradients (or the forward's saved ones).
    buf = gatesInPlace(a.g) ? nullptr : s.alloc<T>(S * B * H);
    xg = s.alloc<T>(S * B * I);
    hp = s.alloc<T>(S * B * H);
    dxg = a.g.dx.present() ? s.alloc<T>(S * B * I) : nullptr;
    start = c.lens.present() ? s.alloc<int64_t>(S) : nullptr;
    dh = s.alloc<T>(B * H);
    dhr = s.alloc<T>(B * H);
    step = s.alloc<T>(B * H);
    gathered = c.lens.present() ? s.alloc<T>(B * H) : nullptr; // (rows of dA or h)
    zeros = s.alloc<T>(H);
    dbSum.alloc(s, H, a.g.db.present());
    gs = allocGemm<T>(s, maxOf(H, I), maxOf(S * B, maxOf(H, I)));
  }
};

template <typename T> void rnnGradTyped(const RNNGradArgs &a, Scratch &s) {
  const GradCommon &g = a.g;
  const Common &c = g.c;
  int64_t Tn = c.steps(), B = c.batch(), H = c.hidden, D = g.D(), I = c.x.dim(2);
  LSTMSegments seg = segmentsFor<RNNGradBuffers<T>>(a);
  int64_t S = seg.S;
  WorkingSets<RNNGradBuffers<T>> sets(a, S, s);
  if (s.measuring())
    return;
  sets.start(g);
  DirectionLock dxLock;
  forEachDirection(D, sets.atOnce(), [&](int64_t d) {
    RNNGradBuffers<T> &bufs = sets.of(d);
    T *xg = bufs.xg, *hp = bufs.hp, *dh = bufs.dh, *dhr = bufs.dhr, *step = bufs.step;
    const GemmScratch<T> &gs = bufs.gs;
    const T *W = c.w.as<T>() + d * H * I, *R = c.r.as<T>() + d * H * H;
    const Activation &f = c.acts[d];
    T *db = g.db.present() ? g.db.as<T>() + d * 2 * H : nullptr;
    bufs.dbSum.clear();
    initialHiddenGrad<T>(g, d, dh);
    RecurrentGemm<T> back(B, H, H, R, H, gs, /*kByN=*/true); // dh_{t-1} = dA_t R, prepared once
    // float tanh (code 1) or Relu (code 0), with clip or without: the vectorized rows
    bool fast = std::is_same<T, float>::value && (f.code == 1 || f.code == 0);
    for (int64_t k = seg.count - 1; k >= 0; --k) {
      int64_t s0 = k * S, s1 = minOf(Tn, s0 + S);
      T *saved = savedRowsFrom<T>(g, d, s0, H), *buf = saved ? saved : bufs.buf;
      gatherSegment<T>(g, d, s0, s1, xg, hp, bufs.zeros);
      if (!saved) { // not saved by the forward: recomputed (with lengths: the running rows)
        int64_t *start = bufs.start, running = runningRowsToFront<T>(c, s0, s1, {{xg, I}, {hp, H}}, start);
        gemm<T>(false, true, running, H, I, T(1), xg, I, W, I, T(0), buf, H, gs);
        if (c.b.present()) {
          const T *wb = c.b.as<T>() + d * 2 * H;
          for (int64_t r = 0; r < running; ++r)
            for (int64_t j = 0; j < H; ++j)
              buf[r * H + j] += wb[j] + wb[H + j];
        }
        gemm<T>(false, true, running, H, H, T(1), hp, H, R, H, T(1), buf, H, gs);
        runningRowsToPlaces<T>(c, s0, s1, {{buf, H}, {xg, I}, {hp, H}}, start, running);
      }
      for (int64_t st = s1 - 1; st >= s0; --st) {
        for (int64_t b = 0; b < B; ++b) {
          int64_t len = c.length(b, Tn);
          T *stepRow = step + b * H, *ar = buf + ((st - s0) * B + b) * H;
          if (st >= len) {
            std::fill(stepRow, stepRow + H, T(0));
            std::fill(ar, ar + H, T(0)); // no gradient past the length
            continue;
          }
          const T *dyr = dyRow<T>(g, d, g.timeOf(d, st, len), b);
          if (fast) {
            if (dyr)
              for (int64_t j = 0; j < H; ++j)
                dh[b * H + j] += dyr[j];
            if (f.code == 1)
              rnnRowTanhBackwardInPlace(H, (float *)ar, (const float *)dh + b * H, c.rowClip());
            else
              rnnRowReluBackwardInPlace(H, (float *)ar, (const float *)dh + b * H, c.rowClip());
            std::copy(ar, ar + H, stepRow);
            continue;
          }
          for (int64_t j = 0; j < H; ++j) {
            double dhv = (double)dh[b * H + j] + (dyr ? (double)dyr[j] : 0.0), av = ar[j];
            ar[j] = stepRow[j] = (T)(dhv * f.derivative(c.clipped(av)) * c.clipSlope(av));
          }
        }
        back.runRows(step, H, dhr, H, B, c.runsAt(st, Tn), bufs.gathered);
        for (int64_t b = 0; b < B; ++b)
          if (st < c.length(b, Tn))
            std::copy(dhr + b * H, dhr + (b + 1) * H, dh + b * H);
      }
      // The segment's share of dW, dR, dB and dX.
      T beta = T(k == seg.count - 1 ? 0 : 1);
      int64_t *start = bufs.start, running = runningRowsToFront<T>(c, s0, s1, {{buf, H}, {xg, I}, {hp, H}}, start);
      if (g.dw.present())
        gemm<T>(true, false, H, I, running, T(1), buf, H, xg, I, beta, g.dw.as<T>() + d * H * I, I, gs);
      if (g.dr.present())
        gemm<T>(true, false, H, H, running, T(1), buf, H, hp, H, beta, g.dr.as<T>() + d * H * H, H, gs);
      if (db)
        bufs.dbSum.add(buf, running, H, H);
      if (bufs.dxg) {
        gemm<T>(false, false, running, I, H, T(1), buf, H, W, I, T(0), bufs.dxg, I, gs);
        std::lock_guard<DirectionLock> hold(dxLock);
        scatterInputGrad<T>(g, d, s0, s1, bufs.dxg, start);
      }
    }
    if (db) {
      bufs.dbSum.store(db, H);
      std::copy(db, db + H, db + H); // Rb: as Wb
    }
    if (g.dh0.present())
      std::copy(dh, dh + B * H, g.dh0.as<T>() + d * B * H);
  });
}

} // namespace

#define NNCC_RECURRENT_GRAD_KERNEL(name, Args, read, typed)                                        \
  extern "C" NNCC_KERNEL(name) {                                                                   \
    Meta m(meta, buffers);                                                                         \
    Args a = read(m);                                                                              \
    Scratch s = m.scratch();                                                                       \
    dispatchFloat(a.g.c.x.dtype, [&](auto t) { typed<decltype(t)>(a, s); });                       \
  }                                                                                                \
  NNCC_SCRATCH(name) {                                                                             \
    Meta m(meta, nullptr);                                                                         \
    Args a = read(m);                                                                              \
    Scratch s;                                                                                     \
    dispatchFloat(a.g.c.x.dtype, [&](auto t) { typed<decltype(t)>(a, s); });                       \
    return (int64_t)s.bytes();                                                                     \
  }

NNCC_RECURRENT_GRAD_KERNEL(nncc_lstm_grad, LSTMGradArgs, readLSTMGrad, lstmGradTyped)
NNCC_RECURRENT_GRAD_KERNEL(nncc_gru_grad, GRUGradArgs, readGRUGrad, gruGradTyped)
NNCC_RECURRENT_GRAD_KERNEL(nncc_rnn_grad, RNNGradArgs, readRNNGrad, rnnGradTyped)
