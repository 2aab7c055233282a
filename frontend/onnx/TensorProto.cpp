//===- TensorProto.cpp ----------------------------------------------------===//
#include "frontend/onnx/TensorProto.h"
#include "runtime/FileUtil.h"

#include "onnx/onnx-data_pb.h"
#include "onnx/onnx_pb.h"

#include <cstring>
#include <fstream>
#include <sstream>

namespace nncc {

static std::string label(const onnx::TensorProto &p) {
  return p.name().empty() ? std::string("tensor") : "tensor '" + p.name() + "'";
}

template <typename Src, typename Dst>
static void copyConverted(const Src &src, Dst *dst) {
  for (int i = 0; i < src.size(); ++i)
    dst[i] = static_cast<Dst>(src.Get(i));
}

bool tensorFromProto(const onnx::TensorProto &proto, const std::string &baseDir, Tensor &out,
                     std::string &error) {
  int code = proto.data_type();
  if (!isSupportedDType(code)) {
    error = label(proto) + " has element type " +
            (code == 8 ? std::string("string") : "code " + std::to_string(code)) +
            ", which nncc does not support";
    return false;
  }
  std::vector<int64_t> shape;
  int64_t n = 1;
  for (int64_t d : proto.dims()) {
    if (d < 0) {
      error = label(proto) + " has a negative dimension";
      return false;
    }
    shape.push_back(d);
    if (d && n > (int64_t(1) << 40) / d) {
      error = label(proto) + " is too large";
      return false;
    }
    n *= d;
  }
  DType dtype = static_cast<DType>(code);
  size_t bytes = (size_t)n * dtypeSize(dtype);

  std::string external;
  const std::string *raw = nullptr;
  if (proto.data_location() == onnx::TensorProto::EXTERNAL) {
    std::string location;
    int64_t offset = 0, length = -1;
    for (const auto &kv : proto.external_data()) {
      if (kv.key() == "location") location = kv.value();
      else if (kv.key() == "offset") offset = std::stoll(kv.value());
      else if (kv.key() == "length") length = std::stoll(kv.value());
    }
    std::string path = baseDir.empty() ? location : baseDir + "/" + location;
    std::ifstream in(path, std::ios::binary);
    if (!in) {
      error = label(proto) + " refers to external data file '" + path + "', which cannot be opened";
      return false;
    }
    in.seekg(offset);
    external.resize(length >= 0 ? (size_t)length : bytes);
    in.read(&external[0], (std::streamsize)external.size());
    if ((size_t)in.gcount() != external.size()) {
      error = label(proto) + ": external data file '" + path + "' is shorter than expected";
      return false;
    }
    raw = &external;
  } else if (proto.has_raw_data()) {
    raw = &proto.raw_data();
  }

  Tensor t(dtype, shape);
  if (raw) {
    if (raw->size() != bytes) {
      error = label(proto) + " holds " + std::to_string(raw->size()) + " bytes of data, but " +
              dtypeName(dtype) + shapeToString(shape) + " needs " + std::to_string(bytes);
      return false;
    }
    if (bytes)
      std::memcpy(t.data(), raw->data(), bytes);
    out = std::move(t);
    return true;
  }

  auto mismatch = [&](int64_t have) {
    error = label(proto) + " holds " + std::to_string(have) + " elements, but " + dtypeName(dtype) +
            shapeToString(shape) + " needs " + std::to_string(n);
    return false;
  };
  switch (dtype) {
  case DType::Float32:
    if (proto.float_data_size() != n) return mismatch(proto.float_data_size());
    copyConverted(proto.float_data(), t.data<float>());
    break;
  case DType::Float64:
    if (proto.double_data_size() != n) return mismatch(proto.double_data_size());
    copyConverted(proto.double_data(), t.data<double>());
    break;
  case DType::Int64:
    if (proto.int64_data_size() != n) return mismatch(proto.int64_data_size());
    copyConverted(proto.int64_data(), t.data<int64_t>());
    break;
  case DType::UInt32:
    if (proto.uint64_data_size() != n) return mismatch(proto.uint64_data_size());
    copyConverted(proto.uint64_data(), t.data<uint32_t>());
    break;
  case DType::UInt64:
    if (proto.uint64_data_size() != n) return mismatch(proto.uint64_data_size());
    copyConverted(proto.uint64_data(), t.data<uint64_t>());
    break;
  case DType::Int32:
    if (proto.int32_data_size() != n) return mismatch(proto.int32_data_size());
    copyConverted(proto.int32_data(), t.data<int32_t>());
    break;
  case DType::Int16:
    if (proto.int32_data_size() != n) return mismatch(proto.int32_data_size());
    copyConverted(proto.int32_data(), t.data<int16_t>());
    break;
  case DType::UInt16: case DType::Float16: case DType::BFloat16:
    if (proto.int32_data_size() != n) return mismatch(proto.int32_data_size());
    copyConverted(proto.int32_data(), t.data<uint16_t>());
    break;
  case DType::Int8:
    if (proto.int32_data_size() != n) return mismatch(proto.int32_data_size());
    copyConverted(proto.int32_data(), t.data<int8_t>());
    break;
  case DType::UInt8: case DType::Bool:
    if (proto.int32_data_size() != n) return mismatch(proto.int32_data_size());
    copyConverted(proto.int32_data(), t.data<uint8_t>());
    break;
  default:
    error = label(proto) + ": unsupported element type";
    return false;
  }
  out = std::move(t);
  return true;
}

void tensorToProto(const Tensor &tensor, const std::string &name, onnx::TensorProto &proto) {
  proto.Clear();
  proto.set_name(name);
  proto.set_data_type(static_cast<int>(tensor.dtype()));
  for (int64_t d : tensor.shape())
    proto.add_dims(d);
  proto.set_raw_data(tensor.data(), tensor.byteSize());
}

static std::string dirOf(const std::string &path) {
  auto slash = path.find_last_of('/');
  return slash == std::string::npos ? std::string() : path.substr(0, slash);
}

bool readTensorFile(const std::string &path, Tensor &out, std::string &name, std::string &error) {
  std::string bytes;
  if (!readFile(path, bytes, error))
    return false;
  onnx::TensorProto proto;
  if (!proto.ParseFromString(bytes)) {
    error = "'" + path + "' is not a serialized ONNX TensorProto (protobuf parse failed)";
    return false;
  }
  if (proto.dims_size() == 0 && proto.data_type() == 0) {
    error = "'" + path + "' is not a serialized ONNX TensorProto (no element type)";
    return false;
  }
  if (!tensorFromProto(proto, dirOf(path), out, error)) {
    error = "'" + path + "': " + error;
    return false;
  }
  name = proto.name();
  return true;
}

static bool sequenceFromProto(const onnx::SequenceProto &proto, const std::string &path, std::vector<Tensor> &out,
                              std::string &error) {
  if (proto.elem_type() != onnx::SequenceProto::TENSOR && proto.elem_type() != onnx::SequenceProto::UNDEFINED) {
    error = "'" + path + "' is a sequence of non-tensors (element type " + std::to_string(proto.elem_type()) +
            "), which nncc does not support";
    return false;
  }
  out.resize(proto.tensor_values_size());
  for (int k = 0; k < proto.tensor_values_size(); ++k)
    if (!tensorFromProto(proto.tensor_values(k), dirOf(path), out[k], error)) {
      error = "'" + path + "', element " + std::to_string(k) + ": " + error;
      return false;
    }
  return true;
}

bool readValueFile(const std::string &path, const std::string &kind, ValueFile &out, std::string &error) {
  out = ValueFile();
  if (kind == "tensor") {
    out.tensors.resize(1);
    std::string name;
    return readTensorFile(path, out.tensors[0], name, error);
  }
  std::string bytes;
  if (!readFile(path, bytes, error))
    return false;
  if (kind == "sequence") {
    onnx::SequenceProto proto;
    if (!proto.ParseFromString(bytes)) {
      error = "'" + path + "' is not a serialized ONNX SequenceProto (protobuf parse failed)";
      return false;
    }
    out.sequence = true;
    return sequenceFromProto(proto, path, out.tensors, error);
  }
  if (kind == "optional") {
    onnx::OptionalProto proto;
    if (!proto.ParseFromString(bytes)) {
      error = "'" + path + "' is not a serialized ONNX OptionalProto (protobuf parse failed)";
      return false;
    }
    if (proto.has_tensor_value()) {
      out.tensors.resize(1);
      if (!tensorFromProto(proto.tensor_value(), dirOf(path), out.tensors[0], error)) {
        error = "'" + path + "': " + error;
        return false;
      }
      return true;
    }
    if (proto.has_sequence_value()) {
      out.sequence = true;
      return sequenceFromProto(proto.sequence_value(), path, out.tensors, error);
    }
    if (proto.elem_type() != onnx::OptionalProto::TENSOR && proto.elem_type() != onnx::OptionalProto::SEQUENCE &&
        proto.elem_type() != onnx::OptionalProto::UNDEFINED) {
      error = "'" + path + "' is an optional of a type nncc does not support (element type " +
              std::to_string(proto.elem_type()) + ")";
      return false;
    }
    out.present = false;
    return true;
  }
  error = "'" + path + "': nncc does not read values of ONNX type " + kind;
  return false;
}

bool writeTensorFile(const std::string &path, const Tensor &tensor, const std::string &name,
                     std::string &error) {
  onnx::TensorProto proto;
  tensorToProto(tensor, name, proto);
  std::string bytes;
  proto.SerializeToString(&bytes);
  return writeFileAtomic(path, bytes, error);
}

} // namespace nncc
