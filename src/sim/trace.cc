#include "sim/trace.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "node/world/strings.h"

namespace qdsim::sim {

std::string Trace::Format(world::Instant at, uint64_t node, std::string_view kind,
                          std::string_view details) {
  const int64_t us = at.time_since_epoch().count();
  std::string line = absl::StrFormat("%d.%06d ", us / 1000000, us % 1000000);
  if (node == 0) {
    absl::StrAppend(&line, "sim ");
  } else {
    absl::StrAppend(&line, "n", node, " ");
  }
  absl::StrAppend(&line, world::Sv(kind));
  if (!details.empty()) absl::StrAppend(&line, " ", world::Sv(details));
  return line;
}

void Trace::Record(world::Instant at, uint64_t node, std::string_view kind,
                   std::string_view details) {
  std::string line = Format(at, node, kind, details);
  for (unsigned char c : line) {
    hash_ ^= c;
    hash_ *= 0x100000001b3ULL;
  }
  hash_ ^= '\n';
  hash_ *= 0x100000001b3ULL;
  ++line_count_;
  if (sink_) sink_(line);
  if (keep_lines_) lines_.push_back(std::move(line));
}

}  // namespace qdsim::sim
