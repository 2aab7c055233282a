//===- Profile.h - per-op timing of compiled graphs -------------*- C++ -*-===//
//
// Graphs compiled with profiling call nncc_profile_begin/end(meta = [op id])
// around every op; `nncc bench --profile` prints where the time goes.
//
//===----------------------------------------------------------------------===//
#ifndef NNCC_RUNTIME_PROFILE_H
#define NNCC_RUNTIME_PROFILE_H

#include <cstdint>
#include <string>
#include <vector>

extern "C" {
void nncc_profile_begin(const int64_t *meta, void *const *buffers);
void nncc_profile_end(const int64_t *meta, void *const *buffers);
}

namespace nncc {

struct ProfileEntry {
  int64_t id;
  double totalMs;
  int64_t count;
};

/// Clears the counters.
void profileReset();
/// The counters of every op id that ran.
std::vector<ProfileEntry> profileEntries();

} // namespace nncc

#endif
