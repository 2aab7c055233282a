//===- DnnlConv.cpp - convolution, pooling and reorders through oneDNN ----===//
//
// On the host `nncc_conv` and `nncc_pool` run oneDNN primitives: one per
// call site, created on first use and cached with the weights reordered into
// oneDNN's preferred layout when the compiler marks them constant.
// Activations arrive plain ([N, C, D...]) or channels last ([N, D..., C], see
// nn-layout); post-ops (activation, residual sum) run inside the primitive.
// float64 and cases oneDNN does not cover go to the portable kernels.
//
//===----------------------------------------------------------------------===//
#ifdef NNCC_USE_DNNL

#include "runtime/kernels/ConvChoice.h"
#include "runtime/kernels/Dnnl.h"
#include "runtime/kernels/KernelCache.h"
#include "runtime/kernels/Kernels.h"
#include "runtime/kernels/Meta.h"
#include "runtime/kernels/PostOps.h"

#include "oneapi/dnnl/dnnl.hpp"

#include <cstring>
#include <memory>

using namespace nncc::kernels;

extern "C" void nncc_conv_portable(const int64_t *meta, void *const *buffers);
extern "C" int64_t nncc_conv_portable_scratch(const int64_t *meta);
extern "C" void nncc_pool_portable(const int64_t *meta, void *const *buffers);
extern "C" void nncc_reorder_portable(const int64_t *meta, void *const *buffers);

namespace {

dnnl::engine &engine() { return dnnlEngine(); }
dnnl::stream &stream() { return dnnlStream(); }

using tag = dnnl::memory::format_tag;
using dt = dnnl::memory::data_type;

//===----------------------------------------------------------------------===//
// Convolution
//===----------------------------------------------------------------------===//

struct ConvOperands {
  TensorArg x, w, b, y, residual;
  int64_t group;
  IntList strides, pads, dils;
  bool constantWeights;
  int64_t layout; // ActivationLayoutCode
  PostOps post;
  int spatial() const { return w.rank - 2; }
};

ConvOperands readConv(Meta &m) {
  ConvOperands o;
  o.x = m.tensor(); o.w = m.tensor(); o.b = m.tensor(); o.y = m.tensor();
  o.group = m.i();
  o.strides = m.ints(); o.pads = m.ints(); o.dils = m.ints();
  o.constantWeights = m.i();
  o.layout = m.i();
  o.post.read(m);
  o.residual = m.tensor();
  return o;
}

bool dnnlCanConv(const ConvOperands &o) { return o.x.dtype == 1 && o.spatial() >= 1 && o.spatial() <= 3; }

struct ConvPrimitive : CachedKernel {
  dnnl::convolution_forward conv;
  dnnl::memory::desc src, dst, userWeights, bias;
  dnnl::memory weights; // reordered
  bool reorderWeights = false;
};

std::unique_ptr<ConvPrimitive> createConv(const ConvOperands &o) {
  auto p = std::make_unique<ConvPrimitive>();
  int sp = o.spatial();
  bool grouped = o.group > 1;
  dnnl::memory::dims wd;
  if (grouped)
    wd.push_back(o.group);
  wd.push_back(o.w.dim(0) / o.group);
  for (int i = 1; i < o.w.rank; ++i)
    wd.push_back(o.w.dim(i));
  dnnl::memory::dims strides, dil, padL, padR;
  for (int i = 0; i < sp; ++i) {
    strides.push_back(o.strides[i]);
    dil.push_back(o.dils[i] - 1);
    padL.push_back(o.pads[i]);
    padR.push_back(o.pads[i + sp]);
  }
  tag plainW = grouped ? (sp == 1 ? tag::goiw : sp == 2 ? tag::goihw : tag::goidhw)
                       : (sp == 1 ? tag::oiw : sp == 2 ? tag::oihw : tag::oidhw);
  p->src = dnnlActivation(o.x, sp, o.layout);
  p->dst = dnnlActivation(o.y, sp, o.layout);
  p->userWeights = dnnl::memory::desc(wd, dt::f32, plainW);
  if (o.b.present())
    p->bias = dnnl::memory::desc({o.w.dim(0)}, dt::f32, tag::x);
  dnnl::memory::desc wAny(wd, dt::f32, tag::any);
  dnnl::primitive_attr attr;
  attr.set_post_ops(dnnlPostOps(o.post));
  auto make = [&](dnnl::algorithm alg) {
    dnnl::convolution_forward::desc d(dnnl::prop_kind::forward_inference, alg, p->src, wAny, p->bias, p->dst, strides,
                                      dil, padL, padR);
    return dnnl::convolution_forward::primitive_desc(d, attr, engine());
  };
  // Blocked convolutions use Winograd where it wins (the rule nn-layout
  // applies too); where oneDNN has no Winograd kernel for the shape or CPU,
  // or it would lose, the direct one runs.
  dnnl::convolution_forward::primitive_desc pd;
  bool winograd = false;
  bool unit = true, padsOne = true;
  for (int i = 0; i < sp; ++i)
    unit &= o.strides[i] == 1 && o.dils[i] == 1;
  for (int i = 0; i < 2 * sp; ++i)
    padsOne &= o.pads[i] == 1;
  if (o.layout == kNCHW16c && sp == 2 &&
      nncc::winogradPreferred(o.w.dim(1) * o.group, o.w.dim(0), o.w.dim(2), o.w.dim(3), unit, padsOne, o.group,
                              o.x.dim(2) * o.x.dim(3))) {
    try {
      pd = make(dnnl::algorithm::convolution_winograd);
      winograd = true;
    } catch (const dnnl::error &) {
    }
  }
  if (!winograd)
    pd = make(dnnl::algorithm::convolution_direct);
  p->conv = dnnl::convolution_forward(pd);
  p->reorderWeights = pd.weights_desc() != p->userWeights;
  if (p->reorderWeights) {
    p->weights = dnnl::memory(pd.weights_desc(), engine());
    if (o.constantWeights) {
      dnnl::memory user(p->userWeights, engine(), o.w.data);
      dnnl::reorder(user, p->weights).execute(stream(), user, p->weights);
      stream().wait();
    }
  }
  return p;
}

} // namespace

extern "C" NNCC_KERNEL(nncc_conv) {
  Meta m(meta, buffers);
  ConvOperands o = readConv(m);
  if (!dnnlCanConv(o)) {
    nncc_conv_portable(meta, buffers);
    return;
  }
  auto *p = kernelCache().get<ConvPrimitive>(meta, m.consumed(), o.w.data, [&] { return createConv(o); });
  dnnl::memory src(p->src, engine(), o.x.data), dst(p->dst, engine(), o.y.data);
  dnnl::memory user(p->userWeights, engine(), o.w.data);
  dnnl::memory weights = user;
  if (p->reorderWeights) {
    if (!o.constantWeights)
      dnnl::reorder(user, p->weights).execute(stream(), user, p->weights);
    weights = p->weights;
  }
  // The sum post-op adds the destination's contents: start from the residual.
  if (o.residual.present() && o.residual.data != o.y.data)
    std::memcpy(o.y.data, o.residual.data, o.y.numel() * sizeof(float));
  std::unordered_map<int, dnnl::memory> args = {{DNNL_ARG_SRC, src}, {DNNL_ARG_WEIGHTS, weights}, {DNNL_ARG_DST, dst}};
  if (o.b.present())
    args[DNNL_ARG_BIAS] = dnnl::memory(p->bias, engine(), o.b.data);
  p->conv.execute(stream(), args);
  stream().wait();
}

NNCC_SCRATCH(nncc_conv) {
  Meta m(meta, nullptr);
  ConvOperands o = readConv(m);
  // oneDNN manages its own scratchpad; the portable fallback needs scratch.
  return dnnlCanConv(o) ? 0 : nncc_conv_portable_scratch(meta);
}

//===----------------------------------------------------------------------===//
// Pooling
//===----------------------------------------------------------------------===//

namespace {

struct PoolOperands {
  TensorArg x, y;
  int kind; // 0 max, 1 average, 2 Lp
  IntList k, s, p, d;
  bool countPad, channelsLast;
  int64_t dim(int i) const { return x.dim((channelsLast ? 1 : 2) + i); }
  int64_t outDim(int i) const { return y.dim((channelsLast ? 1 : 2) + i); }
};

PoolOperands readPool(Meta &m) {
  PoolOperands o;
  o.x = m.tensor(); o.y = m.tensor();
  o.kind = (int)m.i();
  o.k = m.ints(); o.s = m.ints(); o.p = m.ints(); o.d = m.ints();
  o.countPad = m.i();
  m.i(); // p of Lp pooling
  o.channelsLast = m.i();
  return o;
}

struct PoolPrimitive : CachedKernel {
  dnnl::pooling_v2_forward pool;
  dnnl::memory::desc src, dst;
};

/// Right padding that makes oneDNN produce the output size (ceil_mode may
/// need more than the ONNX pads), or -1 when average pooling with padding
/// counted would then count the ceil_mode overhang too.
bool poolPads(const PoolOperands &o, dnnl::memory::dims &padL, dnnl::memory::dims &padR) {
  int sp = (int)o.k.size();
  for (int i = 0; i < sp; ++i) {
    int64_t in = o.dim(i), out = o.outDim(i);
    int64_t needed = (out - 1) * o.s[i] + (o.k[i] - 1) * o.d[i] + 1 - in - o.p[i];
    if (o.kind == 1 && o.countPad && needed > o.p[i + sp])
      return false;
    padL.push_back(o.p[i]);
    padR.push_back(needed > o.p[i + sp] ? needed : o.p[i + sp]);
  }
  return true;
}

std::unique_ptr<PoolPrimitive> createPool(const PoolOperands &o) {
  auto p = std::make_unique<PoolPrimitive>();
  int sp = (int)o.k.size();
  dnnl::memory::dims strides, kernel, dil, padL, padR;
  for (int i = 0; i < sp; ++i) {
    strides.push_back(o.s[i]);
    kernel.push_back(o.k[i]);
    dil.push_back(o.d[i] - 1);
  }
  poolPads(o, padL, padR);
  p->src = dnnlActivation(o.x, sp, o.channelsLast ? kNHWC : kNCHW);
  p->dst = dnnlActivation(o.y, sp, o.channelsLast ? kNHWC : kNCHW);
  auto alg = o.kind == 0 ? dnnl::algorithm::pooling_max
             : o.countPad ? dnnl::algorithm::pooling_avg_include_padding
                          : dnnl::algorithm::pooling_avg_exclude_padding;
  dnnl::pooling_v2_forward::desc d(dnnl::prop_kind::forward_inference, alg, p->src, p->dst, strides, kernel, dil,
                                   padL, padR);
  p->pool = dnnl::pooling_v2_forward(dnnl::pooling_v2_forward::primitive_desc(d, engine()));
  return p;
}

} // namespace

extern "C" NNCC_KERNEL(nncc_pool) {
  Meta m(meta, buffers);
  PoolOperands o = readPool(m);
  dnnl::memory::dims l, r;
  int sp = (int)o.k.size();
  if (o.x.dtype != 1 || o.kind == 2 || sp < 1 || sp > 3 || !poolPads(o, l, r)) {
    nncc_pool_portable(meta, buffers);
    return;
  }
  auto *p = kernelCache().get<PoolPrimitive>(meta, m.consumed(), nullptr, [&] { return createPool(o); });
  dnnl::memory src(p->src, engine(), o.x.data), dst(p->dst, engine(), o.y.data);
  p->pool.execute(stream(), {{DNNL_ARG_SRC, src}, {DNNL_ARG_DST, dst}});
  stream().wait();
}

//===----------------------------------------------------------------------===//
// Reorder
//===----------------------------------------------------------------------===//

namespace {
struct ReorderPrimitive : CachedKernel {
  dnnl::reorder reorder;
  dnnl::memory::desc src, dst;
};
} // namespace

extern "C" NNCC_KERNEL(nncc_reorder) {
  Meta m(meta, buffers);
  TensorArg x = m.tensor(), y = m.tensor();
  int64_t from = m.i(), to = m.i();
  int sp = (int)(x.rank - (from == kNCHW16c ? 3 : 2));
  if (x.dtype != 1 || sp < 1 || sp > 3) {
    nncc_reorder_portable(meta, buffers);
    return;
  }
  auto *p = kernelCache().get<ReorderPrimitive>(meta, m.consumed(), nullptr, [&] {
    auto r = std::make_unique<ReorderPrimitive>();
    r->src = dnnlActivation(x, sp, from);
    r->dst = dnnlActivation(y, sp, to);
    r->reorder = dnnl::reorder(dnnl::reorder::primitive_desc(engine(), r->src, engine(), r->dst));
    return r;
  });
  dnnl::memory src(p->src, engine(), x.data), dst(p->dst, engine(), y.data);
  p->reorder.execute(stream(), src, dst);
  stream().wait();
}

#endif
