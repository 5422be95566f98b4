#include "tools/qdsim/cli.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <mutex>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "sim/runner.h"
#include "sim/scenario.h"

namespace qdsim::cli {
namespace {

constexpr int kExitOk = 0, kExitViolation = 1, kExitUsage = 2, kExitNondeterministic = 3;

constexpr char kUsage[] = R"(usage:
  qdsim run   --scenario FILE --seed N [--option K=V ...] [--trace] [--check-determinism]
  qdsim sweep --scenario FILE|DIR [--scenario ...] --seeds A..B [--option K=V ...] [--jobs J]
              [--check-determinism]
  qdsim planted --scenario FILE|DIR --seeds A..B [--jobs J]
  qdsim kinds

run    runs one seed and prints a summary; --trace prints every event first.
sweep  runs every seed in A..B of every scenario (a DIR means its *.textproto files), prints each
       failure on one line with the command that reproduces it, and the totals.
planted  for every planted bug this binary knows, sweeps the scenarios with it switched on and
       prints how many seeds it took to catch it, and which check caught it (exit 1 if one escapes).
--option K=V  sets a node-kind option over the scenario's own (e.g. planted_bug=ack_before_sync,
       pre_vote=false); repeatable.
--check-determinism  runs each seed twice and fails if the traces differ (sweep: seed A only).
exit status: 0 all checks held, 1 a check failed, 2 usage or scenario error, 3 not deterministic.
)";

struct Args {
  std::string command;
  std::vector<std::string> scenarios;
  std::optional<uint64_t> seed;
  uint64_t seed_lo = 0, seed_hi = 0;
  bool has_seeds = false;
  unsigned jobs = 1;
  bool trace = false;
  bool check_determinism = false;
  std::vector<std::pair<std::string, std::string>> options;  // --option K=V, in order
};

// Accepts "--flag value" and "--flag=value".
std::optional<std::string> Parse(int argc, char** argv, Args& args) {
  if (argc < 2) return "missing command";
  args.command = argv[1];
  for (int i = 2; i < argc; ++i) {
    std::string flag = argv[i], value;
    const bool has_inline = flag.find('=') != std::string::npos;
    if (has_inline) {
      value = flag.substr(flag.find('=') + 1);
      flag = flag.substr(0, flag.find('='));
    }
    auto need_value = [&]() -> std::optional<std::string> {
      if (has_inline) return std::nullopt;
      if (i + 1 >= argc) return absl::StrCat(flag, " needs a value");
      value = argv[++i];
      return std::nullopt;
    };
    if (flag == "--trace") {
      args.trace = true;
    } else if (flag == "--check-determinism") {
      args.check_determinism = true;
    } else if (flag == "--scenario") {
      if (auto e = need_value()) return e;
      args.scenarios.push_back(value);
    } else if (flag == "--option") {
      if (auto e = need_value()) return e;
      const size_t eq = value.find('=');
      if (eq == std::string::npos || eq == 0) return absl::StrCat("--option: expected KEY=VALUE, got ", value);
      args.options.emplace_back(value.substr(0, eq), value.substr(eq + 1));
    } else if (flag == "--seed") {
      if (auto e = need_value()) return e;
      uint64_t seed;
      if (!absl::SimpleAtoi(value, &seed)) return absl::StrCat("--seed: not a number: ", value);
      args.seed = seed;
    } else if (flag == "--seeds") {
      if (auto e = need_value()) return e;
      std::vector<std::string> parts = absl::StrSplit(value, "..");
      if (parts.size() != 2 || !absl::SimpleAtoi(parts[0], &args.seed_lo) ||
          !absl::SimpleAtoi(parts[1], &args.seed_hi) || args.seed_lo > args.seed_hi) {
        return absl::StrCat("--seeds: expected A..B with A <= B, got ", value);
      }
      args.has_seeds = true;
    } else if (flag == "--jobs") {
      if (auto e = need_value()) return e;
      if (!absl::SimpleAtoi(value, &args.jobs) || args.jobs == 0 || args.jobs > 256) {
        return absl::StrCat("--jobs: expected 1..256, got ", value);
      }
    } else {
      return absl::StrCat("unknown flag ", flag);
    }
  }
  return std::nullopt;
}

struct LoadedScenario {
  std::string path;
  scenario::Scenario proto;
};

absl::StatusOr<LoadedScenario> Load(const std::string& path, const Args& args) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat(path, ": cannot open"));
  std::stringstream buffer;
  buffer << in.rdbuf();
  absl::StatusOr<scenario::Scenario> parsed = sim::ParseScenario(buffer.str(), path);
  if (!parsed.ok()) return parsed.status();
  for (const auto& [key, value] : args.options) (*parsed->mutable_options())[key] = value;
  if (absl::Status s = sim::ValidateScenario(*parsed); !s.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": ", s.message()));
  }
  return LoadedScenario{path, *std::move(parsed)};
}

// Expands directories into their *.textproto files, sorted.
std::vector<std::string> Expand(const std::vector<std::string>& paths) {
  std::vector<std::string> files;
  for (const std::string& p : paths) {
    std::error_code ec;
    if (!std::filesystem::is_directory(p, ec)) {
      files.push_back(p);
      continue;
    }
    std::vector<std::string> found;
    for (const auto& entry : std::filesystem::directory_iterator(p, ec)) {
      if (entry.path().extension() == ".textproto") found.push_back(entry.path().string());
    }
    std::sort(found.begin(), found.end());
    files.insert(files.end(), found.begin(), found.end());
  }
  return files;
}

std::string OptionFlags(const Args& args) {
  std::string flags;
  for (const auto& [key, value] : args.options) absl::StrAppend(&flags, " --option ", key, "=", value);
  return flags;
}

std::string Reproduce(const char* argv0, const Args& args, const std::string& path, uint64_t seed) {
  return absl::StrCat(argv0, " run --scenario ", path, " --seed ", seed, OptionFlags(args), " --trace");
}

double WallSeconds(std::chrono::steady_clock::time_point since) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - since).count();
}

void PrintSummary(const LoadedScenario& sc, const sim::RunResult& r, double wall) {
  const auto& n = r.network;
  const auto& d = r.disk;
  std::cout << absl::StrFormat("scenario   %s (%s)\n", sc.proto.name(), sc.path)
            << absl::StrFormat("seed       %d\n", r.seed)
            << absl::StrFormat("simulated  %.3f s   wall %.3f s   (%.1fx real time)\n",
                               r.simulated_seconds, wall, wall > 0 ? r.simulated_seconds / wall : 0)
            << absl::StrFormat("events     %d   trace lines %d   trace hash %016x\n", r.events,
                               r.trace_lines, r.trace_hash)
            << absl::StrFormat(
                   "messages   sent %d  delivered %d  dropped %d (loss %d, partition %d)  "
                   "duplicated %d  reordered %d  held by clogs %d\n",
                   n.sent, n.delivered, n.dropped_loss + n.dropped_partition, n.dropped_loss,
                   n.dropped_partition, n.duplicated, n.reordered, n.clogged)
            << absl::StrFormat(
                   "disk       writes %d (%d bytes)  syncs %d  reads %d  read errors %d  bit flips %d"
                   "  ENOSPC %d  torn writes %d  crashes %d\n",
                   d.writes, d.bytes_written, d.syncs, d.reads, d.read_errors, d.bit_flips, d.enospc,
                   d.torn_writes, d.crashes)
            << absl::StrFormat("faults     %d\n", r.faults);
  std::vector<std::string> checks;
  for (const auto& c : r.checks) checks.push_back(absl::StrCat(c.name, c.passed ? " ok" : " VIOLATED"));
  std::cout << "checks     " << (checks.empty() ? "(none)" : absl::StrJoin(checks, ", ")) << "\n";
  for (const std::string& line : r.report) std::cout << "report     " << line << "\n";
}

void PrintViolations(const sim::RunResult& r) {
  for (const auto& v : r.violations) {
    std::cout << absl::StrFormat("VIOLATION  %s at %.6f s: %s\n", v.check, world::ToSeconds(v.at),
                                 v.detail);
  }
}

int ReportDeterminism(const char* argv0, const Args& args, const LoadedScenario& sc, uint64_t seed,
                      const sim::NodeKindRegistry& registry) {
  absl::StatusOr<sim::DeterminismReport> d = sim::CheckDeterminism(sc.proto, seed, registry);
  if (!d.ok()) {
    std::cerr << "qdsim: " << d.status().message() << "\n";
    return kExitUsage;
  }
  if (d->deterministic) {
    std::cout << absl::StrFormat("determinism ok: %s seed %d ran twice, trace hash %016x\n", sc.path,
                                 seed, d->first_hash);
    return kExitOk;
  }
  std::cout << absl::StrFormat(
      "NONDETERMINISTIC %s seed %d: hashes %016x vs %016x; first difference at trace line %d:\n"
      "  run 1: %s\n  run 2: %s\nreproduce: %s run --scenario %s --seed %d%s --check-determinism\n",
      sc.path, seed, d->first_hash, d->second_hash, d->first_difference, d->first_line,
      d->second_line, argv0, sc.path, seed, OptionFlags(args));
  return kExitNondeterministic;
}

int Run(const char* argv0, const Args& args, const sim::NodeKindRegistry& registry) {
  if (args.scenarios.size() != 1 || !args.seed) {
    std::cerr << "qdsim run: needs exactly one --scenario and a --seed\n" << kUsage;
    return kExitUsage;
  }
  absl::StatusOr<LoadedScenario> sc = Load(args.scenarios[0], args);
  if (!sc.ok()) {
    std::cerr << "qdsim: " << sc.status().message() << "\n";
    return kExitUsage;
  }
  if (args.check_determinism) return ReportDeterminism(argv0, args, *sc, *args.seed, registry);
  sim::RunOptions options;
  if (args.trace) options.trace_sink = [](std::string_view line) { std::cout << line << "\n"; };
  const auto start = std::chrono::steady_clock::now();
  absl::StatusOr<sim::RunResult> r = sim::RunScenario(sc->proto, *args.seed, registry, options);
  if (!r.ok()) {
    std::cerr << "qdsim: " << sc->path << ": " << r.status().message() << "\n";
    return kExitUsage;
  }
  PrintSummary(*sc, *r, WallSeconds(start));
  PrintViolations(*r);
  if (r->ok()) {
    std::cout << "result     PASS\n";
    return kExitOk;
  }
  std::cout << "result     FAIL\nreproduce  " << Reproduce(argv0, args, sc->path, *args.seed) << "\n";
  return kExitViolation;
}

// Runs seeds [lo, hi] of one scenario on `jobs` threads; each run is independent and
// single-threaded, so the verdicts do not depend on the number of threads.
std::vector<absl::StatusOr<sim::RunResult>> RunSeeds(const LoadedScenario& sc, uint64_t lo,
                                                     uint64_t hi, unsigned jobs,
                                                     const sim::NodeKindRegistry& registry) {
  const uint64_t count = hi - lo + 1;
  std::vector<absl::StatusOr<sim::RunResult>> results(count, absl::UnknownError("not run"));
  std::atomic<uint64_t> next{0};
  auto worker = [&] {
    for (uint64_t i = next++; i < count; i = next++) {
      results[i] = sim::RunScenario(sc.proto, lo + i, registry, {});
    }
  };
  std::vector<std::thread> threads;
  for (unsigned j = 1; j < std::min<uint64_t>(jobs, count); ++j) threads.emplace_back(worker);
  worker();
  for (auto& t : threads) t.join();
  return results;
}

int Sweep(const char* argv0, const Args& args, const sim::NodeKindRegistry& registry) {
  if (args.scenarios.empty() || !args.has_seeds) {
    std::cerr << "qdsim sweep: needs --scenario and --seeds A..B\n" << kUsage;
    return kExitUsage;
  }
  const std::vector<std::string> files = Expand(args.scenarios);
  if (files.empty()) {
    std::cout << "qdsim sweep: no scenario files in " << absl::StrJoin(args.scenarios, " ") << "\n";
    return kExitOk;
  }
  int status = kExitOk;
  uint64_t runs = 0, failures = 0;
  const auto start = std::chrono::steady_clock::now();
  for (const std::string& file : files) {
    absl::StatusOr<LoadedScenario> sc = Load(file, args);
    if (!sc.ok()) {
      std::cout << "ERROR " << sc.status().message() << "\n";
      status = std::max(status, kExitUsage);
      continue;
    }
    if (args.check_determinism) {
      status = std::max(status, ReportDeterminism(argv0, args, *sc, args.seed_lo, registry));
    }
    const auto file_start = std::chrono::steady_clock::now();
    auto results = RunSeeds(*sc, args.seed_lo, args.seed_hi, args.jobs, registry);
    uint64_t file_failures = 0;
    double simulated = 0;
    std::optional<uint64_t> first_failure;
    for (const auto& r : results) {
      ++runs;
      if (!r.ok()) {
        std::cout << "ERROR " << file << ": " << r.status().message() << "\n";
        status = std::max(status, kExitUsage);
        break;
      }
      simulated += r->simulated_seconds;
      if (r->ok()) continue;
      ++file_failures;
      if (!first_failure) first_failure = r->seed;
      const auto& v = r->violations.front();
      std::cout << absl::StrFormat("FAIL %s seed=%d %s at %.3fs: %s | reproduce: %s\n", file, r->seed,
                                   v.check, world::ToSeconds(v.at), v.detail,
                                   Reproduce(argv0, args, file, r->seed));
    }
    failures += file_failures;
    if (file_failures > 0) status = std::max(status, kExitViolation);
    std::cout << absl::StrFormat(
        "%-48s seeds %d..%d  failed %d/%d%s  simulated %.0f s in %.1f s wall\n", file, args.seed_lo,
        args.seed_hi, file_failures, results.size(),
        first_failure ? absl::StrCat("  (first failure: seed ", *first_failure, ", after ",
                                     *first_failure - args.seed_lo + 1, " seeds)")
                      : std::string(),
        simulated, WallSeconds(file_start));
  }
  std::cout << absl::StrFormat("total: %d runs of %d scenario files, %d failed, %.1f s wall\n", runs,
                               files.size(), failures, WallSeconds(start));
  return status;
}

// For each planted bug: the first (scenario, seed) whose run is violated, seeds in order.
int Planted(const char* argv0, const Args& args, const sim::NodeKindRegistry& registry,
            const std::vector<std::string>& bugs) {
  if (args.scenarios.empty() || !args.has_seeds || bugs.empty()) {
    std::cerr << "qdsim planted: needs --scenario and --seeds A..B (and a binary with planted bugs)\n";
    return kExitUsage;
  }
  const std::vector<std::string> files = Expand(args.scenarios);
  int status = kExitOk;
  for (const std::string& bug : bugs) {
    Args with_bug = args;
    with_bug.options.emplace_back("planted_bug", bug);
    std::optional<std::string> caught;
    uint64_t seeds_run = 0;
    for (const std::string& file : files) {
      absl::StatusOr<LoadedScenario> sc = Load(file, with_bug);
      if (!sc.ok()) continue;
      for (uint64_t lo = args.seed_lo; lo <= args.seed_hi && !caught; lo += args.jobs) {
        const uint64_t hi = std::min(args.seed_hi, lo + args.jobs - 1);
        for (const auto& r : RunSeeds(*sc, lo, hi, args.jobs, registry)) {
          ++seeds_run;
          if (!r.ok() || r->ok() || caught) continue;
          caught = absl::StrFormat("%-28s caught after %4d runs, by %s seed %d: %s", bug, seeds_run,
                                   file, r->seed, r->violations.front().check);
        }
      }
      if (caught) break;
    }
    if (caught) {
      std::cout << *caught << "\n";
    } else {
      std::cout << absl::StrFormat("%-28s NOT CAUGHT in %d runs\n", bug, seeds_run);
      status = kExitViolation;
    }
  }
  return status;
}

}  // namespace

int Main(int argc, char** argv, const sim::NodeKindRegistry& registry, const Extras& extras) {
  Args args;
  if (auto error = Parse(argc, argv, args)) {
    if (argc >= 2 && (std::string(argv[1]) == "help" || std::string(argv[1]) == "--help")) {
      std::cout << kUsage;
      return kExitOk;
    }
    std::cerr << "qdsim: " << *error << "\n" << kUsage;
    return kExitUsage;
  }
  if (args.command == "run") return Run(argv[0], args, registry);
  if (args.command == "sweep") return Sweep(argv[0], args, registry);
  if (args.command == "planted") return Planted(argv[0], args, registry, extras.planted_bugs);
  if (args.command == "kinds") {
    for (const std::string& name : registry.Names()) std::cout << name << "\n";
    return kExitOk;
  }
  if (args.command == "help" || args.command == "--help") {
    std::cout << kUsage;
    return kExitOk;
  }
  std::cerr << "qdsim: unknown command " << args.command << "\n" << kUsage;
  return kExitUsage;
}

}  // namespace qdsim::cli
