#include "real/runtime/real_clock.h"

#include <time.h>

namespace qdsim::real {

int64_t WallMicrosNow() {
  timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000000 + ts.tv_nsec / 1000;
}

RealClock::~RealClock() {
  for (world::TimerId id : pending_) loop_.CancelTimer(id);
}

world::TimerId RealClock::After(world::Duration delay, std::function<void()> callback) {
  // The loop assigns the id only once RunAfter returns, so the wrapper learns it through a cell
  // that is filled in right after; the callback cannot run before that (never inside After()).
  auto id_cell = std::make_shared<world::TimerId>(0);
  const world::TimerId id = loop_.RunAfter(delay, [this, id_cell, callback = std::move(callback)] {
    pending_.erase(*id_cell);
    callback();
  });
  *id_cell = id;
  pending_.insert(id);
  return id;
}

bool RealClock::Cancel(world::TimerId id) {
  if (pending_.erase(id) == 0) return false;
  return loop_.CancelTimer(id);
}

}  // namespace qdsim::real
