//===- Bench.cpp - `nncc bench`: latency of a compiled model --------------===//
#include "driver/Trainer.h"
#include "frontend/onnx/TensorProto.h"
#include "runtime/Profile.h"
#include "runtime/Threads.h"
#include "tools/nncc/Commands.h"

#include "onnx/onnx_pb.h"

#include <algorithm>
#include <chrono>
#include <functional>
#include <map>
#include <cstdio>
#include <random>

namespace nncc {

static const char *kBenchHelp = R"(usage: nncc bench MODEL [options]

Compiles MODEL for this machine and times it. The last line is
  median_ms=... min_ms=... peak_arena_bytes=...
where peak_arena_bytes is the planned peak of intermediate buffers
(activations and kernel scratch; not weights, inputs or outputs).

Options:
  --threads N            worker threads (default: all cores)
  --runs N               timed runs (default 50)
  --warmup N             untimed runs first (default 5)
  --input FILE.pb        an input (repeat in graph-input order); without
                         inputs, random values of the declared shapes are used
  --input-shape N=DxD    shape for an input with symbolic dimensions
  --profile              time every op and print where the time goes (with
                         --train: the ops of the training step)
  --train                time a training step instead: forward, loss, backward
                         and the solver's update, one compiled graph. A
                         model whose later inputs its outputs at the same
                         places hand back (a recurrent model's h0 -> h_n)
                         carries them from step to step (truncated BPTT;
                         zeros at first, or the --input files after the
                         first)
  --loss L               with --train: softmax_cross_entropy (random labels),
                         mse, bce_with_logits, or sum_squares (the default: the
                         sum of squares of the first output)
  --solver S, --lr X     with --train: the solver (default sgd) and its rate
  --batch N              with --train: batch size (default: the model's own)
  --losses               with --train: print the loss of every step (before
                         its update); --input FILE.pb gives the input
  --rnn-memory P         with --train: how the LSTM, GRU and RNN backward trade
                         memory for time: store-all (default; every step's
                         gates at once),
                         recompute-gates (keep h and cell-state checkpoints,
                         recompute the gates a few steps at a time),
                         checkpoint (sqrt(T) segments, y not kept), or
                         budget=BYTES (per layer, e.g. budget=64M: the
                         gates saved when they fit beside a few steps'
                         working set, else those of its last steps that
                         fit when at least half do; the others recomputed
                         in the largest segments that fit)
  --trace FILE.json      write a Chrome trace (chrome://tracing, Perfetto) of
                         one run: every stacked-LSTM (GRU) cell with its
                         thread (with --train, one step: cells forward and
                         backward)
  -O0 .. -O3, --print-after-all, --print-after=PASS, --time-passes,
  --dump-dir=DIR, --no-memory-reuse, --schedule, --max-parallel-timesteps,
  --unroll-recurrent
                         as for `nncc run`
)";

/// A tensor of `sig` filled with reproducible values in [-1, 1] (or 0/1
/// for bool, 0..9 for integers).
static Tensor randomTensor(const TensorSignature &sig, unsigned seed) {
  Tensor t(sig.dtype, sig.shape);
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> d(-1, 1);
  for (int64_t k = 0; k < t.numElements(); ++k) {
    double v = d(rng);
    switch (sig.dtype) {
    case DType::Float32: t.data<float>()[k] = (float)v; break;
    case DType::Float64: t.data<double>()[k] = v; break;
    case DType::Int64: t.data<int64_t>()[k] = (int64_t)((v + 1) * 4.5); break;
    case DType::Int32: t.data<int32_t>()[k] = (int32_t)((v + 1) * 4.5); break;
    case DType::Bool: case DType::UInt8: t.data<uint8_t>()[k] = v > 0; break;
    default: break;
    }
  }
  return t;
}

/// Where the time of `runs` profiled runs went (CompileOptions::profile):
/// by op kind, then by op.
static void printProfile(const std::vector<std::string> &names, int runs) {
  auto entries = profileEntries();
  auto nameOf = [&](int64_t id) { return id < (int64_t)names.size() ? names[id] : std::string("?"); };
  double total = 0;
  std::map<std::string, std::pair<double, int>> byKind; // "nn.conv" -> (ms, ops)
  for (auto &e : entries) {
    total += e.totalMs;
    std::string name = nameOf(e.id);
    auto &k = byKind[name.substr(0, name.find(' '))];
    k.first += e.totalMs;
    ++k.second;
  }
  std::vector<std::pair<std::string, std::pair<double, int>>> kinds(byKind.begin(), byKind.end());
  std::sort(kinds.begin(), kinds.end(), [](auto &a, auto &b) { return a.second.first > b.second.first; });
  std::printf("time by op kind (ms per run, share of the timed ops, ops):\n");
  for (auto &k : kinds)
    std::printf("  %8.4f  %5.1f%%  %-20s %d\n", k.second.first / runs, 100 * k.second.first / total, k.first.c_str(),
                k.second.second);
  std::sort(entries.begin(), entries.end(), [](auto &a, auto &b) { return a.totalMs > b.totalMs; });
  std::printf("time by op (ms per run, share of the timed ops):\n");
  for (auto &e : entries)
    std::printf("  %8.4f  %5.1f%%  %s\n", e.totalMs / runs, 100 * e.totalMs / total, nameOf(e.id).c_str());
}

/// `nncc bench --train`: the median time of one training step.
/// With --trace: one more run (`run`), traced, written as a Chrome trace.
static bool tracedRun(const Args &args, const std::function<bool(std::string &)> &run, std::string &error) {
  if (!args.has("trace"))
    return true;
  traceEnable(true);
  bool ok = run(error);
  traceEnable(false);
  if (!ok || !traceWriteChrome(args.get("trace"), error))
    return false;
  std::printf("wrote the trace of one run to %s (open it in chrome://tracing or ui.perfetto.dev)\n",
              args.get("trace").c_str());
  return true;
}

static int benchTrain(const onnx::ModelProto &model, const std::string &path, const Args &args, int runs,
                      int warmup) {
  std::string error;
  TrainStepOptions opt;
  if (!trainStepOptionsFrom(args, model, opt, error))
    return fail(error);
  opt.compile.profile = args.has("profile");
  double lr = std::atof(args.get("lr", "0.01").c_str());
  auto t0 = std::chrono::steady_clock::now();
  auto session = TrainingSession::create(model, opt, error);
  if (!session)
    return fail(error);
  std::printf("compiled the training step of %s in %.0f ms (loss %s, solver %s, batch %lld); %d thread(s), %d "
              "warm-up and %d timed steps\n",
              path.c_str(), std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count(),
              opt.loss.c_str(), opt.solver.solver.c_str(), (long long)opt.batch, numThreads(), warmup, runs);
  if (!session->carried().empty()) {
    std::printf("carried from step to step (truncated BPTT):");
    for (const TensorSignature &sig : session->carriedSignatures())
      std::printf(" '%s'", sig.name.c_str());
    std::printf("\n");
  }
  if (!session->given().empty()) {
    std::printf("given for every step (--input):");
    for (const TensorSignature &sig : session->givenSignatures())
      std::printf(" '%s' %s%s", sig.name.c_str(), dtypeName(sig.dtype), shapeToString(sig.shape).c_str());
    std::printf("\n");
  }
  std::fflush(stdout);
  Tensor x = randomTensor(session->input(), 1234);
  auto later = session->laterInputs();
  if (!session->given().empty() && args.all("input").size() != 1 + later.size())
    return fail("the model's input '" + session->givenSignatures()[0].name +
                "' is neither the features nor a state it hands back: give every input of the model, in its "
                "order, with --input (" +
                std::to_string(1 + later.size()) + " files)");
  if (args.has("input")) {
    // The features, then (optionally) the carried states to start from
    // and the given inputs, in the model's order.
    auto files = args.all("input");
    size_t carried = session->carried().size();
    if (files.size() != 1 && files.size() != 1 + later.size())
      return fail("--train takes the model's first input (the features)" +
                  (carried ? " and optionally its " + std::to_string(carried) + " carried state(s)" : std::string()) +
                  " as --input, " + std::to_string(files.size()) + " given");
    for (size_t k = 0; k < files.size(); ++k) {
      Tensor &t = k == 0 ? x : *later[k - 1].first;
      const TensorSignature &sig = k == 0 ? session->input() : *later[k - 1].second;
      std::string name;
      if (!readTensorFile(files[k], t, name, error))
        return fail(error);
      if (t.dtype() != sig.dtype || t.shape() != sig.shape)
        return fail("--input " + files[k] + " does not have the type and shape of the model's input '" + sig.name +
                    "'");
    }
  }
  bool showLosses = args.has("losses");
  Tensor labels;
  if (session->takesLabels()) {
    labels = randomTensor(session->labels(), 99);
    if (labels.dtype() == DType::Int64) { // class indices below the output width
      int64_t classes = session->output().shape.back();
      for (int64_t k = 0; k < labels.numElements(); ++k)
        labels.data<int64_t>()[k] = (k * 7) % classes;
    }
  }
  std::vector<double> times;
  float loss = 0;
  for (int r = 0; r < warmup + runs; ++r) {
    if (r == warmup)
      profileReset();
    auto s0 = std::chrono::steady_clock::now();
    if (!session->step(x, labels, lr, loss, error))
      return fail(error);
    if (showLosses)
      std::printf("step %d loss %.9g\n", r + 1, loss);
    if (r >= warmup)
      times.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - s0).count());
  }
  std::sort(times.begin(), times.end());
  if (opt.compile.profile) // before the traced run, which would count too
    printProfile(session->stepProfileNames(), runs);
  if (!tracedRun(args, [&](std::string &e) { return session->step(x, labels, lr, loss, e); }, error))
    return fail(error);
  std::printf("last loss %.6g\n", loss);
  std::printf("median_ms=%.4f min_ms=%.4f peak_arena_bytes=%lld\n", times[times.size() / 2], times.front(),
              (long long)session->stepWorkspaceBytes());
  return 0;
}

int benchCommand(int argc, char **argv) {
  std::set<std::string> valued = kCompileValued, flags = kCompileFlags;
  valued.insert({"threads", "runs", "warmup", "input", "loss", "solver", "lr", "batch", "rnn-memory", "trace"});
  flags.insert({"help", "profile", "train", "losses"});
  Args args(valued, flags);
  std::string error;
  if (!args.parse(argc, argv, 2, error)) {
    std::fprintf(stderr, "nncc bench: %s\n(run `nncc bench --help` for usage)\n", error.c_str());
    return 2;
  }
  if (args.has("help")) {
    std::printf("%s", kBenchHelp);
    return 0;
  }
  if (args.positional().size() != 1) {
    std::fprintf(stderr, "nncc bench: expected one MODEL\n\n%s", kBenchHelp);
    return 2;
  }
  int runs = std::max(1, std::atoi(args.get("runs", "50").c_str()));
  int warmup = std::max(0, std::atoi(args.get("warmup", "5").c_str()));
  if (!threadsFrom(args, error))
    return fail(error);

  const std::string modelPath = args.positional()[0];
  onnx::ModelProto model;
  if (!loadOnnxModel(modelPath, model, error))
    return fail(error);
  if (args.has("train"))
    return benchTrain(model, modelPath, args, runs, warmup);
  ImportOptions importOptions;
  if (!inputShapesFrom(args, importOptions, error))
    return fail(error);
  auto slash = modelPath.find_last_of('/');
  importOptions.baseDir = slash == std::string::npos ? "." : modelPath.substr(0, slash);
  auto declared = modelInputs(model);
  std::vector<std::unique_ptr<Tensor>> given;
  auto files = args.all("input");
  if (!files.empty() && files.size() != declared.size())
    return fail("the model takes " + std::to_string(declared.size()) + " input(s), " + std::to_string(files.size()) +
                " given");
  if (!readInputFiles(declared, files, importOptions, given, error))
    return fail(error);
  CompileOptions options;
  if (!compileOptionsFrom(args, options, error))
    return fail(error);
  options.profile = args.has("profile");
  auto exe = compileOnnx(model, importOptions, options, error);
  if (!exe)
    return fail(error);
  std::vector<Tensor> inputs;
  if (files.empty())
    for (size_t k = 0; k < exe->inputs().size(); ++k)
      inputs.push_back(randomTensor(exe->inputs()[k], 1234 + (unsigned)k));
  std::vector<const Tensor *> in;
  for (auto &t : given)
    in.push_back(t.get());
  for (auto &t : inputs)
    in.push_back(&t);
  std::printf("compiled %s in %.0f ms; %d thread(s), %d warm-up and %d timed runs\n", modelPath.c_str(),
              exe->compileSeconds * 1000, numThreads(), warmup, runs);
  std::fflush(stdout);
  std::vector<Tensor> outputs;
  for (int r = 0; r < warmup; ++r)
    if (!exe->run(in, outputs, error))
      return fail(error);
  profileReset();
  std::vector<double> times;
  auto lastReport = std::chrono::steady_clock::now();
  for (int r = 0; r < runs; ++r) {
    auto t0 = std::chrono::steady_clock::now();
    if (!exe->run(in, outputs, error))
      return fail(error);
    auto t1 = std::chrono::steady_clock::now();
    times.push_back(std::chrono::duration<double, std::milli>(t1 - t0).count());
    if (std::chrono::duration<double>(t1 - lastReport).count() > 2) {
      std::printf("  %d/%d runs, last %.3f ms\n", r + 1, runs, times.back());
      std::fflush(stdout);
      lastReport = t1;
    }
  }
  std::sort(times.begin(), times.end());
  if (options.profile) // before the traced run, which would count too
    printProfile(exe->profileNames(), runs);
  if (!tracedRun(args, [&](std::string &e) { return exe->run(in, outputs, e); }, error))
    return fail(error);
  std::printf("median_ms=%.4f min_ms=%.4f peak_arena_bytes=%lld\n", times[times.size() / 2], times.front(),
              (long long)exe->workspaceBytes());
  return 0;
}

} // namespace nncc
