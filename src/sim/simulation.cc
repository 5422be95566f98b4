#include "sim/simulation.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "sim/node_env.h"

namespace qdsim::sim {

// Everything the simulator keeps about one node across its incarnations.
struct Simulation::Slot {
  Slot(PeerId id, const NodeParams& params, world::Random stream, world::Random disk_rng)
      : id(id), disk(params.disk), sync_latency(params.sync_latency), stream(stream),
        disk_rng(disk_rng) {}

  PeerId id;
  NodeState state = NodeState::kDown;
  uint64_t incarnation = 0;                      // boots so far; events carry the one they belong to
  SimDisk disk;                                  // survives crashes
  world::Duration sync_latency;                  // mean time for a sync to complete
  world::Instant last_sync_done{};               // syncs complete in issue order
  world::Random stream;                          // forks one generator per incarnation
  world::Random disk_rng;                        // disk faults and sync latencies
  double drift_ppm = 0;                          // clock skew, kept across restarts
  world::Duration wall_offset{0};
  std::unique_ptr<NodeEnv> env;                  // null while down
  std::unique_ptr<SimNode> node;                 // null while down
  std::vector<std::function<void()>> deferred;   // events held while paused, in order
};

Simulation::Simulation(Config config, uint64_t seed, NodeKind& kind)
    : config_(std::move(config)),
      kind_(kind),
      root_rng_(seed),
      workload_rng_(root_rng_.Fork("workload")) {
  world::Random net_rng = root_rng_.Fork("network");
  network_ = std::make_unique<SimNetwork>(
      scheduler_, trace_, config_.nodes, config_.links, net_rng,
      [this](PeerId from, PeerId to, std::string bytes) { Deliver(from, to, std::move(bytes)); });
  config_.node_params.resize(config_.nodes);
  for (PeerId id = 1; id <= config_.nodes; ++id) {
    world::Random stream = root_rng_.Fork(absl::StrCat("node/", id));
    world::Random disk_rng = root_rng_.Fork(absl::StrCat("disk/", id));
    slots_.push_back(std::make_unique<Slot>(id, config_.node_params[id - 1], stream, disk_rng));
  }
}

Simulation::~Simulation() {
  // Destroy nodes before their environments: a node may touch its env while being destroyed.
  for (auto& s : slots_) s->node.reset();
}

NodeState Simulation::state(PeerId id) const { return slot(id).state; }
SimNode* Simulation::node(PeerId id) { return slot(id).node.get(); }
uint64_t Simulation::incarnation(PeerId id) const { return slot(id).incarnation; }
SimDisk& Simulation::disk(PeerId id) { return slot(id).disk; }
world::Random& Simulation::slot_disk_random(PeerId id) { return slot(id).disk_rng; }

void Simulation::Boot(PeerId id) {
  Slot& s = slot(id);
  if (s.state != NodeState::kDown) return;
  ++s.incarnation;
  s.state = NodeState::kUp;
  trace_.Record(now(), id, "boot", absl::StrCat("incarnation=", s.incarnation));
  s.env = std::make_unique<NodeEnv>(*this, id, s.incarnation,
                                    s.stream.Fork(absl::StrCat("incarnation/", s.incarnation)),
                                    s.drift_ppm, s.wall_offset);
  s.node = kind_.Boot(id, *s.env);
}

void Simulation::Crash(PeerId id) {
  Slot& s = slot(id);
  if (s.state == NodeState::kDown) return;
  kind_.BeforeCrash(*this, id);
  trace_.Record(now(), id, "crash", "");
  s.node.reset();
  s.env.reset();
  s.deferred.clear();
  s.state = NodeState::kDown;
  s.disk.Crash(s.disk_rng);
  s.last_sync_done = {};
}

void Simulation::Restart(PeerId id) {
  if (slot(id).state == NodeState::kDown) Boot(id);
}

void Simulation::Pause(PeerId id) {
  Slot& s = slot(id);
  if (s.state != NodeState::kUp) return;
  s.state = NodeState::kPaused;
  trace_.Record(now(), id, "pause", "");
}

void Simulation::Resume(PeerId id) {
  Slot& s = slot(id);
  if (s.state != NodeState::kPaused) return;
  s.state = NodeState::kUp;
  trace_.Record(now(), id, "resume", absl::StrCat("deferred=", s.deferred.size()));
  std::vector<std::function<void()>> held;
  held.swap(s.deferred);
  for (auto& fn : held) PostToNode(id, now(), std::move(fn));
}

void Simulation::SetClockSkew(PeerId id, double drift_ppm, world::Duration wall_offset) {
  Slot& s = slot(id);
  s.drift_ppm = drift_ppm;
  s.wall_offset = wall_offset;
  trace_.Record(now(), id, "skew",
                absl::StrCat("drift_ppm=", drift_ppm, " wall_offset_us=", wall_offset.count()));
  if (s.env) s.env->SetSkew(drift_ppm, wall_offset);
}

void Simulation::SetDiskFaults(PeerId id, bool enabled) {
  slot(id).disk.set_faults_enabled(enabled);
  trace_.Record(now(), id, "disk-faults", enabled ? "on" : "off");
}

EventId Simulation::PostToNode(PeerId id, world::Instant at, std::function<void()> fn) {
  const uint64_t inc = slot(id).incarnation;
  return scheduler_.At(at, [this, id, inc, fn = std::move(fn)]() mutable { RunOnNode(id, inc, fn); });
}

void Simulation::RunOnNode(PeerId id, uint64_t incarnation, std::function<void()>& fn) {
  Slot& s = slot(id);
  if (s.incarnation != incarnation || s.state == NodeState::kDown) return;
  if (s.state == NodeState::kPaused) {
    s.deferred.push_back(std::move(fn));
    return;
  }
  fn();
}

void Simulation::Deliver(PeerId from, PeerId to, std::string bytes) {
  Slot& s = slot(to);
  if (s.state == NodeState::kDown) {
    trace_.Record(now(), to, "drop", absl::StrCat("from=n", from, " node-down"));
    return;
  }
  PostToNode(to, now(), [this, to, from, bytes = std::move(bytes)]() mutable {
    slot(to).env->Receive(from, std::move(bytes));
  });
}

void Simulation::BeginSync(PeerId id, uint64_t incarnation, std::string_view file,
                           std::function<void(absl::Status)> done) {
  Slot& s = slot(id);
  SimDisk::SyncTicket ticket = s.disk.BeginSync(file);
  const double jitter = s.disk_rng.UniformReal(0.5, 1.5);
  const world::Instant at = std::max(
      now() + world::Micros(static_cast<int64_t>(static_cast<double>(s.sync_latency.count()) * jitter)),
      s.last_sync_done);
  s.last_sync_done = at;
  // The disk completes the sync unless the node loses power first; the callback then runs on the
  // node (later, if it is paused).
  scheduler_.At(at, [this, id, incarnation, file = std::string(file), ticket = std::move(ticket),
                     done = std::move(done)]() mutable {
    Slot& s = slot(id);
    if (s.incarnation != incarnation || s.state == NodeState::kDown) return;
    s.disk.CompleteSync(ticket);
    trace_.Record(now(), id, "synced", file);
    std::function<void()> callback = [done = std::move(done)] { done(absl::OkStatus()); };
    RunOnNode(id, incarnation, callback);
  });
}

void Simulation::ReportViolation(std::string check, std::string detail) {
  trace_.Record(now(), 0, "VIOLATION", absl::StrCat(check, ": ", detail));
  violations_.push_back(Violation{std::move(check), now(), std::move(detail)});
}

}  // namespace qdsim::sim
