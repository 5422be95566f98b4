#include "real/server/http_server.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cassert>
#include <cerrno>
#include <cstring>
#include <string_view>
#include <utility>

#include "absl/strings/str_cat.h"
#include "real/runtime/accept.h"

namespace qdsim::real {
namespace {

constexpr size_t kReadChunkBytes = 64 * 1024;
constexpr int kMaxAcceptsPerEvent = 64;
// When out of descriptors (EMFILE) or memory, accepting pauses this long instead of spinning on the
// level-triggered listener.
constexpr world::Duration kAcceptRetry = world::Millis(100);

std::string Errno(const std::string& what, int err) { return absl::StrCat(what, ": ", strerror(err)); }

// options.host:port as a socket address: numeric addresses directly, names through getaddrinfo
// (blocking, which is acceptable at start-up only).
absl::StatusOr<std::pair<sockaddr_storage, socklen_t>> ResolveListenAddress(const std::string& host,
                                                                            uint16_t port) {
  sockaddr_storage addr{};
  auto* v4 = reinterpret_cast<sockaddr_in*>(&addr);
  if (inet_pton(AF_INET, host.c_str(), &v4->sin_addr) == 1) {
    v4->sin_family = AF_INET;
    v4->sin_port = htons(port);
    return std::make_pair(addr, static_cast<socklen_t>(sizeof(sockaddr_in)));
  }
  std::string bare = host;
  if (bare.size() >= 2 && bare.front() == '[' && bare.back() == ']') bare = bare.substr(1, bare.size() - 2);
  auto* v6 = reinterpret_cast<sockaddr_in6*>(&addr);
  if (inet_pton(AF_INET6, bare.c_str(), &v6->sin6_addr) == 1) {
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons(port);
    return std::make_pair(addr, static_cast<socklen_t>(sizeof(sockaddr_in6)));
  }
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_NUMERICSERV | AI_PASSIVE;
  addrinfo* result = nullptr;
  const std::string service = std::to_string(port);
  if (int rc = getaddrinfo(host.c_str(), service.c_str(), &hints, &result); rc != 0) {
    return absl::UnavailableError(absl::StrCat("resolve ", host, ": ", gai_strerror(rc)));
  }
  std::memcpy(&addr, result->ai_addr, result->ai_addrlen);
  const socklen_t len = result->ai_addrlen;
  freeaddrinfo(result);
  return std::make_pair(addr, len);
}

}  // namespace

absl::StatusOr<std::unique_ptr<HttpServer>> HttpServer::Start(EventLoop& loop, Options options,
                                                              Handler handler) {
  assert(options.max_connections > 0 && options.connection.max_in_flight > 0 && handler);
  std::unique_ptr<HttpServer> server(new HttpServer(loop, std::move(options), std::move(handler)));
  if (absl::Status s = server->Listen(); !s.ok()) return s;
  return server;
}

HttpServer::HttpServer(EventLoop& loop, Options options, Handler handler)
    : loop_(loop),
      options_(std::move(options)),
      handler_(std::move(handler)),
      read_buffer_(kReadChunkBytes) {}

HttpServer::~HttpServer() {
  shutdown_done_.clear();  // a drain cut short by destruction never reports completion
  Stop();
}

absl::Status HttpServer::Listen() {
  auto addr = ResolveListenAddress(options_.host, options_.port);
  if (!addr.ok()) return addr.status();
  const std::string where = absl::StrCat(options_.host, ":", options_.port);
  listen_fd_ = socket(addr->first.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (listen_fd_ < 0) return absl::InternalError(Errno("socket", errno));
  const int one = 1;
  setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));  // restart without TIME_WAIT
  if (bind(listen_fd_, reinterpret_cast<const sockaddr*>(&addr->first), addr->second) != 0) {
    const int err = errno;
    CloseListener();
    return absl::UnavailableError(Errno(absl::StrCat("bind ", where), err));
  }
  if (listen(listen_fd_, SOMAXCONN) != 0) {
    const int err = errno;
    CloseListener();
    return absl::InternalError(Errno(absl::StrCat("listen ", where), err));
  }
  sockaddr_storage bound{};
  socklen_t len = sizeof(bound);
  if (getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&bound), &len) != 0) {
    const int err = errno;
    CloseListener();
    return absl::InternalError(Errno("getsockname", err));
  }
  port_ = ntohs(bound.ss_family == AF_INET6 ? reinterpret_cast<sockaddr_in6*>(&bound)->sin6_port
                                            : reinterpret_cast<sockaddr_in*>(&bound)->sin_port);
  absl::Status watched = loop_.Watch(listen_fd_, EPOLLIN, [this](uint32_t) { OnAcceptable(); });
  if (!watched.ok()) CloseListener();
  return watched;
}

// ---------------------------------------------------------------------------------------------------
// Accepting

void HttpServer::OnAcceptable() {
  for (int i = 0; i < kMaxAcceptsPerEvent && listen_fd_ >= 0; ++i) {
    if (connections_.size() >= options_.max_connections) return PauseAccepting();
    const Accepted accepted = AcceptOnce(listen_fd_, nullptr);
    if (accepted.outcome == Accepted::kSocket) {
      AcceptOne(accepted.fd);
      continue;
    }
    if (accepted.outcome == Accepted::kRetry) continue;
    if (accepted.outcome == Accepted::kExhausted) {
      (void)loop_.Modify(listen_fd_, 0);
      accept_retry_timer_ = loop_.RunAfter(kAcceptRetry, [this] {
        accept_retry_timer_ = 0;
        if (listen_fd_ >= 0 && !accept_paused_) (void)loop_.Modify(listen_fd_, EPOLLIN);
      });
    }
    return;  // EAGAIN: nothing more to accept
  }
}

void HttpServer::AcceptOne(int fd) {
  ++stats_.accepted_connections;
  const int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));  // responses are written whole
  const uint64_t id = next_id_++;
  auto c = std::make_unique<Connection>();
  c->id = id;
  c->fd = fd;
  c->http = std::make_unique<http::HttpConnection>(
      options_.connection,
      [this, id](uint64_t seq, http::HttpRequest request) { Dispatch(id, seq, std::move(request)); });
  c->interest = EPOLLIN;
  c->phase_since = loop_.Now();
  if (!loop_.Watch(fd, c->interest, [this, id](uint32_t events) { OnEvents(id, events); }).ok()) {
    close(fd);
    return;
  }
  connections_.emplace(id, std::move(c));
  Settle(id);  // arms the idle timer
}

void HttpServer::PauseAccepting() {
  if (accept_paused_ || listen_fd_ < 0) return;
  accept_paused_ = true;
  ++stats_.accept_pauses;
  (void)loop_.Modify(listen_fd_, 0);
}

void HttpServer::ResumeAccepting() {
  if (!accept_paused_ || listen_fd_ < 0 || connections_.size() >= options_.max_connections) return;
  accept_paused_ = false;
  if (accept_retry_timer_ == 0) (void)loop_.Modify(listen_fd_, EPOLLIN);
}

void HttpServer::CloseListener() {
  loop_.CancelTimer(accept_retry_timer_);
  accept_retry_timer_ = 0;
  if (listen_fd_ < 0) return;
  loop_.Unwatch(listen_fd_);
  close(listen_fd_);
  listen_fd_ = -1;
}

// ---------------------------------------------------------------------------------------------------
// One connection

HttpServer::Connection* HttpServer::Find(uint64_t id) {
  auto it = connections_.find(id);
  return it == connections_.end() ? nullptr : it->second.get();
}

void HttpServer::OnEvents(uint64_t id, uint32_t events) {
  Connection* c = Find(id);
  if (c == nullptr) return;
  if (events & (EPOLLERR | EPOLLHUP)) {
    // Reset, or closed in both directions: nothing more can be read or written.
    c->close_requested = true;
  } else {
    if (events & EPOLLOUT) c->awaiting_writable = false;  // Settle writes
    if ((events & EPOLLIN) && !c->end_of_input) ReadFrom(*c);
  }
  Settle(id);
}

void HttpServer::ReadFrom(Connection& c) {
  // Level-triggered: whatever is left beyond the cap is read on the next iteration.
  size_t total = 0;
  while (total < options_.max_read_bytes_per_iteration && c.http->WantsRead() && !c.close_requested) {
    const size_t want = std::min(read_buffer_.size(), options_.max_read_bytes_per_iteration - total);
    const ssize_t n = recv(c.fd, read_buffer_.data(), want, MSG_DONTWAIT);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return;
    if (n < 0) {
      c.close_requested = true;
      return;
    }
    ++c.depth;
    if (n == 0) {
      c.end_of_input = true;
      c.http->OnEndOfInput();  // answers what arrived, then closes
    } else {
      c.http->OnBytes(std::string_view(read_buffer_.data(), static_cast<size_t>(n)));
    }
    --c.depth;
    if (n == 0) return;
    total += static_cast<size_t>(n);
  }
}

void HttpServer::Dispatch(uint64_t id, uint64_t seq, http::HttpRequest request) {
  // Runs inside a call into the connection (depth > 0), so the connection outlives the handler.
  if (Connection* c = Find(id)) ++c->requests;
  ++stats_.requests;
  Responder respond = [alive = std::weak_ptr<bool>(alive_), this, id, seq](http::HttpResponse response) {
    if (alive.expired()) return;
    OnResponse(id, seq, std::move(response));
  };
  handler_(std::move(request), std::move(respond));
}

void HttpServer::OnResponse(uint64_t id, uint64_t seq, http::HttpResponse response) {
  Connection* c = Find(id);
  if (c == nullptr || c->close_requested) return;  // the client is gone; so is the answer
  // While shutting down, tell the client not to send more on this connection.
  if (draining_) response.headers.Set("Connection", "close");
  ++c->depth;
  const bool taken = c->http->Respond(seq, std::move(response)).ok();
  --c->depth;
  if (taken) ++stats_.responses;
  Settle(id);
}

void HttpServer::OnTimer(uint64_t id) {
  Connection* c = Find(id);
  if (c == nullptr) return;
  c->timer = 0;
  // The timer is only moved earlier, never later, so it may fire before the deadline it now serves.
  if (c->depth == 0 && c->deadline && loop_.Now() >= *c->deadline) {
    switch (c->phase) {
      case Phase::kWriting:
        ++stats_.write_timeouts;
        c->close_requested = true;
        break;
      case Phase::kReceiving:
      case Phase::kIdle:
        ++(c->phase == Phase::kReceiving ? stats_.request_timeouts : stats_.idle_closes);
        ++c->depth;
        c->http->OnIdleTimeout();  // 408 for a partial request; a quiet close when idle
        --c->depth;
        break;
      case Phase::kServing:
        break;
    }
  }
  Settle(id);
}

void HttpServer::Settle(uint64_t id) {
  Connection* c = Find(id);
  if (c == nullptr || c->depth > 0) return;
  if (draining_ && !c->end_of_input && !c->close_requested) Drain(*c);
  if (!c->close_requested && !c->awaiting_writable && !Flush(*c)) c->close_requested = true;
  if (c->close_requested || c->http->ShouldClose()) return Close(id);
  UpdateInterest(*c);
  UpdateTimer(*c);
}

bool HttpServer::Flush(Connection& c) {
  size_t written = 0;
  while (written < options_.max_write_bytes_per_iteration) {
    const std::string_view out = c.http->PendingOutput();
    if (out.empty()) return true;
    const size_t size = std::min(out.size(), options_.max_write_bytes_per_iteration - written);
    const ssize_t n = send(c.fd, out.data(), size, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
    if (n < 0) return false;  // EPIPE, ECONNRESET: the client is gone
    written += static_cast<size_t>(n);
    c.wrote = true;
    // Consuming may make room for a buffered request, whose handler may answer at once.
    ++c.depth;
    c.http->Consume(static_cast<size_t>(n));
    --c.depth;
    if (c.close_requested) return true;
  }
  if (!c.http->PendingOutput().empty()) {
    c.awaiting_writable = true;  // the socket is full or this iteration's share is used
    ++stats_.deferred_writes;
  }
  return true;
}

void HttpServer::UpdateInterest(Connection& c) {
  // EPOLLERR and EPOLLHUP are always reported. EPOLLIN is left out while the connection does not
  // want to read, so that unread input (or an end of input) does not wake the loop over and over.
  uint32_t interest = 0;
  if (!c.end_of_input && c.http->WantsRead()) interest |= EPOLLIN;
  if (c.awaiting_writable) interest |= EPOLLOUT;
  if (interest == c.interest) return;
  c.interest = interest;
  (void)loop_.Modify(c.fd, interest);
}

HttpServer::Phase HttpServer::Classify(const Connection& c) const {
  if (!c.http->PendingOutput().empty()) return Phase::kWriting;
  if (c.http->InFlight() > 0) return Phase::kServing;
  if (c.http->HasPartialRequest()) return Phase::kReceiving;
  return Phase::kIdle;
}

void HttpServer::UpdateTimer(Connection& c) {
  const world::Instant now = loop_.Now();
  const Phase phase = Classify(c);
  // A phase restarts when it changes, when a request was dispatched since it began (a keep-alive
  // connection answered at once stays kIdle, yet was busy), and for writing whenever the client took
  // some output.
  if (phase != c.phase || c.requests != c.requests_at_phase || (phase == Phase::kWriting && c.wrote)) {
    c.phase = phase;
    c.phase_since = now;
    c.requests_at_phase = c.requests;
  }
  c.wrote = false;
  switch (phase) {
    case Phase::kIdle:
      c.deadline = c.phase_since + options_.idle_timeout;
      break;
    case Phase::kReceiving:
      c.deadline = c.phase_since + options_.request_timeout;
      break;
    case Phase::kWriting:
      c.deadline = c.phase_since + options_.write_timeout;
      break;
    case Phase::kServing:
      c.deadline.reset();
      break;
  }
  if (!c.deadline) {
    loop_.CancelTimer(c.timer);
    c.timer = 0;
    return;
  }
  // A timer due no later than the deadline is kept: when it fires it re-arms for the rest. This
  // keeps a busy connection from cancelling and setting a timer on every event.
  if (c.timer != 0 && c.timer_at <= *c.deadline) return;
  loop_.CancelTimer(c.timer);
  c.timer_at = *c.deadline;
  c.timer = loop_.RunAt(c.timer_at, [this, id = c.id] { OnTimer(id); });
}

void HttpServer::Drain(Connection& c) {
  if (c.end_of_input) return;
  c.end_of_input = true;  // read no more: no new request is accepted
  ++c.depth;
  c.http->OnEndOfInput();  // requests already received are answered, a partial one is dropped
  --c.depth;
}

void HttpServer::Close(uint64_t id) {
  auto it = connections_.find(id);
  if (it == connections_.end()) return;
  Connection& c = *it->second;
  assert(c.depth == 0);
  loop_.CancelTimer(c.timer);
  loop_.Unwatch(c.fd);
  close(c.fd);
  connections_.erase(it);
  AfterClose();
}

void HttpServer::AfterClose() {
  if (draining_ && connections_.empty()) return FinishShutdown();
  ResumeAccepting();
}

// ---------------------------------------------------------------------------------------------------
// Shutdown

void HttpServer::Shutdown(world::Duration grace, std::function<void()> done) {
  if (done) shutdown_done_.push_back(std::move(done));
  if (draining_) return;
  if (stopping_) return FinishShutdown();  // Stop() already closed everything
  stopping_ = true;
  draining_ = true;
  CloseListener();
  grace_timer_ = loop_.RunAfter(grace, [this] {
    grace_timer_ = 0;
    Stop();
  });
  std::vector<uint64_t> ids;
  for (const auto& [id, c] : connections_) ids.push_back(id);
  for (uint64_t id : ids) Settle(id);  // drains each; one inside its handler drains when that returns
  if (draining_ && connections_.empty()) FinishShutdown();
}

void HttpServer::Stop() {
  stopping_ = true;
  CloseListener();
  std::vector<uint64_t> ids;
  for (const auto& [id, c] : connections_) ids.push_back(id);
  for (uint64_t id : ids) {
    Connection* c = Find(id);
    if (c == nullptr) continue;
    c->close_requested = true;
    if (c->depth == 0) Close(id);  // else its outermost caller closes it
  }
  if (draining_ && connections_.empty()) FinishShutdown();
}

void HttpServer::FinishShutdown() {
  draining_ = false;
  loop_.CancelTimer(grace_timer_);
  grace_timer_ = 0;
  // Posted, never run here: `done` may destroy the server, and this may be deep inside it.
  for (std::function<void()>& done : shutdown_done_) loop_.Post(std::move(done));
  shutdown_done_.clear();
}

HttpServer::Stats HttpServer::stats() const {
  Stats stats = stats_;
  stats.open_connections = connections_.size();
  return stats;
}

}  // namespace qdsim::real
