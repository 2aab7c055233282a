// Build a 2-layer LSTM with an attention step in C++ (no model file), compile
// it and run it. Built and run by the tests (docs/CMakeLists.txt).
//
//   example_build_lstm
#include "driver/nncc.h"
#include "frontend/builder/Cells.h"

#include <cmath>
#include <cstdio>

// A weight of the given shape with small deterministic values.
static nncc::Tensor weight(std::vector<int64_t> shape, float scale) {
  nncc::Tensor t(nncc::DType::Float32, shape);
  for (int64_t k = 0; k < t.numElements(); ++k)
    t.data<float>()[k] = scale * std::sin(0.37f * (float)k);
  return t;
}

int main() {
  const int64_t T = 20, B = 4, I = 16, H = 32;
  nncc::GraphBuilder g;
  auto x = g.input("x", {T, B, I});
  std::vector<nncc::cells::LSTMWeights> layers;
  for (int l = 0; l < 2; ++l) {
    std::string p = "lstm" + std::to_string(l);
    layers.push_back({g.weight(p + ".w", weight({l == 0 ? I : H, 4 * H}, 0.2f)),
                      g.weight(p + ".r", weight({H, 4 * H}, 0.2f)), g.weight(p + ".b", weight({4 * H}, 0.1f))});
  }
  // Every step is a cell in the graph: one recurrent matmul, its pointwise math.
  auto states = nncc::cells::stackedLSTM(g, x, layers); // [T, B, H]
  // Attend over the states with the last one as the query.
  auto keys = nncc::cells::projectKeys(g, states, g.weight("att.wk", weight({H, 8}, 0.3f)));
  auto query = g.reshape(g.slice(states, 0, T - 1, T), {B, H});
  auto context = nncc::cells::attend(g, keys, states, query, g.weight("att.wq", weight({H, 8}, 0.3f)),
                                     g.weight("att.v", weight({8, 1}, 0.5f)));
  g.output(context, "context");

  std::string error;
  auto model = nncc::CompiledModel::fromBuilder(g, error);
  if (!model) {
    std::fprintf(stderr, "build failed: %s\n", error.c_str());
    return 1;
  }
  nncc::Tensor input = weight({T, B, I}, 1.0f);
  std::vector<nncc::Tensor> outputs;
  if (!model->run({input}, outputs, error)) {
    std::fprintf(stderr, "run failed: %s\n", error.c_str());
    return 1;
  }
  std::printf("context %s, first values %.5f %.5f %.5f; workspace %lld bytes\n", outputs[0].describe().c_str(),
              outputs[0].data<float>()[0], outputs[0].data<float>()[1], outputs[0].data<float>()[2],
              (long long)model->workspaceBytes());
  return 0;
}
