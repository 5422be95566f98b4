// ClusterStateMachine: the cluster's metadata, changed only by committed Raft entries.
//
// Apply() is a pure, deterministic function of (state, operation): every peer applies the same
// entries in the same order and reaches the same state — including the refusals (a collection that
// already exists, a compare-and-set that no longer matches, removing the last Active replica), which
// leave the state unchanged (one exception: see Transfers) and come back as the same Status everywhere, so the proposer can
// answer its caller with it. Errors carry Qdrant's messages (SPEC.md §4-§7).
//
// Shard placement is decided here, at apply time, from the state every peer shares: each shard gets
// min(replication_factor, peers) replicas on distinct peers, least-loaded peers first, ties broken
// by peer id. New replicas start Initializing; their peer marks them Active once they exist locally.
// No replica of a shard without an Active replica is marked Dead: nothing could recover it, and no
// write was sent that it could have missed (a write to a shard without an Active replica is refused
// before it is sent: replication/consistency.h). So while no replica of its shard is Active, an
// Initializing replica whose peer was down when the collection was created becomes Active when it
// returns; once one is, a write it misses marks it Dead as usual, and recovery rebuilds it.
//
// Transfers (ShardTransfer in consensus.proto). StartTransfer makes the target Partial with a new
// generation (an empty life) and records it as the transfer's target_generation. While a transfer
// is in the state its source is an Active replica and its target the Partial replica of that
// generation; whatever would break this ends the transfer the way AbortTransfer does (a target
// that had no replica before is removed, an existing one becomes Dead):
//  - SetReplicaState taking the source out of Active or the target out of Partial (a target that
//    existed before keeps the state asked for; the transfer is gone);
//  - DropReplica or RemovePeer of its source or target, or a move (sync=false) from its source
//    finishing; DeleteCollection drops it with the rest.
// FinishTransfer and AbortTransfer name a transfer by (shard, from, to) and, if non-zero, its
// target_generation. A FinishTransfer whose target no longer fits is the one refusal that changes
// the state: it is refused (FailedPrecondition) and the transfer is aborted, since it can never
// finish (with the invariant above kept, this does not happen).
//
//   ClusterStateMachine sm;
//   absl::Status verdict = sm.Apply(op);   // op from a committed Raft entry
//   std::string image = sm.Snapshot();     // for Raft log compaction
//
// Thread-safety: none.
#ifndef QDSIM_NODE_CONSENSUS_CLUSTER_STATE_H_
#define QDSIM_NODE_CONSENSUS_CLUSTER_STATE_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "proto/consensus.pb.h"

namespace qdsim::consensus {

// `peer`'s replica among `replicas` (a ShardInfo's replicas, or a copy of them), or null.
template <typename Replicas>
const consensuspb::Replica* FindReplica(const Replicas& replicas, uint64_t peer) {
  for (const consensuspb::Replica& r : replicas) {
    if (r.peer_id() == peer) return &r;
  }
  return nullptr;
}
inline const consensuspb::Replica* FindReplica(const consensuspb::ShardInfo& shard, uint64_t peer) {
  return FindReplica(shard.replicas(), peer);
}

class ClusterStateMachine {
 public:
  // Applies one committed operation; OK if it changed the state as asked, else the verdict.
  absl::Status Apply(const consensuspb::Operation& op);

  const consensuspb::ClusterState& state() const { return state_; }

  // A deterministic image of the state (Raft snapshots), and its inverse.
  std::string Snapshot() const;
  absl::Status Restore(std::string_view image);

  // Lookups. FindCollection also resolves aliases. Null if absent.
  const consensuspb::CollectionState* FindCollection(std::string_view name_or_alias) const;
  const consensuspb::Peer* FindPeer(uint64_t id) const;
  // Number of replicas (of any state) a peer holds across all collections.
  uint32_t ReplicaCount(uint64_t peer_id) const;

  // The placement a new collection would get: shard_number shards of min(rf, peers) replicas.
  static std::vector<consensuspb::ShardInfo> Place(const consensuspb::ClusterState& state,
                                                   uint32_t shard_number, uint32_t replication_factor);

 private:
  absl::Status AddPeer(const consensuspb::AddPeer& op);
  absl::Status RemovePeer(const consensuspb::RemovePeer& op);
  absl::Status UpdatePeerUri(const consensuspb::UpdatePeerUri& op);
  absl::Status CreateCollection(const consensuspb::CreateCollection& op);
  absl::Status UpdateCollection(const consensuspb::UpdateCollection& op);
  absl::Status DeleteCollection(const consensuspb::DeleteCollection& op);
  absl::Status SetReplicaState(const consensuspb::SetReplicaState& op);
  // After `op` changed a replica's state: aborts the transfers that replica no longer fits.
  void EndTransfersBrokenBy(const consensuspb::SetReplicaState& op);
  // SetReplicaState with also_dead: several replicas marked Dead in one step.
  absl::Status MarkDeadTogether(consensuspb::ShardInfo* shard, const consensuspb::SetReplicaState& op);
  absl::Status StartTransfer(const consensuspb::StartTransfer& op);
  absl::Status FinishTransfer(const consensuspb::FinishTransfer& op);
  absl::Status AbortTransfer(const consensuspb::AbortTransfer& op);
  absl::Status DropReplica(const consensuspb::DropReplica& op);
  absl::Status CreateAlias(const consensuspb::CreateAlias& op);
  absl::Status DeleteAlias(const consensuspb::DeleteAlias& op);

  consensuspb::CollectionState* MutableCollection(std::string_view name);
  uint64_t NextGeneration();
  absl::StatusOr<consensuspb::ShardInfo*> MutableShard(std::string_view collection, uint32_t shard_id);

  consensuspb::ClusterState state_;  // every repeated field sorted (see consensus.proto)
};

// Qdrant's not-found message for a collection: "Not found: Collection `x` doesn't exist!".
absl::Status CollectionNotFound(std::string_view name);

}  // namespace qdsim::consensus

#endif  // QDSIM_NODE_CONSENSUS_CLUSTER_STATE_H_
