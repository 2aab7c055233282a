//===- Commands.h - the nncc subcommands ------------------------*- C++ -*-===//
#ifndef NNCC_TOOLS_NNCC_COMMANDS_H
#define NNCC_TOOLS_NNCC_COMMANDS_H

#include "driver/Compiler.h"
#include "driver/Trainer.h"
#include "tools/nncc/Args.h"

#include <memory>
#include <string>
#include <vector>

namespace nncc {

int runCommand(int argc, char **argv);
int compileCommand(int argc, char **argv);
int benchCommand(int argc, char **argv);
int opsCommand(int argc, char **argv);
int inspectCommand(int argc, char **argv);
int trainCommand(int argc, char **argv);

/// Options shared by every command that compiles (pass debugging, -O).
extern const std::set<std::string> kCompileValued;
extern const std::set<std::string> kCompileFlags;
bool compileOptionsFrom(const Args &args, CompileOptions &options, std::string &error);
/// --input-shape NAME=DxDxD
bool inputShapesFrom(const Args &args, ImportOptions &options, std::string &error);
/// Reads `files`, one per declared graph input (a TensorProto; a
/// SequenceProto for a sequence input, which passes as its elements), into
/// `values` in argument order, and gives their values (and sequences'
/// lengths) to `options`.
bool readInputFiles(const std::vector<TensorSignature> &declared, const std::vector<std::string> &files,
                    ImportOptions &options, std::vector<std::unique_ptr<Tensor>> &values, std::string &error);
/// --threads N: sets the runtime's worker threads (absent: all cores).
bool threadsFrom(const Args &args, std::string &error);

/// The training step of `bench --train` and `inspect --train`: --loss
/// (default sum_squares), --solver (sgd), --batch (the model's own, else
/// 64), --rnn-memory and the compile options.
bool trainStepOptionsFrom(const Args &args, const onnx::ModelProto &model, TrainStepOptions &options,
                          std::string &error);

/// --rnn-memory store-all|recompute-gates|checkpoint|budget=BYTES.
bool rnnMemoryFrom(const Args &args, TrainStepOptions &options, std::string &error);

/// Prints "nncc: error: <msg>" and returns the exit code 1.
int fail(const std::string &message);

/// Element-wise comparison as the ONNX backend runner: |a - e| <= atol +
/// rtol * |e|, NaN equal to NaN, exact for integers. On mismatch sets
/// `report` to the worst element.
bool compareTensors(const Tensor &actual, const Tensor &expected, double rtol, double atol, std::string &report);

} // namespace nncc

#endif
