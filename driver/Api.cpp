//===- Api.cpp - the C++ API (driver/nncc.h) ------------------------------===//
#include "driver/nncc.h"
#include "driver/Compiler.h"
#include "driver/Trainer.h"
#include "frontend/onnx/TensorProto.h"

#include "onnx/onnx_pb.h"

#include <algorithm>
#include <list>
#include <mutex>

namespace nncc {

CompiledModel::~CompiledModel() = default;

/// A model whose inputs have symbolic dimensions nobody fixed: compiled per
/// shape of its inputs at run(), the last few kept (most recent first).
struct CompiledModel::PerShape {
  onnx::ModelProto model;
  ImportOptions importOptions;
  CompileOptions compileOptions;
  std::vector<TensorSignature> inputs, outputs; ///< as declared (-1: symbolic)
  std::map<std::string, Tensor> values; ///< copies of ModelOptions::inputValues
  size_t kept = 8;
  int compilations = 0;
  using Shapes = std::vector<std::vector<int64_t>>;
  /// Most recently run first. Shared: a run holds its executable while
  /// another thread's compilation may drop it from the list.
  std::list<std::pair<Shapes, std::shared_ptr<Executable>>> compiled;
  std::mutex mutex; ///< guards `compiled` and `compilations`, never held while compiling or running

  /// The kept executable for `key`, moved to the front; null if none.
  std::shared_ptr<Executable> kept_(const Shapes &key) {
    for (auto it = compiled.begin(); it != compiled.end(); ++it)
      if (it->first == key) {
        compiled.splice(compiled.begin(), compiled, it);
        return compiled.front().second;
      }
    return nullptr;
  }

  /// The executable for these inputs: kept, or compiled now (outside the
  /// lock, so runs of kept shapes go on meanwhile; two threads meeting a
  /// new shape at once may both compile it, and one result is kept).
  std::shared_ptr<Executable> forShapes(const std::vector<Tensor> &in, std::string &error) {
    if (in.size() != inputs.size()) {
      error = "expected " + std::to_string(inputs.size()) + " inputs, got " + std::to_string(in.size());
      return nullptr;
    }
    std::vector<std::vector<int64_t>> key;
    for (size_t k = 0; k < in.size(); ++k) {
      if (in[k].dtype() != inputs[k].dtype) {
        error = "input " + std::to_string(k) + " ('" + inputs[k].name + "') has element type " +
                dtypeName(in[k].dtype()) + ", but the model takes " + dtypeName(inputs[k].dtype);
        return nullptr;
      }
      const std::vector<int64_t> &declared = inputs[k].shape, &shape = in[k].shape();
      bool fits = declared.size() == shape.size();
      for (size_t d = 0; fits && d < shape.size(); ++d)
        fits = declared[d] < 0 || declared[d] == shape[d];
      if (!fits) {
        error = "input " + std::to_string(k) + " ('" + inputs[k].name + "') has shape " + shapeToString(shape) +
                ", but the model declares " + shapeToString(declared) + " (-1: any extent)";
        return nullptr;
      }
      key.push_back(shape);
    }
    {
      std::lock_guard<std::mutex> lock(mutex);
      if (auto exe = kept_(key))
        return exe;
    }
    ImportOptions io = importOptions;
    for (size_t k = 0; k < in.size(); ++k)
      io.inputShapes[inputs[k].name] = key[k];
    auto exe = compileOnnx(model, io, compileOptions, error);
    if (!exe) {
      std::string shapes;
      for (size_t k = 0; k < key.size(); ++k)
        shapes += (k ? ", " : "") + inputs[k].name + " " + shapeToString(key[k]);
      error = "compiling for the input shapes " + shapes + ": " + error;
      return nullptr;
    }
    std::lock_guard<std::mutex> lock(mutex);
    ++compilations;
    if (auto other = kept_(key)) // (another thread's, meanwhile)
      return other;
    compiled.emplace_front(key, std::move(exe));
    if (compiled.size() > kept)
      compiled.pop_back();
    return compiled.front().second;
  }
};

std::unique_ptr<CompiledModel> CompiledModel::fromOnnxFile(const std::string &path, std::string &error,
                                                           const ModelOptions &options) {
  onnx::ModelProto model;
  if (!loadOnnxModel(path, model, error))
    return nullptr;
  ImportOptions importOptions;
  importOptions.inputShapes = options.inputShapes;
  importOptions.inputValues = options.inputValues;
  importOptions.sequenceLengths = options.sequenceLengths;
  importOptions.emptyOptionals = options.emptyOptionals;
  auto slash = path.find_last_of('/');
  importOptions.baseDir = slash == std::string::npos ? "." : path.substr(0, slash);
  CompileOptions compileOptions;
  compileOptions.optLevel = options.optLevel;
  // Tensor inputs with symbolic dimensions that neither a shape nor a value
  // fixes: compiled per shape at run().
  std::vector<TensorSignature> declared = modelInputs(model), results = modelOutputs(model);
  bool open = false, tensorsOnly = true;
  for (const TensorSignature &s : results)
    tensorsOnly = tensorsOnly && s.kind == "tensor";
  for (const TensorSignature &s : declared) {
    tensorsOnly = tensorsOnly && s.kind == "tensor";
    if (!options.inputShapes.count(s.name) && !options.inputValues.count(s.name) &&
        std::any_of(s.shape.begin(), s.shape.end(), [](int64_t d) { return d < 0; }))
      open = true;
  }
  auto m = std::unique_ptr<CompiledModel>(new CompiledModel());
  if (open && tensorsOnly) {
    m->perShape = std::make_unique<PerShape>();
    PerShape &p = *m->perShape;
    p.model = std::move(model);
    p.importOptions = importOptions;
    p.compileOptions = compileOptions;
    p.inputs = declared;
    for (TensorSignature &s : p.inputs) // (fixed by the options)
      if (options.inputShapes.count(s.name))
        s.shape = options.inputShapes.at(s.name);
    // Values the caller need not keep: each compilation reads them.
    p.importOptions.inputValues.clear();
    for (const auto &v : options.inputValues) {
      p.values[v.first] = *v.second;
      p.importOptions.inputValues[v.first] = &p.values[v.first];
    }
    for (TensorSignature &s : p.inputs)
      if (p.values.count(s.name))
        s.shape = p.values.at(s.name).shape();
    p.outputs = std::move(results);
    p.kept = (size_t)std::max(options.shapesKept, 1);
    return m;
  }
  auto exe = compileOnnx(model, importOptions, compileOptions, error);
  if (!exe)
    return nullptr;
  m->exe = std::move(exe);
  return m;
}

std::unique_ptr<CompiledModel> CompiledModel::fromBuilder(GraphBuilder &graph, std::string &error,
                                                          const ModelOptions &options) {
  mlir::ModuleOp *module = graph.module(error);
  if (!module)
    return nullptr;
  loadDialects(*module->getContext()); // the lowering's dialects
  CompileOptions compileOptions;
  compileOptions.optLevel = options.optLevel;
  auto exe = compileModule(*module, compileOptions, error);
  if (!exe)
    return nullptr;
  auto m = std::unique_ptr<CompiledModel>(new CompiledModel());
  m->exe = std::move(exe);
  return m;
}

const std::vector<TensorSignature> &CompiledModel::inputs() const {
  return perShape ? perShape->inputs : exe->inputs();
}
const std::vector<TensorSignature> &CompiledModel::outputs() const {
  return perShape ? perShape->outputs : exe->outputs();
}
int64_t CompiledModel::workspaceBytes() const {
  if (!perShape)
    return exe->workspaceBytes();
  std::lock_guard<std::mutex> lock(perShape->mutex);
  return perShape->compiled.empty() ? 0 : perShape->compiled.front().second->workspaceBytes();
}
int CompiledModel::compiledShapes() const {
  if (!perShape)
    return 1;
  std::lock_guard<std::mutex> lock(perShape->mutex);
  return (int)perShape->compiled.size();
}
int CompiledModel::compilations() const {
  if (!perShape)
    return 1;
  std::lock_guard<std::mutex> lock(perShape->mutex);
  return perShape->compilations;
}

bool CompiledModel::run(const std::vector<Tensor> &inputs, std::vector<Tensor> &outputs, std::string &error) {
  std::vector<const Tensor *> in;
  for (auto &t : inputs)
    in.push_back(&t);
  if (!perShape)
    return exe->run(in, outputs, error);
  std::shared_ptr<Executable> forShapes = perShape->forShapes(inputs, error);
  return forShapes && forShapes->run(in, outputs, error);
}

bool readTensor(const std::string &path, Tensor &tensor, std::string &error) {
  std::string name;
  return readTensorFile(path, tensor, name, error);
}

bool writeTensor(const std::string &path, const Tensor &tensor, std::string &error) {
  return writeTensorFile(path, tensor, "", error);
}

struct Trainer::Impl {
  onnx::ModelProto model;
  std::unique_ptr<TrainingSession> session;
  int find(const std::string &name, std::string &error) const {
    const auto &names = session->paramNames();
    for (size_t k = 0; k < names.size(); ++k)
      if (names[k] == name)
        return (int)k;
    error = "the model has no trainable parameter '" + name + "'";
    return -1;
  }
};

Trainer::~Trainer() = default;

std::unique_ptr<Trainer> Trainer::fromOnnxFile(const std::string &path, const TrainOptions &options,
                                               std::string &error) {
  auto t = std::unique_ptr<Trainer>(new Trainer());
  t->impl = std::make_unique<Impl>();
  if (!loadOnnxModel(path, t->impl->model, error))
    return nullptr;
  TrainStepOptions opt;
  opt.loss = options.loss;
  opt.batch = options.batch;
  opt.solver.solver = options.solver;
  opt.solver.momentum = options.momentum;
  opt.solver.beta2 = options.beta2;
  opt.solver.rmsDecay = options.rmsDecay;
  opt.solver.eps = options.eps;
  opt.solver.weightDecay = options.weightDecay;
  opt.solver.clipNorm = options.clipNorm;
  t->impl->session = TrainingSession::create(t->impl->model, opt, error);
  if (!t->impl->session)
    return nullptr;
  return t;
}

const TensorSignature &Trainer::input() const { return impl->session->input(); }
const TensorSignature &Trainer::output() const { return impl->session->output(); }

bool Trainer::step(const Tensor &x, const Tensor &labels, double lr, float &loss, std::string &error) {
  return impl->session->step(x, labels, lr, loss, error);
}

std::vector<Tensor> &Trainer::carriedStates() { return impl->session->carried(); }

std::vector<Tensor> &Trainer::givenInputs() { return impl->session->given(); }

bool Trainer::predict(const Tensor &x, Tensor &y, std::string &error) { return impl->session->predict(x, y, error); }

std::vector<std::string> Trainer::parameterNames() const { return impl->session->paramNames(); }

bool Trainer::getParameter(const std::string &name, Tensor &value, std::string &error) const {
  int k = impl->find(name, error);
  if (k < 0)
    return false;
  value = impl->session->params()[k];
  return true;
}

bool Trainer::setParameter(const std::string &name, const Tensor &value, std::string &error) {
  int k = impl->find(name, error);
  if (k < 0)
    return false;
  Tensor &p = impl->session->params()[k];
  if (value.dtype() != p.dtype() || value.shape() != p.shape()) {
    error = "parameter '" + name + "' is " + p.describe() + ", got " + value.describe();
    return false;
  }
  p = value;
  return true;
}

bool Trainer::save(const std::string &path, std::string &error) const {
  return saveOnnxWithParams(impl->model, impl->session->paramNames(), impl->session->params(), path, error);
}

} // namespace nncc
