//===- ElementwiseOps.td - elementwise nn ops --------------*- tablegen -*-===//
//
// Unary, binary (multidirectional broadcasting) and ternary elementwise ops.
// Their scalar semantics live in codegen/ScalarOps.cpp, one case per op.
//
//===----------------------------------------------------------------------===//
#ifndef NNCC_IR_ELEMENTWISEOPS_TD
#define NNCC_IR_ELEMENTWISEOPS_TD

include "ir/NNBase.td"

//===----------------------------------------------------------------------===//
// Unary
//===----------------------------------------------------------------------===//

class NN_UnaryOp<string mnemonic, Type operandType, dag attrs = (ins),
                 list<Trait> traits = []>
    : NN_Op<mnemonic, !listconcat(traits,
          [NoSideEffect, NN_Elementwise, SameOperandsAndResultType, NN_InferType])> {
  let arguments = !con((ins operandType:$x), attrs);
  let results = (outs operandType:$y);
  let assemblyFormat = "$x attr-dict `:` type($x)";
  let hasFolder = 0;
}

class NN_FloatUnaryOp<string mnemonic, string desc, dag attrs = (ins)>
    : NN_UnaryOp<mnemonic, NN_FloatTensor, attrs> {
  let summary = desc;
}

def NN_AbsOp : NN_UnaryOp<"abs", NN_AnyTensor> {
  let summary = "|x|";
  let hasFolder = 1;
}
def NN_NegOp : NN_UnaryOp<"neg", NN_AnyTensor> {
  let summary = "-x";
  let hasFolder = 1;
}
def NN_ReluOp : NN_UnaryOp<"relu", NN_AnyTensor> {
  let summary = "max(x, 0)";
  let hasFolder = 1;
}
def NN_SignOp : NN_UnaryOp<"sign", NN_AnyTensor> { let summary = "-1, 0 or 1"; }
def NN_NotOp : NN_UnaryOp<"not", NN_BoolTensor> {
  let summary = "logical not";
  let hasFolder = 1;
}
def NN_BitwiseNotOp : NN_UnaryOp<"bitwise_not", NN_IntTensor> { let summary = "~x"; }

def NN_ExpOp : NN_FloatUnaryOp<"exp", "e^x">;
def NN_LogOp : NN_FloatUnaryOp<"log", "natural logarithm">;
def NN_SqrtOp : NN_FloatUnaryOp<"sqrt", "square root"> { let hasFolder = 1; }
def NN_ReciprocalOp : NN_FloatUnaryOp<"reciprocal", "1 / x">;
def NN_SinOp : NN_FloatUnaryOp<"sin", "sine">;
def NN_CosOp : NN_FloatUnaryOp<"cos", "cosine">;
def NN_TanOp : NN_FloatUnaryOp<"tan", "tangent">;
def NN_AsinOp : NN_FloatUnaryOp<"asin", "arcsine">;
def NN_AcosOp : NN_FloatUnaryOp<"acos", "arccosine">;
def NN_AtanOp : NN_FloatUnaryOp<"atan", "arctangent">;
def NN_SinhOp : NN_FloatUnaryOp<"sinh", "hyperbolic sine">;
def NN_CoshOp : NN_FloatUnaryOp<"cosh", "hyperbolic cosine">;
def NN_AsinhOp : NN_FloatUnaryOp<"asinh", "inverse hyperbolic sine">;
def NN_AcoshOp : NN_FloatUnaryOp<"acosh", "inverse hyperbolic cosine">;
def NN_AtanhOp : NN_FloatUnaryOp<"atanh", "inverse hyperbolic tangent">;
def NN_ErfOp : NN_FloatUnaryOp<"erf", "error function">;
def NN_SigmoidOp : NN_FloatUnaryOp<"sigmoid", "1 / (1 + e^-x)">;
def NN_TanhOp : NN_FloatUnaryOp<"tanh", "hyperbolic tangent">;
def NN_FloorOp : NN_FloatUnaryOp<"floor", "round toward -inf"> { let hasFolder = 1; }
def NN_CeilOp : NN_FloatUnaryOp<"ceil", "round toward +inf"> { let hasFolder = 1; }
def NN_RoundOp : NN_FloatUnaryOp<"round", "round half to even">;
def NN_SoftplusOp : NN_FloatUnaryOp<"softplus", "log(1 + e^x)">;
def NN_SoftsignOp : NN_FloatUnaryOp<"softsign", "x / (1 + |x|)">;
def NN_HardSwishOp : NN_FloatUnaryOp<"hard_swish", "x * max(0, min(1, x/6 + 1/2))">;
def NN_EluOp : NN_FloatUnaryOp<"elu", "x if x >= 0 else alpha*(e^x - 1)",
    (ins DefaultValuedAttr<F32Attr, "1.0">:$alpha)>;
def NN_SeluOp : NN_FloatUnaryOp<"selu", "gamma * (x if x > 0 else alpha*(e^x - 1))",
    (ins DefaultValuedAttr<F32Attr, "1.67326319217681884765625">:$alpha,
         DefaultValuedAttr<F32Attr, "1.05070102214813232421875">:$gamma)>;
def NN_CeluOp : NN_FloatUnaryOp<"celu", "max(0,x) + min(0, alpha*(e^(x/alpha) - 1))",
    (ins DefaultValuedAttr<F32Attr, "1.0">:$alpha)>;
def NN_LeakyReluOp : NN_FloatUnaryOp<"leaky_relu", "x if x >= 0 else alpha*x",
    (ins DefaultValuedAttr<F32Attr, "0.01">:$alpha)>;
def NN_HardSigmoidOp : NN_FloatUnaryOp<"hard_sigmoid", "max(0, min(1, alpha*x + beta))",
    (ins DefaultValuedAttr<F32Attr, "0.2">:$alpha, DefaultValuedAttr<F32Attr, "0.5">:$beta)>;
def NN_ThresholdedReluOp : NN_FloatUnaryOp<"thresholded_relu", "x if x > alpha else 0",
    (ins DefaultValuedAttr<F32Attr, "1.0">:$alpha)>;
def NN_ShrinkOp : NN_UnaryOp<"shrink", NN_AnyTensor,
    (ins DefaultValuedAttr<F32Attr, "0.0">:$bias, DefaultValuedAttr<F32Attr, "0.5">:$lambd)> {
  let summary = "x-bias if x > lambd, x+bias if x < -lambd, else 0";
}
def NN_GeluOp : NN_FloatUnaryOp<"gelu", "x * Phi(x), exact or tanh approximation",
    (ins DefaultValuedAttr<StrAttr, "\"none\"">:$approximate)>;

// Unary ops whose result element type differs from the operand's.
class NN_PredicateOp<string mnemonic, dag attrs = (ins)>
    : NN_Op<mnemonic, [NoSideEffect, NN_Elementwise, NN_InferType]> {
  let arguments = !con((ins NN_FloatTensor:$x), attrs);
  let results = (outs NN_BoolTensor:$y);
  let assemblyFormat = "$x attr-dict `:` type($x)";
}
def NN_IsNaNOp : NN_PredicateOp<"is_nan"> { let summary = "x != x"; }
def NN_IsInfOp : NN_PredicateOp<"is_inf",
    (ins DefaultValuedAttr<BoolAttr, "true">:$detect_negative,
         DefaultValuedAttr<BoolAttr, "true">:$detect_positive)> {
  let summary = "x is +inf or -inf";
}

def NN_CastOp : NN_Op<"cast", [NoSideEffect, NN_Elementwise, NN_InferType]> {
  let summary = "Convert each element to the type `to` (ONNX Cast semantics).";
  let description = [{
    Float to integer truncates toward zero; integer to bool is `x != 0`;
    float to a narrower float rounds to nearest even.
  }];
  let arguments = (ins NN_AnyTensor:$x, TypeAttr:$to);
  let results = (outs NN_AnyTensor:$y);
  let assemblyFormat = "$x attr-dict `:` type($x) `to` $to";
  let hasFolder = 1;
}

//===----------------------------------------------------------------------===//
// Binary, with multidirectional (numpy) broadcasting
//===----------------------------------------------------------------------===//

class NN_BinaryOp<string mnemonic, Type operandType, Type resultType,
                  dag attrs = (ins)>
    : NN_Op<mnemonic, [NoSideEffect, NN_Elementwise, NN_InferType]> {
  let arguments = !con((ins operandType:$lhs, operandType:$rhs), attrs);
  let results = (outs resultType:$y);
  let assemblyFormat = "$lhs `,` $rhs attr-dict `:` type($lhs) `,` type($rhs)";
  let hasVerifier = 1;
  let hasFolder = 0;
}

class NN_ArithOp<string mnemonic, string desc>
    : NN_BinaryOp<mnemonic, NN_AnyTensor, NN_AnyTensor> {
  let summary = desc;
  let hasFolder = 1;
}
def NN_AddOp : NN_ArithOp<"add", "lhs + rhs">;
def NN_SubOp : NN_ArithOp<"sub", "lhs - rhs">;
def NN_MulOp : NN_ArithOp<"mul", "lhs * rhs">;
def NN_DivOp : NN_ArithOp<"div", "lhs / rhs (integer division truncates)">;
def NN_MaxOp : NN_ArithOp<"max", "elementwise maximum">;
def NN_MinOp : NN_ArithOp<"min", "elementwise minimum">;
def NN_ModOp : NN_BinaryOp<"mod", NN_AnyTensor, NN_AnyTensor,
    (ins DefaultValuedAttr<BoolAttr, "false">:$fmod)> {
  let summary = "remainder; sign of the divisor unless fmod (sign of the dividend)";
}
def NN_PowOp : NN_BinaryOp<"pow", NN_AnyTensor, NN_AnyTensor> {
  let summary = "lhs ^ rhs; the operands may have different element types";
}
def NN_PReluOp : NN_BinaryOp<"prelu", NN_AnyTensor, NN_AnyTensor> {
  let summary = "lhs if lhs >= 0 else slope * lhs";
}
def NN_BitShiftOp : NN_BinaryOp<"bitshift", NN_IntTensor, NN_IntTensor,
    (ins DefaultValuedAttr<BoolAttr, "true">:$left)> {
  let summary = "lhs << rhs (left) or lhs >> rhs";
}
def NN_AndOp : NN_BinaryOp<"and", NN_BoolTensor, NN_BoolTensor> { let summary = "logical and"; }
def NN_OrOp : NN_BinaryOp<"or", NN_BoolTensor, NN_BoolTensor> { let summary = "logical or"; }
def NN_XorOp : NN_BinaryOp<"xor", NN_BoolTensor, NN_BoolTensor> { let summary = "logical xor"; }
def NN_BitwiseAndOp : NN_BinaryOp<"bitwise_and", NN_IntTensor, NN_IntTensor> { let summary = "lhs & rhs"; }
def NN_BitwiseOrOp : NN_BinaryOp<"bitwise_or", NN_IntTensor, NN_IntTensor> { let summary = "lhs | rhs"; }
def NN_BitwiseXorOp : NN_BinaryOp<"bitwise_xor", NN_IntTensor, NN_IntTensor> { let summary = "lhs ^ rhs"; }

class NN_CompareOp<string mnemonic, string desc>
    : NN_BinaryOp<mnemonic, NN_AnyTensor, NN_BoolTensor> {
  let summary = desc;
  let hasFolder = 1;
}
def NN_EqualOp : NN_CompareOp<"equal", "lhs == rhs">;
def NN_LessOp : NN_CompareOp<"less", "lhs < rhs">;
def NN_LessEqualOp : NN_CompareOp<"less_equal", "lhs <= rhs">;
def NN_GreaterOp : NN_CompareOp<"greater", "lhs > rhs">;
def NN_GreaterEqualOp : NN_CompareOp<"greater_equal", "lhs >= rhs">;

//===----------------------------------------------------------------------===//
// Ternary
//===----------------------------------------------------------------------===//

def NN_SelectOp : NN_Op<"select", [NoSideEffect, NN_Elementwise, NN_InferType]> {
  let summary = "cond ? lhs : rhs, with multidirectional broadcasting (ONNX Where)";
  let arguments = (ins NN_BoolTensor:$cond, NN_AnyTensor:$lhs, NN_AnyTensor:$rhs);
  let results = (outs NN_AnyTensor:$y);
  let assemblyFormat = "$cond `,` $lhs `,` $rhs attr-dict `:` type($cond) `,` type($lhs) `,` type($rhs)";
  let hasVerifier = 1;
  let hasFolder = 1;
}

//===----------------------------------------------------------------------===//
// Fused elementwise chains (made by nn-fuse-elementwise)
//===----------------------------------------------------------------------===//

def NN_FusedOp : NN_Op<"fused", [NoSideEffect, IsolatedFromAbove]> {
  let summary = "Elementwise ops computed in one pass over the results' shape.";
  let description = [{
    The body's arguments are the inputs; its ops are elementwise nn ops
    whose results all have the results' shape (an input is broadcast to it
    as by its users), and `nn.slice`s of arguments with steps above zero
    (codegen reads them as views: the slice's elements, not the argument's,
    are visited). `nn.yield` names the results, one or more, all of one
    shape. Codegen emits one loop nest for the whole body, with no
    intermediate buffers.
  }];
  let arguments = (ins Variadic<NN_AnyTensor>:$inputs);
  let results = (outs Variadic<NN_AnyTensor>:$ys);
  let regions = (region SizedRegion<1>:$body);
  let assemblyFormat = "`(` $inputs `)` attr-dict `:` functional-type($inputs, $ys) $body";
  let hasVerifier = 1;
}

def NN_YieldOp : NN_Op<"yield", [NoSideEffect, Terminator, HasParent<"FusedOp">]> {
  let summary = "The results of an nn.fused body.";
  let arguments = (ins Variadic<NN_AnyTensor>:$values);
  let assemblyFormat = "($values^ `:` type($values))? attr-dict";
}

#endif // NNCC_IR_ELEMENTWISEOPS_TD
