#include "real/qdnode/peer_process.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "node/world/log.h"
#include "node/world/status_macros.h"
#include "node/world/strings.h"

namespace qdsim::real {
namespace {

namespace fs = std::filesystem;

constexpr char kPeerIdFile[] = "peer_id";
constexpr world::Duration kShutdownGrace = world::Seconds(5);

world::LogLevel LevelOf(const std::string& log_level) {
  const std::string level = config::GlobalLogLevel(log_level);
  if (level == "trace" || level == "debug") return world::LogLevel::kDebug;
  if (level == "warn") return world::LogLevel::kWarning;
  if (level == "error" || level == "off") return world::LogLevel::kError;
  return world::LogLevel::kInfo;
}

absl::Status WriteFileDurably(const fs::path& path, const std::string& content) {
  const fs::path tmp = path.string() + ".tmp";
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return absl::InternalError(absl::StrCat("cannot create ", tmp.string(), ": ", std::strerror(errno)));
  const bool written = ::write(fd, content.data(), content.size()) == static_cast<ssize_t>(content.size());
  const bool synced = written && ::fsync(fd) == 0;
  ::close(fd);
  if (!synced) return absl::InternalError(absl::StrCat("cannot write ", tmp.string(), ": ", std::strerror(errno)));
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    return absl::InternalError(absl::StrCat("cannot rename ", tmp.string(), ": ", std::strerror(errno)));
  }
  const int dir = ::open(path.parent_path().c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir >= 0) {
    ::fsync(dir);
    ::close(dir);
  }
  return absl::OkStatus();
}

bool HasRaftState(const std::string& storage_dir) {
  std::error_code ec;
  const fs::path raft = fs::path(storage_dir) / "raft";
  return fs::is_directory(raft, ec) && !fs::is_empty(raft, ec);
}

}  // namespace

absl::StatusOr<world::PeerId> LoadOrCreatePeerId(const std::string& storage_dir, std::optional<uint64_t> configured,
                                                 bool* existed) {
  const fs::path file = fs::path(storage_dir) / kPeerIdFile;
  std::ifstream in(file);
  *existed = in.good();
  if (in.good()) {
    std::string text;
    std::getline(in, text);
    uint64_t id = 0;
    if (!absl::SimpleAtoi(world::Sv(text), &id) || id == 0 || id > config::kMaxPeerId) {
      return absl::DataLossError(absl::StrCat(file.string(), " holds no valid peer id: \"", text, "\""));
    }
    return id;
  }
  uint64_t id = configured.value_or(0);
  while (id == 0) {
    ASSIGN_OR_RETURN(uint64_t seed, OsRandomSeed());
    id = seed & config::kMaxPeerId;
  }
  RETURN_IF_ERROR(WriteFileDurably(file, absl::StrCat(id, "\n")));
  return id;
}

absl::StatusOr<std::unique_ptr<PeerProcess>> PeerProcess::Start(const config::LoadedConfig& loaded) {
  std::unique_ptr<PeerProcess> p(new PeerProcess(loaded));
  RETURN_IF_ERROR(p->Init());
  return p;
}

PeerProcess::~PeerProcess() {
  *alive_ = false;
  http_.reset();
  router_.reset();
  // Offloaded searches read the node's replicas: let them finish before those go.
  if (env_) env_->pool().Drain();
  node_.reset();
  env_.reset();
}

absl::Status PeerProcess::Init() {
  const config::NodeConfig& c = loaded_.config;
  std::error_code ec;
  fs::create_directories(c.storage.storage_path, ec);
  if (ec) return absl::InternalError(absl::StrCat("cannot create ", c.storage.storage_path, ": ", ec.message()));
  const bool had_state = HasRaftState(c.storage.storage_path);
  RETURN_IF_ERROR(config::ValidateStart(loaded_, had_state));
  mode_ = config::DetermineStartMode(loaded_, had_state);
  bool id_existed = false;
  ASSIGN_OR_RETURN(self_, LoadOrCreatePeerId(c.storage.storage_path, c.cluster.peer_id, &id_existed));

  RealEnv::Options env;
  env.self = self_;
  env.storage_dir = c.storage.storage_path;
  env.min_log_level = LevelOf(c.log_level);
  env.stop_signals = {SIGTERM, SIGINT};
  if (mode_ == config::StartMode::kStandalone) {
    env.transport.listen_host = "127.0.0.1";  // no peers: nothing listens on the p2p port
    env.transport.listen_port = 0;
  } else {
    env.transport.listen_host = c.service.host;
    env.transport.listen_port = c.cluster.p2p.port;
    // Peers this one reaches can answer it even if they do not know it yet (frame_codec.h).
    if (loaded_.flags.uri) env.transport.advertised_uri = loaded_.flags.uri->ToString();
  }
  ASSIGN_OR_RETURN(env_, RealEnv::Create(std::move(env)));
  world::Logger& log = env_->logger();
  for (const std::string& w : loaded_.warnings) QDSIM_LOG(log, kWarning) << "config: " << w;

  Node::Options options;
  if (loaded_.flags.uri) options.uri = loaded_.flags.uri->ToString();
  options.p2p_port = c.cluster.p2p.port;
  options.peer_host = [this](world::PeerId peer) -> std::optional<std::string> {
    auto it = connected_from_.find(peer);
    if (it == connected_from_.end()) return std::nullopt;
    return it->second;
  };
  options.raft.tick = world::Millis(static_cast<int64_t>(c.cluster.consensus.tick_period_ms));
  options.raft.compact_entries =
      c.cluster.consensus.compact_wal_entries == 0 ? UINT64_MAX : c.cluster.consensus.compact_wal_entries;
  options.raft.raft.pre_vote = c.cluster.consensus.pre_vote;
  options.raft.raft.check_quorum = c.cluster.consensus.check_quorum;
  if (mode_ == config::StartMode::kStandalone || mode_ == config::StartMode::kFirstPeer) {
    options.raft.initial_voters = {self_};
  }
  // --reinit: disaster recovery, this peer alone keeps the cluster's committed metadata.
  options.raft.reinit = loaded_.flags.reinit && had_state;
  options.transfer_limits.incoming = c.storage.performance.incoming_shard_transfers_limit;
  options.transfer_limits.outgoing = c.storage.performance.outgoing_shard_transfers_limit;
  env_->tcp().SetAddressLearner([this](world::PeerId peer, const std::string& ip, const std::string& advertised) {
    connected_from_[peer] = ip;
    if (node_ == nullptr || peer == self_ || env_->tcp().HasPeerAddress(peer)) return;
    // A peer this one has no address for (it joined while this one was down, say): its own word
    // on where it listens serves until the metadata knows it; without one, ask around (WhoIs).
    if (!advertised.empty() && config::ParsePeerUri(advertised).ok() &&
        UseRelayedAddress(peer, advertised, "its handshake")) {
      return;
    }
    LearnAddressOf(peer);
  });
  env_->tcp().SetAddressMissing([this](world::PeerId peer) {
    if (node_ != nullptr) LearnAddressOf(peer);
  });
  ASSIGN_OR_RETURN(node_, Node::Open(*env_, options));
  node_->OnMetadataChange([this] { SyncPeerAddresses(); });
  node_->OnAddressHint([this](world::PeerId peer, const std::string& uri) {
    if (peer == self_ || !config::ParsePeerUri(uri).ok()) return;
    address_hints_[peer] = uri;
    SyncPeerAddresses();
  });
  SyncPeerAddresses();

  rest::RestRouter::Options rest;
  rest.cluster_enabled = mode_ != config::StartMode::kStandalone;
  rest.now_seconds = [this] { return world::ToSeconds(env_->clock().Now()); };
  rest.wall_micros = [this] { return env_->clock().WallMicros(); };
  rest.cluster_extras = [this] { return ClusterExtras(); };
  router_ = std::make_unique<rest::RestRouter>(*node_, std::move(rest));

  HttpServer::Options http;
  http.host = c.service.host;
  http.port = c.service.http_port;
  http.connection.limits = http::HttpLimits::WithMaxRequestSizeMb(c.service.max_request_size_mb);
  ASSIGN_OR_RETURN(http_, HttpServer::Start(env_->loop(), http, [this](http::HttpRequest r, HttpServer::Responder done) {
                     HandleHttp(std::move(r), std::move(done));
                   }));
  QDSIM_LOG(log, kInfo) << "qdnode peer " << self_ << " (" << (id_existed ? "existing" : "new") << " id), "
                        << (mode_ == config::StartMode::kStandalone ? "standalone"
                            : mode_ == config::StartMode::kRestart  ? "restarting from its storage"
                            : mode_ == config::StartMode::kFirstPeer ? "first peer of a new cluster"
                                                                     : "joining a cluster")
                        << "; REST on " << c.service.host << ":" << http_->port() << ", p2p on port "
                        << env_->tcp().listen_port();
  if (mode_ == config::StartMode::kJoin) JoinCluster();
  return absl::OkStatus();
}

void PeerProcess::LearnAddressOf(world::PeerId peer) {
  if (peer == self_ || env_->tcp().HasPeerAddress(peer)) return;
  // A joiner before its join answer, or a peer still replaying its log, has nobody to ask yet.
  if (node_->consensus().metadata().state().peers().empty()) return;
  const world::Instant now = env_->clock().Now();
  if (who_is_asked_.size() > kMaxWhoIsTracked) {  // ids from handshakes are the sender's word: bounded
    std::erase_if(who_is_asked_, [now](const auto& e) { return now - e.second > world::Seconds(60); });
  }
  auto [last, first] = who_is_asked_.try_emplace(peer, now);
  if (!first && now - last->second < world::Seconds(1)) return;
  last->second = now;
  node_->WhoIs(peer, [this, alive = alive_, peer](absl::StatusOr<std::string> answer) {
    if (!*alive) return;
    absl::StatusOr<config::PeerUri> uri =
        answer.ok() ? config::ParsePeerUri(*answer) : absl::StatusOr<config::PeerUri>(answer.status());
    if (!uri.ok()) {
      // Once per peer until it is found: a peer nobody knows (say one removed that still sends)
      // is asked about every second.
      if (who_is_warned_.insert(peer).second) {
        QDSIM_LOG(env_->logger(), kWarning) << "no address for peer " << peer << ": " << uri.status().message();
      }
      return;
    }
    who_is_warned_.erase(peer);
    who_is_asked_.erase(peer);
    if (env_->tcp().HasPeerAddress(peer)) return;  // set meanwhile, from the metadata or a hint
    UseRelayedAddress(peer, *answer, "WhoIs");
  });
}

bool PeerProcess::UseRelayedAddress(world::PeerId peer, const std::string& uri, std::string_view source) {
  relayed_addresses_[peer] = uri;
  SyncPeerAddresses();
  if (!env_->tcp().HasPeerAddress(peer)) return false;
  QDSIM_LOG(env_->logger(), kInfo) << "peer " << peer << " is at " << uri << " (" << source << ")";
  return true;
}

void PeerProcess::SyncPeerAddresses() {
  const consensus::ClusterStateMachine& metadata = node_->consensus().metadata();
  // Relayed addresses (WhoIs answers, handshakes) serve only until the metadata knows the peer.
  std::erase_if(relayed_addresses_, [&](const auto& e) { return metadata.FindPeer(e.first) != nullptr; });
  for (const auto* learned : {&relayed_addresses_, &address_hints_}) {
    for (const auto& [peer, text] : *learned) {
      if (peer == self_ || metadata.FindPeer(peer) != nullptr) continue;  // handled below
      if (absl::StatusOr<config::PeerUri> uri = config::ParsePeerUri(text); uri.ok()) {
        env_->tcp().SetPeerAddress(peer, uri->host, uri->port);
      }
    }
  }
  for (const auto& p : metadata.state().peers()) {
    if (p.id() == self_ || p.uri().empty()) continue;
    // A peer's own word on its new address wins until the metadata records that address.
    std::string text = p.uri();
    if (auto hint = address_hints_.find(p.id()); hint != address_hints_.end()) {
      if (hint->second == p.uri()) {
        address_hints_.erase(hint);
      } else {
        text = hint->second;
      }
    }
    absl::StatusOr<config::PeerUri> uri = config::ParsePeerUri(text);
    if (!uri.ok()) {
      QDSIM_LOG(env_->logger(), kWarning) << "peer " << p.id() << " has an unusable uri " << text << ": "
                                          << uri.status().message();
      continue;
    }
    env_->tcp().SetPeerAddress(p.id(), uri->host, uri->port);
  }
}

void PeerProcess::JoinCluster() {
  const config::PeerUri bootstrap = *loaded_.flags.bootstrap;
  const world::Duration timeout = world::Seconds(static_cast<int64_t>(loaded_.config.cluster.consensus.bootstrap_timeout_sec));
  QDSIM_LOG(env_->logger(), kInfo) << "joining the cluster through " << bootstrap.ToString();
  env_->tcp().Probe(bootstrap.host, bootstrap.port, timeout,
                    [this, alive = alive_, bootstrap, timeout](absl::StatusOr<world::PeerId> id) {
    if (!*alive) return;
    if (!id.ok()) return Fail(absl::StrCat("Failed to join the cluster: ", id.status().message()));
    env_->tcp().SetPeerAddress(*id, bootstrap.host, bootstrap.port);
    node_->Join(*id, timeout, [this, alive](absl::StatusOr<clusterpb::JoinResponse> joined) {
      if (!*alive) return;
      if (!joined.ok()) return Fail(std::string(joined.status().message()));
      for (const auto& p : joined->peers()) {
        absl::StatusOr<config::PeerUri> uri = config::ParsePeerUri(p.uri());
        if (p.id() != self_ && uri.ok()) env_->tcp().SetPeerAddress(p.id(), uri->host, uri->port);
      }
      QDSIM_LOG(env_->logger(), kInfo) << "joined the cluster (" << joined->peers_size() << " peers known)";
    });
  });
}

void PeerProcess::Fail(const std::string& message) {
  QDSIM_LOG(env_->logger(), kError) << message;
  exit_code_ = 1;
  env_->loop().Stop();
}

int PeerProcess::Run() {
  env_->loop().Run();
  if (exit_code_ != 0) return exit_code_;
  QDSIM_LOG(env_->logger(), kInfo) << "stopping (signal " << env_->loop().stop_signal() << ")";
  bool drained = false;
  http_->Shutdown(kShutdownGrace, [this, &drained] {
    drained = true;
    env_->loop().Stop();
  });
  while (!drained) env_->loop().Run();
  QDSIM_LOG(env_->logger(), kInfo) << "stopped";
  return 0;
}

std::optional<http::HttpResponse> PeerProcess::CheckApiKey(const http::HttpRequest& request) const {
  const std::optional<std::string>& key = loaded_.config.service.api_key;
  if (!key || key->empty()) return std::nullopt;
  // Health probes stay open, as in Qdrant, so that orchestrators need no secret.
  if (request.method == "GET" && request.segments.size() == 1 &&
      (request.segments[0] == "healthz" || request.segments[0] == "livez" || request.segments[0] == "readyz")) {
    return std::nullopt;
  }
  std::optional<std::string_view> given = request.headers.Get("api-key");
  if (!given) {
    if (std::optional<std::string_view> auth = request.headers.Get("authorization")) {
      constexpr std::string_view kBearer = "Bearer ";
      if (auth->substr(0, kBearer.size()) == kBearer) given = auth->substr(kBearer.size());
    }
  }
  if (!given) return http::HttpResponse::Error(401, "Must provide an API key or an Authorization bearer token");
  if (*given != *key) return http::HttpResponse::Error(403, "Invalid API key or JWT");
  return std::nullopt;
}

void PeerProcess::HandleHttp(http::HttpRequest request, HttpServer::Responder respond) {
  if (std::optional<http::HttpResponse> refused = CheckApiKey(request)) return respond(std::move(*refused));
  rest::RestRequest r;
  r.method = std::move(request.method);
  r.path_segments = std::move(request.segments);
  r.query = std::move(request.query);
  r.body = std::move(request.body);
  router_->Handle(std::move(r), [respond = std::move(respond)](rest::RestResponse answer) {
    http::HttpResponse response;
    response.status = answer.status;
    response.body = std::move(answer.body);
    response.content_type = std::move(answer.content_type);
    respond(std::move(response));
  });
}

rest::ClusterExtras PeerProcess::ClusterExtras() const {
  rest::ClusterExtras extras;
  const absl::Status& failure = node_->raft().failure();
  if (!failure.ok()) {
    extras.consensus_thread_status = "stopped_with_err";
    extras.consensus_error = std::string(failure.message());
  }
  extras.last_update = rest::Rfc3339(env_->clock().WallMicros());
  std::map<world::PeerId, std::string> uris;
  for (const auto& p : node_->consensus().metadata().state().peers()) uris[p.id()] = p.uri();
  for (const auto& [peer, stats] : env_->tcp().all_peer_stats()) {
    if (stats.send_failures == 0) continue;
    auto uri = uris.find(peer);
    auto& f = extras.message_send_failures[uri != uris.end() ? uri->second : absl::StrCat("peer ", peer)];
    f.count = stats.send_failures;
    f.latest_error = stats.latest_error;
    f.latest_error_timestamp = rest::Rfc3339(stats.latest_error_wall_micros);
  }
  return extras;
}

}  // namespace qdsim::real
