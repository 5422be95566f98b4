#include "node/raft/planted_bugs.h"

#include <array>

namespace qdsim::raft {
namespace {

// Names indexed by PlantedBug; these strings appear in scenario files, so never rename one.
constexpr std::array<std::string_view, static_cast<size_t>(PlantedBug::kCount)> kNames = {
    "commit_old_term_by_counting", "vote_without_log_check", "no_conflict_truncation",
    "apply_uncommitted",           "ack_before_sync",        "forget_vote_on_restart",
    "double_vote_same_term",
};

}  // namespace

std::string_view PlantedBugName(PlantedBug bug) { return kNames[static_cast<size_t>(bug)]; }

absl::StatusOr<PlantedBug> ParsePlantedBug(std::string_view name) { return world::ParsePlanted<PlantedBug>(name); }

}  // namespace qdsim::raft
