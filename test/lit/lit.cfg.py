# lit configuration of nncc's FileCheck tests (dialect and passes).
import os
import lit.formats

config.name = "nncc"
config.test_format = lit.formats.ShTest(not lit_config.useValgrind)
config.suffixes = [".mlir", ".test"]
config.test_source_root = os.path.dirname(__file__)
config.test_exec_root = os.path.join(config.nncc_obj_root, "test", "lit")
config.excludes = ["lit.cfg.py", "lit.site.cfg.py.in", "Inputs"]
config.environment["PATH"] = os.pathsep.join(
    [config.nncc_tools_dir, config.llvm_tools_dir, config.environment.get("PATH", "")])
config.substitutions.append(("nncc-opt", os.path.join(config.nncc_tools_dir, "nncc-opt")))
config.substitutions.append(("FileCheck", os.path.join(config.llvm_tools_dir, "FileCheck")))
config.substitutions.append(("%python", "/usr/bin/python3"))
