// The full node in the simulator: 3 peers, 3 shards with 2 replicas each, 128-dimensional Dot
// vectors, clients upserting in batches of up to 100 points and searching (top 10).
//
// Reported counters (per wall second of the simulation, so they measure this code's cost, not the
// simulated latencies):
//   upserted_points_per_s    points in acknowledged upserts
//   queries_per_s            reads answered (search, retrieve, scroll, count in equal shares)
//   vs_bare_apply            upserted_points_per_s as a fraction of applying the same number of
//                            points to one in-memory shard table, measured in the same process: the
//                            cost of replication (x2), WALs, Raft-free fan-out and the simulator
//   bare_apply_points_per_s  that limit
#include <benchmark/benchmark.h>

#include <chrono>
#include <regex>

#include "node/shard/point_table.h"
#include "sim/qdrant_kind.h"
#include "sim/runner.h"
#include "sim/scenario.h"

namespace qdsim {
namespace {

constexpr uint32_t kDim = 128;

constexpr char kScenario[] = R"(
  name: "bench_qdrant_3x2"
  node_kind: "qdrant"
  nodes: 3
  duration_s: 10
  liveness_s: 5
  network { latency_ms { min: 0.2 max: 1 } }
  disk { sync_latency_ms { min: 0.2 max: 1 } }
  workload { clients: 8 ops_per_s: 200 }
  options { key: "shards" value: "3" }
  options { key: "replication_factor" value: "2" }
  options { key: "dim" value: "128" }
  options { key: "upsert_batch" value: "100" }
  options { key: "read_fraction" value: "0.5" }
  options { key: "meta_ops_per_min" value: "0" }
  options { key: "op_timeout_s" value: "5" }
  checks: ["acked_writes"]
)";

// Points per second of PointTable::Apply for batches of 100 fresh 128-dim points.
double BareApplyPointsPerSecond() {
  shard::ShardConfig config;
  config.dense[""] = shard::DenseVectorParams{kDim, shard::Distance::kDot};
  shard::PointTable table(config);
  constexpr int kBatches = 200;
  uint64_t id = 0, seq = 0;
  const auto start = std::chrono::steady_clock::now();
  for (int b = 0; b < kBatches; ++b) {
    shardpb::ShardOperation op;
    op.set_seq(++seq);
    for (int i = 0; i < 100; ++i) {
      auto* p = op.mutable_upsert()->add_points();
      p->mutable_id()->set_num(++id);
      auto* v = (*p->mutable_vectors()->mutable_vectors())[""].mutable_dense();
      for (uint32_t d = 0; d < kDim; ++d) v->add_values(static_cast<float>((id * 31 + d) % 97) / 97.0f);
    }
    if (table.Validate(op).ok()) table.Apply(op);
  }
  const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return static_cast<double>(id) / wall;
}

uint64_t Counter(const sim::RunResult& r, const std::regex& pattern) {
  for (const std::string& line : r.report) {
    std::smatch m;
    if (std::regex_search(line, m, pattern)) return std::stoull(m[1]);
  }
  return 0;
}

void BM_ThreePeersTwoReplicas(benchmark::State& state) {
  sim::NodeKindRegistry registry;
  sim::RegisterQdrantKind(registry);
  auto scenario = sim::ParseScenario(kScenario, "bench");
  if (!scenario.ok()) {
    state.SkipWithError(std::string(scenario.status().message()).c_str());
    return;
  }
  const double bare = BareApplyPointsPerSecond();
  static const std::regex points(R"((\d+) points in acknowledged writes)");
  static const std::regex reads(R"((\d+) reads answered)");
  uint64_t upserted = 0, queries = 0, seed = 1;
  double wall = 0;
  for (auto _ : state) {
    const auto start = std::chrono::steady_clock::now();
    auto r = sim::RunScenario(*scenario, seed++, registry, {});
    wall += std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (!r.ok()) {
      state.SkipWithError(std::string(r.status().message()).c_str());
      return;
    }
    upserted += Counter(*r, points);
    queries += Counter(*r, reads);
  }
  const double points_per_s = static_cast<double>(upserted) / wall;
  state.counters["upserted_points_per_s"] = points_per_s;
  state.counters["queries_per_s"] = static_cast<double>(queries) / wall;
  state.counters["bare_apply_points_per_s"] = bare;
  state.counters["vs_bare_apply"] = points_per_s / bare;
}
BENCHMARK(BM_ThreePeersTwoReplicas)->Unit(benchmark::kMillisecond)->MinTime(2.0)->UseRealTime();

}  // namespace
}  // namespace qdsim

BENCHMARK_MAIN();
