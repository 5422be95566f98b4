// Elections: starting a campaign, answering (pre)vote requests, counting votes, and the term
// checks every message goes through before it reaches a role's step function.
#include "absl/strings/str_format.h"
#include "node/raft/describe.h"
#include "node/raft/raft.h"

namespace qdsim::raft {
namespace {

raftpb::MessageType VoteResponseType(raftpb::MessageType request) {
  return request == raftpb::MSG_VOTE ? raftpb::MSG_VOTE_RESP : raftpb::MSG_PRE_VOTE_RESP;
}

}  // namespace

void Raft::Hup(CampaignType type) {
  if (role_ == StateRole::kLeader) {
    Log(world::LogLevel::kDebug, absl::StrFormat("%d ignoring MsgHup because already leader", id_));
    return;
  }
  if (!Promotable()) {
    Log(world::LogLevel::kWarning,
        absl::StrFormat("%d is unpromotable and can not campaign", id_));
    return;
  }
  // A committed but unapplied conf change may change who votes; wait until it is applied.
  for (const raftpb::Entry& e : log_.NextEntriesToApply(log_.committed())) {
    if (e.type() == raftpb::ENTRY_CONF_CHANGE) {
      Log(world::LogLevel::kWarning,
          absl::StrFormat("%d cannot campaign at term %d since there are still pending "
                          "configuration changes to apply",
                          id_, term_));
      return;
    }
  }
  Log(world::LogLevel::kInfo,
      absl::StrFormat("%d is starting a new election at term %d", id_, term_));
  Campaign(type);
}

void Raft::Campaign(CampaignType type) {
  uint64_t term;
  raftpb::MessageType vote_type;
  if (type == CampaignType::kPreElection) {
    BecomePreCandidate();
    vote_type = raftpb::MSG_PRE_VOTE;
    // The term we would enter; not entered until the pre-vote is won.
    term = term_ + 1;
  } else {
    BecomeCandidate();
    vote_type = raftpb::MSG_VOTE;
    term = term_;
  }
  if (Poll(id_, VoteResponseType(vote_type), true) == VoteResult::kWon) {
    // A single-voter group: we won by our own vote.
    if (type == CampaignType::kPreElection) {
      Campaign(CampaignType::kElection);
    } else {
      BecomeLeader();
    }
    return;
  }
  for (uint64_t voter : tracker_.voters().voters()) {
    if (voter == id_) continue;
    Log(world::LogLevel::kInfo,
        absl::StrFormat("%d [logterm: %d, index: %d] sent %s request to %d at term %d", id_,
                        log_.LastTerm(), log_.LastIndex(), MessageTypeName(vote_type), voter,
                        term_));
    raftpb::Message m;
    m.set_to(voter);
    m.set_term(term);
    m.set_type(vote_type);
    m.set_index(log_.LastIndex());
    m.set_log_term(log_.LastTerm());
    if (type == CampaignType::kTransfer) m.set_context(std::string(kCampaignTransfer));
    Send(std::move(m));
  }
}

VoteResult Raft::Poll(uint64_t id, raftpb::MessageType type, bool granted) {
  Log(world::LogLevel::kInfo,
      absl::StrFormat("%d received %s%s from %d at term %d", id_, MessageTypeName(type),
                      granted ? "" : " rejection", id, term_));
  tracker_.RecordVote(id, granted);
  size_t yes = 0;
  size_t no = 0;
  const VoteResult result = tracker_.TallyVotes(&yes, &no);
  Log(world::LogLevel::kInfo,
      absl::StrFormat("%d has received %d %s votes and %d vote rejections", id_, yes,
                      MessageTypeName(type), no));
  return result;
}

void Raft::HandleVoteRequest(const raftpb::Message& m) {
  // We can vote if this is a repeat of a vote we cast, if we have not voted and know no leader in
  // this term, or if it is a pre-vote for a future term.
  bool can_vote = vote_ == m.from() || (vote_ == kNone && lead_ == kNone) ||
                  (m.type() == raftpb::MSG_PRE_VOTE && m.term() > term_);
  if (Bug(PlantedBug::kDoubleVoteSameTerm)) can_vote = true;
  const bool up_to_date =
      Bug(PlantedBug::kVoteWithoutLogCheck) || log_.IsUpToDate(m.index(), m.log_term());
  raftpb::Message resp;
  resp.set_to(m.from());
  resp.set_type(VoteResponseType(m.type()));
  if (can_vote && up_to_date) {
    Log(world::LogLevel::kInfo,
        absl::StrFormat("%d [logterm: %d, index: %d, vote: %d] cast %s for %d [logterm: %d, "
                        "index: %d] at term %d",
                        id_, log_.LastTerm(), log_.LastIndex(), vote_, MessageTypeName(m.type()),
                        m.from(), m.log_term(), m.index(), term_));
    // For a pre-vote the answer carries the term the candidate would enter, so that it counts.
    resp.set_term(m.term());
    Send(std::move(resp));
    if (m.type() == raftpb::MSG_VOTE) {
      election_elapsed_ = 0;
      vote_ = m.from();
    }
    return;
  }
  Log(world::LogLevel::kInfo,
      absl::StrFormat("%d [logterm: %d, index: %d, vote: %d] rejected %s from %d [logterm: %d, "
                      "index: %d] at term %d",
                      id_, log_.LastTerm(), log_.LastIndex(), vote_, MessageTypeName(m.type()),
                      m.from(), m.log_term(), m.index(), term_));
  resp.set_term(term_);
  resp.set_reject(true);
  Send(std::move(resp));
}

bool Raft::CheckMessageTerm(const raftpb::Message& m) {
  const raftpb::MessageType t = m.type();
  if (m.term() == 0) return true;  // local message
  if (m.term() > term_) {
    if (t == raftpb::MSG_VOTE || t == raftpb::MSG_PRE_VOTE) {
      const bool forced = m.context() == kCampaignTransfer;
      const bool in_lease = check_quorum_ && lead_ != kNone && election_elapsed_ < election_tick_;
      if (!forced && in_lease) {
        // We heard from a live leader within the minimum election timeout: this candidate is
        // probably partitioned from it, and must not disrupt the group.
        Log(world::LogLevel::kInfo,
            absl::StrFormat("%d [logterm: %d, index: %d, vote: %d] ignored %s from %d [logterm: "
                            "%d, index: %d] at term %d: lease is not expired (remaining ticks: "
                            "%d)",
                            id_, log_.LastTerm(), log_.LastIndex(), vote_, MessageTypeName(t),
                            m.from(), m.log_term(), m.index(), term_,
                            election_tick_ - election_elapsed_));
        return false;
      }
    }
    if (t == raftpb::MSG_PRE_VOTE || (t == raftpb::MSG_PRE_VOTE_RESP && !m.reject())) {
      // Pre-votes never change our term; a granted pre-vote answer carries the term the
      // pre-candidate would enter, which it enters only after winning.
      return true;
    }
    Log(world::LogLevel::kInfo,
        absl::StrFormat("%d [term: %d] received a %s message with higher term from %d [term: %d]",
                        id_, term_, MessageTypeName(t), m.from(), m.term()));
    const bool from_leader =
        t == raftpb::MSG_APP || t == raftpb::MSG_HEARTBEAT || t == raftpb::MSG_SNAP;
    BecomeFollower(m.term(), from_leader ? m.from() : kNone);
    return true;
  }
  if (m.term() < term_) {
    HandleStaleTermMessage(m);
    return false;
  }
  return true;
}

void Raft::HandleStaleTermMessage(const raftpb::Message& m) {
  const raftpb::MessageType t = m.type();
  if ((check_quorum_ || pre_vote_) && (t == raftpb::MSG_HEARTBEAT || t == raftpb::MSG_APP)) {
    // A stale leader (e.g. just healed from a partition) would otherwise never learn the new
    // term: with check-quorum or pre-vote nobody sends it a higher-term vote request. This
    // answer makes it step down.
    raftpb::Message resp;
    resp.set_to(m.from());
    resp.set_type(raftpb::MSG_APP_RESP);
    Send(std::move(resp));
  } else if (t == raftpb::MSG_PRE_VOTE) {
    Log(world::LogLevel::kInfo,
        absl::StrFormat("%d [logterm: %d, index: %d, vote: %d] rejected %s from %d [logterm: "
                        "%d, index: %d] at term %d",
                        id_, log_.LastTerm(), log_.LastIndex(), vote_, MessageTypeName(t),
                        m.from(), m.log_term(), m.index(), term_));
    raftpb::Message resp;
    resp.set_to(m.from());
    resp.set_term(term_);
    resp.set_type(raftpb::MSG_PRE_VOTE_RESP);
    resp.set_reject(true);
    Send(std::move(resp));
  } else {
    Log(world::LogLevel::kInfo,
        absl::StrFormat("%d [term: %d] ignored a %s message with lower term from %d [term: %d]",
                        id_, term_, MessageTypeName(t), m.from(), m.term()));
  }
}

}  // namespace qdsim::raft
