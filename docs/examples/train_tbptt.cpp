// Trains a stateful LSTM language model by truncated backpropagation
// through time with the nncc C++ API. Built and run by the tests
// (docs_example_train_tbptt) with the model of
// test/train/export_lstm_lm_states.py: tokens [20, 8] and the LSTM's
// initial states h0, c0 in; logits [20, 8, 16] and the final states out.
//
//   train_tbptt MODEL.onnx
//
// Each of the 8 lanes is an endless stream of symbols in which the next
// one is the sum of the two before it (mod 16). The stream is cut into
// chunks of 20 steps; each training step takes the next chunk and starts
// from the LSTM states the previous step ended with (the trainer carries
// them: trainer->carriedStates()), so the first steps of a chunk still
// know the end of the one before. No gradient flows across chunks. For
// comparison, a second run resets the states to zeros before every chunk.
#include "driver/nncc.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <random>
#include <vector>

/// Trains a fresh model for 300 chunks; returns the mean loss of the last
/// 50 (or -1 after an error). `carry`: each chunk starts from the states
/// the previous one ended with; otherwise from zeros.
static float train(const char *model, bool carry) {
  std::string error;
  nncc::TrainOptions options;
  options.solver = "adam";
  options.loss = "softmax_cross_entropy"; // labels: the next symbol of every step
  auto trainer = nncc::Trainer::fromOnnxFile(model, options, error);
  if (!trainer) {
    std::fprintf(stderr, "error: %s\n", error.c_str());
    return -1;
  }
  const int64_t steps = trainer->input().shape[0], lanes = trainer->input().shape[1];
  const int64_t symbols = trainer->output().shape[2];
  // The streams: two random symbols per lane, then s[t] = s[t-1] + s[t-2].
  std::mt19937 rng(3);
  std::vector<int64_t> prev(lanes), last(lanes);
  for (int64_t b = 0; b < lanes; ++b) {
    prev[b] = rng() % symbols;
    last[b] = rng() % symbols;
  }
  auto next = [&](int64_t b) {
    int64_t s = (prev[b] + last[b]) % symbols;
    prev[b] = last[b];
    last[b] = s;
    return s;
  };
  // tokens[t] predicts labels[t] = tokens[t + 1]; the next chunk starts
  // where this one's labels end.
  nncc::Tensor tokens(nncc::DType::Int64, {steps, lanes}), labels(nncc::DType::Int64, {steps, lanes});
  std::vector<int64_t> current(lanes);
  for (int64_t b = 0; b < lanes; ++b)
    current[b] = next(b);
  float loss = 0, recent = 0;
  for (int step = 0; step < 300; ++step) {
    for (int64_t t = 0; t < steps; ++t)
      for (int64_t b = 0; b < lanes; ++b) {
        tokens.data<int64_t>()[t * lanes + b] = current[b];
        current[b] = next(b);
        labels.data<int64_t>()[t * lanes + b] = current[b];
      }
    if (!carry) // (what a model without carried states sees)
      for (nncc::Tensor &state : trainer->carriedStates())
        std::fill(state.data<float>(), state.data<float>() + state.numElements(), 0.f);
    if (!trainer->step(tokens, labels, /*lr=*/0.01, loss, error)) {
      std::fprintf(stderr, "error: %s\n", error.c_str());
      return -1;
    }
    if (step % 100 == 0)
      std::printf("  step %d loss %.4f\n", step, loss);
    if (step >= 250)
      recent += loss / 50;
  }
  return recent;
}

int main(int argc, char **argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s MODEL.onnx\n", argv[0]);
    return 2;
  }
  std::printf("truncated BPTT, states carried from chunk to chunk:\n");
  float carried = train(argv[1], true);
  std::printf("the same, states reset to zeros before every chunk:\n");
  float reset = train(argv[1], false);
  if (carried < 0 || reset < 0)
    return 1;
  // A chunk's first symbol depends on the symbol before it, in the
  // previous chunk: only the carried states hold it.
  std::printf("mean loss of the last 50 chunks: %.4f carried, %.4f reset\n", carried, reset);
  return carried < 0.25f * reset ? 0 : 1;
}
