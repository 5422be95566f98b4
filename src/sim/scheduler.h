// Scheduler: the simulator's single event queue and its virtual clock.
//
// Events are ordered by (virtual time, sequence number); the sequence number is assigned when an
// event is scheduled, so events due at the same instant run in the order they were scheduled.
// Nothing else orders execution: a run is a pure function of what was scheduled.
//
//   Scheduler s;
//   s.After(world::Millis(5), [&] { ... });
//   while (s.Step()) {}
//
// Thread-safety: none (the simulator is single-threaded).
#ifndef QDSIM_SIM_SCHEDULER_H_
#define QDSIM_SIM_SCHEDULER_H_

#include <cstdint>
#include <functional>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "node/world/time.h"

namespace qdsim::sim {

// Identifies a scheduled event; never 0, never reused within one scheduler.
using EventId = uint64_t;

class Scheduler {
 public:
  // Virtual time of the event being run (or of the last one run).
  world::Instant now() const { return now_; }

  // Schedules `fn` at absolute time `at`. REQUIRES: at >= now().
  EventId At(world::Instant at, std::function<void()> fn);

  // Schedules `fn` `delay` after now(). REQUIRES: delay >= 0.
  EventId After(world::Duration delay, std::function<void()> fn) { return At(now_ + delay, std::move(fn)); }

  // Prevents a pending event from running; returns false if it already ran or was cancelled.
  bool Cancel(EventId id);

  // Runs the earliest pending event; returns false if none is pending.
  bool Step();

  // Runs every event due at or before `t`, then moves the clock to `t` (if it is not past it).
  void RunUntil(world::Instant t);

  // Time of the earliest pending event; REQUIRES: pending() > 0.
  world::Instant NextTime();

  // Number of events scheduled and not yet run or cancelled.
  size_t pending() const { return live_.size(); }

  // Number of events run so far.
  uint64_t events_run() const { return events_run_; }

 private:
  struct Event {
    world::Instant at;
    EventId seq;
    std::function<void()> fn;
  };
  // Heap order: the earliest (at, seq) on top.
  struct Later {
    bool operator()(const Event& a, const Event& b) const {
      return a.at != b.at ? a.at > b.at : a.seq > b.seq;
    }
  };
  void DropCancelledTop();

  world::Instant now_{};
  EventId next_seq_ = 1;
  std::vector<Event> heap_;              // binary heap under Later; may hold cancelled events
  absl::flat_hash_set<EventId> live_;    // ids scheduled and not yet run or cancelled (lookup only)
  uint64_t events_run_ = 0;
};

}  // namespace qdsim::sim

#endif  // QDSIM_SIM_SCHEDULER_H_
