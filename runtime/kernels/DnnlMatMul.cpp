//===- DnnlMatMul.cpp - matmul and gemm through oneDNN (host) -------------===//
//
// On the host `nncc_matmul` and `nncc_gemm` run oneDNN's matmul primitive:
// one per call site, cached with constant weights (graph parameters)
// reordered once into the layout its kernels prefer, the bias and the fused
// post-ops inside the primitive. A [..., M, K] times a shared [K, N] is one
// [M', K] x [K, N] product; equal batch dimensions on both sides are one
// batched primitive. Other cases (broadcast batches, 1-D operands, scaled
// products, full-matrix C, non-float32) go to the portable kernels.
//
//===----------------------------------------------------------------------===//
#ifdef NNCC_USE_DNNL

#include "runtime/kernels/Dnnl.h"
#include "runtime/kernels/KernelCache.h"
#include "runtime/kernels/Kernels.h"
#include "runtime/kernels/LinalgArgs.h"

#include <memory>

using namespace nncc::kernels;

extern "C" void nncc_matmul_portable(const int64_t *meta, void *const *buffers);
extern "C" int64_t nncc_matmul_portable_scratch(const int64_t *meta);
extern "C" void nncc_gemm_portable(const int64_t *meta, void *const *buffers);
extern "C" int64_t nncc_gemm_portable_scratch(const int64_t *meta);

namespace {

using dt = dnnl::memory::data_type;
using dims = dnnl::memory::dims;

/// One product Y[batch, M, N] = op(A) op(B) + bias, then post-ops.
struct Problem {
  int64_t batch = 1, M = 0, N = 0, K = 0;
  bool transA = false, transB = false, constantB = false;
  const void *a = nullptr, *b = nullptr, *bias = nullptr;
  void *y = nullptr;
  const PostOps *post = nullptr;
};

bool allFloat32(std::initializer_list<const TensorArg *> ts) {
  for (const TensorArg *t : ts)
    if (t->present() && t->dtype != 1)
      return false;
  return true;
}

/// The oneDNN form of a matmul call, or false for the portable kernel.
bool matmulProblem(const MatMulArgs &m, Problem &p) {
  const TensorArg &a = m.a, &b = m.b, &y = m.y;
  if (!allFloat32({&a, &b, &y, &m.bias}) || a.rank < 2 || b.rank < 2)
    return false;
  p.K = a.last();
  p.N = b.last();
  p.M = a.dim(a.rank - 2);
  int64_t bBatch = b.numel() / (p.K * p.N);
  if (bBatch == 1) {
    p.M = a.numel() / p.K; // B shared: A's rows are one product
  } else {
    if (a.rank != b.rank) // equal batch dimensions only
      return false;
    for (int i = 0; i < a.rank - 2; ++i)
      if (a.dim(i) != b.dim(i))
        return false;
    p.batch = bBatch;
  }
  p.constantB = m.constantB;
  p.a = a.data;
  p.b = b.data;
  p.bias = m.bias.present() ? m.bias.data : nullptr;
  p.y = y.data;
  p.post = &m.post;
  return true;
}

bool gemmProblem(const GemmArgs &g, Problem &p) {
  if (!allFloat32({&g.a, &g.b, &g.c, &g.y}) || g.alpha != 1.0)
    return false;
  p.M = g.y.dim(0);
  p.N = g.y.dim(1);
  p.K = g.ta ? g.a.dim(0) : g.a.dim(1);
  if (g.c.present() && g.beta != 0) {
    // C as a bias row: [N] or [1, N], added once.
    bool row = g.c.last() == p.N && g.c.numel() == p.N && p.N > 1;
    if (!row || g.beta != 1.0)
      return false;
    p.bias = g.c.data;
  }
  p.transA = g.ta;
  p.transB = g.tb;
  p.constantB = g.constantB;
  p.a = g.a.data;
  p.b = g.b.data;
  p.y = g.y.data;
  p.post = &g.post;
  return true;
}

struct MatMulPrimitive : CachedKernel {
  dnnl::matmul matmul;
  dnnl::memory::desc src, userWeights, bias, dst;
  dnnl::memory weights; // reordered constant weights
  bool reordered = false;
};

/// Descriptor of a row-major [batch,] rows x cols matrix, read transposed
/// (stored cols x rows) when `trans`.
dnnl::memory::desc matrix(const Problem &p, int64_t rows, int64_t cols, bool trans) {
  if (p.batch > 1)
    return dnnl::memory::desc({p.batch, rows, cols}, dt::f32, dims{rows * cols, trans ? 1 : cols, trans ? rows : 1});
  return dnnl::memory::desc({rows, cols}, dt::f32, dims{trans ? 1 : cols, trans ? rows : 1});
}

std::unique_ptr<MatMulPrimitive> createMatMul(const Problem &p) {
  auto r = std::make_unique<MatMulPrimitive>();
  r->src = matrix(p, p.M, p.K, p.transA);
  r->userWeights = matrix(p, p.K, p.N, p.transB);
  r->dst = matrix(p, p.M, p.N, false);
  if (p.bias)
    r->bias = p.batch > 1 ? dnnl::memory::desc({1, 1, p.N}, dt::f32, dims{p.N, p.N, 1})
                          : dnnl::memory::desc({1, p.N}, dt::f32, dims{p.N, 1});
  dnnl::memory::desc weights = r->userWeights;
  if (p.constantB)
    weights = p.batch > 1 ? dnnl::memory::desc({p.batch, p.K, p.N}, dt::f32, dnnl::memory::format_tag::any)
                          : dnnl::memory::desc({p.K, p.N}, dt::f32, dnnl::memory::format_tag::any);
  dnnl::primitive_attr attr;
  attr.set_post_ops(dnnlPostOps(*p.post));
  dnnl::matmul::primitive_desc pd(dnnl::matmul::desc(r->src, weights, r->bias, r->dst), attr, dnnlEngine());
  r->matmul = dnnl::matmul(pd);
  if (p.constantB && pd.weights_desc() != r->userWeights) {
    r->weights = dnnl::memory(pd.weights_desc(), dnnlEngine());
    dnnl::memory user(r->userWeights, dnnlEngine(), const_cast<void *>(p.b));
    dnnl::reorder(user, r->weights).execute(dnnlStream(), user, r->weights);
    dnnlStream().wait();
    r->reordered = true;
  }
  return r;
}

void runMatMul(const Problem &p, const int64_t *meta, int64_t metaLength) {
  auto *r = kernelCache().get<MatMulPrimitive>(meta, metaLength, p.constantB ? p.b : nullptr,
                                               [&] { return createMatMul(p); });
  dnnl::engine &e = dnnlEngine();
  dnnl::memory src(r->src, e, const_cast<void *>(p.a)), dst(r->dst, e, p.y);
  dnnl::memory weights = r->reordered ? r->weights : dnnl::memory(r->userWeights, e, const_cast<void *>(p.b));
  std::unordered_map<int, dnnl::memory> args = {{DNNL_ARG_SRC, src}, {DNNL_ARG_WEIGHTS, weights}, {DNNL_ARG_DST, dst}};
  if (p.bias)
    args[DNNL_ARG_BIAS] = dnnl::memory(r->bias, e, const_cast<void *>(p.bias));
  r->matmul.execute(dnnlStream(), args);
  dnnlStream().wait();
}

} // namespace

extern "C" NNCC_KERNEL(nncc_matmul) {
  Meta m(meta, buffers);
  MatMulArgs args = readMatMul(m);
  Problem p;
  if (!matmulProblem(args, p))
    return nncc_matmul_portable(meta, buffers);
  runMatMul(p, meta, m.consumed());
}

NNCC_SCRATCH(nncc_matmul) {
  Meta m(meta, nullptr);
  MatMulArgs args = readMatMul(m);
  Problem p;
  // oneDNN manages its own scratchpad; the portable fallback needs scratch.
  return matmulProblem(args, p) ? 0 : nncc_matmul_portable_scratch(meta);
}

extern "C" NNCC_KERNEL(nncc_gemm) {
  Meta m(meta, buffers);
  GemmArgs args = readGemm(m);
  Problem p;
  if (!gemmProblem(args, p))
    return nncc_gemm_portable(meta, buffers);
  runMatMul(p, meta, m.consumed());
}

NNCC_SCRATCH(nncc_gemm) {
  Meta m(meta, nullptr);
  GemmArgs args = readGemm(m);
  Problem p;
  return gemmProblem(args, p) ? 0 : nncc_gemm_portable_scratch(meta);
}

#endif
