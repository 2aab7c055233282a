//===- Dnnl.h - what the oneDNN-backed host kernels share -------*- C++ -*-===//
#ifndef NNCC_RUNTIME_KERNELS_DNNL_H
#define NNCC_RUNTIME_KERNELS_DNNL_H
#ifdef NNCC_USE_DNNL

#include "runtime/kernels/PostOps.h"

#include "oneapi/dnnl/dnnl.hpp"

namespace nncc {
namespace kernels {

inline dnnl::engine &dnnlEngine() {
  static dnnl::engine e(dnnl::engine::kind::cpu, 0);
  return e;
}

inline dnnl::stream &dnnlStream() {
  thread_local dnnl::stream s(dnnlEngine());
  return s;
}

/// Activation layout codes in kernel meta (nn.conv's `layout`).
enum ActivationLayoutCode : int64_t { kNCHW = 0, kNHWC = 1, kNCHW16c = 2 };

/// The oneDNN descriptor of a float32 activation with `spatial` dimensions:
/// [N, C, D...], [N, D..., C] or [N, C/16, D..., 16].
inline dnnl::memory::desc dnnlActivation(const TensorArg &t, int spatial, int64_t layout) {
  using tag = dnnl::memory::format_tag;
  int64_t c = layout == kNHWC ? t.last() : layout == kNCHW16c ? t.dim(1) * 16 : t.dim(1);
  dnnl::memory::dims dims = {t.dim(0), c};
  for (int i = 0; i < spatial; ++i)
    dims.push_back(t.dim((layout == kNHWC ? 1 : 2) + i));
  static const tag tags[3][3] = {{tag::ncw, tag::nchw, tag::ncdhw},
                                 {tag::nwc, tag::nhwc, tag::ndhwc},
                                 {tag::nCw16c, tag::nChw16c, tag::nCdhw16c}};
  return dnnl::memory::desc(dims, dnnl::memory::data_type::f32, tags[layout][spatial - 1]);
}

/// The fused epilogue as oneDNN post-ops (Sum adds the destination's prior
/// contents: callers put the residual there first).
inline dnnl::post_ops dnnlPostOps(const PostOps &p) {
  dnnl::post_ops ops;
  for (int k = 0; k < p.n; ++k) {
    float a = (float)p.alpha[k], b = (float)p.beta[k];
    switch (p.kind[k]) {
    case PostOp::Relu: ops.append_eltwise(1.f, dnnl::algorithm::eltwise_relu, 0.f, 0.f); break;
    case PostOp::Clip: ops.append_eltwise(1.f, dnnl::algorithm::eltwise_clip, a, b); break;
    case PostOp::LeakyRelu: ops.append_eltwise(1.f, dnnl::algorithm::eltwise_relu, a, 0.f); break;
    case PostOp::Elu: ops.append_eltwise(1.f, dnnl::algorithm::eltwise_elu, a, 0.f); break;
    case PostOp::Sigmoid: ops.append_eltwise(1.f, dnnl::algorithm::eltwise_logistic, 0.f, 0.f); break;
    case PostOp::Tanh: ops.append_eltwise(1.f, dnnl::algorithm::eltwise_tanh, 0.f, 0.f); break;
    case PostOp::Sum: ops.append_sum(1.f); break;
    }
  }
  return ops;
}

} // namespace kernels
} // namespace nncc

#endif
#endif
