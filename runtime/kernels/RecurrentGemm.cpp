//===- RecurrentGemm.cpp --------------------------------------------------===//
#include "runtime/kernels/RecurrentGemm.h"

#include <type_traits>

#ifdef NNCC_USE_DNNL
#include "oneapi/dnnl/dnnl.hpp"

#include <cstdlib>
#include <map>
#include <mutex>
#include <new>
#include <optional>
#include <vector>
#endif

namespace nncc {
namespace kernels {

#ifdef NNCC_USE_DNNL
namespace {
/// Buffers for reordered weights, kept when their RecurrentGemm goes. A
/// layer whose weights change between calls (training, or weights given
/// as inputs) prepares its products on every call: with fresh buffers each
/// time the pages are new, and faulting them in cost more than the layer's
/// arithmetic (a 4-layer GRU, hidden 512: 100 ms a call instead of 36 ms).
/// At most kKeptBytes are kept free.
class WeightBuffers {
public:
  static WeightBuffers &get() {
    static WeightBuffers *pool = new WeightBuffers; // (never destroyed: used until exit)
    return *pool;
  }
  void *take(size_t bytes) {
    {
      std::lock_guard<std::mutex> lock(mutex);
      auto it = free.find(bytes);
      if (it != free.end()) {
        void *p = it->second;
        free.erase(it);
        freeBytes -= bytes;
        return p;
      }
    }
    void *p = std::aligned_alloc(64, (bytes + 63) / 64 * 64);
    if (!p)
      throw std::bad_alloc();
    return p;
  }
  /// Frees every kept buffer.
  void release() {
    std::lock_guard<std::mutex> lock(mutex);
    for (auto &e : free)
      std::free(e.second);
    free.clear();
    freeBytes = 0;
  }
  void give(void *p, size_t bytes) {
    std::lock_guard<std::mutex> lock(mutex);
    if (freeBytes + bytes > kKeptBytes) {
      std::free(p);
      return;
    }
    free.emplace(bytes, p);
    freeBytes += bytes;
  }

private:
  static constexpr size_t kKeptBytes = size_t(256) << 20;
  std::mutex mutex;
  std::multimap<size_t, void *> free;
  size_t freeBytes = 0;
};
} // namespace

template <typename T> struct RecurrentGemm<T>::Prepared {
  dnnl::engine engine{dnnl::engine::kind::cpu, 0};
  dnnl::stream stream{engine};
  dnnl::matmul matmul;
  dnnl::memory::desc a, c;
  int64_t lda = 0, ldc = 0; ///< the leading dimensions a and c were made for
  void *buffer = nullptr;   ///< the reordered weights' (from WeightBuffers)
  size_t bytes = 0;
  dnnl::memory weights;
  /// The primitives for fewer rows than M (index: rows), made on first
  /// use; a null one where oneDNN wanted the weights in another layout.
  std::mutex mutex;
  std::vector<std::optional<dnnl::matmul>> fewer;
  ~Prepared() {
    if (buffer)
      WeightBuffers::get().give(buffer, bytes);
  }
};
#endif

template <typename T>
RecurrentGemm<T>::RecurrentGemm(int64_t M, int64_t N, int64_t K, const T *W, int64_t ldw,
                                const GemmScratch<T> &scratch, bool kByN)
    : M(M), N(N), K(K), ldw(ldw), W(W), kByN(kByN), scratch(scratch) {}

#ifdef NNCC_USE_DNNL
/// The matmul primitive and the reordered weights, made on the first run
/// (a GRU's reset product is never run with linear_before_reset), for that
/// run's leading dimensions of A and C.
template <typename T> void RecurrentGemm<T>::prepare(int64_t lda, int64_t ldc) {
  if constexpr (std::is_same<T, float>::value) {
    using tag = dnnl::memory::format_tag;
    using dt = dnnl::memory::data_type;
    auto p = std::make_unique<Prepared>();
    p->a = dnnl::memory::desc({M, K}, dt::f32, dnnl::memory::dims{lda, 1});
    p->c = dnnl::memory::desc({M, N}, dt::f32, dnnl::memory::dims{ldc, 1});
    p->lda = lda;
    p->ldc = ldc;
    dnnl::memory::desc anyWeights({K, N}, dt::f32, tag::any);
    dnnl::matmul::primitive_desc pd(dnnl::matmul::desc(p->a, anyWeights, p->c), p->engine);
    p->matmul = dnnl::matmul(pd);
    // W^T as a [K, N] matrix with strides (1, ldw) (or W itself: (ldw, 1)),
    // reordered once.
    dnnl::memory::desc userDesc({K, N}, dt::f32, kByN ? dnnl::memory::dims{ldw, 1} : dnnl::memory::dims{1, ldw});
    dnnl::memory user(userDesc, p->engine, const_cast<float *>(W));
    p->bytes = pd.weights_desc().get_size();
    p->buffer = WeightBuffers::get().take(p->bytes);
    p->weights = dnnl::memory(pd.weights_desc(), p->engine, p->buffer);
    dnnl::reorder(user, p->weights).execute(p->stream, user, p->weights);
    p->stream.wait();
    prepared = std::move(p);
  }
}
#endif

template <typename T> RecurrentGemm<T>::~RecurrentGemm() = default;

void releaseWeightBuffers() {
#ifdef NNCC_USE_DNNL
  WeightBuffers::get().release();
#endif
}

template <typename T> void RecurrentGemm<T>::prepareFor(int64_t lda, int64_t ldc) {
#ifdef NNCC_USE_DNNL
  if (!prepared)
    prepare(lda, ldc);
#else
  (void)lda;
  (void)ldc;
#endif
}

template <typename T> void RecurrentGemm<T>::run(const T *A, int64_t lda, T *C, int64_t ldc, int64_t rows) {
  if (rows >= M)
    return run(A, lda, C, ldc);
  if (rows <= 0)
    return;
#ifdef NNCC_USE_DNNL
  if constexpr (std::is_same<T, float>::value) {
    if (!prepared || prepared->lda != lda || prepared->ldc != ldc)
      prepare(lda, ldc);
    Prepared &p = *prepared;
    dnnl::memory::desc a({rows, K}, dnnl::memory::data_type::f32, dnnl::memory::dims{lda, 1});
    dnnl::memory::desc c({rows, N}, dnnl::memory::data_type::f32, dnnl::memory::dims{ldc, 1});
    std::optional<dnnl::matmul> matmul;
    {
      // (a kernel kept in the KernelCache may run on several threads)
      std::lock_guard<std::mutex> lock(p.mutex);
      if (p.fewer.empty())
        p.fewer.resize(M);
      std::optional<dnnl::matmul> &slot = p.fewer[rows];
      if (!slot) {
        dnnl::memory::desc anyWeights({K, N}, dnnl::memory::data_type::f32, dnnl::memory::format_tag::any);
        dnnl::matmul::primitive_desc pd(dnnl::matmul::desc(a, anyWeights, c), p.engine);
        slot = pd.weights_desc() == p.weights.get_desc() ? dnnl::matmul(pd) : dnnl::matmul();
      }
      matmul = slot;
    }
    if (*matmul) {
      dnnl::memory am(a, p.engine, const_cast<T *>(A)), cm(c, p.engine, C);
      matmul->execute(p.stream, {{DNNL_ARG_SRC, am}, {DNNL_ARG_WEIGHTS, p.weights}, {DNNL_ARG_DST, cm}});
      p.stream.wait();
      return;
    }
  }
#endif
  gemm<T>(false, !kByN, rows, N, K, T(1), A, lda, W, ldw, T(0), C, ldc, scratch);
}

template <typename T> void RecurrentGemm<T>::run(const T *A, int64_t lda, T *C, int64_t ldc) {
#ifdef NNCC_USE_DNNL
  // (Prepared again for other leading dimensions: the scratch given at
  // construction may be gone by then, when the object is kept in the
  // KernelCache. Every caller uses one lda and ldc per object.)
  if constexpr (std::is_same<T, float>::value) // (nothing is prepared for double)
    if (!prepared || prepared->lda != lda || prepared->ldc != ldc)
      prepare(lda, ldc);
  if (prepared) {
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
