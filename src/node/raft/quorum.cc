#include "node/raft/quorum.h"

#include <algorithm>
#include <functional>

namespace qdsim::raft {

const char* VoteResultName(VoteResult result) {
  switch (result) {
    case VoteResult::kPending:
      return "VotePending";
    case VoteResult::kLost:
      return "VoteLost";
    case VoteResult::kWon:
      return "VoteWon";
  }
  return "VoteUnknown";
}

uint64_t MajorityConfig::CommittedIndex(const std::map<uint64_t, uint64_t>& acked) const {
  if (voters_.empty()) return UINT64_MAX;
  std::vector<uint64_t> matches;
  matches.reserve(voters_.size());
  for (uint64_t id : voters_) {
    auto it = acked.find(id);
    matches.push_back(it == acked.end() ? 0 : it->second);
  }
  // Sorted descending, the QuorumSize()-th value is held by at least a majority.
  std::sort(matches.begin(), matches.end(), std::greater<>());
  return matches[QuorumSize() - 1];
}

VoteResult MajorityConfig::GetVoteResult(const std::map<uint64_t, bool>& votes) const {
  if (voters_.empty()) return VoteResult::kWon;
  size_t granted = 0;
  size_t missing = 0;
  for (uint64_t id : voters_) {
    auto it = votes.find(id);
    if (it == votes.end()) {
      ++missing;
    } else if (it->second) {
      ++granted;
    }
  }
  const size_t quorum = QuorumSize();
  if (granted >= quorum) return VoteResult::kWon;
  if (granted + missing >= quorum) return VoteResult::kPending;
  return VoteResult::kLost;
}

std::string MajorityConfig::ToString() const {
  std::string out = "(";
  for (uint64_t id : voters_) {
    if (out.size() > 1) out += " ";
    out += std::to_string(id);
  }
  return out + ")";
}

}  // namespace qdsim::raft
