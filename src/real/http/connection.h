// HttpConnection: the HTTP side of one client connection, without the socket. The I/O layer feeds it
// the bytes it reads and writes out the bytes it produces; requests go to a handler, which answers
// them whenever it likes, in any order. Responses leave strictly in request order, as pipelining
// requires.
//
//   HttpConnection conn(HttpConnectionOptions{}, [&](uint64_t seq, HttpRequest request) {
//     router.Dispatch(std::move(request), [&conn, seq](HttpResponse r) { conn.Respond(seq, std::move(r)); });
//   });
//   // On readable (only while conn.WantsRead()):
//   conn.OnBytes(std::string_view(buf, n));           // or conn.OnEndOfInput() when read() returns 0
//   // Whenever output is pending (after OnBytes, Respond, OnIdleTimeout):
//   size_t written = write(fd, conn.PendingOutput().data(), conn.PendingOutput().size());
//   conn.Consume(written);
//   if (conn.ShouldClose()) close(fd);
//   // When nothing arrived for the request timeout:
//   conn.OnIdleTimeout();   // 408 for a stalled request, or a plain close of an idle keep-alive
//
// Rules it implements:
//   - Keep-alive: HTTP/1.1 stays open unless the request (or the handler's response) says
//     "Connection: close"; HTTP/1.0 only with "Connection: keep-alive". The last response before a
//     close carries "Connection: close"; requests pipelined after it are never parsed.
//   - A malformed request is answered with its status (400, 413, ...) and a JSON error body in
//     Qdrant's shape, {"status":{"error":"..."},"time":0.0}, after the responses to the requests
//     before it; then the connection closes.
//   - "Expect: 100-continue": "HTTP/1.1 100 Continue" is written once every earlier response has been,
//     so it can never land inside another response.
//   - Backpressure: at most max_in_flight requests are with the handler (or answered but waiting for
//     an earlier one); beyond that, or while more than max_buffered_output bytes wait to be written,
//     no further request is parsed and WantsRead() is false. The I/O layer stops reading then, so
//     memory per connection stays bounded by the limits.
//
// The handler may run inside OnBytes, Respond, Consume, TakeOutput and OnEndOfInput (whichever makes
// room for the next buffered request), and may call Respond from inside itself.
//
// Thread-safety: none; the connection, its handler and Respond all run on the I/O loop's thread.
#ifndef QDSIM_REAL_HTTP_CONNECTION_H_
#define QDSIM_REAL_HTTP_CONNECTION_H_

#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "real/http/request.h"
#include "real/http/request_parser.h"

namespace qdsim::http {

struct HttpConnectionOptions {
  HttpLimits limits;                             // per-request limits for the parser
  size_t max_in_flight = 16;                     // requests yielded but not yet written out
  size_t max_buffered_output = size_t{8} << 20;  // stop taking requests while more output waits
};

class HttpConnection {
 public:
  // Receives each request with its sequence number (0, 1, 2, ... per connection, in arrival order;
  // a number may be skipped when it went to an error response the connection made itself).
  using RequestHandler = std::function<void(uint64_t seq, HttpRequest request)>;

  // REQUIRES: options.max_in_flight > 0; handler callable.
  HttpConnection(HttpConnectionOptions options, RequestHandler handler);

  HttpConnection(const HttpConnection&) = delete;
  HttpConnection& operator=(const HttpConnection&) = delete;

  // Bytes read from the client. Parses and dispatches as many requests as the in-flight and output
  // bounds allow; the rest stays buffered until there is room. Ignored once the connection is closing
  // or after OnEndOfInput.
  void OnBytes(std::string_view data);

  // The client will send nothing more (read returned 0). Requests already received are still
  // answered; a partial one is dropped; the connection closes once every answer is written.
  void OnEndOfInput();

  // The handler's answer to request `seq`. Bytes are released to the output as soon as every earlier
  // request has been answered. NotFound if `seq` is not a request waiting for an answer (never
  // yielded, answered already, or discarded because an earlier response closed the connection); the
  // caller may ignore that.
  absl::Status Respond(uint64_t seq, HttpResponse response);

  // The I/O layer's request timeout fired: nothing arrived from the client for too long. If a
  // request is partially received, answers 408 and closes; if the connection is idle, closes
  // without a word (ShouldClose() becomes true once the output drains). Does nothing while the
  // handler still owes an answer: then the wait is the server's, not the client's.
  void OnIdleTimeout();

  // Bytes to write to the client, oldest first. The view is valid until the next call on this object.
  std::string_view PendingOutput() const;

  // Marks the first `n` bytes of PendingOutput() as written. REQUIRES: n <= PendingOutput().size().
  void Consume(size_t n);

  // Takes every pending output byte (equivalent to copying PendingOutput() and Consume-ing it all).
  std::string TakeOutput();

  // Whether the I/O layer should read from the socket: false while backpressure holds or once no
  // more requests will be accepted.
  bool WantsRead() const;

  // True when the socket should be closed now: the connection is closing, every response it owes has
  // been released and the output has drained. An output that never drains (a client that does not
  // read) is the I/O layer's write timeout to handle.
  bool ShouldClose() const;

  // True once the connection has decided to close (error, "Connection: close", HTTP/1.0 without
  // keep-alive, timeout, end of input); it may still have responses to write first.
  bool closing() const { return closing_; }

  // True if the client is in the middle of sending a request (see HttpRequestParser). With
  // OnIdleTimeout's rules this tells a stalled request (408) from an idle keep-alive (plain close).
  bool HasPartialRequest() const;

  // Requests yielded to the handler whose responses have not been released yet.
  size_t InFlight() const;

 private:
  // One response the client will receive, in request order.
  struct Slot {
    uint64_t seq = 0;
    bool dispatched = false;          // the handler has the request, so Respond(seq) is allowed
    bool send_continue = false;       // write "100 Continue" as soon as this slot is the oldest
    bool close = false;               // the connection closes after this response
    ResponseFraming framing;          // how to frame the response (keep-alive header, HEAD)
    std::optional<std::string> wire;  // the serialized response, once known
  };

  // Parses and dispatches buffered requests while the bounds allow. Not re-entered: a Respond from
  // inside the handler only releases output, and the outer loop continues.
  void Pump();
  // True while another request may be parsed.
  bool HasRoom() const;
  // The slot for the request being parsed: the one opened by its 100-continue, or a new one.
  Slot& CurrentSlot();
  // Gives a complete request to the handler.
  void Dispatch(HttpRequest request);
  // Queues an error response the connection makes itself, then closes.
  void FailWith(int status, std::string_view message);
  // Nothing more will arrive: close once the owed responses are written.
  void FinishInput();
  // Moves answered responses (and due 100 Continues) from the front of slots_ to the output.
  void Release();
  // Slot of request `seq`, or nullptr.
  Slot* FindSlot(uint64_t seq);
  // True if some request is with the handler and not answered yet.
  bool AwaitingHandler() const;

  HttpConnectionOptions options_;
  RequestHandler handler_;
  HttpRequestParser parser_;
  std::deque<Slot> slots_;     // responses owed, consecutive seqs, oldest first
  bool open_slot_ = false;     // slots_.back() belongs to a request still being received (100-continue)
  uint64_t next_seq_ = 0;      // seq of the next slot
  std::string output_;         // bytes for the client; before out_pos_ already written
  size_t out_pos_ = 0;         // first unwritten byte of output_
  bool closing_ = false;       // no further request will be parsed; close after the owed responses
  bool end_of_input_ = false;  // the client sent EOF
  bool pumping_ = false;       // Pump is on the stack
};

}  // namespace qdsim::http

#endif  // QDSIM_REAL_HTTP_CONNECTION_H_
