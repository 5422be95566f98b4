// Quorum math for a single majority configuration: which index is committed, and whether an
// election is won. Kept apart from everything else so it can be property-tested on its own.
//
//   raft::MajorityConfig voters({1, 2, 3});
//   voters.CommittedIndex({{1, 7}, {2, 5}, {3, 2}});     // 5: replicated on 1 and 2
//   voters.GetVoteResult({{1, true}, {2, false}});       // kPending: 3 decides
//
// Thread-safety: immutable after construction; safe to share.
#ifndef QDSIM_NODE_RAFT_QUORUM_H_
#define QDSIM_NODE_RAFT_QUORUM_H_

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <vector>

namespace qdsim::raft {

// The outcome of counting votes.
enum class VoteResult {
  kPending,  // neither a majority of yes nor of no yet
  kLost,     // a majority voted no (or cannot vote yes any more)
  kWon,      // a majority voted yes
};

// "VotePending", "VoteLost" or "VoteWon".
const char* VoteResultName(VoteResult result);

// A set of voter ids; decisions need a strict majority of them.
class MajorityConfig {
 public:
  MajorityConfig() = default;
  explicit MajorityConfig(std::set<uint64_t> voters) : voters_(std::move(voters)) {}

  const std::set<uint64_t>& voters() const { return voters_; }
  size_t size() const { return voters_.size(); }
  bool Contains(uint64_t id) const { return voters_.count(id) > 0; }

  // The number of voters that make a majority: size()/2 + 1.
  size_t QuorumSize() const { return voters_.size() / 2 + 1; }

  // The largest index that a majority of voters have acknowledged, given each voter's acknowledged
  // (match) index in `acked`; voters missing from `acked` count as 0. That is the QuorumSize()-th
  // largest acknowledged index. An empty configuration returns UINT64_MAX by convention (it places
  // no constraint), matching etcd.
  uint64_t CommittedIndex(const std::map<uint64_t, uint64_t>& acked) const;

  // Tallies `votes` (id -> granted); entries for non-voters are ignored. kWon once a majority
  // granted, kLost once a majority can no longer be reached, else kPending. An empty
  // configuration wins by convention.
  VoteResult GetVoteResult(const std::map<uint64_t, bool>& votes) const;

  // "(1 2 3)".
  std::string ToString() const;

 private:
  std::set<uint64_t> voters_;  // the voter ids, ascending
};

}  // namespace qdsim::raft

#endif  // QDSIM_NODE_RAFT_QUORUM_H_
