//===- MemoryPlan.cpp - liveness-based arena planning ---------------------===//
#include "passes/MemoryPlan.h"
#include "passes/Passes.h"

#include "ir/NNOps.h"
#include "ir/ShapeUtils.h"

#include <map>

using namespace mlir;

namespace nncc {

bool hasOptionalResults(Operation *op) {
  return isa<nn::LSTMOp, nn::LSTMCheckpointedOp, nn::LSTMSavingOp, nn::LSTMWithGatesOp, nn::GRUOp, nn::GRUWithGatesOp, nn::RNNOp,
             nn::RNNWithGatesOp, nn::LSTMGradOp, nn::GRUGradOp, nn::RNNGradOp, nn::LSTMStackOp, nn::LSTMStackGradOp,
             nn::GRUStackOp, nn::GRUStackGradOp, nn::RNNStackOp, nn::RNNStackGradOp>(op);
}

bool isAliasOp(Operation *op) { return isa<nn::ReshapeOp>(op); }

int64_t storageBytes(Value v) {
  auto t = v.getType().cast<RankedTensorType>();
  return t.getNumElements() * nn::elementByteSize(t.getElementType());
}

static int64_t align64(int64_t x) { return (x + 63) / 64 * 64; }

SmallVector<Value, 2> inPlaceCandidates(Operation *op) {
  SmallVector<Value, 2> out;
  if (op->getNumResults() != 1)
    return out;
  Value r = op->getResult(0);
  if (auto conv = dyn_cast<nn::ConvOp>(op)) {
    if (conv.getResidual())
      out.push_back(conv.getResidual());
    return out;
  }
  if (!nn::isElementwise(op) && !isa<nn::FusedOp>(op))
    return out;
  auto rt = r.getType().cast<RankedTensorType>();
  // An nn.fused body that slices its arguments reads them at other
  // elements than it writes: nothing is overwritten (not even an operand
  // that only shares their storage: a reshape, a concat's part).
  if (auto fused = dyn_cast<nn::FusedOp>(op); fused && !fused.getBody().getOps<nn::SliceOp>().empty())
    return out;
  for (Value v : op->getOperands()) {
    auto t = v.getType().cast<RankedTensorType>();
    if (t.getShape() == rt.getShape() && storageBytes(v) == storageBytes(r) &&
        nn::elementByteSize(t.getElementType()) == nn::elementByteSize(rt.getElementType()))
      out.push_back(v);
  }
  return out;
}

/// Byte offsets of each operand of `concat` in its result when the parts
/// are contiguous ranges of it (every dimension before the axis is 1), each
/// 64-byte aligned; empty otherwise.
static SmallVector<int64_t> contiguousConcatOffsets(nn::ConcatOp concat) {
  auto rt = concat.getResult().getType().cast<RankedTensorType>();
  int64_t axis = concat.getAxis();
  for (int64_t d = 0; d < axis; ++d)
    if (rt.getDimSize(d) != 1)
      return {};
  int64_t inner = nn::elementByteSize(rt.getElementType());
  for (int64_t d = axis + 1; d < rt.getRank(); ++d)
    inner *= rt.getDimSize(d);
  SmallVector<int64_t> offsets;
  int64_t at = 0;
  for (Value v : concat.getInputs()) {
    if (at % 64 != 0)
      return {};
    offsets.push_back(at);
    at += v.getType().cast<RankedTensorType>().getDimSize(axis) * inner;
  }
  return offsets;
}

namespace {
/// First-fit allocator over [0, inf) with explicit frees.
class Arena {
public:
  int64_t allocate(int64_t bytes) {
    bytes = align64(std::max<int64_t>(bytes, 1));
    int64_t cursor = 0;
    for (auto &kv : live) {
      if (kv.first - cursor >= bytes)
        break;
      cursor = std::max(cursor, kv.first + kv.second);
    }
    live.emplace(cursor, bytes);
    peak = std::max(peak, cursor + bytes);
    return cursor;
  }
  void release(int64_t offset) {
    auto it = live.find(offset);
    if (it != live.end())
      live.erase(it);
  }
  int64_t peak = 0;

private:
  std::multimap<int64_t, int64_t> live; // offset -> bytes
};
} // namespace

MemoryPlan planMemory(func::FuncOp func, bool reuse) { return planBlock(func.getBody().front(), reuse, true); }

MemoryPlan planBlock(Block &body, bool reuse, bool outputsToCaller) {
  MemoryPlan plan;
  for (BlockArgument arg : body.getArguments())
    plan.placement[arg] = {MemoryPlan::Kind::Input, 0, 0, arg.getArgNumber()};

  // Roots and the index of each top-level op.
  llvm::DenseMap<Operation *, unsigned> order;
  unsigned index = 0;
  for (Operation &op : body.without_terminator()) {
    order[&op] = index++;
    for (Value r : op.getResults()) {
      if (isAliasOp(&op))
        plan.root[r] = plan.rootOf(op.getOperand(0));
      else if (isa<nn::ConstantOp, nn::ParamOp>(op))
        plan.placement[r] = {MemoryPlan::Kind::Constant, 0, 0, 0};
      else if (r.use_empty() && hasOptionalResults(&op))
        plan.placement[r] = {MemoryPlan::Kind::Unused, 0, 0, 0};
      else if (auto loop = dyn_cast<nn::LoopOp>(op); // unread scan outputs and count (not carried values)
               loop && r.use_empty() && r.cast<OpResult>().getResultNumber() >= loop.getCarried().size())
        plan.placement[r] = {MemoryPlan::Kind::Unused, 0, 0, 0};
    }
  }

  // Graph outputs take their storage from the caller when they can.
  Operation *ret = body.getTerminator();
  for (auto it : llvm::enumerate(ret->getOperands())) {
    if (!outputsToCaller)
      break;
    Value r = plan.rootOf(it.value());
    if (r.isa<BlockArgument>() || plan.placement.count(r))
      continue;
    plan.placement[r] = {MemoryPlan::Kind::Output, 0, storageBytes(r), (unsigned)it.index()};
  }

  // Concats whose parts can be produced in place, inside the result.
  llvm::DenseMap<Value, int64_t> partOffset;
  if (reuse)
    for (Operation &op : body.without_terminator()) {
      auto concat = dyn_cast<nn::ConcatOp>(op);
      if (!concat || plan.placement.count(concat.getResult()))
        continue;
      SmallVector<int64_t> offsets = contiguousConcatOffsets(concat);
      if (offsets.empty())
        continue;
      // Each part: a distinct value computed by an op of this block (not an
      // alias, an input, a constant, an output or another concat's part).
      llvm::DenseSet<Value> seen;
      bool ok = true;
      for (Value v : concat.getInputs()) {
        Operation *def = v.getDefiningOp();
        ok &= def && def->getBlock() == &body && !isAliasOp(def) && !plan.placement.count(v) &&
              !plan.partOf.count(v) && !plan.concatInPlace.count(v) && seen.insert(v).second &&
              storageBytes(v) > 0;
      }
      if (!ok)
        continue;
      for (auto it : llvm::enumerate(concat.getInputs())) {
        plan.partOf[it.value()] = concat.getResult();
        partOffset[it.value()] = offsets[it.index()];
      }
      plan.concatInPlace.insert(concat.getResult());
    }

  // Last use of every root (through its aliases), in op order: a use
  // inside an op's region (a loop body) counts as a use by the op, and the
  // terminator's (a loop body's yields, copied after its last op) as a use
  // after every op.
  llvm::DenseMap<Value, unsigned> lastUse;
  auto use = [&](Value v, unsigned at) {
    unsigned &l = lastUse[plan.rootOf(v)];
    l = std::max(l, at);
  };
  for (Value v : ret->getOperands())
    if (v.getParentBlock() == &body)
      use(v, index);
  for (Operation &op : body.without_terminator()) {
    for (Value operand : op.getOperands())
      use(operand, order[&op]);
    op.walk([&](Operation *inner) {
      if (inner != &op)
        for (Value v : inner->getOperands())
          if (v.getParentBlock() == &body)
            use(v, order[&op]);
    });
    for (Value res : op.getResults()) {
      Value r = plan.rootOf(res);
      unsigned &l = lastUse[r];
      l = std::max(l, order[&op]);
    }
  }

  // A concat done in place lives from its first part to the last use of
  // any part or of itself.
  for (auto &kv : plan.partOf) {
    unsigned part = lastUse.lookup(kv.first);
    unsigned &l = lastUse[kv.second];
    l = std::max(l, part);
  }

  Arena arena;
  std::vector<SmallVector<Value, 2>> frees(index + 1);
  int64_t total = 0;
  for (Operation &op : body.without_terminator()) {
    unsigned i = order[&op];
    if (!isAliasOp(&op))
      for (Value r : op.getResults()) {
        if (plan.placement.count(r))
          continue;
        int64_t bytes = storageBytes(r);
        if (auto part = plan.partOf.find(r); part != plan.partOf.end()) {
          // Its concat's buffer is allocated with the first part; the part
          // is a range of it and is freed with it.
          Value whole = part->second;
          if (!plan.placement.count(whole)) {
            int64_t wholeBytes = storageBytes(whole);
            total += align64(wholeBytes);
            MemoryPlan::Placement p{MemoryPlan::Kind::Arena, 0, wholeBytes, 0};
            p.offset = arena.allocate(wholeBytes);
            plan.placement[whole] = p;
            frees[lastUse[whole]].push_back(whole);
          }
          plan.placement[r] = {MemoryPlan::Kind::Arena, plan.placement[whole].offset + partOffset[r], bytes, 0};
          continue;
        }
        total += align64(std::max<int64_t>(bytes, 1));
        // In place: an arena operand that dies here hands its buffer over.
        bool inPlace = false;
        if (reuse)
          for (Value candidate : inPlaceCandidates(&op)) {
            Value o = plan.rootOf(candidate);
            auto it = plan.placement.find(o);
            if (it == plan.placement.end() || it->second.kind != MemoryPlan::Kind::Arena || lastUse[o] != i ||
                it->second.bytes != bytes || !llvm::is_contained(frees[i], o))
              continue;
            // Copied first: inserting r may grow the map and move `it`'s
            // entry (reading it after the insert read freed memory).
            MemoryPlan::Placement handed = it->second;
            plan.placement[r] = handed;
            plan.inPlaceOf[r] = o;
            llvm::erase_value(frees[i], o);
            inPlace = true;
            break;
          }
        if (!inPlace) {
          MemoryPlan::Placement p{MemoryPlan::Kind::Arena, 0, bytes, 0};
          p.offset = reuse ? arena.allocate(bytes) : total - align64(std::max<int64_t>(bytes, 1));
          plan.placement[r] = p;
        }
        frees[lastUse[r]].push_back(r);
      }
    if (reuse)
      for (Value r : frees[i])
        arena.release(plan.placement[r].offset);
  }
  plan.totalBytes = total;
  plan.arenaBytes = reuse ? arena.peak : total;
  return plan;
}

//===----------------------------------------------------------------------===//
// The pass: records the plan as attributes, for the IR dumps and nncc inspect.
//===----------------------------------------------------------------------===//

namespace {
#define GEN_PASS_CLASSES
#include "passes/Passes.h.inc"

struct PlanMemoryPass : PlanMemoryBase<PlanMemoryPass> {
  void runOnOperation() override {
    func::FuncOp func = getOperation();
    if (func.isExternal())
      return;
    MemoryPlan plan = planMemory(func, reuse);
    Builder b(func.getContext());
    for (Operation &op : func.getBody().front().without_terminator()) {
      if (op.getNumResults() == 0 || isAliasOp(&op) || isa<nn::ConstantOp, nn::ParamOp>(op))
        continue;
      SmallVector<int64_t> offsets;
      for (Value r : op.getResults()) {
        const auto &p = plan.of(r);
        offsets.push_back(p.kind == MemoryPlan::Kind::Arena ? p.offset : -1 - (int64_t)p.index);
      }
      op.setAttr("nn.arena_offset", b.getI64ArrayAttr(offsets));
      // Its operands were computed inside its result: nothing to copy.
      if (plan.concatInPlace.count(op.getResult(0)))
        op.setAttr("nn.concat_in_place", b.getUnitAttr());
      // Which operand the result overwrites, when planned in place.
      if (auto it = plan.inPlaceOf.find(op.getResult(0)); it != plan.inPlaceOf.end())
        for (auto operand : llvm::enumerate(op.getOperands()))
          if (plan.rootOf(operand.value()) == it->second) {
            op.setAttr("nn.in_place", b.getI64IntegerAttr(operand.index()));
            break;
          }
    }
    func->setAttr("nn.arena_bytes", b.getI64IntegerAttr(plan.arenaBytes));
    arenaBytes = plan.arenaBytes;
    totalBytes = plan.totalBytes;
  }
};
} // namespace

std::unique_ptr<Pass> createPlanMemoryPass() { return std::make_unique<PlanMemoryPass>(); }

} // namespace nncc
