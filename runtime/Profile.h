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

/// Task-level tracing for kernels that schedule their own work (the cells
/// of a stacked LSTM's wavefront): while enabled, traceTask records each
/// task (thread-safe); traceWriteChrome writes them as a Chrome trace
/// (chrome://tracing, ui.perfetto.dev), one row per thread.
void traceEnable(bool on);
bool traceEnabled();
/// Microseconds on the trace clock.
double traceNow();
void traceTask(const char *name, int64_t layer, int64_t step, int thread, double startUs, double endUs);
bool traceWriteChrome(const std::string &path, std::string &error);

} // namespace nncc

#endif
