#include "node/shard/cluster_bugs.h"

#include <array>

namespace qdsim::shard {
namespace {

// Names indexed by ClusterBug; these strings appear in scenario options, so never rename one.
constexpr std::array<std::string_view, static_cast<size_t>(ClusterBug::kCount)> kNames = {
    "shard_ack_before_sync",
    "transfer_no_forward",
    "search_shard_quota",
};

}  // namespace

std::string_view PlantedBugName(ClusterBug bug) { return kNames[static_cast<size_t>(bug)]; }

absl::StatusOr<ClusterBug> ParseClusterBug(std::string_view name) { return world::ParsePlanted<ClusterBug>(name); }

}  // namespace qdsim::shard
