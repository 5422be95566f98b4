// Nemesis: the faults of a run, as explicit scenario steps and as random events at given rates.
//
// Explicit steps run at their times. Generated faults follow independent Poisson processes per fault
// type during the fault phase, drawn from the nemesis's own stream; crashes and pauses never leave
// more than `max_down` nodes down at once, so the faults stay within the declared model. EndFaults()
// closes the fault phase: it heals and unclogs the network, resumes and restarts every node and turns
// disk faults off, so the liveness phase starts from a whole cluster.
//
// Thread-safety: none.
#ifndef QDSIM_SIM_NEMESIS_H_
#define QDSIM_SIM_NEMESIS_H_

#include <cstdint>
#include <optional>
#include <string>

#include "node/world/random.h"
#include "proto/scenario.pb.h"
#include "sim/simulation.h"

namespace qdsim::sim {

class Nemesis {
 public:
  Nemesis(Simulation& sim, const scenario::Scenario& scenario, world::Random rng);

  // Schedules every explicit step and the first generated fault of each kind.
  void Start();

  // Ends the fault phase now (called at duration_s).
  void EndFaults();

  // Applies one step now (also used by tests and the fuzzer).
  void Apply(const scenario::Step& step);

 private:
  enum class Generated { kCrash, kLeaderCrash, kPartition, kPause, kClog };

  std::optional<PeerId> Resolve(const scenario::NodeRef& ref, NodeState want);
  std::optional<PeerId> RandomNode(NodeState want);
  void ApplyPartition(const scenario::Partition& p);
  uint32_t Down() const;
  uint32_t MaxDown() const;
  void ScheduleNext(Generated kind);
  void Fire(Generated kind);
  world::Duration DrawSeconds(const scenario::Range& range);

  Simulation& sim_;
  const scenario::Scenario& scenario_;
  world::Random rng_;
  bool active_ = true;                  // false once EndFaults() ran
  uint64_t partition_generation_ = 0;   // a generated heal undoes only the latest partition
};

}  // namespace qdsim::sim

#endif  // QDSIM_SIM_NEMESIS_H_
