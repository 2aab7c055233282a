//===- RecurrentStack.cpp - stacked LSTMs, GRUs and RNNs as a wavefront ---===//
//
// nn.lstm_stack (passes/StackRecurrent.cpp): L forward LSTM layers (or GRU
// layers, with linear_before_reset or without: nn.gru_stack; simple RNNs
// with tanh or Relu: nn.rnn_stack), layer l's h_t the input of layer l+1 at
// step t. A cell is (layer l, chunk c of a few
// steps, 64 rows of steps x batch); cell (l, c) needs (l, c-1) and (l-1, c),
// so the cells of one diagonal l + c = d are independent: they run at the
// same time on the thread pool, each on one thread (its GEMMs
// single-threaded), at most `max_parallel` at once. Layer l+1's chunk c thus
// overlaps layer l's chunk c+1, and in inference no layer's whole output
// sequence is stored: each layer keeps its last two chunks of hidden states
// and its cell state. Each layer starts from its initial states (zeros when
// none are given) and writes its final ones when they are read. With
// sequence lengths a batch row's steps past its length leave its states as
// they are (its y rows are zeros), so its final states are those of its
// last step; in the backward those steps pass its state gradients through. For
// training the stack also writes the lower layers'
// outputs, each chunk's starting cell state (LSTM) and, under store-all,
// every step's gate pre-activations (GRU: z and r, then with
// linear_before_reset the h gate's input part and h_{t-1} R_h^T, without it
// the h gate and r * h_{t-1}).
//
// nn.lstm_stack_grad (nn.gru_stack_grad, nn.rnn_stack_grad) runs the
// cells' backward along reverse diagonals: cell (l, c) needs the state
// gradients of (l, c+1) and its dy, the dX of (l+1, c). Under store-all each
// cell takes its gate pre-activations as the forward saved them (an LSTM's
// cells run their steps forward again from the chunk's cell state; a GRU's
// read h_{t-1} from the saved outputs), then runs its steps back and passes
// its dX down as the dy of the layer below. Each layer keeps the gate
// gradients of all its steps, so once every cell is done its weight
// gradients are GEMMs over the whole sequence, on every thread. Without
// saved pre-activations (recompute-gates, a budget, a GRU's or RNN's
// checkpoint: the forward saves only the outputs and each chunk's cell
// state) each cell first recomputes its chunk's from x and h_{t-1} with two
// GEMMs of the chunk's rows, and adds its share of the weight gradients
// itself, so nothing the backward keeps grows with the sequence. A layer's state
// gradients start from those of its final states
// (zeros when none are given) and end as those of its initial states.
// Host only (bundles run the layers one by one).
//
//===----------------------------------------------------------------------===//
#include "runtime/Profile.h"
#include "runtime/kernels/KernelCache.h"
#include "runtime/kernels/Kernels.h"
#include "runtime/kernels/Meta.h"
#include "runtime/kernels/Parallel.h"
#include "runtime/kernels/RecurrentCells.h"
#include "runtime/kernels/RecurrentGemm.h"

#include <algorithm>
#include <memory>
#include <type_traits>

using namespace nncc::kernels;

namespace {

constexpr int kMaxLayers = 32;

struct StackArgs {
  TensorArg x, y, states, cells, gates;
  TensorArg h0, c0, hn, cn; ///< initial and final states, [L, B, H] (none: zeros, unread)
  TensorArg lens;           ///< [B]: each row's steps (none: all)
  TensorArg w[kMaxLayers], r[kMaxLayers], b[kMaxLayers];
  int64_t layers = 0, hidden = 0, maxParallel = 0, chunkSteps = 1;
  bool constantWeights = false;
  int64_t variant = 0; ///< a GRU's linear_before_reset; an RNN's Relu
  float clip = kNoClip; ///< ONNX's clip of every layer (RecurrentCells)
};

/// ONNX's clip as the lowering writes it (whether there is one, then the
/// threshold), as the rows take it (kNoClip: none).
float readClip(Meta &m) {
  bool clips = m.i();
  double clip = m.f();
  return clips ? (float)clip : kNoClip;
}

StackArgs readStack(Meta &m) {
  StackArgs a;
  a.x = m.tensor();
  a.layers = m.i();
  for (int64_t l = 0; l < a.layers && l < kMaxLayers; ++l) {
    a.w[l] = m.tensor();
    a.r[l] = m.tensor();
    a.b[l] = m.tensor();
  }
  a.y = m.tensor();
  a.states = m.tensor();
  a.cells = m.tensor();
  a.gates = m.tensor();
  a.h0 = m.tensor();
  a.c0 = m.tensor();
  a.hn = m.tensor();
  a.cn = m.tensor();
  a.lens = m.tensor();
  a.hidden = m.i();
  a.maxParallel = m.i();
  a.chunkSteps = m.i();
  a.constantWeights = m.i();
  a.variant = m.i();
  a.clip = readClip(m);
  return a;
}

/// Each batch row's number of steps (ONNX sequence_lens, within [0, T]; T
/// for every row without them), into `to` ([B]).
void rowLengths(const TensorArg &lens, int64_t B, int64_t T, int64_t *to) {
  for (int64_t b = 0; b < B; ++b)
    to[b] = lens.present() ? std::max<int64_t>(0, std::min<int64_t>(indexAt(lens, b), T)) : T;
}

/// Runs cell(l, c) for l < L, c < chunks along the diagonals l + c = d, at
/// most maxParallel (0: one per thread) at once. A cell alone on its
/// diagonal may use every thread in its GEMMs.
template <typename Cell> void alongDiagonals(int64_t L, int64_t chunks, int64_t maxParallel, Cell cell) {
  int64_t width = maxParallel > 0 ? maxParallel : std::max(1, omp_get_max_threads());
  for (int64_t d = 0; d < L + chunks - 1; ++d) {
    int64_t lFirst = std::max<int64_t>(0, d - (chunks - 1)), lLast = std::min<int64_t>(L - 1, d);
    for (int64_t l0 = lFirst; l0 <= lLast; l0 += width) {
      int64_t n = std::min<int64_t>(width, lLast - l0 + 1);
      if (n == 1) {
        cell(l0, d - l0);
        continue;
      }
      // A static split: in the full diagonals each thread keeps the same
      // layers, whose weights stay in its caches. (Threads taking whichever
      // cell is next balanced the backward's cells better but cost the
      // 4-layer forward its lead: 1.02-1.07x over layer by layer against
      // 1.12-1.22x, alternating runs. Without the wait at the end of each
      // diagonal, each thread taking the next cell whose inputs are done,
      // the 4-layer LSTM's backward cells kept both threads busy, 41 and
      // 42 ms against 44 and 30, but ran 10-25% slower away from their
      // layers' caches: the same 43 ms.)
      parallelFor(n, 1 << 20, [&](int64_t c0, int64_t c1) {
        for (int64_t k = c0; k < c1; ++k)
          cell(l0 + k, d - (l0 + k));
      });
    }
  }
}

/// The prepared products of every layer: kept across calls (KernelCache)
/// when the weights are graph parameters, which never change.
struct StackGemms : CachedKernel {
  std::unique_ptr<RecurrentGemm<float>> input[kMaxLayers], recurrent[kMaxLayers];
  std::unique_ptr<RecurrentGemm<float>> reset[kMaxLayers]; ///< a reset-first GRU's (r * h_{t-1}) R_h^T
};

/// The cells are (layer, chunk of S steps): a chunk's input projection is
/// one GEMM over its S * B rows (as efficient as the layer-by-layer
/// kernel's), then its steps run one by one. Per layer: the outputs of the
/// last two chunks (by chunk parity: layer l+1 reads chunk c while layer l
/// writes chunk c+1), c, and the gate products.
struct LayerBuffers {
  float *h[2], *c, *xw, *hr, *bias;
  float *xin;      ///< with lengths: the chunk's running rows of the input, one step after the other
  float *gathered; ///< with lengths: the rows of h_{t-1} (or r * h_{t-1}) a step's product takes (runRows)
  int64_t *start;  ///< the row of xw where each step's rows begin
  const float *rbh; ///< GRU: the recurrent bias of the h gate (zeros without bias)
  float *z, *rh;    ///< a reset-first GRU's z and r * h_{t-1} of a step
};

/// The cell of a stack: LSTM (nn.lstm_stack); GRU (nn.gru_stack: 3 gates,
/// no cell state) with linear_before_reset (the h gate's recurrent product
/// h_{t-1} R_h^T and bias taken inside the reset: one product per step) or
/// reset first (the h gate multiplies r * h_{t-1}: a second product per
/// step); simple RNN with tanh or Relu (nn.rnn_stack: one gate).
enum Cell { kLSTM, kGRULinearBeforeReset, kGRUResetFirst, kRNNTanh, kRNNRelu };

constexpr bool isGRU(Cell cell) { return cell == kGRULinearBeforeReset || cell == kGRUResetFirst; }
constexpr bool isRNN(Cell cell) { return cell == kRNNTanh || cell == kRNNRelu; }
constexpr int64_t gatesOf(Cell cell) { return cell == kLSTM ? 4 : isGRU(cell) ? 3 : 1; }
/// The width, in H, of the rows the forward saves for the backward.
constexpr int64_t savedOf(Cell cell) { return isRNN(cell) ? 1 : 4; }
/// The width, in H, of the part of h_{t-1}'s product that takes h_{t-1}
/// itself (a reset-first GRU's h gate takes r * h_{t-1}).
constexpr int64_t recurrentOf(Cell cell) { return cell == kGRUResetFirst ? 2 : gatesOf(cell); }
const char *cellName(Cell cell, bool backward) {
  const char *forward = cell == kLSTM ? "lstm_cells" : isGRU(cell) ? "gru_cells" : "rnn_cells";
  const char *back = cell == kLSTM ? "lstm_cells_backward" : isGRU(cell) ? "gru_cells_backward" : "rnn_cells_backward";
  return backward ? back : forward;
}

template <Cell cell> void stackKernel(const StackArgs &a, Scratch &s, const int64_t *meta, int64_t metaLength) {
  constexpr bool lstm = cell == kLSTM, lbr = cell == kGRULinearBeforeReset, resetFirst = cell == kGRUResetFirst;
  int64_t L = a.layers, T = a.x.dim(0), B = a.x.dim(1), I0 = a.x.dim(2), H = a.hidden, G = gatesOf(cell) * H;
  int64_t S = std::max<int64_t>(1, std::min(a.chunkSteps, T)), chunks = (T + S - 1) / S, tail = T - (chunks - 1) * S;
  LayerBuffers lb[kMaxLayers];
  for (int64_t l = 0; l < L; ++l) {
    lb[l].h[0] = s.alloc<float>(S * B * H);
    lb[l].h[1] = s.alloc<float>(S * B * H);
    lb[l].c = lstm ? s.alloc<float>(B * H) : nullptr; // (only an LSTM has a cell state)
    lb[l].xw = s.alloc<float>(S * B * G);
    lb[l].xin = a.lens.present() ? s.alloc<float>(S * B * (l == 0 ? I0 : H)) : nullptr;
    lb[l].gathered = a.lens.present() ? s.alloc<float>(B * H) : nullptr;
    lb[l].start = s.alloc<int64_t>(S);
    lb[l].hr = s.alloc<float>(B * G);
    lb[l].bias = s.alloc<float>(G);
    lb[l].z = resetFirst ? s.alloc<float>(B * H) : nullptr;
    lb[l].rh = resetFirst ? s.alloc<float>(B * H) : nullptr;
  }
  float *zeros = s.alloc<float>(B * H);
  int64_t *len = s.alloc<int64_t>(B);
  float *xTail = tail != S ? s.alloc<float>(S * B * I0) : nullptr; // the last chunk's x, zero-padded
  GemmScratch<float> gs[kMaxLayers];
  for (int64_t l = 0; l < L; ++l)
    gs[l] = allocGemm<float>(s, G, std::max(I0, H));
  if (s.measuring())
    return;
  std::fill(zeros, zeros + B * H, 0.f);
  rowLengths(a.lens, B, T, len);
  bool allRun = std::all_of(len, len + B, [&](int64_t n) { return n == T; });
  // Each layer's input and recurrent products, weights prepared once per
  // call.
  // (The last chunk runs as a full one on padded rows: one prepared input
  // product per layer.)
  if (xTail) {
    std::fill(xTail, xTail + S * B * I0, 0.f);
    const float *src = a.x.as<float>() + (chunks - 1) * S * B * I0;
    std::copy(src, src + tail * B * I0, xTail);
  }
  auto make = [&] {
    auto g = std::make_unique<StackGemms>();
    for (int64_t l = 0; l < L; ++l) {
      int64_t I = l == 0 ? I0 : H;
      g->input[l] = std::make_unique<RecurrentGemm<float>>(S * B, G, I, a.w[l].as<float>(), I, gs[l]);
      g->recurrent[l] =
          std::make_unique<RecurrentGemm<float>>(B, recurrentOf(cell) * H, H, a.r[l].as<float>(), H, gs[l]);
      g->input[l]->prepareFor(I, G);
      g->recurrent[l]->prepareFor(H, G);
      if (resetFirst) {
        g->reset[l] = std::make_unique<RecurrentGemm<float>>(B, H, H, a.r[l].as<float>() + 2 * H * H, H, gs[l]);
        g->reset[l]->prepareFor(H, G);
      }
    }
    return g;
  };
  std::unique_ptr<StackGemms> own;
  StackGemms *gemms = a.constantWeights
                          ? kernelCache().get<StackGemms>(meta, metaLength, a.w[0].data, make)
                          : (own = make()).get();
  RecurrentGemm<float> *gw[kMaxLayers], *gr[kMaxLayers], *grh[kMaxLayers];
  for (int64_t l = 0; l < L; ++l) {
    gw[l] = gemms->input[l].get();
    gr[l] = gemms->recurrent[l].get();
    grh[l] = gemms->reset[l].get();
    const float *wb = a.b[l].as<float>(), *rb = wb + G;
    for (int64_t g = 0; g < G; ++g) // (with linear_before_reset the h gate takes its recurrent bias inside the reset)
      lb[l].bias[g] = wb[g] + (lbr && g >= 2 * H ? 0.f : rb[g]);
    lb[l].rbh = lbr ? rb + 2 * H : resetFirst ? zeros : nullptr;
    if (lstm && a.c0.present())
      std::copy(a.c0.as<float>() + l * B * H, a.c0.as<float>() + (l + 1) * B * H, lb[l].c);
    else if (lstm)
      std::fill(lb[l].c, lb[l].c + B * H, 0.f);
  }
  float *y = a.y.present() ? a.y.as<float>() : nullptr;
  bool trace = nncc::traceEnabled();
  auto runCell = [&](int64_t l, int64_t c) {
    double start = trace ? nncc::traceNow() : 0;
    LayerBuffers &b = lb[l];
    int64_t I = l == 0 ? I0 : H, t0 = c * S, n = std::min(S, T - t0);
    const float *in = l > 0 ? lb[l - 1].h[c & 1] : (n < S ? xTail : a.x.as<float>() + t0 * B * I0);
    // With lengths, only the rows within them take the input projection
    // (in any order of the lengths), one step's after the other.
    auto runs = [&](int64_t k, int64_t r) { return t0 + k < len[r]; };
    int64_t total = 0;
    for (int64_t k = 0; k < n; ++k)
      for (int64_t r = 0; r < B; ++r)
        total += runs(k, r);
    if (total < S * B && b.xin) {
      gatherRowsThatRun(in, I, B, n, runs, b.xin, b.start);
      gw[l]->run(b.xin, I, b.xw, G, gatheredRows(total, S * B));
    } else {
      for (int64_t k = 0; k < n; ++k)
        b.start[k] = k * B;
      gw[l]->run(in, I, b.xw, G);
    }
    float *out = b.h[c & 1];
    if (a.cells.present()) // the backward starts each chunk from its cell state
      std::copy(b.c, b.c + B * H, a.cells.as<float>() + (l * chunks + c) * B * H);
    const float *h0 = a.h0.present() ? a.h0.as<float>() + l * B * H : zeros;
    for (int64_t k = 0; k < n; ++k) {
      const float *hPrev = k > 0 ? out + (k - 1) * B * H : (c > 0 ? b.h[(c - 1) & 1] + (S - 1) * B * H : h0);
      // (only the rows within their lengths take products)
      auto runsNow = [&](int64_t r) { return runs(k, r); };
      gr[l]->runRows(hPrev, H, b.hr, G, B, runsNow, b.gathered);
      for (int64_t r = 0, j = b.start[k]; r < B; ++r) {
        if (!runs(k, r))
          continue;
        float *xr = b.xw + j++ * G;
        for (int64_t g = 0; g < G; ++g)
          xr[g] += b.bias[g];
        if constexpr (resetFirst) // z and r * h_{t-1}, for the h gate's product
          gruRowGates(H, xr, b.hr + r * G, hPrev + r * H, b.z + r * H, b.rh + r * H, a.clip);
      }
      if constexpr (resetFirst) // (r * h_{t-1}) R_h^T: the h gate's recurrent part
        grh[l]->runRows(b.rh, H, b.hr + 2 * H, G, B, runsNow, b.gathered);
      for (int64_t r = 0, j = b.start[k]; r < B; ++r) {
        float *h = out + (k * B + r) * H;
        // The pre-activations, for the backward (rows of 4H; an RNN's
        // backward needs none but with a clip, whose derivative its outputs
        // do not tell: then rows of H).
        float *saved = a.gates.present() && (!isRNN(cell) || a.clip != kNoClip)
                           ? a.gates.as<float>() + ((l * T + t0 + k) * B + r) * savedOf(cell) * H
                           : nullptr;
        if (t0 + k >= len[r]) { // past the row's length: its states stay (no gradient: zeros saved)
          std::copy(hPrev + r * H, hPrev + (r + 1) * H, h);
          if (saved)
            std::fill(saved, saved + savedOf(cell) * H, 0.f);
          continue;
        }
        float *xr = b.xw + j++ * G;
        const float *hr = b.hr + r * G;
        if (saved) {
          if constexpr (isRNN(cell)) {
            for (int64_t g = 0; g < H; ++g)
              saved[g] = xr[g] + hr[g];
          } else if constexpr (lbr) { // z and r, the h gate's input part, h_{t-1} R_h^T
            for (int64_t g = 0; g < 2 * H; ++g)
              saved[g] = xr[g] + hr[g];
            std::copy(xr + 2 * H, xr + 3 * H, saved + 2 * H);
            std::copy(hr + 2 * H, hr + 3 * H, saved + 3 * H);
          } else { // (a reset-first GRU's 3H gates, then r * h_{t-1})
            for (int64_t g = 0; g < G; ++g)
              saved[g] = xr[g] + hr[g];
            if (resetFirst)
              std::copy(b.rh + r * H, b.rh + (r + 1) * H, saved + 3 * H);
          }
        }
        if constexpr (isGRU(cell)) // h from the previous step's, in place
          std::copy(hPrev + r * H, hPrev + (r + 1) * H, h);
        if constexpr (lbr)
          gruRowLinearBeforeReset(H, xr, hr, b.rbh, h, a.clip);
        else if constexpr (resetFirst)
          gruRowOutput(H, xr, hr + 2 * H, b.rbh, b.z + r * H, h, a.clip);
        else if constexpr (lstm)
          lstmRow(H, xr, hr, nullptr, b.c + r * H, h, a.clip);
        else if constexpr (cell == kRNNTanh)
          rnnRowTanh(H, xr, hr, h, a.clip);
        else
          rnnRowRelu(H, xr, hr, h, a.clip);
      }
    }
    if (l == L - 1) {
      if (y && allRun) // (unread when only the final states are: an encoder's)
        std::copy(out, out + n * B * H, y + t0 * B * H);
      else if (y)
        for (int64_t k = 0; k < n; ++k)
          for (int64_t r = 0; r < B; ++r) { // (zeros past a row's length)
            float *dst = y + ((t0 + k) * B + r) * H;
            if (t0 + k < len[r])
              std::copy(out + (k * B + r) * H, out + (k * B + r + 1) * H, dst);
            else
              std::fill(dst, dst + H, 0.f);
          }
    } else if (a.states.present()) {
      std::copy(out, out + n * B * H, a.states.as<float>() + (l * T + t0) * B * H);
    }
    if (c == chunks - 1 && a.hn.present()) // the final states
      std::copy(out + (n - 1) * B * H, out + n * B * H, a.hn.as<float>() + l * B * H);
    if (c == chunks - 1 && lstm && a.cn.present())
      std::copy(b.c, b.c + B * H, a.cn.as<float>() + l * B * H);
    if (trace)
      nncc::traceTask(cellName(cell, false), l, t0, omp_get_thread_num(), start, nncc::traceNow());
  };
  alongDiagonals(L, chunks, a.maxParallel, runCell);
}

//===----------------------------------------------------------------------===//
// Backward
//===----------------------------------------------------------------------===//

struct StackGradArgs {
  TensorArg x, states, cells, gates, y, dy, dx;
  TensorArg h0, dhn, dcn, dh0, dc0; ///< [L, B, H]: initial states, final states' and initial states' gradients
  TensorArg lens;                   ///< [B]: each row's steps (none: all)
  TensorArg w[kMaxLayers], r[kMaxLayers], b[kMaxLayers], dw[kMaxLayers], dr[kMaxLayers], db[kMaxLayers];
  int64_t layers = 0, hidden = 0, maxParallel = 0, chunkSteps = 1;
  int64_t variant = 0; ///< as StackArgs'
  float clip = kNoClip; ///< as StackArgs'
};

StackGradArgs readStackGrad(Meta &m) {
  StackGradArgs a;
  a.layers = std::min<int64_t>(m.i(), kMaxLayers);
  a.x = m.tensor();
  for (int64_t l = 0; l < a.layers; ++l) {
    a.w[l] = m.tensor();
    a.r[l] = m.tensor();
    a.b[l] = m.tensor();
  }
  a.states = m.tensor();
  a.cells = m.tensor();
  a.gates = m.tensor();
  a.y = m.tensor();
  a.dy = m.tensor();
  a.h0 = m.tensor();
  a.dhn = m.tensor();
  a.dcn = m.tensor();
  a.lens = m.tensor();
  a.dx = m.tensor();
  for (int64_t l = 0; l < a.layers; ++l) {
    a.dw[l] = m.tensor();
    a.dr[l] = m.tensor();
    a.db[l] = m.tensor();
  }
  a.dh0 = m.tensor();
  a.dc0 = m.tensor();
  a.hidden = m.i();
  a.maxParallel = m.i();
  a.chunkSteps = m.i();
  a.variant = m.i();
  a.clip = readClip(m);
  return a;
}

/// With lengths: up to `rows` gathered rows of the inputs (x) and h_{t-1}
/// (h) of gate gradients, for the weight gradients.
struct RunningRows {
  float *x = nullptr, *h = nullptr;
  int64_t rows = 0;
  void alloc(Scratch &s, int64_t n, int64_t I, int64_t H) {
    rows = n;
    x = s.alloc<float>(n * I);
    h = s.alloc<float>(n * H);
  }
};

/// Per layer: the gates of every step (the forward's saved pre-activations,
/// which only this kernel reads: they become the gates' gradients, and the
/// weight gradients are GEMMs over the whole sequence once every cell is
/// done) or, recomputing them, those of a chunk (with its h_{t-1} products
/// and a reset-first GRU's z), the bias gradient's sums, the chunk's cell
/// states (LSTM), the running gradients of h and c
/// (LSTM), a GRU's recurrent share of dh_{t-1} (and a reset-first GRU's
/// d(r * h_{t-1}) of a step), and the dy of its last two
/// chunks (by parity: layer l+1 writes chunk c while layer l reads chunk
/// c+1).
struct LayerGradBuffers {
  float *buf, *cs, *dh, *dc, *dhr, *drh, *dy[2];
  float *hr, *z; ///< recomputing: a chunk's h_{t-1} products, a reset-first GRU's z
  float *gathered;       ///< with lengths: the rows of dA a step's product takes, when not the first ones
  float *kept;           ///< the state gradients of rows past their length (LSTM, RNN)
  float *dac, *dxc;      ///< with lengths: a chunk's running rows of dA and their dX
  int64_t *start;        ///< where each step's rows begin in dac and dxc
  double *dbSum;         ///< the bias gradient's column sums
  RunningRows w;         ///< recomputing, with lengths: a chunk's running rows for the weight gradients
  GemmScratch<float> gs;
};

/// Layer l's [n] slice of `from` ([L, n]) into `to`, or zeros without it.
void startFrom(const TensorArg &from, int64_t l, int64_t n, float *to) {
  if (from.present())
    std::copy(from.as<float>() + l * n, from.as<float>() + (l + 1) * n, to);
  else
    std::fill(to, to + n, 0.f);
}

/// The backward of stacked LSTMs, GRUs or RNNs. LSTMs and GRUs keep rows of
/// 4H per step: an LSTM's four gates; a GRU with linear_before_reset the
/// gradients of z, r, h_{t-1} R_h^T and the h gate (see
/// gruRowBackwardLinearBeforeReset), whose first 3H multiply R; a
/// reset-first GRU those of z, r and the h gate, then r * h_{t-1} (its h
/// gate's gradient multiplies R_h for that of r * h_{t-1}, its first 2H
/// R_zr for dh_{t-1}). An RNN's rows are H: its pre-activation's gradient,
/// from its output h (with a clip: from its saved pre-activation, in place).
template <Cell cell> void stackGradKernel(const StackGradArgs &a, Scratch &s) {
  constexpr bool lstm = cell == kLSTM, gru = isGRU(cell), lbr = cell == kGRULinearBeforeReset,
                 resetFirst = cell == kGRUResetFirst;
  int64_t L = a.layers, T = a.x.dim(0), B = a.x.dim(1), I0 = a.x.dim(2), H = a.hidden, G = savedOf(cell) * H;
  // What multiplies R for dh_{t-1} (with linear_before_reset: [dz, dr,
  // d(h_{t-1} R_h^T)]) and what multiplies W: a reset-first GRU's 3 gates
  // are its first 3H; with linear_before_reset they are 0..2H and 3H..4H.
  int64_t K = (lbr ? 3 : recurrentOf(cell)) * H, KW = gatesOf(cell) * H;
  int64_t S = std::max<int64_t>(1, std::min(a.chunkSteps, T)), chunks = (T + S - 1) / S;
  // Without the forward's pre-activations each cell recomputes its chunk's
  // and adds its share of the weight gradients (in chunk order, last first:
  // the same sums whatever the threads).
  bool recompute = !a.gates.present();
  // A clipped RNN's derivative comes from the saved pre-activations (the
  // verifier asks for them): zero where the clip bound.
  bool clipped = isRNN(cell) && a.clip != kNoClip;
  int64_t sumWidth = resetFirst ? KW : G; // (a reset-first GRU's last H are r * h_{t-1}: no bias)
  LayerGradBuffers lb[kMaxLayers];
  float *zeros = s.alloc<float>(B * H); // h_{-1} without initial states
  // With lengths and the saved pre-activations: the layers' weight
  // gradients (one after the other, once every cell is done) gather blocks
  // of at most kWeightRows running rows.
  constexpr int64_t kWeightRows = 512;
  RunningRows shared;
  if (a.lens.present() && !recompute)
    shared.alloc(s, std::min(T * B, std::max(kWeightRows, B)), std::max(I0, H), H);
  int64_t *len = s.alloc<int64_t>(B);
  for (int64_t l = 0; l < L; ++l) {
    lb[l].cs = lstm ? s.alloc<float>(S * B * H) : nullptr;
    lb[l].dh = s.alloc<float>(B * H);
    lb[l].dc = lstm ? s.alloc<float>(B * H) : nullptr;
    lb[l].dhr = gru ? s.alloc<float>(B * H) : nullptr;
    lb[l].drh = resetFirst ? s.alloc<float>(B * H) : nullptr;
    lb[l].dy[0] = l + 1 < L ? s.alloc<float>(S * B * H) : nullptr;
    lb[l].dy[1] = l + 1 < L ? s.alloc<float>(S * B * H) : nullptr;
    lb[l].buf = recompute ? s.alloc<float>(S * B * G) : nullptr; // (a chunk's; else the saved gates)
    lb[l].gathered = a.lens.present() ? s.alloc<float>(B * G) : nullptr;
    lb[l].kept = a.lens.present() && !gru ? s.alloc<float>(B * H) : nullptr;
    lb[l].dac = a.lens.present() ? s.alloc<float>(S * B * G) : nullptr;
    lb[l].dxc = a.lens.present() ? s.alloc<float>(S * B * (l == 0 ? I0 : H)) : nullptr;
    lb[l].start = s.alloc<int64_t>(S);
    lb[l].hr = recompute && gru ? s.alloc<float>(S * B * 3 * H) : nullptr;
    lb[l].z = recompute && resetFirst ? s.alloc<float>(B * H) : nullptr;
    lb[l].dbSum = a.db[l].present() ? s.alloc<double>(sumWidth) : nullptr;
    if (a.lens.present() && recompute)
      lb[l].w.alloc(s, S * B, l == 0 ? I0 : H, H);
    lb[l].gs = allocGemm<float>(s, std::max(G, std::max(I0, H)), std::max(std::max(G, T * B), std::max(I0, H)));
  }
  if (s.measuring())
    return;
  std::fill(zeros, zeros + B * H, 0.f);
  rowLengths(a.lens, B, T, len);
  // dh_{t-1} = dA_t R (a GRU: its first 3H, or 2H reset first, added to
  // z * dh_t)
  // (a reset-first GRU: d(r * h_{t-1}) = dA_h R_h first)
  std::unique_ptr<RecurrentGemm<float>> back[kMaxLayers], backH[kMaxLayers];
  for (int64_t l = 0; l < L; ++l) {
    LayerGradBuffers &g = lb[l];
    if (!recompute)
      g.buf = a.gates.as<float>() + l * T * B * G;
    back[l] = std::make_unique<RecurrentGemm<float>>(B, H, K, a.r[l].as<float>(), H, g.gs, /*kByN=*/true);
    back[l]->prepareFor(G, H);
    if (resetFirst) {
      backH[l] = std::make_unique<RecurrentGemm<float>>(B, H, H, a.r[l].as<float>() + 2 * H * H, H, g.gs,
                                                        /*kByN=*/true);
      backH[l]->prepareFor(G, H);
    }
    // The state gradients start from those of the final states.
    startFrom(a.dhn, l, B * H, g.dh);
    if (lstm)
      startFrom(a.dcn, l, B * H, g.dc);
  }
  const float *states = a.states.present() ? a.states.as<float>() : nullptr;
  // Layer l's outputs (the top layer's: y) and inputs, from step t0.
  auto outputsOf = [&](int64_t l, int64_t t0) {
    return (l == L - 1 ? a.y.as<float>() : states + l * T * B * H) + t0 * B * H;
  };
  auto inputsOf = [&](int64_t l, int64_t t0) {
    return l == 0 ? a.x.as<float>() + t0 * B * I0 : outputsOf(l - 1, t0);
  };
  // h_{t-1} of row b of layer l at step t (step 0: the initial state, or
  // zeros).
  auto hPrevRow = [&](int64_t l, int64_t t, int64_t b) {
    return t > 0 ? outputsOf(l, t - 1) + b * H : a.h0.present() ? a.h0.as<float>() + (l * B + b) * H : zeros + b * H;
  };
  // Calls product(h, count, row, first) for the h_{t-1} rows of steps
  // [t0, t0 + n) of layer l, which are contiguous but for step 0's: `count`
  // rows from h are those of the chunk's rows from `row` on; `first` says
  // whether it is the first call. Step 0's rows come alone, and not at all
  // without initial states (h_{-1} is zero). Returns whether any call ran.
  auto withPrevious = [&](int64_t l, int64_t t0, int64_t n, auto product) {
    const float *h0 = a.h0.present() ? a.h0.as<float>() + l * B * H : nullptr;
    bool any = false;
    if (t0 == 0 && h0) {
      product(h0, B, 0, !any);
      any = true;
    }
    int64_t from = t0 == 0 ? 1 : 0; // (step 0's h_{-1}: h0 above)
    if (n > from) {
      product(outputsOf(l, t0 + from - 1), (n - from) * B, from * B, !any);
      any = true;
    }
    return any;
  };
  // Row b of step t of layer l's inputs and h_{t-1} into row `at` of w.
  auto gatherInputs = [&](int64_t l, int64_t t, int64_t b, RunningRows &w, int64_t at) {
    int64_t I = l == 0 ? I0 : H;
    std::copy(inputsOf(l, t) + b * I, inputsOf(l, t) + (b + 1) * I, w.x + at * I);
    std::copy(hPrevRow(l, t, b), hPrevRow(l, t, b) + H, w.h + at * H);
  };
  // The chunk's saved rows (see the forward), recomputed into g.buf: x W^T
  // and h_{t-1} R^T over all its rows at once (its h are known), with the
  // biases as the forward added them. An RNN's backward needs none. With
  // lengths only the rows within their lengths: their x and h_{t-1}
  // gathered into g.w, computed one step's after the other, then spread to
  // their places (the other rows are set to zeros before they are read).
  auto recomputeRows = [&](int64_t l, int64_t t0, int64_t n) {
    LayerGradBuffers &g = lb[l];
    int64_t I = l == 0 ? I0 : H, rows = n * B, N = gatesOf(cell) * H;
    const float *W = a.w[l].as<float>(), *R = a.r[l].as<float>(), *wb = a.b[l].as<float>(), *rb = wb + N;
    bool gathered = a.lens.present();
    const float *x = inputsOf(l, t0);
    auto runs = [&](int64_t k, int64_t b) { return t0 + k < len[b]; };
    if (gathered) {
      rows = 0;
      for (int64_t k = 0; k < n; ++k) {
        g.start[k] = rows;
        for (int64_t b = 0; b < B; ++b)
          if (runs(k, b))
            gatherInputs(l, t0 + k, b, g.w, rows++);
      }
      x = g.w.x;
    }
    gemm<float>(false, true, rows, N, I, 1.f, x, I, W, I, 0.f, g.buf, G, g.gs);
    // h_{t-1} R^T: into buf (LSTM), or beside it (GRU: [rows, 3H]; reset
    // first only the z and r gates', whose r the h gate's product needs).
    float *hr = lstm ? g.buf : g.hr;
    int64_t ldh = lstm ? G : 3 * H, width = resetFirst ? 2 * H : N;
    if (gathered) {
      gemm<float>(false, true, rows, width, H, 1.f, g.w.h, H, R, H, lstm ? 1.f : 0.f, hr, ldh, g.gs);
    } else {
      withPrevious(l, t0, n, [&](const float *h, int64_t count, int64_t row, bool) {
        gemm<float>(false, true, count, width, H, 1.f, h, H, R, H, lstm ? 1.f : 0.f, hr + row * ldh, ldh, g.gs);
      });
      if (!lstm && t0 == 0 && !a.h0.present()) // step 0's rows: h_{-1} is zero
        std::fill(hr, hr + B * ldh, 0.f);
    }
    for (int64_t k = 0, row = 0; k < n; ++k) {
      for (int64_t b = 0; b < B; ++b) {
        if (gathered && !runs(k, b))
          continue;
        float *r = g.buf + row * G;
        const float *h = hr + row * ldh;
        ++row;
        if constexpr (lstm) {
          for (int64_t j = 0; j < G; ++j)
            r[j] += wb[j] + rb[j];
        } else if constexpr (lbr) { // z and r, the h gate's input part, h_{t-1} R_h^T
          for (int64_t j = 0; j < 2 * H; ++j)
            r[j] += h[j] + wb[j] + rb[j];
          for (int64_t j = 2 * H; j < 3 * H; ++j)
            r[j] += wb[j];
          std::copy(h + 2 * H, h + 3 * H, r + 3 * H);
        } else { // reset first: r * h_{t-1} into the last H, then the sums
          for (int64_t j = 0; j < N; ++j)
            r[j] += wb[j] + rb[j];
          gruRowGates(H, r, h, hPrevRow(l, t0 + k, b), g.z + b * H, r + 3 * H, a.clip);
          for (int64_t j = 0; j < 2 * H; ++j)
            r[j] += h[j];
        }
      }
    }
    if constexpr (resetFirst) // (r * h_{t-1}) R_h^T, into the h gate's rows
      gemm<float>(false, true, rows, H, H, 1.f, g.buf + 3 * H, G, R + 2 * H * H, H, 1.f, g.buf + 2 * H, G, g.gs);
    if (gathered)
      rowsThatRunToPlaces(g.buf, G, B, n, runs, rows);
  };
  // Layer l's weight gradients of `rows` rows of gate gradients dA (rows of
  // G), their inputs `in` and their h_{t-1} rows `hPrev` (or, without, those
  // of steps [t0, t0 + n): withPrevious), added to the earlier ones (`add`)
  // or not: dW = dA^T X, dR = dA^T H_prev (step 0's h_{t-1} is the initial
  // state), dB = sums of dA (in double). A GRU with linear_before_reset: dW
  // from the z, r and h gates' columns, dR from the first 3H. Reset first:
  // dR_h = dA_h^T (r * H_prev).
  auto gradsOf = [&](int64_t l, const float *dA, int64_t rows, const float *in, const float *hPrev, int64_t t0,
                     int64_t n, bool add) {
    LayerGradBuffers &g = lb[l];
    int64_t I = l == 0 ? I0 : H;
    float beta = add ? 1.f : 0.f;
    if (float *dw = a.dw[l].present() ? a.dw[l].as<float>() : nullptr) {
      if (lbr) {
        gemm<float>(true, false, 2 * H, I, rows, 1.f, dA, G, in, I, beta, dw, I, g.gs);
        gemm<float>(true, false, H, I, rows, 1.f, dA + 3 * H, G, in, I, beta, dw + 2 * H * I, I, g.gs);
      } else {
        gemm<float>(true, false, KW, I, rows, 1.f, dA, G, in, I, beta, dw, I, g.gs);
      }
    }
    if (float *dr = a.dr[l].present() ? a.dr[l].as<float>() : nullptr) {
      if (hPrev)
        gemm<float>(true, false, K, H, rows, 1.f, dA, G, hPrev, H, beta, dr, H, g.gs);
      else if (!withPrevious(l, t0, n, [&](const float *h, int64_t count, int64_t row, bool first) {
                 gemm<float>(true, false, K, H, count, 1.f, dA + row * G, G, h, H, first ? beta : 1.f, dr, H, g.gs);
               }) && !add)
        std::fill(dr, dr + K * H, 0.f); // (one step from zeros)
      if (resetFirst)
        gemm<float>(true, false, H, H, rows, 1.f, dA + 2 * H, G, dA + 3 * H, G, beta, dr + 2 * H * H, H, g.gs);
    }
    if (g.dbSum) {
      // (by column: contiguous reads within a row; each column's rows in
      // order)
      parallelFor(sumWidth, rows, [&](int64_t k0, int64_t k1) {
        for (int64_t k = k0; k < k1; ++k)
          if (!add)
            g.dbSum[k] = 0;
        for (int64_t row = 0; row < rows; ++row)
          for (int64_t k = k0; k < k1; ++k)
            g.dbSum[k] += dA[row * G + k];
      });
    }
  };
  // The weight gradients of steps [t0, t0 + n) of layer l from their gate
  // gradients dA (which they use up). With lengths only the rows within
  // their lengths take part (the others' dA are zeros), a block of at most
  // w.rows rows at a time: their dA move to the block's front, their inputs
  // and h_{t-1} are gathered into w (a recomputed chunk's are there
  // already: recomputeRows gathered them, in the same order).
  auto weightGrads = [&](int64_t l, int64_t t0, int64_t n, float *dA, bool add) {
    if (!a.lens.present())
      return gradsOf(l, dA, n * B, inputsOf(l, t0), nullptr, t0, n, add);
    RunningRows &w = recompute ? lb[l].w : shared;
    bool gathered = recompute && !isRNN(cell);
    int64_t t = t0;
    do {
      float *block = dA + (t - t0) * B * G;
      int64_t rows = 0;
      for (; t < t0 + n; ++t) {
        int64_t m = 0;
        for (int64_t b = 0; b < B; ++b)
          m += t < len[b];
        if (rows + m > w.rows)
          break;
        for (int64_t b = 0; b < B; ++b) {
          if (t >= len[b])
            continue;
          const float *from = dA + ((t - t0) * B + b) * G;
          if (from != block + rows * G) // (rows only move towards the front)
            std::copy(from, from + G, block + rows * G);
          if (!gathered)
            gatherInputs(l, t, b, w, rows);
          ++rows;
        }
      }
      gradsOf(l, block, rows, w.x, w.h, t0, n, add);
      add = true;
    } while (t < t0 + n);
  };
  bool trace = nncc::traceEnabled();
  auto runCell = [&](int64_t l, int64_t c) {
    double start = trace ? nncc::traceNow() : 0;
    LayerGradBuffers &g = lb[l];
    int64_t I = l == 0 ? I0 : H, t0 = c * S, n = std::min(S, T - t0), rows = n * B;
    const float *W = a.w[l].as<float>();
    // The chunk's saved pre-activations (an RNN: none saved), or recomputed
    float *buf = recompute ? g.buf : g.buf + t0 * B * G;
    if (recompute && !isRNN(cell))
      recomputeRows(l, t0, n);
    // An LSTM's cell states: the chunk's steps run forward again from its
    // first cell state. A GRU's state is h, which y (states) holds.
    const float *c0 = lstm ? a.cells.as<float>() + (l * chunks + c) * B * H : nullptr;
    auto cPrevOf = [&](int64_t k, int64_t b) { return k > 0 ? g.cs + ((k - 1) * B + b) * H : c0 + b * H; };
    const float *hs = outputsOf(l, 0);
    auto hPrevOf = [&](int64_t k, int64_t b) { return hPrevRow(l, t0 + k, b); };
    const float *rbh = lbr ? a.b[l].as<float>() + 5 * H : nullptr; // Rb_h
    // Past a row's length its states stay (the cell state too) and its
    // steps pass the state gradients through: no gate gradients, no dy.
    auto runs = [&](int64_t k, int64_t b) { return t0 + k < len[b]; };
    if constexpr (lstm) {
      for (int64_t k = 0; k < n; ++k)
        for (int64_t b = 0; b < B; ++b)
          if (runs(k, b))
            lstmRowTrain(H, buf + (k * B + b) * G, nullptr, cPrevOf(k, b), g.cs + (k * B + b) * H, a.clip);
          else
            std::copy(cPrevOf(k, b), cPrevOf(k, b) + H, g.cs + (k * B + b) * H);
    }
    for (int64_t k = n - 1; k >= 0; --k) {
      // (only the rows within their lengths take products; the others' dh
      // stays)
      auto runsNow = [&](int64_t b) { return runs(k, b); };
      for (int64_t b = 0; b < B; ++b) {
        if (!runs(k, b)) {
          std::fill(buf + (k * B + b) * G, buf + (k * B + b + 1) * G, 0.f);
          continue;
        }
        // (no dy: only the final states were read)
        const float *dyr = l < L - 1         ? g.dy[c & 1] + (k * B + b) * H
                           : a.dy.present() ? a.dy.as<float>() + ((t0 + k) * B + b) * H
                                            : nullptr;
        float *dh = g.dh + b * H;
        for (int64_t j = 0; dyr && j < H; ++j)
          dh[j] += dyr[j];
        if constexpr (lbr)
          gruRowBackwardLinearBeforeReset(H, buf + (k * B + b) * G, rbh, hPrevOf(k, b), dh, a.clip);
        else if constexpr (resetFirst) // dz and dh gate; dr once d(r * h_{t-1}) is known
          gruRowBackwardOutput(H, buf + (k * B + b) * G, hPrevOf(k, b), dh, a.clip);
        else if constexpr (cell == kRNNTanh)
          clipped ? rnnRowTanhBackwardInPlace(H, buf + (k * B + b) * G, dh, a.clip)
                  : rnnRowTanhBackward(H, hs + ((t0 + k) * B + b) * H, dh, buf + (k * B + b) * G);
        else if constexpr (cell == kRNNRelu)
          clipped ? rnnRowReluBackwardInPlace(H, buf + (k * B + b) * G, dh, a.clip)
                  : rnnRowReluBackward(H, hs + ((t0 + k) * B + b) * H, dh, buf + (k * B + b) * G);
        else
          lstmRowBackward(H, buf + (k * B + b) * G, nullptr, cPrevOf(k, b), g.cs + (k * B + b) * H, dh,
                          g.dc + b * H, nullptr, a.clip);
      }
      if constexpr (resetFirst) {
        backH[l]->runRows(buf + k * B * G + 2 * H, G, g.drh, H, B, runsNow, g.gathered);
        for (int64_t b = 0; b < B; ++b)
          if (runs(k, b))
            gruRowBackwardGates(H, buf + (k * B + b) * G, hPrevOf(k, b), g.drh + b * H, g.dh + b * H, a.clip);
      }
      if constexpr (gru) { // (rows past their length: dA R is zero)
        back[l]->runRows(buf + k * B * G, G, g.dhr, H, B, runsNow, g.gathered);
        for (int64_t b = 0; b < B; ++b)
          for (int64_t j = 0; runs(k, b) && j < H; ++j)
            g.dh[b * H + j] += g.dhr[b * H + j];
      } else {
        // dh_{t-1} = dA R replaces dh, but a row past its length keeps its
        // dh (kept aside: the products may pass through its row)
        for (int64_t b = 0; g.kept && b < B; ++b)
          if (!runs(k, b))
            std::copy(g.dh + b * H, g.dh + (b + 1) * H, g.kept + b * H);
        back[l]->runRows(buf + k * B * G, G, g.dh, H, B, runsNow, g.gathered);
        for (int64_t b = 0; g.kept && b < B; ++b)
          if (!runs(k, b))
            std::copy(g.kept + b * H, g.kept + (b + 1) * H, g.dh + b * H);
      }
    }
    // The chunk's dX: the dy of the layer below (or the stack's dX). With
    // linear_before_reset a GRU's gates z, r and h are its columns 0..2H
    // and 3H..4H.
    float *dx = l > 0 ? lb[l - 1].dy[c & 1] : a.dx.present() ? a.dx.as<float>() + t0 * B * I0 : nullptr;
    // With lengths, only the rows within their lengths (one step's after
    // the other); the others' dX is zero.
    int64_t within = 0;
    for (int64_t k = 0; k < n; ++k)
      for (int64_t b = 0; b < B; ++b)
        within += runs(k, b);
    bool compact = dx && g.dac && within < rows;
    const float *dA = buf;
    float *dxTo = dx;
    if (compact) {
      gatherRowsThatRun(buf, G, B, n, runs, g.dac, g.start);
      dA = g.dac;
      dxTo = g.dxc;
    }
    int64_t dxRows = compact ? within : rows;
    if (dx && lbr) {
      gemm<float>(false, false, dxRows, I, 2 * H, 1.f, dA, G, W, I, 0.f, dxTo, I, g.gs);
      gemm<float>(false, false, dxRows, I, H, 1.f, dA + 3 * H, G, W + 2 * H * I, I, 1.f, dxTo, I, g.gs);
    } else if (dx) {
      gemm<float>(false, false, dxRows, I, KW, 1.f, dA, G, W, I, 0.f, dxTo, I, g.gs);
    }
    if (compact)
      for (int64_t k = 0, row = 0; k < n; ++k)
        for (int64_t b = 0; b < B; ++b) {
          float *to = dx + (k * B + b) * I;
          if (runs(k, b))
            std::copy(g.dxc + row * I, g.dxc + (row + 1) * I, to), ++row;
          else
            std::fill(to, to + I, 0.f);
        }
    if (recompute) // the chunk's share (the last chunk comes first)
      weightGrads(l, t0, n, buf, /*add=*/c < chunks - 1);
    if (trace)
      nncc::traceTask(cellName(cell, true), l, t0, omp_get_thread_num(), start, nncc::traceNow());
  };
  // Reverse diagonals: the top layer's last chunk first.
  alongDiagonals(L, chunks, a.maxParallel, [&](int64_t l, int64_t c) { runCell(L - 1 - l, chunks - 1 - c); });
  // The initial states' gradients are those of h_{-1} and c_{-1}. With the
  // saved pre-activations, the weight gradients are one GEMM over all steps
  // each (every thread). (The bottom layer's cells compute no dX, so one
  // thread of each full diagonal waits. Adding that layer's dW chunk by
  // chunk in its cells instead, a product of the same size as the other
  // cells' dX, measured no faster on the 4-layer LSTM: 168-176 ms per
  // training step either way over 4 alternating rounds; each cell's
  // [2048 x 64] x [64 x 512] product reads and writes all of dW.)
  for (int64_t l = 0; l < L; ++l) {
    LayerGradBuffers &g = lb[l];
    if (a.dh0.present())
      std::copy(g.dh, g.dh + B * H, a.dh0.as<float>() + l * B * H);
    if (lstm && a.dc0.present())
      std::copy(g.dc, g.dc + B * H, a.dc0.as<float>() + l * B * H);
    if (!recompute)
      weightGrads(l, 0, T, g.buf, /*add=*/false);
    if (!a.db[l].present())
      continue;
    float *db = a.db[l].as<float>();
    for (int64_t k = 0; k < sumWidth; ++k) {
      float sum = (float)g.dbSum[k];
      if (!lbr)
        db[k] = db[KW + k] = sum; // Rb: as Wb (LSTM, RNN, reset-first GRU)
      else if (k < 2 * H) // z, r: Wb and Rb alike
        db[k] = db[3 * H + k] = sum;
      else if (k < 3 * H) // h_{t-1} R_h^T + Rb_h: Rb_h
        db[3 * H + k] = sum;
      else // the h gate: Wb_h
        db[k - H] = sum;
    }
  }
}

/// The kernels' three cell families; the variant in the meta picks the
/// cell (a GRU's linear_before_reset, an RNN's Relu).
enum Family { kLSTMs, kGRUs, kRNNs };

/// Calls f with the cell as a compile-time constant.
template <typename F> void withCell(Family family, int64_t variant, F f) {
  if (family == kLSTMs)
    f(std::integral_constant<Cell, kLSTM>());
  else if (family == kGRUs && variant)
    f(std::integral_constant<Cell, kGRULinearBeforeReset>());
  else if (family == kGRUs)
    f(std::integral_constant<Cell, kGRUResetFirst>());
  else if (variant)
    f(std::integral_constant<Cell, kRNNRelu>());
  else
    f(std::integral_constant<Cell, kRNNTanh>());
}

/// Runs a stack (buffers) or measures its scratch (null buffers).
int64_t stack(const int64_t *meta, void *const *buffers, Family family) {
  Meta m(meta, buffers);
  StackArgs a = readStack(m);
  Scratch s = buffers ? m.scratch() : Scratch();
  int64_t metaLength = buffers ? m.consumed() : 0;
  withCell(family, a.variant, [&](auto cell) { stackKernel<decltype(cell)::value>(a, s, meta, metaLength); });
  return (int64_t)s.bytes();
}

/// Runs a stack's backward (buffers) or measures its scratch (null buffers).
int64_t stackGrad(const int64_t *meta, void *const *buffers, Family family) {
  Meta m(meta, buffers);
  StackGradArgs a = readStackGrad(m);
  Scratch s = buffers ? m.scratch() : Scratch();
  withCell(family, a.variant, [&](auto cell) { stackGradKernel<decltype(cell)::value>(a, s); });
  return (int64_t)s.bytes();
}
} // namespace

/// A kernel and its scratch measure, both by `run` for `family`.
#define NNCC_STACK_KERNEL(name, run, family)                                                       \
  extern "C" NNCC_KERNEL(name) { run(meta, buffers, family); }                                     \
  NNCC_SCRATCH(name) { return run(meta, nullptr, family); }

NNCC_STACK_KERNEL(nncc_lstm_stack, stack, kLSTMs)
NNCC_STACK_KERNEL(nncc_gru_stack, stack, kGRUs)
NNCC_STACK_KERNEL(nncc_rnn_stack, stack, kRNNs)
NNCC_STACK_KERNEL(nncc_lstm_stack_grad, stackGrad, kLSTMs)
NNCC_STACK_KERNEL(nncc_gru_stack_grad, stackGrad, kGRUs)
NNCC_STACK_KERNEL(nncc_rnn_stack_grad, stackGrad, kRNNs)
#undef NNCC_STACK_KERNEL
