//===- NNDialect.cpp - the nn dialect -------------------------------------===//
#include "ir/NNDialect.h"
#include "ir/NNOps.h"

using namespace mlir;
using namespace nncc::nn;

#include "ir/NNOpsDialect.cpp.inc"

void NNDialect::initialize() {
  weightStore = std::make_unique<WeightStore>();
  addOperations<
#define GET_OP_LIST
#include "ir/NNOps.cpp.inc"
      >();
}

WeightStore &NNDialect::getWeightStore() { return *weightStore; }

Operation *NNDialect::materializeConstant(OpBuilder &builder, Attribute value, Type type,
                                         Location loc) {
  if (auto elements = value.dyn_cast<ElementsAttr>())
    if (elements.getType() == type)
      return builder.create<ConstantOp>(loc, type, elements);
  return nullptr;
}

bool nncc::nn::isElementwise(Operation *op) {
  return op->hasTrait<OpTrait::Elementwise>();
}
