#include "node/raft/tracker.h"

namespace qdsim::raft {

ProgressTracker::ProgressTracker(size_t max_inflight, uint64_t max_inflight_bytes)
    : max_inflight_(max_inflight), max_inflight_bytes_(max_inflight_bytes) {}

Progress ProgressTracker::NewProgress(uint64_t next, bool is_learner) const {
  Progress pr(next, max_inflight_, max_inflight_bytes_, is_learner);
  // A new member is presumed alive, so that a leader does not step down (check quorum) or refuse
  // to send it a snapshot before it had a chance to answer.
  pr.set_recent_active(true);
  return pr;
}

void ProgressTracker::AddVoter(uint64_t id, uint64_t next) {
  std::set<uint64_t> voters = voters_.voters();
  voters.insert(id);
  voters_ = MajorityConfig(std::move(voters));
  learners_.erase(id);
  auto it = progress_.find(id);
  if (it == progress_.end()) {
    progress_.emplace(id, NewProgress(next, /*is_learner=*/false));
  } else {
    it->second.set_is_learner(false);
  }
}

void ProgressTracker::AddLearner(uint64_t id, uint64_t next) {
  std::set<uint64_t> voters = voters_.voters();
  voters.erase(id);
  voters_ = MajorityConfig(std::move(voters));
  learners_.insert(id);
  auto it = progress_.find(id);
  if (it == progress_.end()) {
    progress_.emplace(id, NewProgress(next, /*is_learner=*/true));
  } else {
    it->second.set_is_learner(true);
  }
}

void ProgressTracker::Remove(uint64_t id) {
  std::set<uint64_t> voters = voters_.voters();
  voters.erase(id);
  voters_ = MajorityConfig(std::move(voters));
  learners_.erase(id);
  progress_.erase(id);
  votes_.erase(id);
}

void ProgressTracker::Reset(const raftpb::ConfState& cs, uint64_t next) {
  voters_ = MajorityConfig();
  learners_.clear();
  progress_.clear();
  votes_.clear();
  for (uint64_t id : cs.voters()) AddVoter(id, next);
  for (uint64_t id : cs.learners()) AddLearner(id, next);
}

void ProgressTracker::ResetProgress(uint64_t next) {
  for (auto& [id, pr] : progress_) {
    pr = Progress(next, max_inflight_, max_inflight_bytes_, pr.is_learner());
  }
}

raftpb::ConfState ProgressTracker::ConfState() const {
  raftpb::ConfState cs;
  for (uint64_t id : voters_.voters()) cs.add_voters(id);
  for (uint64_t id : learners_) cs.add_learners(id);
  return cs;
}

uint64_t ProgressTracker::Committed() const {
  std::map<uint64_t, uint64_t> acked;
  for (const auto& [id, pr] : progress_) acked[id] = pr.match();
  return voters_.CommittedIndex(acked);
}

bool ProgressTracker::QuorumActive() const {
  std::map<uint64_t, bool> active;
  for (const auto& [id, pr] : progress_) active[id] = pr.recent_active();
  return voters_.GetVoteResult(active) == VoteResult::kWon;
}

void ProgressTracker::RecordVote(uint64_t id, bool granted) { votes_.emplace(id, granted); }

VoteResult ProgressTracker::TallyVotes(size_t* granted, size_t* rejected) const {
  *granted = 0;
  *rejected = 0;
  for (const auto& [id, vote] : votes_) {
    if (!voters_.Contains(id)) continue;
    if (vote) {
      ++*granted;
    } else {
      ++*rejected;
    }
  }
  return voters_.GetVoteResult(votes_);
}

Progress* ProgressTracker::Get(uint64_t id) {
  auto it = progress_.find(id);
  return it == progress_.end() ? nullptr : &it->second;
}

const Progress* ProgressTracker::Get(uint64_t id) const {
  auto it = progress_.find(id);
  return it == progress_.end() ? nullptr : &it->second;
}

}  // namespace qdsim::raft
