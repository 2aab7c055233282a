//===- main.cpp - the nncc command-line tool ------------------------------===//
#include "tools/nncc/Commands.h"

#include <cstdio>
#include <cstring>

static const char *kHelp = R"(nncc - a neural-network compiler

usage: nncc <command> [options]

commands:
  run MODEL      compile a model for this machine and run it (JIT)
  compile MODEL  compile a model ahead of time for a device (-target=arm|x86|...)
  bench MODEL    time a compiled model (median, min, planned memory)
  inspect MODEL  the compiled graph op by op: shapes, buffers, memory plan
  train MODEL    train a model on CSV data (autodiff, solvers, snapshots)
  ops            list the ONNX operators nncc imports

Run `nncc <command> --help` for the options of a command.

Quick example (after ./scripts/demo.sh has built the models):
  nncc run build/models/mlp/model.onnx --test-data build/models/mlp/test_data_set_0
)";

int main(int argc, char **argv) {
  if (argc < 2 || !std::strcmp(argv[1], "--help") || !std::strcmp(argv[1], "-h") || !std::strcmp(argv[1], "help")) {
    std::printf("%s", kHelp);
    return argc < 2 ? 2 : 0;
  }
  std::string cmd = argv[1];
  if (cmd == "run")
    return nncc::runCommand(argc, argv);
  if (cmd == "bench")
    return nncc::benchCommand(argc, argv);
  if (cmd == "compile")
    return nncc::compileCommand(argc, argv);
  if (cmd == "inspect")
    return nncc::inspectCommand(argc, argv);
  if (cmd == "train")
    return nncc::trainCommand(argc, argv);
  if (cmd == "ops")
    return nncc::opsCommand(argc, argv);
  std::fprintf(stderr, "nncc: unknown command '%s'\n\n%s", cmd.c_str(), kHelp);
  return 2;
}
