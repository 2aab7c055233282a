// nn.fused as codegen runs it: slices of its arguments read as views (with
// offsets, steps above one, and broadcast when smaller than the results),
// several results of different element types, a slice yielded as it is,
// and an unrolled recurrent step's shape of group fused from plain ops.
#include "driver/Compiler.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/MLIRContext.h"
#include "TestUtil.h"

#include <gtest/gtest.h>

#include <random>

using namespace mlir;

namespace {

/// Compiles `body` (fusing or not) and runs it on `inputs`.
std::vector<nncc::Tensor> compileAndRun(const char *body, const std::vector<nncc::Tensor> &inputs, bool fuse = true) {
  MLIRContext ctx;
  nncc::CompileOptions options;
  options.fuse = fuse;
  auto exe = nncc::test::compileText(ctx, body, options);
  return exe ? nncc::test::runExecutable(*exe, inputs) : std::vector<nncc::Tensor>{};
}

nncc::Tensor random(std::vector<int64_t> shape, std::mt19937 &rng) {
  nncc::Tensor t(nncc::DType::Float32, shape);
  std::uniform_real_distribution<float> unit(-1.f, 1.f);
  for (int64_t k = 0; k < t.numElements(); ++k)
    t.data<float>()[k] = unit(rng);
  return t;
}

} // namespace

/// Rows 1, 3, ... and columns 2, 5, ... of a (a strided view), plus every
/// other element of b from 4 (a view broadcast along the rows), times c;
/// the results: that product, a comparison (bool) and the slice of a itself.
TEST(Fused, SlicesAreViewsAndResultsMany) {
  const char *body = R"mlir(
func.func @main(%a: tensor<513x100xf32>, %b: tensor<80xf32>, %c: tensor<256x32xf32>) -> (tensor<256x32xf32>, tensor<256x32xi1>, tensor<256x32xf32>) {
  %u, %l, %s = nn.fused(%a, %b, %c) : (tensor<513x100xf32>, tensor<80xf32>, tensor<256x32xf32>) -> (tensor<256x32xf32>, tensor<256x32xi1>, tensor<256x32xf32>) {
  ^bb0(%va: tensor<513x100xf32>, %vb: tensor<80xf32>, %vc: tensor<256x32xf32>):
    %sa = nn.slice %va {sizes = [256, 32], starts = [1, 2], steps = [2, 3]} : tensor<513x100xf32> -> tensor<256x32xf32>
    %sb = nn.slice %vb {sizes = [32], starts = [4], steps = [2]} : tensor<80xf32> -> tensor<32xf32>
    %t = nn.add %sa, %sb : tensor<256x32xf32>, tensor<32xf32>
    %m = nn.mul %t, %vc : tensor<256x32xf32>, tensor<256x32xf32>
    %k = nn.less %t, %vc : tensor<256x32xf32>, tensor<256x32xf32>
    nn.yield %m, %k, %sa : tensor<256x32xf32>, tensor<256x32xi1>, tensor<256x32xf32>
  }
  return %u, %l, %s : tensor<256x32xf32>, tensor<256x32xi1>, tensor<256x32xf32>
}
)mlir";
  std::mt19937 rng(7);
  std::vector<nncc::Tensor> in{random({513, 100}, rng), random({80}, rng), random({256, 32}, rng)};
  auto out = compileAndRun(body, in);
  ASSERT_EQ(out.size(), 3u);
  const float *a = in[0].data<float>(), *b = in[1].data<float>(), *c = in[2].data<float>();
  int wrong = 0;
  for (int64_t i = 0; i < 256; ++i)
    for (int64_t j = 0; j < 32; ++j) {
      float sa = a[(1 + 2 * i) * 100 + 2 + 3 * j], t = sa + b[4 + 2 * j], cij = c[i * 32 + j];
      wrong += out[0].data<float>()[i * 32 + j] != t * cij;
      wrong += out[1].data<uint8_t>()[i * 32 + j] != (t < cij);
      wrong += out[2].data<float>()[i * 32 + j] != sa;
    }
  EXPECT_EQ(wrong, 0);
}

/// Plain ops of an LSTM step (gate slices of a product plus a bias, the
/// activations, the new c also read after the next product) compute, fused
/// into one multi-result op, what they compute unfused.
TEST(Fused, StepFusedFromPlainOps) {
  const char *body = R"mlir(
func.func @main(%x: tensor<16x64xf32>, %w: tensor<64x128xf32>, %r: tensor<32x128xf32>, %c: tensor<16x32xf32>) -> (tensor<16x32xf32>, tensor<16x32xf32>, tensor<16x32xf32>) {
  %p = nn.matmul %x, %w : (tensor<16x64xf32>, tensor<64x128xf32>) -> tensor<16x128xf32>
  %one = nn.constant dense<1.0> : tensor<f32>
  %q = nn.add %p, %one : tensor<16x128xf32>, tensor<f32>
  %gi = nn.slice %q {sizes = [16, 32], starts = [0, 0], steps = [1, 1]} : tensor<16x128xf32> -> tensor<16x32xf32>
  %go = nn.slice %q {sizes = [16, 32], starts = [0, 32], steps = [1, 1]} : tensor<16x128xf32> -> tensor<16x32xf32>
  %gf = nn.slice %q {sizes = [16, 32], starts = [0, 64], steps = [1, 1]} : tensor<16x128xf32> -> tensor<16x32xf32>
  %gg = nn.slice %q {sizes = [16, 32], starts = [0, 96], steps = [1, 1]} : tensor<16x128xf32> -> tensor<16x32xf32>
  %i = nn.sigmoid %gi : tensor<16x32xf32>
  %f = nn.sigmoid %gf : tensor<16x32xf32>
  %g = nn.tanh %gg : tensor<16x32xf32>
  %fc = nn.mul %f, %c : tensor<16x32xf32>, tensor<16x32xf32>
  %ig = nn.mul %i, %g : tensor<16x32xf32>, tensor<16x32xf32>
  %cn = nn.add %fc, %ig : tensor<16x32xf32>, tensor<16x32xf32>
  %o = nn.sigmoid %go : tensor<16x32xf32>
  %tc = nn.tanh %cn : tensor<16x32xf32>
  %h = nn.mul %o, %tc : tensor<16x32xf32>, tensor<16x32xf32>
  %h2 = nn.matmul %h, %r : (tensor<16x32xf32>, tensor<32x128xf32>) -> tensor<16x128xf32>
  %later = nn.slice %h2 {sizes = [16, 32], starts = [0, 32], steps = [1, 1]} : tensor<16x128xf32> -> tensor<16x32xf32>
  %d = nn.sub %later, %cn : tensor<16x32xf32>, tensor<16x32xf32>
  return %h, %cn, %d : tensor<16x32xf32>, tensor<16x32xf32>, tensor<16x32xf32>
}
)mlir";
  std::mt19937 rng(5);
  std::vector<nncc::Tensor> in{random({16, 64}, rng), random({64, 128}, rng), random({32, 128}, rng),
                               random({16, 32}, rng)};
  auto fused = compileAndRun(body, in), plain = compileAndRun(body, in, false);
  ASSERT_EQ(fused.size(), 3u);
  ASSERT_EQ(plain.size(), 3u);
  for (size_t k = 0; k < 3; ++k)
    for (int64_t e = 0; e < plain[k].numElements(); ++e)
      ASSERT_NEAR(fused[k].data<float>()[e], plain[k].data<float>()[e], 1e-6) << "output " << k << " element " << e;
}
