//===- RecurrentGemm.cpp --------------------------------------------------===//
#include "runtime/kernels/RecurrentGemm.h"
#include "runtime/kernels/Parallel.h"

#include <type_traits>

#ifdef NNCC_USE_DNNL
#include "oneapi/dnnl/dnnl.hpp"

#include <cstdlib>
#include <map>
#include <mutex>
#include <new>
#include <tuple>
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

dnnl::engine &cpuEngine() {
  static dnnl::engine *engine = new dnnl::engine(dnnl::engine::kind::cpu, 0); // (used until exit)
  return *engine;
}

/// The matmul primitive descriptors of [rows, K] x [K, N] (A and C with
/// leading dimensions lda and ldc), kept for the process: a training step
/// prepares its products again on every call (its weights change), and a
/// step with fewer rows running (sequence lengths) takes one of its own;
/// making a descriptor costs microseconds even when oneDNN's cache has the
/// primitive. The weights are in the layout oneDNN prefers, which comes
/// with the descriptor, or (`weights`) in the one a product of `weightsOf`
/// rows preferred: fewer rows run on the same reordered weights (a null
/// descriptor where oneDNN has no implementation for that). Only
/// descriptors: the primitives themselves are each RecurrentGemm's own, as
/// the products of two layers or directions that run at once on two
/// threads must not share one.
class Matmuls {
public:
  static Matmuls &get() {
    static Matmuls *matmuls = new Matmuls; // (used until exit)
    return *matmuls;
  }
  dnnl::matmul::primitive_desc find(int64_t rows, int64_t N, int64_t K, int64_t lda, int64_t ldc,
                                    int64_t weightsOf = 0, const dnnl::memory::desc *weights = nullptr) {
    // (oneDNN splits a product for the threads it may use where the
    // descriptor is made: one inside a parallel region)
#ifdef NNCC_HOST_THREADS
    int threads = omp_in_parallel() ? 1 : omp_get_max_threads();
#else
    int threads = 1;
#endif
    auto key = std::make_tuple(rows, N, K, lda, ldc, threads, weights ? weightsOf : 0);
    {
      std::lock_guard<std::mutex> lock(mutex);
      auto it = made.find(key);
      if (it != made.end())
        return it->second;
    }
    using dt = dnnl::memory::data_type;
    dnnl::memory::desc a({rows, K}, dt::f32, dnnl::memory::dims{lda, 1});
    dnnl::memory::desc c({rows, N}, dt::f32, dnnl::memory::dims{ldc, 1});
    dnnl::memory::desc w = weights ? *weights : dnnl::memory::desc({K, N}, dt::f32, dnnl::memory::format_tag::any);
    dnnl::matmul::primitive_desc pd;
    try {
      pd = dnnl::matmul::primitive_desc(dnnl::matmul::desc(a, w, c), cpuEngine());
    } catch (const dnnl::error &) {
      if (!weights)
        throw;
    }
    std::lock_guard<std::mutex> lock(mutex);
    made.emplace(key, pd);
    return pd;
  }
  void clear() {
    std::lock_guard<std::mutex> lock(mutex);
    made.clear();
  }

private:
  std::mutex mutex;
  std::map<std::tuple<int64_t, int64_t, int64_t, int64_t, int64_t, int, int64_t>, dnnl::matmul::primitive_desc> made;
};

/// A product's primitive, for some number of rows.
struct Product {
  dnnl::matmul matmul;
  dnnl::memory::desc a, c;
};
} // namespace

template <typename T> struct RecurrentGemm<T>::Prepared {
  dnnl::stream stream{cpuEngine()};
  Product all;              ///< for M rows
  /// For fewer rows (by rows), made on first use on the same weights; a
  /// null primitive where oneDNN has no implementation for that.
  std::map<int64_t, Product> fewer;
  std::mutex fewerMutex; ///< (a product kept in the KernelCache may serve two calls at once)
  dnnl::memory::desc weightsDesc;
  int64_t lda = 0, ldc = 0; ///< the leading dimensions a and c were made for
  void *buffer = nullptr;   ///< the reordered weights' (from WeightBuffers)
  size_t bytes = 0;
  dnnl::memory weights;
  /// C = A * the weights, by m's primitive.
  void execute(const Product &m, const void *A, void *C) {
    dnnl::memory a(m.a, cpuEngine(), const_cast<void *>(A)), c(m.c, cpuEngine(), C);
    m.matmul.execute(stream, {{DNNL_ARG_SRC, a}, {DNNL_ARG_WEIGHTS, weights}, {DNNL_ARG_DST, c}});
    stream.wait();
  }
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
    auto p = std::make_unique<Prepared>();
    dnnl::matmul::primitive_desc pd = Matmuls::get().find(M, N, K, lda, ldc);
    p->all = Product{dnnl::matmul(pd), pd.src_desc(), pd.dst_desc()};
    p->weightsDesc = pd.weights_desc();
    p->lda = lda;
    p->ldc = ldc;
    // W^T as a [K, N] matrix with strides (1, ldw) (or W itself: (ldw, 1)),
    // reordered once.
    dnnl::memory::desc userDesc({K, N}, dnnl::memory::data_type::f32,
                                kByN ? dnnl::memory::dims{ldw, 1} : dnnl::memory::dims{1, ldw});
    dnnl::memory user(userDesc, cpuEngine(), const_cast<float *>(W));
    p->bytes = p->weightsDesc.get_size();
    p->buffer = WeightBuffers::get().take(p->bytes);
    p->weights = dnnl::memory(p->weightsDesc, cpuEngine(), p->buffer);
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
  Matmuls::get().clear();
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
    // (on the weights as reordered for M rows; where oneDNN cannot, the
    // GEMM on W)
    Product m;
    {
      std::lock_guard<std::mutex> lock(prepared->fewerMutex);
      auto it = prepared->fewer.find(rows);
      if (it == prepared->fewer.end()) {
        dnnl::matmul::primitive_desc pd = Matmuls::get().find(rows, N, K, lda, ldc, M, &prepared->weightsDesc);
        Product made = pd ? Product{dnnl::matmul(pd), pd.src_desc(), pd.dst_desc()} : Product{};
        it = prepared->fewer.emplace(rows, made).first;
      }
      m = it->second;
    }
    if (m.matmul)
      return prepared->execute(m, A, C);
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
  if (prepared)
    return prepared->execute(prepared->all, A, C);
#endif
  gemm<T>(false, !kByN, M, N, K, T(1), A, lda, W, ldw, T(0), C, ldc, scratch);
}

template class RecurrentGemm<float>;
template class RecurrentGemm<double>;

} // namespace kernels
} // namespace nncc
