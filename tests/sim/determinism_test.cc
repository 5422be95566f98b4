// The determinism property: a run is a pure function of (scenario, seed, build).
#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include "absl/strings/str_format.h"
#include "sim/runner.h"
#include "sim/scenario.h"
#include "tests/sim/scaffold/scaffold.h"

namespace qdsim::sim {
namespace {

NodeKindRegistry Registry() {
  NodeKindRegistry r;
  scaffold::RegisterScaffoldKinds(r);
  return r;
}

// A random scenario: either scaffold kind, any size, random network and disk faults and rates.
scenario::Scenario RandomScenario() {
  const bool ping = *rc::gen::arbitrary<bool>();
  const int nodes = *rc::gen::inRange(1, 7);
  const double loss = *rc::gen::inRange(0, 30) / 100.0;
  const double crash_rate = *rc::gen::inRange(0, 40);
  const double partition_rate = *rc::gen::inRange(0, 40);
  const double bit_flip = *rc::gen::inRange(0, 10) / 100.0;
  const std::string text = absl::StrFormat(
      R"(node_kind: "%s" nodes: %d duration_s: 3 liveness_s: 1
         network { latency_ms { min: 0.1 max: 10 } jitter_ms { max: 3 } loss { max: %g }
                   duplicate { max: 0.1 } reorder { max: 0.2 } }
         disk { sync_latency_ms { min: 0.5 max: 5 } torn_writes: true bit_flip { max: %g } }
         faults { rates { crash_per_min: %g downtime_s { min: 0.1 max: 1 } partition_per_min: %g
                          partition_s { min: 0.1 max: 1 } pause_per_min: 10 pause_s { max: 0.5 }
                          clog_per_min: 10 clog_s { max: 0.5 } } }
         workload { ops_per_s: 100 })",
      ping ? "ping" : "synclog", nodes, loss, bit_flip, crash_rate, partition_rate);
  auto s = ParseScenario(text, "generated");
  RC_ASSERT(s.ok());
  RC_ASSERT(ValidateScenario(*s).ok());
  return *s;
}

RC_GTEST_PROP(DeterminismTest, SameSeedSameTraceHash, (uint64_t seed)) {
  const scenario::Scenario s = RandomScenario();
  const NodeKindRegistry registry = Registry();
  auto first = RunScenario(s, seed, registry, {});
  auto second = RunScenario(s, seed, registry, {});
  RC_ASSERT(first.ok());
  RC_ASSERT(second.ok());
  RC_ASSERT(first->trace_hash == second->trace_hash);
  RC_ASSERT(first->trace_lines == second->trace_lines);
  RC_ASSERT(first->events == second->events);
}

TEST(DeterminismTest, DifferentSeedsExploreDifferentRuns) {
  auto s = ParseScenario(R"(node_kind: "ping" nodes: 3 duration_s: 2 network { latency_ms { min: 1 max: 9 } })", "x");
  ASSERT_TRUE(s.ok());
  const NodeKindRegistry registry = Registry();
  auto a = RunScenario(*s, 1, registry, {});
  auto b = RunScenario(*s, 2, registry, {});
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_NE(a->trace_hash, b->trace_hash);
}

TEST(DeterminismTest, CheckDeterminismReportsSameHashes) {
  auto s = ParseScenario(R"(node_kind: "synclog" nodes: 2 duration_s: 2
                            faults { rates { crash_per_min: 60 downtime_s { max: 0.2 } max_down: 1 } })", "x");
  ASSERT_TRUE(s.ok());
  auto d = CheckDeterminism(*s, 5, Registry());
  ASSERT_TRUE(d.ok());
  EXPECT_TRUE(d->deterministic);
  EXPECT_EQ(d->first_hash, d->second_hash);
}

}  // namespace
}  // namespace qdsim::sim
