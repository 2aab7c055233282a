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

static bool isF32OrF64(Type t) {
  Type e = t.cast<ShapedType>().getElementType();
  return e.isF32() || e.isF64();
}

bool nncc::nn::hasSoftmaxKernel(Operation *op) {
  return isa<SoftmaxOp, LogSoftmaxOp>(op) && isF32OrF64(op->getResult(0).getType());
}

bool nncc::nn::hasLayerNormKernel(Operation *op) {
  auto ln = dyn_cast<LayerNormOp>(op);
  if (!ln || !isF32OrF64(ln.getX().getType()))
    return false;
  auto x = ln.getX().getType().cast<RankedTensorType>();
  int64_t len = 1;
  for (int64_t d = ln.getAxis(); d < x.getRank(); ++d)
    len *= x.getDimSize(d);
  auto fits = [&](Value v) {
    if (!v)
      return true;
    auto t = v.getType().cast<RankedTensorType>();
    return t.getElementType() == x.getElementType() && (t.getNumElements() == 1 || t.getNumElements() == len);
  };
  return fits(ln.getScale()) && fits(ln.getBias());
}

std::string nncc::nn::sourceName(Operation *op) {
  Location loc = op->getLoc();
  if (auto fused = loc.dyn_cast<FusedLoc>()) {
    for (Location l : fused.getLocations())
      if (auto n = l.dyn_cast<NameLoc>())
        return n.getName().str() + (fused.getLocations().size() > 1 ? " (+" + std::to_string(fused.getLocations().size() - 1) + ")" : "");
    return "";
  }
  if (auto n = loc.dyn_cast<NameLoc>())
    return n.getName().str();
  return "";
}

bool nncc::nn::isElementwise(Operation *op) {
  return op->hasTrait<OpTrait::Elementwise>();
}
