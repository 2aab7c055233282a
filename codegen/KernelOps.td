//===- KernelOps.td - calls into the runtime kernel library -*- tablegen -*-===//
//
// The nnk dialect has one op: a call to a kernel of the runtime library
// (runtime/kernels). Every kernel has the C signature
//   void kernel(const int64_t *meta, void *buffer0, void *buffer1, ...);
// `meta` encodes the shapes, element types and attributes the kernel needs
// (written by codegen/KernelCall.h, read by runtime/kernels/Meta.h). This is
// the kernel ABI: a backend may bind a name to generated code, the portable
// C++ kernels, or a vendor library (oneDNN, cuDNN).
//
//===----------------------------------------------------------------------===//
#ifndef NNCC_CODEGEN_KERNELOPS_TD
#define NNCC_CODEGEN_KERNELOPS_TD

include "mlir/IR/OpBase.td"

def NNK_Dialect : Dialect {
  let name = "nnk";
  let cppNamespace = "::nncc::nnk";
  let summary = "Calls to the nncc runtime kernel library.";
  let emitAccessorPrefix = kEmitAccessorPrefix_Prefixed;
}

def NNK_CallOp : Op<NNK_Dialect, "call"> {
  let summary = "Call `kernel(meta, buffers...)` of the runtime library.";
  let arguments = (ins StrAttr:$kernel, Variadic<AnyMemRef>:$buffers, I64ArrayAttr:$meta);
  let assemblyFormat = "$kernel `(` $buffers `)` attr-dict `:` type($buffers)";
}

def NNK_ParallelForOp : Op<NNK_Dialect, "parallel_for"> {
  let summary = "Run `body(buffers..., begin, end)` over [0, count) split across threads.";
  let description = [{
    `body` is a function of the module taking the buffers (identity-layout
    memrefs) and two indices; chunks [begin, end) of [0, count) are
    independent. Lowers to `nncc_parallel_for(thunk, buffers, count, cost)`
    of the runtime, `cost` being the rough work of one index (to decide
    whether threads are worth starting).
  }];
  let arguments = (ins FlatSymbolRefAttr:$body, Variadic<AnyMemRef>:$buffers, I64Attr:$count, I64Attr:$cost);
  let assemblyFormat = "$body `(` $buffers `)` attr-dict `:` type($buffers)";
}

#endif
