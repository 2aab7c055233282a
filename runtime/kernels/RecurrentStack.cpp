//===- RecurrentStack.cpp - stacked LSTMs as a wavefront of cells ---------===//
//
// nn.lstm_stack (passes/StackRecurrent.cpp): L forward LSTM layers, layer l's
// h_t the input of layer l+1 at step t. A cell is (layer l, chunk c of a few
// steps, 64 rows of steps x batch); cell (l, c) needs (l, c-1) and (l-1, c),
// so the cells of one diagonal l + c = d are independent: they run at the
// same time on the thread pool, each on one thread (its GEMMs
// single-threaded), at most `max_parallel` at once. Layer l+1's chunk c thus
// overlaps layer l's chunk c+1, and no layer's whole output sequence is ever
// stored: each layer keeps its last two chunks of hidden states and its cell
// state. Host only (bundles run the layers one by one).
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

using namespace nncc::kernels;

namespace {

constexpr int kMaxLayers = 32;
/// Rows (steps x batch) of a cell: its input projection is one GEMM of this
/// many rows.
constexpr int64_t kChunkRows = 64;

struct StackArgs {
  TensorArg x, y;
  TensorArg w[kMaxLayers], r[kMaxLayers], b[kMaxLayers];
  int64_t layers = 0, hidden = 0, maxParallel = 0;
  bool constantWeights = false;
};

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
  a.hidden = m.i();
  a.maxParallel = m.i();
  a.constantWeights = m.i();
  return a;
}

/// The prepared products of every layer: kept across calls (KernelCache)
/// when the weights are graph parameters, which never change.
struct StackGemms : CachedKernel {
  std::unique_ptr<RecurrentGemm<float>> input[kMaxLayers], recurrent[kMaxLayers];
};

/// The cells are (layer, chunk of S steps): a chunk's input projection is
/// one GEMM over its S * B rows (as efficient as the layer-by-layer
/// kernel's), then its steps run one by one. Per layer: the outputs of the
/// last two chunks (by chunk parity: layer l+1 reads chunk c while layer l
/// writes chunk c+1), c, and the gate products.
struct LayerBuffers {
  float *h[2], *c, *xw, *hr, *bias;
};

int64_t chunkSteps(int64_t T, int64_t B) { return std::max<int64_t>(1, std::min<int64_t>(T, kChunkRows / std::max<int64_t>(B, 1))); }

void stackKernel(const StackArgs &a, Scratch &s, const int64_t *meta, int64_t metaLength) {
  int64_t L = a.layers, T = a.x.dim(0), B = a.x.dim(1), I0 = a.x.dim(2), H = a.hidden, G = 4 * H;
  int64_t S = chunkSteps(T, B), chunks = (T + S - 1) / S, tail = T - (chunks - 1) * S;
  LayerBuffers lb[kMaxLayers];
  for (int64_t l = 0; l < L; ++l) {
    lb[l].h[0] = s.alloc<float>(S * B * H);
    lb[l].h[1] = s.alloc<float>(S * B * H);
    lb[l].c = s.alloc<float>(B * H);
    lb[l].xw = s.alloc<float>(S * B * G);
    lb[l].hr = s.alloc<float>(B * G);
    lb[l].bias = s.alloc<float>(G);
  }
  float *zeros = s.alloc<float>(B * H);
  float *xTail = tail != S ? s.alloc<float>(S * B * I0) : nullptr; // the last chunk's x, zero-padded
  GemmScratch<float> gs[kMaxLayers];
  for (int64_t l = 0; l < L; ++l)
    gs[l] = allocGemm<float>(s, G, std::max(I0, H));
  if (s.measuring())
    return;
  std::fill(zeros, zeros + B * H, 0.f);
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
      g->recurrent[l] = std::make_unique<RecurrentGemm<float>>(B, G, H, a.r[l].as<float>(), H, gs[l]);
    }
    return g;
  };
  std::unique_ptr<StackGemms> own;
  StackGemms *gemms = a.constantWeights
                          ? kernelCache().get<StackGemms>(meta, metaLength, a.w[0].data, make)
                          : (own = make()).get();
  RecurrentGemm<float> *gw[kMaxLayers], *gr[kMaxLayers];
  for (int64_t l = 0; l < L; ++l) {
    gw[l] = gemms->input[l].get();
    gr[l] = gemms->recurrent[l].get();
    const float *wb = a.b[l].as<float>(), *rb = wb + G;
    for (int64_t g = 0; g < G; ++g)
      lb[l].bias[g] = wb[g] + rb[g];
    std::fill(lb[l].c, lb[l].c + B * H, 0.f);
  }
  float *y = a.y.as<float>();
  bool trace = nncc::traceEnabled();
  auto cell = [&](int64_t l, int64_t c) {
    double start = trace ? nncc::traceNow() : 0;
    LayerBuffers &b = lb[l];
    int64_t I = l == 0 ? I0 : H, t0 = c * S, n = std::min(S, T - t0);
    const float *in = l > 0 ? lb[l - 1].h[c & 1] : (n < S ? xTail : a.x.as<float>() + t0 * B * I0);
    gw[l]->run(in, I, b.xw, G);
    float *out = b.h[c & 1];
    for (int64_t k = 0; k < n; ++k) {
      const float *hPrev = k > 0 ? out + (k - 1) * B * H : (c > 0 ? b.h[(c - 1) & 1] + (S - 1) * B * H : zeros);
      gr[l]->run(hPrev, H, b.hr, G);
      for (int64_t r = 0; r < B; ++r) {
        float *xr = b.xw + (k * B + r) * G;
        for (int64_t g = 0; g < G; ++g)
          xr[g] += b.bias[g];
        lstmRow(H, xr, b.hr + r * G, nullptr, b.c + r * H, out + (k * B + r) * H);
      }
    }
    if (l == L - 1)
      std::copy(out, out + n * B * H, y + t0 * B * H);
    if (trace)
      nncc::traceTask("lstm_cells", l, t0, omp_get_thread_num(), start, nncc::traceNow());
  };
  int64_t width = a.maxParallel > 0 ? a.maxParallel : std::max(1, omp_get_max_threads());
  for (int64_t d = 0; d < L + chunks - 1; ++d) {
    int64_t lFirst = std::max<int64_t>(0, d - (chunks - 1)), lLast = std::min<int64_t>(L - 1, d);
    for (int64_t l0 = lFirst; l0 <= lLast; l0 += width) {
      int64_t n = std::min<int64_t>(width, lLast - l0 + 1);
      if (n == 1) {
        cell(l0, d - l0); // alone: its GEMMs may use every thread
        continue;
      }
      parallelFor(n, 1 << 20, [&](int64_t c0, int64_t c1) {
        for (int64_t k = c0; k < c1; ++k)
          cell(l0 + k, d - (l0 + k));
      });
    }
  }
}

} // namespace

extern "C" NNCC_KERNEL(nncc_lstm_stack) {
  Meta m(meta, buffers);
  StackArgs a = readStack(m);
  Scratch s = m.scratch();
  stackKernel(a, s, meta, m.consumed());
}

NNCC_SCRATCH(nncc_lstm_stack) {
  Meta m(meta, nullptr);
  StackArgs a = readStack(m);
  Scratch s;
  stackKernel(a, s, meta, 0);
  return (int64_t)s.bytes();
}
