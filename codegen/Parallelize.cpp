//===- Parallelize.cpp - generated loops across the runtime's threads -----===//
//
// After nncc-lower-nn, the graph function's linalg ops on buffers (the
// elementwise, data-movement and reduction code nncc generates) run on one
// thread. This pass outlines each one into a function
// `@<graph>_par<k>(buffers..., %begin, %end)` that runs the op on the slice
// [begin, end) of one parallel loop, and replaces it by nnk.parallel_for,
// which the runtime splits across its thread pool when the work is worth it
// (on the calling thread otherwise, and in bundles).
//
// The split loop is the outermost parallel one (of at least two iterations)
// that every operand indexes with that loop alone, or not at all, and that
// every output indexes: each output element is then written by exactly one
// chunk, and the result does not depend on the number of threads.
//
// The buffers passed are the op's own operands, views included: each
// arrives as a pointer to its first element (packBuffers in LowerToLLVM),
// typed in the body with the view's shape and strides at offset 0. Ops that
// differ only in where their views lie in the arena (an unrolled RNN's
// steps, the layers of a stack) then print alike, and share one function:
// LLVM compiles it once, not once per step. Views that the op's region
// captures are rebuilt inside from the buffers under them.
//
//===----------------------------------------------------------------------===//
#include "codegen/KernelOps.h"
#include "codegen/Passes.h"

#include "mlir/Dialect/Utils/StructuredOpsUtils.h"
#include "mlir/IR/BlockAndValueMapping.h"
#include "llvm/ADT/SetVector.h"

using namespace mlir;

namespace nncc {
namespace {
#define GEN_PASS_CLASSES
#include "codegen/Passes.h.inc"

/// Ops that may be rebuilt inside an outlined function: views and constants.
bool isRebuildable(Operation *op) {
  return isa<memref::ViewOp, memref::SubViewOp, memref::CollapseShapeOp, memref::ExpandShapeOp, memref::CastOp,
             memref::ReinterpretCastOp, arith::ConstantOp>(op);
}

/// Collects, in `slice`, the ops that compute `v` from the function's
/// arguments (collected in `args`); false when `v` needs anything else.
bool collectSlice(Value v, Block &entry, llvm::SetVector<Operation *> &slice, llvm::SetVector<Value> &args) {
  if (auto arg = v.dyn_cast<BlockArgument>()) {
    if (arg.getOwner() != &entry)
      return false;
    args.insert(arg);
    return true;
  }
  Operation *def = v.getDefiningOp();
  if (!def || !isRebuildable(def) || def->getBlock() != &entry)
    return false;
  if (slice.contains(def))
    return true;
  for (Value operand : def->getOperands())
    if (!collectSlice(operand, entry, slice, args))
      return false;
  slice.insert(def);
  return true;
}

/// Position of loop `d` among the results of `map` when it is exactly one
/// of them; -1 when absent; -2 when it appears inside a compound expression
/// or more than once.
int64_t positionOfLoop(AffineMap map, unsigned d) {
  int64_t pos = -1;
  for (auto it : llvm::enumerate(map.getResults())) {
    AffineExpr e = it.value();
    if (auto dim = e.dyn_cast<AffineDimExpr>()) {
      if (dim.getPosition() == d) {
        if (pos != -1)
          return -2;
        pos = (int64_t)it.index();
      }
    } else if (e.isFunctionOfDim(d)) {
      return -2;
    }
  }
  return pos;
}

/// The loop to split: outermost parallel, >= 2 iterations, plain in every
/// indexing map and present in every output's.
int64_t chooseLoop(linalg::LinalgOp op, ArrayRef<int64_t> ranges) {
  ArrayAttr iterators = op.getIteratorTypes();
  for (unsigned d = 0; d < op.getNumLoops(); ++d) {
    if (!isParallelIterator(iterators[d]) || ranges[d] < 2)
      continue;
    bool ok = true;
    for (OpOperand &operand : op->getOpOperands()) {
      if (!operand.get().getType().isa<MemRefType>())
        continue;
      int64_t pos = positionOfLoop(op.getTiedIndexingMap(&operand), d);
      if (pos == -2 || (pos == -1 && op.isOutputTensor(&operand)))
        ok = false;
    }
    if (ok)
      return d;
  }
  return -1;
}

/// The type a body function takes `type` as: the same shape and strides
/// with offset 0 (the caller passes the view's first element; see
/// packBuffers in LowerToLLVM), identity when the strides are row-major. So
/// views at different places of a buffer share one body. Null when a stride
/// is dynamic or the layout is not strided.
MemRefType bodyArgType(MemRefType type) {
  if (!type.hasStaticShape())
    return {};
  SmallVector<int64_t> strides;
  int64_t offset;
  if (failed(getStridesAndOffset(type, strides, offset)) || llvm::any_of(strides, ShapedType::isDynamicStrideOrOffset))
    return {};
  SmallVector<int64_t> rowMajor(type.getRank(), 1);
  for (int64_t i = type.getRank() - 2; i >= 0; --i)
    rowMajor[i] = rowMajor[i + 1] * type.getDimSize(i + 1);
  bool identity = true;
  for (int64_t i = 0; i < type.getRank(); ++i)
    identity &= type.getDimSize(i) == 1 || strides[i] == rowMajor[i];
  if (identity)
    return MemRefType::get(type.getShape(), type.getElementType(), AffineMap(), type.getMemorySpace());
  return MemRefType::get(type.getShape(), type.getElementType(),
                         makeStridedLinearLayoutMap(strides, 0, type.getContext()), type.getMemorySpace());
}

struct ParallelizePass : ParallelizeBase<ParallelizePass> {
  /// Body functions made so far, by their printed form (name left out):
  /// identical loops (an unrolled RNN's steps) share one.
  llvm::StringMap<std::string> bodies;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    bodies.clear();
    SmallVector<func::FuncOp> graphs;
    for (auto f : module.getOps<func::FuncOp>())
      if (f->hasAttr("nncc.num_inputs"))
        graphs.push_back(f);
    for (func::FuncOp f : graphs) {
      int counter = 0;
      for (Operation &op : llvm::make_early_inc_range(f.getBody().front()))
        if (auto l = dyn_cast<linalg::LinalgOp>(&op))
          if (outline(module, f, l, counter))
            ++numOutlined;
    }
    numBodies = bodies.size();
  }

  bool outline(ModuleOp module, func::FuncOp f, linalg::LinalgOp op, int &counter) {
    if (!op.hasBufferSemantics())
      return false;
    SmallVector<int64_t> ranges = op.getStaticLoopRanges();
    int64_t iterations = 1;
    for (int64_t r : ranges) {
      if (ShapedType::isDynamic(r))
        return false;
      iterations *= r;
    }
    if (iterations == 0) // (an empty tensor's buffers may have no strides)
      return false;
    int64_t bodyOps = 1;
    op->walk([&](Operation *) { ++bodyOps; });
    int64_t work = iterations * bodyOps;
    // Below min-work the loop runs whole on the calling thread: its body
    // keeps the static bounds (count 1; begin and end unused).
    bool whole = work < minWork;
    int64_t d = whole ? -1 : chooseLoop(op, ranges);
    if (d < 0 && !whole)
      return false;

    // The body's arguments: the op's buffers as they are (views included),
    // then the buffers under any view its region captures; those views and
    // constants are rebuilt inside.
    Block &entry = f.getBody().front();
    llvm::SetVector<Value> args, captured;
    SmallVector<Type> argTypes;
    llvm::SetVector<Operation *> slice;
    for (Value v : op->getOperands()) {
      if (auto type = v.getType().dyn_cast<MemRefType>()) {
        MemRefType argType = bodyArgType(type);
        if (!argType)
          return false;
        if (args.insert(v))
          argTypes.push_back(argType);
      } else if (!collectSlice(v, entry, slice, captured)) {
        return false;
      }
    }
    bool capturesOk = true;
    for (Region &region : op->getRegions())
      region.walk([&](Operation *inner) {
        for (Value v : inner->getOperands())
          if (!region.isAncestor(v.getParentRegion()) && !collectSlice(v, entry, slice, captured))
            capturesOk = false;
      });
    if (!capturesOk)
      return false;
    for (Value v : captured)
      if (args.insert(v))
        argTypes.push_back(v.getType());

    // The body function.
    MLIRContext *ctx = module.getContext();
    Location loc = op.getLoc();
    OpBuilder mb(ctx);
    mb.setInsertionPointAfter(f);
    Type index = mb.getIndexType();
    argTypes.append({index, index});
    auto fn = mb.create<func::FuncOp>(loc, "__body", mb.getFunctionType(argTypes, {}));
    fn.setPrivate();
    fn->setAttr("nncc.parallel_body", UnitAttr::get(ctx));
    // A constant global is never written: `noalias` tells LLVM no store of
    // the loop changes what it reads there (a broadcast scalar stays in a
    // register, the loop vectorizes without alias checks).
    for (auto it : llvm::enumerate(args))
      if (auto global = it.value().getDefiningOp<memref::GetGlobalOp>())
        if (auto def = module.lookupSymbol<memref::GlobalOp>(global.getName()); def && def.getConstant())
          fn.setArgAttr(it.index(), "llvm.noalias", UnitAttr::get(ctx));
    Block *body = fn.addEntryBlock();
    OpBuilder b = OpBuilder::atBlockBegin(body);
    BlockAndValueMapping mapping;
    for (auto it : llvm::enumerate(args))
      mapping.map(it.value(), body->getArgument(it.index()));
    Value begin = body->getArgument(args.size()), end = body->getArgument(args.size() + 1);
    // Captured views and constants, in program order.
    for (Operation &o : entry)
      if (slice.contains(&o))
        b.clone(o, mapping);
    // Each operand indexed by loop d is cut to [begin, end) there.
    Value size = b.create<arith::SubIOp>(loc, end, begin);
    SmallVector<Value> operands;
    for (OpOperand &operand : op->getOpOperands()) {
      Value v = mapping.lookupOrDefault(operand.get());
      auto type = v.getType().dyn_cast<MemRefType>();
      int64_t pos = type && !whole ? positionOfLoop(op.getTiedIndexingMap(&operand), (unsigned)d) : -1;
      if (pos >= 0) {
        SmallVector<OpFoldResult> offsets, sizes, strides;
        for (int64_t i = 0; i < type.getRank(); ++i) {
          offsets.push_back(i == pos ? OpFoldResult(begin) : OpFoldResult(b.getIndexAttr(0)));
          sizes.push_back(i == pos ? OpFoldResult(size) : OpFoldResult(b.getIndexAttr(type.getDimSize(i))));
          strides.push_back(b.getIndexAttr(1));
        }
        v = b.create<memref::SubViewOp>(loc, v, offsets, sizes, strides);
      }
      operands.push_back(v);
    }
    Operation *clone = b.clone(*op, mapping);
    clone->setOperands(operands);
    // linalg.index of loop d counts from the slice's start now.
    clone->walk([&](linalg::IndexOp idx) {
      if (whole || (int64_t)idx.getDim() != d)
        return;
      OpBuilder ib(idx->getContext());
      ib.setInsertionPointAfter(idx);
      Value shifted = ib.create<arith::AddIOp>(idx.getLoc(), idx, begin);
      idx.getResult().replaceAllUsesExcept(shifted, shifted.getDefiningOp());
    });
    b.create<func::ReturnOp>(loc);

    // One function per distinct body: the printed form (without locations;
    // the name is still the placeholder) is the key.
    std::string key;
    {
      llvm::raw_string_ostream os(key);
      fn->print(os, OpPrintingFlags().useLocalScope());
    }
    auto [it, inserted] = bodies.try_emplace(key, "");
    if (inserted) {
      std::string name;
      do {
        name = (f.getName() + "_par" + Twine(counter++)).str();
      } while (module.lookupSymbol(name));
      fn.setName(name);
      it->second = name;
    } else {
      fn.erase();
    }

    // The call site.
    OpBuilder cb(op);
    cb.create<nnk::ParallelForOp>(loc, SymbolRefAttr::get(ctx, it->second), args.getArrayRef(),
                                  cb.getI64IntegerAttr(whole ? 1 : ranges[d]),
                                  cb.getI64IntegerAttr(whole ? work : work / ranges[d]));
    op->erase();
    return true;
  }
};
} // namespace

std::unique_ptr<Pass> createParallelizePass() { return std::make_unique<ParallelizePass>(); }

} // namespace nncc
