// Scenario files: parsing and validation errors are clear, and every scaffold scenario passes a small
// seed range with its determinism check (the long sweeps are `./dev sweep`, not part of ctest).
#include "sim/scenario.h"

#include <filesystem>
#include <fstream>
#include <sstream>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "sim/runner.h"
#include "tests/sim/scaffold/scaffold.h"

namespace qdsim::sim {
namespace {

using ::testing::HasSubstr;

std::string ReadFile(const std::filesystem::path& p) {
  std::ifstream in(p);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

std::vector<std::filesystem::path> ScaffoldScenarios() {
  std::vector<std::filesystem::path> files;
  for (const auto& e : std::filesystem::directory_iterator(std::string(QDSIM_SOURCE_DIR) + "/tests/sim/scenarios")) {
    if (e.path().extension() == ".textproto") files.push_back(e.path());
  }
  std::sort(files.begin(), files.end());
  return files;
}

NodeKindRegistry Registry() {
  NodeKindRegistry r;
  scaffold::RegisterScaffoldKinds(r);
  return r;
}

absl::Status ParseAndValidate(const std::string& text) {
  auto s = ParseScenario(text, "test.textproto");
  if (!s.ok()) return s.status();
  return ValidateScenario(*s);
}

TEST(ScenarioTest, SyntaxErrorsNameTheLine) {
  auto s = ParseScenario("name: \"x\"\nnodes: three\n", "bad.textproto");
  ASSERT_FALSE(s.ok());
  EXPECT_THAT(std::string(s.status().message()), HasSubstr("bad.textproto:2:"));
}

TEST(ScenarioTest, ValidationNamesTheProblem) {
  const std::string base = "node_kind: \"ping\" nodes: 3 duration_s: 1 ";
  EXPECT_TRUE(ParseAndValidate(base).ok());
  EXPECT_THAT(std::string(ParseAndValidate("nodes: 3 duration_s: 1").message()), HasSubstr("node_kind"));
  EXPECT_THAT(std::string(ParseAndValidate(base + "network { loss { min: 1.5 } }").message()),
              HasSubstr("network.loss"));
  EXPECT_THAT(std::string(ParseAndValidate(base + "faults { steps { at_s: 0.5 crash { id: 4 } } }").message()),
              HasSubstr("node id 4"));
  EXPECT_THAT(std::string(ParseAndValidate(base + "faults { steps { at_s: 5 heal: true } }").message()),
              HasSubstr("fault phase"));
  EXPECT_THAT(std::string(ParseAndValidate(base + "faults { steps { at_s: 0.1 clog { from: 2 to: 2 } } }").message()),
              HasSubstr("distinct"));
  EXPECT_THAT(std::string(ParseAndValidate("node_kind: \"ping\" nodes: 0 duration_s: 1").message()),
              HasSubstr("nodes"));
}

TEST(ScenarioTest, UnknownKindsAndChecksAreRefusedBeforeRunning) {
  auto s = ParseScenario("node_kind: \"nope\" nodes: 1 duration_s: 1", "x");
  ASSERT_TRUE(s.ok());
  auto r = RunScenario(*s, 1, Registry(), {});
  EXPECT_THAT(std::string(r.status().message()), HasSubstr("unknown node_kind 'nope'"));
  s = ParseScenario("node_kind: \"ping\" nodes: 1 duration_s: 1 checks: \"linearizable\"", "x");
  r = RunScenario(*s, 1, Registry(), {});
  EXPECT_THAT(std::string(r.status().message()), HasSubstr("no check 'linearizable'"));
}

TEST(ScenarioTest, SwarmDrawsDifferentWorldsPerSeedAndTheSameWorldForTheSameSeed) {
  auto s = ParseScenario("node_kind: \"ping\" nodes: 2 duration_s: 1 network { latency_ms { min: 1 max: 50 } }", "x");
  ASSERT_TRUE(s.ok());
  world::Random a(1), b(2), a_again(1);
  const auto first = ResolveWorld(*s, a).description;
  EXPECT_NE(first, ResolveWorld(*s, b).description);
  EXPECT_EQ(first, ResolveWorld(*s, a_again).description);
}

// The checkers are not vacuous: a planted durability bug is caught, and the verdict names the check.
TEST(ScenarioTest, PlantedAckBeforeSyncIsCaughtByNoAckedLoss) {
  std::string text = ReadFile(std::string(QDSIM_SOURCE_DIR) + "/tests/sim/scenarios/synclog_crashes.textproto");
  text += "\noptions { key: \"planted_bug\" value: \"ack_before_sync\" }\n";
  auto s = ParseScenario(text, "planted");
  ASSERT_TRUE(s.ok()) << s.status();
  const NodeKindRegistry registry = Registry();
  int caught = 0;
  for (uint64_t seed = 1; seed <= 10; ++seed) {
    auto r = RunScenario(*s, seed, registry, {});
    ASSERT_TRUE(r.ok());
    if (!r->ok()) {
      ++caught;
      EXPECT_EQ(r->violations.front().check, "no_acked_loss");
      EXPECT_THAT(r->violations.front().detail, HasSubstr("acknowledged"));
    }
  }
  EXPECT_GE(caught, 8) << "ack-before-sync should lose acknowledged records on nearly every seed";
}

class ScaffoldScenarioTest : public ::testing::TestWithParam<std::filesystem::path> {};

TEST_P(ScaffoldScenarioTest, PassesSeedsAndIsDeterministic) {
  auto scenario = ParseScenario(ReadFile(GetParam()), GetParam().string());
  ASSERT_TRUE(scenario.ok()) << scenario.status();
  ASSERT_TRUE(ValidateScenario(*scenario).ok());
  const std::string text = ReadFile(GetParam());
  ASSERT_EQ(text.rfind("# ", 0), 0u) << "every scenario opens with a comment saying what it demonstrates";
  const NodeKindRegistry registry = Registry();
  for (uint64_t seed = 1; seed <= 8; ++seed) {
    auto r = RunScenario(*scenario, seed, registry, {});
    ASSERT_TRUE(r.ok()) << r.status();
    EXPECT_TRUE(r->ok()) << GetParam() << " seed " << seed << ": " << r->violations.front().check << ": "
                         << r->violations.front().detail;
    EXPECT_GT(r->events, 100u);
  }
  auto d = CheckDeterminism(*scenario, 1, registry);
  ASSERT_TRUE(d.ok());
  EXPECT_TRUE(d->deterministic) << "first difference at line " << d->first_difference << ":\n"
                                << d->first_line << "\n" << d->second_line;
}

INSTANTIATE_TEST_SUITE_P(Files, ScaffoldScenarioTest, ::testing::ValuesIn(ScaffoldScenarios()),
                         [](const auto& info) { return info.param.stem().string(); });

}  // namespace
}  // namespace qdsim::sim
