// The connection state machine: ordered release of out-of-order answers, keep-alive and close,
// error responses, 100-continue, backpressure, time-outs and end of input.
#include "real/http/connection.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "rapidcheck/gtest.h"
#include "tests/real/http/http_test_util.h"

namespace qdsim::http {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;
using ::testing::StartsWith;

constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";

std::string Get(const std::string& path, const std::string& extra_headers = "") {
  return absl::StrCat("GET ", path, " HTTP/1.1\r\nHost: h\r\n", extra_headers, "\r\n");
}

// The bytes of a 200 response with `body`, framed as the connection frames it.
std::string Ok(std::string_view body, bool close = false, bool keep_alive_header = false) {
  ResponseFraming framing;
  framing.close = close;
  framing.keep_alive_header = keep_alive_header;
  return HttpResponse::Json(200, std::string(body)).Serialize(framing);
}

// A connection whose handler records requests (and answers at once if `respond_at_once`).
class Harness {
 public:
  explicit Harness(HttpConnectionOptions options = {})
      : conn_(options, [this](uint64_t seq, HttpRequest request) {
          seqs_.push_back(seq);
          requests_.push_back(std::move(request));
          if (respond_at_once_) {
            EXPECT_TRUE(conn_.Respond(seq, HttpResponse::Json(200, requests_.back().path)).ok());
          }
        }) {}

  HttpConnection& conn() { return conn_; }
  const std::vector<uint64_t>& seqs() const { return seqs_; }
  const std::vector<HttpRequest>& requests() const { return requests_; }
  void set_respond_at_once(bool on) { respond_at_once_ = on; }

 private:
  HttpConnection conn_;
  std::vector<uint64_t> seqs_;         // sequence numbers handed to the handler, in order
  std::vector<HttpRequest> requests_;  // the requests, in the same order
  bool respond_at_once_ = false;       // the handler calls Respond from inside itself
};

TEST(HttpConnectionTest, AnswersOneRequest) {
  Harness h;
  h.conn().OnBytes(Get("/healthz"));
  ASSERT_THAT(h.seqs(), ElementsAre(0u));
  EXPECT_EQ(h.requests()[0].path, "/healthz");
  EXPECT_THAT(h.conn().PendingOutput(), IsEmpty());
  EXPECT_EQ(h.conn().InFlight(), 1u);
  ASSERT_TRUE(h.conn().Respond(0, HttpResponse::Json(200, "{}")).ok());
  EXPECT_EQ(h.conn().TakeOutput(),
            "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}");
  EXPECT_EQ(h.conn().InFlight(), 0u);
  EXPECT_TRUE(h.conn().WantsRead());
  EXPECT_FALSE(h.conn().ShouldClose());
}

TEST(HttpConnectionTest, OutOfOrderAnswersAreReleasedInRequestOrder) {
  Harness h;
  h.conn().OnBytes(Get("/a") + Get("/b") + Get("/c"));
  ASSERT_THAT(h.seqs(), ElementsAre(0u, 1u, 2u));
  ASSERT_TRUE(h.conn().Respond(2, HttpResponse::Json(200, "c")).ok());
  ASSERT_TRUE(h.conn().Respond(1, HttpResponse::Json(200, "b")).ok());
  EXPECT_THAT(h.conn().PendingOutput(), IsEmpty());  // still waiting for /a
  ASSERT_TRUE(h.conn().Respond(0, HttpResponse::Json(200, "a")).ok());
  EXPECT_EQ(h.conn().TakeOutput(), Ok("a") + Ok("b") + Ok("c"));
}

TEST(HttpConnectionTest, PartialReleaseAsThePrefixIsAnswered) {
  Harness h;
  h.conn().OnBytes(Get("/a") + Get("/b") + Get("/c"));
  ASSERT_TRUE(h.conn().Respond(0, HttpResponse::Json(200, "a")).ok());
  ASSERT_TRUE(h.conn().Respond(2, HttpResponse::Json(200, "c")).ok());
  EXPECT_EQ(h.conn().TakeOutput(), Ok("a"));
  ASSERT_TRUE(h.conn().Respond(1, HttpResponse::Json(200, "b")).ok());
  EXPECT_EQ(h.conn().TakeOutput(), Ok("b") + Ok("c"));
}

TEST(HttpConnectionTest, HandlerMayRespondFromInsideItself) {
  Harness h;
  h.set_respond_at_once(true);
  h.conn().OnBytes(Get("/a") + Get("/b"));
  EXPECT_EQ(h.conn().TakeOutput(), Ok("/a") + Ok("/b"));
}

TEST(HttpConnectionTest, RespondToUnknownOrAnsweredSeqIsNotFound) {
  Harness h;
  EXPECT_EQ(h.conn().Respond(0, HttpResponse{}).code(), absl::StatusCode::kNotFound);
  h.conn().OnBytes(Get("/a"));
  EXPECT_EQ(h.conn().Respond(1, HttpResponse{}).code(), absl::StatusCode::kNotFound);
  EXPECT_TRUE(h.conn().Respond(0, HttpResponse{}).ok());
  EXPECT_EQ(h.conn().Respond(0, HttpResponse{}).code(), absl::StatusCode::kNotFound);
}

TEST(HttpConnectionTest, RequestSplitAcrossCallsIsDispatchedOnce) {
  Harness h;
  const std::string bytes = "POST /p HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\nhello";
  for (char c : bytes) h.conn().OnBytes(std::string_view(&c, 1));
  ASSERT_EQ(h.requests().size(), 1u);
  EXPECT_EQ(h.requests()[0].body, "hello");
}

// --- keep-alive and close ----------------------------------------------------------------------

TEST(HttpConnectionTest, ConnectionCloseRequestClosesAfterItsResponseAndDropsTheRest) {
  Harness h;
  h.conn().OnBytes(Get("/a") + Get("/b", "Connection: close\r\n") + Get("/never"));
  ASSERT_THAT(h.seqs(), ElementsAre(0u, 1u));
  EXPECT_FALSE(h.conn().WantsRead());
  EXPECT_TRUE(h.conn().closing());
  ASSERT_TRUE(h.conn().Respond(1, HttpResponse::Json(200, "b")).ok());
  EXPECT_FALSE(h.conn().ShouldClose());  // /a is still owed
  ASSERT_TRUE(h.conn().Respond(0, HttpResponse::Json(200, "a")).ok());
  EXPECT_FALSE(h.conn().ShouldClose());  // output not written yet
  EXPECT_EQ(h.conn().TakeOutput(), Ok("a") + Ok("b", /*close=*/true));
  EXPECT_TRUE(h.conn().ShouldClose());
  h.conn().OnBytes(Get("/ignored"));
  EXPECT_EQ(h.requests().size(), 2u);
}

TEST(HttpConnectionTest, Http10ClosesUnlessKeepAlive) {
  Harness h;
  h.conn().OnBytes("GET /a HTTP/1.0\r\n\r\nGET /b HTTP/1.0\r\n\r\n");
  ASSERT_EQ(h.requests().size(), 1u);
  ASSERT_TRUE(h.conn().Respond(0, HttpResponse::Json(200, "a")).ok());
  EXPECT_EQ(h.conn().TakeOutput(), Ok("a", /*close=*/true));
  EXPECT_TRUE(h.conn().ShouldClose());
}

TEST(HttpConnectionTest, Http10KeepAliveStaysOpenAndSaysSo) {
  Harness h;
  h.conn().OnBytes("GET /a HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
  ASSERT_TRUE(h.conn().Respond(0, HttpResponse::Json(200, "a")).ok());
  EXPECT_EQ(h.conn().TakeOutput(), Ok("a", /*close=*/false, /*keep_alive_header=*/true));
  EXPECT_FALSE(h.conn().ShouldClose());
  EXPECT_TRUE(h.conn().WantsRead());
}

TEST(HttpConnectionTest, HandlerCanCloseTheConnection) {
  Harness h;
  h.conn().OnBytes(Get("/a") + Get("/b") + Get("/c"));
  HttpResponse closing = HttpResponse::Json(500, "{}");
  closing.headers.Add("Connection", "close");
  ASSERT_TRUE(h.conn().Respond(2, HttpResponse::Json(200, "c")).ok());
  ASSERT_TRUE(h.conn().Respond(1, std::move(closing)).ok());
  h.conn().OnBytes(Get("/d"));  // nothing more is parsed
  ASSERT_TRUE(h.conn().Respond(0, HttpResponse::Json(200, "a")).ok());
  const std::string out = h.conn().TakeOutput();
  EXPECT_THAT(out, StartsWith(Ok("a") + "HTTP/1.1 500 Internal Server Error\r\n"));
  EXPECT_THAT(out, HasSubstr("Connection: close\r\n"));
  EXPECT_THAT(out, Not(HasSubstr("\r\n\r\nc")));  // /c's answer is discarded
  EXPECT_EQ(h.requests().size(), 3u);
  EXPECT_TRUE(h.conn().ShouldClose());
}

TEST(HttpConnectionTest, HeadResponseHasNoBody) {
  Harness h;
  h.conn().OnBytes("HEAD /x HTTP/1.1\r\nHost: h\r\n\r\n");
  ASSERT_TRUE(h.conn().Respond(0, HttpResponse::Json(200, "{\"a\":1}")).ok());
  EXPECT_EQ(h.conn().TakeOutput(),
            "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 7\r\n\r\n");
}

// --- errors ------------------------------------------------------------------------------------

TEST(HttpConnectionTest, ParseErrorIsAnsweredWithQdrantJsonAndCloses) {
  Harness h;
  h.conn().OnBytes("GET / HTTP/1.1\r\nBad Header: x\r\n\r\n");
  EXPECT_THAT(h.requests(), IsEmpty());
  const std::string body = R"({"status":{"error":"malformed header field name"},"time":0.0})";
  EXPECT_EQ(h.conn().TakeOutput(),
            absl::StrCat("HTTP/1.1 400 Bad Request\r\nContent-Type: application/json\r\n"
                         "Content-Length: ",
                         body.size(), "\r\nConnection: close\r\n\r\n", body));
  EXPECT_TRUE(h.conn().ShouldClose());
  EXPECT_FALSE(h.conn().WantsRead());
}

TEST(HttpConnectionTest, ErrorIsReleasedAfterEarlierResponses) {
  Harness h;
  h.conn().OnBytes(Get("/a") + "GET / HTTP/3.0\r\n\r\n");
  ASSERT_THAT(h.seqs(), ElementsAre(0u));
  EXPECT_THAT(h.conn().PendingOutput(), IsEmpty());
  EXPECT_FALSE(h.conn().ShouldClose());
  ASSERT_TRUE(h.conn().Respond(0, HttpResponse::Json(200, "a")).ok());
  const std::string out = h.conn().TakeOutput();
  EXPECT_THAT(out, StartsWith(Ok("a") + "HTTP/1.1 505 HTTP Version Not Supported\r\n"));
  EXPECT_TRUE(h.conn().ShouldClose());
}

TEST(HttpConnectionTest, OversizedBodyIs413BeforeItArrives) {
  HttpConnectionOptions options;
  options.limits.max_body_bytes = 1000;
  Harness h(options);
  h.conn().OnBytes("POST /c HTTP/1.1\r\nHost: h\r\nContent-Length: 1001\r\n\r\n");
  EXPECT_THAT(h.conn().TakeOutput(), StartsWith("HTTP/1.1 413 Payload Too Large\r\n"));
  EXPECT_TRUE(h.conn().ShouldClose());
}

TEST(HttpConnectionTest, EveryLimitStatusReachesTheClient) {
  HttpConnectionOptions options;
  options.limits.max_request_line_bytes = 50;
  options.limits.max_header_bytes = 100;
  options.limits.max_header_count = 3;
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"GET /" + std::string(60, 'a') + " HTTP/1.1\r\n", "414 URI Too Long"},
      {"GET / HTTP/1.1\r\nHost: h\r\nX: " + std::string(100, 'v') + "\r\n\r\n", "431 Request Header Fields"},
      {"GET / HTTP/1.1\r\nHost: h\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n", "431 Request Header Fields"},
      {"POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: gzip\r\n\r\n", "501 Not Implemented"},
      {"GET / HTTP/2.0\r\n\r\n", "505 HTTP Version Not Supported"},
      {"POST / HTTP/1.1\r\nHost: h\r\nExpect: nothing\r\nContent-Length: 1\r\n\r\n",
       "417 Expectation Failed"},
  };
  for (const auto& [bytes, status] : cases) {
    Harness h(options);
    h.conn().OnBytes(bytes);
    EXPECT_THAT(h.conn().TakeOutput(), StartsWith("HTTP/1.1 " + status)) << bytes;
    EXPECT_TRUE(h.conn().ShouldClose()) << bytes;
  }
}

// --- 100-continue ------------------------------------------------------------------------------

TEST(HttpConnectionTest, ContinueIsSentAtOnceWhenNothingIsOwed) {
  Harness h;
  h.conn().OnBytes("PUT /c HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\n");
  EXPECT_EQ(h.conn().TakeOutput(), kContinue);
  EXPECT_THAT(h.requests(), IsEmpty());
  EXPECT_TRUE(h.conn().HasPartialRequest());
  h.conn().OnBytes("abc");
  ASSERT_EQ(h.requests().size(), 1u);
  EXPECT_EQ(h.requests()[0].body, "abc");
  ASSERT_TRUE(h.conn().Respond(0, HttpResponse::Json(200, "ok")).ok());
  EXPECT_EQ(h.conn().TakeOutput(), Ok("ok"));
}

TEST(HttpConnectionTest, ContinueWaitsForEarlierResponses) {
  Harness h;
  h.conn().OnBytes(Get("/a") +
                   "PUT /c HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\n");
  EXPECT_THAT(h.conn().PendingOutput(), IsEmpty());  // 100 must not land before /a's response
  ASSERT_TRUE(h.conn().Respond(0, HttpResponse::Json(200, "a")).ok());
  EXPECT_EQ(h.conn().TakeOutput(), Ok("a") + std::string(kContinue));
  h.conn().OnBytes("xyz");
  ASSERT_THAT(h.seqs(), ElementsAre(0u, 1u));
  ASSERT_TRUE(h.conn().Respond(1, HttpResponse::Json(201, "c")).ok());
  EXPECT_THAT(h.conn().TakeOutput(), StartsWith("HTTP/1.1 201 Created\r\n"));
}

TEST(HttpConnectionTest, BodyErrorAfterContinueIsAnswered) {
  HttpConnectionOptions options;
  options.limits.max_body_bytes = 4;
  Harness h(options);
  h.conn().OnBytes(
      "PUT /c HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\nTransfer-Encoding: chunked\r\n\r\n");
  EXPECT_EQ(h.conn().TakeOutput(), kContinue);
  h.conn().OnBytes("5\r\nhello\r\n0\r\n\r\n");
  EXPECT_THAT(h.conn().TakeOutput(), StartsWith("HTTP/1.1 413 Payload Too Large\r\n"));
  EXPECT_TRUE(h.conn().ShouldClose());
}

// --- backpressure ------------------------------------------------------------------------------

TEST(HttpConnectionTest, InFlightCapStopsDispatchUntilAnswered) {
  HttpConnectionOptions options;
  options.max_in_flight = 2;
  Harness h(options);
  h.conn().OnBytes(Get("/0") + Get("/1") + Get("/2") + Get("/3") + Get("/4"));
  EXPECT_THAT(h.seqs(), ElementsAre(0u, 1u));
  EXPECT_FALSE(h.conn().WantsRead());
  ASSERT_TRUE(h.conn().Respond(1, HttpResponse::Json(200, "1")).ok());
  EXPECT_THAT(h.seqs(), ElementsAre(0u, 1u));  // /1 is answered but not released: still counts
  ASSERT_TRUE(h.conn().Respond(0, HttpResponse::Json(200, "0")).ok());
  EXPECT_THAT(h.seqs(), ElementsAre(0u, 1u, 2u, 3u));
  ASSERT_TRUE(h.conn().Respond(2, HttpResponse::Json(200, "2")).ok());
  ASSERT_TRUE(h.conn().Respond(3, HttpResponse::Json(200, "3")).ok());
  ASSERT_THAT(h.seqs(), ElementsAre(0u, 1u, 2u, 3u, 4u));
  EXPECT_TRUE(h.conn().WantsRead());
  ASSERT_TRUE(h.conn().Respond(4, HttpResponse::Json(200, "4")).ok());
  EXPECT_EQ(h.conn().TakeOutput(), Ok("0") + Ok("1") + Ok("2") + Ok("3") + Ok("4"));
  EXPECT_EQ(h.requests()[4].path, "/4");
}

TEST(HttpConnectionTest, UnwrittenOutputStopsDispatchUntilConsumed) {
  HttpConnectionOptions options;
  options.max_buffered_output = 100;
  Harness h(options);
  h.set_respond_at_once(true);
  const std::string long_path = "/" + std::string(150, 'p');
  h.conn().OnBytes(Get(long_path) + Get("/b") + Get("/c"));
  EXPECT_EQ(h.requests().size(), 1u);  // its response alone exceeds the output bound
  EXPECT_FALSE(h.conn().WantsRead());
  const size_t first = h.conn().PendingOutput().size();
  h.conn().Consume(first - 10);
  EXPECT_EQ(h.requests().size(), 3u);  // below the bound again: the rest is dispatched
  EXPECT_EQ(std::string(h.conn().PendingOutput()), Ok(long_path).substr(first - 10) + Ok("/b") + Ok("/c"));
  h.conn().Consume(h.conn().PendingOutput().size());
  EXPECT_THAT(h.conn().PendingOutput(), IsEmpty());
  EXPECT_TRUE(h.conn().WantsRead());
}

TEST(HttpConnectionTest, ConsumeInPiecesKeepsTheRest) {
  Harness h;
  h.set_respond_at_once(true);
  h.conn().OnBytes(Get("/a"));
  const std::string all(h.conn().PendingOutput());
  h.conn().Consume(5);
  EXPECT_EQ(h.conn().PendingOutput(), all.substr(5));
  h.conn().Consume(all.size() - 6);
  EXPECT_EQ(h.conn().PendingOutput(), all.substr(all.size() - 1));
  EXPECT_EQ(h.conn().TakeOutput(), all.substr(all.size() - 1));
  EXPECT_THAT(h.conn().PendingOutput(), IsEmpty());
}

// --- time-outs and end of input ----------------------------------------------------------------

TEST(HttpConnectionTest, IdleTimeoutClosesAnIdleConnectionQuietly) {
  Harness h;
  h.set_respond_at_once(true);
  h.conn().OnBytes(Get("/a") + "\r\n");
  h.conn().TakeOutput();
  EXPECT_FALSE(h.conn().HasPartialRequest());
  h.conn().OnIdleTimeout();
  EXPECT_THAT(h.conn().PendingOutput(), IsEmpty());
  EXPECT_TRUE(h.conn().ShouldClose());
}

TEST(HttpConnectionTest, IdleTimeoutAnswers408ToAStalledRequest) {
  Harness h;
  h.conn().OnBytes("POST /c HTTP/1.1\r\nHost: h\r\nContent-Len");
  EXPECT_TRUE(h.conn().HasPartialRequest());
  h.conn().OnIdleTimeout();
  const std::string out = h.conn().TakeOutput();
  EXPECT_THAT(out, StartsWith("HTTP/1.1 408 Request Timeout\r\n"));
  EXPECT_THAT(out, HasSubstr("Connection: close\r\n"));
  EXPECT_THAT(
      out, HasSubstr(R"({"status":{"error":"timed out waiting for the rest of the request"},"time":0.0})"));
  EXPECT_TRUE(h.conn().ShouldClose());
}

TEST(HttpConnectionTest, IdleTimeoutAnswers408ToAStalledBodyAfterContinue) {
  Harness h;
  h.conn().OnBytes("PUT /c HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\nContent-Length: 9\r\n\r\nabc");
  EXPECT_EQ(h.conn().TakeOutput(), kContinue);
  h.conn().OnIdleTimeout();
  EXPECT_THAT(h.conn().TakeOutput(), StartsWith("HTTP/1.1 408 "));
  EXPECT_TRUE(h.conn().ShouldClose());
}

TEST(HttpConnectionTest, IdleTimeoutWaitsWhileTheHandlerWorks) {
  Harness h;
  h.conn().OnBytes(Get("/slow") + "GET /next HTT");
  h.conn().OnIdleTimeout();
  EXPECT_FALSE(h.conn().closing());
  EXPECT_THAT(h.conn().PendingOutput(), IsEmpty());
  ASSERT_TRUE(h.conn().Respond(0, HttpResponse::Json(200, "s")).ok());
  EXPECT_EQ(h.conn().TakeOutput(), Ok("s"));
  h.conn().OnIdleTimeout();  // now the partial request is the client's stall
  EXPECT_THAT(h.conn().TakeOutput(), StartsWith("HTTP/1.1 408 "));
}

TEST(HttpConnectionTest, EndOfInputAnswersWhatArrivedThenCloses) {
  HttpConnectionOptions options;
  options.max_in_flight = 1;
  Harness h(options);
  h.conn().OnBytes(Get("/a") + Get("/b") + "GET /partial");
  h.conn().OnEndOfInput();
  EXPECT_FALSE(h.conn().WantsRead());
  EXPECT_THAT(h.seqs(), ElementsAre(0u));
  ASSERT_TRUE(h.conn().Respond(0, HttpResponse::Json(200, "a")).ok());
  ASSERT_THAT(h.seqs(), ElementsAre(0u, 1u));  // buffered behind the cap, still served
  EXPECT_FALSE(h.conn().ShouldClose());
  ASSERT_TRUE(h.conn().Respond(1, HttpResponse::Json(200, "b")).ok());
  EXPECT_EQ(h.conn().TakeOutput(), Ok("a") + Ok("b"));
  EXPECT_TRUE(h.conn().ShouldClose());  // the partial request is dropped
}

TEST(HttpConnectionTest, EndOfInputWhileIdleClosesAtOnce) {
  Harness h;
  h.conn().OnEndOfInput();
  EXPECT_TRUE(h.conn().ShouldClose());
}

TEST(HttpConnectionTest, EndOfInputMidBodyAfterContinueDropsTheRequest) {
  Harness h;
  h.conn().OnBytes("PUT /c HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\nContent-Length: 9\r\n\r\nabc");
  h.conn().OnEndOfInput();
  EXPECT_EQ(h.conn().TakeOutput(), kContinue);
  EXPECT_THAT(h.requests(), IsEmpty());
  EXPECT_TRUE(h.conn().ShouldClose());
}

// --- property: the output does not depend on how bytes arrive or when answers come -------------

// The bytes written for a stream when it arrives at once and every request is answered at once.
std::string ReferenceOutput(const std::string& stream, std::vector<std::string>* dispatched) {
  Harness h;
  h.set_respond_at_once(true);
  h.conn().OnBytes(stream);
  h.conn().OnEndOfInput();
  for (const HttpRequest& r : h.requests()) dispatched->push_back("request " + testing_util::Describe(r));
  EXPECT_TRUE(h.conn().ShouldClose() || !h.conn().PendingOutput().empty());
  return h.conn().TakeOutput();
}

RC_GTEST_PROP(HttpConnectionPropertyTest, OutputIsIndependentOfSplitsAndAnswerOrder, ()) {
  std::vector<std::string> expected;
  const std::string stream = testing_util::GenRequestStream(&expected);
  std::vector<std::string> dispatched;
  const std::string reference = ReferenceOutput(stream, &dispatched);
  // Requests after the first that closes the connection are never dispatched.
  const auto closer = std::find_if(expected.begin(), expected.end(), [](const std::string& e) {
    return absl::StrContains(e, "keep_alive=no");
  });
  expected.erase(closer == expected.end() ? closer : closer + 1, expected.end());
  RC_ASSERT(dispatched == expected);

  HttpConnectionOptions options;
  options.max_in_flight = *rc::gen::inRange<size_t>(1, 4);
  std::vector<uint64_t> owed;
  std::vector<std::string> paths;
  HttpConnection conn(options, [&](uint64_t seq, HttpRequest request) {
    owed.push_back(seq);
    paths.push_back(request.path);
  });
  auto answer_some = [&](bool all) {
    while (!owed.empty() && (all || *rc::gen::arbitrary<bool>())) {
      const size_t pick = *rc::gen::inRange<size_t>(0, owed.size());
      const uint64_t seq = owed[pick];
      owed.erase(owed.begin() + pick);
      RC_ASSERT(conn.Respond(seq, HttpResponse::Json(200, paths[seq])).ok());
    }
  };
  std::string output;
  size_t at = 0;
  while (at < stream.size()) {
    const size_t n = *rc::gen::inRange<size_t>(1, stream.size() - at + 1);
    conn.OnBytes(std::string_view(stream).substr(at, n));
    at += n;
    answer_some(false);
    output += conn.TakeOutput();
  }
  conn.OnEndOfInput();
  while (!owed.empty()) {
    answer_some(true);
    RC_ASSERT(conn.InFlight() <= options.max_in_flight);
  }
  output += conn.TakeOutput();
  RC_ASSERT(output == reference);
  RC_ASSERT(conn.ShouldClose());
}

// Whatever the client sends, however it arrives and whenever the handler answers, the connection
// keeps its bounds, writes only responses, and is ready to close once input ends and all is answered.
RC_GTEST_PROP(HttpConnectionPropertyTest, CorruptedStreamsKeepBoundsAndFinish, ()) {
  std::vector<std::string> ignored;
  std::string stream = testing_util::GenRequestStream(&ignored);
  const int edits = *rc::gen::inRange(0, 6);
  for (int i = 0; i < edits; ++i) {
    const size_t at = *rc::gen::inRange<size_t>(0, stream.size());
    stream[at] = *rc::gen::element('\r', '\n', ' ', ':', '0', 'x', '\0', '%');
  }
  HttpConnectionOptions options;
  options.max_in_flight = *rc::gen::inRange<size_t>(1, 4);
  options.max_buffered_output = *rc::gen::element<size_t>(64, 1 << 20);
  options.limits.max_body_bytes = *rc::gen::element<uint64_t>(16, 1 << 20);
  std::vector<uint64_t> owed;
  HttpConnection conn(options, [&](uint64_t seq, HttpRequest) { owed.push_back(seq); });
  auto answer_all = [&] {
    while (!owed.empty()) {
      const size_t pick = *rc::gen::inRange<size_t>(0, owed.size());
      const uint64_t seq = owed[pick];
      owed.erase(owed.begin() + pick);
      RC_ASSERT(conn.Respond(seq, HttpResponse::Json(200, "{}")).ok());
      RC_ASSERT(conn.Respond(seq, HttpResponse::Json(200, "{}")).code() == absl::StatusCode::kNotFound);
    }
  };
  std::string output;
  size_t at = 0;
  while (at < stream.size() && !conn.closing()) {
    const size_t n = *rc::gen::inRange<size_t>(1, stream.size() - at + 1);
    conn.OnBytes(std::string_view(stream).substr(at, n));
    at += n;
    RC_ASSERT(conn.InFlight() <= options.max_in_flight);
    if (*rc::gen::weightedElement<bool>({{1, true}, {9, false}})) conn.OnIdleTimeout();
    if (!conn.WantsRead() || *rc::gen::arbitrary<bool>()) answer_all();
    output += conn.TakeOutput();
  }
  conn.OnEndOfInput();
  for (int i = 0; i < 100 && !owed.empty(); ++i) answer_all();
  output += conn.TakeOutput();
  RC_ASSERT(conn.ShouldClose());
  RC_ASSERT(output.empty() || output.rfind("HTTP/1.1 ", 0) == 0);
}

}  // namespace
}  // namespace qdsim::http
