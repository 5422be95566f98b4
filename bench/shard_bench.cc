// Exact vector search in the shard store: 100k points of 128 dims, Dot, top 10, no filter.
//
// Reported counters:
//   queries_per_s          searches per wall second
//   mem_bandwidth_GBps     sequential read bandwidth over the same vector bytes, measured in this run
//   limit_queries_per_s    the bandwidth bound: bandwidth / vector bytes per query (every query must
//                          read every vector once)
//   vs_memory_bandwidth    queries_per_s / limit_queries_per_s (1.0 = as fast as reading the data)
#include <benchmark/benchmark.h>

#include <chrono>
#include <memory>
#include <vector>

#include "node/shard/point_table.h"

namespace qdsim::shard {
namespace {

constexpr uint32_t kDim = 128;
constexpr uint64_t kPoints = 100'000;

// A fixed xorshift stream, so every run searches the same data.
class Xorshift {
 public:
  float Next() {
    s_ ^= s_ << 13;
    s_ ^= s_ >> 7;
    s_ ^= s_ << 17;
    return static_cast<float>(s_ >> 40) / static_cast<float>(1 << 24) - 0.5f;
  }

 private:
  uint64_t s_ = 0x9E3779B97F4A7C15ull;  // the generator's state (never zero)
};

const PointTable& Table() {
  static const PointTable* table = [] {
    ShardConfig config;
    config.dense[""] = {kDim, Distance::kDot};
    auto* t = new PointTable(config);
    Xorshift rng;
    shardpb::ShardOperation op;
    op.set_seq(1);
    for (uint64_t id = 0; id < kPoints; ++id) {
      shardpb::Point* p = op.mutable_upsert()->add_points();
      p->mutable_id()->set_num(id);
      auto* values = (*p->mutable_vectors()->mutable_vectors())[""].mutable_dense()->mutable_values();
      for (uint32_t i = 0; i < kDim; ++i) values->Add(rng.Next());
    }
    t->Apply(op);
    return t;
  }();
  return *table;
}

// Bytes per second of a sequential pass summing a contiguous copy of every stored vector.
double MeasureBandwidth(const PointTable& table) {
  std::vector<float> flat;
  flat.reserve(kPoints * kDim);
  for (const auto& [key, p] : table.points()) {
    const auto& v = p.vectors.at("").dense().values();
    flat.insert(flat.end(), v.begin(), v.end());
  }
  double best = 0;
  for (int pass = 0; pass < 5; ++pass) {
    const auto start = std::chrono::steady_clock::now();
    float acc[8] = {0, 0, 0, 0, 0, 0, 0, 0};
    for (size_t i = 0; i + 8 <= flat.size(); i += 8) {
      for (size_t j = 0; j < 8; ++j) acc[j] += flat[i + j];
    }
    benchmark::DoNotOptimize(acc);
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    best = std::max(best, static_cast<double>(flat.size() * sizeof(float)) / s);
  }
  return best;
}

void BM_ExactSearchDot(benchmark::State& state) {
  const PointTable& table = Table();
  const double bandwidth = MeasureBandwidth(table);
  Xorshift rng;
  SearchRequest req;
  req.limit = 10;
  for (uint32_t i = 0; i < kDim; ++i) req.query.mutable_dense()->add_values(rng.Next());
  const auto start = std::chrono::steady_clock::now();
  int64_t queries = 0;
  for (auto _ : state) {
    auto hits = table.Search(req);
    benchmark::DoNotOptimize(hits);
    if (!hits.ok() || hits->size() != 10) {
      state.SkipWithError("search failed");
      return;
    }
    ++queries;
  }
  const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  const double qps = static_cast<double>(queries) / wall;
  const double limit = bandwidth / (static_cast<double>(kPoints) * kDim * sizeof(float));
  state.counters["queries_per_s"] = qps;
  state.counters["mem_bandwidth_GBps"] = bandwidth / 1e9;
  state.counters["limit_queries_per_s"] = limit;
  state.counters["vs_memory_bandwidth"] = qps / limit;
}
BENCHMARK(BM_ExactSearchDot)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace
}  // namespace qdsim::shard

BENCHMARK_MAIN();
