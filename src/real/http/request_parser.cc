#include "real/http/request_parser.h"

#include <algorithm>
#include <limits>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"

namespace qdsim::http {
namespace {

// A chunk-size line holds a hex number and optional extensions, which nobody sends at length; the
// bound keeps a stream of extension bytes from growing the buffer.
constexpr size_t kMaxChunkSizeLineBytes = 4096;

constexpr uint64_t kMaxUint64 = std::numeric_limits<uint64_t>::max();

// Field values may hold visible characters, spaces, tabs and obs-text (RFC 9110 §5.5), not controls.
bool IsFieldValueChar(char c) {
  const auto u = static_cast<unsigned char>(c);
  return c == '\t' || (u >= 0x20 && u != 0x7F);
}

std::string_view TrimSpacesAndTabs(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// The list elements of several field values together ("a, b" and "c" → a, b, c).
std::vector<std::string_view> AllListItems(const std::vector<std::string_view>& values) {
  std::vector<std::string_view> items;
  for (std::string_view value : values) {
    for (std::string_view item : ListItems(value)) items.push_back(item);
  }
  return items;
}

// Splits "a b c" at single spaces into exactly three non-empty parts, or returns false.
bool SplitRequestLine(std::string_view line, std::string_view parts[3]) {
  const size_t first = line.find(' ');
  if (first == std::string_view::npos) return false;
  const size_t second = line.find(' ', first + 1);
  if (second == std::string_view::npos || line.find(' ', second + 1) != std::string_view::npos) return false;
  parts[0] = line.substr(0, first);
  parts[1] = line.substr(first + 1, second - first - 1);
  parts[2] = line.substr(second + 1);
  return !parts[0].empty() && !parts[1].empty() && !parts[2].empty();
}

// Outcome of reading an unbounded number.
enum class NumberStatus { kOk, kMalformed, kOverflow };

// Parses 1*DIGIT.
NumberStatus ParseDecimal(std::string_view s, uint64_t* value) {
  if (s.empty()) return NumberStatus::kMalformed;
  *value = 0;
  for (char c : s) {
    if (!absl::ascii_isdigit(static_cast<unsigned char>(c))) return NumberStatus::kMalformed;
    const uint64_t digit = c - '0';
    if (*value > (kMaxUint64 - digit) / 10) return NumberStatus::kOverflow;
    *value = *value * 10 + digit;
  }
  return NumberStatus::kOk;
}

// Parses the 1*HEXDIG prefix of `s`; *length is how many characters it took.
NumberStatus ParseHexPrefix(std::string_view s, uint64_t* value, size_t* length) {
  *value = 0;
  *length = 0;
  while (*length < s.size() && absl::ascii_isxdigit(static_cast<unsigned char>(s[*length]))) {
    if (*value > (kMaxUint64 >> 4)) return NumberStatus::kOverflow;
    const char c = absl::ascii_tolower(static_cast<unsigned char>(s[*length]));
    *value = (*value << 4) | static_cast<uint64_t>(c <= '9' ? c - '0' : c - 'a' + 10);
    ++*length;
  }
  return *length == 0 ? NumberStatus::kMalformed : NumberStatus::kOk;
}

}  // namespace

HttpLimits HttpLimits::WithMaxRequestSizeMb(uint64_t mb) {
  HttpLimits limits;
  limits.max_body_bytes = mb > (kMaxUint64 >> 20) ? kMaxUint64 : mb << 20;
  return limits;
}

HttpRequestParser::HttpRequestParser(HttpLimits limits) : limits_(limits) {}

void HttpRequestParser::Feed(std::string_view bytes) {
  if (state_ == State::kError) return;
  Compact();
  buffer_.append(bytes);
}

HttpParseResult HttpRequestParser::Next() {
  while (true) {
    std::optional<HttpParseResult> result;
    switch (state_) {
      case State::kRequestLine: result = ParseRequestLine(); break;
      case State::kHeaders: result = ParseHeaderLine(); break;
      case State::kBody: result = ParseBody(); break;
      case State::kChunkSize: result = ParseChunkSize(); break;
      case State::kChunkData: result = ParseChunkData(); break;
      case State::kChunkDataEnd: result = ParseChunkDataEnd(); break;
      case State::kTrailers: result = ParseTrailerLine(); break;
      case State::kError: {
        HttpParseResult error;
        error.kind = HttpParseResult::kError;
        error.error = error_;
        return error;
      }
    }
    if (result) return *std::move(result);
  }
}

bool HttpRequestParser::HasPartialRequest() const {
  if (state_ == State::kError) return false;
  if (state_ != State::kRequestLine) return true;
  return buffer_.find_first_not_of("\r\n", pos_) != std::string::npos;
}

HttpRequestParser::Line HttpRequestParser::PeekLine() {
  const size_t lf = buffer_.find('\n', std::max(scanned_, pos_));
  if (lf == std::string::npos) {
    scanned_ = buffer_.size();  // the next search starts where this one ended
    return Line{};
  }
  std::string_view text(buffer_.data() + pos_, lf - pos_);
  if (!text.empty() && text.back() == '\r') text.remove_suffix(1);
  return Line{Line::kComplete, text, lf + 1 - pos_};
}

std::optional<HttpParseResult> HttpRequestParser::ParseRequestLine() {
  const Line line = PeekLine();
  if (line.status == Line::kIncomplete) {
    // +1: the line may still end in CRLF, whose CR is already here.
    if (buffered_bytes() > limits_.max_request_line_bytes + 1) {
      return FailRequestLineTooLong();
    }
    return NeedMore();
  }
  Consume(line);
  if (line.text.empty()) return std::nullopt;  // blank lines before a request are skipped
  if (line.text.size() > limits_.max_request_line_bytes) {
    return FailRequestLineTooLong();
  }
  return AcceptRequestLine(line.text);
}

std::optional<HttpParseResult> HttpRequestParser::AcceptRequestLine(std::string_view line) {
  std::string_view parts[3];
  if (!SplitRequestLine(line, parts) || !IsToken(parts[0])) return Fail(400, "malformed request line");
  const std::string_view version = parts[2];
  if (version.size() != 8 || version.substr(0, 5) != "HTTP/" || !absl::ascii_isdigit(version[5]) ||
      version[6] != '.' || !absl::ascii_isdigit(version[7])) {
    return Fail(400, "malformed HTTP version in request line");
  }
  if (version[5] != '1') return Fail(505, "only HTTP/1.0 and HTTP/1.1 are supported");
  absl::StatusOr<RequestTarget> target = ParseRequestTarget(parts[1]);
  if (!target.ok()) return Fail(400, std::string(target.status().message()));
  if (target->path == "*" && parts[0] != "OPTIONS") {
    return Fail(400, "request target '*' is only for OPTIONS");
  }
  request_.method = std::string(parts[0]);
  request_.target = std::string(parts[1]);
  request_.path = std::move(target->path);
  request_.segments = std::move(target->segments);
  request_.query = std::move(target->query);
  request_.version = version[7] == '0' ? HttpVersion::kHttp10 : HttpVersion::kHttp11;
  state_ = State::kHeaders;
  return std::nullopt;
}

std::optional<HttpParseResult> HttpRequestParser::ParseHeaderLine() {
  const Line line = PeekLine();
  if (line.status == Line::kIncomplete) {
    if (header_bytes_ + buffered_bytes() > limits_.max_header_bytes) {
      return FailHeadersTooLarge();
    }
    return NeedMore();
  }
  Consume(line);
  if (!line.text.empty()) return AcceptFieldLine(line, /*keep=*/true);
  header_bytes_ += line.consumed;
  if (header_bytes_ > limits_.max_header_bytes) {
    return FailHeadersTooLarge();
  }
  return FinishHeaders();
}

std::optional<HttpParseResult> HttpRequestParser::AcceptFieldLine(const Line& line, bool keep) {
  header_bytes_ += line.consumed;
  if (header_bytes_ > limits_.max_header_bytes) {
    return FailHeadersTooLarge();
  }
  if (++header_count_ > limits_.max_header_count) {
    return Fail(431, absl::StrCat("more than ", limits_.max_header_count, " header fields"));
  }
  const std::string_view text = line.text;
  if (text.front() == ' ' || text.front() == '\t') return Fail(400, "obsolete line folding is not supported");
  const size_t colon = text.find(':');
  if (colon == std::string_view::npos) return Fail(400, "malformed header field");
  const std::string_view name = text.substr(0, colon);
  if (!IsToken(name)) return Fail(400, "malformed header field name");
  const std::string_view value = TrimSpacesAndTabs(text.substr(colon + 1));
  if (!std::all_of(value.begin(), value.end(), IsFieldValueChar)) {
    return Fail(400, "invalid character in header field value");
  }
  if (keep) request_.headers.Add(name, value);
  return std::nullopt;
}

std::optional<HttpParseResult> HttpRequestParser::FinishHeaders() {
  const size_t hosts = request_.headers.Count("Host");
  if (hosts > 1) return Fail(400, "more than one Host header field");
  if (hosts == 0 && request_.version == HttpVersion::kHttp11) return Fail(400, "missing Host header field");
  if (auto error = ChooseFraming()) return error;
  request_.keep_alive = KeepAlive(request_.version, request_.headers);
  bool send_continue = false;
  if (auto error = CheckExpect(&send_continue)) return error;
  if (!send_continue) return std::nullopt;
  HttpParseResult event;
  event.kind = HttpParseResult::kExpectContinue;
  return event;
}

std::optional<HttpParseResult> HttpRequestParser::ChooseFraming() {
  const std::vector<std::string_view> codings = request_.headers.GetAll("Transfer-Encoding");
  const std::vector<std::string_view> lengths = request_.headers.GetAll("Content-Length");
  if (!codings.empty()) {
    // Both framings at once is the classic request-smuggling vector: refuse rather than pick one.
    if (!lengths.empty()) return Fail(400, "both Transfer-Encoding and Content-Length");
    if (request_.version == HttpVersion::kHttp10)
      return Fail(400, "Transfer-Encoding in an HTTP/1.0 request");
    size_t chunked = 0;
    for (std::string_view coding : AllListItems(codings)) {
      if (!EqualsIgnoreCase(coding, "chunked")) return Fail(501, "unsupported Transfer-Encoding");
      ++chunked;
    }
    if (chunked != 1) return Fail(400, "malformed Transfer-Encoding");
    state_ = State::kChunkSize;
    return std::nullopt;
  }
  if (lengths.size() > 1) return Fail(400, "more than one Content-Length");
  uint64_t length = 0;
  if (lengths.size() == 1) {
    const NumberStatus parsed = ParseDecimal(lengths[0], &length);
    if (parsed == NumberStatus::kMalformed) return Fail(400, "invalid Content-Length");
    if (parsed == NumberStatus::kOverflow) length = kMaxUint64;  // certainly over the limit
  }
  if (length > limits_.max_body_bytes) {
    return FailBodyTooLarge();
  }
  body_remaining_ = length;
  state_ = State::kBody;  // a zero length completes the request on the next step
  return std::nullopt;
}

std::optional<HttpParseResult> HttpRequestParser::CheckExpect(bool* send_continue) {
  *send_continue = false;
  if (request_.version == HttpVersion::kHttp10) return std::nullopt;
  bool continue_requested = false;
  for (std::string_view expectation : AllListItems(request_.headers.GetAll("Expect"))) {
    if (!EqualsIgnoreCase(expectation, "100-continue")) return Fail(417, "unsupported expectation");
    continue_requested = true;
  }
  const bool body_expected = state_ == State::kChunkSize || body_remaining_ > 0;
  *send_continue = continue_requested && body_expected;
  return std::nullopt;
}

std::optional<HttpParseResult> HttpRequestParser::ParseBody() {
  const size_t n = std::min<uint64_t>(body_remaining_, buffered_bytes());
  request_.body.append(buffer_, pos_, n);
  pos_ += n;
  body_remaining_ -= n;
  if (body_remaining_ > 0) return NeedMore();
  return Complete();
}

std::optional<HttpParseResult> HttpRequestParser::ParseChunkSize() {
  const Line line = PeekLine();
  if (line.status == Line::kIncomplete) {
    if (buffered_bytes() > kMaxChunkSizeLineBytes + 1) return Fail(400, "chunk-size line is too long");
    return NeedMore();
  }
  Consume(line);
  if (line.text.size() > kMaxChunkSizeLineBytes) return Fail(400, "chunk-size line is too long");
  uint64_t size = 0;
  size_t digits = 0;
  const NumberStatus parsed = ParseHexPrefix(line.text, &size, &digits);
  if (parsed == NumberStatus::kMalformed) return Fail(400, "malformed chunk size");
  if (parsed == NumberStatus::kOverflow) size = kMaxUint64;
  // What may follow the size: whitespace, then nothing or ";extensions" (ignored, but no controls).
  const std::string_view rest = TrimSpacesAndTabs(line.text.substr(digits));
  if (parsed == NumberStatus::kOk &&
      ((!rest.empty() && rest.front() != ';') || !std::all_of(rest.begin(), rest.end(), IsFieldValueChar))) {
    return Fail(400, "malformed chunk size");
  }
  if (size > limits_.max_body_bytes - request_.body.size()) {
    return FailBodyTooLarge();
  }
  body_remaining_ = size;
  state_ = size == 0 ? State::kTrailers : State::kChunkData;
  return std::nullopt;
}

std::optional<HttpParseResult> HttpRequestParser::ParseChunkData() {
  const size_t n = std::min<uint64_t>(body_remaining_, buffered_bytes());
  request_.body.append(buffer_, pos_, n);
  pos_ += n;
  body_remaining_ -= n;
  if (body_remaining_ > 0) return NeedMore();
  state_ = State::kChunkDataEnd;
  return std::nullopt;
}

std::optional<HttpParseResult> HttpRequestParser::ParseChunkDataEnd() {
  const Line line = PeekLine();
  if (line.status == Line::kIncomplete) {
    // Only "\r" may be waiting for its "\n"; anything else can no longer become a line ending.
    if (buffered_bytes() > 1 || (buffered_bytes() == 1 && buffer_[pos_] != '\r')) {
      return Fail(400, "chunk data is not followed by a line ending");
    }
    return NeedMore();
  }
  Consume(line);
  if (!line.text.empty()) return Fail(400, "chunk data is not followed by a line ending");
  state_ = State::kChunkSize;
  return std::nullopt;
}

std::optional<HttpParseResult> HttpRequestParser::ParseTrailerLine() {
  const Line line = PeekLine();
  if (line.status == Line::kIncomplete) {
    if (header_bytes_ + buffered_bytes() > limits_.max_header_bytes) {
      return FailHeadersTooLarge();
    }
    return NeedMore();
  }
  Consume(line);
  if (line.text.empty()) return Complete();
  return AcceptFieldLine(line, /*keep=*/false);
}

HttpParseResult HttpRequestParser::Complete() {
  HttpParseResult result;
  result.kind = HttpParseResult::kRequest;
  result.request = std::move(request_);
  request_ = HttpRequest{};
  header_bytes_ = 0;
  header_count_ = 0;
  body_remaining_ = 0;
  state_ = State::kRequestLine;
  return result;
}

HttpParseResult HttpRequestParser::Fail(int status, std::string message) {
  state_ = State::kError;
  error_ = HttpParseError{status, std::move(message)};
  buffer_.clear();
  buffer_.shrink_to_fit();
  pos_ = 0;
  scanned_ = 0;
  request_ = HttpRequest{};
  HttpParseResult result;
  result.kind = HttpParseResult::kError;
  result.error = error_;
  return result;
}

HttpParseResult HttpRequestParser::FailRequestLineTooLong() {
  return Fail(414, absl::StrCat("request line is longer than ", limits_.max_request_line_bytes, " bytes"));
}

HttpParseResult HttpRequestParser::FailHeadersTooLarge() {
  return Fail(431, absl::StrCat("header section is larger than ", limits_.max_header_bytes, " bytes"));
}

HttpParseResult HttpRequestParser::FailBodyTooLarge() {
  return Fail(413, absl::StrCat("request body is larger than ", limits_.max_body_bytes, " bytes"));
}

void HttpRequestParser::Compact() {
  // Erasing costs the bytes kept; doing it only once at least as many were consumed keeps the cost
  // amortized constant per byte.
  if (pos_ == 0 || pos_ * 2 < buffer_.size()) return;
  scanned_ = std::max(scanned_, pos_) - pos_;
  buffer_.erase(0, pos_);
  pos_ = 0;
}

}  // namespace qdsim::http
