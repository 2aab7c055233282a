//===- Args.h - command-line parsing for the nncc tool ----------*- C++ -*-===//
#ifndef NNCC_TOOLS_NNCC_ARGS_H
#define NNCC_TOOLS_NNCC_ARGS_H

#include <map>
#include <set>
#include <string>
#include <vector>

namespace nncc {

/// Options as `--name value`, `--name=value`, `-name=value` or a flag.
/// Unknown options are errors that list what the command accepts.
class Args {
public:
  /// `valued` options take a value; `flags` take none. Both without dashes.
  Args(std::set<std::string> valued, std::set<std::string> flags) : valued(std::move(valued)), flags(std::move(flags)) {}
  bool parse(int argc, char **argv, int first, std::string &error);

  bool has(const std::string &name) const { return values.count(name) || setFlags.count(name); }
  std::string get(const std::string &name, const std::string &def = "") const {
    auto it = values.find(name);
    return it == values.end() || it->second.empty() ? def : it->second.back();
  }
  std::vector<std::string> all(const std::string &name) const {
    auto it = values.find(name);
    return it == values.end() ? std::vector<std::string>() : it->second;
  }
  const std::vector<std::string> &positional() const { return pos; }

private:
  std::set<std::string> valued, flags;
  std::map<std::string, std::vector<std::string>> values;
  std::set<std::string> setFlags;
  std::vector<std::string> pos;
};

} // namespace nncc

#endif
