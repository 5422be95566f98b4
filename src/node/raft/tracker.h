// ProgressTracker: the group's membership (voters and learners), the leader's Progress for every
// member, and the votes collected in the current election.
//
// Membership changes one node at a time (no joint consensus), so a single MajorityConfig decides
// both commitment and elections. Learners have a Progress but are never counted.
//
// Thread-safety: none.
#ifndef QDSIM_NODE_RAFT_TRACKER_H_
#define QDSIM_NODE_RAFT_TRACKER_H_

#include <cstdint>
#include <map>
#include <set>
#include <vector>

#include "node/raft/progress.h"
#include "node/raft/quorum.h"
#include "proto/raft.pb.h"

namespace qdsim::raft {

class ProgressTracker {
 public:
  // An empty group whose Progress windows hold `max_inflight` messages / `max_inflight_bytes`.
  ProgressTracker(size_t max_inflight, uint64_t max_inflight_bytes);

  // Adds `id` as a voter (promoting it if it is a learner) with a fresh Progress at `next` if it
  // had none.
  void AddVoter(uint64_t id, uint64_t next);
  // Adds `id` as a learner (demoting it if it is a voter), creating a Progress at `next` if needed.
  void AddLearner(uint64_t id, uint64_t next);
  // Removes `id` entirely; a no-op if it is not a member.
  void Remove(uint64_t id);
  // Forgets everything and adopts `cs` with fresh Progress at `next` for every member.
  void Reset(const raftpb::ConfState& cs, uint64_t next);

  // Gives every member a fresh Progress at `next` (match 0, Probe, inactive), as a new term starts.
  void ResetProgress(uint64_t next);

  // The current membership as a ConfState (ids ascending).
  raftpb::ConfState ConfState() const;

  // The largest index acknowledged by a majority of voters (by Progress::match).
  uint64_t Committed() const;

  // True if a majority of voters were recently active (the caller counts itself active).
  bool QuorumActive() const;

  // Records `id`'s answer; the first answer from a node wins (duplicates are ignored).
  void RecordVote(uint64_t id, bool granted);
  // Forgets all votes.
  void ResetVotes() { votes_.clear(); }
  // Counts the recorded votes of voters: sets *granted and *rejected, returns the outcome.
  VoteResult TallyVotes(size_t* granted, size_t* rejected) const;

  bool IsVoter(uint64_t id) const { return voters_.Contains(id); }
  bool IsLearner(uint64_t id) const { return learners_.count(id) > 0; }
  bool IsMember(uint64_t id) const { return progress_.count(id) > 0; }
  // True if the group has exactly one voter.
  bool IsSingleton() const { return voters_.size() == 1; }

  const MajorityConfig& voters() const { return voters_; }
  const std::set<uint64_t>& learners() const { return learners_; }

  // The Progress of `id`, or nullptr if it is not a member.
  Progress* Get(uint64_t id);
  const Progress* Get(uint64_t id) const;

  // Every member's Progress, by ascending id (a deterministic iteration order).
  std::map<uint64_t, Progress>& progress() { return progress_; }
  const std::map<uint64_t, Progress>& progress() const { return progress_; }

 private:
  Progress NewProgress(uint64_t next, bool is_learner) const;

  size_t max_inflight_;           // Inflights capacity for new Progress
  uint64_t max_inflight_bytes_;   // Inflights byte limit for new Progress (0 = none)
  MajorityConfig voters_;         // who votes and counts for commitment
  std::set<uint64_t> learners_;   // who only replicates; disjoint from voters_
  std::map<uint64_t, Progress> progress_;  // one per voter and learner
  std::map<uint64_t, bool> votes_;         // current election: id -> granted
};

}  // namespace qdsim::raft

#endif  // QDSIM_NODE_RAFT_TRACKER_H_
