//===- Bundle.h - ahead-of-time bundles: object + header + runtime -*- C++ -*-===//
#ifndef NNCC_DRIVER_BUNDLE_H
#define NNCC_DRIVER_BUNDLE_H

#include "codegen/Target.h"
#include "driver/Compiler.h"

#include <string>
#include <vector>

namespace nncc {

struct BundleOptions {
  std::string name; ///< C identifier prefixing every symbol
  TargetSpec target;
  bool externalWeights = false;
  CompileOptions compile;
};

/// The files of a bundle, in memory until written.
struct Bundle {
  std::string name;
  std::string object;  ///< NAME.o
  std::string header;  ///< NAME.h
  std::string weights; ///< NAME.weights.bin (external weights only)
  std::string runtimeArchive; ///< path of the prebuilt libnncc_rt.a for the target ("" if none)
  std::string runtimeSources; ///< the kernel sources, when no archive is prebuilt
  int64_t workspaceBytes = 0, weightBytes = 0;
  std::vector<TensorSignature> inputs, outputs;
  /// Outputs whose rows are known only at run time (a loop's scan outputs):
  /// their buffers hold dims[0] rows, NAME_run_rows says how many were written.
  std::vector<int> countedOutputs;
  /// The dimension each counts along (0: rows); along a later one the used
  /// entries come first, packed as a tensor of that extent.
  std::vector<int> countedDims;
  /// Whether each may need more rows than its buffer holds (a loop's scan
  /// output whose iterations only the run knows: the run returns 2).
  std::vector<bool> countedMayRunOut;
};

/// Imports, compiles and emits `model` for `options.target`.
bool compileBundle(const onnx::ModelProto &model, const ImportOptions &importOptions,
                   const BundleOptions &options, Bundle &bundle, std::string &error);

/// Writes the bundle's files into `dir` (created if needed): each through a
/// temporary name and a rename, and nothing is left behind on failure.
bool writeBundle(const Bundle &bundle, const std::string &dir, std::vector<std::string> &written,
                 std::string &error);

/// The link line a user runs to build `program.c` against the bundle.
std::string linkCommand(const Bundle &bundle, const TargetSpec &target, const std::string &dir);

/// `stem` made a C identifier: "resnet-18.v2" -> "resnet_18_v2".
std::string cIdentifier(const std::string &stem);

} // namespace nncc

#endif
