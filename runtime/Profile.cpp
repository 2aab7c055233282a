//===- Profile.cpp --------------------------------------------------------===//
#include "runtime/Profile.h"

#include <atomic>
#include <chrono>
#include <cstdio>
#include <mutex>

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

namespace {
struct TraceRecord {
  const char *name;
  int64_t layer, step;
  int thread;
  double start, end;
};
std::atomic<bool> tracing{false};
std::mutex traceMutex;
std::vector<TraceRecord> traceRecords;
} // namespace

void traceEnable(bool on) {
  std::lock_guard<std::mutex> lock(traceMutex);
  if (on)
    traceRecords.clear();
  tracing = on;
}

bool traceEnabled() { return tracing.load(std::memory_order_relaxed); }

double traceNow() { return now() / 1e3; }

void traceTask(const char *name, int64_t layer, int64_t step, int thread, double startUs, double endUs) {
  std::lock_guard<std::mutex> lock(traceMutex);
  traceRecords.push_back({name, layer, step, thread, startUs, endUs});
}

bool traceWriteChrome(const std::string &path, std::string &error) {
  std::lock_guard<std::mutex> lock(traceMutex);
  std::string tmp = path + ".tmp";
  FILE *f = std::fopen(tmp.c_str(), "w");
  if (!f) {
    error = "cannot write the trace " + path;
    return false;
  }
  double origin = traceRecords.empty() ? 0 : traceRecords.front().start;
  for (auto &r : traceRecords)
    origin = r.start < origin ? r.start : origin;
  std::fprintf(f, "{\"traceEvents\": [\n");
  for (size_t k = 0; k < traceRecords.size(); ++k) {
    const TraceRecord &r = traceRecords[k];
    std::fprintf(f,
                 "  {\"name\": \"%s l%lld t%lld\", \"cat\": \"%s\", \"ph\": \"X\", \"pid\": 1, \"tid\": %d, "
                 "\"ts\": %.3f, \"dur\": %.3f, \"args\": {\"layer\": %lld, \"step\": %lld}}%s\n",
                 r.name, (long long)r.layer, (long long)r.step, r.name, r.thread, r.start - origin, r.end - r.start,
                 (long long)r.layer, (long long)r.step, k + 1 < traceRecords.size() ? "," : "");
  }
  std::fprintf(f, "], \"displayTimeUnit\": \"ms\"}\n");
  bool ok = std::fclose(f) == 0 && std::rename(tmp.c_str(), path.c_str()) == 0;
  if (!ok)
    error = "cannot write the trace " + path;
  return ok;
}

} // namespace nncc
