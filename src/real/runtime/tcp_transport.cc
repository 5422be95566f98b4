#include "real/runtime/tcp_transport.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/uio.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <optional>
#include <utility>

#include "absl/strings/str_cat.h"
#include "node/world/strings.h"
#include "real/runtime/accept.h"
#include "real/runtime/real_clock.h"

namespace qdsim::real {
namespace {

constexpr size_t kReadChunkBytes = 64 * 1024;
// Bytes written to one connection per Flush; the rest waits for the next EPOLLOUT, so one peer with
// a long queue does not hold the loop.
constexpr size_t kMaxWriteBytesPerFlush = 4u << 20;
constexpr int kMaxIovecs = 64;
constexpr int kMaxAcceptsPerEvent = 64;
// When out of descriptors (EMFILE), accepting pauses this long instead of spinning on the
// level-triggered listener.
constexpr world::Duration kAcceptPause = world::Millis(100);

struct SocketAddress {
  sockaddr_storage addr{};
  socklen_t len = 0;
};

std::string Errno(std::string_view what, int err) {
  return absl::StrCat(world::Sv(what), ": ", strerror(err));
}

// A numeric IPv4 or IPv6 address ("[::1]" accepted), or nullopt for a host name.
std::optional<SocketAddress> ParseNumeric(std::string host, uint16_t port) {
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  SocketAddress out;
  auto* v4 = reinterpret_cast<sockaddr_in*>(&out.addr);
  if (inet_pton(AF_INET, host.c_str(), &v4->sin_addr) == 1) {
    v4->sin_family = AF_INET;
    v4->sin_port = htons(port);
    out.len = sizeof(sockaddr_in);
    return out;
  }
  auto* v6 = reinterpret_cast<sockaddr_in6*>(&out.addr);
  if (inet_pton(AF_INET6, host.c_str(), &v6->sin6_addr) == 1) {
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons(port);
    out.len = sizeof(sockaddr_in6);
    return out;
  }
  return std::nullopt;
}

// getaddrinfo: blocks, so it runs at Create() or on the resolver pool, never on the loop.
absl::StatusOr<SocketAddress> Resolve(const std::string& host, uint16_t port, bool passive) {
  if (auto numeric = ParseNumeric(host, port)) return *numeric;
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_NUMERICSERV | (passive ? AI_PASSIVE : 0);
  addrinfo* result = nullptr;
  const std::string service = std::to_string(port);
  if (int rc = getaddrinfo(host.c_str(), service.c_str(), &hints, &result); rc != 0) {
    return absl::UnavailableError(absl::StrCat("resolve ", host, ": ", gai_strerror(rc)));
  }
  SocketAddress out;
  std::memcpy(&out.addr, result->ai_addr, result->ai_addrlen);
  out.len = result->ai_addrlen;
  freeaddrinfo(result);
  return out;
}

std::string IpOf(const sockaddr_storage& addr) {
  char text[INET6_ADDRSTRLEN] = "";
  if (addr.ss_family == AF_INET) {
    inet_ntop(AF_INET, &reinterpret_cast<const sockaddr_in*>(&addr)->sin_addr, text, sizeof(text));
  } else if (addr.ss_family == AF_INET6) {
    inet_ntop(AF_INET6, &reinterpret_cast<const sockaddr_in6*>(&addr)->sin6_addr, text, sizeof(text));
  }
  return text;
}

// A probe's failure: Unavailable, naming where it went.
absl::Status ProbeFailed(const std::string& where, std::string_view what) {
  return absl::UnavailableError(absl::StrCat("probe ", where, ": ", world::Sv(what)));
}

void SetNoDelay(int fd) {
  const int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
}

}  // namespace

absl::StatusOr<std::unique_ptr<TcpTransport>> TcpTransport::Create(EventLoop& loop, world::PeerId self,
                                                                   Options options, BlockingPool* resolver) {
  if (self == 0) return absl::InvalidArgumentError("peer id 0 is not a valid transport identity");
  if (options.advertised_uri.size() > kMaxAdvertisedUriBytes) {
    return absl::InvalidArgumentError(absl::StrCat("the advertised uri is longer than ", kMaxAdvertisedUriBytes,
                                                   " bytes: ", options.advertised_uri));
  }
  std::unique_ptr<TcpTransport> transport(new TcpTransport(loop, self, std::move(options), resolver));
  if (absl::Status s = transport->Listen(); !s.ok()) return s;
  return transport;
}

TcpTransport::TcpTransport(EventLoop& loop, world::PeerId self, Options options, BlockingPool* resolver)
    : loop_(loop),
      self_(self),
      options_(std::move(options)),
      resolver_(resolver),
      read_buffer_(kReadChunkBytes) {}

TcpTransport::~TcpTransport() {
  for (auto& [id, peer] : peers_) CloseOutgoing(*peer);
  for (auto& [id, conn] : inbound_) {
    loop_.CancelTimer(conn->handshake_timer);
    loop_.Unwatch(conn->fd);
    close(conn->fd);
  }
  for (auto& [id, call] : probes_) {  // their `done` is dropped, never run
    loop_.CancelTimer(call->timer);
    if (call->fd >= 0) {
      loop_.Unwatch(call->fd);
      close(call->fd);
    }
  }
  loop_.CancelTimer(accept_pause_timer_);
  if (listen_fd_ >= 0) {
    loop_.Unwatch(listen_fd_);
    close(listen_fd_);
  }
}

absl::Status TcpTransport::Listen() {
  absl::StatusOr<SocketAddress> addr = Resolve(options_.listen_host, options_.listen_port, /*passive=*/true);
  if (!addr.ok()) return addr.status();
  const std::string where = absl::StrCat(options_.listen_host, ":", options_.listen_port);
  listen_fd_ = socket(addr->addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (listen_fd_ < 0) return absl::InternalError(Errno("socket", errno));
  const int one = 1;
  setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));  // restart without TIME_WAIT
  if (bind(listen_fd_, reinterpret_cast<const sockaddr*>(&addr->addr), addr->len) != 0) {
    const int err = errno;
    return absl::UnavailableError(Errno(absl::StrCat("bind ", where), err));
  }
  if (listen(listen_fd_, SOMAXCONN) != 0) {
    const int err = errno;
    return absl::InternalError(Errno(absl::StrCat("listen ", where), err));
  }
  sockaddr_storage bound{};
  socklen_t len = sizeof(bound);
  if (getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&bound), &len) != 0) {
    return absl::InternalError(Errno("getsockname", errno));
  }
  listen_port_ = ntohs(bound.ss_family == AF_INET6 ? reinterpret_cast<sockaddr_in6*>(&bound)->sin6_port
                                                   : reinterpret_cast<sockaddr_in*>(&bound)->sin_port);
  return loop_.Watch(listen_fd_, EPOLLIN, [this](uint32_t) { OnAcceptable(); });
}

void TcpTransport::SetReceiver(Receiver receiver) {
  receiver_ = std::make_shared<Receiver>(std::move(receiver));
}

// ---------------------------------------------------------------------------------------------------
// Outgoing side

TcpTransport::Peer& TcpTransport::PeerFor(world::PeerId id) {
  std::unique_ptr<Peer>& slot = peers_[id];
  if (slot == nullptr) {
    slot = std::make_unique<Peer>();
    slot->id = id;
  }
  return *slot;
}

TcpTransport::Peer* TcpTransport::FindPeer(world::PeerId id) {
  auto it = peers_.find(id);
  return it == peers_.end() ? nullptr : it->second.get();
}

void TcpTransport::Send(world::PeerId to, std::string bytes) {
  if (to == self_) {
    // Never inside Send(): the message comes back through the loop's queue.
    loop_.Post([this, alive = std::weak_ptr<bool>(alive_), bytes = std::move(bytes)]() mutable {
      if (alive.expired()) return;
      std::vector<std::string> one;
      one.push_back(std::move(bytes));
      Deliver(self_, one);
    });
    return;
  }
  Peer& peer = PeerFor(to);
  const size_t wire = kFrameHeaderBytes + bytes.size();
  if (peer.host.empty()) {
    if (missing_ && !std::exchange(peer.missing_reported, true)) {
      loop_.Post([this, alive = std::weak_ptr<bool>(alive_), to] {
        if (alive.expired()) return;
        if (Peer* p = FindPeer(to)) p->missing_reported = false;
        if (missing_) missing_(to);
      });
    }
    return Drop(peer, absl::StrCat("no address for peer ", to));
  }
  if (bytes.size() > options_.max_frame_bytes) {
    return Drop(peer, absl::StrCat("message of ", bytes.size(), " bytes exceeds the frame limit"));
  }
  if (peer.queue.size() >= options_.max_queue_messages ||
      peer.stats.queued_bytes + wire > options_.max_queue_bytes) {
    return Drop(peer, absl::StrCat("send queue full (", peer.queue.size(), " messages, ",
                                   peer.stats.queued_bytes, " bytes)"));
  }
  peer.queue.push_back(
      QueuedMessage{EncodeFrameHeader(static_cast<uint32_t>(bytes.size())), std::move(bytes)});
  peer.stats.queued_bytes += wire;
  if (peer.state == Peer::State::kIdle) {
    StartConnect(peer);
  } else if (peer.state == Peer::State::kConnected && !peer.epollout_armed) {
    Flush(peer);  // the output buffer was empty: write at once
  }
}

void TcpTransport::Drop(Peer& peer, const std::string& why) {
  ++peer.stats.dropped_messages;
  RecordFailure(peer, why);
}

void TcpTransport::RecordFailure(Peer& peer, const std::string& why) {
  ++peer.stats.send_failures;
  peer.stats.latest_error = why;
  peer.stats.latest_error_wall_micros = WallMicrosNow();
}

void TcpTransport::SetPeerAddress(world::PeerId id, std::string host, uint16_t port) {
  if (id == self_) return;
  Peer& peer = PeerFor(id);
  if (peer.host == host && peer.port == port) return;
  peer.host = std::move(host);
  peer.port = port;
  if (peer.state == Peer::State::kIdle) return;
  // The old connection (or attempt) is for a stale address; a partly written message dies with it.
  const bool lost_partial = peer.front_written > 0;
  CloseOutgoing(peer);
  if (lost_partial) RecordFailure(peer, "connection closed: peer address changed");
  peer.backoff = world::Duration(0);
  peer.state = Peer::State::kIdle;
  if (!peer.queue.empty()) StartConnect(peer);
}

bool TcpTransport::HasPeerAddress(world::PeerId id) const {
  auto it = peers_.find(id);
  return it != peers_.end() && !it->second->host.empty();
}

void TcpTransport::ForgetPeer(world::PeerId id) {
  Peer* peer = FindPeer(id);
  if (peer == nullptr) return;
  CloseOutgoing(*peer);
  peers_.erase(id);
}

void TcpTransport::StartConnect(Peer& peer) {
  ++peer.generation;
  if (auto addr = ParseNumeric(peer.host, peer.port)) return ConnectTo(peer, addr->addr, addr->len);
  if (resolver_ == nullptr) {
    return ConnectFailed(peer, absl::StrCat("cannot resolve ", peer.host, ": no resolver"));
  }
  peer.state = Peer::State::kResolving;
  resolver_->Run<absl::StatusOr<SocketAddress>>(
      [host = peer.host, port = peer.port] { return Resolve(host, port, /*passive=*/false); },
      [this, alive = std::weak_ptr<bool>(alive_), id = peer.id,
       generation = peer.generation](absl::StatusOr<SocketAddress> addr) {
        if (alive.expired()) return;
        Peer* peer = FindPeer(id);
        if (peer == nullptr || peer->generation != generation || peer->state != Peer::State::kResolving) {
          return;  // forgotten, re-addressed or closed meanwhile
        }
        if (!addr.ok()) return ConnectFailed(*peer, std::string(addr.status().message()));
        ConnectTo(*peer, addr->addr, addr->len);
      });
}

void TcpTransport::ConnectTo(Peer& peer, const sockaddr_storage& addr, socklen_t addr_len) {
  const std::string where = absl::StrCat(peer.host, ":", peer.port);
  const int fd = socket(addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    const int err = errno;
    return ConnectFailed(peer, Errno(absl::StrCat("socket for ", where), err));
  }
  SetNoDelay(fd);
  const int rc = connect(fd, reinterpret_cast<const sockaddr*>(&addr), addr_len);
  if (rc != 0 && errno != EINPROGRESS) {
    const int err = errno;
    close(fd);
    return ConnectFailed(peer, Errno(absl::StrCat("connect ", where), err));
  }
  peer.fd = fd;
  peer.state = Peer::State::kConnecting;
  // Writable means connected (or failed: SO_ERROR tells); EPOLLOUT stays armed until then.
  peer.epollout_armed = true;
  auto handler = [this, id = peer.id](uint32_t events) { OnPeerEvent(id, events); };
  if (absl::Status s = loop_.Watch(fd, EPOLLIN | EPOLLOUT | EPOLLRDHUP, handler); !s.ok()) {
    return ConnectFailed(peer, std::string(s.message()));
  }
  peer.timer = loop_.RunAfter(options_.connect_timeout, [this, id = peer.id, where] {
    Peer* peer = FindPeer(id);
    if (peer == nullptr) return;
    peer->timer = 0;
    ConnectFailed(*peer, absl::StrCat("connect ", where, ": timed out"));
  });
}

void TcpTransport::OnPeerEvent(world::PeerId id, uint32_t events) {
  Peer* peer = FindPeer(id);
  if (peer == nullptr || peer->fd < 0) return;
  if (peer->state == Peer::State::kConnecting) {
    int err = 0;
    socklen_t len = sizeof(err);
    if (getsockopt(peer->fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0) err = errno;
    if (err != 0) {
      return ConnectFailed(*peer, Errno(absl::StrCat("connect ", peer->host, ":", peer->port), err));
    }
    return OnConnected(*peer);
  }
  if (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) {
    // Nothing is ever sent back on an outgoing connection: readable means closed, broken, or a
    // confused peer; each ends this connection.
    char byte;
    const ssize_t n = recv(peer->fd, &byte, 1, MSG_DONTWAIT);
    if (n == 0) return ConnectionBroken(*peer, "connection closed by peer");
    if (n > 0) return ConnectionBroken(*peer, "peer sent data on an outgoing connection");
    if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
      return ConnectionBroken(*peer, Errno("connection", errno));
    }
  }
  if (events & EPOLLOUT) Flush(*peer);
}

void TcpTransport::OnConnected(Peer& peer) {
  loop_.CancelTimer(peer.timer);
  peer.timer = 0;
  peer.state = Peer::State::kConnected;
  peer.backoff = world::Duration(0);
  peer.handshake = EncodeHandshake(self_, options_.advertised_uri);
  Flush(peer);
}

void TcpTransport::Flush(Peer& peer) {
  size_t written = 0;
  while ((!peer.handshake.empty() || !peer.queue.empty()) && written < kMaxWriteBytesPerFlush) {
    iovec iov[kMaxIovecs];
    int count = 0;
    if (!peer.handshake.empty()) iov[count++] = {peer.handshake.data(), peer.handshake.size()};
    size_t skip = peer.handshake.empty() ? peer.front_written : 0;
    for (auto it = peer.queue.begin(); it != peer.queue.end() && count + 2 <= kMaxIovecs; ++it) {
      // Each message is two pieces, header and payload; skip what an earlier write already sent.
      std::string_view parts[2] = {std::string_view(it->header.data(), it->header.size()), it->payload};
      for (std::string_view part : parts) {
        const size_t cut = std::min(skip, part.size());
        skip -= cut;
        if (part.size() > cut) iov[count++] = {const_cast<char*>(part.data()) + cut, part.size() - cut};
      }
    }
    msghdr msg{};
    msg.msg_iov = iov;
    msg.msg_iovlen = static_cast<size_t>(count);
    const ssize_t n = sendmsg(peer.fd, &msg, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
    if (n < 0) return ConnectionBroken(peer, Errno("send", errno));
    ConsumeWritten(peer, static_cast<size_t>(n));
    written += static_cast<size_t>(n);
  }
  ArmEpollOut(peer, !peer.handshake.empty() || !peer.queue.empty());
}

void TcpTransport::ConsumeWritten(Peer& peer, size_t n) {
  const size_t from_handshake = std::min(n, peer.handshake.size());
  peer.handshake.erase(0, from_handshake);
  n -= from_handshake;
  while (n > 0) {
    QueuedMessage& front = peer.queue.front();
    const size_t left = front.wire_bytes() - peer.front_written;
    if (n < left) {
      peer.front_written += n;
      return;
    }
    n -= left;
    peer.stats.queued_bytes -= front.wire_bytes();
    ++peer.stats.sent_messages;
    peer.queue.pop_front();
    peer.front_written = 0;
  }
}

void TcpTransport::ArmEpollOut(Peer& peer, bool on) {
  if (peer.epollout_armed == on) return;
  peer.epollout_armed = on;
  (void)loop_.Modify(peer.fd, EPOLLIN | EPOLLRDHUP | (on ? uint32_t{EPOLLOUT} : 0u));
}

void TcpTransport::ConnectFailed(Peer& peer, const std::string& why) {
  CloseOutgoing(peer);
  RecordFailure(peer, why);
  ScheduleRetry(peer);
}

void TcpTransport::ConnectionBroken(Peer& peer, const std::string& why) {
  const bool lost_partial = peer.front_written > 0;
  CloseOutgoing(peer);
  if (peer.queue.empty() && !lost_partial) {
    // Nothing was lost (an idle connection the peer closed, say): connect again on the next Send.
    peer.state = Peer::State::kIdle;
    return;
  }
  RecordFailure(peer, why);
  ScheduleRetry(peer);
}

void TcpTransport::CloseOutgoing(Peer& peer) {
  loop_.CancelTimer(peer.timer);
  peer.timer = 0;
  if (peer.fd >= 0) {
    loop_.Unwatch(peer.fd);
    close(peer.fd);
    peer.fd = -1;
  }
  ++peer.generation;  // a resolution still running for the old attempt is ignored
  peer.handshake.clear();
  peer.epollout_armed = false;
  if (peer.front_written > 0) {
    // The rest of a half-written frame cannot start a new connection's stream.
    ++peer.stats.dropped_messages;
    peer.stats.queued_bytes -= peer.queue.front().wire_bytes();
    peer.queue.pop_front();
    peer.front_written = 0;
  }
}

void TcpTransport::ScheduleRetry(Peer& peer) {
  if (peer.queue.empty()) {
    peer.state = Peer::State::kIdle;
    return;
  }
  peer.backoff = peer.backoff == world::Duration(0) ? options_.min_backoff
                                                    : std::min(peer.backoff * 2, options_.max_backoff);
  peer.state = Peer::State::kBackoff;
  peer.timer = loop_.RunAfter(peer.backoff, [this, id = peer.id] {
    Peer* peer = FindPeer(id);
    if (peer == nullptr || peer->state != Peer::State::kBackoff) return;
    peer->timer = 0;
    peer->state = Peer::State::kIdle;
    if (!peer->queue.empty()) StartConnect(*peer);
  });
}

TcpTransport::PeerStats TcpTransport::peer_stats(world::PeerId id) const {
  auto it = peers_.find(id);
  if (it == peers_.end()) return PeerStats();
  PeerStats stats = it->second->stats;
  stats.queued_messages = it->second->queue.size();
  stats.connected = it->second->state == Peer::State::kConnected;
  return stats;
}

std::map<world::PeerId, TcpTransport::PeerStats> TcpTransport::all_peer_stats() const {
  std::map<world::PeerId, PeerStats> all;
  for (const auto& [id, peer] : peers_) all.emplace(id, peer_stats(id));
  return all;
}

// ---------------------------------------------------------------------------------------------------
// Inbound side

void TcpTransport::OnAcceptable() {
  for (int i = 0; i < kMaxAcceptsPerEvent; ++i) {
    sockaddr_storage addr{};
    const Accepted accepted = AcceptOnce(listen_fd_, &addr);
    if (accepted.outcome == Accepted::kSocket) {
      AcceptOne(accepted.fd, addr);
      continue;
    }
    if (accepted.outcome == Accepted::kRetry) continue;
    if (accepted.outcome == Accepted::kExhausted) {
      (void)loop_.Modify(listen_fd_, 0);
      accept_pause_timer_ = loop_.RunAfter(kAcceptPause, [this] {
        accept_pause_timer_ = 0;
        (void)loop_.Modify(listen_fd_, EPOLLIN);
      });
    }
    return;  // EAGAIN: nothing more to accept
  }
}

void TcpTransport::AcceptOne(int fd, const sockaddr_storage& addr) {
  ++stats_.accepted_connections;
  if (inbound_.size() >= options_.max_inbound_connections) {
    close(fd);
    ++stats_.rejected_connections;
    stats_.latest_rejection = "too many inbound connections";
    return;
  }
  SetNoDelay(fd);
  const uint64_t id = next_inbound_id_++;
  auto conn = std::make_unique<Inbound>(options_.max_frame_bytes);
  conn->fd = fd;
  conn->remote_ip = IpOf(addr);
  auto handler = [this, id](uint32_t) {
    auto it = inbound_.find(id);
    if (it == inbound_.end()) return;
    if (it->second->answering) return AnswerProbe(id);
    OnInboundReadable(id);
  };
  if (!loop_.Watch(fd, EPOLLIN | EPOLLRDHUP, handler).ok()) {
    close(fd);
    return;
  }
  conn->handshake_timer = loop_.RunAfter(options_.handshake_timeout, [this, id] {
    auto it = inbound_.find(id);
    if (it == inbound_.end()) return;
    it->second->handshake_timer = 0;
    CloseInbound(id, it->second->answering
                         ? absl::StrCat("probe from ", it->second->remote_ip,
                                        ": answer not taken before the deadline")
                         : std::string("no handshake before the deadline"));
  });
  inbound_.emplace(id, std::move(conn));
}

void TcpTransport::OnInboundReadable(uint64_t id) {
  auto it = inbound_.find(id);
  if (it == inbound_.end()) return;
  Inbound& conn = *it->second;
  const bool had_handshake = conn.decoder.handshake_done();
  std::vector<std::string> messages;
  std::string close_reason;  // set when the connection must close after this read
  bool rejected = false;
  // Level-triggered: whatever is left beyond the cap is read on the next iteration.
  for (size_t total = 0; total < options_.max_read_bytes_per_event;) {
    const ssize_t n = recv(conn.fd, read_buffer_.data(), read_buffer_.size(), MSG_DONTWAIT);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
    if (n == 0 && conn.decoder.probe()) break;  // a prober may shut down its side once it asked
    if (n <= 0) {
      close_reason = n == 0 ? "closed by peer" : Errno("recv", errno);
      break;
    }
    total += static_cast<size_t>(n);
    if (absl::Status s = conn.decoder.Feed(std::string_view(read_buffer_.data(), n), messages); !s.ok()) {
      close_reason = absl::StrCat("from ", conn.remote_ip, ": ", s.message());
      rejected = true;
      break;
    }
  }
  if (conn.decoder.probe()) {
    // Someone asks who we are: no delivery (a probe carries no messages), no address learned. The
    // handshake timer stays armed as the deadline for the answer.
    if (!close_reason.empty()) return CloseInbound(id, rejected ? close_reason : std::string());
    conn.answering = true;
    conn.answer = EncodeHandshake(self_);
    return AnswerProbe(id);
  }
  const world::PeerId from = conn.decoder.peer();
  const std::string ip = conn.remote_ip;
  const std::string advertised = conn.decoder.advertised_uri();
  if (!had_handshake && conn.decoder.handshake_done()) {
    loop_.CancelTimer(conn.handshake_timer);
    conn.handshake_timer = 0;
  }
  // Every change to the connection happens before any callback: a callback may change the world.
  if (!close_reason.empty()) CloseInbound(id, rejected ? close_reason : std::string());
  std::weak_ptr<bool> alive = alive_;
  if (!had_handshake && from != 0 && learner_) {
    AddressLearner learner = learner_;
    learner(from, ip, advertised);
    if (alive.expired()) return;
  }
  if (from != 0) Deliver(from, messages);
}

void TcpTransport::CloseInbound(uint64_t id, const std::string& rejection) {
  auto it = inbound_.find(id);
  if (it == inbound_.end()) return;
  loop_.CancelTimer(it->second->handshake_timer);
  loop_.Unwatch(it->second->fd);
  close(it->second->fd);
  inbound_.erase(it);
  if (!rejection.empty()) {
    ++stats_.rejected_connections;
    stats_.latest_rejection = rejection;
  }
}

void TcpTransport::AnswerProbe(uint64_t id) {
  auto it = inbound_.find(id);
  if (it == inbound_.end()) return;
  Inbound& conn = *it->second;
  while (!conn.answer.empty()) {
    const ssize_t n = send(conn.fd, conn.answer.data(), conn.answer.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      // The rest goes out on EPOLLOUT. Reading is over: a byte after the probe would be an error
      // anyway, and EPOLLIN on a half-closed socket would fire on every iteration.
      if (!loop_.Modify(conn.fd, EPOLLOUT).ok()) CloseInbound(id, std::string());
      return;
    }
    if (n < 0) return CloseInbound(id, std::string());  // the prober is gone: nobody to answer
    conn.answer.erase(0, static_cast<size_t>(n));
  }
  ++stats_.probes_answered;
  CloseInbound(id, std::string());
}

void TcpTransport::Deliver(world::PeerId from, std::vector<std::string>& messages) {
  std::weak_ptr<bool> alive = alive_;
  for (std::string& message : messages) {
    // Copied per message: the receiver may replace itself (SetReceiver) while it runs.
    std::shared_ptr<Receiver> receiver = receiver_;
    if (receiver == nullptr || !*receiver) return;
    ++stats_.received_messages;
    (*receiver)(from, std::move(message));
    if (alive.expired()) return;
  }
}

// ---------------------------------------------------------------------------------------------------
// Probes (the asking side)

void TcpTransport::Probe(const std::string& host, uint16_t port, world::Duration timeout, ProbeDone done) {
  const uint64_t id = next_probe_id_++;
  const std::string where = absl::StrCat(host, ":", port);
  auto call = std::make_unique<ProbeCall>();
  call->where = where;
  call->done = std::move(done);
  call->timer = loop_.RunAfter(timeout, [this, id, where, timeout] {
    auto it = probes_.find(id);
    if (it == probes_.end()) return;
    it->second->timer = 0;
    FinishProbe(id, absl::DeadlineExceededError(
                        absl::StrCat("probe ", where, ": no answer within ", timeout.count() / 1000, " ms")));
  });
  probes_.emplace(id, std::move(call));
  // `done` never runs inside Probe(): a failure found here is reported from the loop.
  auto fail_later = [this, id](absl::Status status) {
    loop_.Post([this, alive = std::weak_ptr<bool>(alive_), id, status = std::move(status)] {
      if (!alive.expired()) FinishProbe(id, status);
    });
  };
  if (auto addr = ParseNumeric(host, port)) {
    if (absl::Status s = ProbeConnect(id, addr->addr, addr->len); !s.ok()) fail_later(std::move(s));
    return;
  }
  if (resolver_ == nullptr) {
    return fail_later(ProbeFailed(where, absl::StrCat("cannot resolve ", host, ": no resolver")));
  }
  resolver_->Run<absl::StatusOr<SocketAddress>>(
      [host, port] { return Resolve(host, port, /*passive=*/false); },
      [this, alive = std::weak_ptr<bool>(alive_), id, where](absl::StatusOr<SocketAddress> addr) {
        if (alive.expired() || probes_.count(id) == 0) return;  // gone, or timed out meanwhile
        if (!addr.ok()) return FinishProbe(id, ProbeFailed(where, std::string(addr.status().message())));
        if (absl::Status s = ProbeConnect(id, addr->addr, addr->len); !s.ok()) FinishProbe(id, s);
      });
}

absl::Status TcpTransport::ProbeConnect(uint64_t id, const sockaddr_storage& addr, socklen_t addr_len) {
  ProbeCall& call = *probes_.at(id);
  const int fd = socket(addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return ProbeFailed(call.where, Errno("socket", errno));
  SetNoDelay(fd);
  if (connect(fd, reinterpret_cast<const sockaddr*>(&addr), addr_len) != 0 && errno != EINPROGRESS) {
    const int err = errno;
    close(fd);
    return ProbeFailed(call.where, Errno("connect", err));
  }
  // Writable means connected (or failed: SO_ERROR tells).
  auto handler = [this, id](uint32_t events) { OnProbeEvent(id, events); };
  if (absl::Status s = loop_.Watch(fd, EPOLLIN | EPOLLOUT | EPOLLRDHUP, handler); !s.ok()) {
    close(fd);
    return ProbeFailed(call.where, std::string(s.message()));
  }
  call.fd = fd;
  call.epollout_armed = true;
  call.request = EncodeProbe(self_);
  return absl::OkStatus();
}

void TcpTransport::OnProbeEvent(uint64_t id, uint32_t /*events*/) {
  auto it = probes_.find(id);
  if (it == probes_.end() || it->second->fd < 0) return;
  ProbeCall& call = *it->second;
  if (!call.connected) {
    int err = 0;
    socklen_t len = sizeof(err);
    if (getsockopt(call.fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0) err = errno;
    if (err != 0) return FinishProbe(id, ProbeFailed(call.where, Errno("connect", err)));
    call.connected = true;
  }
  while (!call.request.empty()) {
    const ssize_t n = send(call.fd, call.request.data(), call.request.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return;  // EPOLLOUT is still armed
    if (n < 0) return FinishProbe(id, ProbeFailed(call.where, Errno("send", errno)));
    call.request.erase(0, static_cast<size_t>(n));
  }
  if (call.epollout_armed) {
    call.epollout_armed = false;
    (void)loop_.Modify(call.fd, EPOLLIN | EPOLLRDHUP);
  }
  ReadProbeAnswer(id);
}

void TcpTransport::ReadProbeAnswer(uint64_t id) {
  ProbeCall& call = *probes_.at(id);
  // The answer is one handshake frame: reads stop at its end, nothing after it is looked at.
  char buffer[kFrameHeaderBytes + kHandshakeBodyBytes];
  std::vector<std::string> frames;  // stays empty: the decoder is never fed past the handshake
  for (;;) {
    const ssize_t n = recv(call.fd, buffer, sizeof(buffer) - call.decoder.buffered_bytes(), MSG_DONTWAIT);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return;
    if (n == 0) return FinishProbe(id, ProbeFailed(call.where, "closed before answering"));
    if (n < 0) return FinishProbe(id, ProbeFailed(call.where, Errno("recv", errno)));
    const absl::Status s = call.decoder.Feed(std::string_view(buffer, static_cast<size_t>(n)), frames);
    if (!s.ok()) return FinishProbe(id, ProbeFailed(call.where, absl::StrCat("bad answer: ", s.message())));
    if (call.decoder.probe()) {
      return FinishProbe(id, ProbeFailed(call.where, "bad answer: a probe, not a handshake"));
    }
    if (call.decoder.handshake_done()) return FinishProbe(id, call.decoder.peer());
  }
}

void TcpTransport::FinishProbe(uint64_t id, absl::StatusOr<world::PeerId> result) {
  auto it = probes_.find(id);
  if (it == probes_.end()) return;  // already finished: `done` runs once
  std::unique_ptr<ProbeCall> call = std::move(it->second);
  probes_.erase(it);
  loop_.CancelTimer(call->timer);
  if (call->fd >= 0) {
    loop_.Unwatch(call->fd);
    close(call->fd);
  }
  if (call->done) call->done(std::move(result));  // last: it may destroy the transport
}

}  // namespace qdsim::real
