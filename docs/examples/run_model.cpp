// Compile an ONNX model for this machine and run it on one input, with the
// nncc C++ API. Built and run by the tests (docs/CMakeLists.txt).
//
//   example_run_model MODEL.onnx INPUT.pb
#include "driver/nncc.h"

#include <cstdio>

int main(int argc, char **argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: %s MODEL.onnx INPUT.pb\n", argv[0]);
    return 2;
  }
  std::string error;
  auto model = nncc::CompiledModel::fromOnnxFile(argv[1], error);
  if (!model) {
    std::fprintf(stderr, "compile failed: %s\n", error.c_str());
    return 1;
  }
  nncc::Tensor input;
  if (!nncc::readTensor(argv[2], input, error)) {
    std::fprintf(stderr, "%s\n", error.c_str());
    return 1;
  }
  std::vector<nncc::Tensor> outputs;
  if (!model->run({input}, outputs, error)) {
    std::fprintf(stderr, "run failed: %s\n", error.c_str());
    return 1;
  }
  for (size_t k = 0; k < outputs.size(); ++k)
    std::printf("output %zu (%s): %s, first value %g\n", k, model->outputs()[k].name.c_str(),
                outputs[k].describe().c_str(), outputs[k].elementAsDouble(0));
  return 0;
}
