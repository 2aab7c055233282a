//===- ImportElementwise.cpp - ONNX elementwise ops -----------------------===//
#include "frontend/onnx/ImporterImpl.h"
#include "frontend/onnx/NodeImporter.h"

#include <cfloat>
#include <cmath>

using namespace mlir;
using namespace nncc;
using namespace nncc::onnximport;

namespace {

template <typename OpT> LogicalResult unary(Node &n) {
  n.out(0, n.create<OpT>(n.in(0)));
  return success();
}

/// Opset < 7 binary ops broadcast only with broadcast=1, aligning B's
/// dimensions with A's starting at `axis` (suffix when axis is absent).
static Value legacyBroadcastRhs(Node &n, Value a, Value b) {
  if (n.opset >= 7 || !n.i("broadcast", 0))
    return b;
  auto ta = a.getType().cast<RankedTensorType>(), tb = b.getType().cast<RankedTensorType>();
  if (!n.hasAttr("axis") || tb.getRank() == 0)
    return b;
  int64_t axis = nn::normalizeAxis(n.i("axis", 0), ta.getRank());
  if (axis < 0 || axis + tb.getRank() > ta.getRank()) {
    (void)n.fail("legacy broadcast axis out of range");
    return {};
  }
  // B's dimensions go to [axis, axis + rank(B)); ones elsewhere.
  Shape shape(ta.getRank(), 1);
  for (int64_t d = 0; d < tb.getRank(); ++d)
    shape[axis + d] = tb.getDimSize(d);
  return n.reshape(b, shape);
}

template <typename OpT> LogicalResult binary(Node &n) {
  Value a = n.in(0), b = legacyBroadcastRhs(n, n.in(0), n.in(1));
  n.out(0, n.create<OpT>(a, b));
  return success();
}

LogicalResult importMod(Node &n) {
  n.out(0, n.create<nn::ModOp>(n.in(0), n.in(1), n.b.getBoolAttr(n.i("fmod", 0) != 0)));
  return success();
}

LogicalResult importBitShift(Node &n) {
  std::string dir = n.s("direction", "");
  if (dir != "LEFT" && dir != "RIGHT")
    return n.fail("direction must be LEFT or RIGHT, got '" + dir + "'");
  n.out(0, n.create<nn::BitShiftOp>(n.in(0), n.in(1), n.b.getBoolAttr(dir == "LEFT")));
  return success();
}

LogicalResult importPRelu(Node &n) {
  Value x = n.in(0), slope = n.in(1);
  auto tx = n.type(0), ts = n.type(1);
  // A per-channel slope [C] applies to dimension 1 (as PyTorch exports it).
  if (ts.getRank() == 1 && tx.getRank() > 2 && ts.getDimSize(0) == tx.getDimSize(1) &&
      ts.getDimSize(0) != tx.getShape().back()) {
    Shape shape(tx.getRank() - 1, 1);
    shape[0] = ts.getDimSize(0);
    slope = n.reshape(slope, shape);
  }
  n.out(0, n.create<nn::PReluOp>(x, slope));
  return success();
}

/// Sum, Max, Min, Mean: a chain of broadcasting binary ops.
template <typename OpT> LogicalResult variadic(Node &n) {
  Value acc = n.in(0);
  for (int k = 1; k < n.numInputs(); ++k)
    acc = n.create<OpT>(acc, n.in(k));
  n.out(0, acc);
  return success();
}

LogicalResult importMean(Node &n) {
  Value acc = n.in(0);
  for (int k = 1; k < n.numInputs(); ++k)
    acc = n.create<nn::AddOp>(acc, n.in(k));
  if (n.numInputs() > 1)
    acc = n.create<nn::DivOp>(acc, n.scalar(n.numInputs(), n.elt(0)));
  n.out(0, acc);
  return success();
}

LogicalResult importWhere(Node &n) {
  n.out(0, n.create<nn::SelectOp>(n.in(0), n.in(1), n.in(2)));
  return success();
}

LogicalResult importClip(Node &n) {
  Value x = n.in(0);
  Type et = n.elt(0);
  Value lo, hi;
  if (n.opset < 11) {
    if (n.hasAttr("min")) lo = n.scalar(n.f("min", -FLT_MAX), et);
    if (n.hasAttr("max")) hi = n.scalar(n.f("max", FLT_MAX), et);
  } else {
    if (n.has(1)) lo = n.in(1);
    if (n.has(2)) hi = n.in(2);
  }
  if (lo)
    x = n.create<nn::MaxOp>(x, lo);
  if (hi)
    x = n.create<nn::MinOp>(x, hi);
  n.out(0, x);
  return success();
}

static Type castTarget(Node &n) {
  const onnx::AttributeProto *a = n.attr("to");
  if (!a)
    return {};
  if (a->has_s() || a->type() == onnx::AttributeProto::STRING) {
    // Cast-1 named the type.
    static const std::map<std::string, int> names = {
        {"FLOAT", 1}, {"UINT8", 2}, {"INT8", 3}, {"UINT16", 4}, {"INT16", 5}, {"INT32", 6},
        {"INT64", 7}, {"BOOL", 9}, {"FLOAT16", 10}, {"DOUBLE", 11}, {"UINT32", 12}, {"UINT64", 13}};
    auto it = names.find(a->s());
    return it == names.end() ? Type() : nn::typeFromOnnxDataType(n.b.getContext(), it->second);
  }
  return nn::typeFromOnnxDataType(n.b.getContext(), (int)a->i());
}

LogicalResult importCast(Node &n) {
  Type to = castTarget(n);
  if (!to)
    return n.fail("unsupported target type (attribute 'to')");
  n.out(0, n.cast(n.in(0), to));
  return success();
}

LogicalResult importCastLike(Node &n) {
  n.out(0, n.cast(n.in(0), n.elt(1)));
  return success();
}

LogicalResult importIdentity(Node &n) {
  n.out(0, n.in(0));
  return success();
}

LogicalResult importDropout(Node &n) {
  // Inference: the identity. Training mode with a non-zero ratio is random.
  double ratio = n.opset < 12 ? n.f("ratio", 0.5) : 0.5;
  bool training = false;
  if (n.opset >= 12) {
    if (n.has(1)) {
      auto r = n.requireConstant(1, "ratio");
      if (failed(r)) return failure();
      ratio = r->asDouble(0);
    }
    if (n.has(2)) {
      auto t = n.requireConstant(2, "training_mode");
      if (failed(t)) return failure();
      training = t->asInt(0) != 0;
    }
  }
  if (training && ratio > 0 && !n.importer.options.evaluation) {
    // Keeps each element with probability 1 - ratio, scaled by 1 / (1 - ratio).
    Type et = n.elt(0);
    if (!et.isa<FloatType>())
      return n.fail("training-mode dropout of a non-float tensor");
    Value u = randomUniform(n, n.shape(0), n.wideFloat(et), 0, 1);
    Value keep = n.create<nn::GreaterEqualOp>(u, n.scalar(ratio, u.getType().cast<RankedTensorType>().getElementType()));
    Value zero = n.scalar(0, et);
    Value scaled = ratio < 1 ? n.create<nn::MulOp>(n.in(0), n.scalar(1 / (1 - ratio), et)) : zero;
    n.out(0, n.create<nn::SelectOp>(keep, scaled, zero));
    n.out(1, keep);
    return success();
  }
  n.out(0, n.in(0));
  if (n.wantsOutput(1)) {
    auto t = RankedTensorType::get(n.shape(0), n.b.getI1Type());
    n.out(1, n.create<nn::ConstantOp>(DenseElementsAttr::get(t, true)));
  }
  return success();
}

LogicalResult importElu(Node &n) {
  n.out(0, n.create<nn::EluOp>(n.in(0), n.f32(n.f("alpha", 1.0))));
  return success();
}
LogicalResult importSelu(Node &n) {
  n.out(0, n.create<nn::SeluOp>(n.in(0), n.f32(n.f("alpha", 1.67326319217681884765625)),
                                n.f32(n.f("gamma", 1.05070102214813232421875))));
  return success();
}
LogicalResult importCelu(Node &n) {
  n.out(0, n.create<nn::CeluOp>(n.in(0), n.f32(n.f("alpha", 1.0))));
  return success();
}
LogicalResult importLeakyRelu(Node &n) {
  n.out(0, n.create<nn::LeakyReluOp>(n.in(0), n.f32(n.f("alpha", 0.01))));
  return success();
}
LogicalResult importHardSigmoid(Node &n) {
  n.out(0, n.create<nn::HardSigmoidOp>(n.in(0), n.f32(n.f("alpha", 0.2)), n.f32(n.f("beta", 0.5))));
  return success();
}
LogicalResult importThresholdedRelu(Node &n) {
  n.out(0, n.create<nn::ThresholdedReluOp>(n.in(0), n.f32(n.f("alpha", 1.0))));
  return success();
}
LogicalResult importShrink(Node &n) {
  n.out(0, n.create<nn::ShrinkOp>(n.in(0), n.f32(n.f("bias", 0.0)), n.f32(n.f("lambd", 0.5))));
  return success();
}
LogicalResult importGelu(Node &n) {
  std::string approx = n.s("approximate", "none");
  if (approx != "none" && approx != "tanh")
    return n.fail("approximate must be none or tanh");
  n.out(0, n.create<nn::GeluOp>(n.in(0), n.b.getStringAttr(approx)));
  return success();
}
LogicalResult importIsInf(Node &n) {
  n.out(0, n.create<nn::IsInfOp>(n.in(0), n.b.getBoolAttr(n.i("detect_negative", 1) != 0),
                                 n.b.getBoolAttr(n.i("detect_positive", 1) != 0)));
  return success();
}
LogicalResult importMish(Node &n) {
  Value sp = n.create<nn::SoftplusOp>(n.in(0));
  n.out(0, n.create<nn::MulOp>(n.in(0), n.create<nn::TanhOp>(sp)));
  return success();
}

} // namespace

void nncc::onnximport::registerElementwiseHandlers(HandlerMap &m) {
  m["Abs"] = unary<nn::AbsOp>;
  m["Neg"] = unary<nn::NegOp>;
  m["Relu"] = unary<nn::ReluOp>;
  m["Sign"] = unary<nn::SignOp>;
  m["Not"] = unary<nn::NotOp>;
  m["BitwiseNot"] = unary<nn::BitwiseNotOp>;
  m["Exp"] = unary<nn::ExpOp>;
  m["Log"] = unary<nn::LogOp>;
  m["Sqrt"] = unary<nn::SqrtOp>;
  m["Reciprocal"] = unary<nn::ReciprocalOp>;
  m["Sin"] = unary<nn::SinOp>;
  m["Cos"] = unary<nn::CosOp>;
  m["Tan"] = unary<nn::TanOp>;
  m["Asin"] = unary<nn::AsinOp>;
  m["Acos"] = unary<nn::AcosOp>;
  m["Atan"] = unary<nn::AtanOp>;
  m["Sinh"] = unary<nn::SinhOp>;
  m["Cosh"] = unary<nn::CoshOp>;
  m["Asinh"] = unary<nn::AsinhOp>;
  m["Acosh"] = unary<nn::AcoshOp>;
  m["Atanh"] = unary<nn::AtanhOp>;
  m["Erf"] = unary<nn::ErfOp>;
  m["Sigmoid"] = unary<nn::SigmoidOp>;
  m["Tanh"] = unary<nn::TanhOp>;
  m["Floor"] = unary<nn::FloorOp>;
  m["Ceil"] = unary<nn::CeilOp>;
  m["Round"] = unary<nn::RoundOp>;
  m["Softplus"] = unary<nn::SoftplusOp>;
  m["Softsign"] = unary<nn::SoftsignOp>;
  m["HardSwish"] = unary<nn::HardSwishOp>;
  m["IsNaN"] = unary<nn::IsNaNOp>;
  m["IsInf"] = importIsInf;
  m["Elu"] = importElu;
  m["Selu"] = importSelu;
  m["Celu"] = importCelu;
  m["LeakyRelu"] = importLeakyRelu;
  m["HardSigmoid"] = importHardSigmoid;
  m["ThresholdedRelu"] = importThresholdedRelu;
  m["Shrink"] = importShrink;
  m["Gelu"] = importGelu;
  m["Mish"] = importMish;

  m["Add"] = binary<nn::AddOp>;
  m["Sub"] = binary<nn::SubOp>;
  m["Mul"] = binary<nn::MulOp>;
  m["Div"] = binary<nn::DivOp>;
  m["Pow"] = binary<nn::PowOp>;
  m["And"] = binary<nn::AndOp>;
  m["Or"] = binary<nn::OrOp>;
  m["Xor"] = binary<nn::XorOp>;
  m["BitwiseAnd"] = binary<nn::BitwiseAndOp>;
  m["BitwiseOr"] = binary<nn::BitwiseOrOp>;
  m["BitwiseXor"] = binary<nn::BitwiseXorOp>;
  m["Equal"] = binary<nn::EqualOp>;
  m["Less"] = binary<nn::LessOp>;
  m["LessOrEqual"] = binary<nn::LessEqualOp>;
  m["Greater"] = binary<nn::GreaterOp>;
  m["GreaterOrEqual"] = binary<nn::GreaterEqualOp>;
  m["Mod"] = importMod;
  m["BitShift"] = importBitShift;
  m["PRelu"] = importPRelu;
  m["Sum"] = variadic<nn::AddOp>;
  m["Max"] = variadic<nn::MaxOp>;
  m["Min"] = variadic<nn::MinOp>;
  m["Mean"] = importMean;
  m["Where"] = importWhere;
  m["Clip"] = importClip;
  m["Cast"] = importCast;
  m["CastLike"] = importCastLike;
  m["Identity"] = importIdentity;
  m["Dropout"] = importDropout;
}
