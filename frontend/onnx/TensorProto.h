//===- TensorProto.h - ONNX TensorProto <-> runtime tensors ----*- C++ -*-===//
#ifndef NNCC_FRONTEND_ONNX_TENSORPROTO_H
#define NNCC_FRONTEND_ONNX_TENSORPROTO_H

#include "runtime/Tensor.h"

#include <string>
#include <vector>

namespace onnx {
class TensorProto;
}

namespace nncc {

/// Converts a TensorProto (raw_data, typed fields or external data found
/// relative to `baseDir`) to a tensor. On failure returns false and sets
/// `error` to a message naming the tensor and the problem.
bool tensorFromProto(const onnx::TensorProto &proto, const std::string &baseDir, Tensor &out,
                     std::string &error);

/// Fills `proto` (name, dims, data_type, raw_data) from a tensor.
void tensorToProto(const Tensor &tensor, const std::string &name, onnx::TensorProto &proto);

/// Reads a serialized TensorProto file (the ONNX backend-test `input_0.pb`).
bool readTensorFile(const std::string &path, Tensor &out, std::string &name, std::string &error);
/// A backend test's value of a graph input or output: a tensor, a sequence
/// of tensors or an optional (of either).
struct ValueFile {
  std::vector<Tensor> tensors; ///< the tensor, or the sequence's elements
  bool sequence = false;       ///< a sequence (its elements in `tensors`)
  bool present = true;         ///< false for an empty optional
};
/// Reads a serialized TensorProto, SequenceProto or OptionalProto, as `kind`
/// ("tensor", "sequence", "optional"; TensorSignature::kind) says.
bool readValueFile(const std::string &path, const std::string &kind, ValueFile &out, std::string &error);
/// Writes a tensor as a serialized TensorProto, atomically (temp + rename).
bool writeTensorFile(const std::string &path, const Tensor &tensor, const std::string &name,
                     std::string &error);

} // namespace nncc

#endif
