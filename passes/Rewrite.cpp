//===- Rewrite.cpp --------------------------------------------------------===//
#include "passes/Rewrite.h"

#include "ir/ConstFold.h"

#include "mlir/IR/Matchers.h"
#include "mlir/Interfaces/InferTypeOpInterface.h"

#include <algorithm>

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

Operation *replaceWithKind(Operation *op, StringRef name, TypeRange types, ArrayRef<NamedAttribute> extra) {
  OpBuilder b(op);
  OperationState state(op->getLoc(), name);
  state.addOperands(op->getOperands());
  state.addAttributes(op->getAttrs()); // the source name too, for messages and profiles
  state.addAttributes(extra);
  state.addTypes(types);
  Operation *n = b.create(state);
  for (unsigned k = 0; k < std::min(op->getNumResults(), n->getNumResults()); ++k)
    op->getResult(k).replaceAllUsesWith(n->getResult(k));
  op->erase();
  return n;
}

Value newFrozenParam(OpBuilder &b, Location loc, StringRef base, RankedTensorType type, std::vector<uint8_t> bytes) {
  auto &store = b.getContext()->getLoadedDialect<nn::NNDialect>()->getWeightStore();
  std::string name = store.uniqueName(base);
  store.set(name, std::move(bytes));
  return b.create<nn::ParamOp>(loc, type, b.getStringAttr(name), b.getUnitAttr());
}

Value reshapeTo(OpBuilder &b, Location loc, Value v, ArrayRef<int64_t> shape) {
  if (v.getType().cast<RankedTensorType>().getShape() == shape)
    return v;
  return b.create<nn::ReshapeOp>(loc, v, b.getI64ArrayAttr(shape), b.getBoolAttr(true));
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
