// Raft in the simulator: a leader kept saturated with proposals (batches of 8 every millisecond of
// simulated time) in a fault-free 3- or 5-voter cluster with 1-3 ms links and 0.5-1.5 ms syncs.
//
// Reported counters:
//   commits_per_wall_s   entries committed per wall second (the simulator's cost of running Raft)
//   commits_per_sim_s    entries committed per simulated second (what the protocol sustains)
//   msgs_per_commit      network messages per committed entry (batching and pipelining at work)
//   syncs_per_commit     disk syncs per committed entry, over all nodes
#include <benchmark/benchmark.h>

#include <chrono>

#include "tests/sim/raft_cluster.h"

namespace qdsim {
namespace {

void BM_RaftCommits(benchmark::State& state) {
  const uint32_t voters = static_cast<uint32_t>(state.range(0));
  uint64_t commits = 0, messages = 0, syncs = 0, seed = 1;
  double wall = 0, simulated = 0;
  for (auto _ : state) {
    sim::testing::RaftCluster c({.voters = voters, .seed = seed++});
    auto leader = c.AwaitLeader();
    if (!leader) {
      state.SkipWithError("no leader");
      return;
    }
    c.RunFor(world::Seconds(1));
    raft::RaftNode* l = c.node(*leader);
    const uint64_t commit0 = l->raft().log().committed();
    const uint64_t sent0 = c.sim().network().stats().sent;
    uint64_t syncs0 = 0;
    for (world::PeerId id = 1; id <= voters; ++id) syncs0 += c.sim().disk(id).stats().syncs;
    const auto start = std::chrono::steady_clock::now();
    uint64_t n = 0;
    for (int ms = 0; ms < 2000; ++ms) {
      for (int i = 0; i < 8; ++i) (void)l->Propose("command-" + std::to_string(n++));
      c.RunFor(world::Millis(1));
    }
    c.RunFor(world::Millis(100));
    wall += std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    simulated += 2.1;
    commits += l->raft().log().committed() - commit0;
    messages += c.sim().network().stats().sent - sent0;
    uint64_t syncs1 = 0;
    for (world::PeerId id = 1; id <= voters; ++id) syncs1 += c.sim().disk(id).stats().syncs;
    syncs += syncs1 - syncs0;
  }
  state.counters["commits_per_wall_s"] = static_cast<double>(commits) / wall;
  state.counters["commits_per_sim_s"] = static_cast<double>(commits) / simulated;
  state.counters["msgs_per_commit"] = static_cast<double>(messages) / static_cast<double>(commits);
  state.counters["syncs_per_commit"] = static_cast<double>(syncs) / static_cast<double>(commits);
}
BENCHMARK(BM_RaftCommits)->Arg(3)->Arg(5)->Unit(benchmark::kMillisecond)->UseRealTime()->MinTime(1.0);

}  // namespace
}  // namespace qdsim

BENCHMARK_MAIN();
