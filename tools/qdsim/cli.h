// The qdsim command line: run, sweep, and the determinism check over scenario files.
//
//   qdsim run   --scenario FILE --seed N [--trace] [--check-determinism]
//   qdsim sweep --scenario FILE|DIR [--scenario ...] --seeds A..B [--jobs J] [--check-determinism]
//   qdsim planted --scenario FILE|DIR --seeds A..B [--jobs J]
//   qdsim kinds
//
// Exit status: 0 every check held; 1 a check was violated; 2 bad usage or an invalid scenario;
// 3 a run was not deterministic. Every failure prints the exact command that reproduces it.
#ifndef QDSIM_TOOLS_QDSIM_CLI_H_
#define QDSIM_TOOLS_QDSIM_CLI_H_

#include <string>
#include <vector>

#include "sim/node_kind.h"

namespace qdsim::cli {

struct Extras {
  // Values of the `planted_bug` option that `qdsim planted` tries, one at a time.
  std::vector<std::string> planted_bugs;
};

// Runs the command line with the node kinds this binary provides.
int Main(int argc, char** argv, const sim::NodeKindRegistry& registry, const Extras& extras = {});

}  // namespace qdsim::cli

#endif  // QDSIM_TOOLS_QDSIM_CLI_H_
