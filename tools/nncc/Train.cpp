//===- Train.cpp - `nncc train`: compiled training on CSV data ------------===//
#include "driver/Dataset.h"
#include "driver/Trainer.h"
#include "runtime/FileUtil.h"
#include "tools/nncc/Commands.h"

#include "onnx/onnx_pb.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <deque>
#include <random>
#include <sstream>

namespace nncc {

static const char *kTrainHelp = R"(usage: nncc train MODEL.onnx --data FILE.csv[.gz] [options]

Compiles a training step for MODEL (forward, loss, gradients by the autodiff
pass, the solver's update: one graph) and trains it on the rows of a CSV
file (numbers only; a header line is skipped; gzip recognised by content).
Prints progress, then `accuracy=...` of the held-out rows on its last line
(softmax_cross_entropy; the mean loss for the other losses).

Data and model:
  --data FILE             the CSV (required)
  --label-column K|last   the label's column, 1-based (default: last)
  --scale X               multiply every feature by X (default 1)
  --holdout F             fraction of rows held out for evaluation (default 0.2)
  --loss L                softmax_cross_entropy (integer labels 0..C-1, default),
                          mse, bce_with_logits
  --batch N               minibatch size (default 64)
  --rnn-memory P          how the LSTM, GRU and RNN backward trade memory for
                          time: store-all (default; every step's gates at once),
                          recompute-gates (keep h and cell-state checkpoints,
                          recompute the gates a few steps at a time),
                          checkpoint (sqrt(T) segments, y not kept), or
                          budget=BYTES (per layer, e.g. budget=64M: the
                          gates saved when they fit beside a few steps'
                          working set, else those of its last steps that
                          fit when at least half do; the others recomputed
                          in the largest segments that fit)
  --epochs N              passes over the training rows (default 10)
  --seed S                shuffling seed (default 1)
Solver:
  --solver S              sgd (default), momentum, nesterov, adagrad, rmsprop, adam
  --lr X                  base learning rate (default 0.01)
  --momentum X            momentum (momentum, nesterov) or Adam's beta1 (default 0.9)
  --beta2 X               Adam's beta2 (default 0.999)
  --rms-decay X           RMSProp's decay (default 0.99)
  --eps X                 adagrad/rmsprop/adam epsilon (default 1e-8)
  --weight-decay X        L2 weight decay (default 0); --l1 makes it L1
  --clip-norm X           clip gradients to this global L2 norm (default: off)
Learning-rate policy (Caffe's):
  --lr-policy P           fixed (default), step, exp, inv, multistep, poly, sigmoid
  --gamma X --power X --stepsize N --stepvalue N (repeat) --max-iter N
  --warmup N              linear warm-up over the first N iterations
Progress and snapshots:
  --display N             print progress every N iterations (default: once per epoch)
  --snapshot N            write a snapshot every N iterations (atomically)
  --snapshot-prefix P     snapshots are P_iter_<k>.snapshot (default: the --save path)
  --resume FILE           continue from a snapshot, exactly where it stopped
  --stop-after N          stop after iteration N (as a killed run would)
  --save OUT.onnx         write the trained model (atomically); runs with `nncc run`
  --threads N             worker threads
  -O0 .. -O3, --print-after-all, --print-after=PASS, --dump-dir=DIR, --time-passes

Example:
  nncc train mlp.onnx --data ../shared/data/digits.csv.gz --scale 0.0625 \
      --solver momentum --lr 0.1 --batch 64 --epochs 30 --seed 1 --save trained.onnx
)";

namespace {

bool number(const Args &args, const char *name, double &v, std::string &error) {
  if (!args.has(name))
    return true;
  std::string s = args.get(name);
  char *end = nullptr;
  v = std::strtod(s.c_str(), &end);
  if (s.empty() || *end || !std::isfinite(v)) {
    error = std::string("--") + name + " takes a number, got '" + s + "'";
    return false;
  }
  return true;
}

bool integer(const Args &args, const char *name, int64_t &v, int64_t min, std::string &error) {
  if (!args.has(name))
    return true;
  std::string s = args.get(name);
  char *end = nullptr;
  long long n = std::strtoll(s.c_str(), &end, 10);
  if (s.empty() || *end || n < min) {
    error = std::string("--") + name + " takes an integer >= " + std::to_string(min) + ", got '" + s + "'";
    return false;
  }
  v = n;
  return true;
}

const char kSnapshotMagic[] = "NNCC-SNAPSHOT-1\n";

void putI64(std::string &out, int64_t v) { out.append(reinterpret_cast<const char *>(&v), sizeof v); }
bool getI64(const std::string &in, size_t &at, int64_t &v) {
  if (at + sizeof v > in.size())
    return false;
  std::memcpy(&v, in.data() + at, sizeof v);
  at += sizeof v;
  return true;
}

/// Snapshot: magic, iteration, the smoothed-loss window, then every
/// parameter and solver state tensor (byte size, bytes).
bool writeSnapshot(const std::string &path, int64_t iter, const std::deque<float> &window, TrainingSession &s,
                   std::string &error) {
  std::string out = kSnapshotMagic;
  putI64(out, iter);
  putI64(out, (int64_t)window.size());
  for (float f : window)
    out.append(reinterpret_cast<const char *>(&f), sizeof f);
  putI64(out, (int64_t)(s.params().size() + s.state().size()));
  for (auto *list : {&s.params(), &s.state()})
    for (const Tensor &t : *list) {
      putI64(out, (int64_t)t.byteSize());
      out.append(static_cast<const char *>(t.data()), t.byteSize());
    }
  return writeFileAtomic(path, out, error);
}

bool readSnapshot(const std::string &path, int64_t &iter, std::deque<float> &window, TrainingSession &s,
                  std::string &error) {
  std::string in;
  if (!readFile(path, in, error))
    return false;
  size_t at = sizeof kSnapshotMagic - 1;
  auto bad = [&](const std::string &why) {
    error = "'" + path + "' is not a usable snapshot of this model: " + why;
    return false;
  };
  if (in.compare(0, at, kSnapshotMagic) != 0)
    return bad("wrong magic");
  int64_t n = 0;
  if (!getI64(in, at, iter) || !getI64(in, at, n) || n < 0 || n > 100000)
    return bad("truncated header");
  window.clear();
  for (int64_t k = 0; k < n; ++k) {
    float f;
    if (at + sizeof f > in.size())
      return bad("truncated");
    std::memcpy(&f, in.data() + at, sizeof f);
    at += sizeof f;
    window.push_back(f);
  }
  int64_t count = 0;
  if (!getI64(in, at, count) || count != (int64_t)(s.params().size() + s.state().size()))
    return bad("it holds a different number of tensors (another model or solver?)");
  for (auto *list : {&s.params(), &s.state()})
    for (Tensor &t : *list) {
      int64_t bytes = 0;
      if (!getI64(in, at, bytes) || bytes != (int64_t)t.byteSize() || at + bytes > in.size())
        return bad("a tensor's size differs or the file is truncated");
      std::memcpy(t.data(), in.data() + at, bytes);
      at += bytes;
    }
  s.setStepsTaken(iter);
  return true;
}

} // namespace

int trainCommand(int argc, char **argv) {
  std::set<std::string> valued = kCompileValued, flags = kCompileFlags;
  valued.insert({"data", "label-column", "scale", "holdout", "loss", "batch", "epochs", "seed", "solver", "lr",
                 "momentum", "beta2", "rms-decay", "eps", "weight-decay", "clip-norm", "lr-policy", "gamma",
                 "power", "stepsize", "stepvalue", "max-iter", "warmup", "display", "snapshot", "snapshot-prefix",
                 "resume", "stop-after", "save", "threads", "rnn-memory"});
  flags.insert({"help", "l1"});
  Args args(valued, flags);
  std::string error;
  if (!args.parse(argc, argv, 2, error)) {
    std::fprintf(stderr, "nncc train: %s\n(run `nncc train --help` for usage)\n", error.c_str());
    return 2;
  }
  if (args.has("help")) {
    std::printf("%s", kTrainHelp);
    return 0;
  }
  if (args.positional().size() != 1 || !args.has("data")) {
    std::fprintf(stderr, "nncc train: expected MODEL and --data FILE\n\n%s", kTrainHelp);
    return 2;
  }
  TrainStepOptions opt;
  LrPolicy policy;
  double scale = 1.0, holdout = 0.2;
  int64_t epochs = 10, seed = 1, display = 0, snapshotEvery = 0, stopAfter = -1, labelColumn = -1;
  opt.loss = args.get("loss", opt.loss);
  opt.solver.solver = args.get("solver", "sgd");
  policy.policy = args.get("lr-policy", "fixed");
  if (!compileOptionsFrom(args, opt.compile, error) || !threadsFrom(args, error) ||
      !number(args, "scale", scale, error) || !number(args, "holdout", holdout, error) ||
      !integer(args, "batch", opt.batch, 1, error) || !integer(args, "epochs", epochs, 0, error) ||
      !integer(args, "seed", seed, 0, error) || !number(args, "lr", policy.base, error) ||
      !number(args, "momentum", opt.solver.momentum, error) || !number(args, "beta2", opt.solver.beta2, error) ||
      !number(args, "rms-decay", opt.solver.rmsDecay, error) || !number(args, "eps", opt.solver.eps, error) ||
      !number(args, "weight-decay", opt.solver.weightDecay, error) ||
      !number(args, "clip-norm", opt.solver.clipNorm, error) || !number(args, "gamma", policy.gamma, error) ||
      !number(args, "power", policy.power, error) || !integer(args, "stepsize", policy.stepSize, 1, error) ||
      !integer(args, "max-iter", policy.maxIter, 0, error) || !integer(args, "warmup", policy.warmup, 0, error) ||
      !integer(args, "display", display, 1, error) || !integer(args, "snapshot", snapshotEvery, 1, error) ||
      !integer(args, "stop-after", stopAfter, 0, error) || !rnnMemoryFrom(args, opt, error))
    return fail(error);
  opt.solver.l1 = args.has("l1");
  for (const std::string &v : args.all("stepvalue")) {
    char *end = nullptr;
    long long n = std::strtoll(v.c_str(), &end, 10);
    if (v.empty() || *end || n < 0)
      return fail("--stepvalue takes an iteration number, got '" + v + "'");
    policy.stepValues.push_back(n);
  }
  if (!validPolicy(policy.policy))
    return fail("unknown --lr-policy '" + policy.policy + "'; use fixed, step, exp, inv, multistep, poly or sigmoid");
  if (!(holdout >= 0 && holdout < 1))
    return fail("--holdout takes a fraction in [0, 1), got " + args.get("holdout"));
  if (args.has("label-column") && args.get("label-column") != "last") {
    int64_t k = 0;
    if (!integer(args, "label-column", k, 1, error))
      return fail(error);
    labelColumn = k - 1;
  }

  onnx::ModelProto model;
  if (!loadOnnxModel(args.positional()[0], model, error))
    return fail(error);
  Dataset data;
  if (!loadCsv(args.get("data"), labelColumn, data, error))
    return fail(error);

  auto t0 = std::chrono::steady_clock::now();
  auto session = TrainingSession::create(model, opt, error);
  if (!session)
    return fail(error);
  // Rows of a table, shuffled: nothing to carry from one batch to the next.
  if (!session->carried().empty())
    return fail("the model's input '" + session->carriedSignatures()[0].name +
                "' is a recurrent state its outputs hand back (truncated BPTT over consecutive chunks of a "
                "sequence), which `nncc train` on shuffled rows of a table does not do; train it with the C++ "
                "Trainer (docs/cpp-api.md) or time it with `nncc bench --train`");
  if (!session->given().empty())
    return fail("the model's input '" + session->givenSignatures()[0].name +
                "' is given for each batch beside the features (sequence lengths, a mask), which a table's rows "
                "do not hold; train it with the C++ Trainer (Trainer::givenInputs, docs/cpp-api.md) or time it "
                "with `nncc bench --train --input ...`");
  int64_t features = 1;
  for (size_t d = 1; d < session->input().shape.size(); ++d)
    features *= session->input().shape[d];
  if (features != data.features)
    return fail("the model's input '" + session->input().name + "' takes " + std::to_string(features) +
                " features per row, the data has " + std::to_string(data.features) + " (besides the label)");
  bool classify = opt.loss == "softmax_cross_entropy";
  int64_t classes = session->output().shape.size() == 2 ? session->output().shape[1] : 1;
  int64_t labelWidth = classify ? 1 : classes;
  if (!classify && labelWidth != 1)
    return fail("--loss " + opt.loss + " needs a model with one output per row; this one has " +
                std::to_string(labelWidth));
  for (int64_t r = 0; r < data.rows; ++r)
    if (classify && (data.y[r] != std::floor(data.y[r]) || data.y[r] < 0 || data.y[r] >= (double)classes))
      return fail("'" + args.get("data") + "' line " + std::to_string(data.line[r]) + ": label " +
                  std::to_string(data.y[r]) + " is not a class index in [0, " + std::to_string(classes) +
                  ") (the model has " + std::to_string(classes) + " outputs)");
  std::printf("compiled the training step of %s in %.2f s: %zu parameters, backward through %zu ops\n",
              args.positional()[0].c_str(),
              std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count(),
              session->params().size(), session->backwardOps().size());

  // The split: a seeded shuffle, the last `holdout` part held out.
  std::vector<int64_t> order(data.rows);
  for (int64_t r = 0; r < data.rows; ++r)
    order[r] = r;
  std::mt19937_64 splitRng((uint64_t)seed);
  std::shuffle(order.begin(), order.end(), splitRng);
  int64_t heldOut = (int64_t)std::llround(holdout * (double)data.rows);
  std::vector<int64_t> train(order.begin(), order.end() - heldOut), test(order.end() - heldOut, order.end());
  int64_t perEpoch = (int64_t)train.size() / opt.batch;
  if (perEpoch == 0)
    return fail("the training part has " + std::to_string(train.size()) + " rows, fewer than one batch of " +
                std::to_string(opt.batch));
  int64_t total = perEpoch * epochs;
  if (policy.maxIter == 0)
    policy.maxIter = total;
  if (display == 0)
    display = perEpoch;

  auto fill = [&](const std::vector<int64_t> &rows, int64_t first, Tensor &x, Tensor &y) {
    float *xp = x.data<float>();
    for (int64_t k = 0; k < opt.batch; ++k) {
      bool valid = first + k < (int64_t)rows.size();
      int64_t r = valid ? rows[first + k] : 0;
      for (int64_t f = 0; f < features; ++f)
        xp[k * features + f] = valid ? data.x[r * features + f] * (float)scale : 0.f;
      if (classify)
        y.data<int64_t>()[k] = valid ? (int64_t)data.y[r] : 0;
      else
        y.data<float>()[k] = valid ? (float)data.y[r] : 0.f;
    }
  };

  int64_t iter = 0;
  std::deque<float> window; // Caffe's average_loss over the last 20
  if (args.has("resume")) {
    if (!readSnapshot(args.get("resume"), iter, window, *session, error))
      return fail(error);
    std::printf("resumed from %s at iteration %lld\n", args.get("resume").c_str(), (long long)iter);
  }
  std::string prefix = args.get("snapshot-prefix", args.has("save") ? args.get("save") : args.positional()[0]);
  Tensor x(DType::Float32, session->input().shape), y(session->labels().dtype, session->labels().shape);
  std::vector<int64_t> perm;
  int64_t permEpoch = -1;
  auto tick = std::chrono::steady_clock::now();
  int64_t tickIter = iter;
  while (iter < total && (stopAfter < 0 || iter < stopAfter)) {
    int64_t epoch = iter / perEpoch;
    if (epoch != permEpoch) { // each epoch's order depends on (seed, epoch) only: resumable
      perm = train;
      std::mt19937_64 rng((uint64_t)seed * 1000003ull + (uint64_t)epoch);
      std::shuffle(perm.begin(), perm.end(), rng);
      permEpoch = epoch;
    }
    fill(perm, (iter % perEpoch) * opt.batch, x, y);
    double lr = policy.at(iter);
    float loss = 0;
    if (!session->step(x, y, lr, loss, error))
      return fail(error);
    if (!std::isfinite(loss))
      return fail("the loss became " + std::to_string(loss) + " at iteration " + std::to_string(iter + 1) +
                  "; lower --lr or add --clip-norm");
    window.push_back(loss);
    if (window.size() > 20)
      window.pop_front();
    ++iter;
    if (iter % display == 0 || iter == total) {
      double smoothed = 0;
      for (float l : window)
        smoothed += l;
      smoothed /= (double)window.size();
      auto now = std::chrono::steady_clock::now();
      double secs = std::chrono::duration<double>(now - tick).count();
      std::printf("iter %lld  epoch %.2f  loss %.5f  lr %.6g  %.0f samples/s\n", (long long)iter,
                  (double)iter / (double)perEpoch, smoothed, lr,
                  secs > 0 ? (double)(iter - tickIter) * (double)opt.batch / secs : 0.0);
      std::fflush(stdout);
      tick = now;
      tickIter = iter;
    }
    if (snapshotEvery > 0 && iter % snapshotEvery == 0) {
      std::string path = prefix + "_iter_" + std::to_string(iter) + ".snapshot";
      if (!writeSnapshot(path, iter, window, *session, error))
        return fail(error);
      std::printf("snapshot %s\n", path.c_str());
    }
  }
  if (stopAfter >= 0 && iter < total) {
    std::printf("stopped after iteration %lld of %lld\n", (long long)iter, (long long)total);
    return 0;
  }
  if (args.has("save")) {
    if (!saveOnnxWithParams(model, session->paramNames(), session->params(), args.get("save"), error))
      return fail(error);
    std::printf("saved %s\n", args.get("save").c_str());
  }
  // Held-out evaluation, a batch at a time (the last one padded).
  if (test.empty()) {
    std::printf("no held-out rows (--holdout 0)\n");
    return 0;
  }
  int64_t correct = 0;
  double lossSum = 0;
  for (int64_t first = 0; first < (int64_t)test.size(); first += opt.batch) {
    fill(test, first, x, y);
    Tensor out;
    if (!session->predict(x, out, error))
      return fail(error);
    const float *o = out.data<float>();
    for (int64_t k = 0; k < opt.batch && first + k < (int64_t)test.size(); ++k) {
      if (classify) {
        int64_t best = std::max_element(o + k * classes, o + (k + 1) * classes) - (o + k * classes);
        correct += best == y.data<int64_t>()[k];
      } else {
        double d = o[k] - y.data<float>()[k];
        lossSum += d * d;
      }
    }
  }
  if (classify)
    std::printf("accuracy=%.4f\n", (double)correct / (double)test.size());
  else
    std::printf("mse=%.6g\n", lossSum / (double)test.size());
  return 0;
}

} // namespace nncc
