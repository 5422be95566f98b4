#include "real/config/flags.h"

#include <algorithm>
#include <set>
#include <string_view>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "real/config/internal/config_keys.h"

namespace qdsim::config {
namespace {

absl::Status FlagError(std::string_view message) {
  return absl::InvalidArgumentError(absl::StrCat(std::string(message), " (see qdnode --help)"));
}

// The raw text of the flags that take a value, before URI parsing and environment fallbacks.
struct RawFlags {
  std::optional<std::string> uri;
  std::optional<std::string> bootstrap;
  std::optional<std::string> config_path;
};

std::optional<std::string>* ValueSlot(RawFlags& raw, std::string_view name) {
  if (name == "uri") return &raw.uri;
  if (name == "bootstrap") return &raw.bootstrap;
  if (name == "config-path") return &raw.config_path;
  return nullptr;
}

// The URI from the flag, else from the environment variable; nullopt if neither is given.
absl::StatusOr<std::optional<PeerUri>> ResolveUri(const std::optional<std::string>& flag,
                                                  const char* flag_name, const Environment& env,
                                                  const char* env_name) {
  std::string text;
  std::string source;
  if (flag) {
    text = *flag;
    source = flag_name;
  } else if (std::optional<std::string> from_env = env.Get(env_name); from_env && !from_env->empty()) {
    text = *from_env;
    source = absl::StrCat("environment variable ", env_name);
  } else {
    return std::optional<PeerUri>();
  }
  absl::StatusOr<PeerUri> uri = ParsePeerUri(text);
  if (!uri.ok()) return absl::InvalidArgumentError(absl::StrCat(source, ": ", uri.status().message()));
  return std::optional<PeerUri>(*uri);
}

}  // namespace

absl::StatusOr<Flags> ParseFlags(const std::vector<std::string>& args, const Environment& env) {
  Flags flags;
  RawFlags raw;
  std::set<std::string> seen;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    if (arg == "-h" || arg == "--help") {
      flags.help = true;
      return flags;
    }
    if (!absl::StartsWith(arg, "--") || arg == "--") {
      return FlagError(absl::StrCat("unexpected argument \"", arg, "\": qdnode takes only flags"));
    }
    const size_t eq = arg.find('=');
    const std::string name = arg.substr(2, eq == std::string::npos ? std::string::npos : eq - 2);
    const std::string flag = absl::StrCat("--", name);
    if (!seen.insert(name).second) return FlagError(absl::StrCat(flag, " is given more than once"));
    if (name == "reinit") {
      if (eq != std::string::npos) return FlagError("--reinit takes no value");
      flags.reinit = true;
      continue;
    }
    std::optional<std::string>* slot = ValueSlot(raw, name);
    if (slot == nullptr) return FlagError(absl::StrCat("unknown flag \"", flag, "\""));
    if (eq != std::string::npos) {
      *slot = arg.substr(eq + 1);
    } else if (i + 1 < args.size() && !absl::StartsWith(args[i + 1], "--")) {
      *slot = args[++i];
    }
    if (!*slot || (*slot)->empty()) return FlagError(absl::StrCat(flag, " requires a value"));
  }

  absl::StatusOr<std::optional<PeerUri>> uri = ResolveUri(raw.uri, "--uri", env, "QDRANT_URI");
  if (!uri.ok()) return uri.status();
  absl::StatusOr<std::optional<PeerUri>> bootstrap =
      ResolveUri(raw.bootstrap, "--bootstrap", env, "QDRANT_BOOTSTRAP");
  if (!bootstrap.ok()) return bootstrap.status();
  flags.uri = *uri;
  flags.bootstrap = *bootstrap;
  flags.config_path = raw.config_path;
  return flags;
}

std::string Usage() {
  std::string text = R"(Usage: qdnode [FLAGS]

A node of a distributed vector database with Qdrant's cluster semantics: the REST API on
service.http_port, the peer-to-peer protocol on cluster.p2p.port.

Flags (each as "--flag value" or "--flag=value"):
  --uri URI           This peer's p2p address as other peers reach it, e.g. http://10.0.0.1:6335
                      (port 6335 if omitted). Required for the first peer of a new cluster.
                      [env: QDRANT_URI]
  --bootstrap URI     The p2p address of any peer of an existing cluster: join it. If equal to
                      --uri, start a new cluster instead. Ignored once the peer has state.
                      [env: QDRANT_BOOTSTRAP]
  --config-path FILE  A YAML config file layered over config/config.yaml.
  --reinit            Reset consensus to a single-voter cluster of this peer, keeping the peer id
                      and the data (disaster recovery).
  -h, --help          Print this help and exit.

Configuration, each layer overriding the ones before it:
  1. built-in defaults (below)
  2. config/config.yaml in the working directory, if present
  3. the --config-path file
  4. environment variables QDRANT__SECTION__KEY: "__" separates the parts of a key and names are
     case-insensitive, e.g. QDRANT__CLUSTER__ENABLED=true, QDRANT__SERVICE__HTTP_PORT=7000,
     QDRANT__CLUSTER__P2P__PORT=7001, QDRANT__LOG_LEVEL=debug
Unknown keys are ignored with a warning; a malformed value stops start-up. Other keys of Qdrant's
config.yaml (storage.optimizers, service.grpc_port, ...) are accepted and have no effect.

Settings and defaults:
)";
  size_t width = 0;
  for (const internal::SettingSpec& spec : internal::AllSettings()) {
    width = std::max(width, std::string_view(spec.key).size());
  }
  for (const internal::SettingSpec& spec : internal::AllSettings()) {
    const std::string_view key(spec.key);
    absl::StrAppend(&text, "  ", spec.key, std::string(width + 2 - key.size(), ' '), spec.default_text, "\n");
  }
  return text;
}

}  // namespace qdsim::config
