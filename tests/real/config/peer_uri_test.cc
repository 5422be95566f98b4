// Parsing and normalising peer URIs (--uri, --bootstrap).
#include "real/config/peer_uri.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "rapidcheck/gtest.h"

namespace qdsim::config {
namespace {

using ::testing::HasSubstr;

TEST(ParsePeerUriTest, ParsesHostAndPort) {
  absl::StatusOr<PeerUri> uri = ParsePeerUri("http://10.0.0.1:7001");
  ASSERT_TRUE(uri.ok()) << uri.status();
  EXPECT_EQ(uri->host, "10.0.0.1");
  EXPECT_EQ(uri->port, 7001);
  EXPECT_EQ(uri->ToString(), "http://10.0.0.1:7001/");
  EXPECT_EQ(uri->HostPort(), "10.0.0.1:7001");
}

TEST(ParsePeerUriTest, PortDefaultsTo6335) {
  absl::StatusOr<PeerUri> uri = ParsePeerUri("http://qdrant-0.qdrant-headless");
  ASSERT_TRUE(uri.ok()) << uri.status();
  EXPECT_EQ(uri->host, "qdrant-0.qdrant-headless");
  EXPECT_EQ(uri->port, 6335);
  EXPECT_EQ(uri->ToString(), "http://qdrant-0.qdrant-headless:6335/");
}

TEST(ParsePeerUriTest, EqualAddressesNormaliseAlike) {
  const PeerUri expected{"node-1.example", 6335};
  for (const char* text :
       {"http://node-1.example:6335", "http://node-1.example:6335/", "http://node-1.example",
        "HTTP://Node-1.Example/", "http://node-1.example:06335"}) {
    absl::StatusOr<PeerUri> uri = ParsePeerUri(text);
    ASSERT_TRUE(uri.ok()) << text << ": " << uri.status();
    EXPECT_EQ(*uri, expected) << text;
  }
}

TEST(ParsePeerUriTest, AcceptsBracketedIpv6) {
  absl::StatusOr<PeerUri> uri = ParsePeerUri("http://[FE80::1]:6336/");
  ASSERT_TRUE(uri.ok()) << uri.status();
  EXPECT_EQ(uri->host, "fe80::1");
  EXPECT_EQ(uri->port, 6336);
  EXPECT_EQ(uri->ToString(), "http://[fe80::1]:6336/");
  EXPECT_EQ(ParsePeerUri("http://[::1]")->port, 6335);
}

TEST(ParsePeerUriTest, RejectsEverythingElseQuotingTheInput) {
  for (const char* bad : {"",
                          "10.0.0.1:6335",
                          "https://10.0.0.1:6335",
                          "grpc://h:1",
                          "http://",
                          "http://:6335",
                          "http://h:",
                          "http://h:0",
                          "http://h:65536",
                          "http://h:abc",
                          "http://h:-1",
                          "http://h:6335/path",
                          "http://h:6335/?x=1",
                          "http://h#frag",
                          "http://user@h:6335",
                          "http://::1:6335",
                          "http://[::1",
                          "http://[zz::1]:1",
                          "http://[::1]x",
                          "http://999.1.1.1",
                          "http://1.2.3",
                          "http://bad_host",
                          "http://-h",
                          "http://h..i",
                          "http://h i",
                          " http://h"}) {
    absl::StatusOr<PeerUri> uri = ParsePeerUri(bad);
    ASSERT_FALSE(uri.ok()) << "accepted \"" << bad << "\"";
    EXPECT_EQ(uri.status().code(), absl::StatusCode::kInvalidArgument) << bad;
    EXPECT_THAT(uri.status().message(), HasSubstr(std::string("\"") + bad + "\"")) << bad;
  }
}

// Every URI this module prints parses back to itself.
RC_GTEST_PROP(ParsePeerUriTest, ToStringRoundTrips, ()) {
  const std::string alphabet = "abcdefghijklmnopqrstuvwxyz0123456789";
  const auto label =
      *rc::gen::container<std::string>(*rc::gen::inRange<size_t>(1, 12), rc::gen::elementOf(alphabet));
  const auto ipv4 = *rc::gen::container<std::vector<int>>(4, rc::gen::inRange(0, 256));
  const bool use_ip = *rc::gen::arbitrary<bool>();
  PeerUri uri;
  uri.host = use_ip ? absl::StrCat(ipv4[0], ".", ipv4[1], ".", ipv4[2], ".", ipv4[3])
                    : absl::StrCat("h", label, ".example");
  uri.port = *rc::gen::inRange<uint16_t>(1, 65535);
  absl::StatusOr<PeerUri> parsed = ParsePeerUri(uri.ToString());
  RC_ASSERT(parsed.ok());
  RC_ASSERT(*parsed == uri);
}

}  // namespace
}  // namespace qdsim::config
