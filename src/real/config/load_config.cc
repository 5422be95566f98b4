#include "real/config/load_config.h"

#include <algorithm>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace qdsim::config {
namespace {

constexpr char kDefaultConfigFile[] = "config/config.yaml";

std::string Resolve(const std::string& working_dir, const std::string& path) {
  if (working_dir.empty() || absl::StartsWith(path, "/")) return path;
  if (absl::EndsWith(working_dir, "/")) return absl::StrCat(working_dir, path);
  return absl::StrCat(working_dir, "/", path);
}

}  // namespace

absl::StatusOr<LoadedConfig> LoadConfig(int argc, char** argv, const Environment& env,
                                        const std::string& working_dir) {
  LoadedConfig loaded;
  const std::vector<std::string> args(argv + (argc > 0 ? 1 : 0), argv + std::max(argc, 0));
  absl::StatusOr<Flags> flags = ParseFlags(args, env);
  if (!flags.ok()) return flags.status();
  loaded.flags = *std::move(flags);
  if (loaded.flags.help) return loaded;

  const std::string default_file = Resolve(working_dir, kDefaultConfigFile);
  absl::Status s = ApplyYamlFile(default_file, &loaded.config, &loaded.warnings);
  if (s.ok()) {
    loaded.files.push_back(default_file);
  } else if (!absl::IsNotFound(s)) {
    return s;
  }
  if (loaded.flags.config_path) {
    const std::string path = Resolve(working_dir, *loaded.flags.config_path);
    s = ApplyYamlFile(path, &loaded.config, &loaded.warnings);
    if (absl::IsNotFound(s)) return absl::NotFoundError(absl::StrCat("--config-path: ", s.message()));
    if (!s.ok()) return s;
    loaded.files.push_back(path);
  }
  if (s = ApplyEnvironment(env, &loaded.config, &loaded.warnings); !s.ok()) return s;
  return loaded;
}

StartMode DetermineStartMode(const LoadedConfig& loaded, bool has_existing_state) {
  if (!loaded.config.cluster.enabled) return StartMode::kStandalone;
  if (has_existing_state) return StartMode::kRestart;
  const Flags& flags = loaded.flags;
  if (!flags.bootstrap || (flags.uri && *flags.bootstrap == *flags.uri)) return StartMode::kFirstPeer;
  return StartMode::kJoin;
}

absl::Status ValidateStart(const LoadedConfig& loaded, bool has_existing_state) {
  if (DetermineStartMode(loaded, has_existing_state) == StartMode::kFirstPeer && !loaded.flags.uri) {
    return absl::InvalidArgumentError(kFirstPeerNeedsUri);
  }
  return absl::OkStatus();
}

}  // namespace qdsim::config
