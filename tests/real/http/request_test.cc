// HttpHeaders lookup, keep-alive rules and HttpResponse serialization.
#include "real/http/request.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

namespace qdsim::http {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;

TEST(HttpHeadersTest, LookupIsCaseInsensitiveAndKeepsOrder) {
  HttpHeaders headers;
  headers.Add("Content-Type", "application/json");
  headers.Add("X-Id", "1");
  headers.Add("x-id", "2");
  EXPECT_EQ(headers.Get("content-type"), "application/json");
  EXPECT_EQ(headers.Get("X-ID"), "1");
  EXPECT_THAT(headers.GetAll("x-Id"), ElementsAre("1", "2"));
  EXPECT_EQ(headers.Count("X-ID"), 2u);
  EXPECT_FALSE(headers.Get("Missing").has_value());
  EXPECT_FALSE(headers.Has("Missing"));
  EXPECT_EQ(headers.entries()[2].name, "x-id");  // the original spelling is kept
}

TEST(HttpHeadersTest, SetReplacesAndRemoveCounts) {
  HttpHeaders headers;
  headers.Add("A", "1");
  headers.Add("B", "2");
  headers.Add("a", "3");
  headers.Set("A", "4");
  EXPECT_THAT(headers.GetAll("a"), ElementsAre("4"));
  EXPECT_EQ(headers.entries().front().name, "B");
  EXPECT_EQ(headers.Remove("b"), 1u);
  EXPECT_EQ(headers.Remove("b"), 0u);
  EXPECT_EQ(headers.size(), 1u);
}

TEST(HttpHeadersTest, HasTokenLooksInsideCommaLists) {
  HttpHeaders headers;
  headers.Add("Connection", "Upgrade ,  Keep-Alive");
  headers.Add("Connection", "foo");
  EXPECT_TRUE(headers.HasToken("connection", "keep-alive"));
  EXPECT_TRUE(headers.HasToken("Connection", "FOO"));
  EXPECT_FALSE(headers.HasToken("Connection", "close"));
  EXPECT_FALSE(headers.HasToken("Connection", "keep"));
}

TEST(KeepAliveTest, Http11PersistsUnlessClose) {
  HttpHeaders none;
  EXPECT_TRUE(KeepAlive(HttpVersion::kHttp11, none));
  HttpHeaders close;
  close.Add("Connection", "Close");
  EXPECT_FALSE(KeepAlive(HttpVersion::kHttp11, close));
}

TEST(KeepAliveTest, Http10PersistsOnlyWithKeepAlive) {
  HttpHeaders none;
  EXPECT_FALSE(KeepAlive(HttpVersion::kHttp10, none));
  HttpHeaders keep;
  keep.Add("Connection", "keep-alive");
  EXPECT_TRUE(KeepAlive(HttpVersion::kHttp10, keep));
  keep.Add("Connection", "close");
  EXPECT_FALSE(KeepAlive(HttpVersion::kHttp10, keep));  // close wins
}

TEST(HttpRequestTest, QueryValueReturnsFirstMatch) {
  HttpRequest request;
  request.query = {{"id", "1"}, {"id", "2"}, {"wait", ""}};
  EXPECT_EQ(request.QueryValue("id"), "1");
  EXPECT_EQ(request.QueryValue("wait"), "");
  EXPECT_FALSE(request.QueryValue("ID").has_value());
}

TEST(HttpResponseTest, SerializesStatusHeadersAndBody) {
  HttpResponse response = HttpResponse::Json(200, R"({"result":true})");
  response.headers.Add("X-Request-Id", "abc");
  EXPECT_EQ(response.Serialize(),
            "HTTP/1.1 200 OK\r\n"
            "X-Request-Id: abc\r\n"
            "Content-Type: application/json\r\n"
            "Content-Length: 15\r\n"
            "\r\n"
            R"({"result":true})");
}

TEST(HttpResponseTest, WritesConnectionFieldAsFramingSays) {
  HttpResponse response;
  response.status = 404;
  response.content_type = "";
  ResponseFraming close;
  close.close = true;
  EXPECT_EQ(response.Serialize(close),
            "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
  ResponseFraming keep;
  keep.keep_alive_header = true;
  EXPECT_EQ(response.Serialize(keep),
            "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: keep-alive\r\n\r\n");
}

TEST(HttpResponseTest, HeadKeepsLengthButDropsBody) {
  HttpResponse response = HttpResponse::Json(200, "{}");
  ResponseFraming head;
  head.head = true;
  EXPECT_EQ(response.Serialize(head),
            "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n");
}

TEST(HttpResponseTest, BodilessStatusesHaveNoLengthTypeOrBody) {
  for (int status : {100, 204, 304}) {
    HttpResponse response = HttpResponse::Json(status, "ignored");
    const std::string wire = response.Serialize();
    EXPECT_THAT(wire, Not(HasSubstr("Content-Length"))) << status;
    EXPECT_THAT(wire, Not(HasSubstr("Content-Type"))) << status;
    EXPECT_THAT(wire, Not(HasSubstr("ignored"))) << status;
  }
}

TEST(HttpResponseTest, FramingHeadersFromHandlerAreIgnored) {
  HttpResponse response = HttpResponse::Json(200, "{}");
  response.headers.Add("Content-Length", "999");
  response.headers.Add("transfer-encoding", "chunked");
  response.headers.Add("Connection", "keep-alive");
  response.headers.Add("Content-Type", "text/html");
  EXPECT_EQ(response.Serialize(),
            "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}");
}

TEST(HttpResponseTest, HeaderValuesCannotSplitTheResponse) {
  HttpResponse response = HttpResponse::Json(200, "");
  response.headers.Add("X-Echo", "a\r\nSet-Cookie: evil");
  response.headers.Add("Bad Name", "dropped");
  response.headers.Add("X-Nul", std::string("a\0b", 3));
  const std::string wire = response.Serialize();
  EXPECT_THAT(wire, HasSubstr("X-Echo: a  Set-Cookie: evil\r\n"));
  EXPECT_THAT(wire, HasSubstr("X-Nul: a b\r\n"));
  EXPECT_THAT(wire, Not(HasSubstr("Bad Name")));
}

TEST(HttpResponseTest, OutOfRangeStatusBecomes500) {
  HttpResponse response;
  response.status = 42;
  EXPECT_THAT(response.Serialize(), testing::StartsWith("HTTP/1.1 500 Internal Server Error\r\n"));
  response.status = 600;
  EXPECT_THAT(response.Serialize(), testing::StartsWith("HTTP/1.1 500 Internal Server Error\r\n"));
}

TEST(HttpResponseTest, UnknownStatusInRangeKeepsItsCode) {
  HttpResponse response;
  response.status = 499;
  EXPECT_THAT(response.Serialize(), testing::StartsWith("HTTP/1.1 499 Unknown\r\n"));
}

TEST(HttpResponseTest, ErrorHasQdrantShapeWithEscapedMessage) {
  const HttpResponse error = HttpResponse::Error(422, "bad \"name\"\\\n\x01 é");
  EXPECT_EQ(error.status, 422);
  EXPECT_EQ(error.content_type, "application/json");
  EXPECT_EQ(error.body, R"({"status":{"error":"bad \"name\"\\\n\u0001 é"},"time":0.0})");
}

TEST(HttpResponseTest, AsksToCloseReadsConnectionHeader) {
  HttpResponse response;
  EXPECT_FALSE(response.AsksToClose());
  response.headers.Add("Connection", "Close");
  EXPECT_TRUE(response.AsksToClose());
}

TEST(ReasonPhraseTest, CoversTheStatusesThisServerSends) {
  EXPECT_EQ(ReasonPhrase(200), "OK");
  EXPECT_EQ(ReasonPhrase(400), "Bad Request");
  EXPECT_EQ(ReasonPhrase(408), "Request Timeout");
  EXPECT_EQ(ReasonPhrase(413), "Payload Too Large");
  EXPECT_EQ(ReasonPhrase(414), "URI Too Long");
  EXPECT_EQ(ReasonPhrase(417), "Expectation Failed");
  EXPECT_EQ(ReasonPhrase(422), "Unprocessable Entity");
  EXPECT_EQ(ReasonPhrase(431), "Request Header Fields Too Large");
  EXPECT_EQ(ReasonPhrase(501), "Not Implemented");
  EXPECT_EQ(ReasonPhrase(503), "Service Unavailable");
  EXPECT_EQ(ReasonPhrase(505), "HTTP Version Not Supported");
  EXPECT_EQ(ReasonPhrase(299), "Unknown");
}

TEST(IsTokenTest, AcceptsTcharsOnly) {
  EXPECT_TRUE(IsToken("GET"));
  EXPECT_TRUE(IsToken("X-Custom_Header.v1~!#$%&'*+^`|"));
  EXPECT_FALSE(IsToken(""));
  EXPECT_FALSE(IsToken("a b"));
  EXPECT_FALSE(IsToken("a:b"));
  EXPECT_FALSE(IsToken("a\"b"));
  EXPECT_FALSE(IsToken("caf\xc3\xa9"));
}

}  // namespace
}  // namespace qdsim::http
