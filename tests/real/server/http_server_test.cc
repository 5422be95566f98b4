// HttpServer over real sockets on 127.0.0.1 (ephemeral ports), with the loop run in the test thread
// and non-blocking clients read between loop iterations: keep-alive, pipelining answered out of
// order, answers that come after the client (or the server) is gone, malformed and oversize
// requests, the three time-outs, a 10 MiB response to a slow reader, the connection cap, capped
// reads, and graceful shutdown (from outside and from inside the handler).
#include "real/server/http_server.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "node/world/strings.h"
#include "tests/real/runtime/test_util.h"

namespace qdsim::real {
namespace {

using ::qdsim::real::testing::RunFor;
using ::qdsim::real::testing::RunUntil;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

// One response as the client saw it.
struct Response {
  int status = 0;
  std::string head;  // status line and headers
  std::string body;
  bool close() const { return head.find("\r\nConnection: close\r\n") != std::string::npos; }
};

// A non-blocking client socket. Pump() reads what has arrived, so a test drives the server's loop
// and the client alternately in one thread without ever blocking.
class Client {
 public:
  // Connects to 127.0.0.1:port (a loopback connect completes in the kernel, before any accept).
  // `receive_buffer` > 0 shrinks SO_RCVBUF, so that the server's writes fill it quickly.
  explicit Client(uint16_t port, int receive_buffer = 0) {
    fd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (receive_buffer > 0) setsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &receive_buffer, sizeof(receive_buffer));
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0) << strerror(errno);
    fcntl(fd_, F_SETFL, fcntl(fd_, F_GETFL) | O_NONBLOCK);
  }
  ~Client() { Close(); }
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  // Small writes only: the kernel buffer takes them whole.
  void Send(std::string_view bytes) {
    ASSERT_EQ(send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL), static_cast<ssize_t>(bytes.size()));
  }

  // Reads up to `max` bytes of what has arrived; notes end of stream or a reset.
  void Pump(size_t max = SIZE_MAX) {
    char chunk[64 * 1024];
    while (!closed_ && max > 0) {
      const ssize_t n = recv(fd_, chunk, std::min(sizeof(chunk), max), MSG_DONTWAIT);
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return;
      if (n <= 0) {
        closed_ = true;
        return;
      }
      received_.append(chunk, static_cast<size_t>(n));
      max -= static_cast<size_t>(n);
    }
  }

  // The oldest complete response received, removed from the buffer.
  std::optional<Response> TakeResponse() {
    const size_t head_end = received_.find("\r\n\r\n");
    if (head_end == std::string::npos) return std::nullopt;
    Response r;
    r.head = received_.substr(0, head_end + 2);
    r.status = std::stoi(r.head.substr(9, 3));
    size_t length = 0;
    if (size_t at = r.head.find("\r\nContent-Length: "); at != std::string::npos) {
      length = std::stoul(r.head.substr(at + 18));
    }
    if (received_.size() < head_end + 4 + length) return std::nullopt;
    r.body = received_.substr(head_end + 4, length);
    received_.erase(0, head_end + 4 + length);
    return r;
  }

  void ShutdownWrite() { shutdown(fd_, SHUT_WR); }
  // Closes with a reset (SO_LINGER 0) instead of a FIN.
  void Reset() {
    linger hard{1, 0};
    setsockopt(fd_, SOL_SOCKET, SO_LINGER, &hard, sizeof(hard));
    Close();
  }
  void Close() {
    if (fd_ >= 0) close(fd_);
    fd_ = -1;
  }

  bool closed() const { return closed_; }
  const std::string& received() const { return received_; }

 private:
  int fd_ = -1;
  bool closed_ = false;   // the server closed (or reset) the connection
  std::string received_;  // bytes not taken as responses yet
};

std::string Get(std::string_view path, std::string_view extra_headers = "") {
  return absl::StrCat("GET ", world::Sv(path), " HTTP/1.1\r\nHost: test\r\n", world::Sv(extra_headers),
                      "\r\n");
}

// True if nothing listens on 127.0.0.1:port any more.
bool ConnectRefused(uint16_t port) {
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  const bool refused =
      connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 && errno == ECONNREFUSED;
  close(fd);
  return refused;
}

class HttpServerTest : public ::testing::Test {
 protected:
  // A server on 127.0.0.1 whose handler defaults to answering 200 with the request's path.
  std::unique_ptr<HttpServer> Start(HttpServer::Options options = {}, HttpServer::Handler handler = nullptr) {
    options.host = "127.0.0.1";
    if (!handler) {
      handler = [](http::HttpRequest request, HttpServer::Responder respond) {
        respond(http::HttpResponse::Json(200, absl::StrCat("\"", request.path, "\"")));
      };
    }
    auto server = HttpServer::Start(*loop_, options, std::move(handler));
    EXPECT_TRUE(server.ok()) << server.status();
    return server.ok() ? std::move(*server) : nullptr;
  }

  // Runs the loop until `client` holds a complete response.
  std::optional<Response> Await(Client& client) {
    std::optional<Response> response;
    RunUntil(*loop_, [&] {
      client.Pump();
      response = client.TakeResponse();
      return response.has_value() || client.closed();
    });
    return response;
  }

  // Runs the loop until the server has closed `client`'s connection (what it sent first is kept).
  bool AwaitClosed(Client& client) {
    return RunUntil(*loop_, [&] {
      client.Pump();
      return client.closed();
    });
  }

  std::unique_ptr<EventLoop> loop_ = std::move(*EventLoop::Create());
};

TEST_F(HttpServerTest, KeepAliveServesASecondRequestOnTheSameConnection) {
  auto server = Start();
  ASSERT_NE(server->port(), 0);
  Client client(server->port());
  client.Send(Get("/first"));
  std::optional<Response> first = Await(client);
  ASSERT_TRUE(first.has_value());
  EXPECT_EQ(first->status, 200);
  EXPECT_EQ(first->body, "\"/first\"");
  EXPECT_FALSE(first->close());
  client.Send(Get("/second"));
  std::optional<Response> second = Await(client);
  ASSERT_TRUE(second.has_value());
  EXPECT_EQ(second->body, "\"/second\"");
  EXPECT_FALSE(client.closed());
  const HttpServer::Stats stats = server->stats();
  EXPECT_EQ(stats.accepted_connections, 1u);
  EXPECT_EQ(stats.open_connections, 1u);
  EXPECT_EQ(stats.requests, 2u);
  EXPECT_EQ(stats.responses, 2u);
}

TEST_F(HttpServerTest, PipelinedRequestsAreAnsweredInOrderWhenTheHandlerIsNot) {
  std::vector<std::string> answered;  // the order the handler answered in
  auto server = Start({}, [&](http::HttpRequest request, HttpServer::Responder respond) {
    auto answer = [&answered, path = request.path, respond] {
      answered.push_back(path);
      respond(http::HttpResponse::Json(200, absl::StrCat("\"", path, "\"")));
    };
    if (request.path == "/slow") {
      loop_->RunAfter(world::Millis(50), answer);
    } else {
      answer();
    }
  });
  Client client(server->port());
  client.Send(Get("/slow") + Get("/fast") + Get("/last"));
  std::vector<std::string> bodies;
  ASSERT_TRUE(RunUntil(*loop_, [&] {
    client.Pump();
    while (std::optional<Response> r = client.TakeResponse()) bodies.push_back(r->body);
    return bodies.size() == 3;
  }));
  EXPECT_THAT(answered, ElementsAre("/fast", "/last", "/slow"));
  EXPECT_THAT(bodies, ElementsAre("\"/slow\"", "\"/fast\"", "\"/last\""));
}

TEST_F(HttpServerTest, AnswerAfterTheClientLeftDoesNothingBad) {
  std::vector<HttpServer::Responder> pending;
  auto server =
      Start({}, [&](http::HttpRequest, HttpServer::Responder respond) { pending.push_back(respond); });
  {
    // Half-close: the server still owes the answer and writes it into the closed socket.
    Client polite(server->port());
    polite.Send(Get("/a"));
    ASSERT_TRUE(RunUntil(*loop_, [&] { return pending.size() == 1; }));
    polite.Close();
    RunFor(*loop_, world::Millis(20));
    pending[0](http::HttpResponse::Json(200, "1"));
    ASSERT_TRUE(RunUntil(*loop_, [&] { return server->stats().open_connections == 0; }));
  }
  {
    // Reset: the connection is gone before the answer; the answer goes nowhere.
    Client rude(server->port());
    rude.Send(Get("/b"));
    ASSERT_TRUE(RunUntil(*loop_, [&] { return pending.size() == 2; }));
    rude.Reset();
    ASSERT_TRUE(RunUntil(*loop_, [&] { return server->stats().open_connections == 0; }));
    const uint64_t responses = server->stats().responses;
    pending[1](http::HttpResponse::Json(200, "2"));
    pending[1](http::HttpResponse::Json(200, "again"));  // a second call is ignored as well
    RunFor(*loop_, world::Millis(10));
    EXPECT_EQ(server->stats().responses, responses);
  }
  // The server still serves.
  pending.clear();
  Client next(server->port());
  next.Send(Get("/c"));
  ASSERT_TRUE(RunUntil(*loop_, [&] { return pending.size() == 1; }));
  pending[0](http::HttpResponse::Json(200, "3"));
  std::optional<Response> r = Await(next);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->body, "3");
}

TEST_F(HttpServerTest, AnswerAfterTheServerIsDestroyedDoesNothing) {
  std::vector<HttpServer::Responder> pending;
  auto server =
      Start({}, [&](http::HttpRequest, HttpServer::Responder respond) { pending.push_back(respond); });
  Client client(server->port());
  client.Send(Get("/a"));
  ASSERT_TRUE(RunUntil(*loop_, [&] { return pending.size() == 1; }));
  server.reset();
  EXPECT_EQ(loop_->watched_fds(), 0u);
  EXPECT_EQ(loop_->pending_timers(), 0u);
  pending[0](http::HttpResponse::Json(200, "late"));
  EXPECT_TRUE(AwaitClosed(client));
  EXPECT_EQ(client.received(), "");
}

TEST_F(HttpServerTest, MalformedRequestGets400AndCloseWhileOthersAreServed) {
  auto server = Start();
  Client good(server->port());
  Client bad(server->port());
  bad.Send("GET /x HTTP/1.1\r\nHost: a\r\nBad Header: space before colon\r\n\r\n");
  std::optional<Response> error = Await(bad);
  ASSERT_TRUE(error.has_value());
  EXPECT_EQ(error->status, 400);
  EXPECT_TRUE(error->close());
  EXPECT_THAT(error->body, HasSubstr("\"error\""));
  EXPECT_TRUE(AwaitClosed(bad));
  good.Send(Get("/ok"));
  std::optional<Response> ok = Await(good);
  ASSERT_TRUE(ok.has_value());
  EXPECT_EQ(ok->status, 200);
  EXPECT_EQ(server->stats().requests, 1u);
}

TEST_F(HttpServerTest, OversizeContentLengthGets413BeforeTheBody) {
  HttpServer::Options options;
  options.connection.limits.max_body_bytes = 1024;
  auto server = Start(options);
  Client client(server->port());
  client.Send("POST /collections HTTP/1.1\r\nHost: a\r\nContent-Length: 1048576\r\n\r\n{\"a\":");
  std::optional<Response> r = Await(client);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->status, 413);
  EXPECT_TRUE(AwaitClosed(client));
  EXPECT_EQ(server->stats().requests, 0u);
}

TEST_F(HttpServerTest, StalledRequestGets408AfterTheRequestTimeout) {
  HttpServer::Options options;
  options.request_timeout = world::Millis(100);
  auto server = Start(options);
  Client client(server->port());
  const world::Instant start = loop_->Now();
  client.Send("GET /slowloris HTTP/1.1\r\nHost: a\r\n");  // the headers never end
  // Trickled bytes do not extend a request's deadline.
  RunFor(*loop_, world::Millis(40));
  client.Send("X-One: 1\r\n");
  std::optional<Response> r = Await(client);
  ASSERT_TRUE(r.has_value());
  EXPECT_GE(loop_->Now() - start, world::Millis(100));
  EXPECT_LT(loop_->Now() - start, world::Millis(1000));
  EXPECT_EQ(r->status, 408);
  EXPECT_TRUE(AwaitClosed(client));
  EXPECT_EQ(server->stats().request_timeouts, 1u);
  EXPECT_EQ(server->stats().requests, 0u);
}

TEST_F(HttpServerTest, IdleKeepAliveConnectionClosesAfterTheIdleTimeout) {
  HttpServer::Options options;
  options.idle_timeout = world::Millis(300);
  auto server = Start(options);
  Client client(server->port());
  // Requests every 100 ms keep the connection open well past one idle time-out.
  for (int i = 0; i < 4; ++i) {
    client.Send(Get("/tick"));
    ASSERT_TRUE(Await(client).has_value());
    RunFor(*loop_, world::Millis(100));
  }
  EXPECT_FALSE(client.closed());
  EXPECT_EQ(server->stats().idle_closes, 0u);
  const world::Instant idle_since = loop_->Now();
  EXPECT_TRUE(AwaitClosed(client));
  EXPECT_GE(loop_->Now() - idle_since, world::Millis(150));  // 300 ms after the last answer
  EXPECT_EQ(client.received(), "");                          // a quiet close
  EXPECT_EQ(server->stats().idle_closes, 1u);
  EXPECT_EQ(server->stats().open_connections, 0u);
}

// A handler answering every request with `bytes` bytes of a recognisable pattern.
HttpServer::Handler BigAnswer(size_t bytes) {
  return [bytes](http::HttpRequest, HttpServer::Responder respond) {
    http::HttpResponse response;
    response.content_type = "application/octet-stream";
    response.body.resize(bytes);
    for (size_t i = 0; i < bytes; ++i) response.body[i] = static_cast<char>('a' + (i / 1000) % 26);
    respond(std::move(response));
  };
}

TEST_F(HttpServerTest, TenMebibyteResponseReachesASlowReader) {
  constexpr size_t kBody = 10u << 20;
  HttpServer::Options options;
  options.write_timeout = world::Seconds(5);
  auto server = Start(options, BigAnswer(kBody));
  Client client(server->port(), /*receive_buffer=*/64 * 1024);
  client.Send(Get("/big"));
  RunFor(*loop_, world::Millis(50));  // not reading: the server's socket fills up
  EXPECT_GT(server->stats().deferred_writes, 0u);
  EXPECT_EQ(server->stats().open_connections, 1u);
  // A slow reader: a little per loop iteration. Short waits, since the server is woken only once
  // its send buffer has drained to half.
  std::optional<Response> r;
  const world::Instant deadline = loop_->Now() + world::Seconds(5);
  while (!(r = client.TakeResponse()) && !client.closed() && loop_->Now() < deadline) {
    loop_->RunOnce(world::Millis(1));
    client.Pump(/*max=*/256 * 1024);
  }
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->status, 200);
  ASSERT_EQ(r->body.size(), kBody);
  std::string expected;
  BigAnswer(kBody)({}, [&](http::HttpResponse response) { expected = std::move(response.body); });
  EXPECT_TRUE(r->body == expected);
  EXPECT_FALSE(client.closed());
  EXPECT_EQ(server->stats().write_timeouts, 0u);
}

TEST_F(HttpServerTest, ClientThatDoesNotReadIsClosedAfterTheWriteTimeout) {
  HttpServer::Options options;
  options.write_timeout = world::Millis(150);
  auto server = Start(options, BigAnswer(10u << 20));
  Client client(server->port(), /*receive_buffer=*/64 * 1024);
  const world::Instant start = loop_->Now();
  client.Send(Get("/big"));
  ASSERT_TRUE(RunUntil(*loop_, [&] { return server->stats().requests == 1; }));
  ASSERT_TRUE(RunUntil(*loop_, [&] { return server->stats().open_connections == 0; }));
  EXPECT_GE(loop_->Now() - start, world::Millis(150));
  EXPECT_EQ(server->stats().write_timeouts, 1u);
  EXPECT_GT(server->stats().deferred_writes, 0u);
}

TEST_F(HttpServerTest, MaxConnectionsPausesAcceptingUntilOneCloses) {
  HttpServer::Options options;
  options.max_connections = 2;
  auto server = Start(options);
  Client a(server->port());
  Client b(server->port());
  a.Send(Get("/a"));
  b.Send(Get("/b"));
  ASSERT_TRUE(Await(a).has_value());
  ASSERT_TRUE(Await(b).has_value());
  Client c(server->port());  // completes in the kernel's backlog
  c.Send(Get("/c"));
  RunFor(*loop_, world::Millis(50));
  c.Pump();
  EXPECT_FALSE(c.TakeResponse().has_value());
  EXPECT_EQ(server->stats().open_connections, 2u);
  EXPECT_EQ(server->stats().accepted_connections, 2u);
  EXPECT_GE(server->stats().accept_pauses, 1u);
  a.Close();
  std::optional<Response> r = Await(c);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->body, "\"/c\"");
  EXPECT_EQ(server->stats().accepted_connections, 3u);
  EXPECT_EQ(server->stats().open_connections, 2u);
}

TEST_F(HttpServerTest, EndOfInputAnswersWhatArrivedThenCloses) {
  auto server = Start();
  Client client(server->port());
  client.Send(Get("/one") + Get("/two"));
  client.ShutdownWrite();
  std::vector<std::string> bodies;
  ASSERT_TRUE(AwaitClosed(client));
  while (std::optional<Response> r = client.TakeResponse()) bodies.push_back(r->body);
  EXPECT_THAT(bodies, ElementsAre("\"/one\"", "\"/two\""));
  EXPECT_EQ(server->stats().open_connections, 0u);
}

TEST_F(HttpServerTest, CappedReadsStillServeEveryPipelinedRequest) {
  HttpServer::Options options;
  options.max_read_bytes_per_iteration = 7;  // a request takes several loop iterations
  auto server = Start(options);
  Client client(server->port());
  client.Send(Get("/1") + Get("/2") + Get("/3"));
  std::vector<std::string> bodies;
  ASSERT_TRUE(RunUntil(*loop_, [&] {
    client.Pump();
    while (std::optional<Response> r = client.TakeResponse()) bodies.push_back(r->body);
    return bodies.size() == 3;
  }));
  EXPECT_THAT(bodies, ElementsAre("\"/1\"", "\"/2\"", "\"/3\""));
}

TEST_F(HttpServerTest, ShutdownLetsAnInFlightRequestFinishThenCallsDone) {
  std::vector<HttpServer::Responder> pending;
  auto server = Start({}, [&](http::HttpRequest request, HttpServer::Responder respond) {
    if (request.path == "/work") {
      pending.push_back(respond);
    } else {
      respond(http::HttpResponse::Json(200, "\"quick\""));
    }
  });
  const uint16_t port = server->port();
  Client idle(port);
  idle.Send(Get("/quick"));
  ASSERT_TRUE(Await(idle).has_value());
  Client busy(port);
  busy.Send(Get("/work"));
  ASSERT_TRUE(RunUntil(*loop_, [&] { return pending.size() == 1; }));
  bool done = false;
  server->Shutdown(world::Seconds(5), [&] { done = true; });
  EXPECT_FALSE(done);  // never inside Shutdown
  EXPECT_TRUE(ConnectRefused(port));
  EXPECT_TRUE(AwaitClosed(idle));  // nothing in progress: closed at once
  RunFor(*loop_, world::Millis(20));
  EXPECT_FALSE(done);
  EXPECT_EQ(server->stats().open_connections, 1u);
  pending[0](http::HttpResponse::Json(200, "\"finished\""));
  std::optional<Response> r = Await(busy);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->body, "\"finished\"");
  EXPECT_TRUE(r->close());
  EXPECT_TRUE(AwaitClosed(busy));
  ASSERT_TRUE(RunUntil(*loop_, [&] { return done; }));
  EXPECT_EQ(server->stats().open_connections, 0u);
}

TEST_F(HttpServerTest, ShutdownGraceClosesRequestsThatNeverFinish) {
  std::vector<HttpServer::Responder> pending;
  auto server =
      Start({}, [&](http::HttpRequest, HttpServer::Responder respond) { pending.push_back(respond); });
  Client client(server->port());
  client.Send(Get("/forever"));
  ASSERT_TRUE(RunUntil(*loop_, [&] { return pending.size() == 1; }));
  bool done = false;
  const world::Instant start = loop_->Now();
  server->Shutdown(world::Millis(100), [&] { done = true; });
  ASSERT_TRUE(RunUntil(*loop_, [&] { return done; }));
  EXPECT_GE(loop_->Now() - start, world::Millis(100));
  EXPECT_EQ(server->stats().open_connections, 0u);
  EXPECT_TRUE(AwaitClosed(client));
  pending[0](http::HttpResponse::Json(200, "\"too late\""));
  EXPECT_EQ(client.received(), "");
  // A Shutdown after the drain completed still reports completion.
  bool again = false;
  server->Shutdown(world::Millis(100), [&] { again = true; });
  ASSERT_TRUE(RunUntil(*loop_, [&] { return again; }));
}

TEST_F(HttpServerTest, ShutdownFromInsideTheHandler) {
  bool done = false;
  HttpServer* self = nullptr;
  auto server = Start({}, [&](http::HttpRequest, HttpServer::Responder respond) {
    self->Shutdown(world::Seconds(5), [&] { done = true; });
    respond(http::HttpResponse::Json(200, "\"bye\""));
  });
  self = server.get();
  Client client(server->port());
  client.Send(Get("/quit") + Get("/never"));  // the second is pipelined behind a closing answer
  ASSERT_TRUE(AwaitClosed(client));
  std::optional<Response> r = client.TakeResponse();
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->body, "\"bye\"");
  EXPECT_TRUE(r->close());
  EXPECT_FALSE(client.TakeResponse().has_value());
  ASSERT_TRUE(RunUntil(*loop_, [&] { return done; }));
  EXPECT_EQ(server->stats().requests, 1u);
}

TEST_F(HttpServerTest, StopFromInsideTheHandlerClosesEverything) {
  HttpServer* self = nullptr;
  auto server = Start({}, [&](http::HttpRequest, HttpServer::Responder respond) {
    self->Stop();
    respond(http::HttpResponse::Json(200, "\"unsent\""));
  });
  self = server.get();
  Client other(server->port());
  Client client(server->port());
  client.Send(Get("/stop"));
  EXPECT_TRUE(AwaitClosed(client));
  EXPECT_TRUE(AwaitClosed(other));
  EXPECT_EQ(client.received(), "");
  EXPECT_EQ(server->stats().open_connections, 0u);
  EXPECT_EQ(loop_->watched_fds(), 0u);
}

}  // namespace
}  // namespace qdsim::real
