// qdsim: the simulator's command line over the product node kinds.
#include "sim/node_kind.h"
#include "tools/qdsim/cli.h"

int main(int argc, char** argv) {
  qdsim::sim::NodeKindRegistry registry;
  // Product node kinds register here as they land (Raft, then the Qdrant cluster node).
  return qdsim::cli::Main(argc, argv, registry);
}
