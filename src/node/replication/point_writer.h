// PointWriter: a client's point write, from the peer that received it to the replicas (SPEC.md §6).
//
// The operation is split by shard (collection/routing.h); each part goes to every updatable
// replica of its shard in parallel (ordering weak), or through one peer (medium: the highest-id
// Active replica; strong: the highest-id replica), which fans it out the same way. A part succeeds
// with min(write_consistency_factor, attempted) successes, one of them on an Active replica. A
// replica that refuses the sender's replica set as stale makes the part start again with fresher
// metadata, within the deadline.
//
// Failed replicas are marked Dead through consensus (DeadMarks), compare-and-set on the state and
// life the writer saw. Two rules keep an acknowledged write from being lost — beyond Qdrant, which
// lets replicas diverge (#4626):
//  - replicas that failed are marked even when the write as a whole fails (too few successes): the
//    ones that took it keep it, and the ones that did not will be rebuilt by a transfer, so all
//    Active replicas agree again;
//  - a write is acknowledged only if every replica that missed it is Dead by then; if consensus
//    refuses the mark because the replica is the shard's last Active one, the write fails, since
//    that replica would otherwise be recovered onto the others without it. When consensus cannot
//    decide in time, the mark is made durable on this peer and retried until consensus decides
//    (the replicas that took the write keep it, so the one that missed it must be rebuilt either
//    way), and the write fails — a peer that cannot reach a majority may be cut off from one that
//    goes on writing — except in a cluster of at most two voters (Config::may_defer_marks), where
//    no majority survives the loss of either peer: there the write is acknowledged once its marks
//    are durable, so that point writes go on while one peer is down (SPEC.md §6). The price,
//    stated plainly: if the two peers are partitioned rather than one of them down, and clients
//    write through both sides, the side whose marks lose keeps writes the other side never saw,
//    and its recovery drops them.
// A Partial replica (a transfer's target) takes writes only through its transfer's stream: the
// writer sends it the write after the source took it, with the seq the source gave it, and the
// target answers once the stream has brought it that far (ShardTransfers). So a target applies the
// source's operations in the source's order — a direct write racing the stream could otherwise be
// overwritten by an older batch or forwarded operation — and a write is acknowledged only once the
// target holds it. A Partial target that fails is marked too, which ends its transfer.
// Before answering, the writer checks that every Active replica the shard has by then took the
// write; one that became Active meanwhile (a transfer finished, built from a source that missed
// the write) gets the write again with the rest, within the deadline.
//
// With `Config::qdrant_dead_marking` the writer behaves as Qdrant 1.19 does instead: failed
// replicas are marked only when the write as a whole succeeded, and the answer does not depend on
// the marks. The simulator uses it to reproduce the divergence.
//
// wait=false answers once each part is durable on one replica; the rest of the fan-out, and the
// marks, go on in the background.
//
//   PointWriter writer(env, self, rpc, consensus, replicas, marks, {});
//   writer.Write("docs", op, {.wait = true, .timeout = world::Seconds(10)}, [](absl::Status s) { ... });
//
// Thread-safety: none; every call happens on the node's logical thread.
#ifndef QDSIM_NODE_REPLICATION_POINT_WRITER_H_
#define QDSIM_NODE_REPLICATION_POINT_WRITER_H_

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "node/consensus/consensus_manager.h"
#include "node/replication/consistency.h"
#include "node/replication/dead_marks.h"
#include "node/replication/replica_service.h"
#include "node/rpc/rpc_endpoint.h"
#include "node/world/env.h"
#include "proto/replication.pb.h"
#include "proto/shard.pb.h"

namespace qdsim::replication {

struct WriteOptions {
  bool wait = true;                                // false: answer once durable on one replica
  WriteOrdering ordering = WriteOrdering::kWeak;
  world::Duration timeout = world::Seconds(10);    // the whole write answers within it
};

class PointWriter {
 public:
  using Done = std::function<void(absl::Status)>;

  struct Config {
    bool qdrant_dead_marking = false;  // reproduce Qdrant's marking (see above)
    // Whether a mark consensus could not commit in time may be made durable instead (see above);
    // null: always. The node allows it only with at most two voters.
    std::function<bool()> may_defer_marks;
  };

  // The rpc method for writes routed through another peer.
  static constexpr char kForwardMethod[] = "points.write";

  // Registers the forwarding handler on `rpc`. Everything passed must outlive the writer.
  PointWriter(world::Env& env, world::PeerId self, rpc::RpcEndpoint& rpc, consensus::ConsensusManager& consensus,
              ReplicaService& replicas, DeadMarks& marks, Config config);
  ~PointWriter();

  // Applies `op` to `collection` (a name or an alias); `done` runs exactly once, within
  // options.timeout (plus a disk sync when a mark must be made durable). Errors: NotFound for an
  // unknown collection (Qdrant's message), InvalidArgument for a bad vector (before anything is
  // sent), the replicas' own validation errors, Unavailable when too few replicas took it,
  // DeadlineExceeded.
  void Write(const std::string& collection, const shardpb::ShardOperation& op, const WriteOptions& options,
             Done done);

 private:
  struct Fanout;
  // The shard as the metadata has it now (null if the collection or the shard is gone); `found`,
  // if given, receives the collection (null if it is gone).
  const consensuspb::ShardInfo* ShardNow(const std::string& collection, uint32_t shard,
                                         const consensuspb::CollectionState** found = nullptr) const;
  void WriteShard(const std::string& collection, uint32_t shard, shardpb::ShardOperation op, WriteOrdering ordering,
                  bool wait, world::Instant deadline, Done done);
  void FanOut(std::shared_ptr<Fanout> f);
  // The source of the transfer that fills `replica` if it is a Partial target, else nullopt.
  static std::optional<uint64_t> TransferSource(const consensuspb::CollectionState& c, uint32_t shard,
                                                const consensuspb::Replica& replica);
  // Sends the write to one replica (with the seq its transfer's source gave it, for a Partial
  // target), and then to the transfer targets that wait for it.
  void SendToReplica(std::shared_ptr<Fanout> f, std::shared_ptr<const std::vector<replicationpb::ReplicaRef>> view,
                     world::Instant replicas_deadline, uint64_t peer, uint64_t source_seq,
                     std::vector<uint64_t> targets_after);
  void Judge(std::shared_ptr<Fanout> f);
  void MarkDead(std::shared_ptr<Fanout> f, std::vector<consensuspb::Replica> failed, absl::Status verdict);
  // Answers, or writes again if an Active replica that did not take the write has appeared.
  void Finish(std::shared_ptr<Fanout> f, absl::Status verdict);
  void Forward(world::PeerId via, const std::string& collection, uint32_t shard, shardpb::ShardOperation op,
               bool wait, world::Instant deadline, Done done);
  absl::Status Validate(const consensuspb::CollectionState& c, const shardpb::ShardOperation& op) const;

  world::Env& env_;
  world::PeerId self_;
  rpc::RpcEndpoint& rpc_;
  consensus::ConsensusManager& consensus_;
  ReplicaService& replicas_;
  DeadMarks& marks_;
  Config config_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);  // false once destroyed
};

}  // namespace qdsim::replication

#endif  // QDSIM_NODE_REPLICATION_POINT_WRITER_H_
