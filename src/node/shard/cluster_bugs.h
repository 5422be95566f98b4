// Planted bugs of the cluster layers (shard store, replication, transfers, reads): deliberate,
// switchable deviations that the simulator's Qdrant checkers must catch (see world/planted.h).
// Each has a stable name used by scenario options (`planted_bug`), `qdsim planted` and the tests:
//
//   ASSIGN_OR_RETURN(shard::ClusterBug bug, shard::ParseClusterBug("shard_ack_before_sync"));
//   options.cluster_bugs.Set(bug);
//
// They live here, in the lowest layer that has one, so that every layer above can read the set.
#ifndef QDSIM_NODE_SHARD_CLUSTER_BUGS_H_
#define QDSIM_NODE_SHARD_CLUSTER_BUGS_H_

#include <cstddef>
#include <string_view>

#include "absl/status/statusor.h"
#include "node/world/planted.h"

namespace qdsim::shard {

enum class ClusterBug : size_t {
  // Shard store: a write is applied and acknowledged when its WAL record is appended, before the
  // sync that makes it durable completes (a crash then loses an acknowledged write).
  kShardAckBeforeSync = 0,
  // Transfers: the source of a stream_records transfer does not forward the writes it takes
  // during the transfer to the Partial target, which misses them.
  kTransferNoForward,
  // Reads: a search over several shards asks each shard for only ceil((offset + limit) / shards)
  // hits before merging, as if the best hits were spread evenly over the shards.
  kSearchShardQuota,
  // Not a bug: the number of bugs above.
  kCount,
};

// The stable name of `bug`, e.g. "shard_ack_before_sync". REQUIRES: bug != kCount.
std::string_view PlantedBugName(ClusterBug bug);

// The bug named `name`, or InvalidArgument listing the known names.
absl::StatusOr<ClusterBug> ParseClusterBug(std::string_view name);

// A set of switched-on bugs. Default-constructed: all off.
using ClusterBugs = world::PlantedSet<ClusterBug>;

}  // namespace qdsim::shard

#endif  // QDSIM_NODE_SHARD_CLUSTER_BUGS_H_
