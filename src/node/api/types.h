// The node's API: typed requests and answers for every endpoint of SPEC.md §2-§7, independent of
// HTTP and JSON. The simulator's clients and the real REST server (src/real/, which maps JSON to
// these types) call the same Node methods with them, so both exercise the same code.
//
// Points, vectors, payloads and filters are the shard store's Protobuf messages (proto/shard.proto);
// read answers are the shard store's records (node/shard/point_table.h). Errors are absl::Status
// with Qdrant's messages; the REST layer maps codes to HTTP (see HttpStatusOf).
//
//   api::PointWrite w{.collection = "docs", .op = upsert, .wait = true};
//   node.WritePoints(w, [](absl::StatusOr<api::UpdateResult> r) { ... });
#ifndef QDSIM_NODE_API_TYPES_H_
#define QDSIM_NODE_API_TYPES_H_

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "node/replication/consistency.h"
#include "node/shard/point_table.h"
#include "node/world/time.h"
#include "proto/consensus.pb.h"
#include "proto/shard.pb.h"

namespace qdsim::api {

template <typename T>
using Callback = std::function<void(absl::StatusOr<T>)>;

// ---- Collections (SPEC.md §4) ------------------------------------------------------------------

struct CreateCollection {
  std::string name;
  // vectors, sparse_vectors, extra_json; shard_number 0 = one per peer; replication_factor and
  // write_consistency_factor 0 = 1.
  consensuspb::CollectionParams params;
  std::optional<world::Duration> timeout;  // consensus wait (default 10 s)
};

struct UpdateCollection {
  std::string name;
  std::optional<uint32_t> replication_factor;
  std::optional<uint32_t> write_consistency_factor;
  std::optional<world::Duration> timeout;
};

struct DeleteCollection {
  std::string name;
  std::optional<world::Duration> timeout;
};

// GET /collections/{name}
struct CollectionInfo {
  std::string status = "green";           // "green"; "yellow" while a replica is not Active
  uint64_t points_count = 0;              // over all shards (one replica each)
  uint64_t segments_count = 0;            // local replicas
  consensuspb::CollectionParams params;   // as created (and updated)
};

// POST /collections/aliases (one action each)
struct AliasAction {
  enum class Kind { kCreate, kDelete } kind = Kind::kCreate;
  std::string alias;
  std::string collection;  // kCreate only
};

// ---- Points (SPEC.md §5) -----------------------------------------------------------------------

// Any point write: upsert, delete (ids or filter), payload operations, update vectors.
struct PointWrite {
  std::string collection;
  shardpb::ShardOperation op;
  bool wait = true;
  replication::WriteOrdering ordering = replication::WriteOrdering::kWeak;
  std::optional<world::Duration> timeout;
};

struct UpdateResult {
  enum class Status { kAcknowledged, kCompleted };
  uint64_t operation_id = 0;  // per peer, increasing
  Status status = Status::kCompleted;
};

struct ReadOptions {
  replication::ReadConsistency consistency{};
  std::optional<world::Duration> timeout;
};

struct Retrieve {
  std::string collection;
  std::vector<shardpb::PointId> ids;
  bool with_payload = true;
  shard::WithVector with_vector{};
  ReadOptions read{};
};

struct Scroll {
  std::string collection;
  shard::ScrollRequest request{};
  ReadOptions read{};
};

struct Count {
  std::string collection;
  std::optional<shardpb::Filter> filter;
  bool exact = true;  // counts are always exact here
  ReadOptions read{};
};

// Legacy search and the query API alike.
struct Search {
  std::string collection;
  shard::SearchRequest request{};
  ReadOptions read{};
};

// ---- Cluster (SPEC.md §2, §3, §6, §7) ----------------------------------------------------------

// GET /cluster
struct ClusterStatus {
  uint64_t peer_id = 0;
  std::map<uint64_t, std::string> peers;  // id -> uri
  uint64_t term = 0;
  uint64_t commit = 0;
  uint64_t pending_operations = 0;
  std::optional<uint64_t> leader;
  std::string role;                        // "Leader" | "Follower" | "Candidate" | "PreCandidate"
  bool is_voter = false;
};

// GET /collections/{name}/cluster
struct CollectionClusterInfo {
  struct LocalShard {
    uint32_t shard_id = 0;
    uint64_t points_count = 0;
    std::string state;  // "Active", "Dead", "Partial", "Initializing", "Listener", "Recovery"
  };
  struct RemoteShard {
    uint32_t shard_id = 0;
    uint64_t peer_id = 0;
    std::string state;
  };
  uint64_t peer_id = 0;
  uint32_t shard_count = 0;
  std::vector<LocalShard> local_shards;
  std::vector<RemoteShard> remote_shards;
  std::vector<consensuspb::ShardTransfer> shard_transfers;
};

// POST /collections/{name}/cluster: exactly one operation.
struct MoveShard {
  uint32_t shard_id = 0;
  uint64_t from_peer_id = 0;
  uint64_t to_peer_id = 0;
  std::string method = "stream_records";
};
struct ReplicateShard : MoveShard {};
struct AbortTransfer {
  uint32_t shard_id = 0;
  uint64_t from_peer_id = 0;
  uint64_t to_peer_id = 0;
};
struct DropReplica {
  uint32_t shard_id = 0;
  uint64_t peer_id = 0;
};
struct CollectionClusterUpdate {
  std::string collection;
  std::variant<MoveShard, ReplicateShard, AbortTransfer, DropReplica> operation;
  std::optional<world::Duration> timeout;
};

// DELETE /cluster/peer/{peer_id}
struct RemovePeer {
  uint64_t peer_id = 0;
  bool force = false;
  std::optional<world::Duration> timeout;
};

// Replica state names as Qdrant prints them.
std::string ReplicaStateName(consensuspb::ReplicaState state);

// The HTTP status an error maps to (SPEC.md §7): 400 bad input, 404 not found, 409 already exists,
// 408 timeout, 503 unavailable, 500 otherwise.
int HttpStatusOf(const absl::Status& status);

}  // namespace qdsim::api

#endif  // QDSIM_NODE_API_TYPES_H_
