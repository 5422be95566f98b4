// The request parser: framing, every limit and error status, 100-continue, pipelining, and the
// property that how the bytes are split never changes what comes out.
#include "real/http/request_parser.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "rapidcheck/gtest.h"
#include "tests/real/http/http_test_util.h"

namespace qdsim::http {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Pair;
using testing_util::EventsOf;
using testing_util::GenRequestStream;

// The first event that is not kExpectContinue after feeding `bytes` at once.
HttpParseResult ParseOne(std::string_view bytes, HttpLimits limits = {}) {
  HttpRequestParser parser(limits);
  parser.Feed(bytes);
  HttpParseResult result = parser.Next();
  while (result.kind == HttpParseResult::kExpectContinue) result = parser.Next();
  return result;
}

// The status of the error `bytes` must produce (0 if it produces none).
int ErrorStatus(std::string_view bytes, HttpLimits limits = {}) {
  const HttpParseResult result = ParseOne(bytes, limits);
  return result.kind == HttpParseResult::kError ? result.error.status : 0;
}

TEST(RequestParserTest, ParsesSimpleGet) {
  const HttpParseResult result =
      ParseOne("GET /collections/docs?with_payload=true HTTP/1.1\r\nHost: localhost\r\nAccept: */*\r\n\r\n");
  ASSERT_EQ(result.kind, HttpParseResult::kRequest);
  const HttpRequest& r = result.request;
  EXPECT_EQ(r.method, "GET");
  EXPECT_EQ(r.target, "/collections/docs?with_payload=true");
  EXPECT_EQ(r.path, "/collections/docs");
  EXPECT_THAT(r.segments, ElementsAre("collections", "docs"));
  EXPECT_THAT(r.query, ElementsAre(Pair("with_payload", "true")));
  EXPECT_EQ(r.headers.Get("host"), "localhost");
  EXPECT_EQ(r.headers.size(), 2u);
  EXPECT_EQ(r.version, HttpVersion::kHttp11);
  EXPECT_TRUE(r.keep_alive);
  EXPECT_TRUE(r.body.empty());
}

TEST(RequestParserTest, NeedsMoreUntilTheHeaderSectionEnds) {
  HttpRequestParser parser;
  parser.Feed("GET / HTTP/1.1\r\nHost: a\r\n");
  EXPECT_EQ(parser.Next().kind, HttpParseResult::kNeedMore);
  EXPECT_TRUE(parser.HasPartialRequest());
  parser.Feed("\r\n");
  EXPECT_EQ(parser.Next().kind, HttpParseResult::kRequest);
  EXPECT_FALSE(parser.HasPartialRequest());
  EXPECT_EQ(parser.Next().kind, HttpParseResult::kNeedMore);
}

TEST(RequestParserTest, TrimsHeaderValuesAndKeepsEmptyOnes) {
  const HttpParseResult result =
      ParseOne("GET / HTTP/1.1\r\nHost: a\r\nX-A: \t spaced value \t\r\nX-B:\r\n\r\n");
  ASSERT_EQ(result.kind, HttpParseResult::kRequest);
  EXPECT_EQ(result.request.headers.Get("X-A"), "spaced value");
  EXPECT_EQ(result.request.headers.Get("X-B"), "");
}

TEST(RequestParserTest, AcceptsObsTextInValues) {
  const HttpParseResult result = ParseOne("GET / HTTP/1.1\r\nHost: a\r\nX-Name: caf\xc3\xa9\r\n\r\n");
  ASSERT_EQ(result.kind, HttpParseResult::kRequest);
  EXPECT_EQ(result.request.headers.Get("x-name"), "caf\xc3\xa9");
}

TEST(RequestParserTest, ReadsContentLengthBody) {
  const HttpParseResult result =
      ParseOne("PUT /collections/c HTTP/1.1\r\nHost: a\r\nContent-Length: 11\r\n\r\nhello world");
  ASSERT_EQ(result.kind, HttpParseResult::kRequest);
  EXPECT_EQ(result.request.body, "hello world");
}

TEST(RequestParserTest, ReadsChunkedBodyIgnoringExtensionsAndTrailers) {
  const HttpParseResult result = ParseOne(
      "POST /x HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
      "5\r\nhello\r\n"
      "6 ; name=value\r\n world\r\n"
      "A;ext\r\n0123456789\r\n"
      "0\r\nX-Trailer: yes\r\nX-Other: 1\r\n\r\n");
  ASSERT_EQ(result.kind, HttpParseResult::kRequest);
  EXPECT_EQ(result.request.body, "hello world0123456789");
  EXPECT_FALSE(result.request.headers.Has("X-Trailer"));
}

TEST(RequestParserTest, ChunkedCodingIsCaseInsensitiveAndMayBeListed) {
  const HttpParseResult result =
      ParseOne("POST /x HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: , Chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n");
  ASSERT_EQ(result.kind, HttpParseResult::kRequest);
  EXPECT_EQ(result.request.body, "abc");
}

TEST(RequestParserTest, AcceptsLoneLfLineEndings) {
  const HttpParseResult result =
      ParseOne("POST /x HTTP/1.1\nHost: a\nTransfer-Encoding: chunked\n\n3\nabc\n0\n\n");
  ASSERT_EQ(result.kind, HttpParseResult::kRequest);
  EXPECT_EQ(result.request.body, "abc");
}

TEST(RequestParserTest, SkipsBlankLinesBeforeARequest) {
  HttpRequestParser parser;
  parser.Feed("\r\n\n\r\n");
  EXPECT_EQ(parser.Next().kind, HttpParseResult::kNeedMore);
  EXPECT_FALSE(parser.HasPartialRequest());
  parser.Feed("GET / HTTP/1.1\r\nHost: a\r\n\r\n");
  EXPECT_EQ(parser.Next().kind, HttpParseResult::kRequest);
}

TEST(RequestParserTest, PipelinedRequestsComeOutInOrder) {
  HttpRequestParser parser;
  parser.Feed(
      "GET /a HTTP/1.1\r\nHost: h\r\n\r\n"
      "POST /b HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n\r\nxyz"
      "DELETE /c HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nq\r\n0\r\n\r\n"
      "GET /d HTTP/1.0\r\n\r\n");
  std::vector<std::string> seen;
  for (HttpParseResult r = parser.Next(); r.kind == HttpParseResult::kRequest; r = parser.Next()) {
    seen.push_back(r.request.method + " " + r.request.path + " " + r.request.body);
  }
  EXPECT_THAT(seen, ElementsAre("GET /a ", "POST /b xyz", "DELETE /c q", "GET /d "));
}

TEST(RequestParserTest, KeepAliveRules) {
  EXPECT_TRUE(ParseOne("GET / HTTP/1.1\r\nHost: a\r\n\r\n").request.keep_alive);
  EXPECT_FALSE(ParseOne("GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n").request.keep_alive);
  EXPECT_FALSE(ParseOne("GET / HTTP/1.0\r\n\r\n").request.keep_alive);
  EXPECT_TRUE(ParseOne("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n").request.keep_alive);
  const HttpParseResult r10 = ParseOne("GET / HTTP/1.0\r\n\r\n");
  EXPECT_EQ(r10.request.version, HttpVersion::kHttp10);
}

TEST(RequestParserTest, LaterMinorVersionIsTreatedAsHttp11) {
  const HttpParseResult result = ParseOne("GET / HTTP/1.7\r\nHost: a\r\n\r\n");
  ASSERT_EQ(result.kind, HttpParseResult::kRequest);
  EXPECT_EQ(result.request.version, HttpVersion::kHttp11);
}

TEST(RequestParserTest, AbsoluteFormAndAsteriskForm) {
  const HttpParseResult absolute = ParseOne("GET http://h:6333/collections?x=1 HTTP/1.1\r\nHost: h\r\n\r\n");
  ASSERT_EQ(absolute.kind, HttpParseResult::kRequest);
  EXPECT_EQ(absolute.request.path, "/collections");
  const HttpParseResult options = ParseOne("OPTIONS * HTTP/1.1\r\nHost: h\r\n\r\n");
  ASSERT_EQ(options.kind, HttpParseResult::kRequest);
  EXPECT_EQ(options.request.path, "*");
  EXPECT_EQ(ErrorStatus("GET * HTTP/1.1\r\nHost: h\r\n\r\n"), 400);
}

TEST(RequestParserTest, DecodesPathAndQuery) {
  const HttpParseResult result =
      ParseOne("GET /collections/my%20c/points/a%2Fb?q=x+y%26z&flag HTTP/1.1\r\nHost: h\r\n\r\n");
  ASSERT_EQ(result.kind, HttpParseResult::kRequest);
  EXPECT_EQ(result.request.path, "/collections/my c/points/a/b");
  EXPECT_THAT(result.request.segments, ElementsAre("collections", "my c", "points", "a/b"));
  EXPECT_THAT(result.request.query, ElementsAre(Pair("q", "x y&z"), Pair("flag", "")));
}

// --- 400: malformed syntax --------------------------------------------------------------------

TEST(RequestParserErrorTest, MalformedRequestLinesAre400) {
  for (const char* line : {"GET  / HTTP/1.1", "GET / HTTP/1.1 ", " GET / HTTP/1.1", "GET /",
                           "GET / HTTP/1.1 x", "G(T / HTTP/1.1", "GET / HTTP/1", "GET / http/1.1",
                           "GET / HTTP/1.10", "GET / HTTP/a.b", "GET\t/ HTTP/1.1", "GET / HTTP/1.1\r"}) {
    EXPECT_EQ(ErrorStatus(std::string(line) + "\r\nHost: a\r\n\r\n"), 400) << line;
  }
}

TEST(RequestParserErrorTest, BadTargetsAre400) {
  EXPECT_EQ(ErrorStatus("GET /a%zz HTTP/1.1\r\nHost: a\r\n\r\n"), 400);
  EXPECT_EQ(ErrorStatus("GET /a?b=%4 HTTP/1.1\r\nHost: a\r\n\r\n"), 400);
  EXPECT_EQ(ErrorStatus("GET a HTTP/1.1\r\nHost: a\r\n\r\n"), 400);
  EXPECT_EQ(ErrorStatus("GET /a#f HTTP/1.1\r\nHost: a\r\n\r\n"), 400);
  EXPECT_EQ(ErrorStatus("GET /caf\xc3\xa9 HTTP/1.1\r\nHost: a\r\n\r\n"), 400);
  const HttpParseResult result = ParseOne("GET /%g HTTP/1.1\r\nHost: a\r\n\r\n");
  EXPECT_THAT(result.error.message, HasSubstr("percent-encoding"));
}

TEST(RequestParserErrorTest, MalformedHeaderLinesAre400) {
  for (const std::string& header :
       std::vector<std::string>{"NoColon", "Bad Name: x", "Name : x", ": empty-name", "X-A: a\x01z",
                                "X-A: a\x7fz", "X-A: a\rb", std::string("X-A: a\0b", 8)}) {
    EXPECT_EQ(ErrorStatus("GET / HTTP/1.1\r\nHost: a\r\n" + header + "\r\n\r\n"), 400) << header;
  }
}

TEST(RequestParserErrorTest, ObsFoldIs400) {
  const HttpParseResult result = ParseOne("GET / HTTP/1.1\r\nHost: a\r\nX-A: one\r\n  two\r\n\r\n");
  ASSERT_EQ(result.kind, HttpParseResult::kError);
  EXPECT_EQ(result.error.status, 400);
  EXPECT_THAT(result.error.message, HasSubstr("folding"));
  EXPECT_EQ(ErrorStatus("GET / HTTP/1.1\r\nHost: a\r\nX-A: one\r\n\ttwo\r\n\r\n"), 400);
}

TEST(RequestParserErrorTest, HostRules) {
  EXPECT_EQ(ErrorStatus("GET / HTTP/1.1\r\n\r\n"), 400);
  EXPECT_EQ(ErrorStatus("GET / HTTP/1.1\r\nHost: a\r\nhost: a\r\n\r\n"), 400);
  EXPECT_EQ(ErrorStatus("GET / HTTP/1.0\r\nHost: a\r\nHost: b\r\n\r\n"), 400);
  EXPECT_EQ(ErrorStatus("GET / HTTP/1.0\r\n\r\n"), 0);
}

TEST(RequestParserErrorTest, BadContentLengthIs400) {
  for (const char* value : {"-1", "+5", "5, 5", "", "0x10", "1 2", "abc", "1.0"}) {
    EXPECT_EQ(ErrorStatus(std::string("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: ") + value + "\r\n\r\n"),
              400)
        << value;
  }
}

TEST(RequestParserErrorTest, DuplicateContentLengthIs400EvenWhenEqual) {
  EXPECT_EQ(ErrorStatus("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nContent-Length: 3\r\n\r\nabc"),
            400);
  EXPECT_EQ(ErrorStatus("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\ncontent-length: 4\r\n\r\nabcd"),
            400);
}

TEST(RequestParserErrorTest, ConflictingFramingIs400) {
  EXPECT_EQ(
      ErrorStatus("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n"),
      400);
  EXPECT_EQ(ErrorStatus("POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n"), 400);
  EXPECT_EQ(ErrorStatus("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, chunked\r\n\r\n"), 400);
  EXPECT_EQ(ErrorStatus("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: ,\r\n\r\n"), 400);
}

TEST(RequestParserErrorTest, BadChunksAre400) {
  const std::string head = "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n";
  for (const char* body : {"xyz\r\n", "-1\r\n", " 5\r\nhello\r\n", "5 x\r\nhello\r\n", "5\r\nhelloXX\r\n",
                           "5\r\nhello\r\r\n", "5;\x01\r\nhello\r\n", "0\r\nbad trailer\r\n\r\n"}) {
    EXPECT_EQ(ErrorStatus(head + body + "0\r\n\r\n"), 400) << body;
  }
}

TEST(RequestParserErrorTest, ChunkDataWithoutLineEndingFailsWithoutWaiting) {
  HttpRequestParser parser;
  parser.Feed("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc");
  EXPECT_EQ(parser.Next().kind, HttpParseResult::kNeedMore);
  parser.Feed("\r");
  EXPECT_EQ(parser.Next().kind, HttpParseResult::kNeedMore);
  parser.Feed("x");
  EXPECT_EQ(parser.Next().error.status, 400);
}

TEST(RequestParserErrorTest, OverlongChunkSizeLineIs400BeforeItEnds) {
  HttpRequestParser parser;
  parser.Feed("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n1;");
  EXPECT_EQ(parser.Next().kind, HttpParseResult::kNeedMore);
  parser.Feed(std::string(5000, 'e'));
  EXPECT_EQ(parser.Next().error.status, 400);
}

// --- 413: body too large ------------------------------------------------------------------------

TEST(RequestParserErrorTest, ContentLengthOverLimitIs413BeforeTheBody) {
  HttpLimits limits;
  limits.max_body_bytes = 100;
  HttpRequestParser parser(limits);
  parser.Feed("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 101\r\n\r\n");  // no body byte sent
  const HttpParseResult result = parser.Next();
  ASSERT_EQ(result.kind, HttpParseResult::kError);
  EXPECT_EQ(result.error.status, 413);
  EXPECT_THAT(result.error.message, HasSubstr("100 bytes"));
}

TEST(RequestParserErrorTest, ContentLengthAtLimitIsAccepted) {
  HttpLimits limits;
  limits.max_body_bytes = 100;
  const HttpParseResult result =
      ParseOne("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 100\r\n\r\n" + std::string(100, 'b'), limits);
  ASSERT_EQ(result.kind, HttpParseResult::kRequest);
  EXPECT_EQ(result.request.body.size(), 100u);
}

TEST(RequestParserErrorTest, OverflowingContentLengthIs413) {
  EXPECT_EQ(ErrorStatus("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 18446744073709551616\r\n\r\n"), 413);
  EXPECT_EQ(ErrorStatus("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 99999999999999999999999999\r\n\r\n"),
            413);
  EXPECT_EQ(ErrorStatus("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 18446744073709551615\r\n\r\n"), 413);
}

TEST(RequestParserErrorTest, ChunkedBodyOverLimitIs413) {
  HttpLimits limits;
  limits.max_body_bytes = 10;
  const std::string head = "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n";
  EXPECT_EQ(ErrorStatus(head + "6\r\nabcdef\r\n4\r\nghij\r\n0\r\n\r\n", limits), 0);
  EXPECT_EQ(ErrorStatus(head + "6\r\nabcdef\r\n5\r\n", limits), 413);   // decided from the size line
  EXPECT_EQ(ErrorStatus(head + "fffffffffffffffff\r\n", limits), 413);  // more than 64 bits
}

TEST(RequestParserErrorTest, MaxRequestSizeMbSetsTheBodyLimit) {
  EXPECT_EQ(HttpLimits{}.max_body_bytes, 32u << 20);
  EXPECT_EQ(HttpLimits::WithMaxRequestSizeMb(1).max_body_bytes, 1u << 20);
  const HttpLimits limits = HttpLimits::WithMaxRequestSizeMb(1);
  EXPECT_EQ(ErrorStatus("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1048577\r\n\r\n", limits), 413);
  EXPECT_EQ(HttpLimits::WithMaxRequestSizeMb(uint64_t{1} << 60).max_body_bytes, ~uint64_t{0});
}

// --- 414, 431: request line and header limits -------------------------------------------------

TEST(RequestParserErrorTest, RequestLineOverLimitIs414) {
  HttpLimits limits;
  limits.max_request_line_bytes = 64;
  const std::string at_limit = "GET /" + std::string(64 - 14, 'a') + " HTTP/1.1";
  ASSERT_EQ(at_limit.size(), 64u);
  EXPECT_EQ(ErrorStatus(at_limit + "\r\nHost: a\r\n\r\n", limits), 0);
  const std::string over = "GET /" + std::string(64 - 13, 'a') + " HTTP/1.1";
  EXPECT_EQ(ErrorStatus(over + "\r\nHost: a\r\n\r\n", limits), 414);
}

TEST(RequestParserErrorTest, RequestLineOverLimitIs414BeforeItEnds) {
  HttpRequestParser parser;  // default 8 KiB
  parser.Feed("GET /");
  EXPECT_EQ(parser.Next().kind, HttpParseResult::kNeedMore);
  parser.Feed(std::string(8 * 1024, 'a'));
  const HttpParseResult result = parser.Next();
  EXPECT_EQ(result.error.status, 414);
  EXPECT_EQ(parser.buffered_bytes(), 0u);  // nothing more is kept
}

TEST(RequestParserErrorTest, HeaderSectionOverLimitIs431) {
  HttpLimits limits;
  limits.max_header_bytes = 100;
  const std::string head = "GET / HTTP/1.1\r\n";
  // "Host: a\r\n" (9) + "X: <v>\r\n" (5 + v) + "\r\n" (2) = 100 exactly when v = 84.
  EXPECT_EQ(ErrorStatus(head + "Host: a\r\nX: " + std::string(84, 'v') + "\r\n\r\n", limits), 0);
  EXPECT_EQ(ErrorStatus(head + "Host: a\r\nX: " + std::string(85, 'v') + "\r\n\r\n", limits), 431);
}

TEST(RequestParserErrorTest, HeaderSectionOverLimitIs431BeforeTheLineEnds) {
  HttpRequestParser parser;
  parser.Feed("GET / HTTP/1.1\r\nHost: a\r\nX-Big: ");
  EXPECT_EQ(parser.Next().kind, HttpParseResult::kNeedMore);
  parser.Feed(std::string(64 * 1024, 'v'));
  EXPECT_EQ(parser.Next().error.status, 431);
}

TEST(RequestParserErrorTest, TooManyHeaderFieldsIs431) {
  HttpLimits limits;
  limits.max_header_count = 5;
  std::string fields = "Host: a\r\n";
  for (int i = 1; i < 5; ++i) fields += "X-" + std::to_string(i) + ": v\r\n";
  EXPECT_EQ(ErrorStatus("GET / HTTP/1.1\r\n" + fields + "\r\n", limits), 0);
  EXPECT_EQ(ErrorStatus("GET / HTTP/1.1\r\n" + fields + "X-5: v\r\n\r\n", limits), 431);
}

TEST(RequestParserErrorTest, TrailersCountAgainstHeaderLimits) {
  HttpLimits limits;
  limits.max_header_count = 3;
  const std::string head = "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n";
  EXPECT_EQ(ErrorStatus(head + "T-1: x\r\n\r\n", limits), 0);
  EXPECT_EQ(ErrorStatus(head + "T-1: x\r\nT-2: x\r\n\r\n", limits), 431);
}

// --- 417, 501, 505 ------------------------------------------------------------------------------

TEST(RequestParserErrorTest, UnknownExpectationIs417) {
  EXPECT_EQ(ErrorStatus("POST / HTTP/1.1\r\nHost: a\r\nExpect: 200-ok\r\nContent-Length: 1\r\n\r\nx"), 417);
  EXPECT_EQ(ErrorStatus("POST / HTTP/1.0\r\nExpect: 200-ok\r\nContent-Length: 1\r\n\r\nx"), 0);  // ignored
}

TEST(RequestParserErrorTest, UnsupportedTransferCodingIs501) {
  for (const char* coding : {"gzip", "gzip, chunked", "chunked, gzip", "identity", "chunked;x=1"}) {
    EXPECT_EQ(
        ErrorStatus(std::string("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: ") + coding + "\r\n\r\n"),
        501)
        << coding;
  }
}

TEST(RequestParserErrorTest, OtherMajorVersionsAre505) {
  EXPECT_EQ(ErrorStatus("GET / HTTP/2.0\r\nHost: a\r\n\r\n"), 505);
  EXPECT_EQ(ErrorStatus("GET / HTTP/0.9\r\nHost: a\r\n\r\n"), 505);
  EXPECT_EQ(ErrorStatus("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"), 505);
}

// --- after an error -----------------------------------------------------------------------------

TEST(RequestParserErrorTest, ErrorPoisonsTheParser) {
  HttpRequestParser parser;
  parser.Feed("GET / HTTP/1.1\r\nBad Header\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n");
  const HttpParseResult first = parser.Next();
  ASSERT_EQ(first.kind, HttpParseResult::kError);
  EXPECT_TRUE(parser.poisoned());
  EXPECT_FALSE(parser.HasPartialRequest());
  parser.Feed("GET / HTTP/1.1\r\nHost: a\r\n\r\n");
  EXPECT_EQ(parser.buffered_bytes(), 0u);
  const HttpParseResult again = parser.Next();
  EXPECT_EQ(again.kind, HttpParseResult::kError);
  EXPECT_EQ(again.error.status, first.error.status);
  EXPECT_EQ(again.error.message, first.error.message);
}

TEST(RequestParserErrorTest, ErrorAfterAGoodRequestComesSecond) {
  HttpRequestParser parser;
  parser.Feed("GET /ok HTTP/1.1\r\nHost: a\r\n\r\nGET /bad HTTP/9.9\r\n\r\n");
  EXPECT_EQ(parser.Next().kind, HttpParseResult::kRequest);
  EXPECT_EQ(parser.Next().error.status, 505);
}

// --- 100-continue ------------------------------------------------------------------------------

TEST(RequestParserContinueTest, EventComesAfterValidHeadersAndBeforeTheBody) {
  HttpRequestParser parser;
  parser.Feed("PUT /c HTTP/1.1\r\nHost: a\r\nExpect: 100-Continue\r\nContent-Length: 4\r\n\r\n");
  EXPECT_EQ(parser.Next().kind, HttpParseResult::kExpectContinue);
  EXPECT_EQ(parser.Next().kind, HttpParseResult::kNeedMore);
  EXPECT_TRUE(parser.HasPartialRequest());
  parser.Feed("body");
  const HttpParseResult result = parser.Next();
  ASSERT_EQ(result.kind, HttpParseResult::kRequest);
  EXPECT_EQ(result.request.body, "body");
}

TEST(RequestParserContinueTest, EventAlsoForChunkedAndWhenTheBodyIsAlreadyHere) {
  EXPECT_THAT(
      EventsOf("POST / HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nTransfer-Encoding: chunked\r\n\r\n"
               "1\r\nx\r\n0\r\n\r\n"),
      ElementsAre("continue", HasSubstr("request POST")));
  EXPECT_THAT(EventsOf("POST / HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 1\r\n\r\nx"),
              ElementsAre("continue", HasSubstr("request POST")));
}

TEST(RequestParserContinueTest, NoEventWithoutABodyOrForHttp10) {
  EXPECT_THAT(EventsOf("POST / HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 0\r\n\r\n"),
              ElementsAre(HasSubstr("request POST")));
  EXPECT_THAT(EventsOf("GET / HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\n\r\n"),
              ElementsAre(HasSubstr("request GET")));
  EXPECT_THAT(EventsOf("POST / HTTP/1.0\r\nExpect: 100-continue\r\nContent-Length: 1\r\n\r\nx"),
              ElementsAre(HasSubstr("request POST")));
}

TEST(RequestParserContinueTest, TooLargeBodyGets413InsteadOfContinue) {
  HttpLimits limits;
  limits.max_body_bytes = 10;
  EXPECT_THAT(
      EventsOf("PUT / HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 11\r\n\r\n", limits),
      ElementsAre(HasSubstr("error 413")));
}

// --- bounded memory ----------------------------------------------------------------------------

TEST(RequestParserTest, LargeBodyInSmallPiecesKeepsLittleBuffered) {
  HttpRequestParser parser;
  const size_t size = 1 << 20;
  parser.Feed("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: " + std::to_string(size) + "\r\n\r\n");
  const std::string piece(4096, 'z');
  size_t max_buffered = 0;
  HttpParseResult result;
  for (size_t sent = 0; sent < size; sent += piece.size()) {
    parser.Feed(piece);
    result = parser.Next();
    max_buffered = std::max(max_buffered, parser.buffered_bytes());
  }
  ASSERT_EQ(result.kind, HttpParseResult::kRequest);
  EXPECT_EQ(result.request.body.size(), size);
  EXPECT_EQ(max_buffered, 0u);
}

// --- properties: splitting never changes the outcome --------------------------------------------

// Valid streams of requests parse to exactly the requests they were built from, however split.
RC_GTEST_PROP(RequestParserPropertyTest, AnySplitOfValidRequestsYieldsTheSameRequests, ()) {
  std::vector<std::string> expected;
  const std::string stream = GenRequestStream(&expected);
  std::vector<std::string> whole = EventsOf(stream);
  std::erase(whole, "continue");
  RC_ASSERT(whole == expected);
  const std::vector<size_t> cuts =
      *rc::gen::container<std::vector<size_t>>(rc::gen::inRange<size_t>(0, stream.size() + 1));
  RC_ASSERT(testing_util::EventsOfPieces(stream, cuts) == EventsOf(stream));
}

// The same at every single cut point of one stream (and byte by byte).
TEST(RequestParserPropertyTest, EverySingleCutYieldsTheSameEvents) {
  const std::string stream =
      "\r\nGET /a?x=1 HTTP/1.1\r\nHost: h\r\n\r\n"
      "POST /b HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\nhello"
      "PUT /c%20d HTTP/1.1\nHost: h\nTransfer-Encoding: chunked\n\n3;e=1\r\nabc\r\n0\r\nT: 1\r\n\r\n"
      "DELETE /e HTTP/1.0\r\nConnection: keep-alive\r\n\r\n";
  const std::vector<std::string> whole = EventsOf(stream);
  ASSERT_EQ(whole.size(), 5u);
  for (size_t cut = 0; cut <= stream.size(); ++cut) {
    EXPECT_EQ(testing_util::EventsOfPieces(stream, {cut}), whole) << "cut at " << cut;
  }
  std::vector<size_t> every_byte;
  for (size_t i = 0; i <= stream.size(); ++i) every_byte.push_back(i);
  EXPECT_EQ(testing_util::EventsOfPieces(stream, every_byte), whole);
}

// Even for corrupted streams the events, errors included, do not depend on the split: limits that
// are enforced before a line ends agree with the checks made once it has ended.
RC_GTEST_PROP(RequestParserPropertyTest, AnySplitOfCorruptedStreamsYieldsTheSameEvents, ()) {
  std::vector<std::string> ignored;
  std::string stream = GenRequestStream(&ignored);
  const int edits = *rc::gen::inRange(1, 6);
  for (int i = 0; i < edits; ++i) {
    const size_t at = *rc::gen::inRange<size_t>(0, stream.size() + 1);
    const char c = *rc::gen::element('\r', '\n', ' ', ':', ';', '%', '0', 'f', 'Z', '\t', '\0', '\x80');
    switch (*rc::gen::inRange(0, 3)) {
      case 0: stream.insert(stream.begin() + at, c); break;
      case 1:
        if (at < stream.size()) stream.erase(at, 1);
        break;
      default:
        if (at < stream.size()) stream[at] = c;
        break;
    }
  }
  HttpLimits limits;  // small limits half of the time, so that every limit is hit now and then
  if (*rc::gen::arbitrary<bool>()) {
    limits.max_request_line_bytes = *rc::gen::inRange<size_t>(20, 300);
    limits.max_header_bytes = *rc::gen::inRange<size_t>(20, 500);
    limits.max_header_count = *rc::gen::inRange<size_t>(1, 8);
    limits.max_body_bytes = *rc::gen::inRange<uint64_t>(0, 100);
  }
  const std::vector<size_t> cuts =
      *rc::gen::container<std::vector<size_t>>(rc::gen::inRange<size_t>(0, stream.size() + 1));
  RC_ASSERT(testing_util::EventsOfPieces(stream, cuts, limits) == EventsOf(stream, limits));
}

}  // namespace
}  // namespace qdsim::http
