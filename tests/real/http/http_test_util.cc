#include "tests/real/http/http_test_util.h"

#include <algorithm>
#include <cctype>
#include <cstdio>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "rapidcheck.h"

namespace qdsim::http::testing_util {
namespace {

// Drains the parser's events into *events; false once an error ended parsing.
bool Drain(HttpRequestParser& parser, std::vector<std::string>* events) {
  while (true) {
    HttpParseResult result = parser.Next();
    switch (result.kind) {
      case HttpParseResult::kNeedMore: return true;
      case HttpParseResult::kExpectContinue: events->push_back("continue"); break;
      case HttpParseResult::kRequest: events->push_back("request " + Describe(result.request)); break;
      case HttpParseResult::kError:
        events->push_back(absl::StrCat("error ", result.error.status, " ", result.error.message));
        return false;
    }
  }
}

// Percent-encodes every byte outside [A-Za-z0-9-_.~]; in queries, spaces may become '+'.
std::string Encode(std::string_view raw, bool query) {
  std::string out;
  for (unsigned char c : raw) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else if (c == ' ' && query && *rc::gen::arbitrary<bool>()) {
      out.push_back('+');
    } else {
      char escaped[4];
      std::snprintf(escaped, sizeof(escaped), *rc::gen::arbitrary<bool>() ? "%%%02X" : "%%%02x", c);
      out += escaped;
    }
  }
  return out;
}

// A non-empty string over characters that need escaping in URLs as well as plain ones.
std::string GenUrlText() {
  return *rc::gen::nonEmpty(rc::gen::container<std::string>(rc::gen::element(
      'a', 'b', 'Z', '0', '9', '-', '_', '.', ' ', '/', '%', '+', '&', '=', '?', '#', '\xc3', '\xa9', '\0')));
}

// The request target; fills the expected path, segments and query.
std::string GenTarget(HttpRequest* expected) {
  std::vector<std::string> segments(*rc::gen::inRange(0, 4));
  for (std::string& segment : segments) segment = GenUrlText();
  std::string target;
  for (const std::string& segment : segments) absl::StrAppend(&target, "/", Encode(segment, false));
  expected->path = absl::StrCat("/", absl::StrJoin(segments, "/"));
  if (segments.empty() || *rc::gen::arbitrary<bool>()) {
    target += "/";  // a trailing slash adds no segment
    if (!segments.empty()) expected->path += "/";
  }
  expected->segments = segments;
  const int params = *rc::gen::inRange(0, 4);
  std::vector<std::string> pieces;
  for (int i = 0; i < params; ++i) {
    const std::string name = GenUrlText();
    const std::string value = *rc::gen::arbitrary<bool>() ? GenUrlText() : "";
    pieces.push_back(Encode(name, true) + "=" + Encode(value, true));
    expected->query.emplace_back(name, value);
  }
  if (!pieces.empty()) absl::StrAppend(&target, "?", absl::StrJoin(pieces, "&"));
  return target;
}

// A header value without surrounding whitespace.
std::string GenHeaderValue() {
  const std::string inner = *rc::gen::container<std::string>(
      rc::gen::element('a', 'Z', '0', ' ', '\t', ',', ';', '"', '=', '/', '\x80', '\xff'));
  const size_t first = inner.find_first_not_of(" \t");
  if (first == std::string::npos) return "";
  return inner.substr(first, inner.find_last_not_of(" \t") - first + 1);
}

// The body bytes in chunked coding.
std::string ChunkedBody(const std::string& body, const std::string& eol) {
  std::string out;
  size_t at = 0;
  while (at < body.size()) {
    const size_t n = *rc::gen::inRange<size_t>(1, body.size() - at + 1);
    char size[20];
    std::snprintf(size, sizeof(size), *rc::gen::arbitrary<bool>() ? "%zx" : "%zX", n);
    absl::StrAppend(&out, size, *rc::gen::element<std::string>("", ";ext", " ; a=\"b\""), eol,
                    body.substr(at, n), eol);
    at += n;
  }
  absl::StrAppend(&out, "0", eol);
  if (*rc::gen::arbitrary<bool>()) absl::StrAppend(&out, "X-Checksum: ", GenHeaderValue(), eol);
  absl::StrAppend(&out, eol);
  return out;
}

// One request; fills *expected with what the parser must produce.
std::string GenRequest(HttpRequest* expected) {
  const bool http10 = *rc::gen::weightedElement<bool>({{1, true}, {4, false}});
  const std::string eol = *rc::gen::element<std::string>("\r\n", "\n");
  expected->method =
      *rc::gen::element<std::string>("GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS");
  expected->target = GenTarget(expected);
  expected->version = http10 ? HttpVersion::kHttp10 : HttpVersion::kHttp11;
  std::string out = *rc::gen::element<std::string>("", "", "", "\r\n");
  absl::StrAppend(&out, expected->method, " ", expected->target, http10 ? " HTTP/1.0" : " HTTP/1.1", eol);
  auto add_header = [&](std::string name, std::string value) {
    const std::string before = *rc::gen::element<std::string>("", " ", "  ", "\t");
    const std::string after = *rc::gen::element<std::string>("", " ", "\t ");
    absl::StrAppend(&out, name, ":", before, value, after, eol);
    expected->headers.Add(name, value);
  };
  if (!http10 || *rc::gen::arbitrary<bool>())
    add_header(*rc::gen::element<std::string>("Host", "host"), "localhost:6333");
  const int extra = *rc::gen::inRange(0, 4);
  for (int i = 0; i < extra; ++i) add_header(absl::StrCat("X-Gen-", i), GenHeaderValue());
  const std::string connection = *rc::gen::element<std::string>("", "close", "keep-alive", "Keep-Alive");
  if (!connection.empty()) add_header("Connection", connection);
  expected->keep_alive = http10 ? absl::AsciiStrToLower(connection) == "keep-alive" : connection != "close";
  expected->body = *rc::gen::arbitrary<std::string>();
  if (!http10 && *rc::gen::arbitrary<bool>()) add_header("Expect", "100-continue");
  if (!http10 && *rc::gen::arbitrary<bool>()) {
    add_header("Transfer-Encoding", "chunked");
    absl::StrAppend(&out, eol, ChunkedBody(expected->body, eol));
    return out;
  }
  if (!expected->body.empty() || *rc::gen::arbitrary<bool>()) {
    add_header("Content-Length", std::to_string(expected->body.size()));
  }
  absl::StrAppend(&out, eol, expected->body);
  return out;
}

}  // namespace

std::string Describe(const HttpRequest& request) {
  std::vector<std::string> segments;
  for (const std::string& s : request.segments) segments.push_back(absl::CHexEscape(s));
  std::vector<std::string> query;
  for (const auto& [name, value] : request.query) {
    query.push_back(absl::CHexEscape(name) + "=" + absl::CHexEscape(value));
  }
  std::vector<std::string> headers;
  for (const HttpHeader& h : request.headers) headers.push_back(h.name + ": " + absl::CHexEscape(h.value));
  return absl::StrCat(request.method, " ", absl::CHexEscape(request.target),
                      " path=", absl::CHexEscape(request.path), " segments=[", absl::StrJoin(segments, "|"),
                      "] query=[", absl::StrJoin(query, "&"), "] headers=[", absl::StrJoin(headers, " | "),
                      "] body=\"", absl::CHexEscape(request.body),
                      "\" version=", request.version == HttpVersion::kHttp10 ? "1.0" : "1.1",
                      " keep_alive=", request.keep_alive ? "yes" : "no");
}

std::vector<std::string> EventsOf(std::string_view stream, const HttpLimits& limits) {
  return EventsOfPieces(stream, {}, limits);
}

std::vector<std::string> EventsOfPieces(std::string_view stream, std::vector<size_t> cuts,
                                        const HttpLimits& limits) {
  std::sort(cuts.begin(), cuts.end());
  cuts.push_back(stream.size());
  HttpRequestParser parser(limits);
  std::vector<std::string> events;
  size_t at = 0;
  for (size_t cut : cuts) {
    cut = std::min(cut, stream.size());
    parser.Feed(stream.substr(at, cut - at));
    at = cut;
    if (!Drain(parser, &events)) break;
  }
  return events;
}

std::string GenRequestStream(std::vector<std::string>* expected) {
  const int count = *rc::gen::inRange(1, 5);
  std::string stream;
  for (int i = 0; i < count; ++i) {
    HttpRequest request;
    stream += GenRequest(&request);
    expected->push_back("request " + Describe(request));
  }
  return stream;
}

}  // namespace qdsim::http::testing_util
