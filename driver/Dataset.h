//===- Dataset.h - numeric CSV data for training ----------------*- C++ -*-===//
#ifndef NNCC_DRIVER_DATASET_H
#define NNCC_DRIVER_DATASET_H

#include <cstdint>
#include <string>
#include <vector>

namespace nncc {

/// Rows of numbers: features and one label per row.
struct Dataset {
  int64_t rows = 0, features = 0;
  std::vector<float> x;     ///< rows x features
  std::vector<double> y;    ///< the label column
  std::vector<int64_t> line; ///< 1-based line of each row in the file
};

/// Reads a CSV (or gzip-compressed CSV, recognised by content) of numbers,
/// one row per line, all with the same number of columns. `labelColumn` is
/// a 0-based column index, or -1 for the last. A header line (first line
/// not numeric) is skipped. Errors name the line and column.
bool loadCsv(const std::string &path, int64_t labelColumn, Dataset &data, std::string &error);

} // namespace nncc

#endif
