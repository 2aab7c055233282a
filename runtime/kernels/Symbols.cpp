//===- Symbols.cpp - the table the JIT binds kernel calls to --------------===//
#include "runtime/kernels/Kernels.h"
#include "runtime/Profile.h"

#include <cstring>

extern "C" {
// Scratch-size functions (NNCC_SCRATCH) of the kernels that need scratch.
int64_t nncc_matmul_scratch(const int64_t *);
int64_t nncc_gemm_scratch(const int64_t *);
int64_t nncc_det_scratch(const int64_t *);
int64_t nncc_conv_scratch(const int64_t *);
int64_t nncc_conv_portable_scratch(const int64_t *);
int64_t nncc_matmul_portable_scratch(const int64_t *);
int64_t nncc_gemm_portable_scratch(const int64_t *);
int64_t nncc_conv_transpose_scratch(const int64_t *);
int64_t nncc_topk_scratch(const int64_t *);
int64_t nncc_non_max_suppression_scratch(const int64_t *);
int64_t nncc_unique_scratch(const int64_t *);
int64_t nncc_resize_scratch(const int64_t *);
int64_t nncc_dft_scratch(const int64_t *);
int64_t nncc_stft_scratch(const int64_t *);
int64_t nncc_lstm_scratch(const int64_t *);
int64_t nncc_gru_scratch(const int64_t *);
int64_t nncc_rnn_scratch(const int64_t *);
int64_t nncc_lstm_grad_scratch(const int64_t *);
int64_t nncc_gru_grad_scratch(const int64_t *);
int64_t nncc_rnn_grad_scratch(const int64_t *);
int64_t nncc_lstm_stack_scratch(const int64_t *);
int64_t nncc_lstm_stack_grad_scratch(const int64_t *);
int64_t nncc_gru_stack_scratch(const int64_t *);
int64_t nncc_gru_stack_grad_scratch(const int64_t *);
int64_t nncc_rnn_stack_scratch(const int64_t *);
int64_t nncc_rnn_stack_grad_scratch(const int64_t *);
void nncc_parallel_for(void (*)(void **, int64_t, int64_t), void **, int64_t, int64_t);
}

namespace nncc {

namespace {
struct Entry {
  const char *name;
  void *kernel;
  int64_t (*scratch)(const int64_t *);
};

const Entry *entries() {
#define K(name) {#name, reinterpret_cast<void *>(&name), nullptr}
#define KS(name) {#name, reinterpret_cast<void *>(&name), &name##_scratch}
  static const Entry table[] = {
      KS(nncc_matmul), KS(nncc_gemm), K(nncc_einsum), KS(nncc_det), KS(nncc_conv), KS(nncc_conv_transpose),
      K(nncc_pool), K(nncc_reorder), K(nncc_concat), K(nncc_softmax), K(nncc_layer_norm), K(nncc_maxpool_indices), K(nncc_max_unpool), KS(nncc_topk), K(nncc_cumsum), K(nncc_random_uniform),
      K(nncc_gather_nd), K(nncc_scatter_elements), K(nncc_scatter_nd), K(nncc_reverse_sequence),
      KS(nncc_resize), K(nncc_grid_sample), K(nncc_roi_align), K(nncc_max_roi_pool), K(nncc_tfidf_vectorizer), KS(nncc_non_max_suppression), K(nncc_non_zero), KS(nncc_unique), K(nncc_pack_prefix), KS(nncc_dft), KS(nncc_stft), KS(nncc_lstm),
      KS(nncc_gru), KS(nncc_rnn), KS(nncc_lstm_grad), KS(nncc_gru_grad), KS(nncc_rnn_grad), KS(nncc_lstm_stack), KS(nncc_lstm_stack_grad),
      KS(nncc_gru_stack), KS(nncc_gru_stack_grad), KS(nncc_rnn_stack), KS(nncc_rnn_stack_grad),
      K(nncc_grid_sample_grad),
      K(nncc_roi_align_grad),
      K(nncc_profile_begin), K(nncc_profile_end), K(nncc_parallel_for), {nullptr, nullptr, nullptr}};
#undef K
#undef KS
  return table;
}

/// Host kernels that replace a portable one: the portable scratch sizes,
/// for code compiled against the portable runtime (bundles).
const Entry *portableEntries() {
  static const Entry table[] = {{"nncc_conv", nullptr, &nncc_conv_portable_scratch},
                                {"nncc_matmul", nullptr, &nncc_matmul_portable_scratch},
                                {"nncc_gemm", nullptr, &nncc_gemm_portable_scratch},
                                {nullptr, nullptr, nullptr}};
  return table;
}
} // namespace

const KernelSymbol *kernelSymbols() {
  static KernelSymbol table[64];
  static bool filled = [] {
    int n = 0;
    for (const Entry *e = entries(); e->name; ++e)
      table[n++] = {e->name, e->kernel};
    table[n] = {nullptr, nullptr};
    return true;
  }();
  (void)filled;
  return table;
}

int64_t kernelScratchBytes(const char *name, const int64_t *meta, bool portable) {
  if (portable) {
    for (const Entry *e = portableEntries(); e->name; ++e)
      if (!std::strcmp(e->name, name))
        return e->scratch ? e->scratch(meta) : 0;
  }
  for (const Entry *e = entries(); e->name; ++e)
    if (!std::strcmp(e->name, name))
      return e->scratch ? e->scratch(meta) : 0;
  return 0;
}

} // namespace nncc
