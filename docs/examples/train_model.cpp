// Trains a classifier with the nncc C++ API on synthetic data: two Gaussian
// blobs per class in 64 dimensions. Built and run by the tests
// (docs_example_train_model) with the digits MLP of
// test/train/export_digits_mlp.py.
//
//   train_model MODEL.onnx OUT.onnx
#include "driver/nncc.h"

#include <cstdio>
#include <random>

int main(int argc, char **argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: %s MODEL.onnx OUT.onnx\n", argv[0]);
    return 2;
  }
  std::string error;
  nncc::TrainOptions options;
  options.solver = "momentum";
  options.batch = 32;
  auto trainer = nncc::Trainer::fromOnnxFile(argv[1], options, error);
  if (!trainer) {
    std::fprintf(stderr, "error: %s\n", error.c_str());
    return 1;
  }
  const int64_t features = trainer->input().shape[1], classes = trainer->output().shape[1];
  std::mt19937 rng(5);
  std::normal_distribution<float> noise(0.f, 1.f);
  // Class c: mean +2 on feature c, noise elsewhere.
  auto batch = [&](nncc::Tensor &x, nncc::Tensor &y) {
    for (int64_t i = 0; i < options.batch; ++i) {
      int64_t c = (int64_t)(rng() % classes);
      y.data<int64_t>()[i] = c;
      for (int64_t f = 0; f < features; ++f)
        x.data<float>()[i * features + f] = noise(rng) * 0.5f + (f == c ? 2.f : 0.f);
    }
  };
  nncc::Tensor x(nncc::DType::Float32, {options.batch, features}), y(nncc::DType::Int64, {options.batch});
  float loss = 0;
  for (int step = 0; step < 200; ++step) {
    batch(x, y);
    if (!trainer->step(x, y, /*lr=*/0.05, loss, error)) {
      std::fprintf(stderr, "error: %s\n", error.c_str());
      return 1;
    }
    if (step % 50 == 0)
      std::printf("step %d loss %.4f\n", step, loss);
  }
  // Accuracy on fresh batches.
  int64_t correct = 0, total = 0;
  for (int k = 0; k < 10; ++k) {
    batch(x, y);
    nncc::Tensor out;
    if (!trainer->predict(x, out, error)) {
      std::fprintf(stderr, "error: %s\n", error.c_str());
      return 1;
    }
    for (int64_t i = 0; i < options.batch; ++i, ++total) {
      const float *row = out.data<float>() + i * classes;
      int64_t best = 0;
      for (int64_t c = 1; c < classes; ++c)
        if (row[c] > row[best])
          best = c;
      correct += best == y.data<int64_t>()[i];
    }
  }
  std::printf("final loss %.4f, accuracy %.3f on fresh data\n", loss, (double)correct / (double)total);
  if (!trainer->save(argv[2], error)) {
    std::fprintf(stderr, "error: %s\n", error.c_str());
    return 1;
  }
  return correct * 10 >= total * 9 ? 0 : 1; // >= 90%
}
