// LoadConfig's layering (defaults < config/config.yaml < --config-path < QDRANT__ variables) and the
// start rules (ValidateStart, DetermineStartMode).
#include "real/config/load_config.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

#include "tests/real/config/config_test_util.h"

namespace qdsim::config {
namespace {

using test_util::Argv;
using test_util::TempDir;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

absl::StatusOr<LoadedConfig> Load(Argv args, const TempDir& dir, const Environment& env = Environment()) {
  return LoadConfig(args.argc(), args.argv(), env, dir.path());
}

TEST(LoadConfigTest, DefaultsWhenNothingIsGiven) {
  TempDir dir;
  absl::StatusOr<LoadedConfig> loaded = Load({}, dir);
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  EXPECT_EQ(loaded->config.service.http_port, 6333);
  EXPECT_EQ(loaded->config.cluster.p2p.port, 6335);
  EXPECT_FALSE(loaded->config.cluster.enabled);
  EXPECT_FALSE(loaded->flags.uri);
  EXPECT_THAT(loaded->warnings, IsEmpty());
  EXPECT_THAT(loaded->files, IsEmpty());
}

// Each layer sets one key fewer than the one below it, so every key shows which layer won.
TEST(LoadConfigTest, EachLayerOverridesThePreviousOne) {
  TempDir dir;
  const std::string default_file = dir.Write("config/config.yaml", R"(
service:
  host: from-default-file
  http_port: 1001
  max_request_size_mb: 10
cluster:
  p2p:
    port: 2001
)");
  const std::string extra = dir.Write("extra.yaml",
                                      "service:\n  http_port: 1002\n  max_request_size_mb: 20\n"
                                      "cluster:\n  p2p:\n    port: 2002\n");
  const Environment env({{"QDRANT__CLUSTER__P2P__PORT", "2003"}, {"QDRANT__CLUSTER__ENABLED", "true"}});
  absl::StatusOr<LoadedConfig> loaded = Load({"--config-path", "extra.yaml"}, dir, env);
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  const NodeConfig& c = loaded->config;
  EXPECT_EQ(c.service.host, "from-default-file");
  EXPECT_EQ(c.service.http_port, 1002);
  EXPECT_EQ(c.service.max_request_size_mb, 20u);
  EXPECT_EQ(c.cluster.p2p.port, 2003);
  EXPECT_TRUE(c.cluster.enabled);
  EXPECT_EQ(c.log_level, "INFO");  // set by no layer
  EXPECT_THAT(loaded->files, ElementsAre(default_file, extra));
}

TEST(LoadConfigTest, DefaultFileIsLookedForInTheWorkingDirectoryOnly) {
  TempDir dir;
  TempDir elsewhere;
  elsewhere.Write("config/config.yaml", "service:\n  http_port: 1001\n");
  absl::StatusOr<LoadedConfig> loaded = Load({}, dir);
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  EXPECT_EQ(loaded->config.service.http_port, 6333);
  absl::StatusOr<LoadedConfig> there = Load({}, elsewhere);
  ASSERT_TRUE(there.ok()) << there.status();
  EXPECT_EQ(there->config.service.http_port, 1001);
}

TEST(LoadConfigTest, AbsoluteConfigPathAndEqualsSyntax) {
  TempDir dir;
  TempDir other;
  const std::string path = other.Write("node.yaml", "cluster:\n  enabled: true\n");
  absl::StatusOr<LoadedConfig> loaded = Load({"--config-path=" + path}, dir);
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  EXPECT_TRUE(loaded->config.cluster.enabled);
  EXPECT_THAT(loaded->files, ElementsAre(path));
}

TEST(LoadConfigTest, MissingConfigPathIsAnError) {
  TempDir dir;
  absl::StatusOr<LoadedConfig> loaded = Load({"--config-path", "missing.yaml"}, dir);
  ASSERT_FALSE(loaded.ok());
  EXPECT_EQ(loaded.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(loaded.status().message(), HasSubstr("--config-path"));
  EXPECT_THAT(loaded.status().message(), HasSubstr(dir.path() + "/missing.yaml"));
}

TEST(LoadConfigTest, UnreadableConfigPathIsAnError) {
  TempDir dir;
  dir.Write("a-directory/file", "");
  absl::StatusOr<LoadedConfig> loaded = Load({"--config-path", "a-directory"}, dir);
  ASSERT_FALSE(loaded.ok());
  EXPECT_EQ(loaded.status().code(), absl::StatusCode::kFailedPrecondition);
}

TEST(LoadConfigTest, BrokenDefaultFileStopsStartUp) {
  TempDir dir;
  dir.Write("config/config.yaml", "service: [\n");
  absl::StatusOr<LoadedConfig> loaded = Load({}, dir);
  ASSERT_FALSE(loaded.ok());
  EXPECT_THAT(loaded.status().message(), HasSubstr(dir.path() + "/config/config.yaml:"));
  EXPECT_THAT(loaded.status().message(), HasSubstr("cannot parse YAML"));
}

TEST(LoadConfigTest, MalformedEnvironmentValueStopsStartUp) {
  TempDir dir;
  absl::StatusOr<LoadedConfig> loaded = Load({}, dir, Environment({{"QDRANT__CLUSTER__ENABLED", "maybe"}}));
  ASSERT_FALSE(loaded.ok());
  EXPECT_THAT(loaded.status().message(), HasSubstr("invalid value \"maybe\" for cluster.enabled"));
}

TEST(LoadConfigTest, WarningsFromEveryLayerAreCollected) {
  TempDir dir;
  dir.Write("config/config.yaml", "unknown_a: 1\n");
  dir.Write("extra.yaml", "unknown_b: 1\n");
  absl::StatusOr<LoadedConfig> loaded =
      Load({"--config-path=extra.yaml"}, dir, Environment({{"QDRANT__UNKNOWN_C", "1"}}));
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  EXPECT_THAT(loaded->warnings, ElementsAre(HasSubstr("\"unknown_a\""), HasSubstr("\"unknown_b\""),
                                            HasSubstr("QDRANT__UNKNOWN_C")));
}

TEST(LoadConfigTest, HelpReadsNoFiles) {
  TempDir dir;
  dir.Write("config/config.yaml", "service: [\n");
  absl::StatusOr<LoadedConfig> loaded =
      Load({"--help"}, dir, Environment({{"QDRANT__SERVICE__HTTP_PORT", "x"}}));
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  EXPECT_TRUE(loaded->flags.help);
  EXPECT_THAT(loaded->files, IsEmpty());
}

TEST(LoadConfigTest, FlagsAndTheirEnvironmentFallbacks) {
  TempDir dir;
  absl::StatusOr<LoadedConfig> loaded = Load({"--uri=http://10.0.0.1:6335", "--reinit"}, dir,
                                             Environment({{"QDRANT_BOOTSTRAP", "http://10.0.0.2"}}));
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  EXPECT_EQ(loaded->flags.uri->ToString(), "http://10.0.0.1:6335/");
  EXPECT_EQ(loaded->flags.bootstrap->ToString(), "http://10.0.0.2:6335/");
  EXPECT_TRUE(loaded->flags.reinit);
}

TEST(LoadConfigTest, UnknownFlagIsAnErrorNamingIt) {
  TempDir dir;
  absl::StatusOr<LoadedConfig> loaded = Load({"--bootstrap-uri", "http://h"}, dir);
  ASSERT_FALSE(loaded.ok());
  EXPECT_THAT(loaded.status().message(), HasSubstr("unknown flag \"--bootstrap-uri\""));
}

// A LoadedConfig with the cluster on or off and the given flags, as LoadConfig would produce it.
LoadedConfig Cluster(bool enabled, const char* uri, const char* bootstrap) {
  LoadedConfig loaded;
  loaded.config.cluster.enabled = enabled;
  if (uri != nullptr) loaded.flags.uri = *ParsePeerUri(uri);
  if (bootstrap != nullptr) loaded.flags.bootstrap = *ParsePeerUri(bootstrap);
  return loaded;
}

TEST(ValidateStartTest, FirstPeerWithoutUriFailsWithQdrantsMessage) {
  const absl::Status s = ValidateStart(Cluster(true, nullptr, nullptr), /*has_existing_state=*/false);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(s.message(), "First peer should specify its uri.");
}

TEST(ValidateStartTest, AcceptedStarts) {
  // First peer with its URI; bootstrap equal to its own URI (written differently) means first peer.
  EXPECT_TRUE(ValidateStart(Cluster(true, "http://10.0.0.1:6335", nullptr), false).ok());
  EXPECT_TRUE(ValidateStart(Cluster(true, "http://10.0.0.1", "http://10.0.0.1:6335/"), false).ok());
  // A joining peer may leave its URI to the bootstrap peer.
  EXPECT_TRUE(ValidateStart(Cluster(true, nullptr, "http://10.0.0.1:6335"), false).ok());
  // A restart ignores --bootstrap and needs no --uri.
  EXPECT_TRUE(ValidateStart(Cluster(true, nullptr, nullptr), true).ok());
  // Standalone needs neither.
  EXPECT_TRUE(ValidateStart(Cluster(false, nullptr, nullptr), false).ok());
}

TEST(DetermineStartModeTest, CoversEveryCase) {
  EXPECT_EQ(DetermineStartMode(Cluster(false, "http://a", "http://b"), false), StartMode::kStandalone);
  EXPECT_EQ(DetermineStartMode(Cluster(false, nullptr, nullptr), true), StartMode::kStandalone);
  EXPECT_EQ(DetermineStartMode(Cluster(true, "http://a", "http://b"), true), StartMode::kRestart);
  EXPECT_EQ(DetermineStartMode(Cluster(true, "http://a", nullptr), false), StartMode::kFirstPeer);
  EXPECT_EQ(DetermineStartMode(Cluster(true, "http://a", "http://A:6335"), false), StartMode::kFirstPeer);
  EXPECT_EQ(DetermineStartMode(Cluster(true, nullptr, nullptr), false), StartMode::kFirstPeer);
  EXPECT_EQ(DetermineStartMode(Cluster(true, "http://a", "http://b"), false), StartMode::kJoin);
  EXPECT_EQ(DetermineStartMode(Cluster(true, nullptr, "http://b"), false), StartMode::kJoin);
  EXPECT_EQ(DetermineStartMode(Cluster(true, "http://a:1", "http://a:2"), false), StartMode::kJoin);
}

}  // namespace
}  // namespace qdsim::config
