//===- Dataset.cpp - numeric CSV data for training ------------------------===//
#include "driver/Dataset.h"

#include "runtime/FileUtil.h"

#include <zlib.h>

#include <cmath>
#include <cstdlib>

namespace nncc {

static bool gunzip(const std::string &in, std::string &out, std::string &error) {
  z_stream s{};
  if (inflateInit2(&s, 16 + MAX_WBITS) != Z_OK) {
    error = "zlib initialization failed";
    return false;
  }
  s.next_in = reinterpret_cast<Bytef *>(const_cast<char *>(in.data()));
  s.avail_in = (uInt)in.size();
  char buf[1 << 16];
  int rc;
  do {
    s.next_out = reinterpret_cast<Bytef *>(buf);
    s.avail_out = sizeof(buf);
    rc = inflate(&s, Z_NO_FLUSH);
    if (rc != Z_OK && rc != Z_STREAM_END) {
      inflateEnd(&s);
      error = "the gzip data is corrupt or truncated";
      return false;
    }
    out.append(buf, sizeof(buf) - s.avail_out);
  } while (rc != Z_STREAM_END);
  inflateEnd(&s);
  return true;
}

bool loadCsv(const std::string &path, int64_t labelColumn, Dataset &data, std::string &error) {
  std::string raw, text;
  if (!readFile(path, raw, error))
    return false;
  if (raw.size() >= 2 && (unsigned char)raw[0] == 0x1f && (unsigned char)raw[1] == 0x8b) {
    if (!gunzip(raw, text, error)) {
      error = "'" + path + "': " + error;
      return false;
    }
  } else {
    text.swap(raw);
  }
  data = Dataset();
  int64_t columns = -1, line = 0;
  size_t pos = 0;
  std::vector<double> row;
  while (pos < text.size()) {
    size_t end = text.find('\n', pos);
    if (end == std::string::npos)
      end = text.size();
    std::string l = text.substr(pos, end - pos);
    pos = end + 1;
    ++line;
    if (!l.empty() && l.back() == '\r')
      l.pop_back();
    if (l.find_first_not_of(" \t") == std::string::npos)
      continue;
    row.clear();
    size_t at = 0;
    bool numeric = true;
    int64_t col = 0;
    std::string bad;
    while (true) {
      size_t comma = l.find(',', at);
      std::string cell = l.substr(at, comma == std::string::npos ? std::string::npos : comma - at);
      ++col;
      const char *c = cell.c_str();
      char *stop = nullptr;
      double v = std::strtod(c, &stop);
      while (stop && (*stop == ' ' || *stop == '\t'))
        ++stop;
      if (cell.find_first_not_of(" \t") == std::string::npos || *stop || !std::isfinite(v)) {
        if (numeric)
          bad = "column " + std::to_string(col) + " ('" + cell + "')";
        numeric = false;
      }
      row.push_back(v);
      if (comma == std::string::npos)
        break;
      at = comma + 1;
    }
    if (!numeric) {
      if (data.rows == 0 && columns < 0) { // a header
        columns = (int64_t)row.size();
        continue;
      }
      error = "'" + path + "' line " + std::to_string(line) + ": " + bad + " is not a number";
      return false;
    }
    if (columns < 0)
      columns = (int64_t)row.size();
    if ((int64_t)row.size() != columns) {
      error = "'" + path + "' line " + std::to_string(line) + ": " + std::to_string(row.size()) +
              " columns, but the earlier lines have " + std::to_string(columns);
      return false;
    }
    int64_t label = labelColumn < 0 ? columns - 1 : labelColumn;
    if (label >= columns) {
      error = "label column " + std::to_string(label + 1) + " does not exist; '" + path + "' has " +
              std::to_string(columns) + " columns";
      return false;
    }
    for (int64_t k = 0; k < columns; ++k)
      if (k != label)
        data.x.push_back((float)row[k]);
    data.y.push_back(row[label]);
    data.line.push_back(line);
    ++data.rows;
  }
  if (data.rows == 0) {
    error = "'" + path + "' has no data rows";
    return false;
  }
  data.features = columns - 1;
  return true;
}

} // namespace nncc
