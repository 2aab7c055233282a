//===- FuseElementwise.cpp - elementwise ops into nn.fused ----------------===//
//
// Groups elementwise ops into nn.fused ops (one loop nest each), in three
// steps:
//
// 1. Slices move up through elementwise ops: an elementwise op read only by
//    slices (an LSTM's gate pre-activations, one slice per gate) is computed
//    on the slices of its operands instead; a slice of a slice becomes one.
//    Slices in a group read its inputs as views (codegen: subviews); a slice
//    never reads a value its own group computes.
// 2. Ops are visited from the end of the function to the start, so every
//    op's users are decided before it. An op whose users all belong to one
//    group of its shape joins it. A cheap op computed from values no group
//    computes, with users in a few groups, joins each of them (recomputed
//    there instead of written and read back). Otherwise it joins the group
//    of its users that comes first, when that group has its shape and all
//    its other users come later, as one more result of that group (an LSTM
//    step's cell state, read by the next step). Else it starts a group.
// 3. A group merges with a group it feeds when both have one shape and all
//    their results' other users come after both (a step's output beside its
//    states, with sequence lengths).
//
// A group is placed at its last op: the check in 2 and 3 (every user of a
// group's result outside it comes after it) keeps the order valid. Groups
// of two or more ops become nn.fused ops with one result per value used
// outside the group; their inputs are everything the members use from
// outside.
//
//===----------------------------------------------------------------------===//
#include "passes/Passes.h"

#include "ir/ShapeUtils.h"

#include "mlir/IR/BlockAndValueMapping.h"
#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/EquivalenceClasses.h"
#include "llvm/ADT/SetVector.h"

using namespace mlir;
using namespace nncc::nn;

namespace nncc {
namespace {
#define GEN_PASS_CLASSES
#include "passes/Passes.h.inc"

ArrayRef<int64_t> shapeOf(Value v) { return v.getType().cast<RankedTensorType>().getShape(); }
ArrayRef<int64_t> shapeOf(Operation *op) { return shapeOf(op->getResult(0)); }

bool staticTensor(Value v) {
  auto t = v.getType().dyn_cast<RankedTensorType>();
  return t && t.hasStaticShape();
}

/// A slice codegen can read as a view: static, every step above zero.
bool isViewSlice(Operation *op) {
  auto s = dyn_cast<SliceOp>(op);
  return s && staticTensor(s.getX()) && staticTensor(s.getResult()) &&
         llvm::all_of(toI64(s.getSteps()), [](int64_t st) { return st > 0; });
}

bool isPlainElementwise(Operation *op) {
  return isElementwise(op) && op->getNumResults() == 1 && !op->getNumRegions() && staticTensor(op->getResult(0));
}

bool fusible(Operation *op) {
  if (!isPlainElementwise(op) && !isViewSlice(op))
    return false;
  return op->getResult(0).getType().cast<RankedTensorType>().getNumElements() > 1;
}

/// Worth recomputing rather than storing: arithmetic without
/// transcendental functions, and views.
bool cheap(Operation *op) { return isa<AddOp, SubOp, MulOp, NegOp, AbsOp, MaxOp, MinOp, CastOp, SliceOp>(op); }

/// A producer used by several groups is computed in each (when cheap to
/// recompute and shared by at most this many), instead of materialized.
constexpr size_t kMaxDuplicates = 4;
/// Groups merge (step 3) up to this many ops: a bound on one loop body.
constexpr size_t kMaxMergedOps = 160;

//===----------------------------------------------------------------------===//
// Step 1: slices through elementwise ops
//===----------------------------------------------------------------------===//

/// v[slice] where `slice` (starts, steps, sizes) indexes a tensor of shape
/// `full` that v broadcasts to; a slice of a slice is one slice.
Value sliceOperand(OpBuilder &b, Location loc, Value v, ArrayRef<int64_t> full, ArrayRef<int64_t> starts,
                   ArrayRef<int64_t> steps, ArrayRef<int64_t> sizes) {
  auto vs = shapeOf(v);
  size_t lead = full.size() - vs.size();
  SmallVector<int64_t> st, sp, sz;
  bool whole = true;
  for (size_t d = lead; d < full.size(); ++d) {
    if (vs[d - lead] == 1 && full[d] != 1) { // broadcast along d
      st.push_back(0), sp.push_back(1), sz.push_back(1);
      continue;
    }
    st.push_back(starts[d]), sp.push_back(steps[d]), sz.push_back(sizes[d]);
    whole &= starts[d] == 0 && steps[d] == 1 && sizes[d] == full[d];
  }
  if (whole)
    return v;
  if (auto inner = v.getDefiningOp<SliceOp>(); inner && isViewSlice(inner)) {
    auto ist = toI64(inner.getStarts()), isp = toI64(inner.getSteps());
    for (size_t d = 0; d < st.size(); ++d) {
      st[d] = ist[d] + isp[d] * st[d];
      sp[d] *= isp[d];
    }
    v = inner.getX();
  }
  auto type = RankedTensorType::get(sz, v.getType().cast<RankedTensorType>().getElementType());
  return b.create<SliceOp>(loc, type, v, b.getI64ArrayAttr(st), b.getI64ArrayAttr(sp), b.getI64ArrayAttr(sz));
}

/// Whether e is read only by view slices covering no more elements than it
/// has (so computing it per slice adds no work).
bool onlySliced(Operation *e) {
  Value r = e->getResult(0);
  if (r.use_empty() || !llvm::all_of(r.getUsers(), isViewSlice))
    return false;
  int64_t covered = 0;
  for (Operation *u : r.getUsers())
    covered += u->getResult(0).getType().cast<RankedTensorType>().getNumElements();
  return covered <= r.getType().cast<RankedTensorType>().getNumElements();
}

/// Rewrites every elementwise op read only by view slices as the op on its
/// operands' slices, until none is left. Returns the number of ops moved.
int64_t sinkSlices(Block &body) {
  int64_t moved = 0;
  for (bool changed = true; changed;) {
    changed = false;
    // A slice of a slice is one slice.
    for (Operation &op : llvm::make_early_inc_range(body)) {
      auto s = dyn_cast<SliceOp>(op);
      auto inner = s ? s.getX().getDefiningOp<SliceOp>() : SliceOp();
      if (!inner || !isViewSlice(s) || !isViewSlice(inner))
        continue;
      OpBuilder b(s);
      s.getResult().replaceAllUsesWith(sliceOperand(b, s.getLoc(), s.getX(), shapeOf(s.getX()), toI64(s.getStarts()),
                                                    toI64(s.getSteps()), toI64(s.getSizes())));
      s.erase();
      if (inner.getResult().use_empty())
        inner.erase(); // (before op: the walk is past it)
    }
    // (Only e and slices are erased below: the candidates stay valid.)
    SmallVector<Operation *> candidates;
    for (Operation &op : body)
      if (isPlainElementwise(&op))
        candidates.push_back(&op);
    for (Operation *e : candidates) {
      if (!onlySliced(e))
        continue;
      Value r = e->getResult(0);
      for (Operation *u : llvm::make_early_inc_range(r.getUsers())) {
        auto s = cast<SliceOp>(u);
        OpBuilder b(s);
        auto starts = toI64(s.getStarts()), steps = toI64(s.getSteps()), sizes = toI64(s.getSizes());
        OperationState state(e->getLoc(), e->getName());
        llvm::SmallDenseMap<Value, Value, 4> parts; // (an operand used twice is sliced once)
        for (Value v : e->getOperands()) {
          Value &part = parts[v];
          if (!part)
            part = sliceOperand(b, s.getLoc(), v, shapeOf(r), starts, steps, sizes);
          state.operands.push_back(part);
        }
        state.types.push_back(s.getType());
        state.attributes = e->getAttrDictionary();
        s.getResult().replaceAllUsesWith(b.create(state)->getResult(0));
        s.erase();
      }
      // Slices of e's operands may have lost their last users: they go too.
      llvm::SmallSetVector<Value, 4> operands(e->getOperands().begin(), e->getOperands().end());
      e->erase();
      for (Value v : operands)
        if (auto s = v.getDefiningOp<SliceOp>(); s && s.getResult().use_empty())
          s.erase();
      ++moved;
      changed = true;
    }
  }
  return moved;
}

//===----------------------------------------------------------------------===//
// Steps 2 and 3: groups
//===----------------------------------------------------------------------===//

struct Grouping {
  explicit Grouping(Block &body) {
    for (Operation &op : body)
      pos[&op] = pos.size();
  }

  llvm::DenseMap<Operation *, unsigned> pos;
  /// The groups (named by an op of theirs, see `find`) each op is in.
  llvm::DenseMap<Operation *, SmallVector<Operation *, 2>> groupsOf;
  /// Groups as merged: each class is named by its leader.
  llvm::EquivalenceClasses<Operation *> classes;
  /// The place of each group (its leader): its last op.
  llvm::DenseMap<Operation *, unsigned> place;
  /// Each group's (leader's) ops.
  llvm::DenseMap<Operation *, llvm::SetVector<Operation *>> members;

  Operation *find(Operation *g) { return classes.getLeaderValue(g); }
  bool inGroup(Operation *op, Operation *g) {
    auto it = groupsOf.find(op);
    return it != groupsOf.end() && llvm::any_of(it->second, [&](Operation *h) { return find(h) == g; });
  }
  /// A group's shape: its first op's (which started it: never a broadcast slice).
  ArrayRef<int64_t> shapeOfGroup(Operation *g) { return shapeOf(members[g].front()); }

  void start(Operation *op) {
    classes.insert(op);
    place[op] = pos[op];
    add(op, op);
  }
  void add(Operation *op, Operation *g) {
    groupsOf[op].push_back(g);
    members[g].insert(op);
  }

  /// Step 2: decides op's group(s).
  void assign(Operation *op) {
    llvm::SmallSetVector<Operation *, 4> userGroups;
    llvm::SmallPtrSet<Operation *, 4> slicing; // groups that slice op: it stays an input of theirs
    unsigned firstOutside = ~0u;               // the first user in no group
    for (Operation *user : op->getResult(0).getUsers()) {
      auto it = groupsOf.find(user);
      if (it == groupsOf.end()) {
        firstOutside = std::min(firstOutside, pos[user]);
        continue;
      }
      for (Operation *g : it->second) {
        userGroups.insert(find(g));
        if (isa<SliceOp>(user))
          slicing.insert(find(g));
      }
    }
    auto shape = shapeOf(op);
    bool sameShapes = llvm::all_of(userGroups, [&](Operation *g) { return fits(op, shapeOfGroup(g)) && !slicing.count(g); });
    bool onlyGroups = firstOutside == ~0u && !userGroups.empty();
    if (onlyGroups && sameShapes && userGroups.size() == 1)
      return add(op, userGroups[0]);
    if (onlyGroups && sameShapes && userGroups.size() <= kMaxDuplicates && cheap(op) && computedOutside(op)) {
      for (Operation *g : userGroups)
        add(op, g);
      return;
    }
    if (!userGroups.empty()) {
      Operation *first = *std::min_element(userGroups.begin(), userGroups.end(), [&](Operation *a, Operation *b) { return place[a] < place[b]; });
      if (shapeOfGroup(first) == shape && firstOutside > place[first] && !slicing.count(first))
        return add(op, first);
    }
    start(op);
  }

  /// Whether op may be in a group of `shape`: of that shape, or a view slice
  /// broadcast to it (read in place, so never recomputed per element).
  static bool fits(Operation *op, ArrayRef<int64_t> shape) {
    if (shapeOf(op) == shape)
      return true;
    Shape out;
    return isViewSlice(op) && broadcastShapes(shapeOf(op), shape, out) && llvm::makeArrayRef(out) == shape;
  }

  /// No operand computed by an op a group could take.
  static bool computedOutside(Operation *op) {
    return llvm::none_of(op->getOperands(), [](Value v) {
      Operation *d = v.getDefiningOp();
      return d && fusible(d);
    });
  }

  /// Whether groups a and b (leaders) may be one, placed at the later's
  /// place: every user outside both of their ops comes after it, and
  /// neither slices a value the other computes (a slice reads an input).
  bool canMerge(Operation *a, Operation *b) {
    if (members[a].size() + members[b].size() > kMaxMergedOps || shapeOfGroup(a) != shapeOfGroup(b))
      return false;
    unsigned at = std::max(place[a], place[b]);
    for (Operation *g : {a, b})
      for (Operation *op : members[g])
        for (Operation *user : op->getResult(0).getUsers()) {
          bool inside = inGroup(user, a) || inGroup(user, b);
          if (inside && isa<SliceOp>(user))
            return false;
          if (inside)
            continue;
          auto it = groupsOf.find(user);
          if (it == groupsOf.end()) {
            if (pos[user] <= at)
              return false;
            continue;
          }
          for (Operation *h : it->second)
            if (!inGroup(op, find(h)) && place[find(h)] <= at)
              return false;
        }
    return true;
  }

  void merge(Operation *a, Operation *b) {
    unsigned at = std::max(place[a], place[b]);
    Operation *leader = *classes.unionSets(a, b);
    Operation *other = leader == a ? b : a;
    auto moved = std::move(members[other]);
    members.erase(other);
    members[leader].insert(moved.begin(), moved.end());
    place[leader] = at;
  }

  /// Step 3: merges groups along the values one computes for another.
  void mergeAlongEdges(Block &body) {
    for (Operation &op : body) {
      auto it = groupsOf.find(&op);
      if (it == groupsOf.end() || it->second.size() != 1)
        continue;
      for (Operation *user : op.getResult(0).getUsers()) {
        auto ut = groupsOf.find(user);
        if (ut == groupsOf.end())
          continue;
        for (Operation *h : SmallVector<Operation *, 2>(ut->second)) {
          Operation *a = find(groupsOf[&op][0]), *b = find(h);
          if (a != b && canMerge(a, b))
            merge(a, b);
        }
      }
    }
  }
};

struct FuseElementwisePass : FuseElementwiseBase<FuseElementwisePass> {
  void runOnOperation() override {
    Block &body = getOperation().getBody().front();
    numSlicesSunk += sinkSlices(body);

    Grouping g(body);
    for (Operation &op : llvm::reverse(body))
      if (fusible(&op) && !op.getResult(0).use_empty())
        g.assign(&op);
    g.mergeAlongEdges(body);

    // Leaders in program order of their places, each group's ops in program order.
    SmallVector<Operation *> leaders;
    for (auto &[leader, ops] : g.members)
      leaders.push_back(leader);
    llvm::sort(leaders, [&](Operation *a, Operation *b) { return g.place[a] < g.place[b]; });
    SmallVector<Operation *> all;
    for (Operation &op : body)
      all.push_back(&op);

    llvm::SmallPtrSet<Operation *, 32> grouped;
    for (Operation *leader : leaders) {
      SmallVector<Operation *> ops(g.members[leader].begin(), g.members[leader].end());
      if (ops.size() < 2)
        continue;
      llvm::sort(ops, [&](Operation *a, Operation *b) { return g.pos[a] < g.pos[b]; });
      llvm::SmallPtrSet<Operation *, 16> inGroup(ops.begin(), ops.end());
      llvm::SetVector<Value> inputs;
      SmallVector<Value> results;
      for (Operation *op : ops) {
        for (Value v : op->getOperands())
          if (!inGroup.contains(v.getDefiningOp()))
            inputs.insert(v);
        // (an op recomputed in several groups is read only inside them)
        if (g.groupsOf[op].size() == 1 &&
            llvm::any_of(op->getUsers(), [&](Operation *u) { return !inGroup.contains(u); }))
          results.push_back(op->getResult(0));
      }
      OpBuilder b(all[g.place[leader]]);
      SmallVector<Location> locs;
      for (Operation *op : ops)
        locs.push_back(op->getLoc());
      SmallVector<Type> types;
      for (Value r : results)
        types.push_back(r.getType());
      auto fused = b.create<FusedOp>(b.getFusedLoc(locs), types, inputs.getArrayRef());
      Block *inner = b.createBlock(&fused.getBody());
      BlockAndValueMapping mapping;
      for (Value v : inputs)
        mapping.map(v, inner->addArgument(v.getType(), v.getLoc()));
      b.setInsertionPointToStart(inner);
      for (Operation *op : ops)
        b.clone(*op, mapping);
      SmallVector<Value> yields;
      for (Value r : results)
        yields.push_back(mapping.lookup(r));
      b.create<YieldOp>(fused.getLoc(), yields);
      for (auto [r, y] : llvm::zip(results, fused.getYs()))
        r.replaceUsesWithIf(y, [&](OpOperand &use) { return !inGroup.contains(use.getOwner()); });
      grouped.insert(ops.begin(), ops.end());
      ++numGroups;
      numOps += ops.size();
      numResults += results.size();
    }
    // Erase once every group is built (a duplicated op is cloned into several).
    for (Operation &op : llvm::make_early_inc_range(llvm::reverse(body)))
      if (grouped.contains(&op) && op.use_empty())
        op.erase();
  }
};
} // namespace

std::unique_ptr<Pass> createFuseElementwisePass() { return std::make_unique<FuseElementwisePass>(); }

} // namespace nncc
