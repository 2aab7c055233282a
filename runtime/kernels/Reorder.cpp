//===- Reorder.cpp - activations between nchw, nhwc and nchw16c -----------===//
//
// The portable nncc_reorder (the host runs oneDNN's reorder, DnnlConv.cpp):
// meta is x, y, from, to with layout codes 0 nchw, 1 nhwc, 2 nchw16c.
//
//===----------------------------------------------------------------------===//
#include "runtime/kernels/Kernels.h"
#include "runtime/kernels/Meta.h"

using namespace nncc::kernels;

namespace {

/// Element offset of (n, c, spatial position s) in a layout; `spatial` is
/// the product of the spatial dimensions.
int64_t offsetOf(int64_t layout, int64_t n, int64_t c, int64_t s, int64_t C, int64_t spatial) {
  switch (layout) {
  case 1: return (n * spatial + s) * C + c;
  case 2: return ((n * (C / 16) + c / 16) * spatial + s) * 16 + c % 16;
  default: return (n * C + c) * spatial + s;
  }
}

template <typename T> void reorderTyped(const TensorArg &x, const TensorArg &y, int64_t from, int64_t to) {
  int64_t N = x.dim(0), spatialRank = x.rank - (from == 2 ? 3 : 2), spatial = 1;
  for (int64_t i = 0; i < spatialRank; ++i)
    spatial *= x.dim((from == 1 ? 1 : 2) + i);
  int64_t C = from == 1 ? x.last() : from == 2 ? x.dim(1) * 16 : x.dim(1);
  const T *src = x.as<T>();
  T *dst = y.as<T>();
  for (int64_t n = 0; n < N; ++n)
    for (int64_t c = 0; c < C; ++c)
      for (int64_t s = 0; s < spatial; ++s)
        dst[offsetOf(to, n, c, s, C, spatial)] = src[offsetOf(from, n, c, s, C, spatial)];
}

} // namespace

#ifdef NNCC_USE_DNNL
#define NNCC_PORTABLE_REORDER nncc_reorder_portable
#else
#define NNCC_PORTABLE_REORDER nncc_reorder
#endif

extern "C" NNCC_KERNEL(NNCC_PORTABLE_REORDER) {
  Meta m(meta, buffers);
  TensorArg x = m.tensor(), y = m.tensor();
  int64_t from = m.i(), to = m.i();
  dispatchAll(x.dtype, [&](auto t) { reorderTyped<decltype(t)>(x, y, from, to); });
}
