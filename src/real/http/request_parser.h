// HttpRequestParser: an incremental HTTP/1.1 request parser. Bytes go in as they arrive, in pieces
// of any size; complete requests come out in order, including several pipelined in one piece.
//
//   HttpRequestParser parser(HttpLimits{.max_body_bytes = 32 << 20});
//   parser.Feed(bytes_from_socket);
//   for (HttpParseResult r = parser.Next(); r.kind != HttpParseResult::kNeedMore; r = parser.Next()) {
//     if (r.kind == HttpParseResult::kExpectContinue) write("HTTP/1.1 100 Continue\r\n\r\n");
//     if (r.kind == HttpParseResult::kRequest) handle(std::move(r.request));
//     if (r.kind == HttpParseResult::kError) { answer(r.error.status, r.error.message); close(); break; }
//   }
//
// What it accepts (RFC 9112, strictly, since a lenient parser behind or in front of another one is
// how requests get smuggled):
//   - Request line "METHOD SP target SP HTTP/1.x" with single spaces; empty lines before it are
//     skipped (RFC 9112 §2.2). HTTP/1.0 and 1.1; 1.x for x > 1 is treated as 1.1; other major
//     versions get 505.
//   - Lines end in CRLF or a lone LF (as nginx and most servers accept); a CR anywhere else is 400.
//   - Header "name: value" with a token name and no space before the colon; obs-fold (a line starting
//     with a space or tab) is 400; a value may not contain control characters other than tab.
//   - HTTP/1.1 requires exactly one Host field; more than one is 400 in any version.
//   - The body is framed by one Content-Length (digits only; a second Content-Length field, even an
//     equal one, is 400; a number too large for 64 bits is 413) or by "Transfer-Encoding: chunked"
//     (any other coding is 501; chunked together with Content-Length, or in HTTP/1.0, is 400).
//     Chunk extensions and trailer fields are read and ignored; trailers count against the header
//     limits. No framing means no body.
//   - "Expect: 100-continue" on an HTTP/1.1 request with a body yields kExpectContinue once the
//     headers have been validated (so never before a 413 decided from Content-Length), before the
//     body is read; it is yielded even if body bytes already arrived, which RFC 9110 §10.1.1 allows,
//     so that the events do not depend on how the bytes were split. Any other expectation is 417.
//     HTTP/1.0 requests' Expect is ignored (RFC 9110 §10.1.1).
//
// Limits are enforced as soon as they can be decided: an over-long request line is 414 and an
// over-long header section 431 without waiting for the line to end, and a Content-Length above
// max_body_bytes is 413 before any body byte arrives. The parser buffers at most about one line (or
// chunk-size line) of unparsed input besides what Feed was given since the last Next, so memory stays
// bounded by the limits as long as the caller calls Next after each Feed.
//
// After an error the parser is poisoned: Next returns the same error forever and Feed drops its input.
// The connection answers the error and closes.
//
// Thread-safety: none; one parser per connection, used from one thread.
#ifndef QDSIM_REAL_HTTP_REQUEST_PARSER_H_
#define QDSIM_REAL_HTTP_REQUEST_PARSER_H_

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "real/http/request.h"

namespace qdsim::http {

// Fixed limits on what one request may contain (SPEC.md §7).
struct HttpLimits {
  size_t max_request_line_bytes = 8 * 1024;  // request line without its line ending; beyond: 414
  size_t max_header_bytes = 64 * 1024;       // header (and trailer) lines with line endings; beyond: 431
  size_t max_header_count = 100;             // header (and trailer) fields; beyond: 431
  uint64_t max_body_bytes = 32ull << 20;     // decoded body; beyond: 413 (service.max_request_size_mb)

  // The default limits with max_body_bytes = `mb` MiB, as configured by service.max_request_size_mb.
  static HttpLimits WithMaxRequestSizeMb(uint64_t mb);
};

// Why a request was refused: the HTTP status to answer with and a message for the error body.
struct HttpParseError {
  int status = 400;     // 400, 413, 414, 417, 431, 501 or 505
  std::string message;  // human-readable, never echoes request bytes
};

// One step of parsing.
struct HttpParseResult {
  enum Kind {
    kNeedMore,        // all input consumed; Feed more bytes and call Next again
    kExpectContinue,  // the headers of a request with "Expect: 100-continue" are valid: send
                      // "HTTP/1.1 100 Continue" (in order with earlier responses), then call Next
    kRequest,         // `request` is complete
    kError,           // `error` says what to answer; the parser is poisoned
  };
  Kind kind = kNeedMore;
  HttpRequest request;   // set when kind == kRequest
  HttpParseError error;  // set when kind == kError
};

class HttpRequestParser {
 public:
  explicit HttpRequestParser(HttpLimits limits = {});

  // Appends bytes to the input. Parsing happens in Next. Dropped once the parser is poisoned.
  void Feed(std::string_view bytes);

  // Parses as far as the input allows and returns the next event; kNeedMore when the input is
  // exhausted mid-request (or between requests).
  HttpParseResult Next();

  // True if bytes of a request that is not complete yet have been received (blank lines between
  // requests do not count), i.e. the client is in the middle of sending something. False when
  // poisoned.
  bool HasPartialRequest() const;

  // True after an error.
  bool poisoned() const { return state_ == State::kError; }

  // Input bytes received but not parsed yet.
  size_t buffered_bytes() const { return buffer_.size() - pos_; }

  const HttpLimits& limits() const { return limits_; }

 private:
  // Where in a request the parser is.
  enum class State {
    kRequestLine,   // before (or in) the request line; also between requests
    kHeaders,       // reading header lines
    kBody,          // reading a Content-Length body; body_remaining_ bytes to go
    kChunkSize,     // expecting a chunk-size line
    kChunkData,     // inside chunk data; body_remaining_ bytes of this chunk to go
    kChunkDataEnd,  // expecting the line ending after chunk data
    kTrailers,      // reading trailer lines after the last chunk
    kError,         // poisoned; error_ is the answer
  };

  // A line cut from the input, or why none could be.
  struct Line {
    enum Status { kComplete, kIncomplete } status = kIncomplete;
    std::string_view text;  // without the line ending; valid until the next Feed
    size_t consumed = 0;    // bytes including the line ending
  };

  // Cuts the next line from the input without consuming it.
  Line PeekLine();
  // Consumes a line returned by PeekLine.
  void Consume(const Line& line) {
    pos_ += line.consumed;
    scanned_ = pos_;
  }

  // One step per state; nullopt means progress was made and parsing continues.
  std::optional<HttpParseResult> ParseRequestLine();
  std::optional<HttpParseResult> ParseHeaderLine();
  std::optional<HttpParseResult> ParseBody();
  std::optional<HttpParseResult> ParseChunkSize();
  std::optional<HttpParseResult> ParseChunkData();
  std::optional<HttpParseResult> ParseChunkDataEnd();
  std::optional<HttpParseResult> ParseTrailerLine();

  // Checks the request line's pieces and stores them in request_.
  std::optional<HttpParseResult> AcceptRequestLine(std::string_view line);
  // Counts a header or trailer line against the limits and validates its syntax; stores it in
  // request_ if `keep`.
  std::optional<HttpParseResult> AcceptFieldLine(const Line& line, bool keep);
  // Decides the body framing once the header section is complete.
  std::optional<HttpParseResult> FinishHeaders();
  // Chooses Content-Length or chunked framing (or none), setting state_.
  std::optional<HttpParseResult> ChooseFraming();
  // Checks Expect; sets *send_continue when a 100 Continue is due.
  std::optional<HttpParseResult> CheckExpect(bool* send_continue);

  // Hands out request_ and resets the per-request state.
  HttpParseResult Complete();
  // Poisons the parser with `status` and returns the error event.
  HttpParseResult Fail(int status, std::string message);
  // Fail with the status and message of each limit (414, 431, 413).
  HttpParseResult FailRequestLineTooLong();
  HttpParseResult FailHeadersTooLarge();
  HttpParseResult FailBodyTooLarge();
  static HttpParseResult NeedMore() { return HttpParseResult{}; }

  // Drops the consumed prefix of buffer_ when that is cheap relative to what it frees.
  void Compact();

  HttpLimits limits_;
  State state_ = State::kRequestLine;
  std::string buffer_;           // input; bytes before pos_ are consumed
  size_t pos_ = 0;               // first unconsumed byte of buffer_
  size_t scanned_ = 0;           // buffer_[pos_, scanned_) is known to hold no '\n'
  HttpRequest request_;          // the request being parsed
  size_t header_bytes_ = 0;      // header (and trailer) bytes of request_ so far
  size_t header_count_ = 0;      // header (and trailer) fields of request_ so far
  uint64_t body_remaining_ = 0;  // kBody: body bytes to go; kChunkData: bytes of this chunk to go
  HttpParseError error_;         // the answer once poisoned
};

}  // namespace qdsim::http

#endif  // QDSIM_REAL_HTTP_REQUEST_PARSER_H_
