// Clock and timers: the node's only source of time.
//
// Contract:
//  - Now() is monotonic: it never decreases within one incarnation of a node. In the simulator it is
//    virtual time, possibly skewed and drifting per node; in the real runtime, CLOCK_MONOTONIC.
//  - WallMicros() is wall-clock time (microseconds since the Unix epoch) for stamps shown to users
//    (RFC 3339 in answers). Never use it to order events or to measure durations.
//  - After(d, cb) runs `cb` once, on the node's single logical thread, no earlier than `d` after the
//    call (by this node's Now()). Timers due at the same instant fire in the order they were set.
//    A callback never runs inside After() itself, even when d == 0.
//  - Cancel(id) guarantees the callback will not run, if it has not yet. Cancelling a fired or
//    unknown timer is a no-op. Timer ids are never reused by one clock.
//  - When a node crashes, every pending timer of it is forgotten: a callback never outlives the
//    incarnation that set it.
//
// Thread-safety: none; every call happens on the node's logical thread.
#ifndef QDSIM_NODE_WORLD_CLOCK_H_
#define QDSIM_NODE_WORLD_CLOCK_H_

#include <cstdint>
#include <functional>

#include "node/world/time.h"

namespace qdsim::world {

// Identifies a pending timer; 0 is never a valid id and may be used as "no timer".
using TimerId = uint64_t;

class Clock {
 public:
  virtual ~Clock() = default;

  // Monotonic time of this node.
  virtual Instant Now() const = 0;

  // Wall-clock microseconds since the Unix epoch (for display only).
  virtual int64_t WallMicros() const = 0;

  // Schedules `callback` to run once, `delay` from now. REQUIRES: delay >= 0.
  virtual TimerId After(Duration delay, std::function<void()> callback) = 0;

  // Cancels a pending timer; returns true if it was pending.
  virtual bool Cancel(TimerId id) = 0;
};

}  // namespace qdsim::world

#endif  // QDSIM_NODE_WORLD_CLOCK_H_
