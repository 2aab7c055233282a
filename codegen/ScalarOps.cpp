//===- ScalarOps.cpp - scalar semantics of the elementwise nn ops ---------===//
//
// One case per elementwise op. Operands arrive in compute form (i1 for bool,
// f32 for f16/bf16, signless integers whose signedness is read from the nn
// operand type) and the result is returned in compute form.
//
//===----------------------------------------------------------------------===//
#include "codegen/Lowering.h"

#include "ir/NNOps.h"
#include "ir/ShapeUtils.h"

#include "llvm/ADT/TypeSwitch.h"

#include <cmath>

using namespace mlir;
using namespace nncc::nn;

namespace nncc {
namespace codegen {

Value callLibm(OpBuilder &b, Location loc, ModuleOp module, StringRef name, ValueRange args) {
  Type t = args[0].getType();
  auto fn = module.lookupSymbol<func::FuncOp>(name);
  if (!fn) {
    OpBuilder mb(module.getBodyRegion());
    mb.setInsertionPointToStart(module.getBody());
    SmallVector<Type> argTypes(args.size(), t);
    fn = mb.create<func::FuncOp>(loc, name, mb.getFunctionType(argTypes, {t}));
    fn.setPrivate();
  }
  return b.create<func::CallOp>(loc, fn, args).getResult(0);
}

namespace {

struct Scalar {
  OpBuilder &b;
  Location loc;
  ModuleOp module;
  Type t; ///< compute type of the result / first operand
  bool isUnsigned;

  bool isFloat() const { return t.isa<FloatType>(); }
  Value c(double v) { return scalarConst(b, loc, t, v); }
  Value add(Value x, Value y) { return isFloat() ? b.create<arith::AddFOp>(loc, x, y).getResult() : b.create<arith::AddIOp>(loc, x, y).getResult(); }
  Value sub(Value x, Value y) { return isFloat() ? b.create<arith::SubFOp>(loc, x, y).getResult() : b.create<arith::SubIOp>(loc, x, y).getResult(); }
  Value mul(Value x, Value y) { return isFloat() ? b.create<arith::MulFOp>(loc, x, y).getResult() : b.create<arith::MulIOp>(loc, x, y).getResult(); }
  Value div(Value x, Value y) {
    if (isFloat())
      return b.create<arith::DivFOp>(loc, x, y);
    // Integer division by zero would trap: define it as 0.
    Value zero = c(0), one = c(1);
    Value isZero = b.create<arith::CmpIOp>(loc, arith::CmpIPredicate::eq, y, zero);
    Value safe = b.create<arith::SelectOp>(loc, isZero, one, y);
    Value q = isUnsigned ? b.create<arith::DivUIOp>(loc, x, safe).getResult()
                         : b.create<arith::DivSIOp>(loc, x, safe).getResult();
    return b.create<arith::SelectOp>(loc, isZero, zero, q);
  }
  Value lt(Value x, Value y) { return cmp(x, y, arith::CmpFPredicate::OLT, isUnsigned ? arith::CmpIPredicate::ult : arith::CmpIPredicate::slt); }
  Value le(Value x, Value y) { return cmp(x, y, arith::CmpFPredicate::OLE, isUnsigned ? arith::CmpIPredicate::ule : arith::CmpIPredicate::sle); }
  Value gt(Value x, Value y) { return cmp(x, y, arith::CmpFPredicate::OGT, isUnsigned ? arith::CmpIPredicate::ugt : arith::CmpIPredicate::sgt); }
  Value ge(Value x, Value y) { return cmp(x, y, arith::CmpFPredicate::OGE, isUnsigned ? arith::CmpIPredicate::uge : arith::CmpIPredicate::sge); }
  Value eq(Value x, Value y) { return cmp(x, y, arith::CmpFPredicate::OEQ, arith::CmpIPredicate::eq); }
  Value cmp(Value x, Value y, arith::CmpFPredicate fp, arith::CmpIPredicate ip) {
    if (x.getType().isa<FloatType>())
      return b.create<arith::CmpFOp>(loc, fp, x, y);
    return b.create<arith::CmpIOp>(loc, ip, x, y);
  }
  Value sel(Value cond, Value x, Value y) { return b.create<arith::SelectOp>(loc, cond, x, y); }
  Value max(Value x, Value y) {
    if (isFloat()) {
      // NaN propagates, as numpy.maximum.
      Value isNan = b.create<arith::CmpFOp>(loc, arith::CmpFPredicate::UNO, x, y);
      Value m = sel(gt(x, y), x, y);
      return sel(isNan, b.create<arith::AddFOp>(loc, x, y), m);
    }
    return sel(gt(x, y), x, y);
  }
  Value min(Value x, Value y) {
    if (isFloat()) {
      Value isNan = b.create<arith::CmpFOp>(loc, arith::CmpFPredicate::UNO, x, y);
      Value m = sel(lt(x, y), x, y);
      return sel(isNan, b.create<arith::AddFOp>(loc, x, y), m);
    }
    return sel(lt(x, y), x, y);
  }
  Value neg(Value x) { return isFloat() ? b.create<arith::NegFOp>(loc, x).getResult() : sub(c(0), x); }
  Value exp(Value x) { return b.create<math::ExpOp>(loc, x); }
  Value log(Value x) { return b.create<math::LogOp>(loc, x); }
  Value abs(Value x) {
    if (isFloat())
      return b.create<math::AbsOp>(loc, x);
    if (isUnsigned)
      return x;
    return sel(lt(x, c(0)), neg(x), x);
  }
  Value libm(StringRef name, ValueRange args) {
    std::string n = name.str();
    if (t.isF32())
      n += "f";
    return callLibm(b, loc, module, n, args);
  }
  Value floor(Value x) { return b.create<math::FloorOp>(loc, x); }
  /// Round half to even.
  Value roundEven(Value x) {
    Value fl = floor(x);
    Value diff = sub(x, fl);
    Value half = c(0.5);
    Value up = add(fl, c(1));
    Value flHalf = mul(floor(mul(fl, half)), c(2));
    Value flIsEven = eq(flHalf, fl);
    Value tie = sel(flIsEven, fl, up);
    return sel(lt(diff, half), fl, sel(gt(diff, half), up, tie));
  }
};

bool isUnsignedElement(Value v) {
  Type t = elementOf(v);
  return t.isUnsignedInteger();
}

Value castScalar(OpBuilder &b, Location loc, Value v, Type from, Type to) {
  Type cf = computeType(from), ct = computeType(to);
  if (cf == ct)
    return v;
  bool fromFloat = cf.isa<FloatType>(), toFloat = ct.isa<FloatType>();
  if (to.isInteger(1)) {
    if (fromFloat)
      return b.create<arith::CmpFOp>(loc, arith::CmpFPredicate::UNE, v, scalarConst(b, loc, cf, 0));
    return b.create<arith::CmpIOp>(loc, arith::CmpIPredicate::ne, v, scalarConst(b, loc, cf, 0));
  }
  if (fromFloat && toFloat) {
    unsigned fw = cf.getIntOrFloatBitWidth(), tw = ct.getIntOrFloatBitWidth();
    return fw < tw ? b.create<arith::ExtFOp>(loc, ct, v).getResult() : b.create<arith::TruncFOp>(loc, ct, v).getResult();
  }
  if (fromFloat) {
    // Saturate NaN and out-of-range values instead of producing poison.
    if (to.isUnsignedInteger())
      return b.create<arith::FPToUIOp>(loc, ct, v);
    return b.create<arith::FPToSIOp>(loc, ct, v);
  }
  if (toFloat) {
    if (from.isUnsignedInteger() || from.isInteger(1))
      return b.create<arith::UIToFPOp>(loc, ct, v);
    return b.create<arith::SIToFPOp>(loc, ct, v);
  }
  unsigned fw = cf.getIntOrFloatBitWidth(), tw = ct.getIntOrFloatBitWidth();
  if (fw > tw)
    return b.create<arith::TruncIOp>(loc, ct, v);
  if (from.isUnsignedInteger() || from.isInteger(1))
    return b.create<arith::ExtUIOp>(loc, ct, v);
  return b.create<arith::ExtSIOp>(loc, ct, v);
}

/// A cast to f16 or bf16 (computed in f32) rounds to the narrow type, as its
/// stored result would: a fused consumer must see the rounded value.
Value castAndRound(OpBuilder &b, Location loc, Value v, Type from, Type to) {
  Value c = castScalar(b, loc, v, from, to);
  if ((to.isF16() || to.isBF16()) && from != to)
    c = toCompute(b, loc, fromCompute(b, loc, c, to), to);
  return c;
}

} // namespace

Value buildScalar(Operation *op, OpBuilder &b, Location loc, ValueRange args, ModuleOp module) {
  Type resultElt = elementOf(op->getResult(0));
  Type t = computeType(op->getNumOperands() ? elementOf(op->getOperand(op->getNumOperands() > 2 && isa<SelectOp>(op) ? 1 : 0)) : resultElt);
  Scalar s{b, loc, module, t, op->getNumOperands() && isUnsignedElement(op->getOperand(isa<SelectOp>(op) ? 1 : 0))};
  auto x = [&] { return args[0]; };
  auto y = [&] { return args[1]; };

  return llvm::TypeSwitch<Operation *, Value>(op)
      // --- unary -------------------------------------------------------------
      .Case<AbsOp>([&](auto) { return s.abs(x()); })
      .Case<NegOp>([&](auto) { return s.neg(x()); })
      .Case<ReluOp>([&](auto) { return s.sel(s.lt(x(), s.c(0)), s.c(0), x()); })
      .Case<SignOp>([&](auto) {
        return s.sel(s.gt(x(), s.c(0)), s.c(1), s.sel(s.lt(x(), s.c(0)), s.c(-1), s.c(0)));
      })
      .Case<NotOp>([&](auto) { return b.create<arith::XOrIOp>(loc, x(), b.create<arith::ConstantIntOp>(loc, 1, 1)); })
      .Case<BitwiseNotOp>([&](auto) { return b.create<arith::XOrIOp>(loc, x(), s.c(-1)); })
      .Case<ExpOp>([&](auto) { return s.exp(x()); })
      .Case<LogOp>([&](auto) { return s.log(x()); })
      .Case<SqrtOp>([&](auto) { return b.create<math::SqrtOp>(loc, x()); })
      .Case<ReciprocalOp>([&](auto) { return s.div(s.c(1), x()); })
      .Case<SinOp>([&](auto) { return b.create<math::SinOp>(loc, x()); })
      .Case<CosOp>([&](auto) { return b.create<math::CosOp>(loc, x()); })
      .Case<TanOp>([&](auto) { return s.libm("tan", {x()}); })
      .Case<AsinOp>([&](auto) { return s.libm("asin", {x()}); })
      .Case<AcosOp>([&](auto) { return s.libm("acos", {x()}); })
      .Case<AtanOp>([&](auto) { return s.libm("atan", {x()}); })
      .Case<SinhOp>([&](auto) { return s.libm("sinh", {x()}); })
      .Case<CoshOp>([&](auto) { return s.libm("cosh", {x()}); })
      .Case<AsinhOp>([&](auto) { return s.libm("asinh", {x()}); })
      .Case<AcoshOp>([&](auto) { return s.libm("acosh", {x()}); })
      .Case<AtanhOp>([&](auto) { return s.libm("atanh", {x()}); })
      .Case<ErfOp>([&](auto) { return s.libm("erf", {x()}); })
      // (float32: math.tanh, which nncc-lower-to-llvm approximates by a
      // rational polynomial that vectorizes; float64: libm)
      .Case<TanhOp>([&](auto) { return t.isF32() ? b.create<math::TanhOp>(loc, x()) : s.libm("tanh", {x()}); })
      .Case<SigmoidOp>([&](auto) {
        // 1 / (1 + e^-x), computed from e^-|x| so it never overflows.
        Value e = s.exp(s.neg(s.abs(x())));
        Value one = s.c(1);
        Value pos = s.div(one, s.add(one, e));
        return s.sel(s.ge(x(), s.c(0)), pos, s.div(e, s.add(one, e)));
      })
      .Case<FloorOp>([&](auto) { return s.floor(x()); })
      .Case<CeilOp>([&](auto) { return b.create<math::CeilOp>(loc, x()); })
      .Case<RoundOp>([&](auto) { return s.roundEven(x()); })
      .Case<SoftplusOp>([&](auto) {
        // max(x, 0) + log1p(e^-|x|)
        Value e = s.exp(s.neg(s.abs(x())));
        return s.add(s.max(x(), s.c(0)), b.create<math::Log1pOp>(loc, e));
      })
      .Case<SoftsignOp>([&](auto) { return s.div(x(), s.add(s.c(1), s.abs(x()))); })
      .Case<HardSwishOp>([&](auto) {
        Value h = s.max(s.c(0), s.min(s.c(1), s.add(s.mul(x(), s.c(1.0 / 6)), s.c(0.5))));
        return s.mul(x(), h);
      })
      .Case<EluOp>([&](EluOp o) {
        Value neg = s.mul(s.c(o.getAlpha().convertToDouble()), s.sub(s.exp(x()), s.c(1)));
        return s.sel(s.lt(x(), s.c(0)), neg, x());
      })
      .Case<SeluOp>([&](SeluOp o) {
        double alpha = o.getAlpha().convertToDouble(), gamma = o.getGamma().convertToDouble();
        Value neg = s.sub(s.mul(s.c(alpha), s.exp(x())), s.c(alpha));
        return s.mul(s.c(gamma), s.sel(s.gt(x(), s.c(0)), x(), neg));
      })
      .Case<CeluOp>([&](CeluOp o) {
        double alpha = o.getAlpha().convertToDouble();
        Value e = s.mul(s.c(alpha), s.sub(s.exp(s.div(x(), s.c(alpha))), s.c(1)));
        return s.add(s.max(s.c(0), x()), s.min(s.c(0), e));
      })
      .Case<LeakyReluOp>([&](LeakyReluOp o) {
        return s.sel(s.lt(x(), s.c(0)), s.mul(s.c(o.getAlpha().convertToDouble()), x()), x());
      })
      .Case<HardSigmoidOp>([&](HardSigmoidOp o) {
        Value v = s.add(s.mul(s.c(o.getAlpha().convertToDouble()), x()), s.c(o.getBeta().convertToDouble()));
        return s.max(s.c(0), s.min(s.c(1), v));
      })
      .Case<ThresholdedReluOp>([&](ThresholdedReluOp o) {
        return s.sel(s.gt(x(), s.c(o.getAlpha().convertToDouble())), x(), s.c(0));
      })
      .Case<ShrinkOp>([&](ShrinkOp o) {
        double bias = o.getBias().convertToDouble(), lambd = o.getLambd().convertToDouble();
        Value lo = s.add(x(), s.c(bias)), hi = s.sub(x(), s.c(bias));
        return s.sel(s.lt(x(), s.c(-lambd)), lo, s.sel(s.gt(x(), s.c(lambd)), hi, s.c(0)));
      })
      .Case<GeluOp>([&](GeluOp o) {
        Value half = s.mul(s.c(0.5), x());
        if (o.getApproximate() == "tanh") {
          Value inner = s.mul(s.c(std::sqrt(2.0 / M_PI)), s.add(x(), s.mul(s.c(0.044715), s.mul(x(), s.mul(x(), x())))));
          return s.mul(half, s.add(s.c(1), s.libm("tanh", {inner})));
        }
        return s.mul(half, s.add(s.c(1), s.libm("erf", {s.mul(x(), s.c(M_SQRT1_2))})));
      })
      .Case<IsNaNOp>([&](auto) { return b.create<arith::CmpFOp>(loc, arith::CmpFPredicate::UNO, x(), x()); })
      .Case<IsInfOp>([&](IsInfOp o) {
        Value inf = s.c(INFINITY), ninf = s.c(-INFINITY);
        Value r = b.create<arith::ConstantIntOp>(loc, 0, 1);
        if (o.getDetectPositive())
          r = b.create<arith::OrIOp>(loc, r, s.eq(x(), inf));
        if (o.getDetectNegative())
          r = b.create<arith::OrIOp>(loc, r, s.eq(x(), ninf));
        return r;
      })
      .Case<CastOp>([&](CastOp o) { return castAndRound(b, loc, x(), elementOf(o.getX()), o.getTo()); })
      // --- binary ------------------------------------------------------------
      .Case<AddOp>([&](auto) { return s.add(x(), y()); })
      .Case<SubOp>([&](auto) { return s.sub(x(), y()); })
      .Case<MulOp>([&](auto) { return s.mul(x(), y()); })
      .Case<DivOp>([&](auto) { return s.div(x(), y()); })
      .Case<MaxOp>([&](auto) { return s.max(x(), y()); })
      .Case<MinOp>([&](auto) { return s.min(x(), y()); })
      .Case<ModOp>([&](ModOp o) -> Value {
        if (s.isFloat()) {
          Value r = b.create<arith::RemFOp>(loc, x(), y());
          if (o.getFmod())
            return r;
          Value fix = b.create<arith::AndIOp>(loc, s.cmp(r, s.c(0), arith::CmpFPredicate::ONE, arith::CmpIPredicate::ne),
                                              b.create<arith::XOrIOp>(loc, s.lt(r, s.c(0)), s.lt(y(), s.c(0))));
          return s.sel(fix, s.add(r, y()), r);
        }
        Value zero = s.c(0);
        Value isZero = s.eq(y(), zero);
        Value safe = s.sel(isZero, s.c(1), y());
        Value r = s.isUnsigned ? b.create<arith::RemUIOp>(loc, x(), safe).getResult()
                               : b.create<arith::RemSIOp>(loc, x(), safe).getResult();
        if (!o.getFmod() && !s.isUnsigned) {
          Value fix = b.create<arith::AndIOp>(loc, b.create<arith::CmpIOp>(loc, arith::CmpIPredicate::ne, r, zero),
                                              b.create<arith::XOrIOp>(loc, s.lt(r, zero), s.lt(safe, zero)));
          r = s.sel(fix, s.add(r, safe), r);
        }
        return s.sel(isZero, zero, r);
      })
      .Case<PowOp>([&](PowOp o) -> Value {
        Type lt = elementOf(o.getLhs()), rt = elementOf(o.getRhs());
        Type f64 = b.getF64Type();
        if (computeType(lt).isa<FloatType>() && computeType(rt) == computeType(lt))
          return b.create<math::PowFOp>(loc, x(), y());
        Value bx = castScalar(b, loc, x(), lt, f64), by = castScalar(b, loc, y(), rt, f64);
        Value p = b.create<math::PowFOp>(loc, bx, by);
        return castScalar(b, loc, p, f64, lt);
      })
      .Case<PReluOp>([&](auto) { return s.sel(s.lt(x(), s.c(0)), s.mul(x(), y()), x()); })
      .Case<BitShiftOp>([&](BitShiftOp o) {
        unsigned w = t.getIntOrFloatBitWidth();
        Value tooFar = b.create<arith::CmpIOp>(loc, arith::CmpIPredicate::uge, y(), s.c(w));
        Value shifted = o.getLeft() ? b.create<arith::ShLIOp>(loc, x(), y()).getResult()
                                    : b.create<arith::ShRUIOp>(loc, x(), y()).getResult();
        return s.sel(tooFar, s.c(0), shifted);
      })
      .Case<AndOp, BitwiseAndOp>([&](auto) { return b.create<arith::AndIOp>(loc, x(), y()); })
      .Case<OrOp, BitwiseOrOp>([&](auto) { return b.create<arith::OrIOp>(loc, x(), y()); })
      .Case<XorOp, BitwiseXorOp>([&](auto) { return b.create<arith::XOrIOp>(loc, x(), y()); })
      .Case<EqualOp>([&](auto) { return s.eq(x(), y()); })
      .Case<LessOp>([&](auto) { return s.lt(x(), y()); })
      .Case<LessEqualOp>([&](auto) { return s.le(x(), y()); })
      .Case<GreaterOp>([&](auto) { return s.gt(x(), y()); })
      .Case<GreaterEqualOp>([&](auto) { return s.ge(x(), y()); })
      // --- ternary -----------------------------------------------------------
      .Case<SelectOp>([&](auto) { return s.sel(args[0], args[1], args[2]); })
      .Default([&](Operation *) { return Value(); });
}

/// nn.fused: one loop nest over the results' shape; the body's ops applied
/// in order to scalars. An argument the body slices is read through a view
/// (memref.subview) per slice, which the loop nest visits as an input of
/// the results' shape.
FailureOr<bool> lowerFused(LoweringInput &in, FusedOp fused) {
  Block &body = fused.getBody().front();
  // The loop nest's inputs, and the body value each one carries.
  SmallVector<Value> loopIns, carried;
  for (BlockArgument arg : body.getArguments())
    if (llvm::any_of(arg.getUsers(), [](Operation *u) { return !isa<SliceOp>(u); })) {
      loopIns.push_back(in.ins[arg.getArgNumber()]);
      carried.push_back(arg);
    }
  for (auto s : body.getOps<SliceOp>()) {
    Value source = in.ins[s.getX().cast<BlockArgument>().getArgNumber()];
    auto sizes = s.getType().cast<RankedTensorType>().getShape();
    loopIns.push_back(in.b.create<memref::SubViewOp>(in.loc, source, toI64(s.getStarts()), sizes, toI64(s.getSteps())));
    carried.push_back(s.getResult());
  }
  auto yields = cast<YieldOp>(body.getTerminator()).getValues();
  Operation *failed = nullptr;
  emitBroadcastGeneric(in.b, in.loc, loopIns, in.outs, [&](OpBuilder &b, Location loc, ValueRange args) {
    llvm::DenseMap<Value, Value> scalar; // nn value -> compute-form scalar
    for (auto [v, a] : llvm::zip(carried, args))
      scalar[v] = toCompute(b, loc, a, elementOf(v));
    for (Operation &op : body.without_terminator()) {
      if (isa<SliceOp>(op))
        continue;
      SmallVector<Value> cargs;
      for (Value v : op.getOperands())
        cargs.push_back(scalar.lookup(v));
      Value r = failed ? Value() : buildScalar(&op, b, loc, cargs, in.module);
      if (!r) {
        failed = failed ? failed : &op;
        r = scalarConst(b, loc, computeType(elementOf(op.getResult(0))), 0);
      }
      scalar[op.getResult(0)] = r;
    }
    SmallVector<Value> results;
    for (Value y : yields)
      results.push_back(fromCompute(b, loc, scalar.lookup(y), elementOf(y)));
    return results;
  });
  if (failed)
    return (failed->emitOpError("has no scalar lowering"), false);
  return true;
}

FailureOr<bool> lowerElementwise(LoweringInput &in) {
  Operation *op = in.op;
  if (auto fused = dyn_cast<FusedOp>(op))
    return lowerFused(in, fused);
  if (!nn::isElementwise(op))
    return failure();
  Type outElt = elementOf(op->getResult(0));
  SmallVector<Type> inElts;
  for (Value v : op->getOperands())
    inElts.push_back(elementOf(v));
  bool ok = true;
  emitBroadcastGeneric(in.b, in.loc, in.ins, in.outs[0], [&](OpBuilder &b, Location loc, ValueRange args) {
    SmallVector<Value> cargs;
    for (auto it : llvm::enumerate(args))
      cargs.push_back(toCompute(b, loc, it.value(), inElts[it.index()]));
    Value r = buildScalar(op, b, loc, cargs, in.module);
    if (!r) {
      ok = false;
      return fromCompute(b, loc, scalarConst(b, loc, computeType(outElt), 0), outElt);
    }
    return fromCompute(b, loc, r, outElt);
  });
  if (!ok)
    return (op->emitOpError("has no scalar lowering"), false);
  return true;
}

} // namespace codegen
} // namespace nncc
