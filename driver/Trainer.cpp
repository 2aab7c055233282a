//===- Trainer.cpp - compiled training steps ------------------------------===//
#include "driver/Trainer.h"

#include "frontend/onnx/OnnxImporter.h"
#include "ir/NNDialect.h"
#include "ir/NNOps.h"
#include "ir/ShapeUtils.h"
#include "passes/Autodiff.h"
#include "runtime/FileUtil.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/MLIRContext.h"
#include "llvm/ADT/StringSet.h"

#include "onnx/onnx_pb.h"

#include <cmath>
#include <cstring>
#include <map>

using namespace mlir;

namespace nncc {

int solverStateCount(const std::string &s) {
  if (s == "sgd")
    return 0;
  if (s == "adam")
    return 2;
  return 1; // momentum, nesterov, adagrad, rmsprop
}

bool validSolver(const std::string &s) {
  return s == "sgd" || s == "momentum" || s == "nesterov" || s == "adagrad" || s == "rmsprop" || s == "adam";
}

bool validPolicy(const std::string &p) {
  return p == "fixed" || p == "step" || p == "exp" || p == "inv" || p == "multistep" || p == "poly" ||
         p == "sigmoid";
}

double LrPolicy::at(int64_t iter) const {
  double lr = base, it = (double)iter;
  if (policy == "step")
    lr = base * std::pow(gamma, std::floor(it / (double)std::max<int64_t>(stepSize, 1)));
  else if (policy == "exp")
    lr = base * std::pow(gamma, it);
  else if (policy == "inv")
    lr = base * std::pow(1.0 + gamma * it, -power);
  else if (policy == "multistep") {
    int64_t k = 0;
    for (int64_t s : stepValues)
      k += iter >= s;
    lr = base * std::pow(gamma, (double)k);
  } else if (policy == "poly")
    lr = maxIter > 0 ? base * std::pow(std::max(0.0, 1.0 - it / (double)maxIter), power) : base;
  else if (policy == "sigmoid")
    lr = base / (1.0 + std::exp(-gamma * (it - (double)stepSize)));
  if (warmup > 0 && iter < warmup)
    lr *= (double)(iter + 1) / (double)warmup;
  return lr;
}

double adamStepSize(double lr, double beta1, double beta2, int64_t t) {
  return lr * std::sqrt(1.0 - std::pow(beta2, (double)t)) / (1.0 - std::pow(beta1, (double)t));
}

namespace {

RankedTensorType typeOf(Value v) { return v.getType().cast<RankedTensorType>(); }

struct Emit {
  OpBuilder &b;
  Location loc;
  Value c(Value like, double v) {
    auto t = RankedTensorType::get({}, typeOf(like).getElementType());
    return b.create<nn::ConstantOp>(loc, t, DenseElementsAttr::get(t, b.getFloatAttr(t.getElementType(), v)));
  }
  Value add(Value x, Value y) { return b.create<nn::AddOp>(loc, x, y); }
  Value sub(Value x, Value y) { return b.create<nn::SubOp>(loc, x, y); }
  Value mul(Value x, Value y) { return b.create<nn::MulOp>(loc, x, y); }
  Value div(Value x, Value y) { return b.create<nn::DivOp>(loc, x, y); }
  Value sqrt(Value x) { return b.create<nn::SqrtOp>(loc, x); }
};

} // namespace

void emitSolverUpdate(OpBuilder &b, Location loc, const SolverConfig &cfg, Value lr, ArrayRef<Value> params,
                      SmallVector<Value> grads, ArrayRef<Value> state, SmallVectorImpl<Value> &newParams,
                      SmallVectorImpl<Value> &newState) {
  Emit e{b, loc};
  // Weight decay, then clipping by the global norm of all gradients.
  if (cfg.weightDecay != 0)
    for (size_t i = 0; i < grads.size(); ++i) {
      Value reg = cfg.l1 ? b.create<nn::SignOp>(loc, params[i]).getResult() : params[i];
      grads[i] = e.add(grads[i], e.mul(reg, e.c(reg, cfg.weightDecay)));
    }
  if (cfg.clipNorm > 0 && !grads.empty()) {
    Value total;
    for (Value g : grads) {
      Value s = b.create<nn::ReduceSumOp>(loc, e.mul(g, g), b.getI64ArrayAttr({}), b.getBoolAttr(false));
      total = total ? e.add(total, s) : s;
    }
    // scale = clip / max(norm, clip)
    Value norm = e.sqrt(total);
    Value scale = e.div(e.c(norm, cfg.clipNorm), b.create<nn::MaxOp>(loc, ValueRange{norm, e.c(norm, cfg.clipNorm)}));
    for (Value &g : grads)
      g = e.mul(g, scale);
  }
  int count = solverStateCount(cfg.solver);
  for (size_t i = 0; i < params.size(); ++i) {
    Value p = params[i], g = grads[i];
    Value step;
    if (cfg.solver == "sgd") {
      step = e.mul(lr, g);
    } else if (cfg.solver == "momentum" || cfg.solver == "nesterov") {
      // Caffe: v' = mu v + lr g; p' = p - v' (Nesterov: p - ((1 + mu) v' - mu v)).
      Value v = state[i * count];
      Value v2 = e.add(e.mul(e.c(v, cfg.momentum), v), e.mul(lr, g));
      newState.push_back(v2);
      step = cfg.solver == "momentum" ? v2
                                      : e.sub(e.mul(e.c(v, 1 + cfg.momentum), v2), e.mul(e.c(v, cfg.momentum), v));
    } else if (cfg.solver == "adagrad" || cfg.solver == "rmsprop") {
      Value h = state[i * count];
      Value g2 = e.mul(g, g);
      Value h2 = cfg.solver == "adagrad"
                     ? e.add(h, g2)
                     : e.add(e.mul(e.c(h, cfg.rmsDecay), h), e.mul(e.c(h, 1 - cfg.rmsDecay), g2));
      newState.push_back(h2);
      step = e.div(e.mul(lr, g), e.add(e.sqrt(h2), e.c(h, cfg.eps)));
    } else { // adam; lr is the bias-corrected step size
      Value m = state[i * count], v = state[i * count + 1];
      Value m2 = e.add(e.mul(e.c(m, cfg.momentum), m), e.mul(e.c(m, 1 - cfg.momentum), g));
      Value v2 = e.add(e.mul(e.c(v, cfg.beta2), v), e.mul(e.c(v, 1 - cfg.beta2), e.mul(g, g)));
      newState.push_back(m2);
      newState.push_back(v2);
      step = e.div(e.mul(lr, m2), e.add(e.sqrt(v2), e.c(v, cfg.eps)));
    }
    newParams.push_back(e.sub(p, step));
  }
}

namespace {

Tensor tensorFromBytes(const TensorSignature &sig, const std::vector<uint8_t> &bytes) {
  Tensor t(sig.dtype, sig.shape);
  std::memcpy(t.data(), bytes.data(), std::min(bytes.size(), t.byteSize()));
  return t;
}

TensorSignature signatureOfType(Type type, const std::string &name) {
  auto t = type.cast<RankedTensorType>();
  return {name, (DType)nn::onnxDataType(t.getElementType()), std::vector<int64_t>(t.getShape().begin(), t.getShape().end())};
}

} // namespace

OwningOpRef<ModuleOp> buildTrainingGraph(MLIRContext &context, const onnx::ModelProto &model,
                                         const TrainStepOptions &options, bool step, TrainingGraph &g,
                                         std::string &error) {
  LossKind lossKind;
  if (!parseLossKind(options.loss, lossKind)) {
    error = "unknown loss '" + options.loss + "'; use softmax_cross_entropy, mse, bce_with_logits or sum_squares";
    return nullptr;
  }
  if (!validSolver(options.solver.solver)) {
    error = "unknown solver '" + options.solver.solver + "'; use sgd, momentum, nesterov, adagrad, rmsprop or adam";
    return nullptr;
  }
  auto inputs = modelInputs(model);
  if (inputs.empty()) {
    error = "training needs a model with an input (the features)";
    return nullptr;
  }
  ImportOptions io;
  io.unrollScans = true; // each step's backward touches its own rows only
  io.loopRows = 0;        // a loss would read scan-output rows the run did not fill
  io.evaluation = !step;  // predictions drop nothing
  std::vector<int64_t> shape = inputs[0].shape;
  if (shape.empty()) {
    error = "the model's input '" + inputs[0].name + "' is a scalar; it needs a batch dimension";
    return nullptr;
  }
  // The batch: the features' first dimension. A model with carried states
  // keeps a fixed one (its states' shapes depend on the batch too).
  if (inputs.size() == 1 || shape[0] < 0)
    shape[0] = options.batch;
  for (int64_t &d : shape)
    if (d < 0) {
      error = "the model's input '" + inputs[0].name + "' has a symbolic dimension other than the batch";
      return nullptr;
    }
  io.inputShapes[inputs[0].name] = shape;
  for (size_t k = 1; k < inputs.size(); ++k)
    if (llvm::any_of(inputs[k].shape, [](int64_t d) { return d < 0; })) {
      error = "the model's input '" + inputs[k].name +
              "' has symbolic dimensions; training takes the inputs after the features (recurrent states it "
              "carries from step to step, or inputs given for each step such as sequence lengths) with fixed "
              "shapes: export the model without dynamic axes on them";
      return nullptr;
    }

  loadDialects(context);
  auto module = importOnnxModel(context, model, io, error);
  if (!module)
    return nullptr;
  auto func = *module->getOps<func::FuncOp>().begin();
  for (unsigned k = 0; k < func.getNumResults(); ++k)
    if (auto of = func.getResultAttrOfType<IntegerAttr>(k, "nn.length_of")) {
      auto name = func.getResultAttrOfType<StringAttr>(of.getInt(), "nn.name");
      error = "the model's output '" + (name ? name.getValue().str() : std::to_string(of.getInt())) +
              "' has a length known only at run time (it comes from NonZero, Unique, NonMaxSuppression or "
              "Compress); training needs outputs of fixed shape: mask the values instead (Mul, Where)";
      return nullptr;
    }
  g = TrainingGraph();
  g.names = paramsToArguments(func);
  // (the parameters follow the model's inputs)
  size_t numInputs = inputs.size();
  auto &store = context.getOrLoadDialect<nn::NNDialect>()->getWeightStore();
  for (size_t k = 0; k < g.names.size(); ++k) {
    const auto *bytes = store.lookup(g.names[k]);
    if (!bytes) {
      error = "parameter '" + g.names[k] + "' has no data";
      return nullptr;
    }
    g.initial.push_back(
        tensorFromBytes(signatureOfType(func.getArgument(numInputs + k).getType(), g.names[k]), *bytes));
  }
  Block &body = func.getBody().front();
  Operation *ret = body.getTerminator();
  if (ret->getNumOperands() < 1) {
    error = "the model has no output";
    return nullptr;
  }
  // Inputs after the features are carried states when the output at the
  // same place hands them back, typed alike; the others are given for each
  // step (a batch's sequence lengths).
  for (size_t k = 1; k < numInputs; ++k) {
    Type t = func.getArgument(k).getType();
    bool carried = k < ret->getNumOperands() && ret->getOperand(k).getType() == t;
    (carried ? g.carried : g.given).push_back(signatureOfType(t, inputs[k].name));
    g.isCarried.push_back(carried);
  }
  Value prediction = ret->getOperand(0);
  g.input = signatureOfType(func.getArgument(0).getType(), inputs[0].name);
  g.output = signatureOfType(prediction.getType(), "output");
  if (!step) {
    setFunctionResults(func, {prediction});
    return module;
  }
  if (!typeOf(prediction).getElementType().isa<FloatType>()) {
    error = "the model's first output is not a float tensor; it cannot feed a loss";
    return nullptr;
  }
  // step(x, carried and given..., params..., labels, lr, state...)
  //     -> (loss, params'..., state'..., carried'...)
  auto pt = typeOf(prediction);
  // Softmax cross-entropy: one class index per row of logits [..., classes]
  // (a sequence model's [steps, batch, vocab] gets [steps, batch] labels).
  Type labelType = lossKind == LossKind::SoftmaxCrossEntropy
                       ? (Type)RankedTensorType::get(pt.getShape().drop_back(), IntegerType::get(&context, 64))
                       : (Type)pt;
  if (lossKind == LossKind::SoftmaxCrossEntropy && pt.getRank() < 2) {
    error = "softmax_cross_entropy needs logits [..., classes]; the model's output is " + nn::shapeStr(pt.getShape());
    return nullptr;
  }
  Value labels;
  g.hasLabels = lossKind != LossKind::SumOfSquares;
  if (g.hasLabels) {
    labels = appendNamedArgument(func, labelType, "labels");
    g.labels = signatureOfType(labelType, "labels");
  }
  auto scalarType = RankedTensorType::get({}, pt.getElementType());
  Value lr = appendNamedArgument(func, scalarType, "lr");
  SmallVector<Value> params, state;
  for (size_t k = 0; k < g.names.size(); ++k)
    params.push_back(func.getArgument(numInputs + k));
  int count = solverStateCount(options.solver.solver);
  for (size_t k = 0; k < g.names.size(); ++k)
    for (int j = 0; j < count; ++j)
      state.push_back(appendNamedArgument(func, params[k].getType(), g.names[k] + ".state" + std::to_string(j)));
  std::vector<std::string> forward; // the forward's nodes, as Caffe logs them
  for (Operation &op : body.without_terminator()) {
    std::string n = nn::sourceName(&op);
    if (!n.empty() && !isa<nn::ConstantOp>(op))
      forward.push_back(n);
  }
  // Gradients the model computes itself (ONNX Gradient) first: a loss that
  // reads them is then differentiated through their backward graph.
  if (!expandGradientOps(func, [&](Operation *, const std::string &why) { error = "the model's Gradient: " + why; }))
    return nullptr;
  prediction = ret->getOperand(0);
  OpBuilder b(ret);
  Value loss = emitLoss(b, func.getLoc(), lossKind, prediction, labels);
  SmallVector<Value> grads, capped;
  DifferentiateOptions diffOptions;
  diffOptions.loopRows = options.loopRows;
  diffOptions.grownLoopRows = options.grownLoopRows;
  diffOptions.cappedCounts = &capped;
  if (!differentiate(b, loss, params, grads, error, diffOptions))
    return nullptr;
  g.cappedLoops = (int)capped.size();
  // By name: differentiate may replace forward ops (a loop run as a loop
  // becomes one that saves its iterations), so `forward` holds only names.
  llvm::StringSet<> needs;
  for (Operation *op : opsNeedingBackward(loss, params))
    needs.insert(nn::sourceName(op));
  for (const std::string &n : forward)
    g.backward.push_back({n, needs.count(n) > 0});
  // Last: under checkpoint it replaces forward LSTMs.
  setRecurrentMemoryPolicy(func, options.rnnMemory, options.rnnMemoryBudget);
  SmallVector<Value> newParams, newState;
  emitSolverUpdate(b, func.getLoc(), options.solver, lr, params, grads, state, newParams, newState);
  SmallVector<Value> results{loss};
  results.append(newParams.begin(), newParams.end());
  results.append(newState.begin(), newState.end());
  for (size_t k = 1; k < numInputs; ++k) // the final states, for the next step
    if (g.isCarried[k - 1])
      results.push_back(ret->getOperand(k));
  setResultsWithRowChecks(func, results, capped);
  return module;
}

std::unique_ptr<TrainingSession> TrainingSession::create(const onnx::ModelProto &model,
                                                         const TrainStepOptions &options, std::string &error) {
  std::unique_ptr<TrainingSession> s(new TrainingSession());
  s->options = options;
  MLIRContext context;
  TrainingGraph g;
  auto module = buildTrainingGraph(context, model, options, /*step=*/true, g, error);
  if (!module)
    return nullptr;
  s->stepExe = compileModule(*module, options.compile, error);
  if (!s->stepExe)
    return nullptr;
  if (g.cappedLoops > 0) // a step that outgrows a loop's saved rows recompiles with more
    s->stepExe->setRecompile([&model, options](const std::vector<int64_t> &rows,
                                               std::string &error) -> std::unique_ptr<Executable> {
      TrainStepOptions grown = options; // (`model` outlives the session)
      grown.grownLoopRows = rows;
      MLIRContext context;
      TrainingGraph g;
      auto module = buildTrainingGraph(context, model, grown, /*step=*/true, g, error);
      return module ? compileModule(*module, grown.compile, error) : nullptr;
    });
  s->model = &model;
  s->names = g.names;
  s->paramValues = std::move(g.initial);
  s->inputSig = g.input;
  s->outputSig = g.output;
  s->labelSig = g.labels;
  s->hasLabels = g.hasLabels;
  s->carriedSigs = g.carried;
  for (const TensorSignature &sig : g.carried) // (zeros)
    s->carriedValues.emplace_back(sig.dtype, sig.shape);
  s->givenSigs = g.given;
  for (const TensorSignature &sig : g.given) // (zeros until set)
    s->givenValues.emplace_back(sig.dtype, sig.shape);
  s->isCarried = g.isCarried;
  for (auto &kv : g.backward)
    if (kv.second)
      s->backwardNames.push_back(kv.first);
  int count = solverStateCount(options.solver.solver);
  for (const Tensor &p : s->paramValues)
    for (int j = 0; j < count; ++j) {
      s->stateValues.emplace_back(p.dtype(), p.shape());
      std::memset(s->stateValues.back().data(), 0, s->stateValues.back().byteSize());
    }
  return s;
}

std::vector<std::pair<Tensor *, const TensorSignature *>> TrainingSession::laterInputs() {
  std::vector<std::pair<Tensor *, const TensorSignature *>> all;
  size_t c = 0, g = 0;
  for (bool isC : isCarried) {
    if (isC)
      all.push_back({&carriedValues[c], &carriedSigs[c]}), ++c;
    else
      all.push_back({&givenValues[g], &givenSigs[g]}), ++g;
  }
  return all;
}

void TrainingSession::appendInputs(std::vector<const Tensor *> &in, const std::vector<Tensor> &carried) const {
  size_t c = 0, g = 0;
  for (bool isC : isCarried)
    in.push_back(isC ? &carried[c++] : &givenValues[g++]);
}

bool TrainingSession::step(const Tensor &x, const Tensor &labels, double lr, float &loss, std::string &error) {
  Tensor lrT(DType::Float32, {});
  double rate = lr;
  if (options.solver.solver == "adam")
    rate = adamStepSize(lr, options.solver.momentum, options.solver.beta2, steps + 1);
  *lrT.data<float>() = (float)rate;
  std::vector<const Tensor *> in{&x};
  appendInputs(in, carriedValues);
  for (auto &p : paramValues)
    in.push_back(&p);
  if (hasLabels)
    in.push_back(&labels);
  in.push_back(&lrT);
  for (auto &st : stateValues)
    in.push_back(&st);
  // The outputs go into the buffers of the step before (double buffering:
  // the step reads this step's values while it writes the next ones).
  std::vector<Tensor> out = std::move(spareOutputs);
  spareOutputs.clear();
  if (!stepExe->run(in, out, error))
    return false;
  loss = *out[0].data<float>();
  for (size_t k = 0; k < paramValues.size(); ++k)
    std::swap(paramValues[k], out[1 + k]);
  for (size_t k = 0; k < stateValues.size(); ++k)
    std::swap(stateValues[k], out[1 + paramValues.size() + k]);
  for (size_t k = 0; k < carriedValues.size(); ++k)
    std::swap(carriedValues[k], out[1 + paramValues.size() + stateValues.size() + k]);
  spareOutputs = std::move(out);
  ++steps;
  return true;
}

bool TrainingSession::predict(const Tensor &x, Tensor &y, std::string &error) {
  if (!predictExe) { // compiled on first use: benchmarks and steps never need it
    MLIRContext context;
    TrainingGraph g;
    auto module = buildTrainingGraph(context, *model, options, /*step=*/false, g, error);
    if (!module || !(predictExe = compileModule(*module, options.compile, error)))
      return false;
  }
  std::vector<Tensor> zeros;
  for (const TensorSignature &sig : carriedSigs)
    zeros.emplace_back(sig.dtype, sig.shape);
  std::vector<const Tensor *> in{&x};
  appendInputs(in, zeros);
  for (auto &p : paramValues)
    in.push_back(&p);
  std::vector<Tensor> out;
  if (!predictExe->run(in, out, error))
    return false;
  y = std::move(out[0]);
  return true;
}

bool saveOnnxWithParams(const onnx::ModelProto &model, const std::vector<std::string> &names,
                        const std::vector<Tensor> &params, const std::string &path, std::string &error) {
  onnx::ModelProto out = model;
  std::map<std::string, const Tensor *> byName;
  for (size_t k = 0; k < names.size(); ++k)
    byName[names[k]] = &params[k];
  for (auto &init : *out.mutable_graph()->mutable_initializer()) {
    auto it = byName.find(init.name());
    if (it == byName.end())
      continue;
    const Tensor &t = *it->second;
    init.clear_float_data();
    init.clear_double_data();
    init.clear_raw_data();
    init.clear_data_location();
    init.clear_external_data();
    init.set_raw_data(std::string(static_cast<const char *>(t.data()), t.byteSize()));
  }
  std::string bytes;
  if (!out.SerializeToString(&bytes)) {
    error = "cannot serialize the trained model";
    return false;
  }
  return writeFileAtomic(path, bytes, error);
}

} // namespace nncc
