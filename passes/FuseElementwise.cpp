//===- FuseElementwise.cpp - elementwise chains into nn.fused -------------===//
//
// Producer-consumer fusion of elementwise ops. Ops are visited from the end
// of the function to the start, so every op's users are decided before it:
// an elementwise op joins the group of its users when they all belong to
// one group and its result has that group's shape; otherwise it starts a
// group of its own (as the group's result). A cheap op whose users are in a
// few different groups joins each of them (it is recomputed there instead
// of written and read back). Groups of two or more ops are then rebuilt as
// nn.fused ops whose inputs are everything the members use from outside.
//
//===----------------------------------------------------------------------===//
#include "passes/Passes.h"

#include "mlir/IR/BlockAndValueMapping.h"
#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/SetVector.h"

using namespace mlir;
using namespace nncc::nn;

namespace nncc {
namespace {
#define GEN_PASS_CLASSES
#include "passes/Passes.h.inc"

bool fusible(Operation *op) {
  if (!isElementwise(op) || op->getNumResults() != 1 || op->getNumRegions())
    return false;
  auto t = op->getResult(0).getType().dyn_cast<RankedTensorType>();
  return t && t.hasStaticShape() && t.getNumElements() > 1;
}

ArrayRef<int64_t> shapeOf(Operation *op) { return op->getResult(0).getType().cast<RankedTensorType>().getShape(); }

/// A producer used by several groups is computed in each (when cheap to
/// recompute and shared by at most this many), instead of materialized.
constexpr size_t kMaxDuplicates = 4;

struct FuseElementwisePass : FuseElementwiseBase<FuseElementwisePass> {
  void runOnOperation() override {
    Block &body = getOperation().getBody().front();
    // roots[op] = the groups (named by their result op) the op is part of.
    llvm::DenseMap<Operation *, llvm::SmallSetVector<Operation *, 4>> roots;
    for (Operation &op : llvm::reverse(body)) {
      if (!fusible(&op))
        continue;
      llvm::SmallSetVector<Operation *, 4> joined;
      bool join = !op.getResult(0).use_empty();
      for (Operation *user : op.getResult(0).getUsers()) {
        auto it = roots.find(user);
        if (it == roots.end()) {
          join = false;
          break;
        }
        joined.insert(it->second.begin(), it->second.end());
      }
      for (Operation *root : joined)
        join &= shapeOf(root) == shapeOf(&op);
      join &= joined.size() == 1 || (joined.size() <= kMaxDuplicates && cheap(&op));
      if (join)
        roots[&op] = joined;
      else
        roots[&op].insert(&op);
    }

    // Members of each group in program order.
    llvm::MapVector<Operation *, SmallVector<Operation *>> members;
    for (Operation &op : body)
      if (auto it = roots.find(&op); it != roots.end())
        for (Operation *root : it->second)
          members[root].push_back(&op);

    SmallVector<Operation *> grouped;
    for (auto &[root, ops] : members) {
      if (ops.size() < 2)
        continue;
      llvm::SmallPtrSet<Operation *, 16> inGroup(ops.begin(), ops.end());
      llvm::SetVector<Value> inputs;
      for (Operation *op : ops)
        for (Value v : op->getOperands())
          if (!inGroup.contains(v.getDefiningOp()))
            inputs.insert(v);
      OpBuilder b(root);
      SmallVector<Location> locs;
      for (Operation *op : ops)
        locs.push_back(op->getLoc());
      auto fused = b.create<FusedOp>(b.getFusedLoc(locs), root->getResult(0).getType(), inputs.getArrayRef());
      Block *inner = b.createBlock(&fused.getBody());
      BlockAndValueMapping mapping;
      for (Value v : inputs)
        mapping.map(v, inner->addArgument(v.getType(), v.getLoc()));
      b.setInsertionPointToStart(inner);
      for (Operation *op : ops)
        b.clone(*op, mapping);
      b.create<YieldOp>(root->getLoc(), mapping.lookup(Value(root->getResult(0))));
      root->getResult(0).replaceAllUsesWith(fused.getY());
      grouped.append(ops.begin(), ops.end());
      ++numGroups;
      numOps += ops.size();
    }
    // Erase once every group is built (a duplicated op is cloned into several).
    llvm::SmallPtrSet<Operation *, 32> toErase(grouped.begin(), grouped.end());
    for (Operation &op : llvm::make_early_inc_range(llvm::reverse(body)))
      if (toErase.contains(&op) && op.use_empty())
        op.erase();
  }

  /// Worth recomputing rather than storing: arithmetic without
  /// transcendental functions.
  static bool cheap(Operation *op) {
    return isa<AddOp, SubOp, MulOp, NegOp, AbsOp, MaxOp, MinOp, CastOp>(op);
  }
};
} // namespace

std::unique_ptr<Pass> createFuseElementwisePass() { return std::make_unique<FuseElementwisePass>(); }

} // namespace nncc
