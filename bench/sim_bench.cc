// Simulator throughput on a message-heavy 5-node run (the "ping" scaffold kind pinging every
// millisecond over a lossy, reordering network with partitions and crashes).
//
// Reported counters:
//   events_per_s      simulator events per wall second
//   sim_s_per_wall_s  simulated seconds per wall second
//   msgs_per_s        network messages per wall second
//   vs_bare_scheduler events_per_s as a fraction of a bare scheduler running no-op events, measured
//                     in the same process: the cost of the network, trace and node logic per event.
#include <benchmark/benchmark.h>

#include <chrono>

#include "sim/runner.h"
#include "sim/scenario.h"
#include "sim/scheduler.h"
#include "tests/sim/scaffold/scaffold.h"

namespace qdsim {
namespace {

// Events per second of a scheduler running no-op events that each schedule the next one.
double BareSchedulerEventsPerSecond() {
  sim::Scheduler s;
  constexpr int kEvents = 2'000'000;
  int remaining = kEvents;
  std::function<void()> tick = [&] {
    if (--remaining > 0) s.After(world::Micros(1 + remaining % 7), tick);
  };
  for (int i = 0; i < 64; ++i) s.After(world::Micros(i), tick);
  const auto start = std::chrono::steady_clock::now();
  while (s.Step()) {}
  const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return static_cast<double>(s.events_run()) / wall;
}

constexpr char kScenario[] = R"(
  name: "bench_ping_5"
  node_kind: "ping"
  nodes: 5
  duration_s: 10
  liveness_s: 1
  network { latency_ms { min: 0.2 max: 2 } jitter_ms { max: 0.5 } loss { max: 0.02 }
            duplicate { max: 0.01 } reorder { max: 0.05 } }
  faults { rates { crash_per_min: 6 downtime_s { min: 0.5 max: 1 } partition_per_min: 12
                   partition_s { min: 0.5 max: 2 } } }
  options { key: "ping_interval_ms" value: "1" }
)";

void BM_MessageHeavyFiveNodes(benchmark::State& state) {
  sim::NodeKindRegistry registry;
  scaffold::RegisterScaffoldKinds(registry);
  auto scenario = sim::ParseScenario(kScenario, "bench");
  if (!scenario.ok()) {
    state.SkipWithError(std::string(scenario.status().message()).c_str());
    return;
  }
  const double bare = BareSchedulerEventsPerSecond();
  uint64_t events = 0, messages = 0, seed = 1;
  double simulated = 0, wall = 0;
  for (auto _ : state) {
    const auto start = std::chrono::steady_clock::now();
    auto r = sim::RunScenario(*scenario, seed++, registry, {});
    wall += std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (!r.ok() || !r->ok()) {
      state.SkipWithError("run failed");
      return;
    }
    events += r->events;
    messages += r->network.sent;
    simulated += r->simulated_seconds;
  }
  const double events_per_s = static_cast<double>(events) / wall;
  state.counters["events_per_s"] = events_per_s;
  state.counters["sim_s_per_wall_s"] = simulated / wall;
  state.counters["msgs_per_s"] = static_cast<double>(messages) / wall;
  state.counters["bare_sched_events_per_s"] = bare;
  state.counters["vs_bare_scheduler"] = events_per_s / bare;
}
BENCHMARK(BM_MessageHeavyFiveNodes)->Unit(benchmark::kMillisecond)->MinTime(2.0)->UseRealTime();

}  // namespace
}  // namespace qdsim

BENCHMARK_MAIN();
