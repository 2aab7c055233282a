// The runtime kernels against straightforward reference loops.
#include "runtime/Threads.h"
#include "runtime/kernels/Gemm.h"
#include "runtime/kernels/KernelCache.h"
#include "runtime/kernels/Kernels.h"
#include "runtime/kernels/RecurrentCommon.h"

#include <cmath>
#include <cstring>
#include <gtest/gtest.h>
#include <random>
#include <vector>

using namespace nncc::kernels;

// The host runtime's convolution is oneDNN's; the portable kernel stays
// linked under this name for the shapes oneDNN declines.
extern "C" void nncc_conv_portable(const int64_t *meta, void *const *buffers);
extern "C" int64_t nncc_conv_portable_scratch(const int64_t *meta);
extern "C" int64_t nncc_conv_scratch(const int64_t *meta);
extern "C" void nncc_matmul_portable(const int64_t *meta, void *const *buffers);
extern "C" int64_t nncc_matmul_portable_scratch(const int64_t *meta);
extern "C" int64_t nncc_matmul_scratch(const int64_t *meta);
extern "C" void nncc_gemm_portable(const int64_t *meta, void *const *buffers);
extern "C" int64_t nncc_gemm_portable_scratch(const int64_t *meta);
extern "C" int64_t nncc_gemm_scratch(const int64_t *meta);

namespace {

std::vector<float> random(size_t n, unsigned seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> d(-1, 1);
  std::vector<float> v(n);
  for (auto &x : v)
    x = d(rng);
  return v;
}

/// Appends a float32 tensor description (dtype, rank, dims) to meta.
void tensorMeta(std::vector<int64_t> &meta, std::vector<int64_t> shape) {
  meta.push_back(1);
  meta.push_back((int64_t)shape.size());
  meta.insert(meta.end(), shape.begin(), shape.end());
}
void ints(std::vector<int64_t> &meta, std::vector<int64_t> v) {
  meta.push_back((int64_t)v.size());
  meta.insert(meta.end(), v.begin(), v.end());
}

/// Appends the scratch buffer the kernel asks for, as the compiler does.
void addScratch(const char *kernel, std::vector<int64_t> &meta, std::vector<void *> &bufs,
                std::vector<uint8_t> &scratch) {
  int64_t bytes = nncc::kernelScratchBytes(kernel, meta.data());
  scratch.assign(bytes + 64, 0);
  if (bytes > 0) {
    meta.insert(meta.end(), {2, 1, bytes});
    bufs.push_back(scratch.data());
  } else {
    meta.push_back(0);
  }
}

/// A kernel with its scratch-size function.
struct KernelFns {
  const char *name;
  void (*run)(const int64_t *, void *const *);
  int64_t (*scratch)(const int64_t *);
};

/// Runs `k` on a copy of meta and bufs, giving it the scratch it asks for.
void runWithScratch(const KernelFns &k, std::vector<int64_t> meta, std::vector<void *> bufs) {
  int64_t bytes = k.scratch(meta.data());
  std::vector<uint8_t> scratch(bytes + 64);
  if (bytes > 0) {
    meta.insert(meta.end(), {2, 1, bytes});
    bufs.push_back(scratch.data());
  } else {
    meta.push_back(0);
  }
  k.run(meta.data(), bufs.data());
}

} // namespace

class GemmTest : public ::testing::TestWithParam<std::tuple<int, int, int, bool, bool>> {};

TEST_P(GemmTest, MatchesReference) {
  auto [M, N, K, ta, tb] = GetParam();
  auto A = random(M * K, 1), B = random(K * N, 2), C = random(M * N, 3);
  std::vector<float> ref = C;
  for (int m = 0; m < M; ++m)
    for (int n = 0; n < N; ++n) {
      double acc = 0;
      for (int k = 0; k < K; ++k)
        acc += (double)(ta ? A[k * M + m] : A[m * K + k]) * (tb ? B[n * K + k] : B[k * N + n]);
      ref[m * N + n] = (float)(0.5 * acc + 2.0 * C[m * N + n]);
    }
  Scratch measure;
  allocGemm<float>(measure, N, K);
  std::vector<uint8_t> buffer(measure.bytes() + 64);
  Scratch scratch(buffer.data(), buffer.size());
  GemmScratch<float> gs = allocGemm<float>(scratch, N, K);
  gemm<float>(ta, tb, M, N, K, 0.5f, A.data(), ta ? M : K, B.data(), tb ? K : N, 2.0f, C.data(), N, gs);
  for (int i = 0; i < M * N; ++i)
    ASSERT_NEAR(C[i], ref[i], 1e-4) << i;
}

INSTANTIATE_TEST_SUITE_P(Shapes, GemmTest,
                         ::testing::Values(std::make_tuple(1, 1, 1, false, false), std::make_tuple(7, 5, 3, false, true),
                                           std::make_tuple(33, 17, 300, true, false),
                                           std::make_tuple(64, 600, 20, true, true),
                                           std::make_tuple(3, 1030, 257, false, false)));

TEST(Kernels, ConvMatchesDirectLoops) {
  // x [2, 4, 7, 6], w [6, 2, 3, 2], group 2, stride (2, 1), pads (1, 0, 1, 1), dilation (1, 2)
  int N = 2, C = 4, H = 7, W = 6, M = 6, G = 2, KH = 3, KW = 2;
  int sh = 2, sw = 1, ph0 = 1, pw0 = 0, ph1 = 1, pw1 = 1, dh = 1, dw = 2;
  int OH = (H + ph0 + ph1 - ((KH - 1) * dh + 1)) / sh + 1, OW = (W + pw0 + pw1 - ((KW - 1) * dw + 1)) / sw + 1;
  auto x = random(N * C * H * W, 4), w = random(M * (C / G) * KH * KW, 5), b = random(M, 6);
  std::vector<float> y(N * M * OH * OW), ref(y.size());
  for (int n = 0; n < N; ++n)
    for (int m = 0; m < M; ++m)
      for (int oh = 0; oh < OH; ++oh)
        for (int ow = 0; ow < OW; ++ow) {
          double acc = b[m];
          int g = m / (M / G);
          for (int c = 0; c < C / G; ++c)
            for (int kh = 0; kh < KH; ++kh)
              for (int kw = 0; kw < KW; ++kw) {
                int ih = oh * sh - ph0 + kh * dh, iw = ow * sw - pw0 + kw * dw;
                if (ih < 0 || ih >= H || iw < 0 || iw >= W)
                  continue;
                acc += (double)x[((n * C + g * (C / G) + c) * H + ih) * W + iw] *
                       w[((m * (C / G) + c) * KH + kh) * KW + kw];
              }
          ref[((n * M + m) * OH + oh) * OW + ow] = (float)acc;
        }
  std::vector<int64_t> meta;
  tensorMeta(meta, {N, C, H, W});
  tensorMeta(meta, {M, C / G, KH, KW});
  tensorMeta(meta, {M});
  tensorMeta(meta, {N, M, OH, OW});
  meta.push_back(G);
  ints(meta, {sh, sw});
  ints(meta, {ph0, pw0, ph1, pw1});
  ints(meta, {dh, dw});
  meta.push_back(0); // weights not constant
  meta.push_back(0); // channels first
  meta.push_back(0); // no post-ops
  meta.push_back(0); // no residual
  // The host kernel (oneDNN) and the portable one the bundles use.
  struct Kernel {
    const char *name;
    void (*run)(const int64_t *, void *const *);
    int64_t (*scratch)(const int64_t *);
  };
  for (Kernel k : {Kernel{"nncc_conv", nncc_conv, nncc_conv_scratch},
                   Kernel{"nncc_conv_portable", nncc_conv_portable, nncc_conv_portable_scratch}}) {
    SCOPED_TRACE(k.name);
    std::vector<int64_t> m = meta;
    std::vector<void *> bufs = {x.data(), w.data(), b.data(), y.data()};
    std::vector<uint8_t> scratch;
    int64_t bytes = k.scratch(m.data());
    if (k.run == nncc_conv_portable)
      EXPECT_GT(bytes, 0); // im2col and GEMM packing
    scratch.assign(bytes + 64, 0);
    if (bytes > 0) {
      m.insert(m.end(), {2, 1, bytes});
      bufs.push_back(scratch.data());
    } else {
      m.push_back(0);
    }
    std::fill(y.begin(), y.end(), 0.0f);
    k.run(m.data(), bufs.data());
    for (size_t i = 0; i < y.size(); ++i)
      ASSERT_NEAR(y[i], ref[i], 1e-4) << i;
  }
}

TEST(Kernels, AveragePoolCountsPaddingOnlyWhenAsked) {
  // 1x1x3x3 input of ones, 2x2 window, stride 2, pads 1: corners see 1 value.
  std::vector<float> x(9, 1.0f), y(4);
  for (int countPad : {0, 1}) {
    std::vector<int64_t> meta;
    tensorMeta(meta, {1, 1, 3, 3});
    tensorMeta(meta, {1, 1, 2, 2});
    meta.push_back(1); // average
    ints(meta, {2, 2});
    ints(meta, {2, 2});
    ints(meta, {1, 1, 1, 1});
    ints(meta, {1, 1});
    meta.push_back(countPad);
    meta.push_back(2); // p (Lp pooling only)
    meta.push_back(0); // channels first
    void *bufs[] = {x.data(), y.data()};
    nncc_pool(meta.data(), bufs);
    EXPECT_FLOAT_EQ(y[0], countPad ? 0.25f : 1.0f); // one value, window of 4
    EXPECT_FLOAT_EQ(y[1], countPad ? 0.5f : 1.0f);  // two values
    EXPECT_FLOAT_EQ(y[3], 1.0f);                    // four values
  }
}

TEST(Kernels, TopKBreaksTiesByIndex) {
  std::vector<float> x = {3, 1, 3, 2, 5};
  std::vector<float> v(3);
  std::vector<int64_t> idx(3);
  std::vector<int64_t> meta;
  tensorMeta(meta, {5});
  tensorMeta(meta, {3});
  meta.insert(meta.end(), {7, 1, 3}); // indices: int64 [3]
  meta.insert(meta.end(), {0, 1, 1}); // axis 0, largest, sorted
  std::vector<void *> bufs = {x.data(), v.data(), idx.data()};
  std::vector<uint8_t> scratch;
  addScratch("nncc_topk", meta, bufs, scratch);
  nncc_topk(meta.data(), bufs.data());
  EXPECT_EQ(v, (std::vector<float>{5, 3, 3}));
  EXPECT_EQ(idx, (std::vector<int64_t>{4, 0, 2}));
}

// nncc_matmul on the host (oneDNN, weights reordered once when constant) and
// the portable kernel, against reference loops: shared and batched B, bias,
// a fused ReLU, and a second call on the cached primitive with new inputs.
struct MatMulCase {
  std::vector<int64_t> a, b;
  bool bias, relu, constantB;
};

class MatMulKernelTest : public ::testing::TestWithParam<MatMulCase> {};

TEST_P(MatMulKernelTest, HostAndPortableMatchReference) {
  MatMulCase c = GetParam();
  nncc_kernel_cache_clear(); // constant weights are cached by address
  int64_t K = c.a.back(), N = c.b.back(), M = c.a[c.a.size() - 2];
  int64_t aCount = 1, bCount = 1;
  for (int64_t d : c.a) aCount *= d;
  for (int64_t d : c.b) bCount *= d;
  int64_t batches = aCount / (M * K), bBatches = bCount / (K * N);
  std::vector<int64_t> yShape = c.a;
  yShape.back() = N;
  std::vector<int64_t> meta;
  tensorMeta(meta, c.a);
  tensorMeta(meta, c.b);
  tensorMeta(meta, yShape);
  if (c.bias)
    tensorMeta(meta, {N});
  else
    meta.push_back(0);
  meta.push_back(c.constantB);
  if (c.relu)
    meta.insert(meta.end(), {1, 1, 0, 0});
  else
    meta.push_back(0);
  auto B = random(bCount, 11), bias = random(N, 12);
  for (unsigned round = 0; round < 2; ++round) {
    auto A = random(aCount, 13 + round);
    std::vector<float> ref(batches * M * N);
    for (int64_t bi = 0; bi < batches; ++bi)
      for (int64_t m = 0; m < M; ++m)
        for (int64_t n = 0; n < N; ++n) {
          const float *pa = A.data() + (bi * M + m) * K, *pb = B.data() + (bBatches > 1 ? bi * K * N : 0);
          double acc = c.bias ? bias[n] : 0;
          for (int64_t k = 0; k < K; ++k)
            acc += (double)pa[k] * pb[k * N + n];
          ref[(bi * M + m) * N + n] = c.relu && acc < 0 ? 0.f : (float)acc;
        }
    for (KernelFns k : {KernelFns{"nncc_matmul", nncc_matmul, nncc_matmul_scratch},
                        KernelFns{"nncc_matmul_portable", nncc_matmul_portable, nncc_matmul_portable_scratch}}) {
      SCOPED_TRACE(std::string(k.name) + " round " + std::to_string(round));
      std::vector<float> y(ref.size(), -7.f);
      std::vector<void *> bufs = {A.data(), B.data(), y.data()};
      if (c.bias)
        bufs.push_back(bias.data());
      runWithScratch(k, meta, bufs);
      for (size_t i = 0; i < y.size(); ++i)
        ASSERT_NEAR(y[i], ref[i], 1e-4) << i;
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Shapes, MatMulKernelTest,
                         ::testing::Values(MatMulCase{{4, 8}, {8, 16}, false, false, true},
                                           MatMulCase{{2, 3, 5, 33}, {33, 17}, true, true, true},
                                           MatMulCase{{3, 7, 9}, {3, 9, 4}, false, false, false},
                                           MatMulCase{{2, 2, 6, 5}, {2, 2, 5, 6}, true, true, false},
                                           MatMulCase{{64, 100}, {100, 70}, true, false, false}));

TEST(Kernels, GemmHostAndPortableMatchReference) {
  // transB with a bias row and ReLU (oneDNN on the host), then alpha != 1 and
  // a full C (the portable kernel on both).
  nncc_kernel_cache_clear();
  int64_t M = 5, N = 12, K = 9;
  auto A = random(M * K, 21), Bt = random(N * K, 22), row = random(N, 23), full = random(M * N, 24);
  for (int variant = 0; variant < 2; ++variant) {
    bool rowBias = variant == 0;
    double alpha = rowBias ? 1.0 : 0.5;
    std::vector<int64_t> meta;
    tensorMeta(meta, {M, K});
    tensorMeta(meta, {N, K});
    tensorMeta(meta, rowBias ? std::vector<int64_t>{N} : std::vector<int64_t>{M, N});
    tensorMeta(meta, {M, N});
    meta.insert(meta.end(), {0, 1}); // transA, transB
    double beta = 1.0;
    int64_t bits[2];
    std::memcpy(&bits[0], &alpha, 8);
    std::memcpy(&bits[1], &beta, 8);
    meta.insert(meta.end(), {bits[0], bits[1], 1}); // alpha, beta, constant B
    meta.insert(meta.end(), {1, 1, 0, 0});         // relu
    std::vector<float> ref(M * N);
    for (int64_t m = 0; m < M; ++m)
      for (int64_t n = 0; n < N; ++n) {
        double acc = 0;
        for (int64_t k = 0; k < K; ++k)
          acc += (double)A[m * K + k] * Bt[n * K + k];
        acc = alpha * acc + (rowBias ? row[n] : full[m * N + n]);
        ref[m * N + n] = acc < 0 ? 0.f : (float)acc;
      }
    for (KernelFns k : {KernelFns{"nncc_gemm", nncc_gemm, nncc_gemm_scratch},
                        KernelFns{"nncc_gemm_portable", nncc_gemm_portable, nncc_gemm_portable_scratch}}) {
      SCOPED_TRACE(std::string(k.name) + (rowBias ? " row bias" : " full C"));
      std::vector<float> y(M * N, -7.f);
      runWithScratch(k, meta, {A.data(), Bt.data(), rowBias ? row.data() : full.data(), y.data()});
      for (size_t i = 0; i < y.size(); ++i)
        ASSERT_NEAR(y[i], ref[i], 1e-4) << i;
    }
  }
}

// nncc_reorder between every pair of layouts, host (oneDNN) and portable,
// against the index arithmetic of each layout.
extern "C" void nncc_reorder_portable(const int64_t *meta, void *const *buffers);

TEST(Kernels, ReorderBetweenLayouts) {
  nncc_kernel_cache_clear();
  const int64_t N = 2, C = 32, H = 3, W = 5;
  auto shape = [&](int layout) -> std::vector<int64_t> {
    if (layout == 1) return {N, H, W, C};
    if (layout == 2) return {N, C / 16, H, W, 16};
    return {N, C, H, W};
  };
  auto offset = [&](int layout, int64_t n, int64_t c, int64_t h, int64_t w) -> int64_t {
    if (layout == 1) return ((n * H + h) * W + w) * C + c;
    if (layout == 2) return (((n * (C / 16) + c / 16) * H + h) * W + w) * 16 + c % 16;
    return ((n * C + c) * H + h) * W + w;
  };
  std::vector<float> nchw = random(N * C * H * W, 31);
  for (int from = 0; from < 3; ++from)
    for (int to = 0; to < 3; ++to) {
      std::vector<float> x(nchw.size());
      for (int64_t n = 0; n < N; ++n)
        for (int64_t c = 0; c < C; ++c)
          for (int64_t h = 0; h < H; ++h)
            for (int64_t w = 0; w < W; ++w)
              x[offset(from, n, c, h, w)] = nchw[offset(0, n, c, h, w)];
      std::vector<int64_t> meta;
      tensorMeta(meta, shape(from));
      tensorMeta(meta, shape(to));
      meta.insert(meta.end(), {from, to});
      for (auto run : {nncc_reorder, nncc_reorder_portable}) {
        SCOPED_TRACE(std::to_string(from) + " -> " + std::to_string(to) + (run == nncc_reorder ? " host" : " portable"));
        std::vector<float> y(x.size(), -1.f);
        void *bufs[] = {x.data(), y.data()};
        run(meta.data(), bufs);
        for (int64_t n = 0; n < N; ++n)
          for (int64_t c = 0; c < C; ++c)
            for (int64_t h = 0; h < H; ++h)
              for (int64_t w = 0; w < W; ++w)
                ASSERT_EQ(y[offset(to, n, c, h, w)], nchw[offset(0, n, c, h, w)]) << n << " " << c << " " << h << " " << w;
      }
    }
}

/// A bidirectional layer marked to run its directions at once does so on 2
/// threads, one direction on each (and each direction's nested parallelFor
/// stays on its thread); unmarked, on other thread counts or with one
/// direction, the directions run in turn on the calling thread (their
/// loops then use every thread).
TEST(Recurrent, DirectionsAtOnceOnTwoThreads) {
  using nncc::kernels::forEachDirection;
  using nncc::kernels::parallelFor;
  int before = nncc::numThreads();
  struct Case {
    int threads;
    int64_t directions;
    bool atOnce, apart;
  };
  for (Case k : {Case{2, 2, true, true}, Case{2, 2, false, false}, Case{3, 2, true, false}, Case{1, 2, true, false},
                 Case{2, 1, true, false}}) {
    SCOPED_TRACE(std::to_string(k.threads) + " threads, " + std::to_string(k.directions) + " directions" +
                 (k.atOnce ? ", marked" : ""));
    nncc::setNumThreads(k.threads);
    int ran[2] = {-1, -1}, inner[2] = {-1, -1};
    forEachDirection(k.directions, k.atOnce, [&](int64_t d) {
      ran[d] = omp_get_thread_num();
      parallelFor(64, int64_t(1) << 20, [&](int64_t, int64_t) { inner[d] = omp_get_thread_num(); });
    });
    if (k.apart) {
      EXPECT_NE(ran[0], ran[1]);
      for (int64_t d = 0; d < 2; ++d)
        EXPECT_EQ(inner[d], ran[d]) << "direction " << d << "'s nested loop left its thread";
    } else
      for (int64_t d = 0; d < k.directions; ++d)
        EXPECT_EQ(ran[d], 0) << "direction " << d;
  }
  nncc::setNumThreads(before);
}

// A step's product over its first rows only (rows past a sequence's length
// take none): those rows as the full product has them, the others left as
// they were; on the host (float: oneDNN, a primitive per row count on the
// same reordered weights) and the portable GEMM (double), with W as [N, K]
// and [K, N], and leading dimensions wider than the rows.
template <typename T> void checkRunningRows(bool kByN) {
  using nncc::kernels::RecurrentGemm;
  SCOPED_TRACE(std::string(sizeof(T) == 4 ? "float" : "double") + (kByN ? ", W as [K, N]" : ", W as [N, K]"));
  const int64_t M = 8, N = 96, K = 40, lda = K + 3, ldc = N + 5;
  auto a = random(M * lda, 31), w = random(N * K, 32);
  std::vector<T> A(a.begin(), a.end()), W(w.begin(), w.end());
  nncc::kernels::Scratch measure;
  nncc::kernels::allocGemm<T>(measure, N, K);
  std::vector<uint8_t> bytes(measure.bytes() + 64);
  nncc::kernels::Scratch s(bytes.data(), bytes.size());
  auto gs = nncc::kernels::allocGemm<T>(s, N, K);
  RecurrentGemm<T> product(M, N, K, W.data(), kByN ? N : K, gs, kByN);
  std::vector<T> full(M * ldc, T(0));
  product.run(A.data(), lda, full.data(), ldc);
  for (int64_t m = 0; m < M; ++m)
    for (int64_t n = 0; n < N; n += 7) {
      double acc = 0;
      for (int64_t k = 0; k < K; ++k)
        acc += (double)A[m * lda + k] * (kByN ? W[k * N + n] : W[n * K + k]);
      ASSERT_NEAR(full[m * ldc + n], acc, 1e-4) << m << ", " << n;
    }
  for (int64_t rows : {8, 0, 5, 1, 7, 5, 3}) { // (5 twice: the kept primitive)
    SCOPED_TRACE(std::to_string(rows) + " rows");
    std::vector<T> C(M * ldc, T(-7));
    product.run(A.data(), lda, C.data(), ldc, rows);
    for (int64_t m = 0; m < M; ++m)
      for (int64_t n = 0; n < N; ++n)
        if (m < rows)
          ASSERT_NEAR(C[m * ldc + n], full[m * ldc + n], 1e-5) << m << ", " << n;
        else
          ASSERT_EQ(C[m * ldc + n], T(-7)) << m << ", " << n;
  }
}

TEST(Recurrent, ProductsOfTheRunningRowsOnly) {
  for (bool kByN : {false, true}) {
    checkRunningRows<float>(kByN);
    checkRunningRows<double>(kByN);
  }
  // The rows up to the last one still running.
  auto running = [](std::vector<int64_t> lens, int64_t st) {
    return nncc::kernels::runningRows((int64_t)lens.size(), [&](int64_t b) { return lens[b] > st; });
  };
  EXPECT_EQ(running({5, 3, 3, 0}, 0), 3);
  EXPECT_EQ(running({5, 3, 3, 0}, 2), 3);
  EXPECT_EQ(running({5, 3, 3, 0}, 3), 1);
  EXPECT_EQ(running({5, 3, 3, 0}, 5), 0);
  EXPECT_EQ(running({1, 4, 2}, 1), 3); // (unsorted: row 0 is past its length but takes its product)
  EXPECT_EQ(running({1, 4, 2}, 2), 2);
}

/// The rows within their lengths, unsorted, gathered in place and to a copy
/// (each step's in order, no others), each one's place, and put back: the
/// rows that run are back where they were (the others hold whatever the
/// moves left there).
TEST(Recurrent, GathersTheRowsWithinTheirLengths) {
  using nncc::kernels::gatherRowsThatRun;
  const int64_t B = 4, n = 3, ld = 2;
  std::vector<int64_t> lens{1, 3, 0, 2}; // steps 0..2: rows {0, 1, 3}, {1, 3}, {1}
  auto runs = [&](int64_t k, int64_t b) { return k < lens[b]; };
  std::vector<float> rows(n * B * ld);
  for (size_t k = 0; k < rows.size(); ++k)
    rows[k] = (float)k;
  std::vector<float> buf = rows, copy(n * B * ld, -1.f);
  int64_t start[n], startCopy[n];
  EXPECT_EQ(gatherRowsThatRun(rows.data(), ld, B, n, runs, copy.data(), startCopy), 6);
  EXPECT_EQ(gatherRowsThatRun(buf.data(), ld, B, n, runs, buf.data(), start), 6);
  std::vector<int64_t> order{0, 1, 3, 4 + 1, 4 + 3, 8 + 1}; // (step * B + row) of each gathered row
  for (size_t j = 0; j < order.size(); ++j)
    for (int64_t c = 0; c < ld; ++c) {
      EXPECT_EQ(buf[j * ld + c], rows[order[j] * ld + c]) << j;
      EXPECT_EQ(copy[j * ld + c], rows[order[j] * ld + c]) << j;
    }
  EXPECT_EQ(std::vector<int64_t>(start, start + n), (std::vector<int64_t>{0, 3, 5}));
  EXPECT_EQ(std::vector<int64_t>(startCopy, startCopy + n), (std::vector<int64_t>{0, 3, 5}));
  // A running row's place among its step's gathered rows.
  for (int64_t k = 0; k < n; ++k)
    for (int64_t b = 0; b < B; ++b)
      if (runs(k, b)) {
        int64_t j = start[k] + nncc::kernels::placeAmongRunning(b, [&](int64_t r) { return runs(k, r); });
        EXPECT_EQ(buf[j * ld], rows[(k * B + b) * ld]) << k << ", " << b;
      }
  nncc::kernels::rowsThatRunToPlaces(buf.data(), ld, B, n, runs, 6);
  for (int64_t k = 0; k < n; ++k)
    for (int64_t b = 0; b < B; ++b)
      if (runs(k, b))
        for (int64_t c = 0; c < ld; ++c)
          EXPECT_EQ(buf[(k * B + b) * ld + c], rows[(k * B + b) * ld + c]) << k << ", " << b;
}
