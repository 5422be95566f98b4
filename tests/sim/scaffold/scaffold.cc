#include "tests/sim/scaffold/scaffold.h"

namespace qdsim::scaffold {

void RegisterPingKind(sim::NodeKindRegistry& registry);
void RegisterSyncLogKind(sim::NodeKindRegistry& registry);

void RegisterScaffoldKinds(sim::NodeKindRegistry& registry) {
  RegisterPingKind(registry);
  RegisterSyncLogKind(registry);
}

}  // namespace qdsim::scaffold
