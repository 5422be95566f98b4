#include "sim/scheduler.h"

#include <algorithm>
#include <cassert>

namespace qdsim::sim {

EventId Scheduler::At(world::Instant at, std::function<void()> fn) {
  assert(at >= now_);
  if (at < now_) at = now_;
  const EventId id = next_seq_++;
  heap_.push_back(Event{at, id, std::move(fn)});
  std::push_heap(heap_.begin(), heap_.end(), Later{});
  live_.insert(id);
  return id;
}

bool Scheduler::Cancel(EventId id) { return live_.erase(id) > 0; }

void Scheduler::DropCancelledTop() {
  while (!heap_.empty() && !live_.contains(heap_.front().seq)) {
    std::pop_heap(heap_.begin(), heap_.end(), Later{});
    heap_.pop_back();
  }
}

world::Instant Scheduler::NextTime() {
  DropCancelledTop();
  assert(!heap_.empty());
  return heap_.front().at;
}

bool Scheduler::Step() {
  DropCancelledTop();
  if (heap_.empty()) return false;
  std::pop_heap(heap_.begin(), heap_.end(), Later{});
  Event e = std::move(heap_.back());
  heap_.pop_back();
  live_.erase(e.seq);
  now_ = e.at;
  ++events_run_;
  e.fn();
  return true;
}

void Scheduler::RunUntil(world::Instant t) {
  while (pending() > 0 && NextTime() <= t) Step();
  if (now_ < t) now_ = t;
}

}  // namespace qdsim::sim
