// The product scenarios (scenarios/*.textproto, every node kind) in ctest: each passes a small seed
// range and is deterministic; and every planted bug (Raft's and the cluster layers') is caught within a
// fixed seed budget, by the check that names its class of bug. Long sweeps are `./dev sweep` and `./dev planted`.
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "node/raft/planted_bugs.h"
#include "node/shard/cluster_bugs.h"
#include "sim/qdrant_kind.h"
#include "sim/raft_kind.h"
#include "sim/runner.h"
#include "sim/scenario.h"

namespace qdsim::sim {
namespace {

std::string ScenarioPath(const std::string& name) {
  return std::string(QDSIM_SOURCE_DIR) + "/scenarios/" + name + ".textproto";
}

scenario::Scenario Load(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  auto parsed = ParseScenario(s.str(), path);
  EXPECT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ(s.str().rfind("# ", 0), 0u) << path << " must open with a comment saying what it demonstrates";
  return parsed.ok() ? *parsed : scenario::Scenario();
}

NodeKindRegistry Registry() {
  NodeKindRegistry r;
  RegisterRaftKind(r);
  RegisterQdrantKind(r);
  return r;
}

std::vector<std::string> ProductScenarios() {
  std::vector<std::string> names;
  for (const auto& e : std::filesystem::directory_iterator(std::string(QDSIM_SOURCE_DIR) + "/scenarios")) {
    if (e.path().extension() == ".textproto") names.push_back(e.path().stem().string());
  }
  std::sort(names.begin(), names.end());
  return names;
}

class ProductScenarioTest : public ::testing::TestWithParam<std::string> {};

TEST_P(ProductScenarioTest, PassesSeedsAndIsDeterministic) {
  const scenario::Scenario s = Load(ScenarioPath(GetParam()));
  const NodeKindRegistry registry = Registry();
  for (uint64_t seed = 1; seed <= 4; ++seed) {
    auto r = RunScenario(s, seed, registry, {});
    ASSERT_TRUE(r.ok()) << r.status();
    EXPECT_TRUE(r->ok()) << GetParam() << " seed " << seed << ": " << r->violations.front().check
                         << ": " << r->violations.front().detail;
  }
  auto d = CheckDeterminism(s, 1, registry);
  ASSERT_TRUE(d.ok()) << d.status();
  EXPECT_TRUE(d->deterministic) << "first difference at trace line " << d->first_difference << ":\n  "
                                << d->first_line << "\n  " << d->second_line;
}

INSTANTIATE_TEST_SUITE_P(Scenarios, ProductScenarioTest, ::testing::ValuesIn(ProductScenarios()),
                         [](const auto& info) { return info.param; });

// Each planted bug, the scenario that exposes it, and the checks allowed to name it.
struct PlantedCase {
  std::string bug;
  std::string scenario;
  std::vector<std::string> checks;
  friend void PrintTo(const PlantedCase& c, std::ostream* os) { *os << c.bug << " in " << c.scenario; }
};

class PlantedBugTest : public ::testing::TestWithParam<PlantedCase> {};

constexpr uint64_t kSeedBudget = 20;

TEST_P(PlantedBugTest, IsCaughtWithinTheSeedBudget) {
  const PlantedCase& c = GetParam();
  scenario::Scenario s = Load(ScenarioPath(c.scenario));
  (*s.mutable_options())["planted_bug"] = c.bug;
  const NodeKindRegistry registry = Registry();
  for (uint64_t seed = 1; seed <= kSeedBudget; ++seed) {
    auto r = RunScenario(s, seed, registry, {});
    ASSERT_TRUE(r.ok()) << r.status();
    if (r->ok()) continue;
    EXPECT_THAT(c.checks, ::testing::Contains(r->violations.front().check))
        << "seed " << seed << ": " << r->violations.front().detail;
    std::cout << c.bug << ": caught after " << seed << " seeds by " << r->violations.front().check << "\n";
    return;
  }
  FAIL() << c.bug << " escaped " << c.scenario << " for " << kSeedBudget << " seeds";
}

const std::vector<PlantedCase>& PlantedCases() {
  static const std::vector<PlantedCase> cases = {
      PlantedCase{"commit_old_term_by_counting", "raft_leader_churn", {"commit_rule", "state_machine_safety", "leader_completeness"}},
      PlantedCase{"vote_without_log_check", "raft_swarm", {"leader_completeness", "state_machine_safety", "log_matching"}},
      PlantedCase{"no_conflict_truncation", "raft_leader_isolated", {"log_matching", "state_machine_safety"}},
      PlantedCase{"apply_uncommitted", "raft_leader_crash", {"monotonic_commit", "state_machine_safety"}},
      PlantedCase{"ack_before_sync", "raft_torn_write_crashes", {"durability"}},
      PlantedCase{"forget_vote_on_restart", "raft_rolling_restarts", {"durability", "election_safety"}},
      PlantedCase{"double_vote_same_term", "raft_swarm", {"election_safety"}},
      // Cluster bugs (shard/cluster_bugs.h), caught by the Qdrant checkers.
      PlantedCase{"shard_ack_before_sync", "qdrant_crash_loop", {"acked_writes"}},
      PlantedCase{"transfer_no_forward", "qdrant_swarm", {"acked_writes", "replica_convergence"}},
      PlantedCase{"search_shard_quota", "qdrant_three_nodes_one_down", {"search_oracle"}},
  };
  return cases;
}

INSTANTIATE_TEST_SUITE_P(Bugs, PlantedBugTest, ::testing::ValuesIn(PlantedCases()),
                         [](const auto& info) { return info.param.bug; });

TEST(PlantedBugTest, EveryPlantedBugHasACase) {
  std::vector<std::string> names;
  for (size_t i = 0; i < static_cast<size_t>(raft::PlantedBug::kCount); ++i) {
    names.emplace_back(raft::PlantedBugName(static_cast<raft::PlantedBug>(i)));
  }
  for (size_t i = 0; i < static_cast<size_t>(shard::ClusterBug::kCount); ++i) {
    names.emplace_back(shard::PlantedBugName(static_cast<shard::ClusterBug>(i)));
  }
  std::vector<std::string> covered;
  for (const PlantedCase& c : PlantedCases()) covered.push_back(c.bug);
  std::sort(names.begin(), names.end());
  std::sort(covered.begin(), covered.end());
  // Every bug has exactly one case, and the Raft and cluster names never clash.
  EXPECT_EQ(covered, names) << "a new planted bug needs a PlantedCase above";
  EXPECT_TRUE(std::adjacent_find(names.begin(), names.end()) == names.end());
}

}  // namespace
}  // namespace qdsim::sim
