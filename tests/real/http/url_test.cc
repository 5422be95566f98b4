// Percent-decoding, query strings, path segments and request-target forms.
#include "real/http/url.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "rapidcheck/gtest.h"

namespace qdsim::http {
namespace {

using ::testing::ElementsAre;
using ::testing::Pair;

TEST(PercentDecodeTest, DecodesEscapesInEitherCase) {
  EXPECT_EQ(*PercentDecode("a%20b%2fc%2Fd", false), "a b/c/d");
  EXPECT_EQ(*PercentDecode("%e2%82%AC", false), "\xe2\x82\xac");
  EXPECT_EQ(*PercentDecode("", false), "");
}

TEST(PercentDecodeTest, DecodesNulAndHighBytes) {
  EXPECT_EQ(*PercentDecode("%00%ff", false), std::string("\0\xff", 2));
}

TEST(PercentDecodeTest, PlusIsSpaceOnlyWhenAsked) {
  EXPECT_EQ(*PercentDecode("a+b%2B", true), "a b+");
  EXPECT_EQ(*PercentDecode("a+b%2B", false), "a+b+");
}

TEST(PercentDecodeTest, RejectsInvalidEscapes) {
  for (const char* bad : {"%", "%2", "a%g0", "%0g", "%%", "abc%", "%-1"}) {
    const auto decoded = PercentDecode(bad, false);
    EXPECT_FALSE(decoded.ok()) << bad;
    EXPECT_EQ(decoded.status().code(), absl::StatusCode::kInvalidArgument) << bad;
  }
}

// Every byte string survives encoding every byte and decoding.
RC_GTEST_PROP(PercentDecodeTest, InvertsFullEncoding, (const std::string& original)) {
  std::string encoded;
  for (unsigned char c : original) {
    static const char kHex[] = "0123456789ABCDEF";
    encoded += '%';
    encoded += kHex[c >> 4];
    encoded += kHex[c & 15];
  }
  const auto decoded = PercentDecode(encoded, true);
  RC_ASSERT(decoded.ok());
  RC_ASSERT(*decoded == original);
}

TEST(ParseQueryStringTest, SplitsAndDecodesInOrder) {
  EXPECT_THAT(
      *ParseQueryString("wait=true&ordering=strong&id=1&id=2"),
      ElementsAre(Pair("wait", "true"), Pair("ordering", "strong"), Pair("id", "1"), Pair("id", "2")));
}

TEST(ParseQueryStringTest, HandlesBareNamesEmptyPiecesAndExtraEquals) {
  EXPECT_THAT(*ParseQueryString("&flag&&a=&b=x=y&"),
              ElementsAre(Pair("flag", ""), Pair("a", ""), Pair("b", "x=y")));
  EXPECT_TRUE(ParseQueryString("")->empty());
}

TEST(ParseQueryStringTest, DecodesPlusAndEscapesInNamesAndValues) {
  EXPECT_THAT(*ParseQueryString("my+key=hello+world%21&a%26b=c%3Dd"),
              ElementsAre(Pair("my key", "hello world!"), Pair("a&b", "c=d")));
}

TEST(ParseQueryStringTest, RejectsBadEscape) {
  EXPECT_FALSE(ParseQueryString("a=%zz").ok());
  EXPECT_FALSE(ParseQueryString("%=1").ok());
}

TEST(SplitPathTest, SplitsIntoSegments) {
  EXPECT_THAT(*SplitPath("/collections/docs/points/scroll"),
              ElementsAre("collections", "docs", "points", "scroll"));
}

TEST(SplitPathTest, DropsEmptySegments) {
  EXPECT_TRUE(SplitPath("/")->empty());
  EXPECT_TRUE(SplitPath("")->empty());
  EXPECT_THAT(*SplitPath("//collections///docs/"), ElementsAre("collections", "docs"));
}

TEST(SplitPathTest, EncodedSlashStaysInsideItsSegment) {
  EXPECT_THAT(*SplitPath("/collections/a%2Fb/points"), ElementsAre("collections", "a/b", "points"));
}

TEST(SplitPathTest, PlusIsNotASpaceInPaths) {
  EXPECT_THAT(*SplitPath("/a+b/c%20d"), ElementsAre("a+b", "c d"));
}

TEST(SplitPathTest, RejectsBadEscape) { EXPECT_FALSE(SplitPath("/collections/%4").ok()); }

TEST(ParseRequestTargetTest, OriginForm) {
  const auto target = ParseRequestTarget("/collections/my%20docs/points?wait=true&x=a+b");
  ASSERT_TRUE(target.ok());
  EXPECT_EQ(target->path, "/collections/my docs/points");
  EXPECT_THAT(target->segments, ElementsAre("collections", "my docs", "points"));
  EXPECT_THAT(target->query, ElementsAre(Pair("wait", "true"), Pair("x", "a b")));
}

TEST(ParseRequestTargetTest, EmptyQueryAfterQuestionMark) {
  const auto target = ParseRequestTarget("/healthz?");
  ASSERT_TRUE(target.ok());
  EXPECT_EQ(target->path, "/healthz");
  EXPECT_TRUE(target->query.empty());
}

TEST(ParseRequestTargetTest, AbsoluteFormDropsSchemeAndAuthority) {
  auto target = ParseRequestTarget("http://localhost:6333/collections?x=1");
  ASSERT_TRUE(target.ok());
  EXPECT_EQ(target->path, "/collections");
  EXPECT_THAT(target->query, ElementsAre(Pair("x", "1")));
  target = ParseRequestTarget("HTTPS://example.com");
  ASSERT_TRUE(target.ok());
  EXPECT_EQ(target->path, "/");
  target = ParseRequestTarget("http://example.com?a=b");
  ASSERT_TRUE(target.ok());
  EXPECT_EQ(target->path, "/");
  EXPECT_THAT(target->query, ElementsAre(Pair("a", "b")));
}

TEST(ParseRequestTargetTest, AsteriskForm) {
  const auto target = ParseRequestTarget("*");
  ASSERT_TRUE(target.ok());
  EXPECT_EQ(target->path, "*");
  EXPECT_TRUE(target->segments.empty());
}

TEST(ParseRequestTargetTest, RejectsOtherForms) {
  for (const char* bad : {"", "collections", "example.com:443", "ftp://x/y", "*x"}) {
    EXPECT_FALSE(ParseRequestTarget(bad).ok()) << bad;
  }
}

TEST(ParseRequestTargetTest, RejectsFragmentsControlsAndRawNonAscii) {
  for (const std::string& bad : std::vector<std::string>{"/a#frag", "/a b", "/a\tb", std::string("/a\0b", 4),
                                                         "/caf\xc3\xa9", "/a\x7f"}) {
    EXPECT_FALSE(ParseRequestTarget(bad).ok()) << bad;
  }
}

TEST(ParseRequestTargetTest, AllowsCharactersClientsLeaveUnescaped) {
  const auto target = ParseRequestTarget("/points?filter={\"a\":[1|2]}");
  ASSERT_TRUE(target.ok());
  EXPECT_THAT(target->query, ElementsAre(Pair("filter", "{\"a\":[1|2]}")));
}

TEST(ParseRequestTargetTest, RejectsBadEscapeInPathOrQuery) {
  EXPECT_FALSE(ParseRequestTarget("/a%zz").ok());
  EXPECT_FALSE(ParseRequestTarget("/a?b=%z").ok());
}

}  // namespace
}  // namespace qdsim::http
