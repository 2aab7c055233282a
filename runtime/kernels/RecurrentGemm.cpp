//===- RecurrentGemm.cpp --------------------------------------------------===//
#include "runtime/kernels/RecurrentGemm.h"

#include <type_traits>

#ifdef NNCC_USE_DNNL
#include "oneapi/dnnl/dnnl.hpp"
#endif

namespace nncc {
namespace kernels {

#ifdef NNCC_USE_DNNL
template <typename T> struct RecurrentGemm<T>::Prepared {
  dnnl::engine engine{dnnl::engine::kind::cpu, 0};
  dnnl::stream stream{engine};
  dnnl::matmul matmul;
  dnnl::memory::desc a, c;
  dnnl::memory weights;
};
#endif

template <typename T>
RecurrentGemm<T>::RecurrentGemm(int64_t M, int64_t N, int64_t K, const T *W, int64_t ldw,
                                const GemmScratch<T> &scratch, bool kByN)
    : M(M), N(N), K(K), ldw(ldw), W(W), kByN(kByN), scratch(scratch) {}

#ifdef NNCC_USE_DNNL
/// The matmul primitive and the reordered weights, made on the first run
/// (a GRU's reset product is never run with linear_before_reset).
template <typename T> void RecurrentGemm<T>::prepare() {
  if constexpr (std::is_same<T, float>::value) {
    using tag = dnnl::memory::format_tag;
    using dt = dnnl::memory::data_type;
    auto p = std::make_unique<Prepared>();
    p->a = dnnl::memory::desc({M, K}, dt::f32, tag::ab);
    p->c = dnnl::memory::desc({M, N}, dt::f32, tag::ab);
    dnnl::memory::desc anyWeights({K, N}, dt::f32, tag::any);
    dnnl::matmul::primitive_desc pd(dnnl::matmul::desc(p->a, anyWeights, p->c), p->engine);
    p->matmul = dnnl::matmul(pd);
    // W^T as a [K, N] matrix with strides (1, ldw) (or W itself: (ldw, 1)),
    // reordered once.
    dnnl::memory::desc userDesc({K, N}, dt::f32, kByN ? dnnl::memory::dims{ldw, 1} : dnnl::memory::dims{1, ldw});
    dnnl::memory user(userDesc, p->engine, const_cast<float *>(W));
    p->weights = dnnl::memory(pd.weights_desc(), p->engine);
    dnnl::reorder(user, p->weights).execute(p->stream, user, p->weights);
    p->stream.wait();
    prepared = std::move(p);
  }
}
#endif

template <typename T> RecurrentGemm<T>::~RecurrentGemm() = default;

template <typename T> void RecurrentGemm<T>::run(const T *A, int64_t lda, T *C, int64_t ldc) {
#ifdef NNCC_USE_DNNL
  if (!prepared && lda == K && ldc == N)
    prepare();
  if (prepared && lda == K && ldc == N) {
    dnnl::memory a(prepared->a, prepared->engine, const_cast<T *>(A)), c(prepared->c, prepared->engine, C);
    prepared->matmul.execute(prepared->stream,
                             {{DNNL_ARG_SRC, a}, {DNNL_ARG_WEIGHTS, prepared->weights}, {DNNL_ARG_DST, c}});
    prepared->stream.wait();
    return;
  }
#endif
  gemm<T>(false, !kByN, M, N, K, T(1), A, lda, W, ldw, T(0), C, ldc, scratch);
}

template class RecurrentGemm<float>;
template class RecurrentGemm<double>;

} // namespace kernels
} // namespace nncc
