//===- LowerToLLVM.cpp - to the LLVM dialect, kernel calls, entry points --===//
#include "codegen/KernelOps.h"
#include "codegen/Passes.h"

#include "ir/ShapeUtils.h"

#include "mlir/Conversion/ArithmeticToLLVM/ArithmeticToLLVM.h"
#include "mlir/Conversion/ControlFlowToLLVM/ControlFlowToLLVM.h"
#include "mlir/Conversion/FuncToLLVM/ConvertFuncToLLVM.h"
#include "mlir/Conversion/LLVMCommon/ConversionTarget.h"
#include "mlir/Conversion/LLVMCommon/MemRefBuilder.h"
#include "mlir/Conversion/LLVMCommon/Pattern.h"
#include "mlir/Conversion/LLVMCommon/TypeConverter.h"
#include "mlir/Conversion/MathToLLVM/MathToLLVM.h"
#include "mlir/Conversion/MemRefToLLVM/MemRefToLLVM.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/Math/Transforms/Passes.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/Transforms/DialectConversion.h"

#include <atomic>

using namespace mlir;

namespace nncc {
namespace {
#define GEN_PASS_CLASSES
#include "codegen/Passes.h.inc"

/// void *array[] = {ptr(b0), ptr(b1), ...} on the stack (each the buffer's
/// aligned pointer plus its offset); null when a layout is not strided.
Value packBuffers(ConversionPatternRewriter &rewriter, Location loc, ValueRange buffers, ValueRange converted) {
  MLIRContext *ctx = rewriter.getContext();
  Type i8 = IntegerType::get(ctx, 8), i64 = IntegerType::get(ctx, 64);
  Type i8Ptr = LLVM::LLVMPointerType::get(i8), i8PtrPtr = LLVM::LLVMPointerType::get(i8Ptr);
  unsigned n = std::max<unsigned>(1, buffers.size());
  Value count = rewriter.create<LLVM::ConstantOp>(loc, i64, rewriter.getI64IntegerAttr(n));
  Value array = rewriter.create<LLVM::AllocaOp>(loc, i8PtrPtr, count, /*alignment=*/8);
  for (auto it : llvm::enumerate(llvm::zip(buffers, converted))) {
    auto type = std::get<0>(it.value()).getType().cast<MemRefType>();
    MemRefDescriptor desc(std::get<1>(it.value()));
    Value ptr = desc.alignedPtr(rewriter, loc);
    int64_t offset;
    SmallVector<int64_t> strides;
    if (failed(getStridesAndOffset(type, strides, offset)))
      return Value();
    Value off = ShapedType::isDynamicStrideOrOffset(offset)
                    ? desc.offset(rewriter, loc)
                    : rewriter.create<LLVM::ConstantOp>(loc, i64, rewriter.getI64IntegerAttr(offset)).getResult();
    ptr = rewriter.create<LLVM::GEPOp>(loc, ptr.getType(), ptr, ValueRange{off});
    Value raw = rewriter.create<LLVM::BitcastOp>(loc, i8Ptr, ptr);
    Value idx = rewriter.create<LLVM::ConstantOp>(loc, i64, rewriter.getI64IntegerAttr(it.index()));
    Value slot = rewriter.create<LLVM::GEPOp>(loc, i8PtrPtr, array, ValueRange{idx});
    rewriter.create<LLVM::StoreOp>(loc, raw, slot);
  }
  return array;
}

/// Declares `name` of `type` in the module once.
void declareFunction(OpBuilder &b, ModuleOp module, Location loc, StringRef name, LLVM::LLVMFunctionType type) {
  if (module.lookupSymbol<LLVM::LLVMFuncOp>(name))
    return;
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPointToStart(module.getBody());
  b.create<LLVM::LLVMFuncOp>(loc, name, type);
}

/// The type of a parallel-for thunk: void (void **buffers, i64 begin, i64 end).
LLVM::LLVMFunctionType thunkType(MLIRContext *ctx) {
  Type i8PtrPtr = LLVM::LLVMPointerType::get(LLVM::LLVMPointerType::get(IntegerType::get(ctx, 8)));
  Type i64 = IntegerType::get(ctx, 64);
  return LLVM::LLVMFunctionType::get(LLVM::LLVMVoidType::get(ctx), {i8PtrPtr, i64, i64});
}

std::string thunkName(StringRef body) { return (body + "_thunk").str(); }

/// nnk.parallel_for @body(%b...) {count, cost}
///   -> nncc_parallel_for(&body_thunk, {ptr(b)...}, count, cost)
struct ParallelForLowering : ConvertOpToLLVMPattern<nnk::ParallelForOp> {
  using ConvertOpToLLVMPattern::ConvertOpToLLVMPattern;

  LogicalResult matchAndRewrite(nnk::ParallelForOp op, OpAdaptor adaptor,
                                ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    MLIRContext *ctx = op.getContext();
    auto module = op->getParentOfType<ModuleOp>();
    Type i8Ptr = LLVM::LLVMPointerType::get(IntegerType::get(ctx, 8)), i64 = IntegerType::get(ctx, 64);
    Value array = packBuffers(rewriter, loc, op.getBuffers(), adaptor.getBuffers());
    if (!array)
      return op.emitOpError("buffer with a non-strided layout");
    auto thunk = thunkType(ctx);
    Value fn = rewriter.create<LLVM::AddressOfOp>(loc, LLVM::LLVMPointerType::get(thunk), thunkName(op.getBody()));
    Value fnRaw = rewriter.create<LLVM::BitcastOp>(loc, i8Ptr, fn);
    Value count = rewriter.create<LLVM::ConstantOp>(loc, i64, op.getCountAttr());
    Value cost = rewriter.create<LLVM::ConstantOp>(loc, i64, op.getCostAttr());
    auto type = LLVM::LLVMFunctionType::get(LLVM::LLVMVoidType::get(ctx), {i8Ptr, array.getType(), i64, i64});
    declareFunction(rewriter, module, loc, "nncc_parallel_for", type);
    rewriter.create<LLVM::CallOp>(loc, TypeRange{}, SymbolRefAttr::get(ctx, "nncc_parallel_for"),
                                  ValueRange{fnRaw, array, count, cost});
    rewriter.eraseOp(op);
    return success();
  }
};

/// void body_thunk(void **buffers, i64 begin, i64 end) { body(buffers[0]..., begin, end); }
void addThunk(ModuleOp module, LLVM::LLVMFuncOp fn) {
  MLIRContext *ctx = module.getContext();
  OpBuilder b(ctx);
  b.setInsertionPointAfter(fn);
  Location loc = fn.getLoc();
  Type i8 = IntegerType::get(ctx, 8), i64 = IntegerType::get(ctx, 64);
  Type i8PtrPtr = LLVM::LLVMPointerType::get(LLVM::LLVMPointerType::get(i8));
  auto thunk = b.create<LLVM::LLVMFuncOp>(loc, thunkName(fn.getName()), thunkType(ctx));
  Block *block = thunk.addEntryBlock();
  b.setInsertionPointToStart(block);
  auto params = fn.getFunctionType().cast<LLVM::LLVMFunctionType>().getParams();
  SmallVector<Value> args;
  for (unsigned k = 0; k + 2 < params.size(); ++k) {
    Value idx = b.create<LLVM::ConstantOp>(loc, i64, b.getI64IntegerAttr(k));
    Value slot = b.create<LLVM::GEPOp>(loc, i8PtrPtr, block->getArgument(0), ValueRange{idx});
    args.push_back(b.create<LLVM::BitcastOp>(loc, params[k], b.create<LLVM::LoadOp>(loc, slot)));
  }
  args.push_back(block->getArgument(1));
  args.push_back(block->getArgument(2));
  b.create<LLVM::CallOp>(loc, fn, args);
  b.create<LLVM::ReturnOp>(loc, ValueRange{});
}

/// nnk.call "k"(%b0, %b1) {meta} -> k(&meta_global, {ptr(b0), ptr(b1)})
struct KernelCallLowering : ConvertOpToLLVMPattern<nnk::CallOp> {
  using ConvertOpToLLVMPattern::ConvertOpToLLVMPattern;

  LogicalResult matchAndRewrite(nnk::CallOp op, OpAdaptor adaptor,
                                ConversionPatternRewriter &rewriter) const override {
    static std::atomic<int> counter{0};
    Location loc = op.getLoc();
    MLIRContext *ctx = op.getContext();
    auto module = op->getParentOfType<ModuleOp>();
    Type i8 = IntegerType::get(ctx, 8), i64 = IntegerType::get(ctx, 64);
    Type i8Ptr = LLVM::LLVMPointerType::get(i8), i64Ptr = LLVM::LLVMPointerType::get(i64);
    Type i8PtrPtr = LLVM::LLVMPointerType::get(i8Ptr);

    SmallVector<int64_t> meta = nn::toI64(op.getMeta());
    if (meta.empty())
      meta.push_back(0);
    auto arrTy = LLVM::LLVMArrayType::get(i64, meta.size());
    std::string gname;
    do {
      gname = "__nnk_meta_" + std::to_string(counter++);
    } while (module.lookupSymbol(gname));
    {
      OpBuilder::InsertionGuard guard(rewriter);
      rewriter.setInsertionPointToStart(module.getBody());
      auto valueType = RankedTensorType::get({(int64_t)meta.size()}, i64);
      rewriter.create<LLVM::GlobalOp>(loc, arrTy, /*isConstant=*/true, LLVM::Linkage::Internal, gname,
                                      DenseElementsAttr::get(valueType, llvm::makeArrayRef(meta)));
    }
    Value metaAddr = rewriter.create<LLVM::AddressOfOp>(loc, LLVM::LLVMPointerType::get(arrTy), gname);
    Value metaPtr = rewriter.create<LLVM::BitcastOp>(loc, i64Ptr, metaAddr);

    Value array = packBuffers(rewriter, loc, op.getBuffers(), adaptor.getBuffers());
    if (!array)
      return op.emitOpError("buffer with a non-strided layout");

    StringRef name = op.getKernel();
    auto fnType = LLVM::LLVMFunctionType::get(LLVM::LLVMVoidType::get(ctx), {i64Ptr, i8PtrPtr});
    declareFunction(rewriter, module, loc, name, fnType);
    rewriter.create<LLVM::CallOp>(loc, TypeRange{}, SymbolRefAttr::get(ctx, name), ValueRange{metaPtr, array});
    rewriter.eraseOp(op);
    return success();
  }
};

/// int <f>_entry(void **inputs, void **outputs, void *workspace, void *weights)
void addEntryPoint(ModuleOp module, LLVM::LLVMFuncOp fn, unsigned numInputs, unsigned numOutputs) {
  MLIRContext *ctx = module.getContext();
  OpBuilder b(ctx);
  b.setInsertionPointAfter(fn);
  Location loc = fn.getLoc();
  Type i8 = IntegerType::get(ctx, 8), i32 = IntegerType::get(ctx, 32), i64 = IntegerType::get(ctx, 64);
  Type i8Ptr = LLVM::LLVMPointerType::get(i8), i8PtrPtr = LLVM::LLVMPointerType::get(i8Ptr);
  auto type = LLVM::LLVMFunctionType::get(i32, {i8PtrPtr, i8PtrPtr, i8Ptr, i8Ptr});
  auto entry = b.create<LLVM::LLVMFuncOp>(loc, (fn.getName() + "_entry").str(), type);
  Block *block = entry.addEntryBlock();
  b.setInsertionPointToStart(block);
  SmallVector<Value> args;
  auto params = fn.getFunctionType().cast<LLVM::LLVMFunctionType>().getParams();
  auto pointerFrom = [&](Value array, unsigned k, Type to) {
    Value idx = b.create<LLVM::ConstantOp>(loc, i64, b.getI64IntegerAttr(k));
    Value slot = b.create<LLVM::GEPOp>(loc, i8PtrPtr, array, ValueRange{idx});
    Value p = b.create<LLVM::LoadOp>(loc, slot);
    return b.create<LLVM::BitcastOp>(loc, to, p).getResult();
  };
  for (unsigned k = 0; k < numInputs; ++k)
    args.push_back(pointerFrom(block->getArgument(0), k, params[k]));
  for (unsigned k = 0; k < numOutputs; ++k)
    args.push_back(pointerFrom(block->getArgument(1), k, params[numInputs + k]));
  args.push_back(b.create<LLVM::BitcastOp>(loc, params[numInputs + numOutputs], block->getArgument(2)));
  args.push_back(b.create<LLVM::BitcastOp>(loc, params[numInputs + numOutputs + 1], block->getArgument(3)));
  b.create<LLVM::CallOp>(loc, fn, args);
  Value zero = b.create<LLVM::ConstantOp>(loc, i32, b.getI32IntegerAttr(0));
  b.create<LLVM::ReturnOp>(loc, zero);
}

struct LowerToLLVMPass : LowerToLLVMBase<LowerToLLVMPass> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    MLIRContext *ctx = &getContext();

    // Which functions get an entry point (those made by nncc-lower-nn).
    SmallVector<std::tuple<std::string, unsigned, unsigned>> graphs;
    SmallVector<std::string> parallelBodies;
    for (auto f : module.getOps<func::FuncOp>()) {
      if (auto n = f->getAttrOfType<IntegerAttr>("nncc.num_inputs"))
        graphs.emplace_back(f.getName().str(), n.getInt(),
                            f->getAttrOfType<IntegerAttr>("nncc.num_outputs").getInt());
      if (f->hasAttr("nncc.parallel_body"))
        parallelBodies.push_back(f.getName().str());
    }

    // float32 exp, tanh, log, erf, ... as polynomials: plain arithmetic that
    // vectorizes, instead of a libm call per element.
    {
      RewritePatternSet approximations(ctx);
      populateMathPolynomialApproximationPatterns(approximations);
      if (failed(applyPatternsAndFoldGreedily(module, std::move(approximations))))
        return signalPassFailure();
    }

    LowerToLLVMOptions options(ctx);
    options.useBarePtrCallConv = true;
    LLVMTypeConverter converter(ctx, options);
    RewritePatternSet patterns(ctx);
    arith::populateArithmeticToLLVMConversionPatterns(converter, patterns);
    populateMathToLLVMConversionPatterns(converter, patterns);
    populateMemRefToLLVMConversionPatterns(converter, patterns);
    cf::populateControlFlowToLLVMConversionPatterns(converter, patterns);
    populateFuncToLLVMConversionPatterns(converter, patterns);
    patterns.add<KernelCallLowering, ParallelForLowering>(converter);
    LLVMConversionTarget target(*ctx);
    target.addLegalOp<ModuleOp>();
    if (failed(applyFullConversion(module, target, std::move(patterns))))
      return signalPassFailure();

    for (auto &[name, nIn, nOut] : graphs)
      if (auto fn = module.lookupSymbol<LLVM::LLVMFuncOp>(name))
        addEntryPoint(module, fn, nIn, nOut);
    for (auto &name : parallelBodies)
      if (auto fn = module.lookupSymbol<LLVM::LLVMFuncOp>(name))
        addThunk(module, fn);
  }
};
} // namespace

std::unique_ptr<Pass> createLowerToLLVMPass() { return std::make_unique<LowerToLLVMPass>(); }

} // namespace nncc
