// qdnode's configuration, loaded the way Qdrant loads its own (SPEC.md §1): command-line flags with
// environment fallbacks, then the configuration layers, lowest first:
//   1. built-in defaults (NodeConfig's member initialisers);
//   2. config/config.yaml under the working directory, if it exists;
//   3. the --config-path file (required to exist when given);
//   4. QDRANT__SECTION__KEY environment variables.
// Then the start rules that need no network (ValidateStart), checked once the node knows whether its
// storage already holds state.
//
//   int main(int argc, char** argv) {
//     absl::StatusOr<LoadedConfig> loaded = LoadConfig(argc, argv, Environment::FromProcess(), cwd);
//     if (!loaded.ok()) { print loaded.status().message(); return 2; }
//     if (loaded->flags.help) { print Usage(); return 0; }
//     for (const std::string& w : loaded->warnings) log a warning;
//     ... open storage_path, find out whether it holds state ...
//     if (absl::Status s = ValidateStart(*loaded, has_state); !s.ok()) { print s.message(); return 1; }
//     switch (DetermineStartMode(*loaded, has_state)) { ... }
//   }
//
// The environment and the working directory are parameters, so tests never touch the real ones.
//
// Thread-safety: free functions without shared state; the results are plain values.
#ifndef QDSIM_REAL_CONFIG_LOAD_CONFIG_H_
#define QDSIM_REAL_CONFIG_LOAD_CONFIG_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "real/config/environment.h"
#include "real/config/flags.h"
#include "real/config/node_config.h"
#include "real/config/peer_uri.h"

namespace qdsim::config {

// SPEC.md §1: the exact message of a first peer started without --uri.
inline constexpr char kFirstPeerNeedsUri[] = "First peer should specify its uri.";

struct LoadedConfig {
  NodeConfig config;
  Flags flags;
  // Things the operator should see but that do not stop start-up (unknown keys, replaced values),
  // each naming where it came from. Logged by main once logging is set up.
  std::vector<std::string> warnings;
  // The files applied, lowest layer first (absolute or relative to the process, as opened).
  std::vector<std::string> files;
};

// Parses argv[1..argc) with ParseFlags() and, unless --help was given (then `config` keeps its
// defaults and nothing is read), applies the layers above. `working_dir` is where config/config.yaml
// is looked for and what a relative --config-path is resolved against ("" means the process's).
// Errors: those of ParseFlags(), ApplyYaml() and ApplyEnvironment(); NotFound naming the path if the
// --config-path file does not exist; FailedPrecondition if a file exists but cannot be read.
// REQUIRES: argv holds argc valid strings (argv[0], the program name, is skipped).
absl::StatusOr<LoadedConfig> LoadConfig(int argc, char** argv, const Environment& env,
                                        const std::string& working_dir);

// How the node starts, given whether its storage already holds consensus state.
enum class StartMode {
  kStandalone,  // cluster.enabled is false: no p2p; --uri and --bootstrap are ignored
  kRestart,     // state on disk: resume it; --bootstrap is ignored, a new --uri is announced
  kFirstPeer,   // no state, no --bootstrap (or --bootstrap == --uri): start a new cluster
  kJoin,        // no state, --bootstrap names another peer: ask it to add this one
};

StartMode DetermineStartMode(const LoadedConfig& loaded, bool has_existing_state);

// The start rules that need no network. InvalidArgument with exactly kFirstPeerNeedsUri if the node
// would start as a first peer without a URI. A joining peer may omit --uri: the bootstrap peer then
// derives its address from the connection.
absl::Status ValidateStart(const LoadedConfig& loaded, bool has_existing_state);

}  // namespace qdsim::config

#endif  // QDSIM_REAL_CONFIG_LOAD_CONFIG_H_
