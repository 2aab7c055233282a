//===- Profile.cpp --------------------------------------------------------===//
#include "runtime/Profile.h"

#include <chrono>

namespace {
constexpr int64_t kMaxOps = 1 << 16;
struct Counter {
  int64_t ns = 0, count = 0, start = 0;
};
Counter counters[kMaxOps];

int64_t now() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}
} // namespace

extern "C" void nncc_profile_begin(const int64_t *meta, void *const *) {
  if (meta[0] >= 0 && meta[0] < kMaxOps)
    counters[meta[0]].start = now();
}

extern "C" void nncc_profile_end(const int64_t *meta, void *const *) {
  if (meta[0] >= 0 && meta[0] < kMaxOps) {
    Counter &c = counters[meta[0]];
    c.ns += now() - c.start;
    ++c.count;
  }
}

namespace nncc {

void profileReset() {
  for (auto &c : counters)
    c = Counter();
}

std::vector<ProfileEntry> profileEntries() {
  std::vector<ProfileEntry> r;
  for (int64_t k = 0; k < kMaxOps; ++k)
    if (counters[k].count)
      r.push_back({k, counters[k].ns / 1e6, counters[k].count});
  return r;
}

} // namespace nncc
