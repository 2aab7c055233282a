//===- LowerDataMovement.cpp - transposes, slices, pads, gathers ----------===//
#include "codegen/KernelCall.h"
#include "codegen/Lowering.h"

#include "ir/NNOps.h"
#include "ir/ShapeUtils.h"

#include "mlir/IR/AffineMap.h"
#include "llvm/ADT/TypeSwitch.h"

using namespace mlir;
using namespace nncc::nn;

namespace nncc {
namespace codegen {
namespace {

SmallVector<StringRef> parallel(int64_t rank) {
  return SmallVector<StringRef>(rank, getParallelIteratorTypeName());
}

/// out = x read through `inMap` (a map from out's indices to x's).
void emitMapped(OpBuilder &b, Location loc, Value x, Value out, AffineMap inMap) {
  auto ot = out.getType().cast<MemRefType>();
  SmallVector<AffineMap> maps = {inMap, AffineMap::getMultiDimIdentityMap(ot.getRank(), b.getContext())};
  b.create<linalg::GenericOp>(loc, ValueRange{x}, ValueRange{out}, maps, parallel(ot.getRank()),
                              [](OpBuilder &nb, Location nl, ValueRange args) {
                                nb.create<linalg::YieldOp>(nl, args[0]);
                              });
}

/// A generic over out's shape whose body computes each element from the
/// loop indices (and loads it needs).
void emitIndexed(OpBuilder &b, Location loc, Value out,
                 function_ref<Value(OpBuilder &, Location, ArrayRef<Value>)> body) {
  auto ot = out.getType().cast<MemRefType>();
  SmallVector<AffineMap> maps = {AffineMap::getMultiDimIdentityMap(ot.getRank(), b.getContext())};
  b.create<linalg::GenericOp>(loc, ValueRange{}, ValueRange{out}, maps, parallel(ot.getRank()),
                              [&](OpBuilder &nb, Location nl, ValueRange) {
                                SmallVector<Value> idx;
                                for (int64_t d = 0; d < ot.getRank(); ++d)
                                  idx.push_back(nb.create<linalg::IndexOp>(nl, d));
                                nb.create<linalg::YieldOp>(nl, body(nb, nl, idx));
                              });
}

/// Loaded integer index as `index`, negative values wrapped by `dim` and
/// clamped into [0, dim) so a bad index never reads outside the buffer.
Value toBoundedIndex(OpBuilder &b, Location loc, Value raw, int64_t dim) {
  Value i = b.create<arith::IndexCastOp>(loc, b.getIndexType(), raw);
  Value zero = indexConst(b, loc, 0), n = indexConst(b, loc, dim);
  Value neg = b.create<arith::CmpIOp>(loc, arith::CmpIPredicate::slt, i, zero);
  i = b.create<arith::SelectOp>(loc, neg, b.create<arith::AddIOp>(loc, i, n), i);
  Value lo = b.create<arith::CmpIOp>(loc, arith::CmpIPredicate::slt, i, zero);
  i = b.create<arith::SelectOp>(loc, lo, zero, i);
  Value hi = b.create<arith::CmpIOp>(loc, arith::CmpIPredicate::sge, i, n);
  return b.create<arith::SelectOp>(loc, hi, indexConst(b, loc, std::max<int64_t>(dim - 1, 0)), i);
}

/// Non-negative remainder of an index.
Value posMod(OpBuilder &b, Location loc, Value i, int64_t n) {
  Value nn = indexConst(b, loc, n);
  Value r = b.create<arith::RemSIOp>(loc, i, nn);
  Value neg = b.create<arith::CmpIOp>(loc, arith::CmpIPredicate::slt, r, indexConst(b, loc, 0));
  return b.create<arith::SelectOp>(loc, neg, b.create<arith::AddIOp>(loc, r, nn), r);
}

void lowerPad(LoweringInput &in, PadOp op) {
  OpBuilder &b = in.b;
  Location loc = in.loc;
  Value x = in.ins[0], out = in.outs[0];
  auto xt = x.getType().cast<MemRefType>();
  int64_t rank = xt.getRank();
  auto pads = toI64(op.getPads());
  StringRef mode = op.getMode();
  Type nnElt = elementOf(op.getX());
  Value fill = fromCompute(b, loc, scalarConst(b, loc, computeType(nnElt), op.getValue().convertToDouble()), nnElt);
  if (xt.getNumElements() == 0) {
    emitFill(b, loc, fill, out);
    return;
  }
  emitIndexed(b, loc, out, [&](OpBuilder &nb, Location nl, ArrayRef<Value> idx) -> Value {
    SmallVector<Value> src;
    Value inside = nb.create<arith::ConstantIntOp>(nl, 1, 1);
    for (int64_t d = 0; d < rank; ++d) {
      int64_t n = xt.getDimSize(d);
      Value i = nb.create<arith::SubIOp>(nl, idx[d], indexConst(nb, nl, pads[d]));
      Value zero = indexConst(nb, nl, 0), last = indexConst(nb, nl, n - 1);
      auto clamp = [&](Value v) {
        Value lo = nb.create<arith::CmpIOp>(nl, arith::CmpIPredicate::slt, v, zero);
        v = nb.create<arith::SelectOp>(nl, lo, zero, v);
        Value hi = nb.create<arith::CmpIOp>(nl, arith::CmpIPredicate::sgt, v, last);
        return nb.create<arith::SelectOp>(nl, hi, last, v).getResult();
      };
      if (mode == "constant") {
        Value ok = nb.create<arith::AndIOp>(nl, nb.create<arith::CmpIOp>(nl, arith::CmpIPredicate::sge, i, zero),
                                            nb.create<arith::CmpIOp>(nl, arith::CmpIPredicate::sle, i, last));
        inside = nb.create<arith::AndIOp>(nl, inside, ok);
        i = clamp(i);
      } else if (mode == "edge") {
        i = clamp(i);
      } else if (mode == "wrap") {
        i = posMod(nb, nl, i, n);
      } else { // reflect
        if (n == 1) {
          i = zero;
        } else {
          int64_t period = 2 * (n - 1);
          Value m = posMod(nb, nl, i, period);
          Value over = nb.create<arith::CmpIOp>(nl, arith::CmpIPredicate::sgt, m, last);
          i = nb.create<arith::SelectOp>(nl, over, nb.create<arith::SubIOp>(nl, indexConst(nb, nl, period), m), m);
        }
      }
      src.push_back(i);
    }
    Value v = nb.create<memref::LoadOp>(nl, x, src);
    if (mode == "constant")
      v = nb.create<arith::SelectOp>(nl, inside, v, fill);
    return v;
  });
}

} // namespace

FailureOr<bool> lowerDataMovement(LoweringInput &in) {
  Operation *op = in.op;
  OpBuilder &b = in.b;
  Location loc = in.loc;
  MLIRContext *ctx = b.getContext();
  auto outShape = [&](int k = 0) { return in.outs[k].getType().cast<MemRefType>().getShape(); };
  auto inShape = [&](int k = 0) { return in.ins[k].getType().cast<MemRefType>().getShape(); };
  return llvm::TypeSwitch<Operation *, FailureOr<bool>>(op)
      .Case<TransposeOp>([&](TransposeOp t) -> FailureOr<bool> {
        auto perm = toI64(t.getPerm());
        SmallVector<AffineExpr> exprs(perm.size());
        for (size_t k = 0; k < perm.size(); ++k)
          exprs[perm[k]] = getAffineDimExpr(k, ctx);
        emitMapped(b, loc, in.ins[0], in.outs[0], AffineMap::get(perm.size(), 0, exprs, ctx));
        return true;
      })
      .Case<ExpandOp>([&](auto) -> FailureOr<bool> {
        emitMapped(b, loc, in.ins[0], in.outs[0], broadcastMap(ctx, inShape(), outShape()));
        return true;
      })
      .Case<TileOp>([&](auto) -> FailureOr<bool> {
        SmallVector<AffineExpr> exprs;
        for (size_t d = 0; d < inShape().size(); ++d) {
          int64_t n = inShape()[d];
          AffineExpr e = getAffineDimExpr(d, ctx);
          exprs.push_back(n == 1 ? getAffineConstantExpr(0, ctx) : (n == outShape()[d] ? e : e % n));
        }
        emitMapped(b, loc, in.ins[0], in.outs[0], AffineMap::get(outShape().size(), 0, exprs, ctx));
        return true;
      })
      .Case<SliceOp>([&](SliceOp s) -> FailureOr<bool> {
        auto starts = toI64(s.getStarts()), steps = toI64(s.getSteps());
        int64_t rank = starts.size();
        if (nn::numElements(outShape()) == 0)
          return true;
        if (llvm::all_of(steps, [](int64_t st) { return st > 0; })) {
          // A strided view of x, copied (loop bounds come from the view).
          Value view = b.create<memref::SubViewOp>(loc, in.ins[0], starts, outShape(), steps);
          emitMapped(b, loc, view, in.outs[0], AffineMap::getMultiDimIdentityMap(rank, ctx));
          return true;
        }
        Value x = in.ins[0];
        emitIndexed(b, loc, in.outs[0], [&](OpBuilder &nb, Location nl, ArrayRef<Value> idx) -> Value {
          SmallVector<Value> src;
          for (int64_t d = 0; d < rank; ++d)
            src.push_back(nb.create<arith::AddIOp>(
                nl, indexConst(nb, nl, starts[d]), nb.create<arith::MulIOp>(nl, idx[d], indexConst(nb, nl, steps[d]))));
          return nb.create<memref::LoadOp>(nl, x, src);
        });
        return true;
      })
      .Case<ConcatOp>([&](ConcatOp c) -> FailureOr<bool> {
        int64_t axis = c.getAxis(), offset = 0;
        // Row-wise memcpy in the runtime (in parallel on the host).
        if (in.ins.size() <= 64) {
          KernelCall k("nncc_concat");
          k.i((int64_t)in.ins.size());
          for (auto it : llvm::enumerate(in.ins))
            k.tensor(it.value(), elementOf(c->getOperand(it.index())));
          k.tensor(in.outs[0], elementOf(c.getResult())).i(axis).emit(b, loc, in.scratch);
          return true;
        }
        auto os = outShape();
        for (Value part : in.ins) {
          auto ps = part.getType().cast<MemRefType>().getShape();
          if (ps[axis] == 0)
            continue;
          SmallVector<int64_t> offs(os.size(), 0), sizes(ps.begin(), ps.end()), strides(os.size(), 1);
          offs[axis] = offset;
          Value view = b.create<memref::SubViewOp>(loc, in.outs[0], offs, sizes, strides);
          emitMapped(b, loc, part, view, AffineMap::getMultiDimIdentityMap(ps.size(), ctx));
          offset += ps[axis];
        }
        return true;
      })
      .Case<PadOp>([&](PadOp p) -> FailureOr<bool> {
        lowerPad(in, p);
        return true;
      })
      .Case<GatherOp>([&](GatherOp g) -> FailureOr<bool> {
        int64_t axis = g.getAxis();
        auto xs = inShape(0), is = inShape(1);
        int64_t ri = is.size(), rank = outShape().size();
        Value x = in.ins[0];
        SmallVector<AffineExpr> iexprs;
        for (int64_t d = 0; d < ri; ++d)
          iexprs.push_back(getAffineDimExpr(axis + d, ctx));
        SmallVector<AffineMap> maps = {AffineMap::get(rank, 0, iexprs, ctx),
                                       AffineMap::getMultiDimIdentityMap(rank, ctx)};
        if (nn::numElements(outShape()) == 0)
          return true;
        b.create<linalg::GenericOp>(loc, ValueRange{in.ins[1]}, ValueRange{in.outs[0]}, maps,
                                    SmallVector<StringRef>(rank, getParallelIteratorTypeName()),
                                    [&](OpBuilder &nb, Location nl, ValueRange args) {
                                      SmallVector<Value> src;
                                      for (int64_t d = 0; d < axis; ++d)
                                        src.push_back(nb.create<linalg::IndexOp>(nl, d));
                                      src.push_back(toBoundedIndex(nb, nl, args[0], xs[axis]));
                                      for (int64_t d = axis + 1; d < (int64_t)xs.size(); ++d)
                                        src.push_back(nb.create<linalg::IndexOp>(nl, d - 1 + ri));
                                      nb.create<linalg::YieldOp>(nl, nb.create<memref::LoadOp>(nl, x, src).getResult());
                                    });
        return true;
      })
      .Case<GatherElementsOp>([&](GatherElementsOp g) -> FailureOr<bool> {
        int64_t axis = g.getAxis(), rank = outShape().size();
        Value x = in.ins[0];
        int64_t dim = inShape(0)[axis];
        if (nn::numElements(outShape()) == 0)
          return true;
        SmallVector<AffineMap> maps(2, AffineMap::getMultiDimIdentityMap(rank, ctx));
        b.create<linalg::GenericOp>(loc, ValueRange{in.ins[1]}, ValueRange{in.outs[0]}, maps,
                                    SmallVector<StringRef>(rank, getParallelIteratorTypeName()),
                                    [&](OpBuilder &nb, Location nl, ValueRange args) {
                                      SmallVector<Value> src;
                                      for (int64_t d = 0; d < rank; ++d)
                                        src.push_back(d == axis ? toBoundedIndex(nb, nl, args[0], dim)
                                                                : nb.create<linalg::IndexOp>(nl, d).getResult());
                                      nb.create<linalg::YieldOp>(nl, nb.create<memref::LoadOp>(nl, x, src).getResult());
                                    });
        return true;
      })
      .Case<TriluOp>([&](TriluOp t) -> FailureOr<bool> {
        int64_t rank = outShape().size(), k = t.getK();
        bool upper = t.getUpper();
        Type nnElt = elementOf(t.getX());
        Value zero = fromCompute(b, loc, scalarConst(b, loc, computeType(nnElt), 0), nnElt);
        SmallVector<AffineMap> maps(2, AffineMap::getMultiDimIdentityMap(rank, ctx));
        b.create<linalg::GenericOp>(loc, ValueRange{in.ins[0]}, ValueRange{in.outs[0]}, maps,
                                    SmallVector<StringRef>(rank, getParallelIteratorTypeName()),
                                    [&](OpBuilder &nb, Location nl, ValueRange args) {
                                      Value i = nb.create<linalg::IndexOp>(nl, rank - 2);
                                      Value j = nb.create<linalg::IndexOp>(nl, rank - 1);
                                      Value diff = nb.create<arith::SubIOp>(nl, j, i);
                                      Value keep = nb.create<arith::CmpIOp>(
                                          nl, upper ? arith::CmpIPredicate::sge : arith::CmpIPredicate::sle, diff,
                                          indexConst(nb, nl, k));
                                      nb.create<linalg::YieldOp>(nl, nb.create<arith::SelectOp>(nl, keep, args[0], zero).getResult());
                                    });
        return true;
      })
      .Case<RangeOp>([&](RangeOp r) -> FailureOr<bool> {
        Type nnElt = elementOf(r.getResult());
        Type ct = computeType(nnElt);
        double start = r.getStart().convertToDouble(), delta = r.getDelta().convertToDouble();
        emitIndexed(b, loc, in.outs[0], [&](OpBuilder &nb, Location nl, ArrayRef<Value> idx) -> Value {
          Value i = nb.create<arith::IndexCastOp>(nl, nb.getI64Type(), idx[0]);
          Value v;
          if (ct.isa<FloatType>()) {
            Value fi = nb.create<arith::SIToFPOp>(nl, ct, i);
            v = nb.create<arith::AddFOp>(nl, scalarConst(nb, nl, ct, start),
                                         nb.create<arith::MulFOp>(nl, fi, scalarConst(nb, nl, ct, delta)));
          } else {
            Value ii = ct.getIntOrFloatBitWidth() == 64 ? i : nb.create<arith::TruncIOp>(nl, ct, i).getResult();
            v = nb.create<arith::AddIOp>(nl, scalarConst(nb, nl, ct, start),
                                         nb.create<arith::MulIOp>(nl, ii, scalarConst(nb, nl, ct, delta)));
          }
          return fromCompute(nb, nl, v, nnElt);
        });
        return true;
      })
      .Default([](Operation *) -> FailureOr<bool> { return failure(); });
}

} // namespace codegen
} // namespace nncc
