//===- LowerNN.cpp - nn on tensors to buffers (the nncc-lower-nn pass) ----===//
#include "codegen/Lowering.h"
#include "codegen/Passes.h"

#include "ir/NNOps.h"
#include "ir/ShapeUtils.h"
#include "passes/MemoryPlan.h"

#include "mlir/Dialect/Affine/IR/AffineOps.h"
#include "codegen/KernelOps.h"

#include "mlir/IR/AffineMap.h"

using namespace mlir;

namespace nncc {
namespace codegen {

//===----------------------------------------------------------------------===//
// Types
//===----------------------------------------------------------------------===//

Type storageType(Type t) {
  MLIRContext *ctx = t.getContext();
  if (t.isInteger(1))
    return IntegerType::get(ctx, 8);
  if (t.isBF16())
    return IntegerType::get(ctx, 16);
  if (auto it = t.dyn_cast<IntegerType>())
    return IntegerType::get(ctx, it.getWidth());
  return t;
}

MemRefType bufferType(RankedTensorType t) {
  return MemRefType::get(t.getShape(), storageType(t.getElementType()));
}

Type computeType(Type t) {
  if (t.isF16() || t.isBF16())
    return Float32Type::get(t.getContext());
  if (t.isInteger(1))
    return t;
  return storageType(t);
}

Value toCompute(OpBuilder &b, Location loc, Value v, Type t) {
  if (t.isInteger(1))
    return b.create<arith::CmpIOp>(loc, arith::CmpIPredicate::ne, v,
                                   b.create<arith::ConstantIntOp>(loc, 0, 8));
  if (t.isF16())
    return b.create<arith::ExtFOp>(loc, b.getF32Type(), v);
  if (t.isBF16()) {
    Value wide = b.create<arith::ExtUIOp>(loc, b.getI32Type(), v);
    wide = b.create<arith::ShLIOp>(loc, wide, b.create<arith::ConstantIntOp>(loc, 16, 32));
    return b.create<arith::BitcastOp>(loc, b.getF32Type(), wide);
  }
  return v;
}

Value fromCompute(OpBuilder &b, Location loc, Value v, Type t) {
  if (t.isInteger(1))
    return b.create<arith::ExtUIOp>(loc, b.getI8Type(), v);
  if (t.isF16())
    return b.create<arith::TruncFOp>(loc, b.getF16Type(), v);
  if (t.isBF16()) {
    // The upper 16 bits (truncation, as the ONNX reference of opset 13
    // Cast); NaN stays a quiet NaN.
    Value bits = b.create<arith::BitcastOp>(loc, b.getI32Type(), v);
    auto c = [&](int64_t x) { return b.create<arith::ConstantIntOp>(loc, x, 32); };
    Value isNan = b.create<arith::CmpFOp>(loc, arith::CmpFPredicate::UNO, v, v);
    Value chosen = b.create<arith::SelectOp>(loc, isNan, b.create<arith::OrIOp>(loc, bits, c(0x400000)), bits);
    return b.create<arith::TruncIOp>(loc, b.getIntegerType(16), b.create<arith::ShRUIOp>(loc, chosen, c(16)));
  }
  return v;
}

//===----------------------------------------------------------------------===//
// Helpers
//===----------------------------------------------------------------------===//

Value indexConst(OpBuilder &b, Location loc, int64_t v) {
  return b.create<arith::ConstantIndexOp>(loc, v);
}

Value scalarConst(OpBuilder &b, Location loc, Type t, double v) {
  if (auto ft = t.dyn_cast<FloatType>())
    return b.create<arith::ConstantOp>(loc, b.getFloatAttr(ft, v));
  return b.create<arith::ConstantOp>(loc, b.getIntegerAttr(t, (int64_t)v));
}

AffineMap broadcastMap(MLIRContext *ctx, ArrayRef<int64_t> in, ArrayRef<int64_t> out) {
  SmallVector<AffineExpr> exprs;
  int64_t offset = out.size() - in.size();
  for (size_t d = 0; d < in.size(); ++d) {
    if (in[d] == 1 && out[offset + d] != 1)
      exprs.push_back(getAffineConstantExpr(0, ctx));
    else
      exprs.push_back(getAffineDimExpr(offset + d, ctx));
  }
  return AffineMap::get(out.size(), 0, exprs, ctx);
}

void emitBroadcastGeneric(OpBuilder &b, Location loc, ArrayRef<Value> ins, ValueRange outs,
                          function_ref<SmallVector<Value>(OpBuilder &, Location, ValueRange)> body) {
  auto outType = outs[0].getType().cast<MemRefType>();
  MLIRContext *ctx = b.getContext();
  SmallVector<AffineMap> maps;
  for (Value in : ins)
    maps.push_back(broadcastMap(ctx, in.getType().cast<MemRefType>().getShape(), outType.getShape()));
  maps.append(outs.size(), AffineMap::getMultiDimIdentityMap(outType.getRank(), ctx));
  SmallVector<StringRef> iters(outType.getRank(), getParallelIteratorTypeName());
  b.create<linalg::GenericOp>(loc, ins, outs, maps, iters, [&](OpBuilder &nb, Location nl, ValueRange args) {
    nb.create<linalg::YieldOp>(nl, body(nb, nl, args.drop_back(outs.size())));
  });
}

void emitBroadcastGeneric(OpBuilder &b, Location loc, ArrayRef<Value> ins, Value out,
                          function_ref<Value(OpBuilder &, Location, ValueRange)> body) {
  emitBroadcastGeneric(b, loc, ins, ValueRange{out}, [&](OpBuilder &nb, Location nl, ValueRange args) {
    return SmallVector<Value>{body(nb, nl, args)};
  });
}

void emitCopy(OpBuilder &b, Location loc, Value src, Value dst) {
  b.create<memref::CopyOp>(loc, src, dst);
}

void emitFill(OpBuilder &b, Location loc, Value value, Value dst) {
  b.create<linalg::FillOp>(loc, value, dst);
}

Value reshapeBuffer(OpBuilder &b, Location loc, Value m, ArrayRef<int64_t> shape) {
  auto type = m.getType().cast<MemRefType>();
  if (type.getShape() == shape)
    return m;
  Type et = type.getElementType();
  // Through 1-D: collapse every dimension into one, then expand.
  Value flat = m;
  if (type.getRank() == 0) {
    flat = b.create<memref::ExpandShapeOp>(loc, MemRefType::get({1}, et), m, ArrayRef<ReassociationIndices>{});
  } else if (type.getRank() > 1) {
    ReassociationIndices all;
    for (int64_t d = 0; d < type.getRank(); ++d)
      all.push_back(d);
    flat = b.create<memref::CollapseShapeOp>(loc, m, ArrayRef<ReassociationIndices>{all});
  }
  if (shape.size() == 1)
    return flat;
  if (shape.empty())
    return b.create<memref::CollapseShapeOp>(loc, flat, ArrayRef<ReassociationIndices>{});
  ReassociationIndices all;
  for (size_t d = 0; d < shape.size(); ++d)
    all.push_back(d);
  return b.create<memref::ExpandShapeOp>(loc, MemRefType::get(shape, et), flat, ArrayRef<ReassociationIndices>{all});
}

//===----------------------------------------------------------------------===//
// The pass
//===----------------------------------------------------------------------===//

namespace {
#define GEN_PASS_CLASSES
#include "codegen/Passes.h.inc"

class FunctionLowering {
public:
  FunctionLowering(func::FuncOp src, bool reuse, bool profile)
      : src(src), reuse(reuse), profile(profile), b(src.getContext()) {}

  LogicalResult run();

private:
  Value bufferOf(Value v) { return buffers.lookup(v); }
  Value arenaView(int64_t offset, RankedTensorType t);
  Value paramView(nn::ParamOp p);
  LogicalResult lowerOp(Operation *op);
  LogicalResult lowerLoop(nn::LoopOp loop, ArrayRef<Value> results);
  /// Plans the bodies of the loops in `block` (recursively); returns the
  /// arena bytes they need past the block's own arena.
  int64_t planLoops(Block &block);
  /// The buffer of result r of the op being lowered.
  Value resultBuffer(Value r, Location loc);

  func::FuncOp src, dst;
  bool reuse, profile;
  SmallVector<Attribute> profileNames;
  OpBuilder b;
  MemoryPlan plan;
  /// The plan of the block being lowered (a loop body's, inside one) and
  /// where its arena starts in the workspace.
  const MemoryPlan *active = &plan;
  int64_t arenaBase = 0;
  /// Each loop body's plan; its arena starts after the enclosing block's.
  llvm::DenseMap<Operation *, std::unique_ptr<MemoryPlan>> loopPlans;
  /// Where the kernels' scratch region starts: after every arena.
  int64_t scratchBase = 0;
  /// Where the next loop body's arena starts: after the arena (and slots) of
  /// every block enclosing it.
  int64_t nestedBase = 0;
  ModuleOp module;
  DenseMap<Value, Value> buffers;
  Value workspace, weights;
  SmallVector<Value> outputArgs;
  llvm::StringMap<int64_t> paramOffsets;
  SmallVector<std::string> paramOrder;
  int64_t weightBytes = 0;
  int64_t maxScratch = 0;
};

Value FunctionLowering::arenaView(int64_t offset, RankedTensorType t) {
  return b.create<memref::ViewOp>(src.getLoc(), bufferType(t), workspace,
                                  indexConst(b, src.getLoc(), arenaBase + offset), ValueRange{});
}

/// A loop body's arena is followed by two 64-byte slots for the iteration
/// number and the condition, then room for yielded body arguments copied
/// aside (a body that swaps carried values), then its nested loops' arenas.
static int64_t loopSlots(nn::LoopOp loop, const MemoryPlan &body) {
  int64_t bytes = 128;
  auto yield = loop.getBody().front().getTerminator();
  for (Value v : yield->getOperands().drop_front().take_front(loop.getCarried().size()))
    if (body.rootOf(v).isa<BlockArgument>())
      bytes += (storageBytes(v) + 63) / 64 * 64;
  return bytes;
}

int64_t FunctionLowering::planLoops(Block &block) {
  int64_t most = 0;
  for (Operation &op : block)
    if (auto loop = dyn_cast<nn::LoopOp>(op)) {
      Block &body = loop.getBody().front();
      auto p = std::make_unique<MemoryPlan>(planBlock(body, reuse, /*outputsToCaller=*/false));
      int64_t need = p->arenaBytes + loopSlots(loop, *p) + planLoops(body);
      loopPlans[loop] = std::move(p);
      most = std::max(most, need);
    }
  return most;
}

Value FunctionLowering::resultBuffer(Value r, Location loc) {
  auto t = r.getType().cast<RankedTensorType>();
  const auto &p = active->of(r);
  if (p.kind == MemoryPlan::Kind::Unused) // the kernel skips it
    return Value();
  Value buf = p.kind == MemoryPlan::Kind::Output ? outputArgs[p.index] : arenaView(p.offset, t);
  // An aliased output (reshape of this result) needs the result's own shape.
  if (buf.getType().cast<MemRefType>().getShape() != t.getShape())
    buf = reshapeBuffer(b, loc, buf, t.getShape());
  return buf;
}

LogicalResult FunctionLowering::lowerLoop(nn::LoopOp loop, ArrayRef<Value> results) {
  Location loc = loop.getLoc();
  const MemoryPlan &bodyPlan = *loopPlans[loop];
  Block &body = loop.getBody().front();
  auto yield = cast<nn::LoopYieldOp>(body.getTerminator());
  size_t numCarried = loop.getCarried().size();
  int64_t numScans = (int64_t)loop.getScanOutputs();
  // The carried values live in the loop's result buffers.
  for (auto [init, res] : llvm::zip(loop.getCarried(), results))
    if (bufferOf(init) != res)
      emitCopy(b, loc, bufferOf(init), res);
  Type i64 = b.getI64Type(), i1 = b.getI1Type();
  Value trips = b.create<memref::LoadOp>(loc, bufferOf(loop.getMaxTrip()), ValueRange{}), maxTrip = trips;
  // Never more iterations than the scan outputs have rows, but an unread
  // one (not written) caps the loop only when its count is read: a capacity
  // whose count nothing checks must not cut the loop short.
  int64_t capRows = INT64_MAX;
  bool counted = numScans > 0 && results.back();
  for (int64_t k = 0; k < numScans; ++k)
    if (results[numCarried + k] || counted)
      capRows = std::min(capRows, loop.getResult(numCarried + k).getType().cast<RankedTensorType>().getDimSize(0));
  if (capRows != INT64_MAX)
    maxTrip = b.create<arith::MinSIOp>(loc, maxTrip, b.create<arith::ConstantIntOp>(loc, capRows, 64));
  auto loadCond = [&](Value buf) {
    Value byte = b.create<memref::LoadOp>(loc, buf, ValueRange{});
    return b.create<arith::CmpIOp>(loc, arith::CmpIPredicate::ne, byte, b.create<arith::ConstantIntOp>(loc, 0, 8))
        .getResult();
  };
  Value cond0 = loadCond(bufferOf(loop.getCond()));
  Value zero = b.create<arith::ConstantIntOp>(loc, 0, 64);
  auto whileOp = b.create<scf::WhileOp>(loc, TypeRange{i64, i1}, ValueRange{zero, cond0});
  {
    OpBuilder::InsertionGuard guard(b);
    Block *before = b.createBlock(&whileOp.getBefore(), {}, {i64, i1}, {loc, loc});
    Value more = b.create<arith::CmpIOp>(loc, arith::CmpIPredicate::slt, before->getArgument(0), maxTrip);
    Value go = b.create<arith::AndIOp>(loc, before->getArgument(1), more);
    b.create<scf::ConditionOp>(loc, go, before->getArguments());

    Block *after = b.createBlock(&whileOp.getAfter(), {}, {i64, i1}, {loc, loc});
    int64_t base = nestedBase, slots = base + bodyPlan.arenaBytes;
    auto slot = [&](int64_t offset, Type elt) {
      return b.create<memref::ViewOp>(loc, MemRefType::get({}, elt), workspace, indexConst(b, loc, offset),
                                      ValueRange{});
    };
    Value iterBuf = slot(slots, i64), condBuf = slot(slots + 64, b.getI8Type());
    b.create<memref::StoreOp>(loc, after->getArgument(0), iterBuf, ValueRange{});
    b.create<memref::StoreOp>(loc, b.create<arith::ExtUIOp>(loc, b.getI8Type(), after->getArgument(1)), condBuf,
                              ValueRange{});
    buffers[body.getArgument(0)] = iterBuf;
    buffers[body.getArgument(1)] = condBuf;
    for (size_t k = 0; k < numCarried; ++k)
      buffers[body.getArgument(k + 2)] = results[k];

    const MemoryPlan *outer = active;
    int64_t outerBase = arenaBase, outerNested = nestedBase;
    active = &bodyPlan;
    arenaBase = base;
    nestedBase = slots + loopSlots(loop, bodyPlan);
    for (Operation &op : body.without_terminator())
      if (failed(lowerOp(&op)))
        return failure();
    Value next = loadCond(bufferOf(yield.getValues()[0]));
    // Scan values go to row i of their results first (one that is a body
    // argument is the carried value before this iteration's update).
    Value row = numScans ? b.create<arith::IndexCastOp>(loc, b.getIndexType(), after->getArgument(0)) : Value();
    for (int64_t k = 0; k < numScans; ++k) {
      Value v = yield.getValues()[1 + numCarried + k], dst = results[numCarried + k];
      if (!dst) // an unread scan output
        continue;
      auto t = v.getType().cast<RankedTensorType>();
      int64_t n = t.getNumElements();
      auto rows = dst.getType().cast<MemRefType>().getShape()[0];
      Value from = reshapeBuffer(b, loc, bufferOf(v), {n}), to = reshapeBuffer(b, loc, dst, {rows * n});
      Value base = b.create<arith::MulIOp>(loc, row, indexConst(b, loc, n));
      auto each = b.create<scf::ForOp>(loc, indexConst(b, loc, 0), indexConst(b, loc, n), indexConst(b, loc, 1));
      OpBuilder::InsertionGuard inner(b);
      b.setInsertionPointToStart(each.getBody());
      Value j = each.getInductionVar();
      Value x = b.create<memref::LoadOp>(loc, from, ValueRange{j});
      b.create<memref::StoreOp>(loc, x, to, ValueRange{b.create<arith::AddIOp>(loc, base, j).getResult()});
    }
    // Yielded body arguments are copied aside first: a body may swap its
    // carried values.
    SmallVector<Value> sources;
    int64_t aside = slots + 128;
    for (Value v : yield.getValues().drop_front().take_front(numCarried)) {
      Value src = bufferOf(v);
      if (bodyPlan.rootOf(v).isa<BlockArgument>()) {
        auto t = v.getType().cast<RankedTensorType>();
        Value copy = b.create<memref::ViewOp>(loc, bufferType(t), workspace, indexConst(b, loc, aside),
                                              ValueRange{});
        aside += (storageBytes(v) + 63) / 64 * 64;
        emitCopy(b, loc, src, copy);
        src = copy;
      }
      sources.push_back(src);
    }
    for (auto [src, res] : llvm::zip(sources, results))
      emitCopy(b, loc, src, res);
    active = outer;
    arenaBase = outerBase;
    nestedBase = outerNested;
    Value step = b.create<arith::AddIOp>(loc, after->getArgument(0), b.create<arith::ConstantIntOp>(loc, 1, 64));
    b.create<scf::YieldOp>(loc, ValueRange{step, next});
  }
  // The iterations that ran: how many rows of the scan outputs hold values;
  // one more than the rows when they ran out before the loop ended (its
  // condition still true, fewer than M iterations run): the runtime then
  // recompiles with more rows.
  if (numScans > 0 && results.back()) {
    Value ran = whileOp.getResult(0);
    Value cut = b.create<arith::AndIOp>(
        loc, whileOp.getResult(1), b.create<arith::CmpIOp>(loc, arith::CmpIPredicate::slt, ran, trips));
    Value count = b.create<arith::AddIOp>(loc, ran, b.create<arith::ExtUIOp>(loc, i64, cut));
    b.create<memref::StoreOp>(loc, count, results.back(), ValueRange{});
  }
  return success();
}

Value FunctionLowering::paramView(nn::ParamOp p) {
  auto t = p.getType().cast<RankedTensorType>();
  auto it = paramOffsets.find(p.getName());
  int64_t offset = it == paramOffsets.end() ? -1 : it->second;
  return b.create<memref::ViewOp>(p.getLoc(), bufferType(t), weights, indexConst(b, p.getLoc(), offset),
                                  ValueRange{});
}

LogicalResult FunctionLowering::lowerOp(Operation *op) {
  Location loc = op->getLoc();
  if (auto c = dyn_cast<nn::ConstantOp>(op)) {
    auto t = c.getType().cast<RankedTensorType>();
    static int counter = 0;
    std::string name = "__nncc_const_" + std::to_string(counter++);
    auto value = c.getValue().cast<DenseElementsAttr>();
    Type st = storageType(t.getElementType());
    DenseElementsAttr stored = value;
    RankedTensorType storedType = RankedTensorType::get(t.getShape(), st);
    if (t.getElementType().isInteger(1)) {
      SmallVector<APInt> bytes;
      for (bool x : value.getValues<bool>())
        bytes.push_back(APInt(8, x ? 1 : 0));
      stored = DenseElementsAttr::get(storedType, bytes);
    } else if (t.getElementType().isBF16()) {
      SmallVector<APInt> bits;
      for (APFloat x : value.getValues<APFloat>())
        bits.push_back(x.bitcastToAPInt());
      stored = DenseElementsAttr::get(storedType, bits);
    } else if (st != t.getElementType()) {
      SmallVector<APInt> ints(value.getValues<APInt>());
      stored = DenseElementsAttr::get(storedType, ints);
    }
    auto mt = MemRefType::get(t.getShape(), st);
    {
      OpBuilder::InsertionGuard guard(b);
      b.setInsertionPoint(dst);
      b.create<memref::GlobalOp>(loc, name, b.getStringAttr("private"), mt, stored, /*constant=*/true,
                                 b.getI64IntegerAttr(64));
    }
    buffers[c.getResult()] = b.create<memref::GetGlobalOp>(loc, mt, name);
    return success();
  }
  if (auto p = dyn_cast<nn::ParamOp>(op)) {
    buffers[p.getResult()] = paramView(p);
    return success();
  }
  if (isAliasOp(op)) {
    auto t = op->getResult(0).getType().cast<RankedTensorType>();
    buffers[op->getResult(0)] = reshapeBuffer(b, loc, bufferOf(op->getOperand(0)), t.getShape());
    return success();
  }

  // A concat whose operands were computed inside its buffer (memory plan).
  if (op->getNumResults() == 1 && active->concatInPlace.count(op->getResult(0))) {
    auto t = op->getResult(0).getType().cast<RankedTensorType>();
    buffers[op->getResult(0)] = arenaView(active->of(op->getResult(0)).offset, t);
    return success();
  }

  SmallVector<Value> ins, outs;
  for (Value v : op->getOperands())
    ins.push_back(bufferOf(v));
  for (Value r : op->getResults()) {
    Value buf = resultBuffer(r, loc);
    outs.push_back(buf);
    if (buf)
      buffers[r] = buf;
  }
  if (auto loop = dyn_cast<nn::LoopOp>(op))
    return lowerLoop(loop, outs);
  LoweringInput in{op, ins, outs, b, loc, module, [&](int64_t bytes) {
                      // Ops run one at a time: every kernel's scratch shares the
                      // region after the arena.
                      maxScratch = std::max(maxScratch, bytes);
                      auto type = MemRefType::get({bytes}, b.getI8Type());
                      return b.create<memref::ViewOp>(loc, type, workspace, indexConst(b, loc, scratchBase),
                                                      ValueRange{})
                          .getResult();
                    }};
  for (auto fn : {lowerElementwise, lowerReduction, lowerDataMovement, lowerKernel}) {
    FailureOr<bool> r = fn(in);
    if (succeeded(r))
      return *r ? success() : failure();
  }
  return op->emitOpError("has no lowering in nncc codegen");
}

LogicalResult FunctionLowering::run() {
  module = src->getParentOfType<ModuleOp>();
  for (Operation &op : src.getBody().front())
    if (!op.getResults().empty())
      for (Value r : op.getResults())
        if (auto t = r.getType().dyn_cast<RankedTensorType>(); !t || !t.hasStaticShape())
          return op.emitOpError("result ") << r.getType()
                                           << " has no static shape; nncc compiles static shapes (give the "
                                              "graph inputs' shapes)";
  for (Type t : src.getArgumentTypes())
    if (!t.cast<RankedTensorType>().hasStaticShape())
      return src.emitError("argument type ") << t << " has no static shape";

  plan = planMemory(src, reuse);
  nestedBase = plan.arenaBytes;
  scratchBase = plan.arenaBytes + planLoops(src.getBody().front());

  // Weight blob layout: one 64-byte aligned slot per distinct parameter.
  src.walk([&](nn::ParamOp p) {
    if (paramOffsets.count(p.getName()))
      return;
    paramOffsets[p.getName()] = weightBytes;
    paramOrder.push_back(p.getName().str());
    int64_t bytes = storageBytes(p.getResult());
    weightBytes += (std::max<int64_t>(bytes, 1) + 63) / 64 * 64;
  });

  SmallVector<Type> argTypes;
  auto ftype = src.getFunctionType();
  for (Type t : ftype.getInputs())
    argTypes.push_back(bufferType(t.cast<RankedTensorType>()));
  for (Type t : ftype.getResults())
    argTypes.push_back(bufferType(t.cast<RankedTensorType>()));
  argTypes.push_back(MemRefType::get({std::max<int64_t>(plan.arenaBytes, 64)}, b.getI8Type()));
  argTypes.push_back(MemRefType::get({std::max<int64_t>(weightBytes, 64)}, b.getI8Type()));

  b.setInsertionPoint(src);
  std::string name = src.getName().str();
  src.setName(name + ".nn");
  dst = b.create<func::FuncOp>(src.getLoc(), name, b.getFunctionType(argTypes, {}));
  Block *entry = dst.addEntryBlock();
  unsigned nIn = ftype.getNumInputs(), nOut = ftype.getNumResults();
  for (unsigned k = 0; k < nIn; ++k)
    buffers[src.getArgument(k)] = entry->getArgument(k);
  for (unsigned k = 0; k < nOut; ++k)
    outputArgs.push_back(entry->getArgument(nIn + k));
  workspace = entry->getArgument(nIn + nOut);
  weights = entry->getArgument(nIn + nOut + 1);

  // Signature facts the runtime needs.
  dst->setAttr("nncc.num_inputs", b.getI64IntegerAttr(nIn));
  dst->setAttr("nncc.num_outputs", b.getI64IntegerAttr(nOut));
  dst->setAttr("nncc.workspace_bytes", b.getI64IntegerAttr(plan.arenaBytes));
  dst->setAttr("nncc.total_intermediate_bytes", b.getI64IntegerAttr(plan.totalBytes));
  dst->setAttr("nncc.weights_bytes", b.getI64IntegerAttr(weightBytes));
  SmallVector<Attribute> names, offsets;
  for (auto &p : paramOrder) {
    names.push_back(b.getStringAttr(p));
    offsets.push_back(b.getI64IntegerAttr(paramOffsets[p]));
  }
  dst->setAttr("nncc.param_names", b.getArrayAttr(names));
  dst->setAttr("nncc.param_offsets", b.getArrayAttr(offsets));
  SmallVector<Attribute> inTypes, outTypes;
  for (Type t : ftype.getInputs())
    inTypes.push_back(TypeAttr::get(t));
  for (Type t : ftype.getResults())
    outTypes.push_back(TypeAttr::get(t));
  dst->setAttr("nncc.input_types", b.getArrayAttr(inTypes));
  dst->setAttr("nncc.output_types", b.getArrayAttr(outTypes));

  b.setInsertionPointToStart(entry);
  for (Operation &op : src.getBody().front().without_terminator()) {
    bool timed = profile && !isa<nn::ConstantOp, nn::ParamOp>(op) && !isAliasOp(&op);
    int64_t id = profileNames.size();
    if (timed) {
      std::string name;
      llvm::raw_string_ostream os(name);
      os << op.getName().getStringRef();
      std::string source = nn::sourceName(&op);
      if (!source.empty())
        os << " " << source;
      profileNames.push_back(b.getStringAttr(os.str()));
      b.create<nnk::CallOp>(op.getLoc(), b.getStringAttr("nncc_profile_begin"), ValueRange{},
                            b.getI64ArrayAttr({id}));
    }
    if (failed(lowerOp(&op)))
      return failure();
    if (timed)
      b.create<nnk::CallOp>(op.getLoc(), b.getStringAttr("nncc_profile_end"), ValueRange{}, b.getI64ArrayAttr({id}));
  }
  if (profile)
    dst->setAttr("nncc.profile_names", b.getArrayAttr(profileNames));

  // Outputs not computed in place are copied.
  Operation *ret = src.getBody().front().getTerminator();
  for (auto it : llvm::enumerate(ret->getOperands())) {
    Value v = it.value();
    const auto &p = plan.of(v);
    if (p.kind == MemoryPlan::Kind::Output && p.index == it.index())
      continue;
    Value buf = bufferOf(v);
    Value out = outputArgs[it.index()];
    emitCopy(b, ret->getLoc(), buf, out);
  }
  b.create<func::ReturnOp>(src.getLoc());

  // The workspace is the arena followed by the kernels' scratch region.
  int64_t workspaceBytes = (scratchBase + maxScratch + 63) / 64 * 64;
  workspace.setType(MemRefType::get({std::max<int64_t>(workspaceBytes, 64)}, b.getI8Type()));
  dst.setType(b.getFunctionType(entry->getArgumentTypes(), {}));
  dst->setAttr("nncc.workspace_bytes", b.getI64IntegerAttr(workspaceBytes));
  dst->setAttr("nncc.scratch_bytes", b.getI64IntegerAttr(maxScratch));
  src.erase();
  return success();
}

struct LowerNNPass : LowerNNBase<LowerNNPass> {
  void runOnOperation() override {
    SmallVector<func::FuncOp> funcs;
    for (auto f : getOperation().getOps<func::FuncOp>())
      if (!f.isExternal() && !f->hasAttr("nncc.num_inputs"))
        funcs.push_back(f);
    for (auto f : funcs) {
      FunctionLowering lowering(f, reuse, profile);
      if (failed(lowering.run()))
        return signalPassFailure();
    }
  }
};
} // namespace

} // namespace codegen

std::unique_ptr<Pass> createLowerNNPass() { return std::make_unique<codegen::LowerNNPass>(); }

} // namespace nncc
