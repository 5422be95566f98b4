// The qdsim command line: run, sweep, and the determinism check over scenario files.
//
//   qdsim run   --scenario FILE --seed N [--trace] [--check-determinism]
//   qdsim sweep --scenario FILE|DIR [--scenario ...] --seeds A..B [--jobs J] [--check-determinism]
//   qdsim kinds
//
// Exit status: 0 every check held; 1 a check was violated; 2 bad usage or an invalid scenario;
// 3 a run was not deterministic. Every failure prints the exact command that reproduces it.
#ifndef QDSIM_TOOLS_QDSIM_CLI_H_
#define QDSIM_TOOLS_QDSIM_CLI_H_

#include "sim/node_kind.h"

namespace qdsim::cli {

// Runs the command line with the node kinds this binary provides.
int Main(int argc, char** argv, const sim::NodeKindRegistry& registry);

}  // namespace qdsim::cli

#endif  // QDSIM_TOOLS_QDSIM_CLI_H_
