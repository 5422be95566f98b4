// A set of planted bugs: deliberate, switchable deviations from correct behaviour, used to prove
// that the simulator's checkers and the tests catch the class of bug they claim to catch. Each layer
// declares its own enum (ending in kCount) and a `PlantedBugName(Bug)` in the enum's namespace,
// giving each bug a stable name (scenario files use it: never rename one):
//
//   enum class PlantedBug : size_t { kAckBeforeSync = 0, ..., kCount };
//   std::string_view PlantedBugName(PlantedBug bug);
//   using PlantedBugs = world::PlantedSet<PlantedBug>;
//   ASSIGN_OR_RETURN(PlantedBug bug, world::ParsePlanted<PlantedBug>("ack_before_sync"));
//
// Every bug is off by default and switched at run time (no separate build).
// Thread-safety: PlantedSet is a value type; no synchronisation.
#ifndef QDSIM_NODE_WORLD_PLANTED_H_
#define QDSIM_NODE_WORLD_PLANTED_H_

#include <bitset>
#include <cstddef>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace qdsim::world {

template <typename Bug>
class PlantedSet {
 public:
  static constexpr size_t kSize = static_cast<size_t>(Bug::kCount);

  PlantedSet() = default;  // all off

  // True if `bug` is switched on.
  bool Has(Bug bug) const { return bits_.test(static_cast<size_t>(bug)); }
  // Switches `bug` on (or off when `on` is false).
  void Set(Bug bug, bool on = true) { bits_.set(static_cast<size_t>(bug), on); }
  // True if no bug is switched on.
  bool None() const { return bits_.none(); }

  // Comma-separated names of the switched-on bugs in declaration order; "" if none.
  std::string ToString() const {
    std::string out;
    for (size_t i = 0; i < kSize; ++i) {
      if (!bits_.test(i)) continue;
      if (!out.empty()) out += ",";
      out += PlantedBugName(static_cast<Bug>(i));
    }
    return out;
  }

  friend bool operator==(const PlantedSet&, const PlantedSet&) = default;

 private:
  std::bitset<kSize> bits_;  // bit i set: Bug(i) is on
};

// The bug of enum `Bug` named `name`, or InvalidArgument listing the known names.
template <typename Bug>
absl::StatusOr<Bug> ParsePlanted(std::string_view name) {
  std::string known;
  for (size_t i = 0; i < PlantedSet<Bug>::kSize; ++i) {
    const std::string_view n = PlantedBugName(static_cast<Bug>(i));
    if (n == name) return static_cast<Bug>(i);
    if (!known.empty()) known += ", ";
    known += n;
  }
  return absl::InvalidArgumentError("unknown planted bug \"" + std::string(name) + "\"; known: " + known);
}

}  // namespace qdsim::world

#endif  // QDSIM_NODE_WORLD_PLANTED_H_
