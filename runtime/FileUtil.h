//===- FileUtil.h - whole-file reads and atomic writes ----------*- C++ -*-===//
#ifndef NNCC_RUNTIME_FILEUTIL_H
#define NNCC_RUNTIME_FILEUTIL_H

#include <string>

namespace nncc {

/// Reads a whole file; on failure sets `error` naming the path and the cause.
bool readFile(const std::string &path, std::string &out, std::string &error);
/// Writes `path` through a temporary file in the same directory and a rename,
/// so readers never see a partial file and a crash leaves the old one intact.
bool writeFileAtomic(const std::string &path, const std::string &bytes, std::string &error);
/// Creates a directory and its parents; true when it exists afterwards.
bool makeDirs(const std::string &path, std::string &error);

} // namespace nncc

#endif
