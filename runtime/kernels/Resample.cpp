//===- Resample.cpp - resize, grid_sample, roi_align ----------------------===//
#include "runtime/kernels/Kernels.h"
#include "runtime/kernels/Meta.h"
#include "runtime/kernels/Parallel.h"

#include <algorithm>
#include <cmath>
#include <type_traits>

using namespace nncc::kernels;

namespace {

//===----------------------------------------------------------------------===//
// Resize (ONNX semantics: per-dimension taps, separable)
//===----------------------------------------------------------------------===//

struct Taps {
  int n = 0;
  int64_t idx[4];
  double w[4];
  bool outside = false;
};

enum Ctm { HalfPixel, Asymmetric, PytorchHalfPixel, TfHalfPixelForNN, AlignCorners, TfCropAndResize, HalfPixelSymmetric };

double cubicCoeff(double x, double a) {
  x = std::fabs(x);
  if (x <= 1)
    return ((a + 2) * x - (a + 3)) * x * x + 1;
  if (x < 2)
    return ((a * x - 5 * a) * x + 8 * a) * x - 4 * a;
  return 0;
}

Taps tapsFor(int64_t xo, int64_t inLen, int64_t, double scale, int ctm, double roiStart, double roiEnd,
             int mode, int nearestMode, double cubicA, bool excludeOutside) {
  // As the ONNX reference, the transforms use the real-valued output length.
  double outLen = scale * inLen;
  double x = 0;
  switch (ctm) {
  case HalfPixel: x = (xo + 0.5) / scale - 0.5; break;
  case Asymmetric: x = xo / scale; break;
  case PytorchHalfPixel: x = outLen > 1 ? (xo + 0.5) / scale - 0.5 : 0; break;
  case TfHalfPixelForNN: x = (xo + 0.5) / scale; break;
  case AlignCorners: x = outLen == 1 ? 0 : xo * (double)(inLen - 1) / (double)(outLen - 1); break;
  case TfCropAndResize:
    x = outLen > 1 ? roiStart * (inLen - 1) + xo * (roiEnd - roiStart) * (inLen - 1) / (double)(outLen - 1)
                   : 0.5 * (roiStart + roiEnd) * (inLen - 1);
    break;
  case HalfPixelSymmetric: {
    double adj = std::floor(outLen) / outLen, center = inLen / 2.0;
    x = center * (1 - adj) + (xo + 0.5) / scale - 0.5;
    break;
  }
  }
  Taps t;
  if (ctm == TfCropAndResize && (x < 0 || x > inLen - 1)) {
    t.outside = true;
    return t;
  }
  double fl = std::floor(x);
  bool integral = x == fl;
  double ratio = integral ? 1.0 : x - fl;
  int64_t base = integral ? (int64_t)fl - 1 : (int64_t)fl; // taps base, base + 1
  if (mode == 2) {
    t.n = 4;
    double c[4] = {cubicCoeff(ratio + 1, cubicA), cubicCoeff(ratio, cubicA), cubicCoeff(1 - ratio, cubicA),
                   cubicCoeff(2 - ratio, cubicA)};
    for (int i = 0; i < 4; ++i) {
      t.idx[i] = base - 1 + i;
      t.w[i] = c[i];
    }
  } else {
    t.n = 2;
    t.idx[0] = base;
    t.idx[1] = base + 1;
    if (mode == 1) {
      t.w[0] = 1 - ratio;
      t.w[1] = ratio;
    } else if (integral) {
      t.w[0] = 0;
      t.w[1] = 1;
    } else {
      bool up;
      switch (nearestMode) {
      case 0: up = ratio > 0.5; break;  // round_prefer_floor
      case 1: up = ratio >= 0.5; break; // round_prefer_ceil
      case 2: up = false; break;        // floor
      default: up = true; break;        // ceil
      }
      t.w[0] = up ? 0 : 1;
      t.w[1] = up ? 1 : 0;
    }
  }
  if (excludeOutside) {
    double sum = 0;
    for (int i = 0; i < t.n; ++i) {
      if (t.idx[i] < 0 || t.idx[i] >= inLen)
        t.w[i] = 0;
      sum += t.w[i];
    }
    if (sum != 0)
      for (int i = 0; i < t.n; ++i)
        t.w[i] /= sum;
  }
  for (int i = 0; i < t.n; ++i)
    t.idx[i] = maxOf<int64_t>(0, minOf(t.idx[i], inLen - 1));
  return t;
}

struct ResizeArgs {
  TensorArg x, y;
  int mode, ctm, nearest;
  double cubicA, extrapolation;
  bool exclude;
  double scales[kMaxRank], roi[2 * kMaxRank];
  int64_t numRoi;
};

ResizeArgs readResize(Meta &m) {
  ResizeArgs a;
  a.x = m.tensor();
  a.y = m.tensor();
  a.mode = (int)m.i();
  a.ctm = (int)m.i();
  a.nearest = (int)m.i();
  a.cubicA = m.f();
  a.exclude = m.i();
  a.extrapolation = m.f();
  int64_t n = m.i();
  for (int64_t k = 0; k < n; ++k) {
    double v = m.f();
    if (k < kMaxRank) a.scales[k] = v;
  }
  a.numRoi = m.i();
  for (int64_t k = 0; k < a.numRoi; ++k) {
    double v = m.f();
    if (k < 2 * kMaxRank) a.roi[k] = v;
  }
  return a;
}

template <typename T> void resizeTyped(const ResizeArgs &a, Scratch &s) {
  int rank = a.x.rank;
  // The taps of every output coordinate of every dimension.
  Taps *taps[kMaxRank];
  for (int d = 0; d < rank; ++d)
    taps[d] = s.alloc<Taps>(a.y.dim(d));
  if (s.measuring())
    return;
  for (int d = 0; d < rank; ++d) {
    bool haveRoi = a.numRoi == 2 * rank;
    double start = haveRoi ? a.roi[d] : 0, end = haveRoi ? a.roi[d + rank] : 1;
    for (int64_t o = 0; o < a.y.dim(d); ++o)
      taps[d][o] = tapsFor(o, a.x.dim(d), a.y.dim(d), a.scales[d], a.ctm, start, end, a.mode, a.nearest, a.cubicA,
                           a.exclude);
  }
  int64_t xs[kMaxRank], ys[kMaxRank], coord[kMaxRank];
  int sel[kMaxRank];
  a.x.strides(xs);
  a.y.strides(ys);
  const T *X = a.x.as<T>();
  T *Y = a.y.as<T>();
  for (int64_t k = 0; k < a.y.numel(); ++k) {
    int64_t rem = k;
    bool outside = false;
    for (int d = 0; d < rank; ++d) {
      coord[d] = rem / ys[d];
      rem %= ys[d];
      outside |= taps[d][coord[d]].outside;
      sel[d] = 0;
    }
    if (outside) {
      Y[k] = (T)a.extrapolation;
      continue;
    }
    // Sum over the Cartesian product of the taps of every dimension.
    double acc = 0;
    while (true) {
      double w = 1;
      int64_t off = 0;
      for (int d = 0; d < rank; ++d) {
        const Taps &t = taps[d][coord[d]];
        w *= t.w[sel[d]];
        off += t.idx[sel[d]] * xs[d];
      }
      if (w != 0)
        acc += w * (double)X[off];
      int d = rank - 1;
      while (d >= 0 && ++sel[d] == taps[d][coord[d]].n) {
        sel[d] = 0;
        --d;
      }
      if (d < 0)
        break;
    }
    if constexpr (std::is_integral<T>::value)
      Y[k] = (T)std::nearbyint(acc);
    else
      Y[k] = (T)acc;
  }
}

//===----------------------------------------------------------------------===//
// GridSample (2-D, as PyTorch's grid_sampler)
//===----------------------------------------------------------------------===//

double reflectCoord(double in, double twiceLow, double twiceHigh) {
  if (twiceLow == twiceHigh)
    return 0;
  double mn = twiceLow / 2, span = (twiceHigh - twiceLow) / 2;
  in = std::fabs(in - mn);
  double extra = std::fmod(in, span);
  int flips = (int)std::floor(in / span);
  return flips % 2 == 0 ? extra + mn : span - extra + mn;
}

double sourceIndex(double c, int64_t size, int padding, bool align) {
  if (padding == 1) {
    c = std::min<double>(size - 1, std::max(c, 0.0));
  } else if (padding == 2) {
    c = align ? reflectCoord(c, 0, 2.0 * (size - 1)) : reflectCoord(c, -1, 2.0 * size - 1);
    c = std::min<double>(size - 1, std::max(c, 0.0));
  }
  return c;
}

template <typename T> void gridSampleTyped(const TensorArg &x, const TensorArg &grid, const TensorArg &y, int mode,
                                           int padding, bool align) {
  int64_t N = x.dim(0), C = x.dim(1), H = x.dim(2), W = x.dim(3), Ho = y.dim(2), Wo = y.dim(3);
  const T *X = x.as<T>(), *G = grid.as<T>();
  T *Y = y.as<T>();
  auto unnorm = [&](double g, int64_t size) { return align ? (g + 1) / 2 * (size - 1) : ((g + 1) * size - 1) / 2; };
  for (int64_t n = 0; n < N; ++n)
    for (int64_t h = 0; h < Ho; ++h)
      for (int64_t w = 0; w < Wo; ++w) {
        const T *g = G + ((n * Ho + h) * Wo + w) * 2;
        double ix = unnorm(g[0], W), iy = unnorm(g[1], H);
        for (int64_t c = 0; c < C; ++c) {
          const T *plane = X + (n * C + c) * H * W;
          auto at = [&](int64_t yy, int64_t xx) -> double {
            if (yy < 0 || yy >= H || xx < 0 || xx >= W)
              return 0;
            return plane[yy * W + xx];
          };
          double out = 0;
          if (mode == 0) { // bilinear
            double sx = sourceIndex(ix, W, padding, align), sy = sourceIndex(iy, H, padding, align);
            int64_t x0 = (int64_t)std::floor(sx), y0 = (int64_t)std::floor(sy);
            double tx = sx - x0, ty = sy - y0;
            out = at(y0, x0) * (1 - tx) * (1 - ty) + at(y0, x0 + 1) * tx * (1 - ty) +
                  at(y0 + 1, x0) * (1 - tx) * ty + at(y0 + 1, x0 + 1) * tx * ty;
          } else if (mode == 1) { // nearest
            double sx = sourceIndex(ix, W, padding, align), sy = sourceIndex(iy, H, padding, align);
            out = at((int64_t)std::nearbyint(sy), (int64_t)std::nearbyint(sx));
          } else { // bicubic
            int64_t x0 = (int64_t)std::floor(ix), y0 = (int64_t)std::floor(iy);
            double tx = ix - x0, ty = iy - y0;
            double cx[4] = {cubicCoeff(tx + 1, -0.75), cubicCoeff(tx, -0.75), cubicCoeff(1 - tx, -0.75), cubicCoeff(2 - tx, -0.75)};
            double cy[4] = {cubicCoeff(ty + 1, -0.75), cubicCoeff(ty, -0.75), cubicCoeff(1 - ty, -0.75), cubicCoeff(2 - ty, -0.75)};
            for (int j = 0; j < 4; ++j)
              for (int i = 0; i < 4; ++i) {
                double sx = sourceIndex((double)(x0 - 1 + i), W, padding, align);
                double sy = sourceIndex((double)(y0 - 1 + j), H, padding, align);
                out += cx[i] * cy[j] * at((int64_t)sy, (int64_t)sx);
              }
          }
          Y[((n * C + c) * Ho + h) * Wo + w] = (T)out;
        }
      }
}

/// d cubicCoeff(x) / dx.
double cubicCoeffSlope(double x, double a) {
  double s = x < 0 ? -1 : 1;
  x = std::fabs(x);
  if (x <= 1)
    return s * (3 * (a + 2) * x - 2 * (a + 3)) * x;
  if (x < 2)
    return s * ((3 * a * x - 10 * a) * x + 8 * a);
  return 0;
}

/// d sourceIndex(c) / dc: 0 where a border clamps, -1 where a reflection
/// runs backwards.
double sourceIndexSlope(double c, int64_t size, int padding, bool align) {
  if (padding == 1)
    return c > 0 && c < size - 1 ? 1 : 0;
  if (padding == 2) {
    double lo = align ? 0 : -1, hi = align ? 2.0 * (size - 1) : 2.0 * size - 1;
    if (lo == hi)
      return 0;
    double mn = lo / 2, span = (hi - lo) / 2, d = c - mn;
    int flips = (int)std::floor(std::fabs(d) / span);
    double slope = (d < 0 ? -1 : 1) * (flips % 2 == 0 ? 1 : -1);
    double r = sourceIndex(c, size, 2, align);
    return r > 0 && r < size - 1 ? slope : 0;
  }
  return 1;
}

/// The adjoint of gridSampleTyped: dY scattered into dX with the same
/// weights, and dGrid from the weights' slopes (zero for nearest).
template <typename T>
void gridSampleGradTyped(const TensorArg &x, const TensorArg &grid, const TensorArg &dy, const TensorArg &dx,
                         const TensorArg &dgrid, int mode, int padding, bool align) {
  int64_t N = x.dim(0), C = x.dim(1), H = x.dim(2), W = x.dim(3), Ho = dy.dim(2), Wo = dy.dim(3);
  const T *X = x.as<T>(), *G = grid.as<T>(), *DY = dy.as<T>();
  T *DX = dx.present() ? dx.as<T>() : nullptr, *DG = dgrid.present() ? dgrid.as<T>() : nullptr;
  if (DX)
    std::fill(DX, DX + dx.numel(), T(0));
  auto unnorm = [&](double g, int64_t size) { return align ? (g + 1) / 2 * (size - 1) : ((g + 1) * size - 1) / 2; };
  double sxg = align ? (W - 1) / 2.0 : W / 2.0, syg = align ? (H - 1) / 2.0 : H / 2.0;
  for (int64_t n = 0; n < N; ++n)
    for (int64_t h = 0; h < Ho; ++h)
      for (int64_t w = 0; w < Wo; ++w) {
        const T *g = G + ((n * Ho + h) * Wo + w) * 2;
        double ix = unnorm(g[0], W), iy = unnorm(g[1], H), gix = 0, giy = 0;
        for (int64_t c = 0; c < C; ++c) {
          const T *plane = X + (n * C + c) * H * W;
          T *dplane = DX ? DX + (n * C + c) * H * W : nullptr;
          double go = DY[((n * C + c) * Ho + h) * Wo + w];
          auto at = [&](int64_t yy, int64_t xx) -> double {
            return yy < 0 || yy >= H || xx < 0 || xx >= W ? 0 : (double)plane[yy * W + xx];
          };
          auto add = [&](int64_t yy, int64_t xx, double wgt) {
            if (dplane && yy >= 0 && yy < H && xx >= 0 && xx < W)
              dplane[yy * W + xx] += (T)(go * wgt);
          };
          if (mode == 0) {
            double sx = sourceIndex(ix, W, padding, align), sy = sourceIndex(iy, H, padding, align);
            int64_t x0 = (int64_t)std::floor(sx), y0 = (int64_t)std::floor(sy);
            double tx = sx - x0, ty = sy - y0;
            add(y0, x0, (1 - tx) * (1 - ty));
            add(y0, x0 + 1, tx * (1 - ty));
            add(y0 + 1, x0, (1 - tx) * ty);
            add(y0 + 1, x0 + 1, tx * ty);
            double v00 = at(y0, x0), v01 = at(y0, x0 + 1), v10 = at(y0 + 1, x0), v11 = at(y0 + 1, x0 + 1);
            gix += go * ((v01 - v00) * (1 - ty) + (v11 - v10) * ty) * sourceIndexSlope(ix, W, padding, align);
            giy += go * ((v10 - v00) * (1 - tx) + (v11 - v01) * tx) * sourceIndexSlope(iy, H, padding, align);
          } else if (mode == 1) {
            double sx = sourceIndex(ix, W, padding, align), sy = sourceIndex(iy, H, padding, align);
            add((int64_t)std::nearbyint(sy), (int64_t)std::nearbyint(sx), 1.0);
          } else {
            int64_t x0 = (int64_t)std::floor(ix), y0 = (int64_t)std::floor(iy);
            double tx = ix - x0, ty = iy - y0, A = -0.75;
            double cx[4] = {cubicCoeff(tx + 1, A), cubicCoeff(tx, A), cubicCoeff(1 - tx, A), cubicCoeff(2 - tx, A)};
            double cy[4] = {cubicCoeff(ty + 1, A), cubicCoeff(ty, A), cubicCoeff(1 - ty, A), cubicCoeff(2 - ty, A)};
            double dcx[4] = {cubicCoeffSlope(tx + 1, A), cubicCoeffSlope(tx, A), -cubicCoeffSlope(1 - tx, A),
                             -cubicCoeffSlope(2 - tx, A)};
            double dcy[4] = {cubicCoeffSlope(ty + 1, A), cubicCoeffSlope(ty, A), -cubicCoeffSlope(1 - ty, A),
                             -cubicCoeffSlope(2 - ty, A)};
            for (int j = 0; j < 4; ++j)
              for (int i = 0; i < 4; ++i) {
                int64_t sx = (int64_t)sourceIndex((double)(x0 - 1 + i), W, padding, align);
                int64_t sy = (int64_t)sourceIndex((double)(y0 - 1 + j), H, padding, align);
                add(sy, sx, cx[i] * cy[j]);
                double v = at(sy, sx);
                gix += go * dcx[i] * cy[j] * v;
                giy += go * cx[i] * dcy[j] * v;
              }
          }
        }
        if (DG) {
          T *dg = DG + ((n * Ho + h) * Wo + w) * 2;
          dg[0] = (T)(gix * sxg);
          dg[1] = (T)(giy * syg);
        }
      }
}

//===----------------------------------------------------------------------===//
// RoiAlign (as ONNX Runtime)
//===----------------------------------------------------------------------===//

/// One bilinear sample of RoiAlign at (yy, xx): the four corners and their
/// weights (all zero outside the image).
struct RoiSample {
  int64_t yl = 0, xl = 0, yh = 0, xh = 0;
  double w[4] = {0, 0, 0, 0};
  int64_t at(int k, int64_t W) const { return (k < 2 ? yl : yh) * W + (k % 2 == 0 ? xl : xh); }
};

RoiSample roiSample(double yy, double xx, int64_t H, int64_t W) {
  RoiSample s;
  if (yy < -1.0 || yy > H || xx < -1.0 || xx > W)
    return s;
  double y1 = std::max(yy, 0.0), x1 = std::max(xx, 0.0);
  s.yl = (int64_t)y1;
  s.xl = (int64_t)x1;
  if (s.yl >= H - 1) { s.yh = s.yl = H - 1; y1 = (double)s.yl; } else s.yh = s.yl + 1;
  if (s.xl >= W - 1) { s.xh = s.xl = W - 1; x1 = (double)s.xl; } else s.xh = s.xl + 1;
  double ly = y1 - s.yl, lx = x1 - s.xl, hy = 1 - ly, hx = 1 - lx;
  s.w[0] = hy * hx; s.w[1] = hy * lx; s.w[2] = ly * hx; s.w[3] = ly * lx;
  return s;
}

/// The geometry of one roi: its start, bin size and sampling grid.
struct RoiGeometry {
  double sw, sh, bw, bh, count;
  int64_t gh, gw;
};

template <typename T>
RoiGeometry roiGeometry(const T *roi, int64_t PH, int64_t PW, int64_t ratio, double scale, bool halfPixel) {
  double off = halfPixel ? 0.5 : 0.0;
  RoiGeometry g;
  g.sw = roi[0] * scale - off;
  g.sh = roi[1] * scale - off;
  double rw = roi[2] * scale - off - g.sw, rh = roi[3] * scale - off - g.sh;
  if (!halfPixel) {
    rw = std::max(rw, 1.0);
    rh = std::max(rh, 1.0);
  }
  g.bh = rh / PH;
  g.bw = rw / PW;
  g.gh = ratio > 0 ? ratio : (int64_t)std::ceil(rh / PH);
  g.gw = ratio > 0 ? ratio : (int64_t)std::ceil(rw / PW);
  g.count = (double)std::max<int64_t>(g.gh * g.gw, 1);
  return g;
}

/// The adjoint of roiAlignTyped for x: avg spreads dY / count with each
/// sample's weights; max sends it to the weighted corner that won. The
/// boxes get no gradient (as in Detectron and torchvision).
template <typename T>
void roiAlignGradTyped(const TensorArg &x, const TensorArg &rois, const TensorArg &bidx, const TensorArg &dy,
                       const TensorArg &dx, bool isMax, int64_t ratio, double scale, bool halfPixel) {
  int64_t C = x.dim(1), H = x.dim(2), W = x.dim(3), R = dy.dim(0), PH = dy.dim(2), PW = dy.dim(3);
  const T *X = x.as<T>(), *Rs = rois.as<T>(), *DY = dy.as<T>();
  T *DX = dx.as<T>();
  std::fill(DX, DX + dx.numel(), T(0));
  for (int64_t r = 0; r < R; ++r) {
    int64_t b = indexAt(bidx, r);
    RoiGeometry geo = roiGeometry(Rs + r * 4, PH, PW, ratio, scale, halfPixel);
    for (int64_t c = 0; c < C; ++c) {
      const T *plane = X + (b * C + c) * H * W;
      T *dplane = DX + (b * C + c) * H * W;
      for (int64_t ph = 0; ph < PH; ++ph)
        for (int64_t pw = 0; pw < PW; ++pw) {
          double go = DY[((r * C + c) * PH + ph) * PW + pw], best = 0, bestW = 0;
          int64_t bestAt = -1;
          for (int64_t iy = 0; iy < geo.gh; ++iy) {
            double yy = geo.sh + ph * geo.bh + (iy + 0.5) * geo.bh / geo.gh;
            for (int64_t ix = 0; ix < geo.gw; ++ix) {
              double xx = geo.sw + pw * geo.bw + (ix + 0.5) * geo.bw / geo.gw;
              RoiSample sm = roiSample(yy, xx, H, W);
              for (int k = 0; k < 4; ++k) {
                if (!isMax) {
                  dplane[sm.at(k, W)] += (T)(go * sm.w[k] / geo.count);
                  continue;
                }
                double v = sm.w[k] * plane[sm.at(k, W)];
                if (bestAt < 0 || v > best) {
                  best = v;
                  bestW = sm.w[k];
                  bestAt = sm.at(k, W);
                }
              }
            }
          }
          if (isMax && bestAt >= 0)
            dplane[bestAt] += (T)(go * bestW);
        }
    }
  }
}

template <typename T> void roiAlignTyped(const TensorArg &x, const TensorArg &rois, const TensorArg &bidx,
                                         const TensorArg &y, bool isMax, int64_t ratio, double scale, bool halfPixel) {
  int64_t C = x.dim(1), H = x.dim(2), W = x.dim(3), R = y.dim(0), PH = y.dim(2), PW = y.dim(3);
  const T *X = x.as<T>(), *Rs = rois.as<T>();
  T *Y = y.as<T>();
  for (int64_t r = 0; r < R; ++r) {
    int64_t b = indexAt(bidx, r);
    RoiGeometry geo = roiGeometry(Rs + r * 4, PH, PW, ratio, scale, halfPixel);
    for (int64_t c = 0; c < C; ++c) {
      const T *plane = X + (b * C + c) * H * W;
      for (int64_t ph = 0; ph < PH; ++ph)
        for (int64_t pw = 0; pw < PW; ++pw) {
          double acc = 0;
          bool first = true;
          for (int64_t iy = 0; iy < geo.gh; ++iy) {
            double yy = geo.sh + ph * geo.bh + (iy + 0.5) * geo.bh / geo.gh;
            for (int64_t ix = 0; ix < geo.gw; ++ix) {
              double xx = geo.sw + pw * geo.bw + (ix + 0.5) * geo.bw / geo.gw;
              RoiSample sm = roiSample(yy, xx, H, W);
              double v[4];
              for (int k = 0; k < 4; ++k)
                v[k] = sm.w[k] * plane[sm.at(k, W)];
              if (isMax) {
                double m = std::max(std::max(v[0], v[1]), std::max(v[2], v[3]));
                acc = first ? m : std::max(acc, m);
                first = false;
              } else {
                acc += v[0] + v[1] + v[2] + v[3];
              }
            }
          }
          Y[((r * C + c) * PH + ph) * PW + pw] = (T)(isMax ? acc : acc / geo.count);
        }
    }
  }
}

} // namespace

extern "C" NNCC_KERNEL(nncc_resize) {
  Meta m(meta, buffers);
  ResizeArgs a = readResize(m);
  Scratch s = m.scratch();
  dispatchAll(a.x.dtype, [&](auto t) { resizeTyped<decltype(t)>(a, s); });
}

NNCC_SCRATCH(nncc_resize) {
  Meta m(meta, nullptr);
  ResizeArgs a = readResize(m);
  Scratch s;
  dispatchAll(a.x.dtype, [&](auto t) { resizeTyped<decltype(t)>(a, s); });
  return (int64_t)s.bytes();
}

extern "C" NNCC_KERNEL(nncc_grid_sample) {
  Meta m(meta, buffers);
  TensorArg x = m.tensor(), g = m.tensor(), y = m.tensor();
  int mode = (int)m.i(), padding = (int)m.i();
  bool align = m.i();
  dispatchFloat(x.dtype, [&](auto t) { gridSampleTyped<decltype(t)>(x, g, y, mode, padding, align); });
}

extern "C" NNCC_KERNEL(nncc_grid_sample_grad) {
  Meta m(meta, buffers);
  TensorArg x = m.tensor(), g = m.tensor(), dy = m.tensor(), dx = m.tensor(), dg = m.tensor();
  int mode = (int)m.i(), padding = (int)m.i();
  bool align = m.i();
  dispatchFloat(x.dtype, [&](auto t) { gridSampleGradTyped<decltype(t)>(x, g, dy, dx, dg, mode, padding, align); });
}

extern "C" NNCC_KERNEL(nncc_roi_align_grad) {
  Meta m(meta, buffers);
  TensorArg x = m.tensor(), rois = m.tensor(), b = m.tensor(), dy = m.tensor(), dx = m.tensor();
  bool isMax = m.i();
  int64_t ratio = m.i();
  double scale = m.f();
  bool half = m.i();
  dispatchFloat(x.dtype, [&](auto t) { roiAlignGradTyped<decltype(t)>(x, rois, b, dy, dx, isMax, ratio, scale, half); });
}

namespace {

/// Caffe's ROI pooling, as ONNX MaxRoiPool (and ONNX Runtime) define it.
template <typename T>
void maxRoiPoolTyped(const TensorArg &x, const TensorArg &rois, const TensorArg &y, double scale) {
  const T *X = x.as<T>(), *R = rois.as<T>();
  T *Y = y.as<T>();
  int64_t N = x.dim(0), C = x.dim(1), H = x.dim(2), W = x.dim(3);
  int64_t num = y.dim(0), PH = y.dim(2), PW = y.dim(3);
  parallelFor(num * C, PH * PW * 8, [&](int64_t begin, int64_t end) {
    for (int64_t rc = begin; rc < end; ++rc) {
      int64_t r = rc / C, c = rc % C;
      const T *roi = R + r * 5;
      T *out = Y + rc * PH * PW;
      // A batch index out of range (or NaN) pools nothing.
      if (!(roi[0] >= 0 && roi[0] < (T)N)) {
        for (int64_t k = 0; k < PH * PW; ++k)
          out[k] = 0;
        continue;
      }
      int64_t b = (int64_t)roi[0];
      // (in T, as Caffe and ONNX Runtime compute the bins)
      T s = (T)scale;
      int64_t x1 = (int64_t)std::round(roi[1] * s), y1 = (int64_t)std::round(roi[2] * s);
      int64_t x2 = (int64_t)std::round(roi[3] * s), y2 = (int64_t)std::round(roi[4] * s);
      T binH = (T)std::max<int64_t>(y2 - y1 + 1, 1) / (T)PH;
      T binW = (T)std::max<int64_t>(x2 - x1 + 1, 1) / (T)PW;
      const T *plane = X + (b * C + c) * H * W;
      for (int64_t ph = 0; ph < PH; ++ph) {
        int64_t h0 = std::min(std::max((int64_t)std::floor((T)ph * binH) + y1, int64_t(0)), H);
        int64_t h1 = std::min(std::max((int64_t)std::ceil((T)(ph + 1) * binH) + y1, int64_t(0)), H);
        for (int64_t pw = 0; pw < PW; ++pw) {
          int64_t w0 = std::min(std::max((int64_t)std::floor((T)pw * binW) + x1, int64_t(0)), W);
          int64_t w1 = std::min(std::max((int64_t)std::ceil((T)(pw + 1) * binW) + x1, int64_t(0)), W);
          T best = 0;
          if (h1 > h0 && w1 > w0) {
            best = plane[h0 * W + w0];
            for (int64_t h = h0; h < h1; ++h)
              for (int64_t w = w0; w < w1; ++w)
                best = std::max(best, plane[h * W + w]);
          }
          out[ph * PW + pw] = best;
        }
      }
    }
  });
}

} // namespace

extern "C" NNCC_KERNEL(nncc_max_roi_pool) {
  Meta m(meta, buffers);
  TensorArg x = m.tensor(), rois = m.tensor(), y = m.tensor();
  double scale = m.f();
  dispatchFloat(x.dtype, [&](auto t) { maxRoiPoolTyped<decltype(t)>(x, rois, y, scale); });
}

extern "C" NNCC_KERNEL(nncc_roi_align) {
  Meta m(meta, buffers);
  TensorArg x = m.tensor(), rois = m.tensor(), b = m.tensor(), y = m.tensor();
  bool isMax = m.i();
  int64_t ratio = m.i();
  double scale = m.f();
  bool half = m.i();
  dispatchFloat(x.dtype, [&](auto t) { roiAlignTyped<decltype(t)>(x, rois, b, y, isMax, ratio, scale, half); });
}
