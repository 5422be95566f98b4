// RealClock: world::Clock over an EventLoop, for the real runtime.
//
// Now() is CLOCK_MONOTONIC (the loop's Now()), WallMicros() is CLOCK_REALTIME, and timers live on
// the loop's timer heap, so their callbacks run on the loop thread and never inside After(). The
// clock remembers the timers it set: destroying it cancels those still pending, so a callback never
// outlives the node incarnation that owns the clock.
//
//   RealClock clock(loop);
//   world::TimerId t = clock.After(world::Millis(150), [&] { StartElection(); });
//   clock.Cancel(t);
//
// Thread-safety: none; every call happens on the loop thread (WallMicrosNow() is thread-safe).
#ifndef QDSIM_REAL_RUNTIME_REAL_CLOCK_H_
#define QDSIM_REAL_RUNTIME_REAL_CLOCK_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <unordered_set>

#include "node/world/clock.h"
#include "real/runtime/event_loop.h"

namespace qdsim::real {

// Wall-clock microseconds since the Unix epoch (CLOCK_REALTIME). Any thread.
int64_t WallMicrosNow();

class RealClock final : public world::Clock {
 public:
  // REQUIRES: `loop` outlives the clock.
  explicit RealClock(EventLoop& loop) : loop_(loop) {}
  // Cancels every timer of this clock that has not fired.
  ~RealClock() override;

  RealClock(const RealClock&) = delete;
  RealClock& operator=(const RealClock&) = delete;

  world::Instant Now() const override { return loop_.Now(); }
  int64_t WallMicros() const override { return WallMicrosNow(); }
  // The id is the loop's timer id: never 0, never reused.
  world::TimerId After(world::Duration delay, std::function<void()> callback) override;
  bool Cancel(world::TimerId id) override;

  // Timers set by this clock that have neither fired nor been cancelled.
  size_t pending() const { return pending_.size(); }

 private:
  EventLoop& loop_;
  std::unordered_set<world::TimerId> pending_;  // this clock's live timers, cancelled on destruction
};

}  // namespace qdsim::real

#endif  // QDSIM_REAL_RUNTIME_REAL_CLOCK_H_
