// The leader: its step function, the handlers of followers' answers, proposals, replication with
// flow control, the commit rule, check-quorum and leadership transfer.
#include <algorithm>

#include "absl/strings/str_format.h"
#include "node/raft/describe.h"
#include "node/raft/raft.h"

namespace qdsim::raft {

absl::Status Raft::StepLeader(const raftpb::Message& m) {
  switch (m.type()) {
    case raftpb::MSG_BEAT:
      BroadcastHeartbeat();
      return absl::OkStatus();
    case raftpb::MSG_CHECK_QUORUM:
      HandleCheckQuorum();
      return absl::OkStatus();
    case raftpb::MSG_PROP:
      return HandlePropose(m);
    default:
      break;
  }
  // Everything else is about one follower.
  Progress* pr = tracker_.Get(m.from());
  if (pr == nullptr) {
    Log(world::LogLevel::kDebug, absl::StrFormat("%d no progress available for %d", id_, m.from()));
    return absl::OkStatus();
  }
  switch (m.type()) {
    case raftpb::MSG_APP_RESP:
      HandleAppendResponse(m, *pr);
      break;
    case raftpb::MSG_HEARTBEAT_RESP:
      HandleHeartbeatResponse(m, *pr);
      break;
    case raftpb::MSG_SNAP_STATUS:
      HandleSnapshotStatus(m, *pr);
      break;
    case raftpb::MSG_UNREACHABLE:
      // Optimistic sends were probably lost: fall back to probing.
      if (pr->state() == ProgressState::kReplicate) pr->BecomeProbe();
      Log(world::LogLevel::kDebug,
          absl::StrFormat("%d failed to send message to %d because it is unreachable [%s]", id_,
                          m.from(), pr->ToString()));
      break;
    case raftpb::MSG_TRANSFER_LEADER:
      HandleTransferLeader(m, *pr);
      break;
    default:
      break;
  }
  return absl::OkStatus();
}

absl::Status Raft::HandlePropose(raftpb::Message m) {
  if (m.entries_size() == 0) return absl::InvalidArgumentError("raft: stepped empty MsgProp");
  if (!tracker_.IsMember(id_)) {
    return ProposalDroppedError("the leader was removed from the configuration");
  }
  if (lead_transferee_ != kNone) {
    Log(world::LogLevel::kDebug,
        absl::StrFormat("%d [term %d] transfer leadership to %d is in progress; dropping proposal",
                        id_, term_, lead_transferee_));
    return ProposalDroppedError(
        absl::StrFormat("leadership transfer to %d in progress", lead_transferee_));
  }
  int conf_changes = 0;
  uint64_t conf_index = 0;
  for (int i = 0; i < m.entries_size(); ++i) {
    if (m.entries(i).type() != raftpb::ENTRY_CONF_CHANGE) continue;
    ++conf_changes;
    conf_index = log_.LastIndex() + static_cast<uint64_t>(i) + 1;
  }
  if (conf_changes > 0) {
    // One membership change at a time: the next may only be proposed once the previous one has
    // been applied here, so that no two configurations without a common majority coexist.
    if (conf_changes > 1) return ProposalDroppedError("more than one conf change in a proposal");
    if (pending_conf_index_ > log_.applied()) {
      Log(world::LogLevel::kInfo,
          absl::StrFormat("%d propose conf change ignored since pending unapplied configuration "
                          "[index %d, applied %d]",
                          id_, pending_conf_index_, log_.applied()));
      return ProposalDroppedError(
          absl::StrFormat("conf change at index %d not yet applied (applied %d)",
                          pending_conf_index_, log_.applied()));
    }
    pending_conf_index_ = conf_index;
  }
  if (!AppendEntries({m.entries().begin(), m.entries().end()})) {
    return ProposalDroppedError("the leader refused the entries");
  }
  BroadcastAppend();
  return absl::OkStatus();
}

bool Raft::AppendEntries(std::vector<raftpb::Entry> entries) {
  const uint64_t last = log_.LastIndex();
  for (size_t i = 0; i < entries.size(); ++i) {
    entries[i].set_term(term_);
    entries[i].set_index(last + 1 + i);
  }
  const uint64_t new_last = log_.Append(entries);
  // The leader counts its own log as replicated; the driver persists it before sending anything
  // that depends on it (Ready's contract).
  if (Progress* self = tracker_.Get(id_)) self->MaybeUpdate(new_last);
  MaybeCommit();
  return true;
}

bool Raft::MaybeCommit() {
  const uint64_t quorum_index = tracker_.Committed();
  if (quorum_index == UINT64_MAX) return false;  // no voters: nothing can be committed
  if (Bug(PlantedBug::kCommitOldTermByCounting)) {
    // BUG (planted): commits whatever a majority holds, even an entry of an older term that a
    // future leader may still overwrite (Figure 8).
    if (quorum_index <= log_.committed()) return false;
    log_.CommitTo(quorum_index);
    return true;
  }
  // Only an entry of the current term is committed by counting replicas (§5.4.2); earlier entries
  // are committed indirectly by it.
  return log_.MaybeCommit(quorum_index, term_);
}

bool Raft::MaybeSendAppend(uint64_t to, bool send_if_empty) {
  Progress* pr = tracker_.Get(to);
  if (pr == nullptr || pr->IsPaused()) return false;
  const uint64_t prev_index = pr->next() - 1;
  absl::StatusOr<uint64_t> prev_term = log_.Term(prev_index);
  absl::StatusOr<std::vector<raftpb::Entry>> entries = log_.Entries(pr->next(), max_size_per_msg_);
  if (entries.ok() && entries->empty() && !send_if_empty) return false;
  if (!prev_term.ok() || !entries.ok()) {
    // The follower needs entries we compacted away.
    return MaybeSendSnapshot(to, *pr);
  }
  if (max_entries_per_msg_ > 0 && entries->size() > max_entries_per_msg_) {
    entries->resize(max_entries_per_msg_);
  }
  raftpb::Message m;
  m.set_to(to);
  m.set_type(raftpb::MSG_APP);
  m.set_index(prev_index);
  m.set_log_term(*prev_term);
  m.set_commit(log_.committed());
  for (raftpb::Entry& e : *entries) *m.add_entries() = std::move(e);
  uint64_t bytes = 0;
  for (const raftpb::Entry& e : m.entries()) bytes += e.ByteSizeLong();
  pr->UpdateOnEntriesSend(static_cast<uint64_t>(m.entries_size()), bytes, pr->next());
  Send(std::move(m));
  return true;
}

bool Raft::SendSnapshotTo(uint64_t id) {
  if (role_ != StateRole::kLeader || id == id_) return false;
  Progress* pr = tracker_.Get(id);
  return pr != nullptr && MaybeSendSnapshot(id, *pr);
}

bool Raft::MaybeSendSnapshot(uint64_t to, Progress& pr) {
  if (!pr.recent_active()) {
    Log(world::LogLevel::kDebug,
        absl::StrFormat("%d ignore sending snapshot to %d since it is not recently active", id_,
                        to));
    return false;
  }
  absl::StatusOr<raftpb::Snapshot> snap = log_.Snapshot();
  if (!snap.ok()) {
    Log(world::LogLevel::kDebug,
        absl::StrFormat("%d failed to send snapshot to %d: %s", id_, to, snap.status().ToString()));
    return false;
  }
  const uint64_t index = snap->metadata().index();
  if (index == 0) return false;  // nothing was compacted; entries must be readable
  Log(world::LogLevel::kInfo,
      absl::StrFormat("%d [firstindex: %d, commit: %d] sent snapshot[index: %d, term: %d] to %d "
                      "[%s]",
                      id_, log_.FirstIndex(), log_.committed(), index, snap->metadata().term(), to,
                      pr.ToString()));
  pr.BecomeSnapshot(index);
  raftpb::Message m;
  m.set_to(to);
  m.set_type(raftpb::MSG_SNAP);
  *m.mutable_snapshot() = *std::move(snap);
  Send(std::move(m));
  return true;
}

void Raft::SendHeartbeat(uint64_t to) {
  const Progress* pr = tracker_.Get(to);
  // Never tell a follower to commit beyond what it is known to hold.
  const uint64_t commit = std::min(pr == nullptr ? 0 : pr->match(), log_.committed());
  raftpb::Message m;
  m.set_to(to);
  m.set_type(raftpb::MSG_HEARTBEAT);
  m.set_commit(commit);
  Send(std::move(m));
}

void Raft::BroadcastAppend() {
  for (const auto& [id, pr] : tracker_.progress()) {
    if (id != id_) SendAppend(id);
  }
}

void Raft::BroadcastHeartbeat() {
  for (const auto& [id, pr] : tracker_.progress()) {
    if (id != id_) SendHeartbeat(id);
  }
}

void Raft::HandleAppendResponse(const raftpb::Message& m, Progress& pr) {
  pr.set_recent_active(true);
  if (m.reject()) {
    Log(world::LogLevel::kDebug,
        absl::StrFormat("%d received MsgAppResp(rejected, hint: (index %d, term %d)) from %d for "
                        "index %d",
                        id_, m.reject_hint(), m.log_term(), m.from(), m.index()));
    uint64_t next_probe = m.reject_hint();
    if (m.log_term() > 0) {
      // Skip every entry of ours whose term is above the follower's term at the hint: none of them
      // can match.
      next_probe = log_.FindConflictByTerm(m.reject_hint(), m.log_term()).first;
    }
    if (pr.MaybeDecrTo(m.index(), next_probe)) {
      Log(world::LogLevel::kDebug,
          absl::StrFormat("%d decreased progress of %d to [%s]", id_, m.from(), pr.ToString()));
      if (pr.state() == ProgressState::kReplicate) pr.BecomeProbe();
      SendAppend(m.from());
    }
    return;
  }
  const bool was_paused = pr.IsPaused();
  const bool probe_acked = pr.match() == m.index() && pr.state() == ProgressState::kProbe;
  if (!pr.MaybeUpdate(m.index()) && !probe_acked) return;
  switch (pr.state()) {
    case ProgressState::kProbe:
      pr.BecomeReplicate();
      break;
    case ProgressState::kSnapshot:
      if (pr.match() + 1 >= log_.FirstIndex()) {
        // The snapshot (or something newer) was applied: entries can flow again.
        pr.BecomeProbe();
        pr.BecomeReplicate();
      }
      break;
    case ProgressState::kReplicate:
      pr.inflights_mutable().FreeLE(m.index());
      break;
  }
  if (MaybeCommit()) {
    BroadcastAppend();
  } else if (was_paused) {
    SendAppend(m.from());
  }
  // The window may have opened for several messages at once.
  while (MaybeSendAppend(m.from(), /*send_if_empty=*/false)) {
  }
  if (m.from() == lead_transferee_ && pr.match() == log_.LastIndex()) {
    Log(world::LogLevel::kInfo,
        absl::StrFormat("%d sent MsgTimeoutNow to %d after received MsgAppResp", id_, m.from()));
    SendTimeoutNow(m.from());
  }
}

void Raft::HandleHeartbeatResponse(const raftpb::Message& m, Progress& pr) {
  pr.set_recent_active(true);
  pr.set_msg_app_flow_paused(false);
  // The follower is alive but the window is full: a MsgApp was probably lost. Free a slot so that
  // the next send discovers the gap (the follower rejects and we fall back to probing).
  if (pr.state() == ProgressState::kReplicate && pr.inflights().Full()) {
    pr.inflights_mutable().FreeFirstOne();
  }
  if (pr.match() < log_.LastIndex()) SendAppend(m.from());
}

void Raft::HandleSnapshotStatus(const raftpb::Message& m, Progress& pr) {
  if (pr.state() != ProgressState::kSnapshot) return;
  if (m.reject()) {
    pr.AbortSnapshot();
    pr.BecomeProbe();
    Log(world::LogLevel::kDebug,
        absl::StrFormat("%d snapshot failed, resumed sending replication messages to %d [%s]", id_,
                        m.from(), pr.ToString()));
  } else {
    pr.BecomeProbe();
    Log(world::LogLevel::kDebug,
        absl::StrFormat("%d snapshot succeeded, resumed sending replication messages to %d [%s]",
                        id_, m.from(), pr.ToString()));
  }
  // Wait for the follower's heartbeat response before probing, whatever happened.
  pr.set_msg_app_flow_paused(true);
}

void Raft::HandleTransferLeader(const raftpb::Message& m, Progress& pr) {
  const uint64_t transferee = m.from();
  if (pr.is_learner()) {
    Log(world::LogLevel::kDebug,
        absl::StrFormat("%d is learner. Ignored transferring leadership", transferee));
    return;
  }
  if (lead_transferee_ != kNone) {
    if (lead_transferee_ == transferee) {
      Log(world::LogLevel::kInfo,
          absl::StrFormat("%d [term %d] transfer leadership to %d is in progress, ignores request "
                          "to same node %d",
                          id_, term_, transferee, transferee));
      return;
    }
    Log(world::LogLevel::kInfo,
        absl::StrFormat("%d [term %d] abort previous transferring leadership to %d", id_, term_,
                        lead_transferee_));
    AbortLeaderTransfer();
  }
  if (transferee == id_) {
    Log(world::LogLevel::kDebug,
        absl::StrFormat("%d is already leader. Ignored transferring leadership to self", id_));
    return;
  }
  Log(world::LogLevel::kInfo, absl::StrFormat("%d [term %d] starts to transfer leadership to %d",
                                              id_, term_, transferee));
  // The transfer must finish within one election timeout (see TickHeartbeat).
  election_elapsed_ = 0;
  lead_transferee_ = transferee;
  if (pr.match() == log_.LastIndex()) {
    Log(world::LogLevel::kInfo,
        absl::StrFormat("%d sends MsgTimeoutNow to %d immediately as %d already has up-to-date "
                        "log",
                        id_, transferee, transferee));
    SendTimeoutNow(transferee);
  } else {
    SendAppend(transferee);
  }
}

void Raft::HandleCheckQuorum() {
  if (Progress* self = tracker_.Get(id_)) self->set_recent_active(true);
  if (!tracker_.QuorumActive()) {
    Log(world::LogLevel::kWarning,
        absl::StrFormat("%d stepped down to follower since quorum is not active", id_));
    BecomeFollower(term_, kNone);
  }
  // Everyone else must prove to be alive again before the next round.
  for (auto& [id, pr] : tracker_.progress()) {
    if (id != id_) pr.set_recent_active(false);
  }
}

void Raft::SendTimeoutNow(uint64_t to) {
  raftpb::Message m;
  m.set_to(to);
  m.set_type(raftpb::MSG_TIMEOUT_NOW);
  Send(std::move(m));
}

}  // namespace qdsim::raft
