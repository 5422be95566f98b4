// ReplicaService: applies point operations to this peer's replicas, for callers here and on peers.
//
// Every replica numbers the operations it accepts itself (ShardStore::AssignSeq): writes reach a
// shard through whichever peer received them, so a number chosen by the sender could collide with
// another sender's, and the store would take the later one for a retry and drop it. An operation is
// answered once it is durable on the replica (ShardStore::Apply), or with the replica's error —
// validation errors carry Qdrant's messages across the network unchanged.
//
//   ReplicaService replicas(rpc, local_shards);
//   replicas.Apply(peer, "docs", 2, op, world::Seconds(1), [](absl::StatusOr<uint64_t> seq) { ... });
//
// Thread-safety: none; every call happens on the node's logical thread.
#ifndef QDSIM_NODE_REPLICATION_REPLICA_SERVICE_H_
#define QDSIM_NODE_REPLICATION_REPLICA_SERVICE_H_

#include <functional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "node/collection/local_shards.h"
#include "node/rpc/rpc_endpoint.h"
#include "proto/replication.pb.h"
#include "proto/shard.pb.h"

namespace qdsim::replication {

class ReplicaService {
 public:
  // The seq the replica gave the operation, or why it was not applied.
  using Done = std::function<void(absl::StatusOr<uint64_t> seq)>;

  // The rpc method remote peers call.
  static constexpr char kUpdateMethod[] = "shard.update";

  // Registers the update handler on `rpc`. Both must outlive the service.
  ReplicaService(world::PeerId self, rpc::RpcEndpoint& rpc, collection::LocalShards& shards);
  // With the metadata, so that writes from a sender with a stale replica set are refused.
  ReplicaService(world::PeerId self, rpc::RpcEndpoint& rpc, collection::LocalShards& shards,
                 consensus::ConsensusManager& consensus)
      : ReplicaService(self, rpc, shards) {
    consensus_ = &consensus;
  }

  // Applies `op` to `peer`'s replica of (collection, shard): locally when peer is this one, else
  // through rpc within `timeout`. `done` runs exactly once.
  void Apply(world::PeerId peer, const std::string& collection, uint32_t shard, shardpb::ShardOperation op,
             world::Duration timeout, Done done);

  // Applies `op` to this peer's replica: Unavailable if it holds none (or not yet).
  void ApplyLocal(const std::string& collection, uint32_t shard, shardpb::ShardOperation op, Done done);

  // The same, for a sender writing to the replicas `view` (see replication.proto): Aborted
  // ("stale replica set") if this peer's metadata knows an updatable replica of the shard that
  // `view` lacks. An empty view skips the check. A `source_seq` (the seq a transfer's source gave
  // the operation, for its Partial target) goes to the transfer gate, if one is installed and
  // takes it, instead of the replica.
  void ApplyChecked(const std::string& collection, uint32_t shard, shardpb::ShardOperation op,
                    const std::vector<replicationpb::ReplicaRef>& view, Done done, uint64_t source_seq = 0);
  void Apply(world::PeerId peer, const std::string& collection, uint32_t shard, shardpb::ShardOperation op,
             const std::vector<replicationpb::ReplicaRef>& view, world::Duration timeout, Done done,
             uint64_t source_seq = 0);

  // The transfer gate: offered every operation that carries a source_seq; returns true if it took
  // it (it then owns `done`), false to have it applied as usual. ShardTransfers installs it.
  using TransferGate = std::function<bool(const std::string& collection, uint32_t shard, uint64_t source_seq,
                                          shardpb::ShardOperation& op, Done& done)>;
  void SetTransferGate(TransferGate gate) { gate_ = std::move(gate); }

  // Called for every operation a local replica applied through this service, in the order the
  // replica applied them, with the seq it got (a shard transfer's source forwards them).
  using ApplyObserver =
      std::function<void(const std::string& collection, uint32_t shard, const shardpb::ShardOperation& op)>;
  void SetApplyObserver(ApplyObserver observer) { observer_ = std::move(observer); }

 private:
  world::PeerId self_;
  rpc::RpcEndpoint& rpc_;
  collection::LocalShards& shards_;
  consensus::ConsensusManager* consensus_ = nullptr;  // for the view check (null: no check)
  ApplyObserver observer_;
  TransferGate gate_;
};

}  // namespace qdsim::replication

#endif  // QDSIM_NODE_REPLICATION_REPLICA_SERVICE_H_
