//===- LowerReduction.cpp - reductions and arg-reductions -----------------===//
#include "codegen/Lowering.h"

#include "ir/NNOps.h"
#include "ir/ShapeUtils.h"

#include "mlir/IR/AffineMap.h"
#include "llvm/ADT/TypeSwitch.h"

#include <cmath>
#include <limits>

using namespace mlir;
using namespace nncc::nn;

namespace nncc {
namespace codegen {
namespace {

enum class Combine { Sum, Prod, Max, Min };

/// The identity of a combine in compute type `t`.
double identityOf(Combine c, Type t) {
  bool isFloat = t.isa<FloatType>();
  switch (c) {
  case Combine::Sum: return 0;
  case Combine::Prod: return 1;
  case Combine::Max:
    if (isFloat) return -INFINITY;
    return t.isInteger(1) ? 0 : -std::pow(2.0, t.getIntOrFloatBitWidth() - 1);
  case Combine::Min:
    if (isFloat) return INFINITY;
    return t.isInteger(1) ? 1 : std::pow(2.0, t.getIntOrFloatBitWidth() - 1) - 1;
  }
  return 0;
}

/// out = reduce(x) over `axes` (keepdims per the output rank).
void emitReduce(LoweringInput &in, Value x, Value out, ArrayRef<int64_t> axes, Combine comb,
                Type nnElt) {
  OpBuilder &b = in.b;
  Location loc = in.loc;
  MLIRContext *ctx = b.getContext();
  auto xt = x.getType().cast<MemRefType>(), ot = out.getType().cast<MemRefType>();
  int64_t rank = xt.getRank();
  bool keep = ot.getRank() == rank;
  llvm::SmallBitVector reduced(rank, axes.empty());
  for (int64_t a : axes)
    reduced.set(a);
  SmallVector<AffineExpr> outExprs;
  SmallVector<StringRef> iters;
  for (int64_t d = 0; d < rank; ++d) {
    iters.push_back(reduced[d] ? getReductionIteratorTypeName() : getParallelIteratorTypeName());
    if (!reduced[d])
      outExprs.push_back(getAffineDimExpr(d, ctx));
    else if (keep)
      outExprs.push_back(getAffineConstantExpr(0, ctx));
  }
  Type ct = computeType(nnElt);
  bool unsig = nnElt.isUnsignedInteger();
  Value init = fromCompute(b, loc, scalarConst(b, loc, ct, unsig && comb == Combine::Max ? 0 : identityOf(comb, ct)), nnElt);
  if (unsig && comb == Combine::Min)
    init = b.create<arith::ConstantOp>(loc, b.getIntegerAttr(storageType(nnElt), -1));
  emitFill(b, loc, init, out);
  SmallVector<AffineMap> maps = {AffineMap::getMultiDimIdentityMap(rank, ctx),
                                 AffineMap::get(rank, 0, outExprs, ctx)};
  b.create<linalg::GenericOp>(loc, ValueRange{x}, ValueRange{out}, maps, iters,
                              [&](OpBuilder &nb, Location nl, ValueRange args) {
                                Value v = toCompute(nb, nl, args[0], nnElt), acc = toCompute(nb, nl, args[1], nnElt);
                                Value r;
                                bool isF = ct.isa<FloatType>();
                                switch (comb) {
                                case Combine::Sum:
                                  r = isF ? nb.create<arith::AddFOp>(nl, acc, v).getResult() : nb.create<arith::AddIOp>(nl, acc, v).getResult();
                                  break;
                                case Combine::Prod:
                                  r = isF ? nb.create<arith::MulFOp>(nl, acc, v).getResult() : nb.create<arith::MulIOp>(nl, acc, v).getResult();
                                  break;
                                case Combine::Max:
                                case Combine::Min: {
                                  bool mx = comb == Combine::Max;
                                  Value better;
                                  if (isF) {
                                    better = nb.create<arith::CmpFOp>(nl, mx ? arith::CmpFPredicate::UGT : arith::CmpFPredicate::ULT, v, acc);
                                  } else {
                                    auto p = mx ? (unsig ? arith::CmpIPredicate::ugt : arith::CmpIPredicate::sgt)
                                                : (unsig ? arith::CmpIPredicate::ult : arith::CmpIPredicate::slt);
                                    better = nb.create<arith::CmpIOp>(nl, p, v, acc);
                                  }
                                  r = nb.create<arith::SelectOp>(nl, better, v, acc);
                                  break;
                                }
                                }
                                nb.create<linalg::YieldOp>(nl, fromCompute(nb, nl, r, nnElt));
                              });
}

/// out = out / count, in place.
void emitScale(LoweringInput &in, Value out, int64_t count, Type nnElt) {
  OpBuilder &b = in.b;
  Location loc = in.loc;
  auto ot = out.getType().cast<MemRefType>();
  Type ct = computeType(nnElt);
  SmallVector<AffineMap> maps = {AffineMap::getMultiDimIdentityMap(ot.getRank(), b.getContext())};
  SmallVector<StringRef> iters(ot.getRank(), getParallelIteratorTypeName());
  b.create<linalg::GenericOp>(loc, ValueRange{}, ValueRange{out}, maps, iters,
                              [&](OpBuilder &nb, Location nl, ValueRange args) {
                                Value v = toCompute(nb, nl, args[0], nnElt);
                                Value n = scalarConst(nb, nl, ct, (double)count);
                                Value r = ct.isa<FloatType>() ? nb.create<arith::DivFOp>(nl, v, n).getResult()
                                          : nnElt.isUnsignedInteger() ? nb.create<arith::DivUIOp>(nl, v, n).getResult()
                                                                      : nb.create<arith::DivSIOp>(nl, v, n).getResult();
                                nb.create<linalg::YieldOp>(nl, fromCompute(nb, nl, r, nnElt));
                              });
}

/// ArgMax/ArgMin: a parallel generic over the output; an scf.for along the
/// axis carries the best value and its index.
void emitArgReduce(LoweringInput &in, int64_t axis, bool isMax, bool last, Type nnElt) {
  OpBuilder &b = in.b;
  Location loc = in.loc;
  Value x = in.ins[0], out = in.outs[0];
  auto xt = x.getType().cast<MemRefType>(), ot = out.getType().cast<MemRefType>();
  int64_t rank = xt.getRank();
  bool keep = ot.getRank() == rank;
  SmallVector<AffineMap> maps = {AffineMap::getMultiDimIdentityMap(ot.getRank(), b.getContext())};
  SmallVector<StringRef> iters(ot.getRank(), getParallelIteratorTypeName());
  Type ct = computeType(nnElt);
  bool unsig = nnElt.isUnsignedInteger();
  b.create<linalg::GenericOp>(
      loc, ValueRange{}, ValueRange{out}, maps, iters, [&](OpBuilder &nb, Location nl, ValueRange) {
        SmallVector<Value> outIdx;
        for (int64_t d = 0; d < ot.getRank(); ++d)
          outIdx.push_back(nb.create<linalg::IndexOp>(nl, d));
        auto indexAt = [&](OpBuilder &bb, Value k) {
          SmallVector<Value> idx;
          int64_t o = 0;
          for (int64_t d = 0; d < rank; ++d) {
            if (d == axis) {
              idx.push_back(k);
              if (keep)
                ++o;
            } else {
              idx.push_back(outIdx[o++]);
            }
          }
          return idx;
        };
        Value zero = indexConst(nb, nl, 0), one = indexConst(nb, nl, 1);
        Value first = toCompute(nb, nl, nb.create<memref::LoadOp>(nl, x, indexAt(nb, zero)), nnElt);
        Value n = indexConst(nb, nl, xt.getDimSize(axis));
        auto loop = nb.create<scf::ForOp>(
            nl, one, n, one, ValueRange{first, zero}, [&](OpBuilder &lb, Location ll, Value k, ValueRange iter) {
              Value v = toCompute(lb, ll, lb.create<memref::LoadOp>(ll, x, indexAt(lb, k)), nnElt);
              Value better;
              if (ct.isa<FloatType>()) {
                auto p = isMax ? (last ? arith::CmpFPredicate::OGE : arith::CmpFPredicate::OGT)
                               : (last ? arith::CmpFPredicate::OLE : arith::CmpFPredicate::OLT);
                better = lb.create<arith::CmpFOp>(ll, p, v, iter[0]);
              } else {
                arith::CmpIPredicate p;
                if (isMax)
                  p = last ? (unsig ? arith::CmpIPredicate::uge : arith::CmpIPredicate::sge)
                           : (unsig ? arith::CmpIPredicate::ugt : arith::CmpIPredicate::sgt);
                else
                  p = last ? (unsig ? arith::CmpIPredicate::ule : arith::CmpIPredicate::sle)
                           : (unsig ? arith::CmpIPredicate::ult : arith::CmpIPredicate::slt);
                better = lb.create<arith::CmpIOp>(ll, p, v, iter[0]);
              }
              Value bv = lb.create<arith::SelectOp>(ll, better, v, iter[0]);
              Value bi = lb.create<arith::SelectOp>(ll, better, k, iter[1]);
              lb.create<scf::YieldOp>(ll, ValueRange{bv, bi});
            });
        Value idx = nb.create<arith::IndexCastOp>(nl, nb.getI64Type(), loop.getResult(1));
        nb.create<linalg::YieldOp>(nl, idx);
      });
}

} // namespace

FailureOr<bool> lowerReduction(LoweringInput &in) {
  Operation *op = in.op;
  Type elt = op->getNumOperands() ? elementOf(op->getOperand(0)) : Type();
  auto reduce = [&](auto r, Combine c, bool mean) -> FailureOr<bool> {
    SmallVector<int64_t> axes = toI64(r.getAxes());
    emitReduce(in, in.ins[0], in.outs[0], axes, c, elt);
    if (mean) {
      auto xt = r.getX().getType().template cast<RankedTensorType>();
      int64_t count = 1;
      for (int64_t d = 0; d < xt.getRank(); ++d)
        if (axes.empty() || llvm::is_contained(axes, d))
          count *= xt.getDimSize(d);
      emitScale(in, in.outs[0], count, elt);
    }
    return true;
  };
  return llvm::TypeSwitch<Operation *, FailureOr<bool>>(op)
      .Case<ReduceSumOp>([&](auto r) { return reduce(r, Combine::Sum, false); })
      .Case<ReduceMeanOp>([&](auto r) { return reduce(r, Combine::Sum, true); })
      .Case<ReduceProdOp>([&](auto r) { return reduce(r, Combine::Prod, false); })
      .Case<ReduceMaxOp>([&](auto r) { return reduce(r, Combine::Max, false); })
      .Case<ReduceMinOp>([&](auto r) { return reduce(r, Combine::Min, false); })
      .Case<ArgMaxOp>([&](ArgMaxOp a) -> FailureOr<bool> {
        emitArgReduce(in, a.getAxis(), true, a.getSelectLastIndex(), elt);
        return true;
      })
      .Case<ArgMinOp>([&](ArgMinOp a) -> FailureOr<bool> {
        emitArgReduce(in, a.getAxis(), false, a.getSelectLastIndex(), elt);
        return true;
      })
      .Default([](Operation *) -> FailureOr<bool> { return failure(); });
}

} // namespace codegen
} // namespace nncc
