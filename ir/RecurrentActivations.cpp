//===- RecurrentActivations.cpp - ONNX LSTM/GRU/RNN activations -----------===//
#include "ir/RecurrentActivations.h"
#include "ir/ShapeUtils.h"

#include "llvm/ADT/StringSwitch.h"

using namespace mlir;

namespace nncc {
namespace nn {

int64_t recurrentActivationCode(llvm::StringRef name) {
  return llvm::StringSwitch<int64_t>(name.lower())
      .Case("relu", 0).Case("tanh", 1).Case("sigmoid", 2).Case("affine", 3)
      .Case("leakyrelu", 4).Case("thresholdedrelu", 5).Case("scaledtanh", 6)
      .Case("hardsigmoid", 7).Case("elu", 8).Case("softsign", 9).Case("softplus", 10)
      .Default(-1);
}

llvm::SmallVector<RecurrentActivation, 6> recurrentActivations(ArrayAttr names, ArrayAttr alphas, ArrayAttr betas,
                                                               llvm::ArrayRef<llvm::StringRef> defaults,
                                                               int64_t directions) {
  auto al = toF64(alphas), be = toF64(betas);
  auto given = toStrings(names);
  if (given.empty())
    for (int64_t d = 0; d < directions; ++d)
      for (llvm::StringRef n : defaults)
        given.push_back(n.str());
  size_t ai = 0, bi = 0;
  llvm::SmallVector<RecurrentActivation, 6> out;
  for (const std::string &name : given) {
    RecurrentActivation a;
    a.code = recurrentActivationCode(name);
    int64_t c = a.code;
    bool usesAlpha = c == 3 || c == 4 || c == 5 || c == 6 || c == 7 || c == 8;
    bool usesBeta = c == 3 || c == 6 || c == 7;
    // (float, as ONNX's attributes are: the cells' ops take them so)
    double defA = (float)(c == 4 ? 0.01 : c == 7 ? 0.2 : 1.0), defB = (float)(c == 7 ? 0.5 : c == 3 ? 0.0 : 1.0);
    if (usesAlpha)
      a.alpha = ai < al.size() ? al[ai++] : defA;
    if (usesBeta)
      a.beta = bi < be.size() ? be[bi++] : defB;
    out.push_back(a);
  }
  return out;
}

} // namespace nn
} // namespace nncc
