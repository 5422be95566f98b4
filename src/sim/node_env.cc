#include "sim/node_env.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/str_cat.h"
#include "node/world/strings.h"

namespace qdsim::sim {
namespace {

// Wall clock of every simulated run starts at 2026-01-01T00:00:00Z, so stamps are reproducible.
constexpr int64_t kSimEpochUnixMicros = 1767225600LL * 1000000;

const char* LevelName(world::LogLevel level) {
  switch (level) {
    case world::LogLevel::kDebug: return "debug";
    case world::LogLevel::kInfo: return "info";
    case world::LogLevel::kWarning: return "warn";
    case world::LogLevel::kError: return "error";
  }
  return "?";
}

}  // namespace

NodeEnv::NodeEnv(Simulation& sim, PeerId id, uint64_t incarnation, world::Random rng,
                 double drift_ppm, world::Duration wall_offset)
    : sim_(sim), id_(id), incarnation_(incarnation), rng_(rng) {
  anchor_global_ = sim_.now();
  anchor_local_ = sim_.now();
  SetSkew(drift_ppm, wall_offset);
}

void NodeEnv::SetSkew(double drift_ppm, world::Duration wall_offset) {
  anchor_local_ = Now();
  anchor_global_ = sim_.now();
  rate_ = std::max(0.5, 1.0 + drift_ppm / 1e6);
  wall_offset_ = wall_offset;
}

world::Instant NodeEnv::Now() const {
  const double elapsed = static_cast<double>((sim_.now() - anchor_global_).count()) * rate_;
  return anchor_local_ + world::Micros(static_cast<int64_t>(elapsed));
}

int64_t NodeEnv::WallMicros() const {
  return kSimEpochUnixMicros + Now().time_since_epoch().count() + wall_offset_.count();
}

world::Duration NodeEnv::ToGlobal(world::Duration local) const {
  return world::Micros(static_cast<int64_t>(std::ceil(static_cast<double>(local.count()) / rate_)));
}

world::TimerId NodeEnv::After(world::Duration delay, std::function<void()> callback) {
  const world::TimerId tid = next_timer_++;
  const EventId ev = sim_.PostToNode(
      id_, sim_.now() + ToGlobal(std::max(delay, world::Duration(0))),
      [this, tid, callback = std::move(callback)] {
        if (timers_.erase(tid) == 0) return;  // cancelled while deferred by a pause
        callback();
      });
  timers_[tid] = ev;
  return tid;
}

bool NodeEnv::Cancel(world::TimerId id) {
  auto it = timers_.find(id);
  if (it == timers_.end()) return false;
  sim_.scheduler().Cancel(it->second);
  timers_.erase(it);
  return true;
}

void NodeEnv::Send(PeerId to, std::string bytes) { sim_.network().Send(id_, to, std::move(bytes)); }

void NodeEnv::Receive(PeerId from, std::string bytes) {
  if (receiver_) receiver_(from, std::move(bytes));
}

absl::Status NodeEnv::Append(std::string_view file, std::string_view data) {
  absl::Status s = sim_.disk(id_).Append(file, data);
  if (!s.ok()) sim_.trace().Record(sim_.now(), id_, "disk-error", absl::StrCat(world::Sv(file), " ", s.message()));
  return s;
}

absl::Status NodeEnv::WriteAt(std::string_view file, uint64_t offset, std::string_view data) {
  absl::Status s = sim_.disk(id_).WriteAt(file, offset, data);
  if (!s.ok()) sim_.trace().Record(sim_.now(), id_, "disk-error", absl::StrCat(world::Sv(file), " ", s.message()));
  return s;
}

absl::StatusOr<std::string> NodeEnv::Read(std::string_view file, uint64_t offset, uint64_t length) {
  return sim_.disk(id_).Read(file, offset, length, sim_.slot_disk_random(id_));
}

absl::StatusOr<std::string> NodeEnv::ReadAll(std::string_view file) {
  return Read(file, 0, UINT64_MAX);
}

absl::StatusOr<uint64_t> NodeEnv::Size(std::string_view file) { return sim_.disk(id_).Size(file); }

absl::Status NodeEnv::Truncate(std::string_view file, uint64_t size) {
  return sim_.disk(id_).Truncate(file, size);
}

absl::Status NodeEnv::Rename(std::string_view from, std::string_view to) {
  return sim_.disk(id_).Rename(from, to);
}

absl::Status NodeEnv::Remove(std::string_view file) { return sim_.disk(id_).Remove(file); }

std::vector<std::string> NodeEnv::List(std::string_view prefix) { return sim_.disk(id_).List(prefix); }

void NodeEnv::Sync(std::string_view file, SyncCallback done) {
  sim_.BeginSync(id_, incarnation_, file, std::move(done));
}

void NodeEnv::Log(world::LogLevel level, std::string_view message) {
  sim_.trace().Record(sim_.now(), id_, LevelName(level), message);
}

}  // namespace qdsim::sim
