// qdnode's command line: both flag syntaxes, environment fallbacks, errors, and the help text.
#include "real/config/flags.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace qdsim::config {
namespace {

using ::testing::HasSubstr;

const PeerUri kPeer1{"10.0.0.1", 6335};
const PeerUri kPeer2{"10.0.0.2", 7001};

TEST(ParseFlagsTest, NoArgumentsMeansNothingSet) {
  absl::StatusOr<Flags> flags = ParseFlags({}, Environment());
  ASSERT_TRUE(flags.ok()) << flags.status();
  EXPECT_FALSE(flags->uri);
  EXPECT_FALSE(flags->bootstrap);
  EXPECT_FALSE(flags->config_path);
  EXPECT_FALSE(flags->reinit);
  EXPECT_FALSE(flags->help);
}

TEST(ParseFlagsTest, SeparateValueSyntax) {
  absl::StatusOr<Flags> flags =
      ParseFlags({"--uri", "http://10.0.0.1:6335", "--bootstrap", "http://10.0.0.2:7001", "--config-path",
                  "conf/x.yaml", "--reinit"},
                 Environment());
  ASSERT_TRUE(flags.ok()) << flags.status();
  EXPECT_EQ(flags->uri, kPeer1);
  EXPECT_EQ(flags->bootstrap, kPeer2);
  EXPECT_EQ(flags->config_path, "conf/x.yaml");
  EXPECT_TRUE(flags->reinit);
}

TEST(ParseFlagsTest, EqualsSyntax) {
  absl::StatusOr<Flags> flags = ParseFlags(
      {"--reinit", "--config-path=a=b.yaml", "--bootstrap=http://10.0.0.2:7001", "--uri=http://10.0.0.1"},
      Environment());
  ASSERT_TRUE(flags.ok()) << flags.status();
  EXPECT_EQ(flags->uri, kPeer1);
  EXPECT_EQ(flags->bootstrap, kPeer2);
  EXPECT_EQ(flags->config_path, "a=b.yaml");  // split at the first '=' only
  EXPECT_TRUE(flags->reinit);
}

TEST(ParseFlagsTest, HelpStopsParsing) {
  for (const char* help : {"--help", "-h"}) {
    absl::StatusOr<Flags> flags = ParseFlags({"--reinit", help, "--no-such-flag"}, Environment());
    ASSERT_TRUE(flags.ok()) << help << ": " << flags.status();
    EXPECT_TRUE(flags->help);
  }
}

TEST(ParseFlagsTest, ErrorsNameTheFlag) {
  const std::vector<std::pair<std::vector<std::string>, std::string>> cases = {
      {{"--no-such-flag"}, "unknown flag \"--no-such-flag\""},
      {{"--urI=http://h"}, "unknown flag \"--urI\""},
      {{"-x"}, "unexpected argument \"-x\""},
      {{"positional"}, "unexpected argument \"positional\""},
      {{"--"}, "unexpected argument \"--\""},
      {{"--uri"}, "--uri requires a value"},
      {{"--bootstrap", "--reinit"}, "--bootstrap requires a value"},
      {{"--config-path="}, "--config-path requires a value"},
      {{"--reinit=true"}, "--reinit takes no value"},
      {{"--reinit", "--reinit"}, "--reinit is given more than once"},
      {{"--uri", "http://a", "--uri=http://b"}, "--uri is given more than once"},
      {{"--uri", "10.0.0.1:6335"}, "--uri: invalid peer URI \"10.0.0.1:6335\""},
      {{"--bootstrap=http://h:99999"}, "--bootstrap: invalid peer URI \"http://h:99999\""},
  };
  for (const auto& [args, message] : cases) {
    absl::StatusOr<Flags> flags = ParseFlags(args, Environment());
    ASSERT_FALSE(flags.ok()) << message;
    EXPECT_EQ(flags.status().code(), absl::StatusCode::kInvalidArgument) << message;
    EXPECT_THAT(flags.status().message(), HasSubstr(message));
  }
}

TEST(ParseFlagsTest, EnvironmentFallbacks) {
  const Environment env(
      {{"QDRANT_URI", "http://10.0.0.1:6335"}, {"QDRANT_BOOTSTRAP", "http://10.0.0.2:7001"}});
  absl::StatusOr<Flags> flags = ParseFlags({}, env);
  ASSERT_TRUE(flags.ok()) << flags.status();
  EXPECT_EQ(flags->uri, kPeer1);
  EXPECT_EQ(flags->bootstrap, kPeer2);
}

TEST(ParseFlagsTest, FlagsWinOverEnvironment) {
  const Environment env({{"QDRANT_URI", "http://env-uri:1"}, {"QDRANT_BOOTSTRAP", "http://env-boot:2"}});
  absl::StatusOr<Flags> flags =
      ParseFlags({"--uri=http://10.0.0.1", "--bootstrap", "http://10.0.0.2:7001"}, env);
  ASSERT_TRUE(flags.ok()) << flags.status();
  EXPECT_EQ(flags->uri, kPeer1);
  EXPECT_EQ(flags->bootstrap, kPeer2);
}

TEST(ParseFlagsTest, EmptyEnvironmentVariableIsUnset) {
  absl::StatusOr<Flags> flags = ParseFlags({}, Environment({{"QDRANT_URI", ""}, {"QDRANT_BOOTSTRAP", ""}}));
  ASSERT_TRUE(flags.ok()) << flags.status();
  EXPECT_FALSE(flags->uri);
  EXPECT_FALSE(flags->bootstrap);
}

TEST(ParseFlagsTest, MalformedEnvironmentUriNamesTheVariable) {
  absl::StatusOr<Flags> flags = ParseFlags({}, Environment({{"QDRANT_BOOTSTRAP", "peer-0:6335"}}));
  ASSERT_FALSE(flags.ok());
  EXPECT_THAT(flags.status().message(),
              HasSubstr("environment variable QDRANT_BOOTSTRAP: invalid peer URI \"peer-0:6335\""));
}

TEST(UsageTest, ListsFlagsEnvironmentAndSettings) {
  const std::string usage = Usage();
  for (const char* part :
       {"--uri URI", "--bootstrap URI", "--config-path FILE", "--reinit", "--help", "QDRANT_URI",
        "QDRANT_BOOTSTRAP", "QDRANT__SERVICE__HTTP_PORT", "config/config.yaml", "service.http_port",
        "cluster.consensus.pre_vote", "storage.performance.outgoing_shard_transfers_limit", "log_level"}) {
    EXPECT_THAT(usage, HasSubstr(part));
  }
  EXPECT_EQ(usage.back(), '\n');
}

}  // namespace
}  // namespace qdsim::config
