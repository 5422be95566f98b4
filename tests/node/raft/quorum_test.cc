#include "node/raft/quorum.h"

#include <algorithm>
#include <map>
#include <set>

#include "gtest/gtest.h"
#include "rapidcheck/gtest.h"

namespace qdsim::raft {
namespace {

TEST(MajorityConfigTest, CommittedIndexIsTheMedianOfOddGroups) {
  MajorityConfig c({1, 2, 3});
  EXPECT_EQ(c.CommittedIndex({{1, 7}, {2, 5}, {3, 2}}), 5u);
  EXPECT_EQ(c.CommittedIndex({{1, 7}, {2, 7}, {3, 2}}), 7u);
  EXPECT_EQ(c.CommittedIndex({{1, 7}}), 0u) << "missing voters count as 0";
}

TEST(MajorityConfigTest, EvenGroupsNeedMoreThanHalf) {
  MajorityConfig c({1, 2, 3, 4});
  EXPECT_EQ(c.QuorumSize(), 3u);
  EXPECT_EQ(c.CommittedIndex({{1, 9}, {2, 8}, {3, 2}, {4, 1}}), 2u);
}

TEST(MajorityConfigTest, NonVotersAreIgnored) {
  MajorityConfig c({1, 2, 3});
  EXPECT_EQ(c.CommittedIndex({{1, 1}, {2, 1}, {3, 1}, {4, 100}, {5, 100}}), 1u);
  EXPECT_EQ(c.GetVoteResult({{4, true}, {5, true}, {1, true}}), VoteResult::kPending);
}

TEST(MajorityConfigTest, EmptyConfigurationConventions) {
  MajorityConfig c;
  EXPECT_EQ(c.CommittedIndex({}), UINT64_MAX);
  EXPECT_EQ(c.GetVoteResult({}), VoteResult::kWon);
}

TEST(MajorityConfigTest, VoteResults) {
  MajorityConfig c({1, 2, 3});
  EXPECT_EQ(c.GetVoteResult({}), VoteResult::kPending);
  EXPECT_EQ(c.GetVoteResult({{1, true}}), VoteResult::kPending);
  EXPECT_EQ(c.GetVoteResult({{1, true}, {2, true}}), VoteResult::kWon);
  EXPECT_EQ(c.GetVoteResult({{1, true}, {2, false}}), VoteResult::kPending);
  EXPECT_EQ(c.GetVoteResult({{1, false}, {2, false}}), VoteResult::kLost);
  EXPECT_EQ(c.GetVoteResult({{1, true}, {2, false}, {3, false}}), VoteResult::kLost);
  EXPECT_STREQ(VoteResultName(VoteResult::kWon), "VoteWon");
}

TEST(MajorityConfigTest, SingleVoterDecidesAlone) {
  MajorityConfig c({7});
  EXPECT_EQ(c.CommittedIndex({{7, 3}}), 3u);
  EXPECT_EQ(c.GetVoteResult({{7, true}}), VoteResult::kWon);
  EXPECT_EQ(c.GetVoteResult({{7, false}}), VoteResult::kLost);
}

// The brute-force definition: the largest index i such that more than half of the voters have
// acknowledged at least i.
uint64_t BruteForceCommitted(const std::set<uint64_t>& voters,
                             const std::map<uint64_t, uint64_t>& acked) {
  uint64_t best = 0;
  for (const auto& [id, candidate] : acked) {
    size_t holders = 0;
    for (uint64_t v : voters) {
      auto it = acked.find(v);
      if (it != acked.end() && it->second >= candidate) ++holders;
    }
    if (voters.count(id) > 0 && holders * 2 > voters.size()) best = std::max(best, candidate);
  }
  return best;
}

RC_GTEST_PROP(MajorityConfigProperty, CommittedIndexIsLargestIndexOnAMajority,
              (const std::map<uint8_t, uint8_t>& raw_acked, const std::set<uint8_t>& raw_voters)) {
  RC_PRE(!raw_voters.empty());
  std::set<uint64_t> voters(raw_voters.begin(), raw_voters.end());
  std::map<uint64_t, uint64_t> acked(raw_acked.begin(), raw_acked.end());
  MajorityConfig c(voters);
  RC_ASSERT(c.CommittedIndex(acked) == BruteForceCommitted(voters, acked));
}

RC_GTEST_PROP(MajorityConfigProperty, VoteResultAgreesWithCounting,
              (const std::map<uint8_t, bool>& raw_votes, const std::set<uint8_t>& raw_voters)) {
  RC_PRE(!raw_voters.empty());
  std::set<uint64_t> voters(raw_voters.begin(), raw_voters.end());
  std::map<uint64_t, bool> votes(raw_votes.begin(), raw_votes.end());
  size_t yes = 0;
  size_t no = 0;
  for (uint64_t v : voters) {
    auto it = votes.find(v);
    if (it == votes.end()) continue;
    ++(it->second ? yes : no);
  }
  const VoteResult expected = yes * 2 > voters.size()  ? VoteResult::kWon
                              : no * 2 >= voters.size() ? VoteResult::kLost
                                                        : VoteResult::kPending;
  RC_ASSERT(MajorityConfig(voters).GetVoteResult(votes) == expected);
}

}  // namespace
}  // namespace qdsim::raft
