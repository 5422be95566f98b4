// Virtual-time vocabulary shared by the node logic and both runtimes.
//
// Time in the node logic is an integer count of microseconds. The simulator's clock starts at zero
// when a run begins; the real runtime's starts at an arbitrary monotonic origin. Neither may be
// compared with wall-clock time: wall time is a separate reading (Clock::WallMicros()).
//
//   world::Duration timeout = world::Millis(200);
//   world::Instant deadline = clock.Now() + timeout;
#ifndef QDSIM_NODE_WORLD_TIME_H_
#define QDSIM_NODE_WORLD_TIME_H_

#include <chrono>
#include <cstdint>

namespace qdsim::world {

// The monotonic clock tag: instants of different nodes are comparable only inside the simulator.
struct MonotonicClockTag {};

using Duration = std::chrono::microseconds;
using Instant = std::chrono::time_point<MonotonicClockTag, Duration>;

constexpr Duration Micros(int64_t n) { return Duration(n); }
constexpr Duration Millis(int64_t n) { return Duration(n * 1000); }
constexpr Duration Seconds(int64_t n) { return Duration(n * 1000 * 1000); }
// Fractional seconds, rounded towards zero to the microsecond (scenario files speak in seconds).
constexpr Duration SecondsF(double s) { return Duration(static_cast<int64_t>(s * 1e6)); }
constexpr double ToSeconds(Duration d) { return static_cast<double>(d.count()) / 1e6; }
constexpr double ToSeconds(Instant t) { return ToSeconds(t.time_since_epoch()); }

}  // namespace qdsim::world

#endif  // QDSIM_NODE_WORLD_TIME_H_
