//===- kernels.cpp - runtime kernel microbenchmarks (Google Benchmark) ----===//
//
// The host kernels nncc calls, on the shapes of the shared models, against
// the libraries' own entry points on the same shapes: OpenBLAS cblas_sgemm
// and oneDNN dnnl_sgemm for matrix products (their GFLOP/s is the machine's
// practical peak). Every benchmark takes the thread count as its last
// argument; counters: GFLOP/s (2 x multiply-adds per second).
//
//   build/benchmarks/nncc-kernel-bench [--benchmark_filter=Conv]
//
//===----------------------------------------------------------------------===//
#include "runtime/Threads.h"
#include "runtime/kernels/KernelCache.h"
#include "runtime/kernels/Kernels.h"
#include "runtime/kernels/Parallel.h"
#include "runtime/kernels/RecurrentGemm.h"

#include "oneapi/dnnl/dnnl.h"
#include <benchmark/benchmark.h>
#include <cblas.h>
#include <immintrin.h>

#include <cstring>
#include <memory>
#include <random>
#include <vector>

namespace {

std::vector<float> randomFloats(size_t n, unsigned seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> d(-1, 1);
  std::vector<float> v(n);
  for (auto &x : v)
    x = d(rng);
  return v;
}

/// Meta writer: tensors as (dtype 1 = float32, rank, dims...).
struct MetaBuilder {
  std::vector<int64_t> m;
  MetaBuilder &tensor(std::initializer_list<int64_t> shape) {
    m.push_back(1);
    m.push_back((int64_t)shape.size());
    m.insert(m.end(), shape.begin(), shape.end());
    return *this;
  }
  MetaBuilder &none() { return i(0); }
  MetaBuilder &i(int64_t v) {
    m.push_back(v);
    return *this;
  }
  MetaBuilder &ints(std::initializer_list<int64_t> v) {
    m.push_back((int64_t)v.size());
    m.insert(m.end(), v.begin(), v.end());
    return *this;
  }
  MetaBuilder &f(double v) {
    int64_t bits;
    std::memcpy(&bits, &v, 8);
    return i(bits);
  }
};

void setThreads(benchmark::State &state, int arg) {
  int threads = (int)state.range(arg);
  nncc::setNumThreads(threads);
  openblas_set_num_threads(threads);
  state.SetLabel(std::to_string(threads) + (threads == 1 ? " thread" : " threads"));
}

void flops(benchmark::State &state, double perIteration) {
  state.counters["GFLOP/s"] =
      benchmark::Counter(perIteration, benchmark::Counter::kIsIterationInvariantRate, benchmark::Counter::kIs1000);
}

/// Runs a kernel with the scratch it asks for.
void runKernel(benchmark::State &state, void (*kernel)(const int64_t *, void *const *),
               int64_t (*scratchFn)(const int64_t *), std::vector<int64_t> meta, std::vector<void *> buffers) {
  std::vector<uint8_t> scratch;
  int64_t bytes = scratchFn ? scratchFn(meta.data()) : 0;
  if (bytes > 0) {
    scratch.resize(bytes + 64);
    meta.insert(meta.end(), {2, 1, bytes});
    buffers.push_back(scratch.data());
  } else {
    meta.push_back(0);
  }
  nncc_kernel_cache_clear();
  kernel(meta.data(), buffers.data()); // creates the primitive, reorders weights
  for (auto _ : state)
    kernel(meta.data(), buffers.data());
}

} // namespace

extern "C" int64_t nncc_matmul_scratch(const int64_t *);
extern "C" int64_t nncc_conv_scratch(const int64_t *);
extern "C" int64_t nncc_lstm_scratch(const int64_t *);

//===----------------------------------------------------------------------===//
// Matrix products: M, N, K, threads
//===----------------------------------------------------------------------===//

// nncc_matmul with constant weights (oneDNN matmul, weights prepacked once).
static void BM_NnccMatMul(benchmark::State &state) {
  int64_t M = state.range(0), N = state.range(1), K = state.range(2);
  setThreads(state, 3);
  auto a = randomFloats(M * K, 1), b = randomFloats(K * N, 2);
  std::vector<float> y(M * N);
  MetaBuilder meta;
  meta.tensor({M, K}).tensor({K, N}).tensor({M, N}).none().i(1).i(0);
  runKernel(state, nncc_matmul, nncc_matmul_scratch, meta.m, {a.data(), b.data(), y.data()});
  flops(state, 2.0 * M * N * K);
}

static void BM_OpenBlasSgemm(benchmark::State &state) {
  int64_t M = state.range(0), N = state.range(1), K = state.range(2);
  setThreads(state, 3);
  auto a = randomFloats(M * K, 1), b = randomFloats(K * N, 2);
  std::vector<float> y(M * N);
  for (auto _ : state)
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, M, N, K, 1.f, a.data(), K, b.data(), N, 0.f, y.data(), N);
  flops(state, 2.0 * M * N * K);
}

static void BM_DnnlSgemm(benchmark::State &state) {
  int64_t M = state.range(0), N = state.range(1), K = state.range(2);
  setThreads(state, 3);
  auto a = randomFloats(M * K, 1), b = randomFloats(K * N, 2);
  std::vector<float> y(M * N);
  for (auto _ : state)
    dnnl_sgemm('N', 'N', M, N, K, 1.f, a.data(), K, b.data(), N, 0.f, y.data(), N);
  flops(state, 2.0 * M * N * K);
}

// The shared models' products: the MLP's first layer, a transformer FFN
// layer, the LSTM LM's decoder, one LSTM step; then a square reference.
#define GEMM_SHAPES(B)                                                                                         \
  B->ArgNames({"M", "N", "K", "threads"})                                                                       \
      ->Args({64, 512, 784, 1})->Args({256, 1024, 256, 1})->Args({280, 10000, 512, 1})->Args({8, 2048, 512, 1})  \
      ->Args({1024, 1024, 1024, 1})->Args({256, 1024, 256, 2})->Args({1024, 1024, 1024, 2})                     \
      ->Unit(benchmark::kMicrosecond)->UseRealTime()
GEMM_SHAPES(BENCHMARK(BM_NnccMatMul));
GEMM_SHAPES(BENCHMARK(BM_DnnlSgemm));
GEMM_SHAPES(BENCHMARK(BM_OpenBlasSgemm));

//===----------------------------------------------------------------------===//
// Convolutions: C, H (= W), M, kernel, stride, group, layout, threads
//===----------------------------------------------------------------------===//

static void BM_NnccConv(benchmark::State &state) {
  int64_t C = state.range(0), H = state.range(1), M = state.range(2), K = state.range(3), S = state.range(4),
          G = state.range(5), layout = state.range(6);
  setThreads(state, 7);
  int64_t P = K / 2, OH = (H + 2 * P - K) / S + 1;
  auto x = randomFloats(C * H * H, 3), w = randomFloats(M * (C / G) * K * K, 4), b = randomFloats(M, 5);
  std::vector<float> y(M * OH * OH);
  MetaBuilder meta;
  if (layout == 1)
    meta.tensor({1, H, H, C});
  else if (layout == 2)
    meta.tensor({1, C / 16, H, H, 16});
  else
    meta.tensor({1, C, H, H});
  meta.tensor({M, C / G, K, K}).tensor({M});
  if (layout == 1)
    meta.tensor({1, OH, OH, M});
  else if (layout == 2)
    meta.tensor({1, M / 16, OH, OH, 16});
  else
    meta.tensor({1, M, OH, OH});
  meta.i(G).ints({S, S}).ints({P, P, P, P}).ints({1, 1}).i(1).i(layout).i(1).i(1).f(0).f(0).none();
  runKernel(state, nncc_conv, nncc_conv_scratch, meta.m, {x.data(), w.data(), b.data(), y.data()});
  flops(state, 2.0 * M * OH * OH * (C / G) * K * K);
}
// ResNet-18's 3x3 layers channels-last (direct) and blocked (Winograd), its
// strided and 1x1 downsampling convs, MobileNetV2's depthwise and pointwise
// convs, SqueezeNet's expand 3x3.
BENCHMARK(BM_NnccConv)
    ->ArgNames({"C", "H", "M", "k", "s", "g", "layout", "threads"})
    ->Args({64, 56, 64, 3, 1, 1, 1, 1})->Args({64, 56, 64, 3, 1, 1, 2, 1})
    ->Args({256, 14, 256, 3, 1, 1, 1, 1})->Args({256, 14, 256, 3, 1, 1, 2, 1})
    ->Args({64, 56, 128, 3, 2, 1, 1, 1})->Args({64, 56, 128, 1, 2, 1, 1, 1})
    ->Args({144, 56, 144, 3, 1, 144, 1, 1})->Args({144, 56, 24, 1, 1, 1, 1, 1})
    ->Args({32, 27, 128, 3, 1, 1, 1, 1})
    ->Args({64, 56, 64, 3, 1, 1, 1, 2})->Args({64, 56, 64, 3, 1, 1, 2, 2})
    ->Unit(benchmark::kMicrosecond)->UseRealTime();

//===----------------------------------------------------------------------===//
// LSTM layer: T, B, I, H, threads (the LSTM LM's layers)
//===----------------------------------------------------------------------===//

static void BM_NnccLSTM(benchmark::State &state) {
  int64_t T = state.range(0), B = state.range(1), I = state.range(2), H = state.range(3);
  setThreads(state, 4);
  auto x = randomFloats(T * B * I, 6), w = randomFloats(4 * H * I, 7), r = randomFloats(4 * H * H, 8),
       bias = randomFloats(8 * H, 9);
  for (auto *v : {&w, &r})
    for (float &e : *v)
      e *= 0.05f;
  std::vector<float> y(T * B * H);
  MetaBuilder meta;
  meta.tensor({T, B, I}).tensor({1, 4 * H, I}).tensor({1, 4 * H, H}).tensor({1, 8 * H}).none().none();
  meta.none().none().tensor({T, 1, B, H}).none().none();
  meta.i(H).i(0).i(3).i(2).f(0).f(0).i(1).f(0).f(0).i(1).f(0).f(0).i(0).f(0).i(0);
  // R not constant, no checkpoints (segment steps 0), no saved gates, not
  // marked to run directions at once (one direction anyway)
  meta.i(0).none().i(0).none().i(0);
  runKernel(state, nncc_lstm, nncc_lstm_scratch, meta.m, {x.data(), w.data(), r.data(), bias.data(), y.data()});
  flops(state, 2.0 * T * B * 4 * H * (I + H));
}
BENCHMARK(BM_NnccLSTM)
    ->ArgNames({"T", "B", "I", "H", "threads"})
    ->Args({35, 8, 256, 512, 1})->Args({35, 8, 512, 512, 1})->Args({35, 8, 512, 512, 2})
    ->Unit(benchmark::kMicrosecond)->UseRealTime();

//===----------------------------------------------------------------------===//
// One recurrent step's product h R^T: M (batch), N (gates x hidden), K
// (hidden), threads, independent. independent = 0: one product split over
// the threads (layer-by-layer execution); 1: one product per thread, each
// with its own weights, one thread each (the wavefront's cells of different
// layers at once). GFLOP/s counts every thread's products.
//===----------------------------------------------------------------------===//

static void BM_RecurrentStep(benchmark::State &state) {
  int64_t M = state.range(0), N = state.range(1), K = state.range(2);
  int threads = (int)state.range(3);
  bool independent = state.range(4);
  setThreads(state, 3);
  int copies = independent ? threads : 1;
  std::vector<std::vector<float>> h, w, y;
  std::vector<std::unique_ptr<nncc::kernels::RecurrentGemm<float>>> products;
  std::vector<std::vector<uint8_t>> scratch;
  for (int c = 0; c < copies; ++c) {
    h.push_back(randomFloats(M * K, 10 + c));
    w.push_back(randomFloats(N * K, 20 + c));
    y.emplace_back(M * N);
    nncc::kernels::GemmScratch<float> gs; // oneDNN's matmul needs none on the host
    products.push_back(std::make_unique<nncc::kernels::RecurrentGemm<float>>(M, N, K, w[c].data(), K, gs));
  }
  auto step = [&](int c) { products[c]->run(h[c].data(), K, y[c].data(), N); };
  for (auto _ : state) {
    if (!independent)
      step(0);
    else
      nncc::kernels::parallelFor(copies, 1 << 20, [&](int64_t c0, int64_t c1) {
        for (int64_t c = c0; c < c1; ++c)
          step((int)c);
      });
  }
  flops(state, 2.0 * M * N * K * copies);
}
// The wavefront benchmark's layers: batch 8, hidden 512.
BENCHMARK(BM_RecurrentStep)
    ->ArgNames({"M", "N", "K", "threads", "independent"})
    ->Args({8, 2048, 512, 1, 0})->Args({8, 2048, 512, 2, 0})->Args({8, 2048, 512, 2, 1})
    ->Unit(benchmark::kMicrosecond)->UseRealTime();

//===----------------------------------------------------------------------===//
// The machine's arithmetic peak: threads
//
// Independent fused multiply-adds in registers, no memory traffic: no kernel,
// and no schedule of kernels, computes faster than this. With threads 1 and
// 2 it bounds what running work side by side can gain (wavefront.py).
//===----------------------------------------------------------------------===//

namespace {

/// 12 independent chains of `iters` FMAs (a = a * m + c) on the widest
/// vectors the CPU has; returns the FLOPs done.
#define NNCC_FMA_CHAINS(V, set1, fmadd, add, lanes)                                                              \
  V a[12], m = set1(0.9999f), c = set1(1e-5f);                                                                 \
  for (int i = 0; i < 12; ++i)                                                                                 \
    a[i] = set1(1.0f + 1e-3f * i);                                                                             \
  for (int64_t k = 0; k < iters; ++k)                                                                          \
    for (int i = 0; i < 12; ++i)                                                                               \
      a[i] = fmadd(a[i], m, c);                                                                                \
  V s = a[0];                                                                                                  \
  for (int i = 1; i < 12; ++i)                                                                                 \
    s = add(s, a[i]);                                                                                          \
  float out[lanes];                                                                                            \
  std::memcpy(out, &s, sizeof out);                                                                            \
  *sink = out[0];                                                                                              \
  return 12.0 * 2 * lanes * iters;

__attribute__((target("avx512f"))) double fma512(int64_t iters, float *sink) {
  NNCC_FMA_CHAINS(__m512, _mm512_set1_ps, _mm512_fmadd_ps, _mm512_add_ps, 16)
}
__attribute__((target("avx2,fma"))) double fma256(int64_t iters, float *sink) {
  NNCC_FMA_CHAINS(__m256, _mm256_set1_ps, _mm256_fmadd_ps, _mm256_add_ps, 8)
}
#undef NNCC_FMA_CHAINS

} // namespace

static void BM_PeakFma(benchmark::State &state) {
  int threads = (int)state.range(0);
  setThreads(state, 0);
  if (!__builtin_cpu_supports("fma")) {
    state.SkipWithError("no FMA instructions on this CPU");
    return;
  }
  double (*chains)(int64_t, float *) = __builtin_cpu_supports("avx512f") ? fma512 : fma256;
  const int64_t iters = 1 << 20;
  std::vector<float> sinks(threads * 16);
  std::vector<double> done(threads);
  for (auto _ : state)
    nncc::kernels::parallelFor(threads, 1 << 20, [&](int64_t t0, int64_t t1) {
      for (int64_t t = t0; t < t1; ++t)
        done[t] = chains(iters, &sinks[t * 16]);
    });
  benchmark::DoNotOptimize(sinks.data());
  flops(state, done[0] * threads);
}
BENCHMARK(BM_PeakFma)->ArgNames({"threads"})->Arg(1)->Arg(2)->Unit(benchmark::kMicrosecond)->UseRealTime();

BENCHMARK_MAIN();
