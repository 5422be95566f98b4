// Step: the entry point for every message, the candidate and follower step functions, and the
// follower-side handlers of the leader's messages.
#include <algorithm>

#include "absl/strings/str_format.h"
#include "node/raft/describe.h"
#include "node/raft/raft.h"

namespace qdsim::raft {

absl::Status Raft::Step(const raftpb::Message& m) {
  if (!CheckMessageTerm(m)) return absl::OkStatus();
  switch (m.type()) {
    case raftpb::MSG_HUP:
      Hup(pre_vote_ ? CampaignType::kPreElection : CampaignType::kElection);
      return absl::OkStatus();
    case raftpb::MSG_VOTE:
    case raftpb::MSG_PRE_VOTE:
      HandleVoteRequest(m);
      return absl::OkStatus();
    default:
      break;
  }
  switch (role_) {
    case StateRole::kLeader:
      return StepLeader(m);
    case StateRole::kPreCandidate:
    case StateRole::kCandidate:
      return StepCandidate(m);
    case StateRole::kFollower:
      return StepFollower(m);
  }
  return absl::OkStatus();
}

absl::Status Raft::StepCandidate(const raftpb::Message& m) {
  // Only answers to the current kind of request count; a pre-candidate may still receive answers
  // to an earlier real election, and the other way round.
  const raftpb::MessageType my_vote_response =
      role_ == StateRole::kPreCandidate ? raftpb::MSG_PRE_VOTE_RESP : raftpb::MSG_VOTE_RESP;
  switch (m.type()) {
    case raftpb::MSG_PROP:
      Log(world::LogLevel::kInfo,
          absl::StrFormat("%d no leader at term %d; dropping proposal", id_, term_));
      return ProposalDroppedError("no leader");
    case raftpb::MSG_APP:
      BecomeFollower(m.term(), m.from());  // someone else won this term
      HandleAppendEntries(m);
      return absl::OkStatus();
    case raftpb::MSG_HEARTBEAT:
      BecomeFollower(m.term(), m.from());
      HandleHeartbeat(m);
      return absl::OkStatus();
    case raftpb::MSG_SNAP:
      BecomeFollower(m.term(), m.from());
      HandleSnapshot(m);
      return absl::OkStatus();
    case raftpb::MSG_TIMEOUT_NOW:
      Log(world::LogLevel::kDebug, absl::StrFormat("%d [term %d state %s] ignored MsgTimeoutNow "
                                                   "from %d",
                                                   id_, term_, StateRoleName(role_), m.from()));
      return absl::OkStatus();
    default:
      break;
  }
  if (m.type() != my_vote_response) return absl::OkStatus();
  switch (Poll(m.from(), m.type(), !m.reject())) {
    case VoteResult::kWon:
      if (role_ == StateRole::kPreCandidate) {
        Campaign(CampaignType::kElection);
      } else {
        BecomeLeader();
        BroadcastAppend();
      }
      break;
    case VoteResult::kLost:
      // A pre-candidate returns to its old term; a candidate stays in the term it entered.
      BecomeFollower(term_, kNone);
      break;
    case VoteResult::kPending:
      break;
  }
  return absl::OkStatus();
}

absl::Status Raft::StepFollower(const raftpb::Message& m) {
  switch (m.type()) {
    case raftpb::MSG_PROP: {
      if (lead_ == kNone) {
        Log(world::LogLevel::kInfo,
            absl::StrFormat("%d no leader at term %d; dropping proposal", id_, term_));
        return ProposalDroppedError("no leader");
      }
      raftpb::Message forward = m;
      forward.set_to(lead_);
      Send(std::move(forward));
      return absl::OkStatus();
    }
    case raftpb::MSG_APP:
      election_elapsed_ = 0;
      lead_ = m.from();
      HandleAppendEntries(m);
      return absl::OkStatus();
    case raftpb::MSG_HEARTBEAT:
      election_elapsed_ = 0;
      lead_ = m.from();
      HandleHeartbeat(m);
      return absl::OkStatus();
    case raftpb::MSG_SNAP:
      election_elapsed_ = 0;
      lead_ = m.from();
      HandleSnapshot(m);
      return absl::OkStatus();
    case raftpb::MSG_TRANSFER_LEADER: {
      if (lead_ == kNone) {
        Log(world::LogLevel::kInfo,
            absl::StrFormat("%d no leader at term %d; dropping leader transfer msg", id_, term_));
        return absl::OkStatus();
      }
      raftpb::Message forward = m;
      forward.set_to(lead_);
      forward.set_term(0);  // re-stamped by Send
      Send(std::move(forward));
      return absl::OkStatus();
    }
    case raftpb::MSG_TIMEOUT_NOW:
      Log(world::LogLevel::kInfo,
          absl::StrFormat("%d [term %d] received MsgTimeoutNow from %d and starts an election to "
                          "get leadership",
                          id_, term_, m.from()));
      // Skips pre-vote and the lease: the leader asked for this.
      Hup(CampaignType::kTransfer);
      return absl::OkStatus();
    default:
      return absl::OkStatus();
  }
}

void Raft::HandleAppendEntries(const raftpb::Message& m) {
  raftpb::Message resp;
  resp.set_to(m.from());
  resp.set_type(raftpb::MSG_APP_RESP);
  if (m.index() < log_.committed()) {
    // Everything up to our commit index matches the leader's log already (it is committed).
    resp.set_index(log_.committed());
    Send(std::move(resp));
    return;
  }
  std::vector<raftpb::Entry> entries(m.entries().begin(), m.entries().end());
  if (std::optional<uint64_t> last_new =
          log_.MaybeAppend(m.index(), m.log_term(), m.commit(), entries,
                           Bug(PlantedBug::kNoConflictTruncation))) {
    resp.set_index(*last_new);
    Send(std::move(resp));
    return;
  }
  // Our log does not contain (m.index, m.log_term). Hint where it may match: the largest index
  // <= m.index whose term is <= m.log_term, so the leader can skip whole terms at once.
  const auto [hint_index, hint_term] =
      log_.FindConflictByTerm(std::min(m.index(), log_.LastIndex()), m.log_term());
  Log(world::LogLevel::kInfo,
      absl::StrFormat("%d [logterm: %d, index: %d] rejected MsgApp [logterm: %d, index: %d] from "
                      "%d",
                      id_, log_.TermOrZero(m.index()), m.index(), m.log_term(), m.index(),
                      m.from()));
  resp.set_index(m.index());
  resp.set_reject(true);
  resp.set_reject_hint(hint_index);
  resp.set_log_term(hint_term);
  Send(std::move(resp));
}

void Raft::HandleHeartbeat(const raftpb::Message& m) {
  // The leader sends min(match, commit), so this never commits entries we do not hold.
  log_.CommitTo(m.commit());
  raftpb::Message resp;
  resp.set_to(m.from());
  resp.set_type(raftpb::MSG_HEARTBEAT_RESP);
  resp.set_context(m.context());
  Send(std::move(resp));
}

void Raft::HandleSnapshot(const raftpb::Message& m) {
  const raftpb::SnapshotMetadata& md = m.snapshot().metadata();
  raftpb::Message resp;
  resp.set_to(m.from());
  resp.set_type(raftpb::MSG_APP_RESP);
  if (Restore(m.snapshot())) {
    Log(world::LogLevel::kInfo,
        absl::StrFormat("%d [commit: %d] restored snapshot [index: %d, term: %d]", id_,
                        log_.committed(), md.index(), md.term()));
    resp.set_index(log_.LastIndex());
  } else {
    Log(world::LogLevel::kInfo,
        absl::StrFormat("%d [commit: %d] ignored snapshot [index: %d, term: %d]", id_,
                        log_.committed(), md.index(), md.term()));
    resp.set_index(log_.committed());
  }
  Send(std::move(resp));
}

bool Raft::Restore(const raftpb::Snapshot& snap) {
  const raftpb::SnapshotMetadata& md = snap.metadata();
  if (md.index() <= log_.committed()) return false;
  if (role_ != StateRole::kFollower) {
    // Only a follower of this term's leader receives snapshots; anything else is a bug elsewhere.
    // Step down into a new term rather than install it.
    Log(world::LogLevel::kWarning,
        absl::StrFormat("%d attempted to restore snapshot as leader; should never happen", id_));
    BecomeFollower(term_ + 1, kNone);
    return false;
  }
  const raftpb::ConfState& cs = md.conf_state();
  const bool member = std::find(cs.voters().begin(), cs.voters().end(), id_) != cs.voters().end() ||
                      std::find(cs.learners().begin(), cs.learners().end(), id_) !=
                          cs.learners().end();
  if (!member) {
    Log(world::LogLevel::kWarning,
        absl::StrFormat("%d attempted to restore snapshot but it is not in the ConfState %s; "
                        "should never happen",
                        id_, DescribeConfState(cs)));
    return false;
  }
  if (log_.MatchTerm(md.index(), md.term())) {
    // We already hold the snapshot's last entry: just learn that it is committed.
    Log(world::LogLevel::kInfo,
        absl::StrFormat("%d [commit: %d, lastindex: %d, lastterm: %d] fast-forwarded commit to "
                        "snapshot [index: %d, term: %d]",
                        id_, log_.committed(), log_.LastIndex(), log_.LastTerm(), md.index(),
                        md.term()));
    log_.CommitTo(md.index());
    return false;
  }
  log_.Restore(snap);
  tracker_.Reset(cs, log_.LastIndex() + 1);
  OnMembershipChanged();
  return true;
}

}  // namespace qdsim::raft
