// The simulation's node lifecycle: crashes forget everything volatile, pauses defer, skew scales time.
#include "sim/simulation.h"

#include <gtest/gtest.h>

#include "sim/node_kind.h"

namespace qdsim::sim {
namespace {

// A node that records what happens to it, for the tests below.
struct Events {
  std::vector<std::string> log;
};

class ProbeNode : public SimNode {
 public:
  ProbeNode(PeerId id, world::Env& env, Events& events) : env_(env), events_(events) {
    env_.transport().SetReceiver([this, id](PeerId from, std::string bytes) {
      events_.log.push_back("n" + std::to_string(id) + " got " + bytes);
    });
  }
  world::Env& env_;
  Events& events_;
};

class ProbeKind : public NodeKind {
 public:
  std::unique_ptr<SimNode> Boot(PeerId id, world::Env& env) override {
    auto node = std::make_unique<ProbeNode>(id, env, events);
    nodes[id] = node.get();
    return node;
  }
  std::vector<std::string> CheckNames() const override { return {}; }
  std::unique_ptr<Checker> MakeChecker(std::string_view) override { return nullptr; }
  Events events;
  std::map<PeerId, ProbeNode*> nodes;
};

Simulation::Config TwoNodes() {
  Simulation::Config c;
  c.nodes = 2;
  c.links.assign(4, SimNetwork::LinkParams{world::Millis(1), 0, 0, 0, 0});
  c.node_params.assign(2, Simulation::NodeParams{{}, world::Millis(2)});
  return c;
}

void RunAll(Simulation& sim) {
  while (sim.scheduler().Step()) {}
}

TEST(SimulationTest, CrashForgetsTimersAndRestartBootsANewIncarnation) {
  ProbeKind kind;
  Simulation sim(TwoNodes(), 1, kind);
  sim.Boot(1);
  bool fired = false;
  kind.nodes[1]->env_.clock().After(world::Millis(5), [&] { fired = true; });
  sim.Crash(1);
  EXPECT_EQ(sim.state(1), NodeState::kDown);
  EXPECT_EQ(sim.node(1), nullptr);
  RunAll(sim);
  EXPECT_FALSE(fired);
  sim.Restart(1);
  EXPECT_EQ(sim.incarnation(1), 2u);
  EXPECT_NE(sim.node(1), nullptr);
}

TEST(SimulationTest, MessagesToACrashedNodeAreDropped) {
  ProbeKind kind;
  Simulation sim(TwoNodes(), 1, kind);
  sim.Boot(1);
  sim.Boot(2);
  kind.nodes[1]->env_.transport().Send(2, "hello");
  sim.Crash(2);
  RunAll(sim);
  EXPECT_TRUE(kind.events.log.empty());
}

TEST(SimulationTest, PauseDefersTimersAndMessagesInOrder) {
  ProbeKind kind;
  Simulation sim(TwoNodes(), 1, kind);
  sim.Boot(1);
  sim.Boot(2);
  kind.nodes[2]->env_.clock().After(world::Millis(1), [&] { kind.events.log.push_back("timer"); });
  kind.nodes[1]->env_.transport().Send(2, "a");
  kind.nodes[1]->env_.transport().Send(2, "b");
  sim.Pause(2);
  RunAll(sim);
  EXPECT_TRUE(kind.events.log.empty());
  sim.Resume(2);
  RunAll(sim);
  ASSERT_EQ(kind.events.log.size(), 3u);
  EXPECT_EQ(kind.events.log[0], "timer");  // due first (1 ms vs 1 ms + send order)
}

TEST(SimulationTest, CancelledTimerStaysCancelledAcrossAPause) {
  ProbeKind kind;
  Simulation sim(TwoNodes(), 1, kind);
  sim.Boot(1);
  bool fired = false;
  world::Clock& clock = kind.nodes[1]->env_.clock();
  const world::TimerId t = clock.After(world::Millis(1), [&] { fired = true; });
  sim.Pause(1);
  RunAll(sim);  // the timer's event is now deferred
  EXPECT_TRUE(clock.Cancel(t));
  sim.Resume(1);
  RunAll(sim);
  EXPECT_FALSE(fired);
}

TEST(SimulationTest, ClockDriftScalesTimers) {
  ProbeKind kind;
  Simulation sim(TwoNodes(), 1, kind);
  sim.Boot(1);
  sim.SetClockSkew(1, /*drift_ppm=*/1e6, world::Seconds(3));  // local clock runs twice as fast
  world::Instant fired_at{};
  world::Clock& clock = kind.nodes[1]->env_.clock();
  const int64_t wall_before = clock.WallMicros();
  clock.After(world::Millis(10), [&] { fired_at = sim.now(); });
  RunAll(sim);
  EXPECT_EQ(fired_at, world::Instant(world::Millis(5)));
  EXPECT_EQ(clock.Now(), world::Instant(world::Millis(10)));
  EXPECT_EQ(clock.WallMicros() - wall_before, 10000);
}

TEST(SimulationTest, SyncCompletesAfterLatencyAndNotAfterACrash) {
  ProbeKind kind;
  Simulation sim(TwoNodes(), 1, kind);
  sim.Boot(1);
  world::Disk& disk = kind.nodes[1]->env_.disk();
  ASSERT_TRUE(disk.Append("f", "abc").ok());
  bool synced = false;
  disk.Sync("f", [&](absl::Status s) { synced = s.ok(); });
  EXPECT_FALSE(synced);  // never inside Sync()
  RunAll(sim);
  EXPECT_TRUE(synced);
  EXPECT_GE(sim.now(), world::Instant(world::Millis(1)));  // 0.5x..1.5x of 2 ms
  EXPECT_EQ(sim.disk(1).DurableContent("f"), "abc");

  ASSERT_TRUE(disk.Append("f", "def").ok());
  bool second = false;
  disk.Sync("f", [&](absl::Status) { second = true; });
  sim.Crash(1);
  RunAll(sim);
  EXPECT_FALSE(second);
  EXPECT_EQ(sim.disk(1).DurableContent("f"), "abc");
}

}  // namespace
}  // namespace qdsim::sim
