#include "node/raft/progress.h"

#include <algorithm>

namespace qdsim::raft {

const char* ProgressStateName(ProgressState state) {
  switch (state) {
    case ProgressState::kProbe:
      return "StateProbe";
    case ProgressState::kReplicate:
      return "StateReplicate";
    case ProgressState::kSnapshot:
      return "StateSnapshot";
  }
  return "StateUnknown";
}

Progress::Progress(uint64_t next, size_t max_inflight, uint64_t max_inflight_bytes,
                   bool is_learner)
    : next_(next), is_learner_(is_learner), inflights_(max_inflight, max_inflight_bytes) {}

void Progress::ResetState(ProgressState state) {
  msg_app_flow_paused_ = false;
  pending_snapshot_ = 0;
  state_ = state;
  inflights_.Reset();
}

void Progress::BecomeProbe() {
  if (state_ == ProgressState::kSnapshot) {
    // The snapshot may or may not have been applied; probing from just past it is the best guess
    // and a rejection corrects it.
    const uint64_t pending = pending_snapshot_;
    ResetState(ProgressState::kProbe);
    next_ = std::max(match_ + 1, pending + 1);
  } else {
    ResetState(ProgressState::kProbe);
    next_ = match_ + 1;
  }
}

void Progress::BecomeReplicate() {
  ResetState(ProgressState::kReplicate);
  next_ = match_ + 1;
}

void Progress::BecomeSnapshot(uint64_t snapshot_index) {
  ResetState(ProgressState::kSnapshot);
  pending_snapshot_ = snapshot_index;
}

void Progress::UpdateOnEntriesSend(uint64_t entries, uint64_t bytes, uint64_t next_index) {
  switch (state_) {
    case ProgressState::kReplicate:
      if (entries > 0) {
        const uint64_t last = next_index + entries - 1;
        next_ = std::max(next_, last + 1);
        inflights_.Add(last, bytes);
      }
      break;
    case ProgressState::kProbe:
      // One probe at a time: wait for its answer (or the next heartbeat response).
      msg_app_flow_paused_ = true;
      break;
    case ProgressState::kSnapshot:
      break;
  }
}

bool Progress::MaybeUpdate(uint64_t n) {
  bool updated = false;
  if (match_ < n) {
    match_ = n;
    updated = true;
    msg_app_flow_paused_ = false;
  }
  next_ = std::max(next_, n + 1);
  return updated;
}

bool Progress::MaybeDecrTo(uint64_t rejected, uint64_t match_hint) {
  if (state_ == ProgressState::kReplicate) {
    // A rejection at or below match answers an old, reordered message.
    if (rejected <= match_) return false;
    next_ = match_ + 1;
    return true;
  }
  // In Probe only the answer to the latest probe (sent at next-1) counts.
  if (next_ - 1 != rejected) return false;
  next_ = std::max(std::min(rejected, match_hint + 1), match_ + 1);
  msg_app_flow_paused_ = false;
  return true;
}

bool Progress::IsPaused() const {
  switch (state_) {
    case ProgressState::kProbe:
      return msg_app_flow_paused_;
    case ProgressState::kReplicate:
      return inflights_.Full();
    case ProgressState::kSnapshot:
      return true;
  }
  return true;
}

std::string Progress::ToString() const {
  std::string out = std::string(ProgressStateName(state_)) + " match=" + std::to_string(match_) +
                    " next=" + std::to_string(next_);
  if (is_learner_) out += " learner";
  if (IsPaused()) out += " paused";
  if (pending_snapshot_ > 0) out += " pending_snapshot=" + std::to_string(pending_snapshot_);
  if (!recent_active_) out += " inactive";
  if (inflights_.Count() > 0) {
    out += " inflight=" + std::to_string(inflights_.Count());
    if (inflights_.Full()) out += "[full]";
  }
  return out;
}

}  // namespace qdsim::raft
