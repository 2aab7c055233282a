//===- Index.cpp - topk, cumsum, gather_nd, scatter, reverse_sequence, concat ===//
#include "runtime/kernels/Kernels.h"
#include "runtime/kernels/Meta.h"
#include "runtime/kernels/Parallel.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <type_traits>

using namespace nncc::kernels;

namespace {

/// outer * dim * inner decomposition around `axis`.
void split(const TensorArg &t, int64_t axis, int64_t &outer, int64_t &dim, int64_t &inner) {
  outer = inner = 1;
  for (int64_t d = 0; d < axis; ++d) outer *= t.dim(d);
  dim = t.dim(axis);
  for (int64_t d = axis + 1; d < t.rank; ++d) inner *= t.dim(d);
}

template <typename T> bool isNan(T v) {
  if constexpr (std::is_floating_point<T>::value)
    return std::isnan(v);
  return false;
}

template <typename T> void combine(T &dst, T v, int reduction) {
  switch (reduction) {
  case 1: dst = dst + v; break;
  case 2: dst = dst * v; break;
  case 3: dst = maxOf(dst, v); break;
  case 4: dst = minOf(dst, v); break;
  default: dst = v; break;
  }
}

struct TopKArgs {
  TensorArg x, v, ix;
  int64_t axis;
  bool largest;
};

TopKArgs readTopK(Meta &m) {
  TopKArgs a;
  a.x = m.tensor(); a.v = m.tensor(); a.ix = m.tensor();
  a.axis = m.i();
  a.largest = m.i();
  m.i(); // sorted: results are always sorted
  return a;
}

template <typename T> void topkTyped(const TopKArgs &a, Scratch &s) {
  int64_t outer, dim, inner;
  split(a.x, a.axis, outer, dim, inner);
  int64_t *order = s.alloc<int64_t>(dim);
  if (s.measuring())
    return;
  int64_t k = a.v.dim(a.axis);
  const T *X = a.x.as<T>();
  T *V = a.v.as<T>();
  int64_t *I = a.ix.as<int64_t>();
  bool largest = a.largest;
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t i = 0; i < inner; ++i) {
      const T *base = X + o * dim * inner + i;
      for (int64_t j = 0; j < dim; ++j)
        order[j] = j;
      // Ties keep the lower index first; NaN counts as the largest value.
      auto before = [&](int64_t p, int64_t q) {
        T vp = base[p * inner], vq = base[q * inner];
        if (isNan(vp) || isNan(vq)) {
          if (isNan(vp) && isNan(vq)) return p < q;
          return largest ? isNan(vp) : isNan(vq);
        }
        if (vp != vq) return largest ? vp > vq : vp < vq;
        return p < q;
      };
      std::partial_sort(order, order + k, order + dim, before);
      for (int64_t j = 0; j < k; ++j) {
        V[(o * k + j) * inner + i] = base[order[j] * inner];
        I[(o * k + j) * inner + i] = order[j];
      }
    }
}

} // namespace

extern "C" NNCC_KERNEL(nncc_topk) {
  Meta m(meta, buffers);
  TopKArgs a = readTopK(m);
  Scratch s = m.scratch();
  dispatchAll(a.x.dtype, [&](auto t) { topkTyped<decltype(t)>(a, s); });
}

NNCC_SCRATCH(nncc_topk) {
  Meta m(meta, nullptr);
  TopKArgs a = readTopK(m);
  Scratch s;
  dispatchAll(a.x.dtype, [&](auto t) { topkTyped<decltype(t)>(a, s); });
  return (int64_t)s.bytes();
}

extern "C" NNCC_KERNEL(nncc_cumsum) {
  Meta m(meta, buffers);
  TensorArg x = m.tensor(), y = m.tensor();
  int64_t axis = m.i();
  bool exclusive = m.i(), reverse = m.i();
  int64_t outer, dim, inner;
  split(x, axis, outer, dim, inner);
  dispatchAll(x.dtype, [&](auto t) {
    using T = decltype(t);
    const T *X = x.as<T>();
    T *Y = y.as<T>();
    for (int64_t o = 0; o < outer; ++o)
      for (int64_t i = 0; i < inner; ++i) {
        T acc = 0;
        for (int64_t s = 0; s < dim; ++s) {
          int64_t j = reverse ? dim - 1 - s : s;
          int64_t at = (o * dim + j) * inner + i;
          T v = X[at];
          if (exclusive) {
            Y[at] = acc;
            acc += v;
          } else {
            acc += v;
            Y[at] = acc;
          }
        }
      }
  });
}

extern "C" NNCC_KERNEL(nncc_gather_nd) {
  Meta m(meta, buffers);
  TensorArg x = m.tensor(), idx = m.tensor(), y = m.tensor();
  int64_t b = m.i();
  size_t es = elementSize(x.dtype);
  int64_t last = idx.last();
  int64_t batch = 1;
  for (int64_t d = 0; d < b; ++d) batch *= x.dim(d);
  int64_t slice = 1;
  for (int64_t d = b + last; d < x.rank; ++d) slice *= x.dim(d);
  int64_t xs[kMaxRank];
  x.strides(xs);
  int64_t perBatchIdx = idx.numel() / maxOf<int64_t>(last, 1) / maxOf<int64_t>(batch, 1);
  int64_t xBatchStride = b > 0 ? xs[b - 1] : x.numel();
  const auto *X = static_cast<const uint8_t *>(x.data);
  auto *Y = static_cast<uint8_t *>(y.data);
  for (int64_t bi = 0; bi < batch; ++bi)
    for (int64_t q = 0; q < perBatchIdx; ++q) {
      int64_t row = bi * perBatchIdx + q;
      int64_t off = bi * xBatchStride;
      for (int64_t k = 0; k < last; ++k) {
        int64_t v = indexAt(idx, row * last + k), dim = x.dim(b + k);
        if (v < 0) v += dim;
        v = maxOf<int64_t>(0, minOf(v, dim - 1));
        off += v * xs[b + k];
      }
      std::memcpy(Y + row * slice * es, X + off * es, slice * es);
    }
}

extern "C" NNCC_KERNEL(nncc_scatter_elements) {
  Meta m(meta, buffers);
  TensorArg x = m.tensor(), idx = m.tensor(), u = m.tensor(), y = m.tensor();
  int64_t axis = m.i();
  int reduction = (int)m.i();
  std::memcpy(y.data, x.data, x.numel() * elementSize(x.dtype));
  int64_t us[kMaxRank], ys[kMaxRank];
  u.strides(us);
  y.strides(ys);
  dispatchAll(x.dtype, [&](auto t) {
    using T = decltype(t);
    T *Y = y.as<T>();
    const T *U = u.as<T>();
    for (int64_t k = 0; k < u.numel(); ++k) {
      int64_t off = 0, rem = k;
      bool ok = true;
      for (int64_t d = 0; d < u.rank; ++d) {
        int64_t c = rem / us[d];
        rem %= us[d];
        if (d == axis) {
          c = indexAt(idx, k);
          if (c < 0) c += y.dim(d);
          ok = c >= 0 && c < y.dim(d); // out of range: skipped
        }
        off += c * ys[d];
      }
      if (ok)
        combine(Y[off], U[k], reduction);
    }
  });
}

extern "C" NNCC_KERNEL(nncc_scatter_nd) {
  Meta m(meta, buffers);
  TensorArg x = m.tensor(), idx = m.tensor(), u = m.tensor(), y = m.tensor();
  int reduction = (int)m.i();
  std::memcpy(y.data, x.data, x.numel() * elementSize(x.dtype));
  int64_t last = idx.last();
  int64_t rows = idx.numel() / maxOf<int64_t>(last, 1);
  int64_t slice = 1;
  for (int64_t d = last; d < x.rank; ++d) slice *= x.dim(d);
  int64_t xs[kMaxRank];
  x.strides(xs);
  dispatchAll(x.dtype, [&](auto t) {
    using T = decltype(t);
    T *Y = y.as<T>();
    const T *U = u.as<T>();
    for (int64_t r = 0; r < rows; ++r) {
      int64_t off = 0;
      bool ok = true;
      for (int64_t k = 0; k < last; ++k) {
        int64_t v = indexAt(idx, r * last + k);
        if (v < 0) v += x.dim(k);
        ok &= v >= 0 && v < x.dim(k);
        off += v * xs[k];
      }
      if (!ok) continue;
      for (int64_t e = 0; e < slice; ++e)
        combine(Y[off + e], U[r * slice + e], reduction);
    }
  });
}

extern "C" NNCC_KERNEL(nncc_reverse_sequence) {
  Meta m(meta, buffers);
  TensorArg x = m.tensor(), lens = m.tensor(), y = m.tensor();
  int64_t batchAxis = m.i(), timeAxis = m.i();
  size_t es = elementSize(x.dtype);
  int64_t xs[kMaxRank];
  x.strides(xs);
  const auto *X = static_cast<const uint8_t *>(x.data);
  auto *Y = static_cast<uint8_t *>(y.data);
  for (int64_t k = 0; k < x.numel(); ++k) {
    int64_t rem = k, b = 0, t = 0;
    for (int64_t d = 0; d < x.rank; ++d) {
      int64_t c = rem / xs[d];
      rem %= xs[d];
      if (d == batchAxis) b = c;
      if (d == timeAxis) t = c;
    }
    int64_t len = minOf<int64_t>(indexAt(lens, b), x.dim(timeAxis));
    int64_t src = k;
    if (t < len)
      src = k + ((len - 1 - t) - t) * xs[timeAxis];
    std::memcpy(Y + k * es, X + src * es, es);
  }
}

//===----------------------------------------------------------------------===//
// Concat: y[outer, sum of parts' (dim * inner)] row by row, rows in parallel.
// meta: count, parts..., y, axis.
//===----------------------------------------------------------------------===//

namespace {
constexpr int kMaxConcatParts = 64;
} // namespace

extern "C" NNCC_KERNEL(nncc_concat) {
  Meta m(meta, buffers);
  int64_t count = m.i();
  TensorArg parts[kMaxConcatParts];
  for (int64_t k = 0; k < count && k < kMaxConcatParts; ++k)
    parts[k] = m.tensor();
  TensorArg y = m.tensor();
  int64_t axis = m.i();
  count = minOf<int64_t>(count, kMaxConcatParts);
  size_t es = elementSize(y.dtype);
  int64_t outer, dim, inner;
  split(y, axis, outer, dim, inner);
  int64_t rowBytes = dim * inner * (int64_t)es;
  int64_t chunk[kMaxConcatParts];
  for (int64_t k = 0; k < count; ++k)
    chunk[k] = parts[k].dim(axis) * inner * (int64_t)es;
  parallelFor(outer, rowBytes / 4 + 1, [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r) {
      auto *dst = static_cast<uint8_t *>(y.data) + r * rowBytes;
      for (int64_t k = 0; k < count; ++k) {
        if (chunk[k])
          std::memcpy(dst, static_cast<const uint8_t *>(parts[k].data) + r * chunk[k], (size_t)chunk[k]);
        dst += chunk[k];
      }
    }
  });
}

/// TfIdfVectorizer over integer tokens. Each candidate n-gram is looked up
/// by a scan of the pool's n-grams of its length (no allocation: bundles).
extern "C" NNCC_KERNEL(nncc_tfidf_vectorizer) {
  Meta m(meta, buffers);
  TensorArg x = m.tensor(), pool = m.tensor(), indexes = m.tensor(), weights = m.tensor(), y = m.tensor();
  int64_t minN = m.i(), maxN = m.i(), maxSkip = m.i(), mode = m.i(); // mode: 0 TF, 1 IDF, 2 TFIDF
  IntList counts = m.ints(); // pool offsets of the n-grams of length 1, 2, ...
  int64_t levels = counts.n;
  const int64_t *starts = counts.p;
  const int64_t *P = pool.as<int64_t>(), *I = indexes.as<int64_t>();
  const float *Wt = weights.as<float>();
  int64_t poolSize = pool.numel(), grams = indexes.numel(), width = y.dim(y.rank - 1);
  int64_t rows = x.rank == 2 ? x.dim(0) : 1, C = x.dim(x.rank - 1);
  float *Y = y.as<float>();
  for (int64_t k = 0; k < rows * width; ++k)
    Y[k] = 0;
  // The n-grams of length n: pool[from, to), and the index of the first.
  auto range = [&](int64_t n, int64_t &from, int64_t &to, int64_t &first) {
    from = n <= levels ? starts[n - 1] : poolSize;
    to = n < levels ? starts[n] : poolSize;
    first = 0;
    for (int64_t l = 1; l < n && l <= levels; ++l)
      first += ((l < levels ? starts[l] : poolSize) - starts[l - 1]) / l;
  };
  for (int64_t r = 0; r < rows; ++r) {
    float *out = Y + r * width;
    for (int64_t n = std::max<int64_t>(minN, 1); n <= maxN; ++n) {
      int64_t from, to, first;
      range(n, from, to, first);
      for (int64_t skip = 0; skip <= (n == 1 ? 0 : maxSkip); ++skip)
        for (int64_t i = 0; i + (n - 1) * (skip + 1) < C; ++i)
          for (int64_t g = from; g + n <= to; g += n) {
            bool match = true;
            for (int64_t t = 0; t < n && match; ++t)
              match = indexAt(x, r * C + i + t * (skip + 1)) == P[g + t];
            if (!match)
              continue;
            int64_t j = first + (g - from) / n;
            if (j < grams && I[j] >= 0 && I[j] < width)
              out[I[j]] += 1;
          }
    }
  }
  if (mode == 0)
    return;
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t j = 0; j < grams; ++j) {
      int64_t c = I[j];
      if (c < 0 || c >= width)
        continue;
      float &v = Y[r * width + c];
      float w = weights.present() && j < weights.numel() ? Wt[j] : 1.0f;
      v = mode == 1 ? (v > 0 ? w : 0) : v * w;
    }
}

namespace {

struct NmsArgs {
  TensorArg boxes, scores, maxOut, iou, scoreThreshold, selected, count;
  int64_t center;
  bool hasScoreThreshold;
};

NmsArgs readNms(Meta &m) {
  NmsArgs a;
  a.boxes = m.tensor(), a.scores = m.tensor(), a.maxOut = m.tensor(), a.iou = m.tensor();
  a.scoreThreshold = m.tensor(), a.selected = m.tensor(), a.count = m.tensor();
  a.center = m.i();
  a.hasScoreThreshold = m.i();
  return a;
}

/// Corners (x0, y0, x1, y1), ordered, of box `i`: ONNX's [y1, x1, y2, x2]
/// (either corner first) or, with center_point_box, [xc, yc, w, h].
void corners(const float *box, int64_t center, float c[4]) {
  if (center) {
    c[0] = box[0] - box[2] / 2, c[2] = box[0] + box[2] / 2;
    c[1] = box[1] - box[3] / 2, c[3] = box[1] + box[3] / 2;
  } else {
    c[0] = std::min(box[1], box[3]), c[2] = std::max(box[1], box[3]);
    c[1] = std::min(box[0], box[2]), c[3] = std::max(box[0], box[2]);
  }
}

/// Intersection over union (0 when either box has no area), as ONNX Runtime.
float iou(const float *a, const float *b, int64_t center) {
  float p[4], q[4];
  corners(a, center, p);
  corners(b, center, q);
  float areaP = (p[2] - p[0]) * (p[3] - p[1]), areaQ = (q[2] - q[0]) * (q[3] - q[1]);
  if (areaP <= 0 || areaQ <= 0)
    return 0;
  float w = std::min(p[2], q[2]) - std::max(p[0], q[0]), h = std::min(p[3], q[3]) - std::max(p[1], q[1]);
  if (w <= 0 || h <= 0)
    return 0;
  float inter = w * h;
  return inter / (areaP + areaQ - inter);
}

void nms(const NmsArgs &a, Scratch &s) {
  int64_t B = a.boxes.dim(0), N = a.boxes.dim(1), C = a.scores.dim(1);
  int64_t *order = s.alloc<int64_t>(N), *kept = s.alloc<int64_t>(N);
  if (s.measuring())
    return;
  int64_t maxOut = std::max<int64_t>(a.maxOut.as<int64_t>()[0], 0);
  float iouThreshold = a.iou.as<float>()[0], scoreThreshold = a.scoreThreshold.as<float>()[0];
  const float *boxes = a.boxes.as<float>(), *scores = a.scores.as<float>();
  int64_t *rows = a.selected.as<int64_t>(), capacity = a.selected.dim(0), written = 0;
  for (int64_t b = 0; b < B; ++b)
    for (int64_t c = 0; c < C; ++c) {
      const float *S = scores + (b * C + c) * N, *box = boxes + b * N * 4;
      int64_t candidates = 0;
      for (int64_t i = 0; i < N; ++i)
        if (S[i] == S[i] && (!a.hasScoreThreshold || S[i] > scoreThreshold)) // (NaN never)
          order[candidates++] = i;
      std::sort(order, order + candidates, [&](int64_t p, int64_t q) { return S[p] > S[q] || (S[p] == S[q] && p < q); });
      int64_t keptCount = 0;
      for (int64_t j = 0; j < candidates && keptCount < maxOut; ++j) {
        int64_t i = order[j];
        bool keep = true;
        for (int64_t k = 0; k < keptCount && keep; ++k)
          keep = !(iou(box + i * 4, box + kept[k] * 4, a.center) > iouThreshold);
        if (!keep)
          continue;
        kept[keptCount++] = i;
        if (written < capacity) {
          rows[written * 3] = b, rows[written * 3 + 1] = c, rows[written * 3 + 2] = i;
          ++written;
        }
      }
    }
  // Rows past the count are zeros (box 0 of batch 0, class 0): a node that
  // gathers with them reads in bounds.
  std::fill(rows + written * 3, rows + capacity * 3, int64_t(0));
  a.count.as<int64_t>()[0] = written;
}

} // namespace

extern "C" NNCC_KERNEL(nncc_non_max_suppression) {
  Meta m(meta, buffers);
  NmsArgs a = readNms(m);
  Scratch s = m.scratch();
  nms(a, s);
}

NNCC_SCRATCH(nncc_non_max_suppression) {
  Meta m(meta, nullptr);
  NmsArgs a = readNms(m);
  Scratch s;
  nms(a, s);
  return (int64_t)s.bytes();
}

//===----------------------------------------------------------------------===//
// Outputs whose length is known at run time: NonZero, Unique, and the
// packing of such an output for its caller. Each writes zeros past the
// count, so the rows a later node reads there are in bounds.
//===----------------------------------------------------------------------===//

namespace {

template <typename T> bool nonZero(T v) { return v != T(0); }

/// Total order for Unique: NaNs after every number and equal to each other.
template <typename T> int compareValues(T a, T b) {
  if (a < b) return -1;
  if (b < a) return 1;
  bool p = isNan(a), q = isNan(b);
  return p == q ? 0 : (p ? 1 : -1);
}

struct UniqueArgs {
  TensorArg x, y, indices, inverse, counts, count;
  bool sorted;
};

UniqueArgs readUnique(Meta &m) {
  UniqueArgs a;
  a.x = m.tensor(), a.y = m.tensor(), a.indices = m.tensor(), a.inverse = m.tensor(), a.counts = m.tensor();
  a.count = m.tensor();
  a.sorted = m.i();
  return a;
}

/// x is [outer, n, inner]: the n slices x[:, j, :] compared as their
/// elements in order (numpy.unique with an axis).
void unique(const UniqueArgs &a, Scratch &s) {
  int64_t outer = a.x.dim(0), n = a.x.dim(1), inner = a.x.dim(2);
  int64_t *order = s.alloc<int64_t>(n), *first = s.alloc<int64_t>(n), *group = s.alloc<int64_t>(n),
          *rank = s.alloc<int64_t>(n);
  if (s.measuring())
    return;
  int64_t *I = a.indices.as<int64_t>(), *inv = a.inverse.as<int64_t>(), *C = a.counts.as<int64_t>();
  size_t bytes = elementSize(a.x.dtype);
  dispatchAll(a.x.dtype, [&](auto zero) {
    using T = decltype(zero);
    const T *X = a.x.as<T>();
    auto compare = [&](int64_t p, int64_t q) {
      for (int64_t o = 0; o < outer; ++o)
        for (int64_t i = 0; i < inner; ++i) {
          int c = compareValues(X[(o * n + p) * inner + i], X[(o * n + q) * inner + i]);
          if (c)
            return c;
        }
      return 0;
    };
    for (int64_t j = 0; j < n; ++j)
      order[j] = j;
    std::sort(order, order + n, [&](int64_t p, int64_t q) {
      int c = compare(p, q);
      return c < 0 || (c == 0 && p < q);
    });
    // Groups of equal slices in sorted order; a group's first index is its
    // first occurrence (ties sort by index).
    int64_t groups = 0;
    for (int64_t k = 0; k < n; ++k) {
      if (k == 0 || compare(order[k - 1], order[k]) != 0)
        first[groups++] = order[k];
      group[order[k]] = groups - 1;
    }
    // rank[g]: the group's place in the output (sorted, or by first
    // occurrence).
    for (int64_t g = 0; g < groups; ++g)
      rank[g] = g;
    if (!a.sorted) {
      int64_t *byFirst = order; // (order is no longer needed)
      for (int64_t g = 0; g < groups; ++g)
        byFirst[g] = g;
      std::sort(byFirst, byFirst + groups, [&](int64_t p, int64_t q) { return first[p] < first[q]; });
      for (int64_t u = 0; u < groups; ++u)
        rank[byFirst[u]] = u;
    }
    std::fill(I, I + n, int64_t(0));
    std::fill(C, C + n, int64_t(0));
    for (int64_t g = 0; g < groups; ++g)
      I[rank[g]] = first[g];
    for (int64_t j = 0; j < n; ++j) {
      inv[j] = rank[group[j]];
      ++C[inv[j]];
    }
    T *Y = a.y.as<T>();
    std::fill(Y, Y + outer * n * inner, T(0));
    for (int64_t o = 0; o < outer; ++o)
      for (int64_t u = 0; u < groups; ++u)
        std::memcpy(Y + (o * n + u) * inner, X + (o * n + I[u]) * inner, inner * bytes);
    a.count.as<int64_t>()[0] = groups;
  });
}

} // namespace

/// nncc_non_zero(x, indices [rank, numel], count): the indices of the
/// nonzero elements in row-major order, column by column.
extern "C" NNCC_KERNEL(nncc_non_zero) {
  Meta m(meta, buffers);
  TensorArg x = m.tensor(), out = m.tensor(), count = m.tensor();
  int64_t numel = x.numel(), rank = x.rank, found = 0, *Y = out.as<int64_t>();
  int64_t strides[kMaxRank];
  x.strides(strides);
  dispatchAll(x.dtype, [&](auto zero) {
    using T = decltype(zero);
    const T *X = x.as<T>();
    for (int64_t e = 0; e < numel; ++e) {
      if (!nonZero(X[e]))
        continue;
      for (int64_t d = 0, rest = e; d < rank; ++d) {
        Y[d * numel + found] = rest / strides[d];
        rest %= strides[d];
      }
      ++found;
    }
  });
  for (int64_t d = 0; d < rank; ++d)
    std::fill(Y + d * numel + found, Y + (d + 1) * numel, int64_t(0));
  count.as<int64_t>()[0] = found;
}

extern "C" NNCC_KERNEL(nncc_unique) {
  Meta m(meta, buffers);
  UniqueArgs a = readUnique(m);
  Scratch s = m.scratch();
  unique(a, s);
}

NNCC_SCRATCH(nncc_unique) {
  Meta m(meta, nullptr);
  UniqueArgs a = readUnique(m);
  Scratch s;
  unique(a, s);
  return (int64_t)s.bytes();
}

/// nncc_pack_prefix(x, count, y, dim): y holds x's first `count` entries
/// along `dim` (of its `n`), packed as a tensor of that extent would be, then
/// zeros: what a caller trims to that extent.
extern "C" NNCC_KERNEL(nncc_pack_prefix) {
  Meta m(meta, buffers);
  TensorArg x = m.tensor(), count = m.tensor(), y = m.tensor();
  int64_t dim = m.i(), outer, n, inner;
  split(x, dim, outer, n, inner);
  int64_t c = std::min(std::max(count.as<int64_t>()[0], int64_t(0)), n);
  size_t row = (size_t)inner * elementSize(x.dtype);
  const char *X = x.as<char>();
  char *Y = y.as<char>();
  for (int64_t o = 0; o < outer; ++o)
    std::memcpy(Y + o * c * row, X + o * n * row, c * row);
  std::memset(Y + outer * c * row, 0, (size_t)(outer * (n - c)) * row);
}
