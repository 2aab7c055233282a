//===- NNBase.td - the nn dialect and its base classes -----*- tablegen -*-===//
//
// The nn dialect: graph-level tensor operations with ONNX semantics. Values are
// ranked tensors; once the graph inputs are known every value has a static
// shape. Shape-determining operands of ONNX (Reshape's shape, Slice's starts,
// Pad's pads, ...) are attributes here: the frontend folds them to constants.
//
//===----------------------------------------------------------------------===//
#ifndef NNCC_IR_NNBASE_TD
#define NNCC_IR_NNBASE_TD

include "mlir/IR/OpBase.td"
include "mlir/IR/AttrTypeBase.td"
include "mlir/Interfaces/SideEffectInterfaces.td"
include "mlir/Interfaces/InferTypeOpInterface.td"

def NN_Dialect : Dialect {
  let name = "nn";
  let cppNamespace = "::nncc::nn";
  let summary = "Graph-level tensor operations with ONNX semantics.";
  let description = [{
    Operations follow the ONNX operator semantics (multidirectional
    broadcasting, attribute defaults) with shape-determining operands turned
    into attributes, so that shape inference is local to each op.
    Large constants (weights) live outside the IR in the dialect's weight
    store and are referenced by `nn.param`.
  }];
  let hasConstantMaterializer = 1;
  let emitAccessorPrefix = kEmitAccessorPrefix_Prefixed;
  let extraClassDeclaration = [{
    /// The store that holds the data of every `nn.param` in this context.
    WeightStore &getWeightStore();
  private:
    std::unique_ptr<WeightStore> weightStore;
  public:
  }];
}

class NN_Op<string mnemonic, list<Trait> traits = []>
    : Op<NN_Dialect, mnemonic, traits>;

// Tensor element-type classes used by verifiers.
def NN_FloatTensor : RankedTensorOf<[AnyFloat]>;
def NN_IntTensor : RankedTensorOf<[AnyInteger]>;
def NN_BoolTensor : RankedTensorOf<[I1]>;
def NN_IndexTensor : RankedTensorOf<[I32, I64]>;
def NN_AnyTensor : RankedTensorOf<[AnyType]>;

def NN_F32ArrayAttr : TypedArrayAttrBase<F32Attr, "32-bit float array attribute">;

/// Ops whose every output element depends only on the same element (after
/// broadcasting) of each operand. Fusion groups them.
def NN_Elementwise : NativeOpTrait<"Elementwise"> {
  let cppNamespace = "::nncc::nn::OpTrait";
}

// Shape inference hook shared by every op: a static function defined in C++.
defvar NN_InferType = DeclareOpInterfaceMethods<InferTypeOpInterface>;

#endif // NNCC_IR_NNBASE_TD
