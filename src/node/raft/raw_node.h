// RawNode: the driver-facing API of the Raft core. The driver (the consensus module in the real
// runtime, or the simulator) feeds it ticks, peer messages and proposals, and drains its output as
// Ready batches:
//
//   node->Tick();                                   // every tick_period_ms
//   node->Step(message_from_peer);                  // for each message received
//   RETURN_IF_ERROR(node->Propose(bytes));          // IsProposalDropped: retry later
//   while (node->HasReady()) {
//     raft::Ready rd = node->GetReady();
//     persist(rd.hard_state, rd.entries, rd.snapshot);   // fsync first if rd.must_sync
//     storage.Append(rd.entries) / ApplySnapshot(...) / SetHardState(...);
//     send(rd.messages);                            // only after persisting
//     apply(rd.committed_entries);                  // ApplyConfChange for ENTRY_CONF_CHANGE
//     node->Advance();
//   }
//
// Thread-safety: none; one logical thread drives a node.
#ifndef QDSIM_NODE_RAFT_RAW_NODE_H_
#define QDSIM_NODE_RAFT_RAW_NODE_H_

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "node/raft/config.h"
#include "node/raft/raft.h"
#include "proto/raft.pb.h"

namespace qdsim::raft {

// One batch of work for the driver, to be done in this order: persist (snapshot, entries, hard
// state; synced if must_sync), then send messages, then apply committed entries, then Advance().
struct Ready {
  // Leader or role changed since the last Ready (not persisted).
  std::optional<SoftState> soft_state;
  // Term, vote or commit changed: persist before sending messages.
  std::optional<raftpb::HardState> hard_state;
  // Entries to append to stable storage before sending messages (they may overwrite a suffix).
  std::vector<raftpb::Entry> entries;
  // A snapshot received from the leader, to persist (and load into the state machine).
  std::optional<raftpb::Snapshot> snapshot;
  // Entries to apply to the state machine, in order; they may overlap `entries` (persist first).
  std::vector<raftpb::Entry> committed_entries;
  // Messages to send, after persisting the above (acknowledgements depend on it).
  std::vector<raftpb::Message> messages;
  // True if the hard state's term or vote changed or there are entries: the writes must be synced
  // before the messages go out.
  bool must_sync = false;

  // True if there is nothing to do.
  bool Empty() const;
  // Multi-line rendering for tests and traces.
  std::string ToString() const;
};

// A snapshot of a node's state for status pages and tests.
struct NodeStatus {
  uint64_t id = kNone;
  raftpb::HardState hard_state;
  SoftState soft_state;
  uint64_t applied = 0;
  uint64_t lead_transferee = kNone;
  // Leader only: every member's progress, by id; empty on other roles.
  std::map<uint64_t, Progress> progress;

  // "1: StateLeader term=2 vote=1 commit=5 applied=5 lead=1" followed by one line per peer.
  std::string ToString() const;
};

class RawNode {
 public:
  // A node restored from config.storage. Errors as Raft::Create.
  static absl::StatusOr<std::unique_ptr<RawNode>> Create(const Config& config);

  // Advances logical time by one tick.
  void Tick() { raft_->Tick(); }

  // Starts an election now (pre-vote first if enabled). No effect on a leader or a non-voter.
  void Campaign();

  // Proposes `data` to be appended to the log. ProposalDroppedError if no leader is known or the
  // leader refused; OK means accepted or forwarded (not yet committed: watch committed entries).
  absl::Status Propose(std::string data);

  // Proposes a membership change. Additionally refused (ProposalDroppedError) by the leader while
  // an earlier change is not yet applied.
  absl::Status ProposeConfChange(const raftpb::ConfChange& cc);

  // Applies a committed change (see Raft::ApplyConfChange) and returns the new membership.
  raftpb::ConfState ApplyConfChange(const raftpb::ConfChange& cc) {
    return raft_->ApplyConfChange(cc);
  }

  // Feeds a message from a peer. InvalidArgument for local message types; NotFound for a response
  // from a node that is not a member.
  absl::Status Step(const raftpb::Message& m);

  // Asks the leader (directly, or through this follower) to hand leadership to `transferee`.
  void TransferLeader(uint64_t transferee);

  // The driver could not deliver a message to `id`.
  void ReportUnreachable(uint64_t id);

  // The driver finished (ok) or gave up (!ok) sending a snapshot to `id`.
  void ReportSnapshot(uint64_t id, bool ok);

  // True if GetReady() would return a non-empty Ready.
  bool HasReady() const;

  // Takes the pending work. REQUIRES: Advance() was called after the previous GetReady().
  Ready GetReady();

  // Tells the node that the last Ready was persisted, sent and applied.
  // REQUIRES: a GetReady() not yet advanced.
  void Advance();

  // The node's current status.
  NodeStatus Status() const;

  // See Raft::LearnerCaughtUp.
  bool LearnerCaughtUp(uint64_t id) const { return raft_->LearnerCaughtUp(id); }
  // See Raft::SendSnapshotTo.
  bool SendSnapshotTo(uint64_t id) { return raft_->SendSnapshotTo(id); }

  const Raft& raft() const { return *raft_; }
  Raft& mutable_raft() { return *raft_; }

 private:
  explicit RawNode(std::unique_ptr<Raft> raft);

  // What Advance() must acknowledge: recorded by GetReady().
  struct Pending {
    std::optional<std::pair<uint64_t, uint64_t>> last_entry;  // (index, term) of last entry
    std::optional<uint64_t> snapshot_index;                   // index of the snapshot handed out
    std::optional<uint64_t> applied;                          // last committed entry handed out
  };

  std::unique_ptr<Raft> raft_;       // the state machine
  SoftState prev_soft_state_;        // soft state reported by the last Ready
  raftpb::HardState prev_hard_state_;// hard state reported by the last Ready
  std::optional<Pending> pending_;   // set between GetReady() and Advance()
};

}  // namespace qdsim::raft

#endif  // QDSIM_NODE_RAFT_RAW_NODE_H_
