// NodeEnv: the world as one incarnation of a simulated node sees it.
//
// It implements every world interface over the simulation: virtual time (with this node's drift),
// timers as scheduler events, the simulated network, the node's SimDisk with sync latency, and a
// logger that writes to the trace. A NodeEnv lives exactly as long as its incarnation; the simulation
// guarantees that no callback it registered runs after it is destroyed.
//
// Thread-safety: none.
#ifndef QDSIM_SIM_NODE_ENV_H_
#define QDSIM_SIM_NODE_ENV_H_

#include <cstdint>

#include "absl/container/flat_hash_map.h"
#include "node/world/env.h"
#include "sim/simulation.h"

namespace qdsim::sim {

class NodeEnv final : public world::Env,
                      private world::Clock,
                      private world::Transport,
                      private world::Disk,
                      private world::Logger {
 public:
  NodeEnv(Simulation& sim, PeerId id, uint64_t incarnation, world::Random rng, double drift_ppm,
          world::Duration wall_offset);

  world::Clock& clock() override { return *this; }
  world::Transport& transport() override { return *this; }
  world::Disk& disk() override { return *this; }
  world::Random& random() override { return rng_; }
  world::Logger& logger() override { return *this; }

  // Simulator side: a message arrived for this node (it is up and not paused).
  void Receive(PeerId from, std::string bytes);
  // Changes this node's clock rate and wall offset from now on (Now() stays monotonic).
  void SetSkew(double drift_ppm, world::Duration wall_offset);

 private:
  // world::Clock
  world::Instant Now() const override;
  int64_t WallMicros() const override;
  world::TimerId After(world::Duration delay, std::function<void()> callback) override;
  bool Cancel(world::TimerId id) override;
  // world::Transport
  PeerId Self() const override { return id_; }
  void Send(PeerId to, std::string bytes) override;
  void SetReceiver(Receiver receiver) override { receiver_ = std::move(receiver); }
  // world::Disk
  absl::Status Append(std::string_view file, std::string_view data) override;
  absl::Status WriteAt(std::string_view file, uint64_t offset, std::string_view data) override;
  absl::StatusOr<std::string> Read(std::string_view file, uint64_t offset, uint64_t length) override;
  absl::StatusOr<std::string> ReadAll(std::string_view file) override;
  absl::StatusOr<uint64_t> Size(std::string_view file) override;
  absl::Status Truncate(std::string_view file, uint64_t size) override;
  absl::Status Rename(std::string_view from, std::string_view to) override;
  absl::Status Remove(std::string_view file) override;
  std::vector<std::string> List(std::string_view prefix) override;
  void Sync(std::string_view file, SyncCallback done) override;
  // world::Logger
  void Log(world::LogLevel level, std::string_view message) override;

  // Global (simulator) delay for a local duration at this node's clock rate.
  world::Duration ToGlobal(world::Duration local) const;

  Simulation& sim_;
  PeerId id_;
  uint64_t incarnation_;
  world::Random rng_;              // the node logic's own stream
  double rate_ = 1.0;              // local seconds per global second
  world::Instant anchor_global_;   // global time of the last rate change
  world::Instant anchor_local_;    // local time at that moment
  world::Duration wall_offset_{0};
  Receiver receiver_;
  world::TimerId next_timer_ = 1;
  absl::flat_hash_map<world::TimerId, EventId> timers_;  // pending timers (lookup only)
};

}  // namespace qdsim::sim

#endif  // QDSIM_SIM_NODE_ENV_H_
