// HttpServer: the HTTP/1.1 server of the real runtime (DESIGN.md "The real runtime", SPEC.md §7). It
// listens on one address, accepts TCP connections and moves bytes between each socket and an
// http::HttpConnection, which does the parsing, the limits, pipelining and response framing. Each
// complete request goes to the handler with a Responder, which answers it now or later.
//
//   HttpServer::Options options;
//   options.host = "0.0.0.0";
//   options.port = 6333;
//   options.connection.limits = http::HttpLimits::WithMaxRequestSizeMb(32);
//   auto server = HttpServer::Start(loop, options,
//       [&](http::HttpRequest request, HttpServer::Responder respond) {
//         router.Handle(ToRest(std::move(request)), [respond](RestResponse r) { respond(ToHttp(r)); });
//       });
//   loop.Run();                                                // until SIGTERM stops the loop
//   (*server)->Shutdown(world::Seconds(10), [&] { loop.Stop(); });
//   loop.Run();                                                // in-flight requests finish, then exit
//
// What happens on each connection, in the style of redis' ae.c and muduo:
//   - Reading: only while the HttpConnection WantsRead() (its backpressure), and at most
//     max_read_bytes_per_iteration per loop iteration; level-triggered epoll calls back for the rest,
//     so one busy client cannot starve the others.
//   - Writing: output is written at once when nothing was waiting; what the socket does not take
//     waits for EPOLLOUT, which is armed only while output is pending. At most
//     max_write_bytes_per_iteration per iteration.
//   - End of input (the client shut down its side): requests already received are answered, then the
//     connection closes. EPOLLERR, EPOLLHUP or a failed read or write close it at once; answers the
//     handler still owes are then dropped (their Responders do nothing).
//   - Time-outs, one timer per connection for whichever applies: a request that has begun to arrive
//     but is not complete within request_timeout is answered 408 and the connection closes; a
//     keep-alive connection with nothing in progress closes after idle_timeout; a client that takes
//     none of our pending output for write_timeout is closed. While the handler owes an answer no
//     time-out runs: the wait is the server's, not the client's.
//   - max_connections: once that many are open the server stops accepting (the listener leaves the
//     epoll interest set) until one closes; further clients wait in the kernel's listen backlog
//     instead of being refused, as actix-web (Qdrant's server) does.
//
// Responder contract: call it once, on the loop thread, from inside the handler or at any later time.
// A call after the connection has closed, a second call, or a call after the server is destroyed
// does nothing. Responses leave in request order whatever order the handler answers in.
//
// Thread-safety: none; every method, the handler and every Responder run on the loop thread.
#ifndef QDSIM_REAL_SERVER_HTTP_SERVER_H_
#define QDSIM_REAL_SERVER_HTTP_SERVER_H_

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "node/world/time.h"
#include "real/http/connection.h"
#include "real/http/request.h"
#include "real/runtime/event_loop.h"

namespace qdsim::real {

class HttpServer {
 public:
  struct Options {
    std::string host = "0.0.0.0";  // numeric IPv4/IPv6 or a name resolved (blocking) at Start()
    uint16_t port = 0;             // 0: an ephemeral port (see port())
    // Parser limits (max_body_bytes from service.max_request_size_mb: 413 beyond it), pipelining
    // depth and output backpressure of each connection.
    http::HttpConnectionOptions connection;
    size_t max_connections = 1024;
    world::Duration request_timeout = world::Seconds(30);  // first byte of a request to its last
    world::Duration idle_timeout = world::Seconds(60);     // keep-alive connection with nothing to do
    world::Duration write_timeout = world::Seconds(30);    // pending output and no byte taken
    size_t max_read_bytes_per_iteration = 1u << 20;        // per connection per loop iteration
    size_t max_write_bytes_per_iteration = 4u << 20;       // per connection per loop iteration
  };

  // Counters for tests and monitoring.
  struct Stats {
    size_t open_connections = 0;
    uint64_t accepted_connections = 0;
    uint64_t requests = 0;          // complete requests given to the handler
    uint64_t responses = 0;         // handler answers taken by a live connection
    uint64_t request_timeouts = 0;  // stalled requests answered 408
    uint64_t idle_closes = 0;       // keep-alive connections closed after idle_timeout
    uint64_t write_timeouts = 0;    // connections closed because the client did not read
    uint64_t deferred_writes = 0;   // times output had to wait for EPOLLOUT
    uint64_t accept_pauses = 0;     // times accepting paused because max_connections were open
  };

  // Answers one request; see the Responder contract above. Copyable.
  using Responder = std::function<void(http::HttpResponse response)>;
  // Receives each complete request. It may call `respond` before returning or keep it for later.
  using Handler = std::function<void(http::HttpRequest request, Responder respond)>;

  // Binds options.host:port (SO_REUSEADDR), listens and starts accepting on `loop`. Unavailable if
  // the address cannot be bound. REQUIRES: `loop` outlives the server; handler callable;
  // options.max_connections > 0; options.connection.max_in_flight > 0.
  static absl::StatusOr<std::unique_ptr<HttpServer>> Start(EventLoop& loop, Options options, Handler handler);

  // Closes the listener and every connection at once (as Stop()). A Shutdown still draining never
  // calls its `done`. REQUIRES: not called from inside the handler.
  ~HttpServer();

  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // The port the listener is bound to (the ephemeral one when options.port was 0).
  uint16_t port() const { return port_; }

  // Graceful shutdown (SPEC.md §1, SIGTERM): closes the listener, closes connections with nothing in
  // progress, and stops reading from the others. Requests already received are still answered (with
  // "Connection: close") and their output drains; partially received ones are dropped. Once every
  // connection has closed, or when `grace` has passed (then the rest are closed), `done` runs on the
  // loop thread, never inside this call. A call while draining adds its `done` to the first's; a call
  // after the drain completed (or after Stop) only runs its `done`.
  void Shutdown(world::Duration grace, std::function<void()> done);

  // Closes the listener and every connection now; owed answers are dropped. A Shutdown in progress
  // completes (its `done` runs). May be called from inside the handler: that connection then closes
  // as soon as the handler returns.
  void Stop();

  Stats stats() const;

 private:
  // What a connection is waiting for, which decides its time-out.
  enum class Phase {
    kIdle,       // nothing received, owed or pending: idle_timeout
    kReceiving,  // part of a request has arrived: request_timeout from its first byte
    kServing,    // the handler owes an answer: no time-out
    kWriting,    // output waits for the client to read: write_timeout since the last progress
  };

  // One client connection, known by id (never by pointer or fd outside this class), so that a late
  // Responder or a stale event finds nothing once it is gone.
  struct Connection {
    uint64_t id = 0;  // never reused within one server
    int fd = -1;      // the accepted socket, owned
    // Parsing, pipelining and output of this client.
    std::unique_ptr<http::HttpConnection> http;
    uint32_t interest = 0;                   // the epoll events currently requested
    bool awaiting_writable = false;          // output is pending and waits for EPOLLOUT
    bool end_of_input = false;               // read() returned 0, or the server stopped reading
    bool close_requested = false;            // close as soon as no call into `http` is on the stack
    int depth = 0;                           // calls into `http` (and so into the handler) on the stack
    Phase phase = Phase::kIdle;              // the phase the timer was last set for
    world::Instant phase_since;              // when `phase` began (for kWriting: the last progress)
    uint64_t requests = 0;                   // requests dispatched on this connection
    uint64_t requests_at_phase = 0;          // `requests` when `phase` began (a new request restarts it)
    bool wrote = false;                      // bytes were written since the last Settle
    std::optional<world::Instant> deadline;  // when the current phase times out; none in kServing
    EventLoop::TimerId timer = 0;            // fires at or before `deadline`, then re-arms or acts
    world::Instant timer_at;                 // when `timer` fires
  };

  HttpServer(EventLoop& loop, Options options, Handler handler);
  absl::Status Listen();

  // Accepting.
  void OnAcceptable();
  void AcceptOne(int fd);
  void PauseAccepting();
  void ResumeAccepting();
  void CloseListener();

  // One connection's life; each entry point ends in Settle.
  Connection* Find(uint64_t id);
  void OnEvents(uint64_t id, uint32_t events);
  void ReadFrom(Connection& c);
  void Dispatch(uint64_t id, uint64_t seq, http::HttpRequest request);
  void OnResponse(uint64_t id, uint64_t seq, http::HttpResponse response);
  void OnTimer(uint64_t id);
  // After anything happened to `id`: writes what it can, closes if due, updates the epoll interest
  // and the timer. Does nothing while a call into the connection is on the stack (the outermost
  // caller settles), so a connection is never destroyed under its own dispatch.
  void Settle(uint64_t id);
  // Writes pending output; false if the connection broke.
  bool Flush(Connection& c);
  void UpdateInterest(Connection& c);
  Phase Classify(const Connection& c) const;
  void UpdateTimer(Connection& c);
  // The server stops reading from `c` and lets it finish what it has (Shutdown).
  void Drain(Connection& c);
  // Unwatches, closes and destroys `id`. REQUIRES: its depth is 0.
  void Close(uint64_t id);
  // Called when a connection closed: resumes accepting, or finishes a Shutdown.
  void AfterClose();
  void FinishShutdown();

  EventLoop& loop_;
  const Options options_;
  const Handler handler_;
  int listen_fd_ = -1;                                // -1 once closed (Shutdown, Stop)
  uint16_t port_ = 0;                                 // the bound port
  bool accept_paused_ = false;                        // at max_connections: the listener is not watched
  EventLoop::TimerId accept_retry_timer_ = 0;         // set while accepting pauses after EMFILE and the like
  bool stopping_ = false;                             // Shutdown or Stop called: no new connections
  bool draining_ = false;                             // Shutdown in progress
  EventLoop::TimerId grace_timer_ = 0;                // ends the Shutdown's grace period
  std::vector<std::function<void()>> shutdown_done_;  // run once the drain completes
  std::map<uint64_t, std::unique_ptr<Connection>> connections_;  // open connections by id
  uint64_t next_id_ = 1;                                         // id of the next accepted connection
  std::vector<char> read_buffer_;  // shared by every read (one at a time on the loop thread)
  Stats stats_;                    // counters; open_connections is filled in by stats()
  // Responders hold a weak reference, so they do nothing once the server is gone. (Timers need
  // none: the destructor cancels every timer it set.)
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace qdsim::real

#endif  // QDSIM_REAL_SERVER_HTTP_SERVER_H_
