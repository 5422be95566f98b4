// ShardTransfers: shard transfers by stream_records, and the automatic recovery of Dead replicas
// (SPEC.md §6).
//
// A transfer lives in the cluster metadata (StartTransfer, then FinishTransfer or AbortTransfer:
// consensus/cluster_state.h); this class does what the metadata asks of this peer. It reconciles
// after every operation the metadata applies, after a metadata snapshot is restored, and every
// second while anything is under way — from the state, not from the operations, so that it
// converges after a restart or a missed operation, as LocalShards does.
//
// Source (transfer.from == this peer). At the instant it first sees the transfer it exports its
// replica (ShardStore::ExportBatches(100), at least one batch, the last one carrying the seq the
// export was taken at) and from that instant queues every operation the replica applies, with the
// seq it gave it (ReplicaService's apply observer): the forward queue. The batches, then the
// queued operations (up to 64 to an item), go to the target as one numbered stream over rpc
// "transfer.item" (proto/transfer.proto), one item in flight, each given 2 s; an item that fails
// is sent again, unchanged, after 200 ms doubling to 2 s. Once everything is acknowledged (the
// queue is empty) it proposes FinishTransfer, and forwards what the replica applies until the
// transfer has left the metadata; then the stream ends. It proposes AbortTransfer when the target
// refuses the stream (FailedPrecondition) or acknowledges nothing for 30 s.
//
// The stream is the only writer of a Partial target. A writer sends the target a write only after
// the source took it, with the seq the source gave it (PointWriter); the target does not apply it
// but answers once its applied items reach that seq (the transfer gate of ReplicaService), so
// the target applies exactly the source's operations in the source's order, and a write is
// acknowledged only once the target holds it. A write the source took after it saw the finish
// (and so did not forward) is applied by the target itself once its metadata has it Active; one
// whose stream ended otherwise fails (the target is Dead and will be rebuilt). After the finish,
// writers write to the new Active replica directly; the target applies items only while its
// replica is Partial, so a late forwarded operation never lands after a newer direct write.
//
// A restarted source has lost its forward queue with its memory, so it never resumes a stream.
// Before sending the first item of a transfer it makes the transfer's target generation durable
// in `transfers/streamed` (the highest one this peer has streamed to; generations only grow), and
// a transfer from this peer that it finds in the metadata at or below the mark it read at start-up
// is aborted instead of streamed (recovery then starts a fresh one). Without the mark a restarted
// source could not tell a transfer it had half streamed from one it has yet to start, since the
// metadata is replayed from the Raft log after a restart.
//
// Target (transfer.to == this peer). Items are applied to the replica of generation
// target_generation in index order, each acknowledged once durable: an index already applied is
// acknowledged again without being applied; an index beyond the next expected one (e.g. this
// peer restarted mid-stream and lost its place) is refused as out of order (FailedPrecondition),
// which makes the source abort. Batches are imported as upserts and operations applied one after
// another, each numbered by the replica (ShardStore::AssignSeq); a retry of an item whose
// operations were applied in part applies only the rest. A forwarded operation the replica
// refuses as invalid is acknowledged all the same (the source refused it too, or the replica took
// a write directly before the transfer's gate applied: the stream brings the later operations). An item for a life of the replica that this peer no
// longer holds is refused (FailedPrecondition); one for a transfer it has not applied yet is
// Unavailable (the source retries). A transfer into this peer that has received nothing for 30 s
// is aborted (its source may be gone for good).
//
// Recovery. Every replica on this peer that is Dead (or Partial with no transfer into it, a state
// the metadata no longer produces) gets StartTransfer{from: an Active replica, to: this peer,
// sync: true, method: "stream_records", comment: "recovery"} proposed. The source is the Active
// replica with the fewest outgoing transfers, then the one tried least for this shard (a source
// that is down must not be chosen for ever), then the lowest peer id. A transfer is proposed only
// while this peer has fewer than `limits.incoming` transfers coming in and the source fewer than
// `limits.outgoing` going out (counted in the metadata, user transfers included, plus this peer's
// proposals in flight). Refused or timed-out proposals are tried again a second later. A transfer
// that fails is aborted (the replica is Dead again) and so retried.
//
// User operations (move_shard, replicate_shard, abort_transfer, drop_replica) are plain consensus
// proposals; the streams they start are served here like any other.
//
//   ShardTransfers transfers(env, self, rpc, consensus, local_shards, replicas, TransferLimits{});
//   // Nothing more to call: the constructor installs the rpc handler, the consensus listeners and
//   // the replica service's apply observer (which it owns until destroyed).
//
// Thread-safety: none; every call happens on the node's logical thread.
#ifndef QDSIM_NODE_REPLICATION_TRANSFERS_H_
#define QDSIM_NODE_REPLICATION_TRANSFERS_H_

#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <tuple>
#include <utility>
#include <variant>
#include <vector>

#include "absl/status/status.h"
#include "node/collection/local_shards.h"
#include "node/consensus/consensus_manager.h"
#include "node/replication/replica_service.h"
#include "node/rpc/rpc_endpoint.h"
#include "node/shard/cluster_bugs.h"
#include "node/world/env.h"
#include "proto/transfer.pb.h"

namespace qdsim::replication {

// How many transfers automatic recovery lets one peer take part in at once (SPEC.md §6,
// incoming_shard_transfers_limit / outgoing_shard_transfers_limit).
struct TransferLimits {
  uint32_t incoming = 1;  // transfers into the recovering peer
  uint32_t outgoing = 1;  // transfers out of the source peer
};

class ShardTransfers {
 public:
  // The rpc method a source sends stream items over.
  static constexpr char kItemMethod[] = "transfer.item";
  // Points per exported batch.
  static constexpr size_t kBatchSize = 100;
  // Forwarded operations per item, at most.
  static constexpr int kOpsPerItem = 64;

  // Installs the "transfer.item" handler on `rpc`, the consensus listeners and `replicas`'s apply
  // observer. Everything passed must outlive this object. `shards` should be built first, so that
  // its listener opens a new target's store before this one reconciles (else items wait a retry).
  ShardTransfers(world::Env& env, world::PeerId self, rpc::RpcEndpoint& rpc, consensus::ConsensusManager& consensus,
                 collection::LocalShards& shards, ReplicaService& replicas, TransferLimits limits = {});
  // Clears the apply observer and cancels its timers; later callbacks of its rpc calls and
  // proposals do nothing.
  ~ShardTransfers();

  ShardTransfers(const ShardTransfers&) = delete;
  ShardTransfers& operator=(const ShardTransfers&) = delete;

  // Brings streams, watchdogs and recovery proposals in line with the metadata (called
  // automatically; public for tests).
  void Reconcile();

  // Switches on planted bugs (shard/cluster_bugs.h; tests of the checkers only).
  void set_planted_bugs(const shard::ClusterBugs& bugs) { bugs_ = bugs; }

  // Streams this peer is sending (tests and status).
  size_t outgoing_streams() const { return outgoing_.size(); }

 private:
  // One transfer, with the life of the target replica it fills.
  struct Key {
    std::string collection;
    uint32_t shard = 0;
    world::PeerId from = 0;          // the source peer
    world::PeerId to = 0;            // the target peer
    uint64_t target_generation = 0;  // ShardTransfer.target_generation
    bool operator==(const Key& o) const = default;
    bool operator<(const Key& o) const {
      return std::tie(collection, shard, from, to, target_generation) <
             std::tie(o.collection, o.shard, o.from, o.to, o.target_generation);
    }
  };

  // What a stream delivers: an exported batch or a forwarded operation.
  using Unit = std::variant<shardpb::PointBatch, shardpb::ShardOperation>;

  // The stream this peer sends for a transfer out of it.
  struct Outgoing {
    uint64_t id = 0;                              // unique in this incarnation: callbacks meant for an
                                                  // earlier stream of the same key find it gone
    std::deque<Unit> pending;                     // not yet acknowledged, in stream order
    std::optional<transferpb::TransferItem> item; // made of the first `item_units` of `pending`; sent
    size_t item_units = 0;                        // until acknowledged, then the next one is made
    uint64_t next_index = 0;                      // the index of the next item made
    uint64_t source_generation = 0;               // the life of the local replica it streams from
    uint64_t export_seq = 0;                      // the replica's last_seq() when it was exported
    size_t batches_left = 0;                      // exported batches not yet acknowledged
    bool marked = false;                          // its generation is durable in transfers/streamed
    bool in_flight = false;                       // `item` is sent, or waits for its retry
    world::TimerId retry_timer = 0;               // the pending retry of `item`
    world::Duration backoff{0};                   // before the next retry
    std::optional<world::Instant> failing_since;  // first failure since the last acknowledgement
    bool finish_proposed = false;                 // a FinishTransfer proposal is in flight
    bool finished = false;                        // the metadata finished it: drain, then forget
    world::Instant finished_at;                   // when this peer saw it finish
    std::string failure;                          // non-empty once given up: abort until it is gone
  };

  // A write sent to this peer's Partial replica, waiting for the stream to bring it.
  struct WaitingWrite {
    shardpb::ShardOperation op;
    ReplicaService::Done done;
  };

  // What this peer knows of a stream into it.
  struct Incoming {
    uint64_t next_index = 0;                       // the index it applies next
    int ops_done = 0;                              // operations of that item applied (or skipped)
    std::optional<transferpb::TransferItem> item;  // that item, while it is being applied
    std::vector<rpc::RpcEndpoint::Reply> waiting;  // answers owed for it (first try, retries)
    world::Instant last_heard;                     // last item, or when first seen in the metadata
    uint64_t source_seq = 0;                       // the source's seq the applied items reach
    std::multimap<uint64_t, WaitingWrite> writers; // writes to the replica by their source seq, until
                                                   // the stream reaches it
  };

  static Key KeyOf(const std::string& collection, const consensuspb::ShardTransfer& transfer);
  static Key KeyOf(const transferpb::TransferItem& item);
  // An item of `key`'s stream without its content.
  static transferpb::TransferItem ItemOf(const Key& key, uint64_t index);
  // The transfer `key` is in `state`.
  static bool InState(const consensuspb::ClusterState& state, const Key& key);
  // `peer`'s replica of `key`'s shard is Active in its life `generation`.
  static bool IsActiveLife(const consensuspb::ClusterState& state, const Key& key, world::PeerId peer,
                           uint64_t generation);

  // ---- Source side ----
  // Starts, continues and forgets the streams of transfers out of this peer. True if any is left.
  bool ReconcileOutgoing(const consensuspb::ClusterState& state);
  void StartStream(const consensuspb::ClusterState& state, const Key& key);
  // The stream of `key` if it is still the one numbered `id`, else null.
  Outgoing* FindStream(const Key& key, uint64_t id);
  // The apply observer: queues `op` on every stream of (collection, shard).
  void OnApplied(const std::string& collection, uint32_t shard, const shardpb::ShardOperation& op);
  // Sends the next item if nothing is in flight; proposes the finish when everything is through.
  void SendNext(const Key& key);
  // Makes stream.item from the front of stream.pending. REQUIRES: pending is not empty.
  static void MakeItem(const Key& key, Outgoing& stream);
  void OnItemAnswer(const Key& key, uint64_t id, uint64_t index, const absl::Status& status);
  void GiveUp(const Key& key, std::string reason);
  void ProposeFinish(const Key& key, Outgoing& stream);

  // ---- The durable mark (transfers/streamed) ----
  void LoadStreamedMark();
  // Marks the streams whose generation is durable, and writes the highest one still unmarked.
  void MarkStreams();
  void WriteStreamedMark(uint64_t generation);

  // ---- Target side ----
  void HandleItem(world::PeerId from, std::string body, rpc::RpcEndpoint::Reply reply);
  // Applies the rest of the item `key`'s stream is applying: its batch, or its next operation.
  // True while this peer's replica is the Partial target of `key`'s transfer (its metadata says so).
  bool IsPartialTarget(const Key& key) const;
  void ApplyItem(const Key& key);
  void OnOpApplied(const Key& key, absl::Status status);
  // Ends the application of the current item with `status` and answers everyone waiting for it.
  void CompleteItem(const Key& key, absl::Status status);
  // The transfer gate (ReplicaService): takes a write sent to this peer's Partial replica with its
  // source's seq, to be answered once the stream reaches that seq. False if the replica is not a
  // Partial target (the write is then applied as usual).
  bool TakeFromWriter(const std::string& collection, uint32_t shard, uint64_t source_seq,
                      shardpb::ShardOperation& op, ReplicaService::Done& done);
  // Answers the writes of `key`'s stream that the applied items reach.
  void ReleaseWriters(const Key& key);
  // Once the stream is over: applies its waiting writes if the replica went on as Active, else
  // fails them.
  void SettleWriters(const consensuspb::ClusterState& state, const Key& key, Incoming& in);
  // Watches the transfers into this peer and forgets finished ones. True if any is left.
  bool ReconcileIncoming(const consensuspb::ClusterState& state);

  // ---- Recovery ----
  // Proposes the transfers this peer's Dead replicas need. True if any replica still needs one.
  bool ReconcileRecovery(const consensuspb::ClusterState& state);
  // The source for a recovery of `shard`: an Active replica on another known peer with room for
  // one more outgoing transfer — the fewest outgoing transfers first, then the one this peer has
  // tried least for this shard (so that a source that is down does not stall it), then the lowest id.
  std::optional<world::PeerId> PickSource(const consensuspb::ClusterState& state, const std::string& collection,
                                          const consensuspb::ShardInfo& shard,
                                          const std::map<world::PeerId, uint32_t>& outgoing) const;
  void ProposeRecovery(const std::string& collection, uint32_t shard, world::PeerId source);

  // ---- Common ----
  void ProposeAbort(const Key& key, const std::string& reason);
  void ArmTick();

  world::Env& env_;                         // clock (timers, watchdogs), disk (the mark), log
  world::PeerId self_;                      // this peer
  rpc::RpcEndpoint& rpc_;                   // items out, and the "transfer.item" handler
  consensus::ConsensusManager& consensus_;  // the metadata, and the proposals
  collection::LocalShards& shards_;         // the stores of the local replicas, by generation
  ReplicaService& replicas_;                // whose apply observer feeds the forward queues
  TransferLimits limits_;                   // for recovery
  shard::ClusterBugs bugs_;                 // planted bugs switched on

  std::map<Key, Outgoing> outgoing_;   // streams this peer sends
  uint64_t last_stream_id_ = 0;        // Outgoing::id of the newest stream
  std::map<Key, Incoming> incoming_;   // streams into this peer
  std::set<Key> aborting_;             // AbortTransfer proposals in flight
  using ShardRef = std::pair<std::string, uint32_t>;  // (collection, shard)
  std::map<ShardRef, world::PeerId> recovering_;       // recovery proposals in flight -> their source
  // Recoveries this incarnation proposed per shard and source, while the local replica is not Active.
  std::map<ShardRef, std::map<world::PeerId, uint32_t>> recovery_attempts_;

  uint64_t streamed_at_start_ = 0;  // the mark as found on disk: streams up to it were begun earlier
  uint64_t streamed_durable_ = 0;   // the mark as durable now
  uint64_t streamed_writing_ = 0;   // the mark being written (0: no write in flight)
  int streamed_slot_ = 1;           // the slot of the file holding streamed_durable_ (writes go to the other)

  world::TimerId tick_timer_ = 0;                               // the next periodic Reconcile
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);  // false once destroyed
};

}  // namespace qdsim::replication

#endif  // QDSIM_NODE_REPLICATION_TRANSFERS_H_
