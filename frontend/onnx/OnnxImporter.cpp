//===- OnnxImporter.cpp - ONNX ModelProto to the nn dialect ---------------===//
#include "frontend/onnx/OnnxImporter.h"
#include "frontend/onnx/ImporterImpl.h"
#include "frontend/onnx/TensorProto.h"
#include "runtime/FileUtil.h"

#include "ir/NNDialect.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/Matchers.h"
#include "mlir/IR/Verifier.h"
#include "llvm/ADT/MapVector.h"
#include "llvm/ADT/ScopeExit.h"
#include "llvm/ADT/StringSet.h"
#include "mlir/Analysis/SliceAnalysis.h"

#include <cstring>
#include <set>

using namespace mlir;
using namespace nncc::onnximport;

namespace nncc {

//===----------------------------------------------------------------------===//
// Model loading
//===----------------------------------------------------------------------===//

namespace {
/// A minimal protobuf wire-format reader, to recognise files that are not
/// ONNX models (a Caffe2 NetDef) without their schema.
struct Wire {
  const uint8_t *p, *end;
  bool varint(uint64_t &v) {
    v = 0;
    for (int shift = 0; p < end && shift < 64; shift += 7) {
      uint8_t b = *p++;
      v |= uint64_t(b & 0x7f) << shift;
      if (!(b & 0x80))
        return true;
    }
    return false;
  }
  /// Next field: number, wire type and (for length-delimited) the payload.
  bool next(uint32_t &field, uint32_t &type, const uint8_t *&data, uint64_t &len) {
    uint64_t key;
    if (p >= end || !varint(key))
      return false;
    field = key >> 3;
    type = key & 7;
    switch (type) {
    case 0: return varint(len);
    case 1: if (end - p < 8) return false; p += 8; return true;
    case 5: if (end - p < 4) return false; p += 4; return true;
    case 2:
      if (!varint(len) || (uint64_t)(end - p) < len) return false;
      data = p;
      p += len;
      return true;
    default: return false;
    }
  }
};

/// Caffe2 NetDef: field 2 holds OperatorDefs whose field 4 is the op type.
bool looksLikeCaffe2NetDef(const std::string &bytes, std::vector<std::string> &opTypes) {
  Wire w{(const uint8_t *)bytes.data(), (const uint8_t *)bytes.data() + bytes.size()};
  uint32_t field, type;
  const uint8_t *data = nullptr;
  uint64_t len;
  while (w.next(field, type, data, len)) {
    if (field != 2 || type != 2)
      continue;
    Wire op{data, data + len};
    const uint8_t *s = nullptr;
    uint64_t slen;
    while (op.next(field, type, s, slen))
      if (field == 4 && type == 2 && slen > 0 && slen < 64) {
        std::string t((const char *)s, slen);
        if (!std::all_of(t.begin(), t.end(), [](char c) { return isalnum((unsigned char)c) || c == '_'; }))
          return false;
        if (std::find(opTypes.begin(), opTypes.end(), t) == opTypes.end())
          opTypes.push_back(t);
      }
  }
  return w.p == w.end && !opTypes.empty();
}
} // namespace

bool looksLikeOnnxModel(const std::string &bytes) {
  onnx::ModelProto m;
  return m.ParseFromString(bytes) && m.has_graph() && m.ir_version() > 0;
}

bool loadOnnxModel(const std::string &path, onnx::ModelProto &model, std::string &error) {
  std::string bytes;
  if (!readFile(path, bytes, error))
    return false;
  if (bytes.empty()) {
    error = "'" + path + "' is empty: expected an ONNX model";
    return false;
  }
  std::vector<std::string> caffe2Ops;
  bool parsed = model.ParseFromString(bytes);
  if ((!parsed || !model.has_graph()) && looksLikeCaffe2NetDef(bytes, caffe2Ops)) {
    error = "'" + path + "' is a Caffe2 NetDef (operators ";
    for (size_t k = 0; k < caffe2Ops.size() && k < 6; ++k)
      error += (k ? ", " : "") + caffe2Ops[k];
    error += caffe2Ops.size() > 6 ? ", ...)" : ")";
    error += ", not an ONNX model; nncc does not import Caffe2 predict_net.pb + init_net.pb pairs yet. "
             "Convert the net to ONNX first (caffe2.python.onnx.frontend, or export the model from PyTorch)";
    return false;
  }
  if (!parsed) {
    error = "'" + path + "' is not a valid ONNX model: the protobuf cannot be parsed (the file is "
            "truncated, corrupted, or not a model)";
    return false;
  }
  if (!model.has_graph() || model.ir_version() <= 0) {
    error = "'" + path + "' is not an ONNX ModelProto (no graph or no ir_version)";
    return false;
  }
  if (model.graph().output_size() == 0) {
    error = "'" + path + "': the graph has no outputs";
    return false;
  }
  return true;
}

static std::vector<TensorSignature> signatures(const google::protobuf::RepeatedPtrField<onnx::ValueInfoProto> &infos,
                                               const std::set<std::string> &skip) {
  std::vector<TensorSignature> r;
  for (const auto &vi : infos) {
    if (skip.count(vi.name()))
      continue;
    TensorSignature s;
    s.name = vi.name();
    // (a sequence's or optional's: that of its tensors)
    const onnx::TypeProto *t = &vi.type();
    while (t->has_optional_type() || t->has_sequence_type())
      t = t->has_optional_type() ? &t->optional_type().elem_type() : &t->sequence_type().elem_type();
    s.dtype = static_cast<DType>(t->tensor_type().elem_type());
    switch (vi.type().value_case()) {
    case onnx::TypeProto::kSequenceType: s.kind = "sequence"; break;
    case onnx::TypeProto::kOptionalType: s.kind = "optional"; break;
    case onnx::TypeProto::kMapType: s.kind = "map"; break;
    default: break;
    }
    for (const auto &d : vi.type().tensor_type().shape().dim())
      s.shape.push_back(d.has_dim_value() ? d.dim_value() : -1);
    r.push_back(std::move(s));
  }
  return r;
}

std::vector<TensorSignature> modelInputs(const onnx::ModelProto &model) {
  std::set<std::string> inits;
  for (const auto &t : model.graph().initializer())
    inits.insert(t.name());
  return signatures(model.graph().input(), inits);
}

std::vector<TensorSignature> modelOutputs(const onnx::ModelProto &model) {
  return signatures(model.graph().output(), {});
}

std::vector<std::string> supportedOnnxOps() {
  std::vector<std::string> r;
  for (const auto &kv : handlers())
    r.push_back(kv.getKey().str());
  std::sort(r.begin(), r.end());
  return r;
}

//===----------------------------------------------------------------------===//
// The importer
//===----------------------------------------------------------------------===//

static Type tensorTypeOf(MLIRContext &ctx, const Tensor &t) {
  return RankedTensorType::get(t.shape(), nn::typeFromOnnxDataType(&ctx, (int)t.dtype()));
}

/// Converts host tensor data to folding values (small tensors only).
static Optional<nn::ConstValues> constValuesOf(MLIRContext &ctx, const Tensor &t) {
  if (t.numElements() > nn::kMaxFoldElements)
    return llvm::None;
  nn::ConstValues v;
  v.type = tensorTypeOf(ctx, t).cast<RankedTensorType>();
  v.isFloat = isFloatDType(t.dtype());
  for (int64_t k = 0; k < t.numElements(); ++k) {
    double d = t.elementAsDouble(k);
    if (v.isFloat)
      v.f.push_back(d);
    else if (t.dtype() == DType::Int64)
      v.i.push_back(t.data<int64_t>()[k]);
    else if (t.dtype() == DType::UInt64)
      v.i.push_back((int64_t)t.data<uint64_t>()[k]);
    else
      v.i.push_back((int64_t)d);
  }
  return v;
}

Optional<nn::ConstValues> OnnxImporterImpl::constantOf(const std::string &name, Value v) {
  Attribute attr;
  if (matchPattern(v, m_Constant(&attr)))
    return nn::readConst(attr);
  auto it = paramData.find(v);
  if (it != paramData.end())
    return constValuesOf(ctx, *it->second);
  (void)name;
  return llvm::None;
}

Value OnnxImporterImpl::constantOp(const nn::ConstValues &v, Location loc) {
  return builder.create<nn::ConstantOp>(loc, nn::makeConst(v.type, v));
}

/// Replaces a graph input by its known value, for ops that need it constant.
Value OnnxImporterImpl::specialize(const std::string &name) {
  auto it = graphInputValues.find(name);
  if (it == graphInputValues.end())
    return {};
  auto v = constValuesOf(ctx, *it->second);
  if (!v)
    return {};
  OpBuilder::InsertionGuard guard(builder);
  builder.setInsertionPointToStart(&func.getBody().front());
  Value c = constantOp(*v, NameLoc::get(builder.getStringAttr("specialized:" + name)));
  define(name, c);
  return c;
}

Type OnnxImporterImpl::inputType(const std::string &name, const onnx::TypeProto_Tensor &tt, std::string &error) {
  Type elt = nn::typeFromOnnxDataType(&ctx, tt.elem_type());
  if (!elt) {
    error = "graph input '" + name + "' has element type " +
            (tt.elem_type() == 8 ? std::string("string") : "code " + std::to_string(tt.elem_type())) +
            ", which nncc does not support";
    return {};
  }
  std::vector<int64_t> declared;
  bool hasShape = tt.has_shape();
  for (const auto &d : tt.shape().dim())
    declared.push_back(d.has_dim_value() ? d.dim_value() : -1);

  auto given = options.inputValues.find(name);
  auto override = options.inputShapes.find(name);
  std::vector<int64_t> shape = declared;
  if (given != options.inputValues.end()) {
    const Tensor &t = *given->second;
    if ((int)t.dtype() != tt.elem_type()) {
      error = "input '" + name + "' has element type " + dtypeName(t.dtype()) +
              " but the model expects " + dtypeName(static_cast<DType>(tt.elem_type()));
      return {};
    }
    if (hasShape) {
      bool ok = declared.size() == t.shape().size();
      for (size_t k = 0; ok && k < declared.size(); ++k)
        ok = declared[k] < 0 || declared[k] == t.shape()[k];
      if (!ok) {
        std::string decl = "[";
        for (size_t k = 0; k < declared.size(); ++k)
          decl += (k ? ", " : "") + (declared[k] < 0 ? std::string("?") : std::to_string(declared[k]));
        error = "input '" + name + "' has shape " + shapeToString(t.shape()) +
                " but the model expects " + decl + "]";
        return {};
      }
    }
    shape = t.shape();
  } else if (override != options.inputShapes.end()) {
    shape = override->second;
    if (hasShape && shape.size() != declared.size()) {
      error = "--input-shape for '" + name + "' has rank " + std::to_string(shape.size()) +
              " but the model declares rank " + std::to_string(declared.size());
      return {};
    }
  } else {
    if (!hasShape) {
      error = "graph input '" + name + "' has no declared shape; give its value (--input) or "
              "its shape (--input-shape " + name + "=DxDx...)";
      return {};
    }
    for (size_t k = 0; k < shape.size(); ++k)
      if (shape[k] < 0) {
        const auto &dim = tt.shape().dim((int)k);
        error = "graph input '" + name + "' has symbolic dimension " +
                (dim.dim_param().empty() ? std::string("?") : "'" + dim.dim_param() + "'") +
                " at position " + std::to_string(k) + "; give its shape with --input-shape " +
                name + "=DxDx... or pass the input's value";
        return {};
      }
  }
  return RankedTensorType::get(shape, elt);
}

LogicalResult OnnxImporterImpl::inputArguments(const std::string &name, const onnx::TypeProto &type,
                                               SmallVectorImpl<Type> &types, SmallVectorImpl<std::string> &names,
                                               std::string &error) {
  if (type.has_tensor_type()) {
    Type t = inputType(name, type.tensor_type(), error);
    if (!t)
      return failure();
    types.push_back(t);
    names.push_back(name);
    return success();
  }
  if (type.has_optional_type())
    return options.emptyOptionals.count(name)
               ? success()
               : inputArguments(name, type.optional_type().elem_type(), types, names, error);
  if (!type.has_sequence_type()) {
    error = "graph input '" + name + "' is not a tensor, a sequence of tensors or an optional of either (maps are "
            "not supported)";
    return failure();
  }
  const auto &elem = type.sequence_type().elem_type();
  if (!elem.has_tensor_type()) {
    error = "graph input '" + name + "' is a sequence of non-tensors, which nncc does not support";
    return failure();
  }
  // Its length: as given, else as many elements as have a value or shape.
  auto element = [&](int64_t k) { return name + "[" + std::to_string(k) + "]"; };
  auto given = options.sequenceLengths.find(name);
  int64_t length = 0;
  if (given != options.sequenceLengths.end()) {
    length = given->second;
  } else {
    while (options.inputValues.count(element(length)) || options.inputShapes.count(element(length)))
      ++length;
    if (length == 0) {
      error = "graph input '" + name + "' is a sequence, whose length nncc must know at compile time: give its "
              "value, or its elements' shapes (--input-shape " + element(0) + "=DxDx... --input-shape " +
              element(1) + "=..., one per element)";
      return failure();
    }
  }
  sequenceInputLengths[name] = length;
  for (int64_t k = 0; k < length; ++k) {
    Type t = inputType(element(k), elem.tensor_type(), error);
    if (!t)
      return failure();
    types.push_back(t);
    names.push_back(element(k));
  }
  return success();
}

Value OnnxImporterImpl::inputValue(const std::string &name, const onnx::TypeProto &type,
                                   ArrayRef<BlockArgument> &args) {
  Location loc = NameLoc::get(builder.getStringAttr(name));
  if (type.has_tensor_type()) {
    Value v = args.front();
    args = args.drop_front();
    return v;
  }
  if (type.has_optional_type())
    return onnximport::makeOptional(builder, loc,
                                    options.emptyOptionals.count(name)
                                        ? Value()
                                        : inputValue(name, type.optional_type().elem_type(), args));
  int64_t length = sequenceInputLengths[name];
  Type elementType = nn::typeFromOnnxDataType(&ctx, type.sequence_type().elem_type().tensor_type().elem_type());
  Value v = onnximport::makeSequence(builder, loc, ValueRange(args.take_front(length)), elementType);
  args = args.drop_front(length);
  return v;
}

LogicalResult OnnxImporterImpl::checkSupported(const onnx::GraphProto &graph, std::string &error) {
  llvm::MapVector<std::string, std::vector<std::string>, std::map<std::string, unsigned>> missing;
  std::function<void(const onnx::GraphProto &)> scan = [&](const onnx::GraphProto &g) {
    for (int k = 0; k < g.node_size(); ++k) {
      const auto &node = g.node(k);
      std::string domain = node.domain() == "ai.onnx" ? "" : node.domain();
      std::string key = domain.empty() ? node.op_type() : domain + "::" + node.op_type();
      if (!handlers().count(key))
        missing[key].push_back(node.name().empty() ? "#" + std::to_string(k) : node.name());
      for (const auto &a : node.attribute()) {
        if (a.has_g())
          scan(a.g());
        for (const auto &sub : a.graphs())
          scan(sub);
      }
    }
  };
  scan(graph);
  if (missing.empty())
    return success();
  error = "the model uses " + std::to_string(missing.size()) + " operator" +
          (missing.size() > 1 ? "s" : "") + " that nncc does not support:";
  for (auto &kv : missing) {
    error += "\n  " + kv.first + " (node" + (kv.second.size() > 1 ? "s " : " ");
    for (size_t k = 0; k < kv.second.size() && k < 5; ++k)
      error += (k ? ", '" : "'") + kv.second[k] + "'";
    if (kv.second.size() > 5)
      error += " and " + std::to_string(kv.second.size() - 5) + " more";
    error += ")";
  }
  error += "\nRun `nncc ops` to list the supported operators.";
  return failure();
}

LogicalResult OnnxImporterImpl::importInitializer(const onnx::TensorProto &t, std::string &error) {
  auto tensor = std::make_unique<Tensor>();
  if (!tensorFromProto(t, options.baseDir, *tensor, error)) {
    error = "initializer: " + error;
    return failure();
  }
  Location loc = NameLoc::get(builder.getStringAttr(t.name()));
  Type type = tensorTypeOf(ctx, *tensor);
  if (isFloatDType(tensor->dtype()) || tensor->numElements() > nn::kMaxFoldElements) {
    std::string name = store.uniqueName(t.name().empty() ? "param" : t.name());
    nn::WeightStore::Bytes bytes((const uint8_t *)tensor->data(),
                                 (const uint8_t *)tensor->data() + tensor->byteSize());
    store.set(name, std::move(bytes));
    auto p = builder.create<nn::ParamOp>(loc, type, builder.getStringAttr(name),
                                         isFloatDType(tensor->dtype()) ? UnitAttr() : builder.getUnitAttr());
    paramData[p] = tensor.get();
    define(t.name(), p);
    ownedTensors.push_back(std::move(tensor));
    return success();
  }
  auto v = constValuesOf(ctx, *tensor);
  define(t.name(), constantOp(*v, loc));
  return success();
}

LogicalResult OnnxImporterImpl::importNode(const onnx::NodeProto &node, int index) {
  std::string domain = node.domain() == "ai.onnx" ? "" : node.domain();
  std::string key = domain.empty() ? node.op_type() : domain + "::" + node.op_type();
  std::string label = node.name().empty() ? node.op_type() + "#" + std::to_string(index) : node.name();
  Location loc = NameLoc::get(builder.getStringAttr(label));
  for (int k = 0; k < node.input_size(); ++k) {
    if (node.input(k).empty())
      continue;
    Value v = lookup(node.input(k));
    if (!v)
      return emitError(loc) << node.op_type() << " node '" << label << "': input '" << node.input(k)
                            << "' is not produced by any earlier node, initializer or graph input";
    if ((onnximport::isSequence(v) || onnximport::isOptional(v)) && !onnximport::takesList(node.op_type(), k))
      return emitError(loc) << node.op_type() << " node '" << label << "': input " << k << " ('" << node.input(k)
                            << "') is " << (onnximport::isSequence(v) ? "a sequence" : "an optional")
                            << ", where the operator takes a tensor";
    auto rows = rowsKnownAtRunTime.find(v);
    if (rows != rowsKnownAtRunTime.end() && !carriesRunTimeExtent(key))
      return emitError(loc) << node.op_type() << " node '" << label << "' reads '" << node.input(k) << "', "
                            << rows->second.what
                            << ": its length is known only at run time, and nncc carries such a length only through "
                               "elementwise ops, Transpose, Reshape, Flatten, Squeeze, Unsqueeze, Slice, Concat, "
                               "Gather, GatherElements, GatherND, MatMul, Softmax, ArgMax and reductions (along it: "
                               "of the entries in use), into graph outputs (Shape and Size read it). "
                            << rows->second.advice;
  }
  auto it = opsets.find(domain);
  int64_t opset = it == opsets.end() ? 1 : it->second;
  Node n(*this, node, builder, loc, opset);
  FailureOr<Value> unmasked = domain.empty() ? maskForReduction(n) : Value();
  if (failed(unmasked) || failed(handlers().lookup(key)(n)) || n.failedBuild)
    return failure();
  if (*unmasked)
    unmaskAfterReduction(n, *unmasked);
  for (int k = 0; k < node.output_size(); ++k)
    if (!node.output(k).empty() && !lookup(node.output(k)))
      return emitError(loc) << node.op_type() << " node '" << label << "': output " << k << " ('"
                            << node.output(k) << "') is not supported by nncc";
  return carryRunTimeExtent(n, label);
}

void OnnxImporterImpl::replaceValue(Value from, Value to) {
  from.replaceAllUsesWith(to);
  for (auto &kv : values)
    if (kv.second == from)
      kv.second = to;
  for (auto &scope : outerScopes)
    for (auto &kv : scope)
      if (kv.second == from)
        kv.second = to;
}

Value OnnxImporterImpl::foldThroughInputs(Value v) {
  Attribute attr;
  if (matchPattern(v, m_Constant(&attr)))
    return v;
  // The graph inputs the value depends on must all be known.
  SetVector<Operation *> slice;
  Operation *def = v.getDefiningOp();
  if (def)
    getBackwardSlice(def, &slice);
  SmallVector<BlockArgument> args;
  auto visit = [&](Value operand) {
    if (auto arg = operand.dyn_cast<BlockArgument>())
      if (arg.getOwner() == &func.getBody().front() && !llvm::is_contained(args, arg))
        args.push_back(arg);
  };
  if (def) {
    for (Operation *op : slice)
      for (Value operand : op->getOperands())
        visit(operand);
    for (Value operand : def->getOperands())
      visit(operand);
  } else {
    visit(v);
  }
  if (!def && args.empty())
    return {};
  OpBuilder::InsertionGuard guard(builder);
  builder.setInsertionPointToStart(&func.getBody().front());
  for (BlockArgument arg : args) {
    auto name = func.getArgAttrOfType<StringAttr>(arg.getArgNumber(), "nn.name");
    auto it = name ? graphInputValues.find(name.str()) : graphInputValues.end();
    if (it == graphInputValues.end())
      return {};
    auto c = constValuesOf(ctx, *it->second);
    if (!c)
      return {};
    Value cv = constantOp(*c, NameLoc::get(builder.getStringAttr("specialized:" + name.str())));
    replaceValue(arg, cv);
    if (v == arg)
      return cv;
  }
  // Fold the slice in order; constants appear where the folded op was.
  slice.insert(def);
  Value result = v;
  for (Operation *op : slice) {
    builder.setInsertionPoint(op);
    SmallVector<Value> results;
    if (failed(builder.tryFold(op, results)) || results.empty())
      continue;
    for (auto [from, to] : llvm::zip(op->getResults(), results)) {
      if (from == result)
        result = to;
      replaceValue(from, to);
    }
    op->erase();
  }
  return matchPattern(result, m_Constant(&attr)) ? result : Value();
}

LogicalResult OnnxImporterImpl::importSubgraph(const onnx::GraphProto &g, ArrayRef<Value> inputs,
                                               SmallVectorImpl<Value> &outputs, bool branch) {
  // The subgraph's names must not leak out; values replaced while it is
  // imported (specialized inputs, folds) are replaced in the outer scopes too.
  outerScopes.push_back(values);
  auto restore = llvm::make_scope_exit([&] {
    values = std::move(outerScopes.back());
    outerScopes.pop_back();
  });
  if ((size_t)g.input_size() != inputs.size())
    return emitError(builder.getUnknownLoc()) << "subgraph '" << g.name() << "' takes " << g.input_size()
                                              << " inputs, " << inputs.size() << " given";
  for (int k = 0; k < g.input_size(); ++k)
    define(g.input(k).name(), inputs[k]);
  std::string error;
  for (const auto &t : g.initializer())
    if (failed(importInitializer(t, error)))
      return emitError(builder.getUnknownLoc()) << error;
  for (int k = 0; k < g.node_size(); ++k) {
    size_t before = diag.size();
    if (failed(importNode(g.node(k), k)) || diag.size() != before)
      return failure();
  }
  outputs.clear();
  for (const auto &o : g.output()) {
    Value v = lookup(o.name());
    if (!v)
      return emitError(builder.getUnknownLoc()) << "subgraph output '" << o.name() << "' is not produced";
    auto rows = rowsKnownAtRunTime.find(v);
    if (!branch && rows != rowsKnownAtRunTime.end())
      return emitError(builder.getUnknownLoc())
             << "the body of '" << g.name() << "' outputs '" << o.name() << "', " << rows->second.what
             << ": its length is known only at run time, and a loop's body must output values of fixed shape. "
             << rows->second.advice;
    outputs.push_back(v);
  }
  return success();
}

OwningOpRef<ModuleOp> OnnxImporterImpl::run(std::string &error) {
  const onnx::GraphProto &graph = model.graph();
  if (failed(checkSupported(graph, error)))
    return nullptr;
  for (const auto &kv : opsets)
    if (!kv.first.empty() && kv.first != "ai.onnx.preview.training" && kv.first != "ai.onnx.ml")
      ; // other domains are only a problem when a node uses them (checked above)

  ScopedDiagnosticHandler handler(&ctx, [&](Diagnostic &d) {
    if (d.getSeverity() != DiagnosticSeverity::Error)
      return success();
    std::string msg = d.str();
    if (auto name = d.getLocation().dyn_cast<NameLoc>())
      if (msg.find(name.getName().str()) == std::string::npos)
        msg = "node '" + name.getName().str() + "': " + msg;
    if (!diag.empty())
      diag += "\n";
    diag += msg;
    return success();
  });

  Location unknown = builder.getUnknownLoc();
  OwningOpRef<ModuleOp> module = ModuleOp::create(unknown);
  builder.setInsertionPointToEnd(module->getBody());

  std::set<std::string> initNames;
  for (const auto &t : graph.initializer())
    initNames.insert(t.name());

  SmallVector<Type> argTypes;
  SmallVector<std::string> argNames;
  // A sequence input is one argument per element, named `name[k]`; an
  // optional input, its value's arguments (none when empty).
  SmallVector<const onnx::ValueInfoProto *> declared;
  for (const auto &vi : graph.input()) {
    if (initNames.count(vi.name()))
      continue;
    declared.push_back(&vi);
    size_t first = argNames.size();
    if (failed(inputArguments(vi.name(), vi.type(), argTypes, argNames, error)))
      return nullptr;
    for (size_t k = first; k < argNames.size(); ++k) {
      auto given = options.inputValues.find(argNames[k]);
      if (given != options.inputValues.end())
        graphInputValues[argNames[k]] = given->second;
    }
  }
  func = builder.create<func::FuncOp>(unknown, options.functionName,
                                      builder.getFunctionType(argTypes, {}));
  Block *entry = func.addEntryBlock();
  for (size_t k = 0; k < argNames.size(); ++k) {
    define(argNames[k], entry->getArgument(k));
    func.setArgAttr(k, "nn.name", builder.getStringAttr(argNames[k]));
  }
  builder.setInsertionPointToStart(entry);
  ArrayRef<BlockArgument> args = entry->getArguments();
  for (const auto *vi : declared)
    if (!vi->type().has_tensor_type())
      define(vi->name(), inputValue(vi->name(), vi->type(), args));
    else
      args = args.drop_front();

  for (const auto &t : graph.initializer())
    if (failed(importInitializer(t, error)))
      return nullptr;

  for (int k = 0; k < graph.node_size(); ++k) {
    size_t before = diag.size();
    if (failed(importNode(graph.node(k), k)) || diag.size() != before) {
      error = diag.empty() ? "import failed at node " + std::to_string(k) : diag;
      return nullptr;
    }
  }

  SmallVector<Value> results;
  SmallVector<Type> resultTypes;
  SmallVector<std::string> resultNames;
  for (const auto &o : graph.output()) {
    Value v = lookup(o.name());
    if (!v) {
      error = "graph output '" + o.name() + "' is not produced by any node";
      return nullptr;
    }
    // A sequence output is one result per element, named `name[k]`; an
    // optional output, its value's results (none when empty).
    if (onnximport::isOptional(v))
      v = onnximport::optionalValue(v);
    bool sequence = v && onnximport::isSequence(v);
    SmallVector<Value> elements = sequence ? onnximport::sequenceElements(v) : SmallVector<Value>{};
    if (v && !sequence)
      elements.push_back(v);
    for (size_t k = 0; k < elements.size(); ++k) {
      results.push_back(elements[k]);
      resultTypes.push_back(elements[k].getType());
      resultNames.push_back(sequence ? o.name() + "[" + std::to_string(k) + "]" : o.name());
    }
  }
  // Outputs of run-time extent (RunTimeExtent.cpp: the scan outputs of a
  // loop run as a loop hold as many rows as iterations ran, counted by the
  // loop's last result; NonZero's indices as many as it found, ...) get
  // that count as a hidden result, and the runtime trims them. (A Scan run
  // as a loop fills every row.)
  // An output whose run-time extent lies along a later dimension (NonZero's
  // indices) is packed: its used entries first, as a tensor of that extent,
  // which the runtime trims to a prefix.
  SmallVector<std::pair<int, Value>> counts;
  SmallVector<int> countDims;
  for (size_t k = 0; k < results.size(); ++k) {
    auto rows = rowsKnownAtRunTime.find(results[k]);
    if (rows == rowsKnownAtRunTime.end())
      continue;
    counts.push_back({(int)k, rows->second.count});
    countDims.push_back(rows->second.dim);
    if (rows->second.dim > 0)
      results[k] = builder.create<nn::PackPrefixOp>(unknown, results[k].getType(), results[k], rows->second.count,
                                                    builder.getI64IntegerAttr(rows->second.dim));
  }
  for (auto &c : counts) {
    results.push_back(c.second);
    resultTypes.push_back(c.second.getType());
  }
  builder.create<func::ReturnOp>(unknown, results);
  func.setType(builder.getFunctionType(argTypes, resultTypes));
  for (size_t k = 0; k < resultNames.size(); ++k)
    func.setResultAttr(k, "nn.name", builder.getStringAttr(resultNames[k]));
  for (size_t k = 0; k < counts.size(); ++k) {
    unsigned index = resultNames.size() + k;
    func.setResultAttr(index, "nn.length_of", builder.getI64IntegerAttr(counts[k].first));
    if (countDims[k] > 0)
      func.setResultAttr(index, "nn.length_dim", builder.getI64IntegerAttr(countDims[k]));
    auto grows = capacityLoops.find(counts[k].second);
    if (grows != capacityLoops.end()) // a run may outgrow its rows: which loop's to grow
      func.setResultAttr(index, "nn.grows_loop", builder.getI64IntegerAttr(grows->second));
  }

  // The sequences and optionals were the lists of their elements
  // (NodeImporter.h): none is used now but by another.
  SmallVector<Operation *> lists;
  func.walk([&](UnrealizedConversionCastOp op) { lists.push_back(op); });
  for (Operation *op : llvm::reverse(lists)) {
    if (!op->use_empty()) {
      error = "internal error: a sequence or optional is still used after the import";
      return nullptr;
    }
    op->erase();
  }

  if (failed(verify(*module))) {
    error = diag.empty() ? "the imported IR does not verify" : diag;
    return nullptr;
  }
  return module;
}

OwningOpRef<ModuleOp> importOnnxModel(MLIRContext &context, const onnx::ModelProto &model,
                                      const ImportOptions &options, std::string &error) {
  context.getOrLoadDialect<nn::NNDialect>();
  context.getOrLoadDialect<func::FuncDialect>();
  OnnxImporterImpl impl(context, model, options);
  return impl.run(error);
}

//===----------------------------------------------------------------------===//
// Node
//===----------------------------------------------------------------------===//

namespace onnximport {

Value Node::in(int i) {
  assert(has(i) && "missing input");
  return importer.lookup(proto.input(i));
}

Optional<ConstValues> Node::constant(int i) {
  if (!has(i))
    return llvm::None;
  return importer.constantOf(proto.input(i), in(i));
}

Optional<ConstValues> Node::knownConstant(int i) {
  if (!has(i))
    return llvm::None;
  if (auto v = constant(i))
    return *v;
  if (Value c = importer.specialize(proto.input(i))) {
    (void)c;
    if (auto v = constant(i))
      return *v;
  }
  // Computed from graph inputs whose values are known (e.g. Cast(size) - 1).
  if (Value c = importer.foldThroughInputs(in(i))) {
    importer.define(proto.input(i), c);
    if (auto v = constant(i))
      return *v;
  }
  return llvm::None;
}

FailureOr<ConstValues> Node::requireConstant(int i, StringRef role) {
  if (auto v = knownConstant(i))
    return *v;
  (void)fail(Twine("input ") + Twine(i) + " ('" + proto.input(i) + "', the " + role +
             ") must be known at compile time: nncc compiles static shapes. Make it an "
             "initializer or a constant, or pass its value as an input");
  return failure();
}

const onnx::AttributeProto *Node::attr(StringRef name) const {
  for (const auto &a : proto.attribute())
    if (a.name() == name)
      return &a;
  return nullptr;
}

int64_t Node::i(StringRef name, int64_t def) const {
  const auto *a = attr(name);
  return a ? a->i() : def;
}

double Node::f(StringRef name, double def) const {
  const auto *a = attr(name);
  return a ? a->f() : def;
}

std::string Node::s(StringRef name, StringRef def) const {
  const auto *a = attr(name);
  return a ? a->s() : def.str();
}

SmallVector<int64_t, 6> Node::ints(StringRef name, ArrayRef<int64_t> def) const {
  const auto *a = attr(name);
  if (!a)
    return SmallVector<int64_t, 6>(def.begin(), def.end());
  return SmallVector<int64_t, 6>(a->ints().begin(), a->ints().end());
}

SmallVector<double, 6> Node::floats(StringRef name) const {
  const auto *a = attr(name);
  SmallVector<double, 6> r;
  if (a)
    for (float x : a->floats())
      r.push_back(x);
  return r;
}

SmallVector<std::string, 4> Node::strings(StringRef name) const {
  const auto *a = attr(name);
  SmallVector<std::string, 4> r;
  if (a)
    for (const auto &x : a->strings())
      r.push_back(x);
  return r;
}

void Node::out(int i, Value v) {
  if (wantsOutput(i))
    importer.define(proto.output(i), v);
}

LogicalResult Node::fail(const Twine &msg) {
  return emitError(loc) << proto.op_type() << ": " << msg;
}

Value Node::constant(const ConstValues &v) { return importer.constantOp(v, loc); }

Value Node::foldResult(Operation *op) {
  SmallVector<Value, 1> results;
  if (succeeded(b.tryFold(op, results)) && !results.empty()) {
    op->erase();
    return results[0];
  }
  return op->getResult(0);
}

Value Node::constI64(ArrayRef<int64_t> values, ArrayRef<int64_t> shape) {
  auto type = RankedTensorType::get(shape, b.getI64Type());
  return b.create<nn::ConstantOp>(loc, nn::makeConst(type, values));
}

Value Node::scalar(double v, Type elt) {
  auto type = RankedTensorType::get({}, elt);
  return b.create<nn::ConstantOp>(loc, nn::makeConst(type, ArrayRef<double>{v}));
}

Value Node::reshape(Value v, ArrayRef<int64_t> shape) {
  if (!v)
    return v;
  if (v.getType().cast<RankedTensorType>().getShape() == shape)
    return v;
  return create<nn::ReshapeOp>(v, i64s(shape), b.getBoolAttr(true));
}

Value Node::cast(Value v, Type elt) {
  if (!v)
    return v;
  if (v.getType().cast<RankedTensorType>().getElementType() == elt)
    return v;
  return create<nn::CastOp>(v, TypeAttr::get(elt));
}

Value Node::transpose(Value v, ArrayRef<int64_t> perm) {
  return create<nn::TransposeOp>(v, i64s(perm));
}

Value Node::expandTo(Value v, ArrayRef<int64_t> shape) {
  if (!v)
    return v;
  if (v.getType().cast<RankedTensorType>().getShape() == shape)
    return v;
  return create<nn::ExpandOp>(v, i64s(shape));
}

Value sliceAxis(Node &n, Value x, int64_t axis, int64_t start, int64_t size, int64_t step) {
  auto shape = x.getType().cast<RankedTensorType>().getShape();
  SmallVector<int64_t> starts(shape.size(), 0), steps(shape.size(), 1), sizes(shape.begin(), shape.end());
  starts[axis] = size ? start : 0;
  steps[axis] = step;
  sizes[axis] = size;
  return n.create<nn::SliceOp>(x, n.i64s(starts), n.i64s(steps), n.i64s(sizes));
}

Value takeAt(Node &n, Value x, int64_t axis, int64_t t) {
  auto s = x.getType().cast<RankedTensorType>().getShape();
  Shape shape(s.begin(), s.end());
  shape.erase(shape.begin() + axis);
  return n.reshape(sliceAxis(n, x, axis, t, 1), shape);
}

Value stack(Node &n, ArrayRef<Value> parts, int64_t axis) {
  SmallVector<Value> expanded;
  for (Value p : parts) {
    auto s = p.getType().cast<RankedTensorType>().getShape();
    Shape shape(s.begin(), s.end());
    shape.insert(shape.begin() + axis, 1);
    expanded.push_back(n.reshape(p, shape));
  }
  if (expanded.size() == 1)
    return expanded[0];
  return n.create<nn::ConcatOp>(expanded, n.b.getI64IntegerAttr(axis));
}

bool normalizeAxes(ArrayRef<int64_t> axes, int64_t rank, SmallVectorImpl<int64_t> &out) {
  std::set<int64_t> s;
  for (int64_t a : axes) {
    int64_t n = nn::normalizeAxis(a, rank);
    if (n < 0)
      return false;
    s.insert(n);
  }
  out.assign(s.begin(), s.end());
  return true;
}

const HandlerMap &handlers() {
  static HandlerMap map = [] {
    HandlerMap m;
    registerElementwiseHandlers(m);
    registerTensorHandlers(m);
    registerNNHandlers(m);
    registerReductionHandlers(m);
    registerLossHandlers(m);
    registerControlFlowHandlers(m);
    registerGeneratorHandlers(m);
    registerSequenceHandlers(m);
    return m;
  }();
  return map;
}

} // namespace onnximport
} // namespace nncc
