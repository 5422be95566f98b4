// The majority rules of Raft as properties, checked in the simulator.
#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include "tests/sim/raft_cluster.h"

namespace qdsim::sim::testing {
namespace {

// Fails the voters in `failed` (crash or isolate each, as `crash` says), proposes at the leader, and
// reports whether the proposal committed within `wait`.
bool ProposalCommits(RaftCluster& c, PeerId leader, const std::vector<PeerId>& failed,
                     const std::vector<bool>& crash, world::Duration wait) {
  for (size_t i = 0; i < failed.size(); ++i) {
    crash[i] ? c.sim().Crash(failed[i]) : c.Isolate(failed[i]);
  }
  raft::RaftNode* l = c.node(leader);
  if (l == nullptr) return false;
  (void)l->Propose("x");
  c.RunFor(wait);
  return c.Committed("x");
}

// For cluster sizes 1-7 and any set of crashed or isolated voters (never the leader), a proposal at
// the leader commits if and only if a majority of voters is alive and connected to the leader.
RC_GTEST_PROP(RaftMajorityTest, CommitsIffMajorityAliveAndConnected, ()) {
  const uint32_t n = *rc::gen::inRange<uint32_t>(1, 8);
  RaftCluster c({.voters = n, .seed = *rc::gen::arbitrary<uint64_t>()});
  const auto leader = c.AwaitLeader();
  RC_ASSERT(leader.has_value());
  c.RunFor(world::Seconds(1));  // let the leader's first entry commit everywhere
  std::vector<PeerId> others;
  for (PeerId id = 1; id <= n; ++id) {
    if (id != *leader) others.push_back(id);
  }
  const auto chosen = *rc::gen::container<std::vector<bool>>(others.size(), rc::gen::arbitrary<bool>());
  const auto crash = *rc::gen::container<std::vector<bool>>(others.size(), rc::gen::arbitrary<bool>());
  std::vector<PeerId> failed;
  std::vector<bool> how;
  for (size_t i = 0; i < others.size(); ++i) {
    if (chosen[i]) {
      failed.push_back(others[i]);
      how.push_back(crash[i]);
    }
  }
  const bool majority = (n - failed.size()) * 2 > n;
  RC_TAG(majority ? "majority" : "minority");
  const bool committed = ProposalCommits(c, *leader, failed, how, world::Seconds(20));
  RC_ASSERT(committed == majority);
}

TEST(RaftMajorityTest, TwoVotersWithOneDownCommitNothing) {
  RaftCluster c({.voters = 2, .seed = 3});
  const auto leader = c.AwaitLeader();
  ASSERT_TRUE(leader);
  c.RunFor(world::Seconds(1));
  const PeerId other = *leader == 1 ? 2 : 1;
  EXPECT_FALSE(ProposalCommits(c, *leader, {other}, {true}, world::Seconds(30)));
  // Whoever leads afterwards cannot commit either while the other voter is down.
  for (int i = 0; i < 5; ++i) {
    if (raft::RaftNode* n = c.node(*leader)) (void)n->Propose("y" + std::to_string(i));
    c.RunFor(world::Seconds(5));
  }
  EXPECT_FALSE(c.Committed("y0"));
  c.sim().Restart(other);
  c.RunFor(world::Seconds(15));
  const auto again = c.AwaitLeader();
  ASSERT_TRUE(again);
  (void)c.node(*again)->Propose("z");
  c.RunFor(world::Seconds(5));
  EXPECT_TRUE(c.Committed("z")) << "commits again once both voters are back";
}

TEST(RaftMajorityTest, ThreeVotersWithOneDownKeepCommitting) {
  RaftCluster c({.voters = 3, .seed = 4});
  const auto leader = c.AwaitLeader();
  ASSERT_TRUE(leader);
  c.RunFor(world::Seconds(1));
  const PeerId other = *leader % 3 + 1;
  EXPECT_TRUE(ProposalCommits(c, *leader, {other}, {true}, world::Seconds(5)));
  for (int i = 0; i < 10; ++i) (void)c.node(*leader)->Propose("k" + std::to_string(i));
  c.RunFor(world::Seconds(5));
  for (int i = 0; i < 10; ++i) EXPECT_TRUE(c.Committed("k" + std::to_string(i)));
}

// With pre-vote on, an isolated minority that does not hold the leader never raises the cluster's
// term, during the partition or after it heals.
RC_GTEST_PROP(RaftMajorityTest, PreVoteKeepsAPartitionedMinorityFromRaisingTheTerm, ()) {
  const uint32_t n = *rc::gen::inRange<uint32_t>(3, 8);
  RaftCluster c({.voters = n, .pre_vote = true, .seed = *rc::gen::arbitrary<uint64_t>()});
  const auto leader = c.AwaitLeader();
  RC_ASSERT(leader.has_value());
  c.RunFor(world::Seconds(2));
  const uint64_t term = c.MaxTerm();
  const uint32_t minority = *rc::gen::inRange<uint32_t>(1, (n - 1) / 2 + 1);
  std::vector<PeerId> isolated;
  for (PeerId id = 1; id <= n && isolated.size() < minority; ++id) {
    if (id != *leader) isolated.push_back(id);
  }
  for (PeerId id : isolated) c.Isolate(id);
  c.RunFor(world::Seconds(30));
  RC_ASSERT(c.MaxTerm() == term);
  c.sim().network().Heal();
  c.RunFor(world::Seconds(15));
  RC_ASSERT(c.MaxTerm() == term);
  RC_ASSERT(c.Leader() == leader);
}

// The contrast: without pre-vote (Qdrant's configuration) the same partition inflates the term.
TEST(RaftMajorityTest, WithoutPreVoteAPartitionedFollowerInflatesTheTerm) {
  RaftCluster c({.voters = 3, .pre_vote = false, .check_quorum = false, .seed = 5});
  const auto leader = c.AwaitLeader();
  ASSERT_TRUE(leader);
  const uint64_t term = c.MaxTerm();
  c.Isolate(*leader % 3 + 1);
  c.RunFor(world::Seconds(30));
  EXPECT_GT(c.MaxTerm(), term + 3);
}

// A candidate that cannot win (here: cut off from everyone, without pre-vote) campaigns again at a
// random point within a tick each time, so two candidates that split a vote do not stay in step:
// the phases (time modulo the tick) of its campaigns differ, and each comes one randomised election
// timeout after the last, plus at most one tick.
RC_GTEST_PROP(RaftMajorityTest, ReCampaignsMoveToARandomTickPhase, ()) {
  RaftCluster c({.voters = 3, .pre_vote = false, .check_quorum = false,
                 .seed = *rc::gen::arbitrary<uint64_t>()});
  const auto leader = c.AwaitLeader();
  RC_ASSERT(leader.has_value());
  const PeerId follower = *leader % 3 + 1;
  c.Isolate(follower);
  std::vector<world::Instant> campaigns;
  uint64_t term = c.node(follower)->raft().term();
  const world::Instant cut = c.now();
  while (campaigns.size() < 6 && c.now() - cut < world::Seconds(60)) {
    c.RunFor(world::Millis(1));
    if (c.node(follower)->raft().term() != term) {
      term = c.node(follower)->raft().term();
      campaigns.push_back(c.now());
    }
  }
  RC_ASSERT(campaigns.size() == 6u);
  const int64_t tick_us = c.tick().count();
  int same_phase = 0;
  for (size_t i = 1; i < campaigns.size(); ++i) {
    const world::Duration gap = campaigns[i] - campaigns[i - 1];
    RC_ASSERT(gap >= c.tick() * RaftCluster::kElectionTicks - world::Millis(1));
    RC_ASSERT(gap <= c.tick() * (2 * RaftCluster::kElectionTicks + 1));
    int64_t drift = gap.count() % tick_us;
    drift = std::min(drift, tick_us - drift);
    same_phase += drift <= 2000;  // within the 1 ms polling of each end
  }
  // Uniform phases: all five within 2 ms of the previous one has probability ~1e-7.
  RC_ASSERT(same_phase < 5);
}

// With check-quorum on, a leader cut off from its majority steps down within one (randomised)
// election timeout: at most 2 * election_tick ticks, the upper end of [election_tick, 2*election_tick).
RC_GTEST_PROP(RaftMajorityTest, CheckQuorumLeaderStepsDownWithinOneElectionTimeout, ()) {
  const uint32_t n = *rc::gen::inRange<uint32_t>(2, 8);
  RaftCluster c({.voters = n, .check_quorum = true, .seed = *rc::gen::arbitrary<uint64_t>()});
  const auto leader = c.AwaitLeader();
  RC_ASSERT(leader.has_value());
  c.RunFor(world::Millis(*rc::gen::inRange(0, 3000)));  // isolate at any phase of its timers
  RC_PRE(c.node(*leader)->raft().role() == raft::StateRole::kLeader);
  c.Isolate(*leader);
  const world::Instant cut = c.now();
  while (c.node(*leader)->raft().role() == raft::StateRole::kLeader && c.now() - cut < world::Seconds(10)) {
    c.RunFor(world::Millis(10));
  }
  const world::Duration took = c.now() - cut;
  RC_ASSERT(took <= c.tick() * (2 * RaftCluster::kElectionTicks) + world::Millis(10));
}

// No two leaders in one term, for any random schedule of crashes, restarts, isolations and heals.
RC_GTEST_PROP(RaftMajorityTest, NoTwoLeadersInOneTerm, ()) {
  const uint32_t n = *rc::gen::inRange<uint32_t>(1, 8);
  RaftCluster c({.voters = n, .pre_vote = *rc::gen::arbitrary<bool>(),
                 .check_quorum = *rc::gen::arbitrary<bool>(), .seed = *rc::gen::arbitrary<uint64_t>()});
  const auto steps = *rc::gen::container<std::vector<std::pair<int, int>>>(
      rc::gen::pair(rc::gen::inRange(0, 4), rc::gen::inRange(1, static_cast<int>(n) + 1)));
  std::map<uint64_t, PeerId> leader_of_term;
  auto observe = [&] {
    for (PeerId id = 1; id <= n; ++id) {
      raft::RaftNode* node = c.node(id);
      if (!node || node->raft().role() != raft::StateRole::kLeader) continue;
      auto [it, inserted] = leader_of_term.emplace(node->raft().term(), id);
      RC_ASSERT(it->second == id);
    }
  };
  for (const auto& [action, target] : steps) {
    switch (action) {
      case 0: c.sim().Crash(target); break;
      case 1: c.sim().Restart(target); break;
      case 2: c.Isolate(target); break;
      default: c.sim().network().Heal(); break;
    }
    for (int i = 0; i < 40; ++i) {
      c.RunFor(world::Millis(50));
      observe();
    }
  }
}

}  // namespace
}  // namespace qdsim::sim::testing
