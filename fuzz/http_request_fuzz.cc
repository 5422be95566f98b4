// Fuzzes what an HTTP client can send. The input is the byte stream itself (so corpus files are
// plain HTTP); a hash of it seeds the choices the fuzzer does not make directly: the limits, the
// piece sizes, the in-flight cap and when and in which order requests are answered. Checked:
//   - the parser's events (requests, 100-continue, the error status and message) are the same
//     whether the stream arrives at once or in pieces, and it never buffers more than a line;
//   - the connection, answering in random order and respecting WantsRead, never exceeds its
//     in-flight cap or output bound, writes only responses, and once the client's input ends and
//     everything is answered, it is ready to close.
// Nothing may crash or trip a sanitizer.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "real/http/connection.h"
#include "real/http/request_parser.h"

namespace {

using namespace qdsim::http;

// splitmix64: a tiny deterministic generator for the fuzzer's own choices.
class Rng {
 public:
  explicit Rng(uint64_t seed) : state_(seed) {}
  uint64_t Next() {
    uint64_t z = (state_ += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }
  // Uniform in [0, n). REQUIRES: n > 0.
  uint64_t Below(uint64_t n) { return Next() % n; }

 private:
  uint64_t state_;
};

uint64_t Fnv1a(std::string_view bytes) {
  uint64_t h = 0xcbf29ce484222325ull;
  for (unsigned char c : bytes) h = (h ^ c) * 0x100000001b3ull;
  return h;
}

// Small limits make every limit reachable with short inputs.
HttpLimits ChooseLimits(Rng& rng) {
  if (rng.Below(2) == 0) return HttpLimits{};
  HttpLimits limits;
  limits.max_request_line_bytes = 16 + rng.Below(128);
  limits.max_header_bytes = 16 + rng.Below(512);
  limits.max_header_count = 1 + rng.Below(8);
  limits.max_body_bytes = rng.Below(256);
  return limits;
}

// Cuts `input` into pieces of random sizes (occasionally empty).
std::vector<std::string_view> Pieces(std::string_view input, Rng& rng) {
  std::vector<std::string_view> pieces;
  size_t at = 0;
  while (at < input.size()) {
    const size_t n = std::min<size_t>(input.size() - at, rng.Below(4) == 0 ? rng.Below(512) : rng.Below(16));
    pieces.push_back(input.substr(at, n));
    at += n;
  }
  return pieces;
}

bool SameRequest(const HttpRequest& a, const HttpRequest& b) {
  if (a.headers.size() != b.headers.size()) return false;
  for (size_t i = 0; i < a.headers.size(); ++i) {
    if (a.headers.entries()[i].name != b.headers.entries()[i].name ||
        a.headers.entries()[i].value != b.headers.entries()[i].value) {
      return false;
    }
  }
  return a.method == b.method && a.target == b.target && a.path == b.path && a.segments == b.segments &&
         a.query == b.query && a.body == b.body && a.version == b.version && a.keep_alive == b.keep_alive;
}

bool SameEvent(const HttpParseResult& a, const HttpParseResult& b) {
  if (a.kind != b.kind) return false;
  if (a.kind == HttpParseResult::kRequest) return SameRequest(a.request, b.request);
  if (a.kind == HttpParseResult::kError)
    return a.error.status == b.error.status && a.error.message == b.error.message;
  return true;
}

// The most a parser may hold after answering kNeedMore: about one line under the limits.
size_t MaxBuffered(const HttpLimits& limits) {
  return std::max({limits.max_request_line_bytes + 1, limits.max_header_bytes, size_t{4097}});
}

// Drains events after a Feed; false once an error ended parsing.
bool Drain(HttpRequestParser& parser, std::vector<HttpParseResult>* events) {
  while (true) {
    HttpParseResult result = parser.Next();
    if (result.kind == HttpParseResult::kNeedMore) {
      if (parser.buffered_bytes() > MaxBuffered(parser.limits())) __builtin_trap();
      return true;
    }
    const bool error = result.kind == HttpParseResult::kError;
    events->push_back(std::move(result));
    if (error) return false;
  }
}

void CheckSplitInvariance(std::string_view input, const HttpLimits& limits, Rng& rng) {
  HttpRequestParser whole_parser(limits);
  whole_parser.Feed(input);
  std::vector<HttpParseResult> whole;
  Drain(whole_parser, &whole);

  HttpRequestParser split_parser(limits);
  std::vector<HttpParseResult> split;
  for (std::string_view piece : Pieces(input, rng)) {
    split_parser.Feed(piece);
    if (!Drain(split_parser, &split)) break;
  }
  if (whole.size() != split.size()) __builtin_trap();
  for (size_t i = 0; i < whole.size(); ++i) {
    if (!SameEvent(whole[i], split[i])) __builtin_trap();
  }
}

// A connection whose handler answers some requests at once and defers the rest.
class ConnectionRun {
 public:
  ConnectionRun(const HttpLimits& limits, Rng& rng)
      : rng_(rng), options_(Options(limits, rng)), conn_(options_, [this](uint64_t seq, HttpRequest request) {
          if (rng_.Below(3) == 0) {
            Answer(seq, request.path);
          } else {
            owed_.push_back({seq, request.path});
          }
        }) {}

  void Run(std::string_view input) {
    for (std::string_view piece : Pieces(input, rng_)) {
      for (int i = 0; !conn_.WantsRead() && !conn_.closing(); ++i) {
        if (i == 10000) __builtin_trap();  // answering everything must make room
        Step(/*answer_all=*/true);
      }
      if (conn_.closing()) break;
      conn_.OnBytes(piece);
      Step(/*answer_all=*/false);
      if (rng_.Below(32) == 0) conn_.OnIdleTimeout();
    }
    conn_.OnEndOfInput();
    for (int i = 0; i < 10000 && !conn_.ShouldClose(); ++i) Step(/*answer_all=*/true);
    if (!conn_.ShouldClose()) __builtin_trap();  // liveness: nothing owed, nothing pending
    if (!output_.empty() && output_.rfind("HTTP/1.1 ", 0) != 0) __builtin_trap();
  }

 private:
  static HttpConnectionOptions Options(const HttpLimits& limits, Rng& rng) {
    HttpConnectionOptions options;
    options.limits = limits;
    options.max_in_flight = 1 + rng.Below(4);
    if (rng.Below(2) == 0) options.max_buffered_output = 256;
    return options;
  }

  void Answer(uint64_t seq, const std::string& path) {
    HttpResponse response = HttpResponse::Json(rng_.Below(8) == 0 ? 503 : 200, path);
    if (rng_.Below(16) == 0) response.headers.Add("Connection", "close");
    conn_.Respond(seq, std::move(response)).IgnoreError();          // NotFound once discarded by a close
    if (conn_.Respond(seq, HttpResponse{}).ok()) __builtin_trap();  // a second answer is refused
  }

  // Answers owed requests in random order, then writes out some or all of the output.
  void Step(bool answer_all) {
    while (!owed_.empty() && (answer_all || rng_.Below(2) == 0)) {
      const size_t pick = rng_.Below(owed_.size());
      const auto [seq, path] = owed_[pick];
      owed_.erase(owed_.begin() + pick);
      Answer(seq, path);
    }
    if (conn_.InFlight() > options_.max_in_flight) __builtin_trap();
    // Output passes its bound by at most what one release adds: every in-flight response (each at
    // most a request line echoed plus framing) and one error or 100 Continue.
    const size_t slack = (options_.max_in_flight + 1) * (options_.limits.max_request_line_bytes + 512);
    if (conn_.PendingOutput().size() > options_.max_buffered_output + slack) __builtin_trap();
    const size_t n = answer_all ? conn_.PendingOutput().size() : rng_.Below(conn_.PendingOutput().size() + 1);
    output_ += conn_.PendingOutput().substr(0, n);
    conn_.Consume(n);
  }

  Rng& rng_;
  const HttpConnectionOptions options_;
  std::vector<std::pair<uint64_t, std::string>> owed_;  // deferred answers: seq and path to echo
  std::string output_;                                  // everything written so far
  HttpConnection conn_;                                 // last: its handler uses the members above
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  Rng rng(Fnv1a(input));
  const HttpLimits limits = ChooseLimits(rng);
  CheckSplitInvariance(input, limits, rng);
  ConnectionRun run(limits, rng);
  run.Run(input);
  return 0;
}
