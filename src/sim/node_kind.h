// NodeKind: how the simulator hosts a particular node logic, and how that logic is checked.
//
// The simulator knows nothing of Raft or Qdrant. A NodeKind boots incarnations of its node over the
// per-node Env the simulator provides, drives a workload, and supplies the checkers named in a
// scenario's `checks`. Product kinds are registered by tools/qdsim; the simulator's own tests register
// scaffold kinds (tests/sim/scaffold/).
//
//   class PingKind : public NodeKind {
//     std::unique_ptr<SimNode> Boot(PeerId id, world::Env& env) override {
//       return std::make_unique<PingNode>(id, env, this);
//     }
//     ...
//   };
//   registry.Register("ping", [](const scenario::Scenario& s) { return std::make_unique<PingKind>(s); });
#ifndef QDSIM_SIM_NODE_KIND_H_
#define QDSIM_SIM_NODE_KIND_H_

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "node/world/env.h"
#include "proto/scenario.pb.h"

namespace qdsim::sim {

class Simulation;

// One incarnation of a node's logic. Destroyed when the node crashes (all memory is lost).
class SimNode {
 public:
  virtual ~SimNode() = default;
};

// An invariant or oracle. Checkers report through Simulation::ReportViolation().
class Checker {
 public:
  virtual ~Checker() = default;
  virtual std::string_view name() const = 0;
  // After every simulator event.
  virtual void AfterEvent(Simulation& sim) {}
  // When the fault phase ends and the cluster has been healed and restarted.
  virtual void OnFaultsEnd(Simulation& sim) {}
  // At the end of the run.
  virtual void AtEnd(Simulation& sim) {}
  // Lines for the run summary (e.g. measured convergence time).
  virtual std::vector<std::string> Report() const { return {}; }
};

class NodeKind {
 public:
  virtual ~NodeKind() = default;

  // Builds an incarnation of node `id` over `env` (first boot and every restart). The node registers
  // its receiver and timers through `env`; it may read its durable state from env.disk().
  virtual std::unique_ptr<SimNode> Boot(world::PeerId id, world::Env& env) = 0;

  // Called once after every node has booted, before the run starts: schedule the workload here.
  virtual void Start(Simulation& sim) {}

  // Called just before node `id` crashes, while its incarnation still exists.
  virtual void BeforeCrash(Simulation& sim, world::PeerId id) {}

  // Called when the fault phase ends (every node up, network healed).
  virtual void OnFaultsEnd(Simulation& sim) {}

  // Resolves a role named in a scenario step (e.g. "leader") to a node, if the kind knows it.
  virtual std::optional<world::PeerId> FindRole(Simulation& sim, std::string_view role) {
    return std::nullopt;
  }

  // The checks this kind implements, and a factory for each.
  virtual std::vector<std::string> CheckNames() const = 0;
  virtual std::unique_ptr<Checker> MakeChecker(std::string_view name) = 0;
};

using NodeKindFactory =
    std::function<absl::StatusOr<std::unique_ptr<NodeKind>>(const scenario::Scenario&)>;

// Maps node_kind names to factories. Registration order does not matter (std::map).
class NodeKindRegistry {
 public:
  void Register(std::string name, NodeKindFactory factory) { kinds_[std::move(name)] = std::move(factory); }
  const NodeKindFactory* Find(std::string_view name) const {
    auto it = kinds_.find(std::string(name));
    return it == kinds_.end() ? nullptr : &it->second;
  }
  std::vector<std::string> Names() const {
    std::vector<std::string> names;
    for (const auto& [name, f] : kinds_) names.push_back(name);
    return names;
  }

 private:
  std::map<std::string, NodeKindFactory> kinds_;
};

}  // namespace qdsim::sim

#endif  // QDSIM_SIM_NODE_KIND_H_
