// Qdrant's cluster JSON (SPEC.md §6-§7): GET /cluster, GET /collections/{name}/cluster, the body of
// POST /collections/{name}/cluster, and GET /telemetry.
//
// GET /cluster adds to the node's ClusterStatus what only the runtime knows: the consensus
// thread's state and the peers the transport failed to reach (ClusterExtras).
//
//   Json status = ClusterStatusToJson(node.ClusterStatus(), extras);
//   ASSIGN_OR_RETURN(api::CollectionClusterUpdate u, CollectionClusterUpdateFromJson("docs", body));
//
// Peer ids are JSON numbers in values and strings as object keys (JSON keys are strings).
//
// Thread-safety: pure functions.
#ifndef QDSIM_REAL_REST_JSON_CLUSTER_H_
#define QDSIM_REAL_REST_JSON_CLUSTER_H_

#include <cstdint>
#include <map>
#include <string>

#include "absl/status/statusor.h"
#include "node/api/types.h"
#include "real/rest/json_util.h"

namespace qdsim::rest {

// What GET /cluster reports beyond the node's own state; the runtime supplies it.
struct ClusterExtras {
  struct SendFailure {
    uint64_t count = 0;
    std::string latest_error;
    std::string latest_error_timestamp;  // RFC 3339
  };
  std::string consensus_thread_status = "working";           // "working" | "stopped" | "stopped_with_err"
  std::string consensus_error;                               // for "stopped_with_err"
  std::string last_update;                                   // RFC 3339: the consensus thread's last progress
  std::map<std::string, SendFailure> message_send_failures;  // by peer URI (sorted)
};

// Wall-clock microseconds since the Unix epoch as RFC 3339 UTC with microseconds
// ("2024-05-01T12:00:00.000123Z").
std::string Rfc3339(int64_t wall_micros);

// {"status": "enabled", peer_id, peers, raft_info, consensus_thread_status, message_send_failures}
Json ClusterStatusToJson(const api::ClusterStatus& status, const ClusterExtras& extras);
// {"status": "disabled"} (standalone mode).
Json ClusterDisabledJson();

// {peer_id, shard_count, local_shards, remote_shards, shard_transfers}
Json CollectionClusterInfoToJson(const api::CollectionClusterInfo& info);

// Exactly one of move_shard, replicate_shard ({shard_id, from_peer_id, to_peer_id, method?}),
// abort_transfer ({shard_id, from_peer_id, to_peer_id}), drop_replica ({shard_id, peer_id}).
absl::StatusOr<api::CollectionClusterUpdate> CollectionClusterUpdateFromJson(const std::string& collection,
                                                                             const Json& body);

// A minimal but well-formed telemetry answer: app name and version, collection count, cluster
// status and this peer's id.
Json TelemetryToJson(uint64_t peer_id, size_t collections, bool cluster_enabled, const std::string& version);

}  // namespace qdsim::rest

#endif  // QDSIM_REAL_REST_JSON_CLUSTER_H_
