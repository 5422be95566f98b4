// RaftNode: drives the pure Raft core (RawNode) through the world — ticks from the clock, messages
// over the transport, persistence on the disk — and applies committed entries to a StateMachine.
//
// The order of work per Ready is what makes Raft safe on a real disk: write the hard state and
// entries, wait for the sync, and only then send messages (acknowledgements), apply committed
// entries and Advance. A snapshot the leader sends is cut into chunks and reassembled before it
// reaches Raft. Every `compact_entries` applied entries the node snapshots its state machine and
// truncates its log. On a leader, learners whose logs have caught up are promoted to voters one at
// a time.
//
//   RaftNode::Options options;
//   options.initial_voters = {1, 2, 3};   // used only when the disk holds no state
//   ASSIGN_OR_RETURN(auto node, RaftNode::Open(env, state_machine, options));
//   env.transport().SetReceiver([&](world::PeerId from, std::string b) { node->Receive(from, b); });
//   RETURN_IF_ERROR(node->Propose("set x=1"));   // applied later through state_machine.Apply()
//
// Thread-safety: none; every call happens on the node's logical thread.
#ifndef QDSIM_NODE_RAFT_RAFT_NODE_H_
#define QDSIM_NODE_RAFT_RAFT_NODE_H_

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "node/raft/config.h"
#include "node/raft/durable_log.h"
#include "node/raft/raw_node.h"
#include "node/raft/storage.h"
#include "node/world/env.h"
#include "proto/peer.pb.h"
#include "proto/raft.pb.h"

namespace qdsim::raft {

// What Raft replicates. Called on the node's logical thread, in log order.
class StateMachine {
 public:
  virtual ~StateMachine() = default;
  // A committed normal entry (data may be empty: a new leader's no-op).
  virtual void Apply(const raftpb::Entry& entry) = 0;
  // A committed membership change, after Raft applied it.
  virtual void ApplyConfChange(const raftpb::Entry& entry, const raftpb::ConfChange& change,
                               const raftpb::ConfState& conf) {}
  // The state after every entry applied so far.
  virtual std::string Snapshot() const = 0;
  // Replaces the state with a snapshot's (at start-up, or one received from the leader).
  virtual absl::Status Restore(std::string_view data) = 0;
};

// Hooks for the simulator's checkers; a production node has none. All default to nothing.
class RaftObserver {
 public:
  virtual ~RaftObserver() = default;
  // State recovered from disk at start-up (before any message is sent).
  virtual void OnRecovered(uint64_t node, const DurableLog::Recovered& state) {}
  // Entries and hard state are durable (their sync completed), as the node will acknowledge them.
  // `prev_term` is the term of the entry before the first one, as the node's log had it when it
  // wrote them (0 if there are no entries).
  virtual void OnDurable(uint64_t node, const raftpb::HardState& hs,
                         const std::vector<raftpb::Entry>& entries, uint64_t prev_term) {}
  // A message is about to be sent.
  virtual void OnSend(uint64_t node, const raftpb::Message& m) {}
  // A committed entry is being applied (normal or conf change).
  virtual void OnApply(uint64_t node, const raftpb::Entry& entry) {}
  // A snapshot replaced the state machine (index and term it stands for).
  virtual void OnRestore(uint64_t node, const raftpb::SnapshotMetadata& meta) {}
  // Role, leader or term changed.
  virtual void OnRoleChange(uint64_t node, StateRole role, uint64_t term, uint64_t lead) {}
};

class RaftNode {
 public:
  struct Options {
    // id comes from the transport; storage/random are set by Open(). A learner within 32 entries
    // of the leader's log counts as caught up (under load it is never exactly level).
    Config raft = [] {
      Config c;
      c.learner_max_lag = 32;
      return c;
    }();
    world::Duration tick = world::Millis(100);   // SPEC.md §3 tick_period_ms
    uint64_t compact_entries = 128;        // SPEC.md §1 compact_wal_entries
    size_t snapshot_chunk_bytes = 64 * 1024;
    uint64_t max_snapshot_bytes = 1ull << 30;  // larger snapshots from peers are refused
    bool promote_learners = true;          // leader promotes caught-up learners, one at a time
    std::vector<uint64_t> initial_voters;  // membership when the disk holds no state; empty: none
    // Disaster recovery (qdnode --reinit): if the disk holds state, everything committed is kept
    // and this node becomes the only voter of a new term; uncommitted entries are dropped.
    bool reinit = false;
    std::string dir = "raft";              // files under the node's storage directory
    RaftObserver* observer = nullptr;      // not owned; may be null
  };

  // Recovers the node from its disk (or bootstraps it from options.initial_voters) and starts
  // ticking. Fails on unrecoverable disk state (DataLoss) or an invalid configuration.
  static absl::StatusOr<std::unique_ptr<RaftNode>> Open(world::Env& env, StateMachine& sm,
                                                        Options options);
  ~RaftNode();

  // Non-OK once a disk failure (other than a full disk, which is retried) stopped this node: it
  // acknowledges nothing more until it is restarted and recovers from what is durable.
  const absl::Status& failure() const { return failure_; }

  // Handles one transport message (an Envelope). Garbage and spoofed senders are dropped.
  void Receive(world::PeerId from, const std::string& bytes);
  // Handles an already decoded envelope addressed to Raft.
  void ReceiveEnvelope(world::PeerId from, const peerpb::Envelope& envelope);

  // Proposes a command; ProposalDroppedError (raft/raft.h) if no leader is known.
  absl::Status Propose(std::string data);
  absl::Status ProposeConfChange(const raftpb::ConfChange& change);
  void TransferLeader(uint64_t to) { raw_->TransferLeader(to); Process(); }
  void Campaign() { raw_->Campaign(); Process(); }
  // On the leader: sends `id` the latest snapshot (see Raft::SendSnapshotTo).
  bool SendSnapshotTo(uint64_t id) {
    const bool sent = raw_->SendSnapshotTo(id);
    Process();
    return sent;
  }

  uint64_t id() const { return id_; }
  const Raft& raft() const { return raw_->raft(); }
  NodeStatus Status() const { return raw_->Status(); }
  uint64_t applied() const { return applied_; }
  const raftpb::ConfState& conf_state() const { return conf_; }
  const MemoryStorage& storage() const { return storage_; }

 private:
  RaftNode(world::Env& env, StateMachine& sm, Options options);
  absl::Status Start();
  void ScheduleTick(world::Duration delay);
  // Makes the bootstrap snapshot durable, then lets Ready processing start (busy_ until then).
  // Replaces a recovered state by one snapshot of everything committed, with this node the only
  // voter (Options::reinit).
  void Reinit(DurableLog::Recovered& state);
  void SaveBootstrap(raftpb::Snapshot snapshot, raftpb::HardState hs);
  void OnTick();
  // A Ready being made durable, with what its writing needs across retries.
  struct PendingReady {
    Ready rd;
    uint64_t prev_term = 0;  // term of the entry before rd.entries, when the Ready was taken
    bool in_memory = false;  // a snapshot Ready already applied to storage_ and the state machine
  };
  // Drains Ready batches until one waits for the disk (continued from its callback) or none is left.
  void Process();
  void ReportRoleChange(const Ready& rd);
  // Makes one Ready durable, then Complete(); on a disk error, OnWriteError().
  void Write(const std::shared_ptr<PendingReady>& p);
  void ApplySnapshotInMemory(const Ready& rd);
  void Durable(const PendingReady& p);
  void Complete(const std::shared_ptr<PendingReady>& p);
  void OnWriteError(const std::shared_ptr<PendingReady>& p, const absl::Status& s);
  void Finish(Ready& rd);
  void Send(const raftpb::Message& m);
  void SendSnapshotInChunks(const raftpb::Message& m);
  void OnChunk(world::PeerId from, const peerpb::SnapshotChunk& chunk);
  void ApplyCommitted(const std::vector<raftpb::Entry>& entries);
  void MaybeCompact();
  void MaybePromoteLearner();

  world::Env& env_;
  StateMachine& sm_;
  Options options_;
  uint64_t id_;
  world::Random raft_random_;         // election timeouts
  MemoryStorage storage_;             // Raft's view of stable storage (mirrors the durable log)
  DurableLog log_;
  std::unique_ptr<RawNode> raw_;
  raftpb::ConfState conf_;            // membership as of the last applied entry
  uint64_t applied_ = 0;              // last applied index
  bool busy_ = false;                 // a sync or snapshot save is in flight: Ready waits
  absl::Status failure_;              // a disk failure stopped this node (until restarted)
  world::TimerId retry_timer_ = 0;    // a write waiting for disk space
  bool processing_ = false;           // inside Process() (guards re-entry from callbacks)
  world::TimerId tick_timer_ = 0;
  bool recampaign_deferred_ = false;  // this tick was moved to a random phase before a re-campaign
  SoftState last_soft_{};             // last role/leader reported to the observer
  uint64_t last_term_ = 0;            // last term reported to the observer
  // Snapshot chunks being reassembled, by sender: the latest snapshot (index, term) only.
  struct Assembly {
    raftpb::Message header;
    uint64_t total = 0;
    std::map<uint64_t, std::string> pieces;  // offset -> bytes
  };
  std::map<world::PeerId, Assembly> assemblies_;
};

}  // namespace qdsim::raft

#endif  // QDSIM_NODE_RAFT_RAFT_NODE_H_
