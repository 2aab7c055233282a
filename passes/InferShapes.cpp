//===- InferShapes.cpp - recompute result types from the arguments --------===//
#include "passes/Passes.h"

#include "mlir/IR/BuiltinTypes.h"
#include "mlir/Interfaces/InferTypeOpInterface.h"
#include "llvm/ADT/StringExtras.h"

using namespace mlir;

namespace nncc {
namespace {
#define GEN_PASS_CLASSES
#include "passes/Passes.h.inc"

struct InferShapesPass : InferShapesBase<InferShapesPass> {
  void runOnOperation() override {
    func::FuncOp func = getOperation();
    if (func.isExternal())
      return;
    Block &entry = func.getBody().front();
    for (auto it : llvm::enumerate(inputShapes)) {
      if (it.value().empty() || it.index() >= entry.getNumArguments())
        continue;
      SmallVector<int64_t> shape;
      SmallVector<StringRef> dims;
      StringRef(it.value()).split(dims, 'x');
      for (StringRef d : dims) {
        int64_t v;
        if (d.getAsInteger(10, v)) {
          func.emitError("input-shapes: '") << it.value() << "' is not a shape like 1x3x224x224";
          return signalPassFailure();
        }
        shape.push_back(v);
      }
      BlockArgument arg = entry.getArgument(it.index());
      auto old = arg.getType().cast<RankedTensorType>();
      arg.setType(RankedTensorType::get(shape, old.getElementType()));
    }
    WalkResult r = func.walk([&](Operation *op) {
      auto iface = dyn_cast<InferTypeOpInterface>(op);
      if (!iface)
        return WalkResult::advance();
      SmallVector<Type> types;
      if (failed(iface.inferReturnTypes(op->getContext(), op->getLoc(), op->getOperands(),
                                        op->getAttrDictionary(), op->getRegions(), types)))
        return WalkResult::interrupt();
      for (auto [res, t] : llvm::zip(op->getResults(), types))
        res.setType(t);
      return WalkResult::advance();
    });
    if (r.wasInterrupted())
      return signalPassFailure();
    auto ret = entry.getTerminator();
    func.setType(FunctionType::get(func.getContext(), entry.getArgumentTypes(), ret->getOperandTypes()));
  }
};
} // namespace

std::unique_ptr<Pass> createInferShapesPass() { return std::make_unique<InferShapesPass>(); }

} // namespace nncc
