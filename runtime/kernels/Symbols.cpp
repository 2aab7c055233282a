//===- Symbols.cpp - the table the JIT binds kernel calls to --------------===//
#include "runtime/kernels/Kernels.h"

namespace nncc {

const KernelSymbol *kernelSymbols() {
#define K(name) {#name, reinterpret_cast<void *>(&name)}
  static const KernelSymbol table[] = {
      K(nncc_matmul), K(nncc_gemm), K(nncc_einsum), K(nncc_det), K(nncc_conv), K(nncc_conv_transpose),
      K(nncc_pool), K(nncc_maxpool_indices), K(nncc_max_unpool), K(nncc_topk), K(nncc_cumsum),
      K(nncc_gather_nd), K(nncc_scatter_elements), K(nncc_scatter_nd), K(nncc_reverse_sequence),
      K(nncc_resize), K(nncc_grid_sample), K(nncc_roi_align), K(nncc_dft), K(nncc_stft), K(nncc_lstm), K(nncc_gru), K(nncc_rnn),
      {nullptr, nullptr}};
#undef K
  return table;
}

} // namespace nncc
