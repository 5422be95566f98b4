#include "sim/runner.h"

#include <algorithm>
#include <memory>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "node/world/status_macros.h"
#include "sim/nemesis.h"
#include "sim/scenario.h"

namespace qdsim::sim {
namespace {

absl::StatusOr<std::vector<std::unique_ptr<Checker>>> MakeCheckers(const scenario::Scenario& s,
                                                                   NodeKind& kind) {
  const std::vector<std::string> known = kind.CheckNames();
  std::vector<std::unique_ptr<Checker>> checkers;
  for (const std::string& name : s.checks()) {
    if (std::find(known.begin(), known.end(), name) == known.end()) {
      return absl::InvalidArgumentError(absl::StrCat("node kind '", s.node_kind(), "' has no check '",
                                                     name, "' (it has: ", absl::StrJoin(known, ", "), ")"));
    }
    checkers.push_back(kind.MakeChecker(name));
  }
  for (const std::string& name : s.expect_violations()) {
    if (std::find(s.checks().begin(), s.checks().end(), name) == s.checks().end()) {
      return absl::InvalidArgumentError(absl::StrCat("expect_violations names '", name, "', which is not in checks"));
    }
  }
  return checkers;
}

void SumDisk(SimDisk::Stats& total, const SimDisk::Stats& s) {
  total.writes += s.writes;
  total.bytes_written += s.bytes_written;
  total.syncs += s.syncs;
  total.reads += s.reads;
  total.read_errors += s.read_errors;
  total.bit_flips += s.bit_flips;
  total.enospc += s.enospc;
  total.torn_writes += s.torn_writes;
  total.crashes += s.crashes;
}

}  // namespace

absl::StatusOr<RunResult> RunScenario(const scenario::Scenario& scenario, uint64_t seed,
                                      const NodeKindRegistry& registry, const RunOptions& options) {
  RETURN_IF_ERROR(ValidateScenario(scenario));
  const NodeKindFactory* factory = registry.Find(scenario.node_kind());
  if (factory == nullptr) {
    return absl::NotFoundError(absl::StrCat("unknown node_kind '", scenario.node_kind(),
                                            "' (this binary has: ",
                                            absl::StrJoin(registry.Names(), ", "), ")"));
  }
  ASSIGN_OR_RETURN(std::unique_ptr<NodeKind> kind, (*factory)(scenario));
  ASSIGN_OR_RETURN(std::vector<std::unique_ptr<Checker>> checkers, MakeCheckers(scenario, *kind));

  world::Random rng(seed);
  world::Random params_rng = rng.Fork("params");
  world::Random nemesis_rng = rng.Fork("nemesis");
  ResolvedWorld resolved = ResolveWorld(scenario, params_rng);

  RunResult result;
  result.seed = seed;
  result.world = resolved.description;
  Simulation sim(std::move(resolved.config), rng.Next(), *kind);
  if (options.trace_sink) sim.trace().set_sink(options.trace_sink);
  sim.trace().set_keep_lines(options.keep_trace_lines);
  sim.trace().Record(sim.now(), 0, "start", absl::StrCat("scenario=", scenario.name(), " seed=", seed));

  for (PeerId id = 1; id <= sim.nodes(); ++id) sim.Boot(id);
  kind->Start(sim);
  Nemesis nemesis(sim, scenario, nemesis_rng);
  nemesis.Start();

  const world::Instant faults_end(world::SecondsF(scenario.duration_s()));
  const world::Instant end = faults_end + world::SecondsF(scenario.liveness_s());
  sim.scheduler().At(faults_end, [&] {
    nemesis.EndFaults();
    kind->OnFaultsEnd(sim);
    for (auto& c : checkers) c->OnFaultsEnd(sim);
  });

  while (sim.violations().empty() && sim.scheduler().pending() > 0 &&
         sim.scheduler().NextTime() <= end) {
    sim.scheduler().Step();
    for (auto& c : checkers) c->AfterEvent(sim);
  }
  if (sim.violations().empty()) {
    for (auto& c : checkers) c->AtEnd(sim);
  }
  sim.trace().Record(sim.now(), 0, "end", absl::StrCat("violations=", sim.violations().size()));

  result.violations = sim.violations();
  result.expected.assign(scenario.expect_violations().begin(), scenario.expect_violations().end());
  for (auto& c : checkers) {
    CheckOutcome outcome{std::string(c->name()), true};
    for (const Violation& v : result.violations) outcome.passed &= v.check != outcome.name;
    result.checks.push_back(outcome);
    for (std::string& line : c->Report()) result.report.push_back(std::move(line));
  }
  result.trace_hash = sim.trace().hash();
  result.trace_lines = sim.trace().line_count();
  if (options.keep_trace_lines) result.trace = sim.trace().lines();
  result.events = sim.scheduler().events_run();
  result.simulated_seconds = world::ToSeconds(sim.now());
  result.faults = sim.faults();
  result.network = sim.network().stats();
  for (PeerId id = 1; id <= sim.nodes(); ++id) SumDisk(result.disk, sim.disk(id).stats());
  return result;
}

absl::StatusOr<DeterminismReport> CheckDeterminism(const scenario::Scenario& scenario, uint64_t seed,
                                                   const NodeKindRegistry& registry) {
  RunOptions options;
  options.keep_trace_lines = true;
  ASSIGN_OR_RETURN(RunResult first, RunScenario(scenario, seed, registry, options));
  ASSIGN_OR_RETURN(RunResult second, RunScenario(scenario, seed, registry, options));
  DeterminismReport report;
  report.first_hash = first.trace_hash;
  report.second_hash = second.trace_hash;
  report.deterministic = first.trace_hash == second.trace_hash && first.trace == second.trace;
  if (report.deterministic) return report;
  const size_t common = std::min(first.trace.size(), second.trace.size());
  size_t i = 0;
  while (i < common && first.trace[i] == second.trace[i]) ++i;
  report.first_difference = i + 1;
  report.first_line = i < first.trace.size() ? first.trace[i] : "<end of trace>";
  report.second_line = i < second.trace.size() ? second.trace[i] : "<end of trace>";
  return report;
}

}  // namespace qdsim::sim
