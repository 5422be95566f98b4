// Flags: qdnode's command line (SPEC.md §1), with the QDRANT_URI / QDRANT_BOOTSTRAP environment
// fallbacks, and the --help text.
//
//   absl::StatusOr<Flags> flags =
//       ParseFlags({"--uri", "http://10.0.0.1:6335", "--config-path=/etc/qdnode.yaml"}, env);
//   // flags->uri->ToString() == "http://10.0.0.1:6335/", *flags->config_path == "/etc/qdnode.yaml"
//
// Every flag with a value takes it as "--flag value" or "--flag=value". InvalidArgument, naming the
// flag, for: an unknown flag, a positional argument, a missing or empty value, a value given to
// --reinit, a flag given twice, or a URI that ParsePeerUri() rejects (from a flag or the environment).
// "-h" or "--help" anywhere before an error stops parsing and sets `help`.
//
// Thread-safety: free functions without shared state.
#ifndef QDSIM_REAL_CONFIG_FLAGS_H_
#define QDSIM_REAL_CONFIG_FLAGS_H_

#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "real/config/environment.h"
#include "real/config/peer_uri.h"

namespace qdsim::config {

struct Flags {
  // This peer's p2p address as others reach it: --uri, else QDRANT_URI (an empty variable is unset).
  std::optional<PeerUri> uri;
  // Any existing peer's p2p address, meaning "join": --bootstrap, else QDRANT_BOOTSTRAP.
  std::optional<PeerUri> bootstrap;
  // --config-path exactly as given (LoadConfig resolves a relative one against the working directory).
  std::optional<std::string> config_path;
  // --reinit: reset consensus to a single-voter cluster of this peer, keeping its id and data.
  bool reinit = false;
  // -h / --help: print Usage() and exit 0 without loading anything.
  bool help = false;
};

// Parses the arguments after the program name. `env` supplies the URI fallbacks only.
absl::StatusOr<Flags> ParseFlags(const std::vector<std::string>& args, const Environment& env);

// The --help text: the flags, their environment fallbacks, the configuration layers and every
// setting with its default. Ends with a newline.
std::string Usage();

}  // namespace qdsim::config

#endif  // QDSIM_REAL_CONFIG_FLAGS_H_
