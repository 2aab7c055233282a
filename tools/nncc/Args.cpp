//===- Args.cpp -----------------------------------------------------------===//
#include "tools/nncc/Args.h"

namespace nncc {

bool Args::parse(int argc, char **argv, int first, std::string &error) {
  for (int i = first; i < argc; ++i) {
    std::string a = argv[i];
    if (a.size() < 2 || a[0] != '-' || a == "-") {
      pos.push_back(a);
      continue;
    }
    std::string name = a.substr(a[1] == '-' ? 2 : 1), value;
    bool hasValue = false;
    if (auto eq = name.find('='); eq != std::string::npos) {
      value = name.substr(eq + 1);
      name = name.substr(0, eq);
      hasValue = true;
    }
    // -O0 .. -O3
    if (name.size() == 2 && name[0] == 'O' && isdigit((unsigned char)name[1])) {
      values["O"].push_back(name.substr(1));
      continue;
    }
    if (flags.count(name)) {
      if (hasValue) {
        error = "option --" + name + " takes no value";
        return false;
      }
      setFlags.insert(name);
      continue;
    }
    if (!valued.count(name)) {
      error = "unknown option '" + a + "'; this command accepts:";
      for (auto &v : valued)
        error += v == "O" ? " -O0..-O3" : " --" + v + "=...";
      for (auto &f : flags)
        error += " --" + f;
      return false;
    }
    if (!hasValue) {
      if (i + 1 >= argc) {
        error = "option --" + name + " needs a value";
        return false;
      }
      value = argv[++i];
    }
    values[name].push_back(value);
  }
  return true;
}

} // namespace nncc
