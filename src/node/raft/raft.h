// Raft: the consensus core as a deterministic state machine (after etcd's raft package).
//
// The core owns no clock, thread, socket or file. Time advances only through Tick(); input arrives
// only through Step(); output accumulates as messages to send, entries to persist and entries to
// apply, which RawNode (raw_node.h) packages as a Ready. Most code should drive RawNode rather than
// Raft directly; tests and the simulator's checkers read Raft's observers.
//
// Structure, as in etcd: one step function per role (StepLeader, StepCandidate for both kinds of
// candidate, StepFollower) and one handler per message type; the log (raft_log.h), the unstable
// tail (log_unstable.h), storage (storage.h), progress and flow control (progress.h, inflights.h,
// tracker.h) and quorum math (quorum.h) each live in their own file. Membership changes are single
// changes (no joint consensus), one in flight at a time.
//
// Thread-safety: none; one logical thread drives a node.
#ifndef QDSIM_NODE_RAFT_RAFT_H_
#define QDSIM_NODE_RAFT_RAFT_H_

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "node/raft/config.h"
#include "node/raft/raft_log.h"
#include "node/raft/tracker.h"
#include "proto/raft.pb.h"

namespace qdsim::raft {

enum class StateRole {
  kFollower,      // follows `lead` (or waits for one); campaigns when the election timer fires
  kPreCandidate,  // asking for pre-votes for term+1 without having entered it
  kCandidate,     // entered a new term and asks for votes
  kLeader,        // replicates its log and decides commitment
};

// "StateFollower", "StatePreCandidate", "StateCandidate" or "StateLeader".
const char* StateRoleName(StateRole role);

// Volatile state worth reporting when it changes (not persisted).
struct SoftState {
  uint64_t lead = kNone;                 // current leader, kNone if unknown
  StateRole role = StateRole::kFollower;
  friend bool operator==(const SoftState&, const SoftState&) = default;
};

// The status of a proposal the node could not accept or forward (no leader known, a leadership
// transfer in progress, the node was removed, or a conf change is already pending). The caller
// may retry later. Code Unavailable (FailedPrecondition for a pending conf change).
absl::Status ProposalDroppedError(std::string_view why);
bool IsProposalDropped(const absl::Status& status);

// The Context of a MsgVote sent because of a leadership transfer: voters honour it even while they
// are in a leader lease.
inline constexpr std::string_view kCampaignTransfer = "CampaignTransfer";

class Raft {
 public:
  // A follower restored from config.storage's initial state. InvalidArgument if config is invalid
  // or the stored hard state contradicts the log.
  static absl::StatusOr<std::unique_ptr<Raft>> Create(const Config& config);

  Raft(const Raft&) = delete;
  Raft& operator=(const Raft&) = delete;

  // Advances logical time by one tick: followers and candidates count towards an election, the
  // leader towards its next heartbeat and check-quorum round.
  void Tick();

  // Feeds one message (from a peer or local, see MessageType). Returns ProposalDroppedError for a
  // MsgProp that could not be accepted or forwarded, InvalidArgument for a malformed local
  // message; peers' messages never fail (stale or unexpected ones are ignored).
  absl::Status Step(const raftpb::Message& m);

  // Applies a committed configuration change and returns the resulting membership.
  // REQUIRES: cc comes from a committed ENTRY_CONF_CHANGE entry, applied in log order.
  raftpb::ConfState ApplyConfChange(const raftpb::ConfChange& cc);

  // On the leader: true if `id` is a learner that has acknowledged entries (match > 0) and whose
  // match index is within config.learner_max_lag of the leader's last index. False on non-leaders
  // and for non-learners.
  bool LearnerCaughtUp(uint64_t id) const;

  // On the leader: sends `id` the latest snapshot now (a peer recovering its state asked for it:
  // POST /cluster/recover). False if this is not the leader, `id` is unknown or not recently
  // active, or nothing was compacted yet (the log itself then brings `id` up to date).
  bool SendSnapshotTo(uint64_t id);

  // Output for RawNode: takes the messages produced since the last call.
  std::vector<raftpb::Message> TakeMessages();
  // True if messages are waiting to be taken.
  bool HasMessages() const { return !msgs_.empty(); }

  // Entries ready to be applied: committed ones (or, under apply_uncommitted, every entry in the
  // log) after the applied index, capped by config.max_committed_size_per_ready.
  std::vector<raftpb::Entry> EntriesToApply() const;
  bool HasEntriesToApply() const;

  // Replaces the planted bugs (tests and the simulator switch them at run time).
  void set_planted_bugs(const PlantedBugs& bugs) { planted_bugs_ = bugs; }
  const PlantedBugs& planted_bugs() const { return planted_bugs_; }

  // ---- Observers (for RawNode, tests and the simulator's checkers) ----
  uint64_t id() const { return id_; }
  uint64_t term() const { return term_; }
  uint64_t vote() const { return vote_; }
  uint64_t lead() const { return lead_; }
  StateRole role() const { return role_; }
  SoftState soft_state() const { return SoftState{lead_, role_}; }
  raftpb::HardState hard_state() const;
  const RaftLog& log() const { return log_; }
  RaftLog& mutable_log() { return log_; }
  const ProgressTracker& tracker() const { return tracker_; }
  // The node a leadership transfer is handing over to, kNone if none.
  uint64_t lead_transferee() const { return lead_transferee_; }
  // Index of the last conf change appended by this leader (refuse new ones until applied past it).
  uint64_t pending_conf_index() const { return pending_conf_index_; }
  // True if this node is a voter (so may campaign). A removed node or a learner is not.
  bool Promotable() const;
  bool is_learner() const { return is_learner_; }
  int election_elapsed() const { return election_elapsed_; }
  int randomized_election_timeout() const { return randomized_election_timeout_; }

 private:
  // How an election was started.
  enum class CampaignType {
    kPreElection,  // pre-vote round first (pre_vote on)
    kElection,     // straight to a real election
    kTransfer,     // real election requested by the leader (TimeoutNow): ignores leases
  };

  explicit Raft(const Config& config);
  absl::Status LoadState(const PersistentState& state);

  // ---- Role transitions (raft.cc) ----
  void BecomeFollower(uint64_t term, uint64_t lead);
  void BecomePreCandidate();
  void BecomeCandidate();
  void BecomeLeader();
  // Enters `term` (forgetting the vote if the term changes) and resets timers and progress.
  void Reset(uint64_t term);
  void ResetRandomizedElectionTimeout();
  bool PastElectionTimeout() const { return election_elapsed_ >= randomized_election_timeout_; }

  // ---- Ticks (raft.cc) ----
  void TickElection();
  void TickHeartbeat();

  // ---- Elections (raft_election.cc) ----
  void Hup(CampaignType type);
  void Campaign(CampaignType type);
  // Records a vote from `id` and returns the tally.
  VoteResult Poll(uint64_t id, raftpb::MessageType type, bool granted);
  void HandleVoteRequest(const raftpb::Message& m);
  // Step's first stage: reacts to the term of `m`. Returns false if `m` must be dropped.
  bool CheckMessageTerm(const raftpb::Message& m);
  // Answers (or ignores) a message from an older term.
  void HandleStaleTermMessage(const raftpb::Message& m);

  // ---- Per-role step functions (raft_step.cc) ----
  absl::Status StepLeader(const raftpb::Message& m);
  absl::Status StepCandidate(const raftpb::Message& m);
  absl::Status StepFollower(const raftpb::Message& m);

  // ---- Leader handlers (raft_leader.cc) ----
  absl::Status HandlePropose(raftpb::Message m);
  void HandleAppendResponse(const raftpb::Message& m, Progress& pr);
  void HandleHeartbeatResponse(const raftpb::Message& m, Progress& pr);
  void HandleSnapshotStatus(const raftpb::Message& m, Progress& pr);
  void HandleTransferLeader(const raftpb::Message& m, Progress& pr);
  void HandleCheckQuorum();

  // ---- Follower handlers (raft_step.cc) ----
  void HandleAppendEntries(const raftpb::Message& m);
  void HandleHeartbeat(const raftpb::Message& m);
  void HandleSnapshot(const raftpb::Message& m);
  // Installs `snap` if it is newer than the log and includes this node. Returns true if installed.
  bool Restore(const raftpb::Snapshot& snap);

  // ---- Replication (raft_leader.cc) ----
  // Appends entries proposed by this leader (assigning term and index). Returns false if refused.
  bool AppendEntries(std::vector<raftpb::Entry> entries);
  // Sends what `to` is missing if flow control allows; with send_if_empty a MsgApp without entries
  // is sent too (to probe or carry the commit index). Returns true if a message was sent.
  bool MaybeSendAppend(uint64_t to, bool send_if_empty);
  void SendAppend(uint64_t to) { MaybeSendAppend(to, /*send_if_empty=*/true); }
  bool MaybeSendSnapshot(uint64_t to, Progress& pr);
  void SendHeartbeat(uint64_t to);
  void BroadcastAppend();
  void BroadcastHeartbeat();
  // Advances the commit index from the voters' match indexes. Returns true if it moved.
  bool MaybeCommit();
  void SendTimeoutNow(uint64_t to);
  void AbortLeaderTransfer() { lead_transferee_ = kNone; }

  // ---- Membership (raft_membership.cc) ----
  // Updates is_learner_ and, on the leader, commitment and transfers after a membership change.
  void OnMembershipChanged();

  // Queues `m` for sending, stamping from (and term for non-local messages).
  void Send(raftpb::Message m);
  void Log(world::LogLevel level, const std::string& message) const;
  bool Bug(PlantedBug bug) const { return planted_bugs_.Has(bug); }

  const uint64_t id_;                 // this node
  uint64_t term_ = 0;                 // current term (persisted)
  uint64_t vote_ = kNone;             // whom we voted for in term_ (persisted)
  RaftLog log_;                       // the log with commit / apply positions
  ProgressTracker tracker_;           // membership, followers' progress, votes
  StateRole role_ = StateRole::kFollower;
  bool is_learner_ = false;           // this node is a learner in the current membership
  std::vector<raftpb::Message> msgs_; // outgoing messages not yet taken
  uint64_t lead_ = kNone;             // leader of term_, if known
  uint64_t lead_transferee_ = kNone;  // leader only: target of a leadership transfer in progress
  uint64_t pending_conf_index_ = 0;   // leader only: index of the latest conf change proposed

  // Followers/candidates: ticks since the timer was reset (last heard from a leader or started
  // campaigning). Leader: ticks since the last check-quorum round.
  int election_elapsed_ = 0;
  int heartbeat_elapsed_ = 0;         // leader only: ticks since the last heartbeat broadcast
  int randomized_election_timeout_;   // drawn from [election_tick, 2 * election_tick)

  const int election_tick_;           // Config::election_tick
  const int heartbeat_tick_;          // Config::heartbeat_tick
  const bool pre_vote_;               // Config::pre_vote
  const bool check_quorum_;           // Config::check_quorum
  const uint64_t max_size_per_msg_;   // Config::max_size_per_msg
  const uint64_t max_entries_per_msg_;// Config::max_entries_per_msg
  const uint64_t learner_max_lag_;    // Config::learner_max_lag
  PlantedBugs planted_bugs_;          // deliberate deviations switched on
  world::Random* random_;             // election timeout randomness; not owned
  world::Logger* logger_;             // may be null; not owned
};

}  // namespace qdsim::raft

#endif  // QDSIM_NODE_RAFT_RAFT_H_
