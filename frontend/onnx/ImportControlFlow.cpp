//===- ImportControlFlow.cpp - If, Loop, Scan, Compress -------------------===//
//
// nncc compiles static graphs: control flow whose shape or trip count is
// known at compile time is imported inline. An If's condition, a Loop's trip
// count and a Compress condition determine shapes; when their values are
// known (constants, or inputs specialized by `nncc run`) the taken branch is
// imported, the loop unrolled, the selection turned into a gather. A Loop
// whose iterations are known only at run time (a trip count or condition
// from the data, a body that computes its condition, or too many iterations
// to unroll) becomes nn.loop, run as a loop, when its carried values keep
// their shapes. Its scan outputs get rows for the trip count when it is
// known at compile time (and they fit), else a capacity that the runtime
// grows, recompiling, when a run needs more; they must be graph outputs: the
// runtime trims them to the iterations that ran.
//
//===----------------------------------------------------------------------===//
#include "frontend/onnx/ImporterImpl.h"

#include "mlir/IR/Matchers.h"
#include "llvm/ADT/StringSet.h"

using namespace mlir;
using namespace nncc;
using namespace nncc::onnximport;

namespace {

LogicalResult importIf(Node &n) {
  auto cond = n.requireConstant(0, "condition, which selects the branch");
  if (failed(cond))
    return failure();
  const onnx::GraphProto *branch = n.graph(cond->asInt(0) ? "then_branch" : "else_branch");
  if (!branch)
    return n.fail("missing branch graph");
  SmallVector<Value> outs;
  if (failed(n.importer.importSubgraph(*branch, {}, outs, /*branch=*/true)))
    return failure();
  for (size_t k = 0; k < outs.size(); ++k)
    n.out(k, outs[k]);
  return success();
}

/// Whether a Loop body's condition output follows from the iteration
/// number, the condition input, constants and known outer values alone (not
/// from the carried values or other data): then it folds at each unrolled
/// iteration, and the iterations are known once the trip count and the
/// initial condition are.
bool conditionIsStatic(Node &n, const onnx::GraphProto &body) {
  if (body.output_size() < 1 || body.input_size() < 2)
    return false;
  llvm::StringSet<> known{body.input(0).name(), body.input(1).name()}, local;
  for (const auto &in : body.input())
    local.insert(in.name());
  for (const auto &t : body.initializer())
    known.insert(t.name()), local.insert(t.name());
  for (const auto &node : body.node())
    for (const auto &o : node.output())
      local.insert(o);
  auto isKnown = [&](const std::string &name) {
    if (name.empty() || known.count(name))
      return true;
    if (local.count(name))
      return false;
    Value outer = n.importer.lookup(name); // from outside the body
    return outer && matchPattern(outer, m_Constant());
  };
  static const llvm::StringSet<> random{"RandomNormal", "RandomUniform", "RandomNormalLike", "RandomUniformLike",
                                       "Multinomial", "Bernoulli"};
  for (const auto &node : body.node()) {
    bool all = !random.count(node.op_type()) && !node.op_type().empty();
    for (const auto &i : node.input())
      all &= isKnown(i);
    if (all)
      for (const auto &o : node.output())
        known.insert(o);
  }
  return known.count(body.output(0).name()) > 0;
}

/// Whether a Loop body passes its condition input through unchanged
/// (directly or through Identity nodes): a for loop, as exporters write it.
bool conditionStaysTrue(const onnx::GraphProto &body) {
  if (body.output_size() < 1 || body.input_size() < 2)
    return false;
  std::string name = body.output(0).name();
  for (bool changed = true; changed && name != body.input(1).name();) {
    changed = false;
    for (const auto &node : body.node())
      if (node.op_type() == "Identity" && node.output_size() == 1 && node.output(0) == name &&
          node.input_size() == 1) {
        name = node.input(0);
        changed = true;
      }
  }
  return name == body.input(1).name();
}

/// What decides the rows of a loop's scan outputs.
struct ScanRows {
  Optional<int64_t> trips; ///< the trip count M, when known at compile time
  bool exact = false;      ///< the loop runs exactly `trips` iterations
  std::string why;         ///< why it runs as a loop (for messages)
};

/// The rows of a loop's scan outputs taking `rowBytes` per iteration: the
/// trip count when the loop runs exactly that many iterations, or may stop
/// earlier and they fit LoopOp::kPlannedBytes; else (ImportOptions::loopRows)
/// a capacity, which a run outgrows by counting one iteration more than
/// the rows (the runtime then recompiles with more). `ordinal` gets the
/// loop's place among those given a capacity (ImportOptions::grownLoopRows;
/// counted even when the rows grew to cover a known trip count, so that
/// the places stay the same), or -1.
FailureOr<int64_t> scanRows(Node &n, ScanRows r, int64_t rowBytes, int &ordinal) {
  constexpr int64_t kMaxRows = 1 << 20;
  ordinal = -1;
  if (r.trips && (r.exact || (*r.trips <= kMaxRows && *r.trips * rowBytes <= nn::LoopOp::kPlannedBytes)))
    return std::max<int64_t>(*r.trips, 0);
  const ImportOptions &o = n.importer.options;
  if (o.loopRows != 0) {
    int place = n.importer.capacityLoopCount++;
    int64_t rows = nn::LoopOp::capacityRows(rowBytes, o.loopRows, o.grownLoopRows, place);
    if (r.trips && *r.trips <= rows) // (then it never runs out)
      return std::max<int64_t>(*r.trips, 0);
    ordinal = place;
    return rows;
  }
  if (r.trips && *r.trips <= kMaxRows)
    return *r.trips;
  return n.fail(Twine("this loop runs as a loop (") + r.why + "), and its scan outputs need " +
                (r.trips ? Twine("a trip count of at most ") + Twine(kMaxRows) + " (it is " + Twine(*r.trips) + ")"
                         : Twine("a trip count known at compile time")) +
                " for their rows when a loss reads them (training: rows the run did not fill would count). Give "
                "the trip count M as a constant (or pass its value as an input), or the trip count and the "
                "condition so that the loop is unrolled");
}

/// An nn.loop over `carried` (trip count m, condition c) whose body `fill`
/// builds: given the block's arguments (iteration, condition, carried
/// values) it appends the next condition, the next carried values (of the
/// same types) and `numScan` scan values to `yields`. The scan outputs get
/// rows as scanRows says and a last result counts the iterations that ran.
FailureOr<nn::LoopOp> buildLoop(Node &n, Value m, Value c, ArrayRef<Value> carried, int numScan, ScanRows scanRowsOf,
                                function_ref<LogicalResult(ArrayRef<Value>, SmallVectorImpl<Value> &)> fill) {
  Type i64 = n.b.getI64Type(), i1 = n.b.getI1Type();
  SmallVector<Type> types;
  for (Value v : carried)
    types.push_back(v.getType());
  // The scan values' types are known once the body is built: the op is
  // built with the carried results first, then rebuilt with all of them.
  auto loop = n.b.create<nn::LoopOp>(n.loc, types, m, c, carried);
  int ordinal = -1;
  Block *block = new Block();
  loop.getBody().push_back(block);
  block->addArgument(RankedTensorType::get({}, i64), n.loc);
  block->addArgument(RankedTensorType::get({}, i1), n.loc);
  for (Type t : types)
    block->addArgument(t, n.loc);
  {
    OpBuilder::InsertionGuard guard(n.b);
    n.b.setInsertionPointToStart(block);
    SmallVector<Value> yields;
    SmallVector<Value> args(block->getArguments().begin(), block->getArguments().end());
    if (failed(fill(args, yields)))
      return failure();
    assert(yields.size() == 1 + carried.size() + numScan && "a condition, the carried and the scan values");
    ArrayRef<Value> scanValues = ArrayRef<Value>(yields).drop_front(1 + carried.size());
    int64_t rowBytes = 0;
    for (size_t k = 0; k < scanValues.size(); ++k) {
      auto t = scanValues[k].getType().cast<RankedTensorType>();
      if (!t.hasStaticShape())
        return n.fail(Twine("scan output ") + Twine(k) + " has no static shape");
      rowBytes += nn::numElements(t.getShape()) * nn::elementByteSize(t.getElementType());
    }
    FailureOr<int64_t> rows = numScan > 0 ? scanRows(n, scanRowsOf, rowBytes, ordinal) : FailureOr<int64_t>(0);
    if (failed(rows))
      return failure();
    for (size_t k = 0; k < scanValues.size(); ++k) {
      auto t = scanValues[k].getType().cast<RankedTensorType>();
      constexpr int64_t kMaxBytes = int64_t(1) << 31;
      int64_t bytes = nn::numElements(t.getShape()) * nn::elementByteSize(t.getElementType());
      if (bytes > 0 && *rows > kMaxBytes / bytes)
        return n.fail(Twine("scan output ") + Twine(k) + " would take " + Twine(*rows) + " rows of " +
                      Twine(nn::numElements(t.getShape())) + " elements, more than 2 GiB; give the loop a smaller "
                      "trip count");
      SmallVector<int64_t> shape{*rows};
      shape.append(t.getShape().begin(), t.getShape().end());
      types.push_back(RankedTensorType::get(shape, t.getElementType()));
    }
    n.b.create<nn::LoopYieldOp>(n.loc, yields);
  }
  if (numScan > 0) {
    types.push_back(RankedTensorType::get({}, i64)); // the iterations that ran
    auto withScans = n.b.create<nn::LoopOp>(n.loc, types, m, c, carried, n.b.getI64IntegerAttr(numScan));
    withScans.getBody().takeBody(loop.getBody());
    loop.erase();
    loop = withScans;
    if (ordinal >= 0)
      n.importer.capacityLoops[loop.getResults().back()] = ordinal;
  }
  return loop;
}

/// The loop as nn.loop: its body imported once, run while the condition
/// holds and fewer than M iterations have run. `trips` is M when known at
/// compile time (scan outputs: scanRows).
LogicalResult runtimeLoop(Node &n, const onnx::GraphProto &body, ArrayRef<Value> carried, const Twine &why,
                          Optional<int64_t> trips = llvm::None) {
  int numScan = body.output_size() - 1 - (int)carried.size();
  for (size_t k = 0; k < carried.size(); ++k)
    if (isSequence(carried[k]) || isOptional(carried[k]))
      return n.fail(Twine("this loop runs as a loop (") + why + ") and carries " +
                    (isSequence(carried[k]) ? "a sequence" : "an optional") + " (input " + Twine(2 + k) +
                    "), which is not supported: nncc knows a sequence's length and whether an optional holds a "
                    "value at compile time. Give the loop a constant trip count and condition so that it is "
                    "unrolled");
  Type i64 = n.b.getI64Type(), i1 = n.b.getI1Type();
  auto scalarOf = [&](int i, Type elt) -> Value {
    Value v = n.in(i);
    if (nn::numElements(n.shape(i)) != 1)
      return (void)n.fail(Twine("input ") + Twine(i) + " must hold one value"), Value();
    v = n.reshape(v, {});
    return n.elt(i) == elt ? v : n.cast(v, elt);
  };
  Value m = n.has(0) ? scalarOf(0, i64) : n.constI64({INT64_MAX}, {});
  Value c = n.has(1) ? scalarOf(1, i1)
                     : n.create<nn::ConstantOp>(DenseElementsAttr::get(RankedTensorType::get({}, i1), true));
  if (!m || !c)
    return failure();
  ScanRows scanRowsOf{trips, trips && conditionStaysTrue(body), why.str()};
  auto loop = buildLoop(n, m, c, carried, numScan, scanRowsOf, [&](ArrayRef<Value> args,
                                                                  SmallVectorImpl<Value> &yields) {
    SmallVector<Value> outs;
    if (failed(n.importer.importSubgraph(body, args, outs)) || failed(tensorOutputs(n, body, outs)))
      return failure();
    auto cond = outs[0].getType().cast<RankedTensorType>();
    if (cond.getNumElements() != 1)
      return n.fail("the body's condition output must hold one value");
    yields.push_back(n.reshape(outs[0], {}));
    if (!cond.getElementType().isInteger(1))
      yields[0] = n.cast(yields[0], i1);
    for (size_t k = 0; k < carried.size(); ++k) {
      if (outs[1 + k].getType() != carried[k].getType()) {
        std::string msg;
        llvm::raw_string_ostream os(msg);
        os << "loop-carried value " << k << " ('" << body.output(1 + k).name() << "') is " << carried[k].getType()
           << " before an iteration and " << outs[1 + k].getType()
           << " after it; a loop run as a loop must keep each carried value's type";
        return n.fail(os.str());
      }
    }
    yields.append(outs.begin() + 1, outs.end());
    return success();
  });
  if (failed(loop))
    return failure();
  for (size_t k = 0; k < carried.size() + numScan; ++k)
    n.out(k, loop->getResult(k));
  for (int k = 0; k < numScan; ++k)
    n.importer.rowsKnownAtRunTime[loop->getResult(carried.size() + k)] = {
        loop->getResults().back(), "the scan output of a loop that runs as a loop",
        "Give the loop a constant trip count and condition so that it is unrolled"};
  return success();
}

LogicalResult importLoop(Node &n) {
  const onnx::GraphProto *body = n.graph("body");
  if (!body)
    return n.fail("missing body graph");
  if (!n.has(0) && !n.has(1))
    return n.fail("a loop without trip count and condition never ends");
  SmallVector<Value> carried;
  for (int k = 2; k < n.numInputs(); ++k)
    carried.push_back(n.in(k));
  int numScan = body->output_size() - 1 - (int)carried.size();
  if (numScan < 0)
    return n.fail("the body returns fewer values than the loop carries");
  // Unrolled when its iterations are known at compile time; a loop otherwise.
  constexpr int64_t kMaxUnroll = 4096;
  Optional<nn::ConstValues> tripsKnown = n.has(0) ? n.knownConstant(0) : llvm::None;
  Optional<nn::ConstValues> condKnown = n.has(1) ? n.knownConstant(1) : llvm::None;
  Optional<int64_t> rows = tripsKnown ? Optional<int64_t>(tripsKnown->asInt(0)) : llvm::None;
  if (n.has(0) && !tripsKnown)
    return runtimeLoop(n, *body, carried, "its trip count is known only at run time");
  if (n.has(1) && !condKnown)
    return runtimeLoop(n, *body, carried, "its initial condition is known only at run time", rows);
  if (!conditionIsStatic(n, *body))
    return runtimeLoop(n, *body, carried, "its body computes the condition from data", rows);
  int64_t trips = tripsKnown ? tripsKnown->asInt(0) : INT64_MAX;
  bool cond = condKnown ? condKnown->asInt(0) != 0 : true;
  // A long loop runs as a loop. With scan outputs (`trips` rows) only when
  // its condition stays true (a for loop): one that the iteration number
  // stops is unrolled, as its scan outputs then have a static length, and
  // fails past the limit unless it stops first.
  if (cond && trips > kMaxUnroll && (numScan == 0 || (tripsKnown && conditionStaysTrue(*body))))
    return runtimeLoop(n, *body, carried, Twine("more than ") + Twine(kMaxUnroll) + " iterations to unroll",
                       rows);
  std::vector<SmallVector<Value>> scans(numScan);
  Type boolType = n.b.getI1Type();
  for (int64_t i = 0; i < trips && cond; ++i) {
    if (i >= kMaxUnroll)
      return n.fail("a loop without a trip count whose scan outputs take more than " + Twine(kMaxUnroll) +
                    " iterations is not supported (it is unrolled); give it a trip count M");
    SmallVector<Value> ins = {n.constI64({i}, {}), n.create<nn::ConstantOp>(
                                                       DenseElementsAttr::get(RankedTensorType::get({}, boolType), true))};
    ins.append(carried.begin(), carried.end());
    SmallVector<Value> outs;
    if (failed(n.importer.importSubgraph(*body, ins, outs)) || failed(tensorOutputs(n, *body, outs, 0, 1)) ||
        failed(tensorOutputs(n, *body, outs, 1 + carried.size())))
      return failure();
    Attribute c;
    if (!matchPattern(outs[0], m_Constant(&c)))
      return n.fail("the loop condition, which follows from the iteration number and constants, did not fold "
                    "to a constant at iteration " + Twine(i) + "; nncc unrolls such loops");
    cond = c.cast<DenseElementsAttr>().getSplatValue<bool>();
    for (size_t k = 0; k < carried.size(); ++k)
      carried[k] = outs[1 + k];
    for (int k = 0; k < numScan; ++k)
      scans[k].push_back(outs[1 + carried.size() + k]);
  }
  for (size_t k = 0; k < carried.size(); ++k)
    n.out(k, carried[k]);
  for (int k = 0; k < numScan; ++k) {
    if (scans[k].empty())
      return n.fail("a loop that runs no iteration has scan outputs of unknown shape");
    n.out(carried.size() + k, stack(n, scans[k], 0));
  }
  return success();
}

/// Fails unless scan output k, stacking values like `step`, can take its
/// scan axis at `axis` (0 to their rank).
LogicalResult checkScanOutputAxis(Node &n, int k, int64_t axis, Value step) {
  int64_t rank = step.getType().cast<RankedTensorType>().getRank();
  if (axis >= 0 && axis <= rank)
    return success();
  return n.fail(Twine("scan_output_axes[") + Twine(k) + "] is out of range for a rank-" + Twine(rank) +
                " scan output");
}

/// A Scan of T > kScanUnroll steps as nn.loop: iteration t gathers each
/// scan input's element t (T-1-t reversed) and writes row t of each scan
/// output, which are then reversed and transposed as the attributes ask.
/// Every row is written (the loop always runs T iterations).
LogicalResult scanAsLoop(Node &n, const onnx::GraphProto &body, ArrayRef<Value> states, ArrayRef<Value> scanInputs,
                         ArrayRef<int64_t> inAxes, ArrayRef<int64_t> inDirs, ArrayRef<int64_t> outAxes,
                         ArrayRef<int64_t> outDirs, int64_t T, SmallVectorImpl<Value> &results) {
  int numScanOut = body.output_size() - (int)states.size();
  Value m = n.constI64({T}, {});
  Value c = n.create<nn::ConstantOp>(DenseElementsAttr::get(RankedTensorType::get({}, n.b.getI1Type()), true));
  auto loop = buildLoop(n, m, c, states, numScanOut, ScanRows{T, true, "a long Scan"}, [&](ArrayRef<Value> args, SmallVectorImpl<Value> &yields) {
    SmallVector<Value> ins(args.begin() + 2, args.end());
    for (size_t j = 0; j < scanInputs.size(); ++j) {
      Value t = inDirs[j] ? n.create<nn::SubOp>(n.constI64({T - 1}, {}), args[0]) : args[0];
      ins.push_back(n.create<nn::GatherOp>(scanInputs[j], t, n.b.getI64IntegerAttr(inAxes[j])));
    }
    SmallVector<Value> outs;
    if (failed(n.importer.importSubgraph(body, ins, outs)) || failed(tensorOutputs(n, body, outs)))
      return failure();
    for (size_t k = 0; k < states.size(); ++k)
      if (outs[k].getType() != states[k].getType())
        return n.fail(Twine("scan state ") + Twine(k) + " ('" + body.output(k).name() +
                      "') changes its type in the body; a Scan of more than 64 steps runs as a loop, whose states "
                      "keep their types");
    for (int k = 0; k < numScanOut; ++k)
      if (failed(checkScanOutputAxis(n, k, outAxes[k], outs[states.size() + k])))
        return failure();
    yields.push_back(args[1]);
    yields.append(outs.begin(), outs.end());
    return success();
  });
  if (failed(loop))
    return failure();
  results.assign(loop->getResults().begin(), loop->getResults().begin() + states.size());
  for (int k = 0; k < numScanOut; ++k) {
    Value y = loop->getResult(states.size() + k);
    if (outDirs[k]) {
      SmallVector<int64_t> backwards;
      for (int64_t t = T - 1; t >= 0; --t)
        backwards.push_back(t);
      y = n.create<nn::GatherOp>(y, n.constI64(backwards, {T}), n.b.getI64IntegerAttr(0));
    }
    if (outAxes[k] != 0) { // row t moves to position t of axis outAxes[k]
      int64_t rank = y.getType().cast<RankedTensorType>().getRank();
      SmallVector<int64_t> perm;
      for (int64_t d = 1; d < rank; ++d) {
        if ((int64_t)perm.size() == outAxes[k])
          perm.push_back(0);
        perm.push_back(d);
      }
      if ((int64_t)perm.size() < rank)
        perm.push_back(0);
      y = n.create<nn::TransposeOp>(y, n.b.getI64ArrayAttr(perm));
    }
    results.push_back(y);
  }
  return success();
}

/// Scan-9+ semantics on states and scan inputs (no batch dimension):
/// unrolled up to kScanUnroll steps (fast to run, and compile time grows
/// with the steps), a loop beyond (unless ImportOptions::unrollScans:
/// training, where a loop's backward would add each step's gradient of a
/// scan input into a whole-sequence sum, T times).
LogicalResult scanOnce(Node &n, const onnx::GraphProto &body, SmallVector<Value> states,
                       ArrayRef<Value> scanInputs, ArrayRef<int64_t> inAxes, ArrayRef<int64_t> inDirs,
                       ArrayRef<int64_t> outAxes, ArrayRef<int64_t> outDirs, SmallVectorImpl<Value> &results) {
  constexpr int64_t kScanUnroll = 64;
  int64_t T = -1;
  for (size_t j = 0; j < scanInputs.size(); ++j) {
    int64_t len = scanInputs[j].getType().cast<RankedTensorType>().getDimSize(inAxes[j]);
    if (T >= 0 && len != T)
      return n.fail("scan inputs have different sequence lengths");
    T = len;
  }
  if (T > kScanUnroll && !n.importer.options.unrollScans)
    return scanAsLoop(n, body, states, scanInputs, inAxes, inDirs, outAxes, outDirs, T, results);
  int numScanOut = body.output_size() - (int)states.size();
  std::vector<SmallVector<Value>> scans(numScanOut);
  for (int64_t t = 0; t < T; ++t) {
    SmallVector<Value> ins(states.begin(), states.end());
    for (size_t j = 0; j < scanInputs.size(); ++j)
      ins.push_back(takeAt(n, scanInputs[j], inAxes[j], inDirs[j] ? T - 1 - t : t));
    SmallVector<Value> outs;
    if (failed(n.importer.importSubgraph(body, ins, outs)) || failed(tensorOutputs(n, body, outs)))
      return failure();
    for (size_t k = 0; k < states.size(); ++k)
      states[k] = outs[k];
    for (int k = 0; k < numScanOut; ++k)
      scans[k].push_back(outs[states.size() + k]);
  }
  results.assign(states.begin(), states.end());
  for (int k = 0; k < numScanOut; ++k) {
    if (scans[k].empty())
      return n.fail("an empty scan has scan outputs of unknown shape");
    if (failed(checkScanOutputAxis(n, k, outAxes[k], scans[k][0])))
      return failure();
    SmallVector<Value> parts = scans[k];
    if (outDirs[k])
      std::reverse(parts.begin(), parts.end());
    results.push_back(stack(n, parts, outAxes[k]));
  }
  return success();
}

LogicalResult importScan(Node &n) {
  const onnx::GraphProto *body = n.graph("body");
  if (!body)
    return n.fail("missing body graph");
  int64_t numScan = n.i("num_scan_inputs", 0);
  bool v8 = n.opset < 9;
  int first = v8 ? 1 : 0;
  if (v8 && n.has(0))
    return n.fail("sequence_lens is not supported");
  int numStates = n.numInputs() - first - (int)numScan;
  int numScanOut = body->output_size() - numStates;
  if (numScan < 1 || numStates < 0 || numScanOut < 0)
    return n.fail(Twine("num_scan_inputs = ") + Twine(numScan) + " does not fit the node's " +
                  Twine(n.numInputs() - first) + " inputs and its body's " + Twine(body->output_size()) +
                  " outputs (states, then scan inputs; states, then scan outputs)");
  auto pad = [](SmallVector<int64_t, 6> v, size_t count) {
    v.resize(count, 0);
    return SmallVector<int64_t>(v.begin(), v.end());
  };
  SmallVector<int64_t> inAxes = pad(n.ints("scan_input_axes"), numScan);
  SmallVector<int64_t> inDirs = pad(n.ints(v8 ? "directions" : "scan_input_directions"), numScan);
  SmallVector<int64_t> outAxes = pad(n.ints("scan_output_axes"), numScanOut);
  SmallVector<int64_t> outDirs = pad(n.ints("scan_output_directions"), numScanOut);
  SmallVector<Value> states, scanInputs;
  for (int k = 0; k < numStates; ++k)
    states.push_back(n.in(first + k));
  for (int64_t k = 0; k < numScan; ++k)
    scanInputs.push_back(n.in(first + numStates + k));
  for (size_t j = 0; j < scanInputs.size(); ++j) {
    int64_t rank = scanInputs[j].getType().cast<RankedTensorType>().getRank();
    if (inAxes[j] < 0)
      inAxes[j] += rank;
    if (inAxes[j] < 0 || inAxes[j] >= rank)
      return n.fail(Twine("scan_input_axes[") + Twine(j) + "] is out of range for a rank-" + Twine(rank) + " input");
  }
  SmallVector<Value> results;
  if (!v8) {
    for (int k = 0; k < numScanOut; ++k)
      if (outAxes[k] < 0)
        outAxes[k] += body->output(numStates + k).type().tensor_type().shape().dim_size() + 1;
    if (failed(scanOnce(n, *body, states, scanInputs, inAxes, inDirs, outAxes, outDirs, results)))
      return failure();
  } else {
    // Scan-8: dimension 0 is a batch; the scan runs per batch element on axis 1.
    int64_t B = states.empty() ? scanInputs[0].getType().cast<RankedTensorType>().getDimSize(0)
                               : states[0].getType().cast<RankedTensorType>().getDimSize(0);
    std::vector<SmallVector<Value>> perBatch;
    for (int64_t b = 0; b < B; ++b) {
      SmallVector<Value> st, sc, res;
      for (Value s : states) st.push_back(takeAt(n, s, 0, b));
      for (Value s : scanInputs) sc.push_back(takeAt(n, s, 0, b));
      if (failed(scanOnce(n, *body, st, sc, inAxes, inDirs, outAxes, outDirs, res)))
        return failure();
      perBatch.push_back(res);
    }
    for (size_t k = 0; k < perBatch[0].size(); ++k) {
      SmallVector<Value> parts;
      for (auto &r : perBatch) parts.push_back(r[k]);
      results.push_back(stack(n, parts, 0));
    }
  }
  for (size_t k = 0; k < results.size(); ++k)
    n.out(k, results[k]);
  return success();
}

/// Compress: the slices of x along `axis` (of the flattened x without one)
/// where the condition holds. A condition known at compile time gathers
/// fixed indices; else NonZero finds them at run time, and the result's
/// length along `axis` is known only then (RunTimeExtent.cpp).
LogicalResult importCompress(Node &n) {
  Value x = n.in(0);
  int64_t axis = 0;
  if (n.hasAttr("axis")) {
    axis = nn::normalizeAxis(n.i("axis", 0), n.rank(0));
    if (axis < 0)
      return n.fail("axis out of range");
  } else {
    x = n.reshape(x, {nn::numElements(n.shape(0))});
  }
  int64_t dim = x.getType().cast<RankedTensorType>().getDimSize(axis);
  if (n.rank(1) != 1)
    return n.fail("the condition must be 1-D");
  if (auto cond = n.knownConstant(1)) {
    std::vector<int64_t> picked;
    for (int64_t k = 0; k < std::min<int64_t>(cond->size(), dim); ++k)
      if (cond->asInt(k))
        picked.push_back(k);
    Value idx = n.constI64(picked, {(int64_t)picked.size()});
    n.out(0, n.create<nn::GatherOp>(x, idx, n.b.getI64IntegerAttr(axis)));
    return success();
  }
  int64_t length = std::min<int64_t>(n.shape(1)[0], dim);
  Value cond = n.in(1);
  if (length < n.shape(1)[0])
    cond = n.create<nn::SliceOp>(cond, n.i64s({0}), n.i64s({1}), n.i64s({length}));
  Operation *found = n.build<nn::NonZeroOp>(cond);
  if (!found)
    return failure();
  Value y = n.create<nn::GatherOp>(x, n.reshape(found->getResult(0), {length}), n.b.getI64IntegerAttr(axis));
  n.out(0, y);
  n.importer.rowsKnownAtRunTime[y] = {found->getResult(1), "the slices Compress kept",
                                      "A condition known at compile time (an initializer, or a value given to "
                                      "nncc) keeps every shape known then",
                                      (int)axis};
  return success();
}

} // namespace

void nncc::onnximport::registerControlFlowHandlers(HandlerMap &m) {
  m["If"] = importIf;
  m["Loop"] = importLoop;
  m["Scan"] = importScan;
  m["Compress"] = importCompress;
}
