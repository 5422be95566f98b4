#include "sim/scheduler.h"

#include <map>
#include <set>
#include <vector>

#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

namespace qdsim::sim {
namespace {

TEST(SchedulerTest, RunsByTimeThenBySchedulingOrder) {
  Scheduler s;
  std::vector<int> order;
  s.After(world::Millis(2), [&] { order.push_back(3); });
  s.After(world::Millis(1), [&] { order.push_back(1); });
  s.After(world::Millis(1), [&] { order.push_back(2); });
  while (s.Step()) {}
  EXPECT_EQ(order, (std::vector<int>{1, 2, 3}));
  EXPECT_EQ(s.now(), world::Instant(world::Millis(2)));
  EXPECT_EQ(s.events_run(), 3u);
}

TEST(SchedulerTest, CancelledEventsNeverRun) {
  Scheduler s;
  bool ran = false;
  EventId id = s.After(world::Millis(1), [&] { ran = true; });
  EXPECT_EQ(s.pending(), 1u);
  EXPECT_TRUE(s.Cancel(id));
  EXPECT_FALSE(s.Cancel(id));
  EXPECT_EQ(s.pending(), 0u);
  EXPECT_FALSE(s.Step());
  EXPECT_FALSE(ran);
}

TEST(SchedulerTest, RunUntilRunsWhatIsDueAndMovesTheClock) {
  Scheduler s;
  int ran = 0;
  s.After(world::Millis(1), [&] { ++ran; });
  s.After(world::Millis(5), [&] { ++ran; });
  s.RunUntil(world::Instant(world::Millis(3)));
  EXPECT_EQ(ran, 1);
  EXPECT_EQ(s.now(), world::Instant(world::Millis(3))) << "the clock moves even with nothing due";
  s.RunUntil(world::Instant(world::Millis(2)));  // never backwards
  EXPECT_EQ(s.now(), world::Instant(world::Millis(3)));
}

// One operation of a random schedule: an event at `delay` after the current time, which when it runs
// schedules `children` more events, and possibly cancels an earlier event.
struct Op {
  int delay_us;
  int children;
  int cancel_pick;  // < 0: cancel nothing
};

// Property: events fire in (time, sequence) order, each scheduled event exactly once unless it was
// cancelled first, and a cancelled event never.
RC_GTEST_PROP(SchedulerTest, FiresInTimeSequenceOrder, ()) {
  const auto ops = *rc::gen::container<std::vector<Op>>(rc::gen::build<Op>(
      rc::gen::set(&Op::delay_us, rc::gen::inRange(0, 50)),
      rc::gen::set(&Op::children, rc::gen::inRange(0, 3)),
      rc::gen::set(&Op::cancel_pick, rc::gen::inRange(-3, 40))));
  Scheduler s;
  std::vector<std::pair<world::Instant, EventId>> fired;
  std::vector<EventId> scheduled;
  std::set<EventId> cancelled;
  size_t next_op = 0;
  std::function<void(EventId*)> schedule_one;
  schedule_one = [&](EventId* out) {
    if (next_op >= ops.size()) return;
    const Op op = ops[next_op++];
    auto id_holder = std::make_shared<EventId>(0);
    const EventId id = s.After(world::Micros(op.delay_us), [&, op, id_holder] {
      fired.emplace_back(s.now(), *id_holder);
      for (int c = 0; c < op.children; ++c) schedule_one(nullptr);
      if (op.cancel_pick >= 0 && !scheduled.empty()) {
        const EventId victim = scheduled[op.cancel_pick % scheduled.size()];
        if (s.Cancel(victim)) cancelled.insert(victim);
      }
    });
    *id_holder = id;
    scheduled.push_back(id);
  };
  for (int i = 0; i < 4; ++i) schedule_one(nullptr);
  while (s.Step()) {}
  for (size_t i = 1; i < fired.size(); ++i) RC_ASSERT(fired[i - 1] < fired[i]);
  std::set<EventId> fired_ids;
  for (const auto& [at, id] : fired) {
    RC_ASSERT(fired_ids.insert(id).second);
    RC_ASSERT(!cancelled.contains(id));
  }
  RC_ASSERT(fired_ids.size() + cancelled.size() == scheduled.size());
}

}  // namespace
}  // namespace qdsim::sim
