// PeerUri: a peer's p2p address as given to --uri / --bootstrap (SPEC.md §1), e.g.
// "http://10.0.0.1:6335".
//
//   absl::StatusOr<PeerUri> uri = ParsePeerUri("http://10.0.0.1");
//   // uri->host == "10.0.0.1", uri->port == 6335 (the default p2p port)
//   // uri->ToString() == "http://10.0.0.1:6335/"  (the form Qdrant prints in GET /cluster)
//
// Accepted: "http://" (any case), then a host name, a dotted IPv4 address or a bracketed IPv6
// address, then an optional ":port" (1-65535), then an optional single "/". Anything else (another
// scheme, no scheme, user info, a path, a query, a fragment, a bad port) is InvalidArgument with a
// message quoting the input. Host names are lower-cased, so equal addresses compare equal.
//
// Thread-safety: plain values and free functions without shared state.
#ifndef QDSIM_REAL_CONFIG_PEER_URI_H_
#define QDSIM_REAL_CONFIG_PEER_URI_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace qdsim::config {

inline constexpr uint16_t kDefaultP2pPort = 6335;

struct PeerUri {
  std::string host;  // lower-cased name, dotted IPv4, or IPv6 without brackets ("::1")
  uint16_t port = kDefaultP2pPort;

  // "http://host:port/", with brackets around an IPv6 host.
  std::string ToString() const;
  // "host:port", with brackets around an IPv6 host: what a socket address resolver is given.
  std::string HostPort() const;

  friend bool operator==(const PeerUri&, const PeerUri&) = default;
};

absl::StatusOr<PeerUri> ParsePeerUri(std::string_view text);

}  // namespace qdsim::config

#endif  // QDSIM_REAL_CONFIG_PEER_URI_H_
