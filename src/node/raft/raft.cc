// Raft construction, role transitions, ticks and output plumbing. Elections are in
// raft_election.cc, per-role stepping and follower handlers in raft_step.cc, the leader's side of
// replication in raft_leader.cc and membership changes in raft_membership.cc.
#include "node/raft/raft.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/match.h"
#include "node/world/status_macros.h"

namespace qdsim::raft {
namespace {

constexpr char kProposalDropped[] = "raft proposal dropped: ";

}  // namespace

const char* StateRoleName(StateRole role) {
  switch (role) {
    case StateRole::kFollower:
      return "StateFollower";
    case StateRole::kPreCandidate:
      return "StatePreCandidate";
    case StateRole::kCandidate:
      return "StateCandidate";
    case StateRole::kLeader:
      return "StateLeader";
  }
  return "StateUnknown";
}

absl::Status ProposalDroppedError(std::string_view why) {
  return absl::UnavailableError(absl::StrCat(kProposalDropped, std::string(why)));
}

bool IsProposalDropped(const absl::Status& status) {
  return absl::IsUnavailable(status) && absl::StartsWith(status.message(), kProposalDropped);
}

Raft::Raft(const Config& config)
    : id_(config.id),
      log_(config.storage, config.max_committed_size_per_ready),
      tracker_(static_cast<size_t>(config.max_inflight_msgs), config.max_inflight_bytes),
      randomized_election_timeout_(config.election_tick),
      election_tick_(config.election_tick),
      heartbeat_tick_(config.heartbeat_tick),
      pre_vote_(config.pre_vote),
      check_quorum_(config.check_quorum),
      max_size_per_msg_(config.max_size_per_msg),
      max_entries_per_msg_(config.max_entries_per_msg),
      learner_max_lag_(config.learner_max_lag),
      planted_bugs_(config.planted_bugs),
      random_(config.random),
      logger_(config.logger) {}

absl::StatusOr<std::unique_ptr<Raft>> Raft::Create(const Config& config) {
  RETURN_IF_ERROR(config.Validate());
  std::unique_ptr<Raft> r(new Raft(config));
  ASSIGN_OR_RETURN(PersistentState state, config.storage->InitialState());
  r->tracker_.Reset(state.conf_state, r->log_.LastIndex() + 1);
  RETURN_IF_ERROR(r->LoadState(state));
  if (config.applied > 0) {
    if (config.applied > r->log_.committed()) {
      return absl::InvalidArgumentError(absl::StrFormat(
          "raft: applied index %d is beyond the commit index %d", config.applied,
          r->log_.committed()));
    }
    r->log_.AppliedTo(config.applied);
  }
  r->is_learner_ = r->tracker_.IsLearner(r->id_);
  r->BecomeFollower(r->term_, kNone);
  r->Log(world::LogLevel::kInfo,
         absl::StrFormat("newRaft %d [peers: %s, learners: %d, term: %d, commit: %d, applied: %d, "
                         "lastindex: %d, lastterm: %d]",
                         r->id_, r->tracker_.voters().ToString(), r->tracker_.learners().size(),
                         r->term_, r->log_.committed(), r->log_.applied(), r->log_.LastIndex(),
                         r->log_.LastTerm()));
  return r;
}

absl::Status Raft::LoadState(const PersistentState& state) {
  const raftpb::HardState& hs = state.hard_state;
  if (hs.term() == 0 && hs.vote() == 0 && hs.commit() == 0) return absl::OkStatus();
  if (hs.commit() < log_.committed() || hs.commit() > log_.LastIndex()) {
    return absl::InvalidArgumentError(
        absl::StrFormat("raft: stored commit %d is out of range [%d, %d]", hs.commit(),
                        log_.committed(), log_.LastIndex()));
  }
  log_.CommitTo(hs.commit());
  term_ = hs.term();
  vote_ = hs.vote();
  return absl::OkStatus();
}

raftpb::HardState Raft::hard_state() const {
  raftpb::HardState hs;
  hs.set_term(term_);
  hs.set_vote(vote_);
  hs.set_commit(log_.committed());
  return hs;
}

bool Raft::Promotable() const {
  return tracker_.IsVoter(id_) && !log_.UnstableSnapshot().has_value();
}

void Raft::Reset(uint64_t term) {
  if (term_ != term) {
    term_ = term;
    vote_ = kNone;
  }
  lead_ = kNone;
  election_elapsed_ = 0;
  heartbeat_elapsed_ = 0;
  ResetRandomizedElectionTimeout();
  AbortLeaderTransfer();
  tracker_.ResetVotes();
  tracker_.ResetProgress(log_.LastIndex() + 1);
  if (Progress* self = tracker_.Get(id_)) self->set_match(log_.LastIndex());
  pending_conf_index_ = 0;
}

void Raft::ResetRandomizedElectionTimeout() {
  randomized_election_timeout_ =
      election_tick_ + static_cast<int>(random_->Uniform(static_cast<uint64_t>(election_tick_)));
}

void Raft::BecomeFollower(uint64_t term, uint64_t lead) {
  Reset(term);
  lead_ = lead;
  role_ = StateRole::kFollower;
  Log(world::LogLevel::kInfo, absl::StrFormat("%d became follower at term %d", id_, term_));
}

void Raft::BecomePreCandidate() {
  // Neither the term nor the vote changes: a pre-candidate has not entered a new term.
  tracker_.ResetVotes();
  lead_ = kNone;
  role_ = StateRole::kPreCandidate;
  Log(world::LogLevel::kInfo, absl::StrFormat("%d became pre-candidate at term %d", id_, term_));
}

void Raft::BecomeCandidate() {
  Reset(term_ + 1);
  vote_ = id_;
  role_ = StateRole::kCandidate;
  Log(world::LogLevel::kInfo, absl::StrFormat("%d became candidate at term %d", id_, term_));
}

void Raft::BecomeLeader() {
  Reset(term_);
  lead_ = id_;
  role_ = StateRole::kLeader;
  if (Progress* self = tracker_.Get(id_)) {
    // The leader trivially replicates to itself, and is always active.
    self->BecomeReplicate();
    self->set_recent_active(true);
  }
  // Any conf change in the uncommitted tail may still be pending: be conservative.
  pending_conf_index_ = log_.LastIndex();
  Log(world::LogLevel::kInfo, absl::StrFormat("%d became leader at term %d", id_, term_));
  // An entry of the new term: committing it commits every earlier entry (§5.4.2).
  AppendEntries({raftpb::Entry()});
}

void Raft::Tick() {
  if (role_ == StateRole::kLeader) {
    TickHeartbeat();
  } else {
    TickElection();
  }
}

void Raft::TickElection() {
  ++election_elapsed_;
  if (Promotable() && PastElectionTimeout()) {
    election_elapsed_ = 0;
    raftpb::Message hup;
    hup.set_type(raftpb::MSG_HUP);
    hup.set_from(id_);
    (void)Step(hup);
  }
}

void Raft::TickHeartbeat() {
  ++heartbeat_elapsed_;
  ++election_elapsed_;
  if (election_elapsed_ >= election_tick_) {
    election_elapsed_ = 0;
    if (check_quorum_) {
      raftpb::Message check;
      check.set_type(raftpb::MSG_CHECK_QUORUM);
      check.set_from(id_);
      (void)Step(check);
    }
    // A transfer that did not finish within an election timeout is abandoned.
    if (role_ == StateRole::kLeader && lead_transferee_ != kNone) AbortLeaderTransfer();
  }
  if (role_ != StateRole::kLeader) return;
  if (heartbeat_elapsed_ >= heartbeat_tick_) {
    heartbeat_elapsed_ = 0;
    raftpb::Message beat;
    beat.set_type(raftpb::MSG_BEAT);
    beat.set_from(id_);
    (void)Step(beat);
  }
}

std::vector<raftpb::Message> Raft::TakeMessages() {
  std::vector<raftpb::Message> out;
  out.swap(msgs_);
  return out;
}

std::vector<raftpb::Entry> Raft::EntriesToApply() const {
  const uint64_t limit =
      Bug(PlantedBug::kApplyUncommitted) ? log_.LastIndex() : log_.committed();
  return log_.NextEntriesToApply(limit);
}

bool Raft::HasEntriesToApply() const {
  const uint64_t limit =
      Bug(PlantedBug::kApplyUncommitted) ? log_.LastIndex() : log_.committed();
  return log_.HasNextEntriesToApply(limit);
}

void Raft::Send(raftpb::Message m) {
  if (m.from() == kNone) m.set_from(id_);
  const raftpb::MessageType t = m.type();
  const bool carries_own_term = t == raftpb::MSG_VOTE || t == raftpb::MSG_VOTE_RESP ||
                                t == raftpb::MSG_PRE_VOTE || t == raftpb::MSG_PRE_VOTE_RESP;
  // Votes carry the term they are about (set by the caller); forwarded proposals travel without a
  // term, like local messages (any leader may take them); everything else carries ours.
  if (!carries_own_term && t != raftpb::MSG_PROP) {
    m.set_term(term_);
  }
  msgs_.push_back(std::move(m));
}

void Raft::Log(world::LogLevel level, const std::string& message) const {
  if (logger_ != nullptr) logger_->Log(level, message);
}

}  // namespace qdsim::raft
