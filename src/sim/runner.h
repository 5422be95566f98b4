// The scenario runner: one (scenario, seed) in, one verdict out.
//
// A run boots every node at time 0, starts the workload and the nemesis, runs the fault phase for
// duration_s, then ends the faults (heal, restart, resume) and runs the liveness phase for liveness_s.
// Every checker the scenario names runs after every event; the first violation ends the run.
//
//   ASSIGN_OR_RETURN(RunResult r, RunScenario(scenario, /*seed=*/7, registry, {}));
//   if (!r.ok()) std::cout << r.violations[0].detail;
//
// Determinism: RunScenario is a pure function of (scenario, seed, build). CheckDeterminism runs a seed
// twice and reports the first trace line where the runs differ.
#ifndef QDSIM_SIM_RUNNER_H_
#define QDSIM_SIM_RUNNER_H_

#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "proto/scenario.pb.h"
#include "sim/network.h"
#include "sim/node_kind.h"
#include "sim/sim_disk.h"
#include "sim/simulation.h"
#include "sim/trace.h"

namespace qdsim::sim {

struct RunOptions {
  Trace::Sink trace_sink;         // streams every trace line (qdsim run --trace)
  bool keep_trace_lines = false;  // keeps them in RunResult::trace_lines
};

struct CheckOutcome {
  std::string name;
  bool passed = true;
};

struct RunResult {
  uint64_t seed = 0;
  std::vector<Violation> violations;   // empty: every check held
  std::vector<CheckOutcome> checks;
  std::vector<std::string> report;     // checkers' measurements (e.g. convergence time)
  std::vector<std::string> world;      // this seed's drawn parameters
  uint64_t trace_hash = 0;
  uint64_t trace_lines = 0;
  std::vector<std::string> trace;      // only with keep_trace_lines
  uint64_t events = 0;
  double simulated_seconds = 0;
  uint64_t faults = 0;
  SimNetwork::Stats network;
  SimDisk::Stats disk;                 // summed over nodes

  std::vector<std::string> expected;   // the scenario's expect_violations

  // Every check held — or, for a scenario that expects violations, one of those (and nothing
  // else) was reported.
  bool ok() const {
    if (expected.empty()) return violations.empty();
    if (violations.empty()) return false;
    for (const Violation& v : violations) {
      if (std::find(expected.begin(), expected.end(), v.check) == expected.end()) return false;
    }
    return true;
  }
};

// Runs one seed. Fails (without running) if the scenario is invalid, its node kind unknown, or a
// check is not one the kind provides.
absl::StatusOr<RunResult> RunScenario(const scenario::Scenario& scenario, uint64_t seed,
                                      const NodeKindRegistry& registry, const RunOptions& options);

struct DeterminismReport {
  bool deterministic = true;
  uint64_t first_hash = 0, second_hash = 0;
  uint64_t first_difference = 0;       // 1-based trace line number, when not deterministic
  std::string first_line, second_line; // the differing lines ("<end of trace>" if one run is shorter)
};

absl::StatusOr<DeterminismReport> CheckDeterminism(const scenario::Scenario& scenario, uint64_t seed,
                                                   const NodeKindRegistry& registry);

}  // namespace qdsim::sim

#endif  // QDSIM_SIM_RUNNER_H_
