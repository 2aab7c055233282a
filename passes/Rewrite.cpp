//===- Rewrite.cpp --------------------------------------------------------===//
#include "passes/Rewrite.h"

#include "ir/ConstFold.h"

#include "mlir/IR/Matchers.h"
#include "mlir/Interfaces/InferTypeOpInterface.h"

using namespace mlir;

namespace nncc {

Operation *cloneWithOperands(PatternRewriter &b, Operation *op, ValueRange operands) {
  auto iface = dyn_cast<InferTypeOpInterface>(op);
  if (!iface)
    return nullptr;
  SmallVector<Type> types;
  if (failed(iface.inferReturnTypes(op->getContext(), op->getLoc(), operands, op->getAttrDictionary(),
                                    op->getRegions(), types)))
    return nullptr;
  OperationState state(op->getLoc(), op->getName());
  state.addOperands(operands);
  state.addAttributes(op->getAttrs());
  state.addTypes(types);
  return b.create(state);
}

bool scalarConstant(Value v, double &out) {
  Attribute attr;
  if (!matchPattern(v, m_Constant(&attr)))
    return false;
  auto c = nn::readConst(attr);
  if (!c || c->size() != 1)
    return false;
  out = c->asDouble(0);
  return true;
}

} // namespace nncc
