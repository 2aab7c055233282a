//===- Kernels.h - the runtime kernel library -------------------*- C++ -*-===//
//
// Every kernel has the C signature
//   void nncc_<name>(const int64_t *meta, void *const *buffers);
// where `meta` encodes shapes, element types and attributes in the order
// codegen/LowerKernels.cpp writes them, and `buffers` holds one pointer per
// tensor operand, then the kernel's scratch buffer (a slice of the caller's
// workspace, sized by `nncc_<name>_scratch(meta)` at compile time). Kernels
// never allocate, keep no state and may run concurrently. They are plain C++
// without MLIR, LLVM or libstdc++ dependencies, so bundles link them on any
// target.
//
//===----------------------------------------------------------------------===//
#ifndef NNCC_RUNTIME_KERNELS_KERNELS_H
#define NNCC_RUNTIME_KERNELS_KERNELS_H

#include <cstdint>

#define NNCC_KERNEL(name) void name(const int64_t *meta, void *const *buffers)

extern "C" {
NNCC_KERNEL(nncc_matmul);
NNCC_KERNEL(nncc_gemm);
NNCC_KERNEL(nncc_einsum);
NNCC_KERNEL(nncc_det);
NNCC_KERNEL(nncc_conv);
NNCC_KERNEL(nncc_conv_transpose);
NNCC_KERNEL(nncc_pool);
NNCC_KERNEL(nncc_reorder);
NNCC_KERNEL(nncc_concat);
NNCC_KERNEL(nncc_softmax);
NNCC_KERNEL(nncc_layer_norm);
NNCC_KERNEL(nncc_maxpool_indices);
NNCC_KERNEL(nncc_max_unpool);
NNCC_KERNEL(nncc_topk);
NNCC_KERNEL(nncc_cumsum);
NNCC_KERNEL(nncc_random_uniform);
NNCC_KERNEL(nncc_max_roi_pool);
NNCC_KERNEL(nncc_tfidf_vectorizer);
NNCC_KERNEL(nncc_non_max_suppression);
NNCC_KERNEL(nncc_non_zero);
NNCC_KERNEL(nncc_unique);
NNCC_KERNEL(nncc_pack_prefix);
NNCC_KERNEL(nncc_gather_nd);
NNCC_KERNEL(nncc_scatter_elements);
NNCC_KERNEL(nncc_scatter_nd);
NNCC_KERNEL(nncc_reverse_sequence);
NNCC_KERNEL(nncc_resize);
NNCC_KERNEL(nncc_grid_sample);
NNCC_KERNEL(nncc_roi_align);
NNCC_KERNEL(nncc_dft);
NNCC_KERNEL(nncc_stft);
NNCC_KERNEL(nncc_lstm);
NNCC_KERNEL(nncc_gru);
NNCC_KERNEL(nncc_rnn);
NNCC_KERNEL(nncc_lstm_grad);
NNCC_KERNEL(nncc_gru_grad);
NNCC_KERNEL(nncc_rnn_grad);
NNCC_KERNEL(nncc_lstm_stack);
NNCC_KERNEL(nncc_lstm_stack_grad);
NNCC_KERNEL(nncc_gru_stack);
NNCC_KERNEL(nncc_gru_stack_grad);
NNCC_KERNEL(nncc_rnn_stack);
NNCC_KERNEL(nncc_rnn_stack_grad);
NNCC_KERNEL(nncc_grid_sample_grad);
NNCC_KERNEL(nncc_roi_align_grad);
}

namespace nncc {
struct KernelSymbol {
  const char *name;
  void *address;
};
/// Every kernel with its address, terminated by {nullptr, nullptr}. The JIT
/// binds compiled code to these.
const KernelSymbol *kernelSymbols();
/// Bytes of scratch kernel `name` needs for the call described by `meta`
/// (its operands and attributes, without the scratch buffer itself).
/// With `portable`, the size for the portable kernel where the host runtime
/// has a faster one under the same name (its `<name>_portable`).
int64_t kernelScratchBytes(const char *name, const int64_t *meta, bool portable = false);
} // namespace nncc

#endif
