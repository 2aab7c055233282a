//===- ElementwiseOps.cpp - shape inference, verifiers and folders --------===//
#include "ir/OpsCommon.h"

#include <cmath>

using namespace mlir;
using namespace nncc::nn;

//===----------------------------------------------------------------------===//
// Unary: the result has the operand's type.
//===----------------------------------------------------------------------===//

// Unary ops have SameOperandsAndResultType: ODS generates their inference.

NN_INFER(IsNaNOp) {
  inferred.push_back(tensor(tensorOf(operands[0]).getShape(), IntegerType::get(ctx, 1)));
  return success();
}
NN_INFER(IsInfOp) {
  inferred.push_back(tensor(tensorOf(operands[0]).getShape(), IntegerType::get(ctx, 1)));
  return success();
}

NN_INFER(CastOp) {
  CastOp::Adaptor a(operands, attrs, regions);
  inferred.push_back(tensor(tensorOf(operands[0]).getShape(), a.getTo()));
  return success();
}

static Optional<ConstValues> unaryConst(ArrayRef<Attribute> operands) {
  if (operands.empty())
    return llvm::None;
  return readConst(operands[0]);
}

OpFoldResult NegOp::fold(ArrayRef<Attribute> operands) {
  auto v = unaryConst(operands);
  if (!v)
    return {};
  for (auto &x : v->f) x = -x;
  for (auto &x : v->i) x = -x;
  return makeConst(getType().cast<RankedTensorType>(), *v);
}

/// Folds a unary op elementwise with a double and an integer function.
static Attribute foldUnary(Operation *op, ArrayRef<Attribute> operands, double (*onFloat)(double),
                           int64_t (*onInt)(int64_t)) {
  auto v = unaryConst(operands);
  if (!v)
    return {};
  for (auto &x : v->f) x = onFloat(x);
  for (auto &x : v->i) x = onInt(x);
  return makeConst(op->getResult(0).getType().cast<RankedTensorType>(), *v);
}

OpFoldResult ReluOp::fold(ArrayRef<Attribute> operands) {
  return foldUnary(*this, operands, [](double x) { return x < 0 ? 0.0 : x; },
                   [](int64_t x) { return x < 0 ? int64_t(0) : x; });
}
OpFoldResult AbsOp::fold(ArrayRef<Attribute> operands) {
  return foldUnary(*this, operands, [](double x) { return std::fabs(x); },
                   [](int64_t x) { return x < 0 ? -x : x; });
}
OpFoldResult NotOp::fold(ArrayRef<Attribute> operands) {
  return foldUnary(*this, operands, [](double x) { return double(x == 0); }, [](int64_t x) { return int64_t(x == 0); });
}
OpFoldResult SqrtOp::fold(ArrayRef<Attribute> operands) {
  return foldUnary(*this, operands, [](double x) { return std::sqrt(x); }, [](int64_t x) { return x; });
}

OpFoldResult FloorOp::fold(ArrayRef<Attribute> operands) {
  auto v = unaryConst(operands);
  if (!v)
    return {};
  for (auto &x : v->f) x = std::floor(x);
  return makeConst(getType().cast<RankedTensorType>(), *v);
}

OpFoldResult CeilOp::fold(ArrayRef<Attribute> operands) {
  auto v = unaryConst(operands);
  if (!v)
    return {};
  for (auto &x : v->f) x = std::ceil(x);
  return makeConst(getType().cast<RankedTensorType>(), *v);
}

OpFoldResult CastOp::fold(ArrayRef<Attribute> operands) {
  auto type = getType().cast<RankedTensorType>();
  if (getX().getType() == type)
    return getX();
  auto v = unaryConst(operands);
  if (!v)
    return {};
  Type to = getTo();
  if (to.isa<FloatType>() && !v->isFloat) {
    std::vector<double> d(v->i.begin(), v->i.end());
    return makeConst(type, d);
  }
  if (to.isInteger(1)) {
    std::vector<int64_t> b;
    for (int64_t k = 0; k < v->size(); ++k)
      b.push_back(v->asDouble(k) != 0.0);
    return makeConst(type, b);
  }
  if (!to.isa<FloatType>() && v->isFloat) {
    std::vector<int64_t> ints;
    for (double d : v->f) {
      if (!std::isfinite(d))
        return {};
      ints.push_back((int64_t)std::trunc(d));
    }
    return makeConst(type, ints);
  }
  return makeConst(type, *v);
}

//===----------------------------------------------------------------------===//
// Binary
//===----------------------------------------------------------------------===//

static LogicalResult inferBinary(MLIRContext *ctx, Optional<Location> loc, ValueRange operands,
                                 Type resultElement, SmallVectorImpl<Type> &inferred) {
  Shape shape;
  auto a = tensorOf(operands[0]), b = tensorOf(operands[1]);
  if (!broadcastShapes(a.getShape(), b.getShape(), shape))
    return inferError(loc, "operand shapes " + shapeStr(a.getShape()) + " and " + shapeStr(b.getShape()) +
                               " cannot be broadcast together");
  inferred.push_back(tensor(shape, resultElement ? resultElement : a.getElementType()));
  return success();
}

#define NN_BINARY_INFER(OP, RESULT_ELEMENT)                                     \
  NN_INFER(OP) { return inferBinary(ctx, loc, operands, RESULT_ELEMENT, inferred); }
NN_BINARY_INFER(AddOp, Type())
NN_BINARY_INFER(SubOp, Type())
NN_BINARY_INFER(MulOp, Type())
NN_BINARY_INFER(DivOp, Type())
NN_BINARY_INFER(MaxOp, Type())
NN_BINARY_INFER(MinOp, Type())
NN_BINARY_INFER(ModOp, Type())
NN_BINARY_INFER(PowOp, Type())
NN_BINARY_INFER(PReluOp, Type())
NN_BINARY_INFER(BitShiftOp, Type())
NN_BINARY_INFER(AndOp, Type())
NN_BINARY_INFER(OrOp, Type())
NN_BINARY_INFER(XorOp, Type())
NN_BINARY_INFER(BitwiseAndOp, Type())
NN_BINARY_INFER(BitwiseOrOp, Type())
NN_BINARY_INFER(BitwiseXorOp, Type())
NN_BINARY_INFER(EqualOp, IntegerType::get(ctx, 1))
NN_BINARY_INFER(LessOp, IntegerType::get(ctx, 1))
NN_BINARY_INFER(LessEqualOp, IntegerType::get(ctx, 1))
NN_BINARY_INFER(GreaterOp, IntegerType::get(ctx, 1))
NN_BINARY_INFER(GreaterEqualOp, IntegerType::get(ctx, 1))
#undef NN_BINARY_INFER

/// Shared verifier: broadcastable shapes and (unless `mixedTypes`) one element type.
static LogicalResult verifyBinary(Operation *op, bool mixedTypes = false) {
  auto a = tensorOf(op->getOperand(0)), b = tensorOf(op->getOperand(1));
  if (!mixedTypes && a.getElementType() != b.getElementType())
    return op->emitOpError("operands have different element types: ")
           << typeName(a.getElementType()) << " and " << typeName(b.getElementType());
  Shape shape;
  if (!broadcastShapes(a.getShape(), b.getShape(), shape))
    return op->emitOpError("operand shapes cannot be broadcast together: ") << a << " and " << b;
  return success();
}

LogicalResult AddOp::verify() { return verifyBinary(*this); }
LogicalResult SubOp::verify() { return verifyBinary(*this); }
LogicalResult MulOp::verify() { return verifyBinary(*this); }
LogicalResult DivOp::verify() { return verifyBinary(*this); }
LogicalResult MaxOp::verify() { return verifyBinary(*this); }
LogicalResult MinOp::verify() { return verifyBinary(*this); }
LogicalResult ModOp::verify() { return verifyBinary(*this); }
LogicalResult PowOp::verify() { return verifyBinary(*this, /*mixedTypes=*/true); }
LogicalResult BitShiftOp::verify() { return verifyBinary(*this); }
LogicalResult AndOp::verify() { return verifyBinary(*this); }
LogicalResult OrOp::verify() { return verifyBinary(*this); }
LogicalResult XorOp::verify() { return verifyBinary(*this); }
LogicalResult BitwiseAndOp::verify() { return verifyBinary(*this); }
LogicalResult BitwiseOrOp::verify() { return verifyBinary(*this); }
LogicalResult BitwiseXorOp::verify() { return verifyBinary(*this); }
LogicalResult EqualOp::verify() { return verifyBinary(*this); }
LogicalResult LessOp::verify() { return verifyBinary(*this); }
LogicalResult LessEqualOp::verify() { return verifyBinary(*this); }
LogicalResult GreaterOp::verify() { return verifyBinary(*this); }
LogicalResult GreaterEqualOp::verify() { return verifyBinary(*this); }

LogicalResult PReluOp::verify() {
  if (failed(verifyBinary(*this)))
    return failure();
  // ONNX PRelu broadcasts the slope to x (unidirectionally).
  Shape shape;
  broadcastShapes(tensorOf(getLhs()).getShape(), tensorOf(getRhs()).getShape(), shape);
  if (llvm::makeArrayRef(shape) != tensorOf(getLhs()).getShape())
    return emitOpError("slope ") << getRhs().getType() << " must broadcast to x " << getLhs().getType();
  return success();
}

static Attribute foldArith(Operation *op, ArrayRef<Attribute> operands,
                           const std::function<double(double, double)> &f,
                           const std::function<int64_t(int64_t, int64_t)> &i) {
  if (operands.size() != 2)
    return {};
  auto a = readConst(operands[0]), b = readConst(operands[1]);
  if (!a || !b)
    return {};
  return foldBroadcast(op->getResult(0).getType().cast<RankedTensorType>(), *a, *b, f, i);
}

OpFoldResult AddOp::fold(ArrayRef<Attribute> operands) {
  return foldArith(*this, operands, std::plus<double>(), std::plus<int64_t>());
}
OpFoldResult SubOp::fold(ArrayRef<Attribute> operands) {
  return foldArith(*this, operands, std::minus<double>(), std::minus<int64_t>());
}
OpFoldResult MulOp::fold(ArrayRef<Attribute> operands) {
  return foldArith(*this, operands, std::multiplies<double>(), std::multiplies<int64_t>());
}
OpFoldResult DivOp::fold(ArrayRef<Attribute> operands) {
  if (operands.size() == 2)
    if (auto b = readConst(operands[1]))
      if (!b->isFloat && llvm::is_contained(b->i, 0))
        return {}; // leave the division by zero to run time
  return foldArith(*this, operands, std::divides<double>(),
                   [](int64_t x, int64_t y) { return x / y; });
}
OpFoldResult MaxOp::fold(ArrayRef<Attribute> operands) {
  return foldArith(*this, operands, [](double x, double y) { return std::max(x, y); },
                   [](int64_t x, int64_t y) { return std::max(x, y); });
}
OpFoldResult MinOp::fold(ArrayRef<Attribute> operands) {
  return foldArith(*this, operands, [](double x, double y) { return std::min(x, y); },
                   [](int64_t x, int64_t y) { return std::min(x, y); });
}
OpFoldResult EqualOp::fold(ArrayRef<Attribute> operands) {
  return foldArith(*this, operands, [](double x, double y) { return double(x == y); },
                   [](int64_t x, int64_t y) { return int64_t(x == y); });
}
OpFoldResult LessOp::fold(ArrayRef<Attribute> operands) {
  return foldArith(*this, operands, [](double x, double y) { return double(x < y); },
                   [](int64_t x, int64_t y) { return int64_t(x < y); });
}
OpFoldResult LessEqualOp::fold(ArrayRef<Attribute> operands) {
  return foldArith(*this, operands, [](double x, double y) { return double(x <= y); },
                   [](int64_t x, int64_t y) { return int64_t(x <= y); });
}
OpFoldResult GreaterOp::fold(ArrayRef<Attribute> operands) {
  return foldArith(*this, operands, [](double x, double y) { return double(x > y); },
                   [](int64_t x, int64_t y) { return int64_t(x > y); });
}
OpFoldResult GreaterEqualOp::fold(ArrayRef<Attribute> operands) {
  return foldArith(*this, operands, [](double x, double y) { return double(x >= y); },
                   [](int64_t x, int64_t y) { return int64_t(x >= y); });
}

//===----------------------------------------------------------------------===//
// Select
//===----------------------------------------------------------------------===//

NN_INFER(SelectOp) {
  Shape s1, s2;
  auto c = tensorOf(operands[0]), x = tensorOf(operands[1]), y = tensorOf(operands[2]);
  if (!broadcastShapes(c.getShape(), x.getShape(), s1) || !broadcastShapes(s1, y.getShape(), s2))
    return inferError(loc, "nn.select operands cannot be broadcast together");
  inferred.push_back(tensor(s2, x.getElementType()));
  return success();
}

LogicalResult FusedOp::verify() {
  Region &r = getBody();
  if (!r.hasOneBlock())
    return emitOpError("body must be one block");
  Block &block = r.front();
  if (block.getNumArguments() != getInputs().size())
    return emitOpError("body takes ") << block.getNumArguments() << " arguments for " << getInputs().size()
                                      << " inputs";
  for (auto [arg, in] : llvm::zip(block.getArguments(), getInputs()))
    if (arg.getType() != in.getType())
      return emitOpError("body argument ") << arg.getType() << " differs from input " << in.getType();
  if (getYs().empty())
    return emitOpError("has no results");
  auto yield = dyn_cast<YieldOp>(block.getTerminator());
  if (!yield || yield.getValues().getTypes() != getYs().getTypes())
    return emitOpError("body must end in nn.yield of the result types");
  auto shape = tensorOf(getYs()[0]).getShape();
  for (Value y : getYs())
    if (tensorOf(y).getShape() != shape)
      return emitOpError("results differ in shape: ") << y.getType() << " and " << getYs()[0].getType();
  for (Operation &op : block.without_terminator()) {
    if (!isa<SliceOp>(op) && (!isElementwise(&op) || op.getNumResults() != 1))
      return op.emitOpError("inside nn.fused must be elementwise");
    auto opShape = op.getResult(0).getType().cast<RankedTensorType>().getShape();
    if (auto s = dyn_cast<SliceOp>(op)) {
      if (!s.getX().isa<BlockArgument>() || llvm::any_of(toI64(s.getSteps()), [](int64_t st) { return st <= 0; }))
        return op.emitOpError("inside nn.fused must slice an argument, with steps above zero");
      Shape out;
      if (!broadcastShapes(opShape, shape, out) || llvm::makeArrayRef(out) != shape)
        return op.emitOpError("inside nn.fused must broadcast to the result's shape ") << shapeStr(shape);
      continue;
    }
    if (opShape != shape)
      return op.emitOpError("inside nn.fused must have the result's shape ") << shapeStr(shape);
  }
  return success();
}

LogicalResult SelectOp::verify() {
  if (tensorOf(getLhs()).getElementType() != tensorOf(getRhs()).getElementType())
    return emitOpError("branches have different element types: ")
           << getLhs().getType() << " and " << getRhs().getType();
  return success();
}

OpFoldResult SelectOp::fold(ArrayRef<Attribute> operands) {
  if (operands.size() != 3)
    return {};
  auto c = readConst(operands[0]), x = readConst(operands[1]), y = readConst(operands[2]);
  if (!c || !x || !y)
    return {};
  auto type = getType().cast<RankedTensorType>();
  // select(c, x, y) = c*x + (1-c)*y evaluated exactly by two broadcasts.
  ConstValues xc = *x, yc = *y;
  auto cx = foldBroadcast(RankedTensorType::get(type.getShape(), x->type.getElementType()), *c, xc,
                          [](double cond, double v) { return cond != 0 ? v : 0.0; },
                          [](int64_t cond, int64_t v) { return cond != 0 ? v : 0; });
  auto notc = *c;
  for (auto &b : notc.i) b = !b;
  auto cy = foldBroadcast(RankedTensorType::get(type.getShape(), y->type.getElementType()), notc, yc,
                          [](double cond, double v) { return cond != 0 ? v : 0.0; },
                          [](int64_t cond, int64_t v) { return cond != 0 ? v : 0; });
  auto a = readConst(cx), b = readConst(cy);
  if (!a || !b)
    return {};
  return foldBroadcast(type, *a, *b, std::plus<double>(), std::plus<int64_t>());
}
