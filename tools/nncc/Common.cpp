//===- Common.cpp - helpers shared by the nncc commands -------------------===//
#include "tools/nncc/Commands.h"
#include "frontend/onnx/TensorProto.h"
#include "passes/Autodiff.h"
#include "runtime/Threads.h"

#include <cmath>
#include <cstdlib>
#include <cstdio>
#include <sstream>

namespace nncc {

const std::set<std::string> kCompileValued = {"print-after", "dump-dir", "O", "input-shape", "schedule",
                                              "max-parallel-timesteps"};
const std::set<std::string> kCompileFlags = {"print-after-all", "time-passes", "no-memory-reuse", "unroll-recurrent"};

int fail(const std::string &message) {
  std::fprintf(stderr, "nncc: error: %s\n", message.c_str());
  return 1;
}

bool compileOptionsFrom(const Args &args, CompileOptions &options, std::string &error) {
  options.printAfterAll = args.has("print-after-all");
  options.timePasses = args.has("time-passes");
  options.dumpDir = args.get("dump-dir");
  options.reuseMemory = !args.has("no-memory-reuse");
  options.unrollRecurrent = args.has("unroll-recurrent");
  for (auto &p : args.all("print-after"))
    options.printAfter.push_back(p);
  std::string o = args.get("O", "2");
  if (o.size() != 1 || o[0] < '0' || o[0] > '3') {
    error = "optimization level must be -O0, -O1, -O2 or -O3, got -O" + o;
    return false;
  }
  options.optLevel = o[0] - '0';
  options.recurrentSchedule = args.get("schedule", "wavefront");
  if (options.recurrentSchedule != "wavefront" && options.recurrentSchedule != "sequential") {
    error = "--schedule takes wavefront or sequential, got '" + options.recurrentSchedule + "'";
    return false;
  }
  if (args.has("max-parallel-timesteps")) {
    std::string v = args.get("max-parallel-timesteps");
    char *end = nullptr;
    long n = std::strtol(v.c_str(), &end, 10);
    if (v.empty() || *end || n < 1 || n > 4096) {
      error = "--max-parallel-timesteps takes a positive number of cells, got '" + v + "'";
      return false;
    }
    options.maxParallelTimesteps = n;
  }
  return true;
}

bool trainStepOptionsFrom(const Args &args, const onnx::ModelProto &model, TrainStepOptions &options,
                          std::string &error) {
  options.loss = args.get("loss", "sum_squares");
  options.solver.solver = args.get("solver", "sgd");
  auto declared = modelInputs(model);
  // (the first input: the features; later ones are carried states)
  options.batch =
      !declared.empty() && !declared[0].shape.empty() && declared[0].shape[0] > 0 ? declared[0].shape[0] : 64;
  if (args.has("batch")) {
    std::string v = args.get("batch");
    char *end = nullptr;
    long n = std::strtol(v.c_str(), &end, 10);
    if (v.empty() || *end || n < 1) {
      error = "--batch takes a positive number, got '" + v + "'";
      return false;
    }
    options.batch = n;
  }
  return rnnMemoryFrom(args, options, error) && compileOptionsFrom(args, options.compile, error);
}

bool rnnMemoryFrom(const Args &args, TrainStepOptions &options, std::string &error) {
  if (!args.has("rnn-memory"))
    return true;
  return parseRecurrentMemoryPolicy(args.get("rnn-memory"), options.rnnMemory, options.rnnMemoryBudget, error);
}

bool threadsFrom(const Args &args, std::string &error) {
  if (!args.has("threads"))
    return true;
  std::string v = args.get("threads", "");
  char *end = nullptr;
  long n = std::strtol(v.c_str(), &end, 10);
  if (v.empty() || *end || n < 1 || n > 1024) {
    error = "--threads takes a number of threads from 1 to 1024, got '" + v + "'";
    return false;
  }
  setNumThreads((int)n);
  return true;
}

bool inputShapesFrom(const Args &args, ImportOptions &options, std::string &error) {
  for (auto &spec : args.all("input-shape")) {
    auto eq = spec.rfind('=');
    if (eq == std::string::npos || eq == 0) {
      error = "--input-shape expects NAME=DxDxD (for example input=1x3x224x224), got '" + spec + "'";
      return false;
    }
    std::vector<int64_t> shape;
    std::stringstream ss(spec.substr(eq + 1));
    std::string d;
    while (std::getline(ss, d, 'x')) {
      char *end = nullptr;
      long long v = std::strtoll(d.c_str(), &end, 10);
      if (d.empty() || *end || v < 0) {
        error = "--input-shape: '" + spec.substr(eq + 1) + "' is not a shape like 1x3x224x224";
        return false;
      }
      shape.push_back(v);
    }
    options.inputShapes[spec.substr(0, eq)] = shape;
  }
  return true;
}

bool readInputFiles(const std::vector<TensorSignature> &declared, const std::vector<std::string> &files,
                    ImportOptions &options, std::vector<std::unique_ptr<Tensor>> &values, std::string &error) {
  for (auto &d : declared)
    if (d.kind == "map") {
      error = "graph input '" + d.name + "' is a map; nncc supports tensors, sequences of tensors and optionals "
              "of either as inputs and outputs (maps are not supported)";
      return false;
    }
  for (size_t k = 0; k < files.size() && k < declared.size(); ++k) {
    const std::string &name = declared[k].name;
    ValueFile read;
    if (!readValueFile(files[k], declared[k].kind, read, error)) {
      error = "input " + std::to_string(k) + ": " + error;
      return false;
    }
    if (!read.present)
      options.emptyOptionals.insert(name);
    if (read.sequence)
      options.sequenceLengths[name] = (int64_t)read.tensors.size();
    for (size_t e = 0; e < read.tensors.size(); ++e) {
      auto t = std::make_unique<Tensor>(std::move(read.tensors[e]));
      // The ONNX test data stores bfloat16 as uint16 (numpy has no bfloat16).
      if (declared[k].dtype == DType::BFloat16 && t->dtype() == DType::UInt16)
        t->reinterpret(DType::BFloat16);
      options.inputValues[read.sequence ? name + "[" + std::to_string(e) + "]" : name] = t.get();
      values.push_back(std::move(t));
    }
  }
  return true;
}

bool compareTensors(const Tensor &actual, const Tensor &expected, double rtol, double atol, std::string &report) {
  if (actual.dtype() != expected.dtype()) {
    report = std::string("element type ") + dtypeName(actual.dtype()) + ", expected " + dtypeName(expected.dtype());
    return false;
  }
  if (actual.shape() != expected.shape()) {
    report = "shape " + shapeToString(actual.shape()) + ", expected " + shapeToString(expected.shape());
    return false;
  }
  bool isFloat = isFloatDType(actual.dtype());
  int64_t worst = -1, bad = 0;
  double worstExcess = -1;
  for (int64_t k = 0; k < actual.numElements(); ++k) {
    double a = actual.elementAsDouble(k), e = expected.elementAsDouble(k);
    bool ok;
    double excess;
    if (!isFloat) {
      ok = a == e;
      excess = std::fabs(a - e);
    } else if (std::isnan(e) || std::isnan(a)) {
      ok = std::isnan(e) && std::isnan(a);
      excess = ok ? 0 : INFINITY;
    } else if (std::isinf(e) || std::isinf(a)) {
      ok = a == e;
      excess = ok ? 0 : INFINITY;
    } else {
      double tol = atol + rtol * std::fabs(e);
      excess = std::fabs(a - e) - tol;
      ok = excess <= 0;
    }
    if (!ok) {
      ++bad;
      if (excess > worstExcess) {
        worstExcess = excess;
        worst = k;
      }
    }
  }
  if (bad == 0)
    return true;
  std::ostringstream os;
  os.precision(9);
  os << bad << " of " << actual.numElements() << " elements differ; worst at flat index " << worst << ": got "
     << actual.elementAsDouble(worst) << ", expected " << expected.elementAsDouble(worst) << " (rtol " << rtol
     << ", atol " << atol << ")";
  report = os.str();
  return false;
}

} // namespace nncc
