// qdsim_scaffold: the qdsim command line over the simulator's test-only scaffold node kinds.
#include "tests/sim/scaffold/scaffold.h"
#include "tools/qdsim/cli.h"

int main(int argc, char** argv) {
  qdsim::sim::NodeKindRegistry registry;
  qdsim::scaffold::RegisterScaffoldKinds(registry);
  return qdsim::cli::Main(argc, argv, registry);
}
