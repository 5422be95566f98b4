// qdsim: the simulator's command line over the product node kinds.
#include <string>
#include <vector>

#include "node/raft/planted_bugs.h"
#include "node/shard/cluster_bugs.h"
#include "sim/node_kind.h"
#include "sim/qdrant_kind.h"
#include "sim/raft_kind.h"
#include "tools/qdsim/cli.h"

int main(int argc, char** argv) {
  qdsim::sim::NodeKindRegistry registry;
  qdsim::sim::RegisterRaftKind(registry);
  qdsim::sim::RegisterQdrantKind(registry);
  qdsim::cli::Extras extras;
  for (size_t i = 0; i < static_cast<size_t>(qdsim::raft::PlantedBug::kCount); ++i) {
    extras.planted_bugs.emplace_back(qdsim::raft::PlantedBugName(static_cast<qdsim::raft::PlantedBug>(i)));
  }
  for (size_t i = 0; i < static_cast<size_t>(qdsim::shard::ClusterBug::kCount); ++i) {
    extras.planted_bugs.emplace_back(qdsim::shard::PlantedBugName(static_cast<qdsim::shard::ClusterBug>(i)));
  }
  return qdsim::cli::Main(argc, argv, registry, extras);
}
