// PeerProcess: one qdnode process — the node logic (src/node) driven by the real runtime, with
// Qdrant's REST API in front of it (SPEC.md §1, §2).
//
// Start-up, in order:
//  1. The storage directory is created; the peer id is read from `<storage>/peer_id`, or taken
//     from cluster.peer_id or drawn at random in [1, 2^53 - 1] and made durable there first.
//  2. The start mode follows from the flags and whether `<storage>/raft` holds state
//     (config::DetermineStartMode): standalone, restart, first peer or join.
//  3. RealEnv (event loop, TCP transport on cluster.p2p.port, POSIX disk, helper threads) and the
//     Node are built; the transport's address book follows the peers' URIs in the metadata.
//  4. A joining peer probes its --bootstrap address for the peer id there, asks that peer to add
//     it (Node::Join) and fails start-up if that does not succeed within bootstrap_timeout_sec.
//  5. The REST API listens on service.host:service.http_port (with service.api_key, if set).
// Run() serves until SIGTERM or SIGINT, then stops accepting requests, lets in-flight ones finish
// (a few seconds at most) and returns 0. Every write the node acknowledged is already durable.
//
//   ASSIGN_OR_RETURN(config::LoadedConfig loaded, config::LoadConfig(argc, argv, env, ""));
//   ASSIGN_OR_RETURN(std::unique_ptr<PeerProcess> peer, PeerProcess::Start(loaded));
//   return peer->Run();
//
// Thread-safety: Start and Run on the thread that owns the process (the loop thread).
#ifndef QDSIM_REAL_QDNODE_PEER_PROCESS_H_
#define QDSIM_REAL_QDNODE_PEER_PROCESS_H_

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "node/node.h"
#include "real/config/load_config.h"
#include "real/rest/router.h"
#include "real/runtime/real_env.h"
#include "real/server/http_server.h"

namespace qdsim::real {

class PeerProcess {
 public:
  static absl::StatusOr<std::unique_ptr<PeerProcess>> Start(const config::LoadedConfig& loaded);
  ~PeerProcess();

  // Serves until SIGTERM/SIGINT (or a failed join); returns the process exit code.
  int Run();

  world::PeerId id() const { return self_; }

 private:
  explicit PeerProcess(config::LoadedConfig loaded) : loaded_(std::move(loaded)) {}

  absl::Status Init();
  // Points the transport at every peer the metadata knows (their p2p URIs, or what a peer
  // announced of a new one), and at the peers it does not know whose address was learned otherwise
  // (announced, or a WhoIs answer).
  void SyncPeerAddresses();
  // The transport heard from, or dropped a message to, `peer` without an address for it: asks the
  // node (Node::WhoIs), at most once a second per peer, and points the transport at the answer.
  void LearnAddressOf(world::PeerId peer);
  // Keeps `uri` for `peer` (relayed_addresses_) and points the transport there unless the metadata
  // knows the peer; true, with a log line naming `source`, if the transport now has an address.
  bool UseRelayedAddress(world::PeerId peer, const std::string& uri, std::string_view source);
  // kJoin: probe the bootstrap peer, then Node::Join; a failure stops the process with exit 1.
  void JoinCluster();
  void Fail(const std::string& message);
  void HandleHttp(http::HttpRequest request, HttpServer::Responder respond);
  // 401/403 when service.api_key is set and the request does not carry it; nullopt if allowed.
  std::optional<http::HttpResponse> CheckApiKey(const http::HttpRequest& request) const;
  rest::ClusterExtras ClusterExtras() const;

  config::LoadedConfig loaded_;
  config::StartMode mode_ = config::StartMode::kStandalone;
  world::PeerId self_ = 0;
  std::unique_ptr<RealEnv> env_;
  std::unique_ptr<Node> node_;
  std::unique_ptr<rest::RestRouter> router_;
  std::unique_ptr<HttpServer> http_;
  std::map<world::PeerId, std::string> connected_from_;  // the IP each peer's connections came from
  // URIs peers announced themselves (a restart under a new --uri), until the metadata has that URI.
  std::map<world::PeerId, std::string> address_hints_;
  // Addresses learned outside the metadata, until the metadata knows the peer: WhoIs answers, and
  // what a peer's handshake advertised.
  std::map<world::PeerId, std::string> relayed_addresses_;
  std::map<world::PeerId, world::Instant> who_is_asked_;    // when LearnAddressOf last asked, until answered
  std::set<world::PeerId> who_is_warned_;                   // peers nobody knew, warned about once
  static constexpr size_t kMaxWhoIsTracked = 1024;          // who_is_asked_ entries before old ones go
  int exit_code_ = 0;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);  // false once destroyed
};

// The peer id kept in `<storage_dir>/peer_id`; if there is none, `configured` or a random one,
// written there durably first. Also reports whether the storage already held one.
absl::StatusOr<world::PeerId> LoadOrCreatePeerId(const std::string& storage_dir, std::optional<uint64_t> configured,
                                                 bool* existed);

}  // namespace qdsim::real

#endif  // QDSIM_REAL_QDNODE_PEER_PROCESS_H_
