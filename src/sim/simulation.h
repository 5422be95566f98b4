// Simulation: one run's world — scheduler, trace, network, disks and the node incarnations.
//
// Every node event (timer, message delivery, sync completion) is tagged with the incarnation that
// caused it and dropped if that incarnation has crashed; while a node is paused its events wait and
// run, in their original order, when it resumes. Node ids are 1..nodes.
//
// The simulation does not decide what happens when: the scenario runner (runner.h) and the nemesis
// (nemesis.h) call the control methods below at scheduled times.
//
// Thread-safety: none. One Simulation per thread; runs share nothing.
#ifndef QDSIM_SIM_SIMULATION_H_
#define QDSIM_SIM_SIMULATION_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "node/world/env.h"
#include "node/world/random.h"
#include "sim/network.h"
#include "sim/node_kind.h"
#include "sim/scheduler.h"
#include "sim/sim_disk.h"
#include "sim/trace.h"

namespace qdsim::sim {

class NodeEnv;

struct Violation {
  std::string check;
  world::Instant at;
  std::string detail;
};

enum class NodeState { kUp, kPaused, kDown };

class Simulation {
 public:
  struct NodeParams {
    SimDisk::Params disk;
    world::Duration sync_latency{1000};
  };
  struct Config {
    uint32_t nodes = 3;
    std::vector<SimNetwork::LinkParams> links;  // nodes*nodes, row-major by (from-1, to-1)
    std::vector<NodeParams> node_params;        // one per node
  };

  Simulation(Config config, uint64_t seed, NodeKind& kind);
  ~Simulation();
  Simulation(const Simulation&) = delete;
  Simulation& operator=(const Simulation&) = delete;

  Scheduler& scheduler() { return scheduler_; }
  Trace& trace() { return trace_; }
  SimNetwork& network() { return *network_; }
  world::Instant now() const { return scheduler_.now(); }
  uint32_t nodes() const { return config_.nodes; }
  NodeKind& kind() { return kind_; }

  // Node control. Each is traced; invalid transitions (crashing a crashed node) are no-ops.
  void Boot(PeerId id);
  void Crash(PeerId id);    // memory lost, unsynced disk state lost or torn
  void Restart(PeerId id);  // boot a crashed node from its durable disk
  void Pause(PeerId id);
  void Resume(PeerId id);
  void SetClockSkew(PeerId id, double drift_ppm, world::Duration wall_offset);
  void SetDiskFaults(PeerId id, bool enabled);

  NodeState state(PeerId id) const;
  // The live incarnation of a node, or null while it is down.
  SimNode* node(PeerId id);
  // Number of times a node has booted.
  uint64_t incarnation(PeerId id) const;
  SimDisk& disk(PeerId id);

  // Runs `fn` on node `id`'s logical thread at `at`, as part of the current incarnation: dropped if
  // it crashes first, deferred while it is paused. Returns the scheduler's event id.
  EventId PostToNode(PeerId id, world::Instant at, std::function<void()> fn);

  // A random stream for workloads and checkers (independent of the nodes' and the nemesis').
  world::Random& workload_random() { return workload_rng_; }

  // Checkers report here; the first violation stops the run (see runner.h).
  void ReportViolation(std::string check, std::string detail);
  const std::vector<Violation>& violations() const { return violations_; }

  // Counters for the summary.
  uint64_t faults() const { return faults_; }
  void CountFault() { ++faults_; }

 private:
  friend class NodeEnv;
  struct Slot;
  Slot& slot(PeerId id) { return *slots_.at(id - 1); }
  const Slot& slot(PeerId id) const { return *slots_.at(id - 1); }
  void RunOnNode(PeerId id, uint64_t incarnation, std::function<void()>& fn);
  void Deliver(PeerId from, PeerId to, std::string bytes);
  // For NodeEnv: the stream disk faults are drawn from, and a sync with latency.
  world::Random& slot_disk_random(PeerId id);
  void BeginSync(PeerId id, uint64_t incarnation, std::string_view file,
                 std::function<void(absl::Status)> done);

  Config config_;
  NodeKind& kind_;
  world::Random root_rng_;        // source of every stream below
  world::Random workload_rng_;
  Scheduler scheduler_;
  Trace trace_;
  std::unique_ptr<SimNetwork> network_;
  std::vector<std::unique_ptr<Slot>> slots_;  // index id-1
  std::vector<Violation> violations_;
  uint64_t faults_ = 0;
};

}  // namespace qdsim::sim

#endif  // QDSIM_SIM_SIMULATION_H_
