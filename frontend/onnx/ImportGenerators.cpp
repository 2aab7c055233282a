//===- ImportGenerators.cpp - windows, mel matrix, DFT, training updates --===//
#include "frontend/onnx/ImporterImpl.h"
#include "frontend/onnx/NodeImporter.h"

#include <cmath>
#include <cstring>
#include <random>

using namespace mlir;
using namespace nncc;
using namespace nncc::onnximport;

namespace {

Type outputType(Node &n, int defaultCode = 1) {
  return nn::typeFromOnnxDataType(n.b.getContext(), (int)n.i("output_datatype", defaultCode));
}

/// Generalized cosine windows: sum_k (-1)^k a_k cos(2 pi k n / N).
LogicalResult cosineWindow(Node &n, ArrayRef<double> a) {
  auto size = n.requireConstant(0, "size");
  if (failed(size))
    return failure();
  int64_t N = size->asInt(0);
  if (N < 0)
    return n.fail("size must not be negative");
  Type et = outputType(n);
  if (!et)
    return n.fail("unsupported output_datatype");
  double denom = n.i("periodic", 1) ? (double)N : (double)(N - 1);
  std::vector<double> w(N);
  for (int64_t i = 0; i < N; ++i) {
    double v = 0;
    for (size_t k = 0; k < a.size(); ++k)
      v += (k % 2 ? -1 : 1) * a[k] * std::cos(2 * M_PI * k * i / denom);
    w[i] = v;
  }
  n.out(0, n.create<nn::ConstantOp>(nn::makeConst(RankedTensorType::get({N}, et), w)));
  return success();
}

LogicalResult importHann(Node &n) { return cosineWindow(n, {0.5, 0.5}); }
LogicalResult importHamming(Node &n) { return cosineWindow(n, {25.0 / 46, 21.0 / 46}); }
LogicalResult importBlackman(Node &n) { return cosineWindow(n, {0.42, 0.5, 0.08}); }

LogicalResult importMelWeightMatrix(Node &n) {
  FailureOr<ConstValues> in[5];
  const char *roles[] = {"num_mel_bins", "dft_length", "sample_rate", "lower_edge_hertz", "upper_edge_hertz"};
  for (int k = 0; k < 5; ++k) {
    in[k] = n.requireConstant(k, roles[k]);
    if (failed(in[k]))
      return failure();
  }
  int64_t bins = in[0]->asInt(0), dft = in[1]->asInt(0), rate = in[2]->asInt(0);
  double lo = in[3]->asDouble(0), hi = in[4]->asDouble(0);
  if (bins <= 0 || dft <= 0 || rate <= 0)
    return n.fail("num_mel_bins, dft_length and sample_rate must be positive");
  int64_t spectrogramBins = dft / 2 + 1;
  double loMel = 2595 * std::log10(1 + lo / 700), hiMel = 2595 * std::log10(1 + hi / 700);
  // As the ONNX 1.12 reference (and ONNX Runtime): the mel range is split in
  // num_mel_bins + 2 steps.
  double step = (hiMel - loMel) / (bins + 2);
  std::vector<int64_t> f(bins + 2);
  for (int64_t i = 0; i < bins + 2; ++i) {
    double hz = 700 * (std::pow(10.0, (i * step + loMel) / 2595) - 1);
    f[i] = (int64_t)std::floor((dft + 1) * hz / rate);
  }
  std::vector<double> w(spectrogramBins * bins, 0.0);
  auto at = [&](int64_t j, int64_t i) -> double & { return w[j * bins + i]; };
  for (int64_t i = 0; i < bins; ++i) {
    int64_t l = f[i], c = f[i + 1], h = f[i + 2];
    if (c - l == 0) {
      if (c >= 0 && c < spectrogramBins)
        at(c, i) = 1;
    } else {
      for (int64_t j = l; j <= c; ++j)
        if (j >= 0 && j < spectrogramBins)
          at(j, i) = (double)(j - l) / (double)(c - l);
    }
    if (h - c > 0)
      for (int64_t j = c; j < h; ++j)
        if (j >= 0 && j < spectrogramBins)
          at(j, i) = (double)(h - j) / (double)(h - c);
  }
  Type et = outputType(n);
  n.out(0, n.create<nn::ConstantOp>(nn::makeConst(RankedTensorType::get({spectrogramBins, bins}, et), w)));
  return success();
}

LogicalResult importDFT(Node &n) {
  Value x = n.in(0);
  auto shape = n.shape(0);
  int64_t axis = nn::normalizeAxis(n.i("axis", 1), shape.size());
  if (axis < 0 || axis == (int64_t)shape.size() - 1)
    return n.fail("axis must be a signal dimension");
  int64_t length = shape[axis];
  if (n.has(1)) {
    auto l = n.requireConstant(1, "dft_length");
    if (failed(l))
      return failure();
    length = l->asInt(0);
  }
  n.out(0, n.create<nn::DFTOp>(x, n.b.getI64IntegerAttr(axis), n.b.getI64IntegerAttr(length),
                               n.b.getBoolAttr(n.i("inverse", 0) != 0), n.b.getBoolAttr(n.i("onesided", 0) != 0)));
  return success();
}

LogicalResult importSTFT(Node &n) {
  auto step = n.requireConstant(1, "frame_step");
  if (failed(step))
    return failure();
  Value window = n.has(2) ? n.in(2) : Value();
  int64_t length = window ? n.shape(2)[0] : 0;
  if (n.has(3)) {
    auto l = n.requireConstant(3, "frame_length");
    if (failed(l))
      return failure();
    length = l->asInt(0);
  }
  if (length <= 0)
    return n.fail("needs a window or a frame_length");
  n.out(0, n.create<nn::STFTOp>(n.in(0), window, n.b.getI64IntegerAttr(step->asInt(0)),
                                n.b.getI64IntegerAttr(length), n.b.getBoolAttr(n.i("onesided", 1) != 0)));
  return success();
}

//===----------------------------------------------------------------------===//
// ai.onnx.preview.training optimizers, as nn ops on (X..., G..., states...)
//===----------------------------------------------------------------------===//

struct Update {
  Node &n;
  Type et;
  Value s(double v) { return n.scalar(v, et); }
  Value add(Value a, Value b) { return n.create<nn::AddOp>(a, b); }
  Value sub(Value a, Value b) { return n.create<nn::SubOp>(a, b); }
  Value mul(Value a, Value b) { return n.create<nn::MulOp>(a, b); }
  Value div(Value a, Value b) { return n.create<nn::DivOp>(a, b); }
  Value sqrt(Value a) { return n.create<nn::SqrtOp>(a); }
  /// norm_coefficient * x + g
  Value regularized(Value x, Value g, double norm) { return norm == 0 ? g : add(mul(s(norm), x), g); }
};

LogicalResult importAdagrad(Node &n) {
  int count = (n.numInputs() - 2) / 3;
  Type et = n.elt(0);
  Update u{n, et};
  Value r = n.in(0), t = n.cast(n.in(1), et);
  double decay = n.f("decay_factor", 0.0), eps = n.f("epsilon", 1e-6), norm = n.f("norm_coefficient", 0.0);
  Value rate = u.div(r, u.add(u.s(1), u.mul(t, u.s(decay))));
  for (int k = 0; k < count; ++k) {
    Value x = n.in(2 + k), g = n.in(2 + count + k), h = n.in(2 + 2 * count + k);
    Value gr = u.regularized(x, g, norm);
    Value hNew = u.add(h, u.mul(gr, gr));
    Value xNew = u.sub(x, u.div(u.mul(rate, gr), u.add(u.sqrt(hNew), u.s(eps))));
    n.out(k, xNew);
    n.out(count + k, hNew);
  }
  return success();
}

LogicalResult importMomentum(Node &n) {
  int count = (n.numInputs() - 2) / 3;
  Type et = n.elt(2);
  Update u{n, et};
  Value r = n.cast(n.in(0), et), t = n.in(1);
  double alpha = n.f("alpha", 0.0), beta = n.f("beta", 0.0), norm = n.f("norm_coefficient", 0.0);
  bool nesterov = n.s("mode", "standard") == "nesterov";
  // beta is used from the second step on (T > 0); the first step uses 1.
  Value first = n.create<nn::EqualOp>(t, n.constI64({0}, {}));
  Value b = n.create<nn::SelectOp>(first, u.s(1), u.s(beta));
  for (int k = 0; k < count; ++k) {
    Value x = n.in(2 + k), g = n.in(2 + count + k), v = n.in(2 + 2 * count + k);
    Value gr = u.regularized(x, g, norm);
    Value vNew = u.add(u.mul(u.s(alpha), v), u.mul(b, gr));
    Value step = nesterov ? u.add(gr, u.mul(u.s(alpha), vNew)) : vNew;
    n.out(k, u.sub(x, u.mul(r, step)));
    n.out(count + k, vNew);
  }
  return success();
}

LogicalResult importAdam(Node &n) {
  int count = (n.numInputs() - 2) / 4;
  Type et = n.elt(2);
  Update u{n, et};
  Value r = n.cast(n.in(0), et), t = n.cast(n.in(1), et);
  double alpha = n.f("alpha", 0.9), beta = n.f("beta", 0.999), eps = n.f("epsilon", 1e-6),
         norm = n.f("norm_coefficient", 0.0), post = n.f("norm_coefficient_post", 0.0);
  // R * sqrt(1 - beta^T) / (1 - alpha^T) from the second step on.
  Value bt = n.create<nn::PowOp>(u.s(beta), t), at = n.create<nn::PowOp>(u.s(alpha), t);
  Value adjusted = u.div(u.mul(r, u.sqrt(u.sub(u.s(1), bt))), u.sub(u.s(1), at));
  Value positive = n.create<nn::GreaterOp>(t, u.s(0));
  Value rate = n.create<nn::SelectOp>(positive, adjusted, r);
  for (int k = 0; k < count; ++k) {
    Value x = n.in(2 + k), g = n.in(2 + count + k), v = n.in(2 + 2 * count + k), h = n.in(2 + 3 * count + k);
    Value gr = u.regularized(x, g, norm);
    Value vNew = u.add(u.mul(u.s(alpha), v), u.mul(u.s(1 - alpha), gr));
    Value hNew = u.add(u.mul(u.s(beta), h), u.mul(u.s(1 - beta), u.mul(gr, gr)));
    Value xNew = u.sub(x, u.mul(rate, u.div(vNew, u.add(u.sqrt(hNew), u.s(eps)))));
    if (post != 0)
      xNew = u.mul(u.s(1 - post), xNew);
    n.out(k, xNew);
    n.out(count + k, vNew);
    n.out(2 * count + k, hNew);
  }
  return success();
}

// --- random numbers -----------------------------------------------------------

/// The element type of a random op's result: its `dtype` attribute, else
/// `def`; float types only.
FailureOr<Type> randomType(Node &n, Type def, StringRef attr = "dtype") {
  Type et = n.hasAttr(attr) ? nn::typeFromOnnxDataType(n.b.getContext(), (int)n.i(attr, 1)) : def;
  if (!et || !et.isa<FloatType>())
    return n.fail(Twine("unsupported ") + attr + " (random numbers are floating point)");
  return et;
}

/// Normal numbers (mean, scale) by Box-Muller: sqrt(-2 ln(1 - u1)) cos(2 pi u2).
Value randomNormal(Node &n, ArrayRef<int64_t> shape, Type et, double mean, double scale) {
  Type ft = n.wideFloat(et);
  Value u1 = randomUniform(n, shape, ft, 0, 1), u2 = randomUniform(n, shape, ft, 0, 1);
  Value r = n.create<nn::SqrtOp>(n.create<nn::MulOp>(
      n.scalar(-2, ft), n.create<nn::LogOp>(n.create<nn::SubOp>(n.scalar(1, ft), u1))));
  Value z = n.create<nn::MulOp>(r, n.create<nn::CosOp>(n.create<nn::MulOp>(n.scalar(2 * M_PI, ft), u2)));
  Value v = n.create<nn::AddOp>(n.create<nn::MulOp>(z, n.scalar(scale, ft)), n.scalar(mean, ft));
  return n.cast(v, et);
}

/// The shape of RandomUniform/RandomNormal (attribute) or of the *Like's input.
FailureOr<SmallVector<int64_t>> randomShape(Node &n, bool like) {
  if (like)
    return SmallVector<int64_t>(n.shape(0).begin(), n.shape(0).end());
  if (!n.hasAttr("shape"))
    return n.fail("missing attribute 'shape'");
  auto shape = n.ints("shape");
  if (llvm::any_of(shape, [](int64_t d) { return d < 0; }))
    return n.fail("shape has a negative size");
  return shape;
}

/// RandomUniform, RandomNormal and their *Like forms (shape and, by
/// default, element type of the input).
template <bool Normal, bool Like> LogicalResult importRandom(Node &n) {
  auto et = randomType(n, Like ? n.elt(0) : n.b.getF32Type());
  auto shape = randomShape(n, Like);
  if (failed(et) || failed(shape))
    return failure();
  n.out(0, Normal ? randomNormal(n, *shape, *et, n.f("mean", 0.0), n.f("scale", 1.0))
                  : randomUniform(n, *shape, *et, n.f("low", 0.0), n.f("high", 1.0)));
  return success();
}

/// Bernoulli: 1 where a uniform number falls below the input's probability.
LogicalResult importBernoulli(Node &n) {
  Type et = n.hasAttr("dtype") ? nn::typeFromOnnxDataType(n.b.getContext(), (int)n.i("dtype", 1)) : n.elt(0);
  if (!et)
    return n.fail("unsupported dtype");
  // Compared in f32 (f64): a narrower u could round up to 1.
  Type wide = n.wideFloat(n.elt(0));
  Value u = randomUniform(n, n.shape(0), wide, 0, 1);
  n.out(0, n.cast(n.create<nn::LessOp>(u, n.cast(n.in(0), wide)), et));
  return success();
}

/// Multinomial: `sample_size` class indices per row of unnormalized log
/// probabilities [batch, classes]: the number of entries of the cumulative
/// distribution at or below a uniform number (at most classes - 1).
LogicalResult importMultinomial(Node &n) {
  if (n.rank(0) != 2)
    return n.fail("input must be [batch, classes]");
  int64_t batch = n.shape(0)[0], classes = n.shape(0)[1], samples = n.i("sample_size", 1);
  if (samples < 1)
    return n.fail("sample_size must be positive");
  Type et = nn::typeFromOnnxDataType(n.b.getContext(), (int)n.i("dtype", 6));
  if (!et || !et.isa<IntegerType>())
    return n.fail("dtype must be int32 or int64");
  Type ft = n.wideFloat(n.elt(0)); // (f16: in f32)
  Value cdf = n.create<nn::CumSumOp>(n.create<nn::SoftmaxOp>(n.cast(n.in(0), ft), n.b.getI64IntegerAttr(1)),
                                     n.b.getI64IntegerAttr(1), n.b.getBoolAttr(false), n.b.getBoolAttr(false));
  Value u = randomUniform(n, {batch, samples, 1}, ft, 0, 1);
  Value below = n.create<nn::LessEqualOp>(n.reshape(cdf, {batch, 1, classes}), u);
  Value count = n.create<nn::ReduceSumOp>(n.cast(below, n.b.getI64Type()), n.i64s({2}), n.b.getBoolAttr(false));
  Value index = n.create<nn::MinOp>(count, n.constI64({classes - 1}, {}));
  n.out(0, n.cast(index, et));
  return success();
}

} // namespace

Value nncc::onnximport::randomUniform(Node &n, ArrayRef<int64_t> shape, Type elt, double low, double high) {
  OnnxImporterImpl &im = n.importer;
  int64_t seed;
  if (const onnx::AttributeProto *a = n.attr("seed")) {
    double s = a->f(); // (Dropout's is an integer)
    if (a->type() == onnx::AttributeProto::INT)
      seed = a->i();
    else
      std::memcpy(&seed, &s, sizeof seed);
  } else {
    if (!im.importSeed)
      im.importSeed = (int64_t)(((uint64_t)std::random_device()() << 32) | std::random_device()());
    seed = *im.importSeed;
  }
  Type ft = n.wideFloat(elt);
  Value u = n.create<nn::RandomUniformOp>(n.i64s(shape), TypeAttr::get(ft), n.b.getF64FloatAttr(low),
                                          n.b.getF64FloatAttr(high), n.b.getI64IntegerAttr(seed),
                                          n.b.getI64IntegerAttr(im.randomStreams++));
  if (elt == ft)
    return u;
  // Narrowed (f16, bf16), a value may round up to `high`: it becomes `low`.
  Value v = n.cast(u, elt);
  return n.create<nn::SelectOp>(n.create<nn::LessOp>(v, n.scalar(high, elt)), v, n.scalar(low, elt));
}

/// Gradient (ai.onnx.preview.training): the gradients of y w.r.t. xs, as
/// nn.gradient, which nn-expand-gradients replaces by autodiff's backward
/// graph. Its inputs are the values of xs, then zs, at which to evaluate
/// it: nncc evaluates it at the values the graph computed, so each input
/// must be the value it names.
LogicalResult importGradient(Node &n) {
  auto xs = n.strings("xs"), zs = n.strings("zs");
  std::string yName = n.s("y", "");
  auto floatTensor = [&](Value v) {
    auto t = v ? v.getType().dyn_cast<RankedTensorType>() : RankedTensorType();
    return t && t.getElementType().isa<FloatType>();
  };
  auto runTimeLength = [&](Value v) { return n.importer.rowsKnownAtRunTime.count(v) != 0; };
  Value y = n.importer.lookup(yName);
  if (!floatTensor(y))
    return n.fail("y ('" + yName + "') must be a float tensor computed before this node");
  if (runTimeLength(y))
    return n.fail("y ('" + yName + "') has a length known only at run time; its sum would read past it");
  if (n.numOutputs() > (int)xs.size())
    return n.fail("has " + Twine(n.numOutputs()) + " outputs for " + Twine(xs.size()) + " xs");
  SmallVector<Value> wrt;
  for (const std::string &name : xs) {
    Value x = n.importer.lookup(name);
    if (!floatTensor(x) || runTimeLength(x))
      return n.fail("xs names '" + name + "', which is not a float tensor of fixed shape computed before this node");
    wrt.push_back(x);
  }
  std::vector<std::string> named(xs.begin(), xs.end());
  named.insert(named.end(), zs.begin(), zs.end());
  for (int i = 0; i < n.numInputs(); ++i)
    if (i >= (int)named.size() || !n.has(i) || n.in(i) != n.importer.lookup(named[i]))
      return n.fail("input " + Twine(i) + " is not the value of '" + (i < (int)named.size() ? named[i] : "") +
                    "' (xs, then zs): nncc evaluates the gradient at the values the graph computes");
  auto g = n.b.create<nn::GradientOp>(n.loc, ValueRange(wrt).getTypes(), y, wrt);
  for (size_t k = 0; k < xs.size(); ++k)
    n.out((int)k, g.getResult(k));
  return success();
}

void nncc::onnximport::registerGeneratorHandlers(HandlerMap &m) {
  m["RandomUniform"] = importRandom<false, false>;
  m["RandomUniformLike"] = importRandom<false, true>;
  m["RandomNormal"] = importRandom<true, false>;
  m["RandomNormalLike"] = importRandom<true, true>;
  m["Bernoulli"] = importBernoulli;
  m["Multinomial"] = importMultinomial;
  m["HannWindow"] = importHann;
  m["HammingWindow"] = importHamming;
  m["BlackmanWindow"] = importBlackman;
  m["MelWeightMatrix"] = importMelWeightMatrix;
  m["DFT"] = importDFT;
  m["STFT"] = importSTFT;
  m["ai.onnx.preview.training::Adagrad"] = importAdagrad;
  m["ai.onnx.preview.training::Momentum"] = importMomentum;
  m["ai.onnx.preview.training::Adam"] = importAdam;
  m["ai.onnx.preview.training::Gradient"] = importGradient;
}
