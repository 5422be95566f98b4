// Trace: one line per simulator event, and a hash that identifies the run.
//
// Line format (fixed, so that traces diff cleanly):
//   <seconds with 6 decimals> <node: n1..nN, or "sim"> <kind> <details>
//   0.012345 n2 deliver from=n1 bytes=17
//
// Every line is folded into a 64-bit FNV-1a hash as it is recorded; two runs of the same
// (scenario, seed, build) must produce the same hash (the determinism check). Lines are kept in memory
// only when asked (for the determinism check's diff) and streamed to a sink when one is set (--trace).
//
// Thread-safety: none.
#ifndef QDSIM_SIM_TRACE_H_
#define QDSIM_SIM_TRACE_H_

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "node/world/time.h"

namespace qdsim::sim {

class Trace {
 public:
  using Sink = std::function<void(std::string_view line)>;

  // Node 0 is the simulator itself.
  void Record(world::Instant at, uint64_t node, std::string_view kind, std::string_view details);

  // Streams every later line to `sink` (without a trailing newline).
  void set_sink(Sink sink) { sink_ = std::move(sink); }
  // Keeps every later line in memory (see lines()).
  void set_keep_lines(bool keep) { keep_lines_ = keep; }

  uint64_t hash() const { return hash_; }
  uint64_t line_count() const { return line_count_; }
  const std::vector<std::string>& lines() const { return lines_; }

  // Formats one line exactly as Record() hashes it.
  static std::string Format(world::Instant at, uint64_t node, std::string_view kind,
                            std::string_view details);

 private:
  uint64_t hash_ = 0xcbf29ce484222325ULL;  // FNV-1a offset basis
  uint64_t line_count_ = 0;
  bool keep_lines_ = false;
  std::vector<std::string> lines_;
  Sink sink_;
};

}  // namespace qdsim::sim

#endif  // QDSIM_SIM_TRACE_H_
