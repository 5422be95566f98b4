// Scenario files: parsing (Protobuf TextFormat), validation, and drawing a seed's world parameters.
//
//   ASSIGN_OR_RETURN(scenario::Scenario s, ParseScenario(text, "scenarios/x.textproto"));
//   RETURN_IF_ERROR(ValidateScenario(s));
//   world::Random rng(seed);
//   ResolvedWorld w = ResolveWorld(s, rng);   // per-link and per-node parameters for this seed
#ifndef QDSIM_SIM_SCENARIO_H_
#define QDSIM_SIM_SCENARIO_H_

#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "node/world/random.h"
#include "proto/scenario.pb.h"
#include "sim/simulation.h"

namespace qdsim::sim {

// Parses text-format Protobuf. Errors name `origin` with line and column.
absl::StatusOr<scenario::Scenario> ParseScenario(std::string_view text, std::string_view origin);

// Checks what the schema cannot: sizes, probabilities, ranges, node ids, step times.
absl::Status ValidateScenario(const scenario::Scenario& s);

// A value of a Range for this seed: min if max <= min, else uniform in [min, max]. Always draws
// exactly one output, so changing a range never shifts the draws after it.
double Draw(const scenario::Range& range, world::Random& rng);

// One seed's world: link and node parameters, and a human-readable account of the swarm draws.
struct ResolvedWorld {
  Simulation::Config config;
  std::vector<std::string> description;
};
ResolvedWorld ResolveWorld(const scenario::Scenario& s, world::Random& rng);

}  // namespace qdsim::sim

#endif  // QDSIM_SIM_SCENARIO_H_
