// Progress: what the leader knows about one follower's log, and how it sends to it.
//
// A follower is in one of three states:
//   Probe     — the leader does not know where the logs match; it sends one MsgApp per heartbeat
//               interval and waits for the answer (backtracking with reject hints).
//   Replicate — the logs match up to `match`; the leader streams entries optimistically, bounded by
//               the Inflights window.
//   Snapshot  — the follower needs entries the leader has compacted; a snapshot is in flight and
//               nothing else is sent until it is acknowledged or reported failed.
//
// Thread-safety: none.
#ifndef QDSIM_NODE_RAFT_PROGRESS_H_
#define QDSIM_NODE_RAFT_PROGRESS_H_

#include <cstdint>
#include <string>

#include "node/raft/inflights.h"

namespace qdsim::raft {

enum class ProgressState { kProbe, kReplicate, kSnapshot };

// "StateProbe", "StateReplicate" or "StateSnapshot".
const char* ProgressStateName(ProgressState state);

class Progress {
 public:
  // A follower in Probe state with match 0 and the given next index and flow-control window.
  Progress(uint64_t next, size_t max_inflight, uint64_t max_inflight_bytes, bool is_learner);

  // Enters Probe: next = match + 1 (or just past a pending snapshot's index if leaving Snapshot).
  void BecomeProbe();
  // Enters Replicate: next = match + 1, an empty window.
  void BecomeReplicate();
  // Enters Snapshot, waiting for the snapshot at `snapshot_index` to be applied.
  void BecomeSnapshot(uint64_t snapshot_index);

  // Records that a MsgApp carrying `entries` entries (`bytes` payload bytes) starting at
  // `next_index` was sent: in Replicate advances `next` and fills the window; in Probe pauses
  // further sends until an answer or heartbeat response arrives.
  void UpdateOnEntriesSend(uint64_t entries, uint64_t bytes, uint64_t next_index);

  // The follower acknowledged index `n`: raises match (and next) if `n` is news. Returns true if
  // match increased.
  bool MaybeUpdate(uint64_t n);

  // The follower rejected a MsgApp whose preceding index was `rejected`, hinting that its log may
  // match up to `match_hint`. Returns false if the rejection is stale (and should be ignored);
  // otherwise lowers `next` and returns true.
  bool MaybeDecrTo(uint64_t rejected, uint64_t match_hint);

  // A snapshot send failed: forgets the pending snapshot so that BecomeProbe() restarts from match.
  void AbortSnapshot() { pending_snapshot_ = 0; }

  // True if the leader should not send MsgApp now (Probe awaiting an answer, Replicate window
  // full, or a snapshot in flight).
  bool IsPaused() const;

  // "StateReplicate match=5 next=6 [learner] [paused] [inflight=2[full]] [pending_snapshot=9]
  // [inactive]".
  std::string ToString() const;

  uint64_t match() const { return match_; }
  uint64_t next() const { return next_; }
  ProgressState state() const { return state_; }
  uint64_t pending_snapshot() const { return pending_snapshot_; }
  bool recent_active() const { return recent_active_; }
  bool is_learner() const { return is_learner_; }
  bool msg_app_flow_paused() const { return msg_app_flow_paused_; }
  const Inflights& inflights() const { return inflights_; }
  Inflights& inflights_mutable() { return inflights_; }

  void set_recent_active(bool active) { recent_active_ = active; }
  void set_is_learner(bool learner) { is_learner_ = learner; }
  void set_msg_app_flow_paused(bool paused) { msg_app_flow_paused_ = paused; }
  void set_match(uint64_t match) { match_ = match; }

 private:
  // Moves to `state` with a clean pause flag, no pending snapshot and an empty window.
  void ResetState(ProgressState state);

  uint64_t match_ = 0;  // highest index known replicated on the follower
  uint64_t next_;       // index of the next entry to send
  ProgressState state_ = ProgressState::kProbe;
  uint64_t pending_snapshot_ = 0;  // in Snapshot: index of the snapshot sent
  bool recent_active_ = false;  // heard from the follower since the last check-quorum round
  bool msg_app_flow_paused_ = false;  // in Probe: a MsgApp is outstanding, wait for its answer
  bool is_learner_;  // the follower replicates but does not vote
  Inflights inflights_;  // in Replicate: MsgApps sent but not yet acknowledged
};

}  // namespace qdsim::raft

#endif  // QDSIM_NODE_RAFT_PROGRESS_H_
