// qdsim: the simulator's command line over the product node kinds.
#include "sim/node_kind.h"
#include "sim/raft_kind.h"
#include "tools/qdsim/cli.h"

int main(int argc, char** argv) {
  qdsim::sim::NodeKindRegistry registry;
  qdsim::sim::RegisterRaftKind(registry);
  return qdsim::cli::Main(argc, argv, registry);
}
