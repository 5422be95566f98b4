// Test-only node kinds that exercise the simulator before the real node logic exists.
//
//   "ping"    — every node pings its peers round-robin; checks: no_phantom_messages, liveness.
//   "synclog" — every node appends checksummed records to one file and acknowledges each after its
//               sync; after every crash it recovers the log; checks: no_acked_loss, liveness.
//
// These are scaffolding for the simulator's own tests, not product: scenarios/ holds only scenarios
// of the real node logic; the scaffold's scenarios live in tests/sim/scenarios/.
#ifndef QDSIM_TESTS_SIM_SCAFFOLD_SCAFFOLD_H_
#define QDSIM_TESTS_SIM_SCAFFOLD_SCAFFOLD_H_

#include "sim/node_kind.h"

namespace qdsim::scaffold {

void RegisterScaffoldKinds(sim::NodeKindRegistry& registry);

}  // namespace qdsim::scaffold

#endif  // QDSIM_TESTS_SIM_SCAFFOLD_SCAFFOLD_H_
