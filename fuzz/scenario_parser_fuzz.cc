// Fuzzes the scenario-file path end to end: TextFormat parsing, validation, drawing the seed's world,
// and — for inputs that validate — a short simulation over the scaffold kinds (the simulator driven by
// fuzz input). Any crash, sanitizer report or hang is a bug; rejecting input with a Status is fine.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "sim/runner.h"
#include "sim/scenario.h"
#include "tests/sim/scaffold/scaffold.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace qdsim;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto parsed = sim::ParseScenario(text, "fuzz");
  if (!parsed.ok()) return 0;
  if (!sim::ValidateScenario(*parsed).ok()) return 0;
  world::Random rng(size);
  (void)sim::ResolveWorld(*parsed, rng);

  // Keep the run short: a few nodes, at most a simulated second and a half.
  scenario::Scenario s = *parsed;
  if (s.nodes() > 4 || s.duration_s() > 1 || s.liveness_s() > 0.5) return 0;
  if (s.workload().ops_per_s() > 2000) return 0;
  static const sim::NodeKindRegistry* registry = [] {
    auto* r = new sim::NodeKindRegistry();
    scaffold::RegisterScaffoldKinds(*r);
    return r;
  }();
  (void)sim::RunScenario(s, /*seed=*/size, *registry, {});
  return 0;
}
