// NodeConfig's defaults and its two kinds of layer: YAML documents and QDRANT__ environment variables.
#include "real/config/node_config.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "tests/real/config/config_test_util.h"

namespace qdsim::config {
namespace {

using ::testing::Contains;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;
using ::testing::SizeIs;

// Applies `yaml` to a default NodeConfig; fails the test if the layer fails.
NodeConfig FromYaml(const std::string& yaml, std::vector<std::string>* warnings = nullptr) {
  NodeConfig config;
  std::vector<std::string> ignored;
  const absl::Status s = ApplyYaml(yaml, "test.yaml", &config, warnings ? warnings : &ignored);
  EXPECT_TRUE(s.ok()) << s;
  return config;
}

absl::Status YamlError(const std::string& yaml) {
  NodeConfig config;
  std::vector<std::string> warnings;
  return ApplyYaml(yaml, "test.yaml", &config, &warnings);
}

TEST(NodeConfigTest, DefaultsAreSpecs) {
  const NodeConfig c;
  EXPECT_EQ(c.service.host, "0.0.0.0");
  EXPECT_EQ(c.service.http_port, 6333);
  EXPECT_FALSE(c.service.api_key);
  EXPECT_EQ(c.service.max_request_size_mb, 32u);
  EXPECT_FALSE(c.cluster.enabled);
  EXPECT_FALSE(c.cluster.peer_id);
  EXPECT_EQ(c.cluster.p2p.port, 6335);
  EXPECT_EQ(c.cluster.consensus.tick_period_ms, 100u);
  EXPECT_EQ(c.cluster.consensus.bootstrap_timeout_sec, 15u);
  EXPECT_EQ(c.cluster.consensus.message_timeout_ticks, 10u);
  EXPECT_EQ(c.cluster.consensus.compact_wal_entries, 128u);
  EXPECT_TRUE(c.cluster.consensus.pre_vote);
  EXPECT_TRUE(c.cluster.consensus.check_quorum);
  EXPECT_EQ(c.storage.storage_path, "./storage");
  EXPECT_EQ(c.storage.snapshots_path, "./snapshots");
  EXPECT_EQ(c.storage.shard_transfer_method, "stream_records");
  EXPECT_EQ(c.storage.performance.incoming_shard_transfers_limit, 1u);
  EXPECT_EQ(c.storage.performance.outgoing_shard_transfers_limit, 1u);
  EXPECT_EQ(c.log_level, "INFO");
}

TEST(NodeConfigTest, YamlSetsEverySetting) {
  std::vector<std::string> warnings;
  const NodeConfig c = FromYaml(R"(
log_level: debug,raft=trace
service:
  host: 127.0.0.1
  http_port: 7000
  api_key: s3cret
  max_request_size_mb: 64
cluster:
  enabled: true
  peer_id: 9007199254740991
  p2p:
    port: 7001
  consensus:
    tick_period_ms: 50
    bootstrap_timeout_sec: 30
    message_timeout_ticks: 20
    compact_wal_entries: 0
    pre_vote: false
    check_quorum: False
storage:
  storage_path: /var/lib/qdnode
  snapshots_path: /var/lib/qdnode-snapshots
  shard_transfer_method: stream_records
  performance:
    incoming_shard_transfers_limit: 0
    outgoing_shard_transfers_limit: 4
)",
                                &warnings);
  EXPECT_THAT(warnings, IsEmpty());
  EXPECT_EQ(c.service.host, "127.0.0.1");
  EXPECT_EQ(c.service.http_port, 7000);
  EXPECT_EQ(c.service.api_key, "s3cret");
  EXPECT_EQ(c.service.max_request_size_mb, 64u);
  EXPECT_TRUE(c.cluster.enabled);
  EXPECT_EQ(c.cluster.peer_id, kMaxPeerId);
  EXPECT_EQ(c.cluster.p2p.port, 7001);
  EXPECT_EQ(c.cluster.consensus.tick_period_ms, 50u);
  EXPECT_EQ(c.cluster.consensus.bootstrap_timeout_sec, 30u);
  EXPECT_EQ(c.cluster.consensus.message_timeout_ticks, 20u);
  EXPECT_EQ(c.cluster.consensus.compact_wal_entries, 0u);
  EXPECT_FALSE(c.cluster.consensus.pre_vote);
  EXPECT_FALSE(c.cluster.consensus.check_quorum);
  EXPECT_EQ(c.storage.storage_path, "/var/lib/qdnode");
  EXPECT_EQ(c.storage.snapshots_path, "/var/lib/qdnode-snapshots");
  EXPECT_EQ(c.storage.performance.incoming_shard_transfers_limit, 0u);
  EXPECT_EQ(c.storage.performance.outgoing_shard_transfers_limit, 4u);
  EXPECT_EQ(c.log_level, "debug,raft=trace");
}

TEST(NodeConfigTest, YamlKeysAreCaseInsensitive) {
  const NodeConfig c =
      FromYaml("Service:\n  HTTP_Port: 7000\nCLUSTER:\n  P2P:\n    Port: 7001\nLOG_LEVEL: warn\n");
  EXPECT_EQ(c.service.http_port, 7000);
  EXPECT_EQ(c.cluster.p2p.port, 7001);
  EXPECT_EQ(c.log_level, "warn");
}

TEST(NodeConfigTest, LaterDocumentsOverrideOnlyWhatTheySet) {
  NodeConfig c;
  std::vector<std::string> warnings;
  ASSERT_TRUE(ApplyYaml("service:\n  http_port: 7000\n  host: a\n", "one", &c, &warnings).ok());
  ASSERT_TRUE(ApplyYaml("service:\n  http_port: 8000\n", "two", &c, &warnings).ok());
  EXPECT_EQ(c.service.http_port, 8000);
  EXPECT_EQ(c.service.host, "a");
}

TEST(NodeConfigTest, NullMeansQdrantsUnsetValue) {
  NodeConfig c = FromYaml("service:\n  api_key: k\ncluster:\n  peer_id: 5\n");
  std::vector<std::string> warnings;
  ASSERT_TRUE(ApplyYaml(R"(
service:
  api_key: null
cluster:
  peer_id: ~
  consensus:
storage:
  shard_transfer_method: null
  performance:
    incoming_shard_transfers_limit: null
    outgoing_shard_transfers_limit:
)",
                        "nulls", &c, &warnings)
                  .ok());
  EXPECT_THAT(warnings, IsEmpty());
  EXPECT_FALSE(c.service.api_key);
  EXPECT_FALSE(c.cluster.peer_id);
  EXPECT_EQ(c.storage.shard_transfer_method, "stream_records");
  EXPECT_EQ(c.storage.performance.incoming_shard_transfers_limit, kUnlimitedTransfers);
  EXPECT_EQ(c.storage.performance.outgoing_shard_transfers_limit, kUnlimitedTransfers);
}

TEST(NodeConfigTest, EmptyApiKeyIsUnset) {
  EXPECT_FALSE(FromYaml("service:\n  api_key: \"\"\n").service.api_key);
}

TEST(NodeConfigTest, MalformedValuesFailNamingKeyAndValue) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"service:\n  http_port: abc\n",
       "invalid value \"abc\" for service.http_port: expected a port number (1-65535)"},
      {"service:\n  http_port: 0\n", "invalid value \"0\" for service.http_port"},
      {"service:\n  http_port: 65536\n", "invalid value \"65536\" for service.http_port"},
      {"service:\n  http_port: 6333.0\n", "invalid value \"6333.0\" for service.http_port"},
      {"service:\n  http_port: null\n", "invalid value null for service.http_port"},
      {"service:\n  http_port: {a: 1}\n", "invalid value (a map) for service.http_port"},
      {"service:\n  host: \"\"\n", "invalid value \"\" for service.host"},
      {"service:\n  max_request_size_mb: 0\n", "invalid value \"0\" for service.max_request_size_mb"},
      {"cluster:\n  enabled: yes\n", "invalid value \"yes\" for cluster.enabled: expected true or false"},
      {"cluster:\n  enabled: [true]\n", "invalid value (a list) for cluster.enabled"},
      {"cluster:\n  peer_id: 0\n", "invalid value \"0\" for cluster.peer_id"},
      {"cluster:\n  peer_id: 9007199254740992\n", "invalid value \"9007199254740992\" for cluster.peer_id"},
      {"cluster:\n  p2p:\n    port: 1e3\n", "invalid value \"1e3\" for cluster.p2p.port"},
      {"cluster:\n  consensus:\n    tick_period_ms: 0\n", "for cluster.consensus.tick_period_ms"},
      {"cluster:\n  consensus:\n    message_timeout_ticks: -5\n",
       "for cluster.consensus.message_timeout_ticks"},
      {"cluster:\n  consensus:\n    compact_wal_entries: 99999999999999999999\n",
       "for cluster.consensus.compact_wal_entries"},
      {"cluster:\n  consensus:\n    pre_vote: 1\n", "invalid value \"1\" for cluster.consensus.pre_vote"},
      {"storage:\n  shard_transfer_method: rsync\n",
       "invalid value \"rsync\" for storage.shard_transfer_method"},
      {"storage:\n  performance:\n    incoming_shard_transfers_limit: -1\n",
       "invalid value \"-1\" for storage.performance.incoming_shard_transfers_limit"},
      {"log_level: loud\n", "invalid value \"loud\" for log_level"},
      {"log_level: info,=debug\n", "invalid value \"info,=debug\" for log_level"},
      {"cluster: 5\n", "invalid value \"5\" for cluster: expected a section"},
      {"storage: [a, b]\n", "invalid value (a list) for storage: expected a section"},
  };
  for (const auto& [yaml, message] : cases) {
    const absl::Status s = YamlError(yaml);
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << yaml;
    EXPECT_THAT(s.message(), HasSubstr(message)) << yaml;
    EXPECT_THAT(s.message(), HasSubstr("test.yaml:")) << yaml;
  }
}

TEST(NodeConfigTest, ErrorsPointAtTheLine) {
  const absl::Status s = YamlError("service:\n  host: h\n  http_port: abc\n");
  EXPECT_THAT(s.message(), HasSubstr("test.yaml:3: invalid value \"abc\" for service.http_port"));
}

TEST(NodeConfigTest, UnparsableYamlNamesFileAndPosition) {
  const absl::Status s = YamlError("service:\n  http_port: [6333\n");
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr("test.yaml:"));
  EXPECT_THAT(s.message(), HasSubstr("cannot parse YAML"));
}

TEST(NodeConfigTest, TopLevelMustBeAMap) {
  EXPECT_THAT(YamlError("- a\n- b\n").message(), HasSubstr("must be a map"));
  EXPECT_THAT(YamlError("just text\n").message(), HasSubstr("must be a map"));
}

TEST(NodeConfigTest, EmptyDocumentChangesNothing) {
  std::vector<std::string> warnings;
  const NodeConfig c = FromYaml("# only a comment\n", &warnings);
  EXPECT_EQ(c.service.http_port, 6333);
  EXPECT_THAT(warnings, IsEmpty());
}

TEST(NodeConfigTest, UnknownKeysWarnNamingKeyAndSource) {
  std::vector<std::string> warnings;
  const NodeConfig c = FromYaml(R"(
servce:
  http_port: 7000
service:
  http_port: 7001
  htpp_port: 7002
cluster:
  p2p:
    prot: 1
shiny_new_feature: [1, 2]
)",
                                &warnings);
  EXPECT_EQ(c.service.http_port, 7001);
  EXPECT_THAT(warnings, ElementsAre(HasSubstr("test.yaml:2: unknown configuration key \"servce\""),
                                    HasSubstr("unknown configuration key \"service.htpp_port\""),
                                    HasSubstr("unknown configuration key \"cluster.p2p.prot\""),
                                    HasSubstr("unknown configuration key \"shiny_new_feature\"")));
}

// The structure of Qdrant's own config/config.yaml (1.x), with every key it ships set, plus common
// settings people add: it must load without one warning.
constexpr char kQdrantConfig[] = R"(
log_level: INFO
logger:
  format: text
storage:
  storage_path: ./storage
  snapshots_path: ./snapshots
  snapshots_config:
    snapshots_storage: local
  temp_path: null
  on_disk_payload: true
  update_concurrency: null
  wal:
    wal_capacity_mb: 32
    wal_segments_ahead: 0
  node_type: "Normal"
  performance:
    max_search_threads: 0
    optimizer_cpu_budget: 0
    update_rate_limit: null
    incoming_shard_transfers_limit: 1
    outgoing_shard_transfers_limit: 1
    async_scorer: false
  optimizers:
    deleted_threshold: 0.2
    vacuum_min_vector_number: 1000
    default_segment_number: 0
    max_segment_size_kb: null
    indexing_threshold_kb: 10000
    flush_interval_sec: 5
    max_optimization_threads: null
  hnsw_index:
    m: 16
    ef_construct: 100
    full_scan_threshold_kb: 10000
    max_indexing_threads: 0
    on_disk: false
    payload_m: null
  shard_transfer_method: null
  collection:
    replication_factor: 1
    write_consistency_factor: 1
    vectors:
      on_disk: null
    quantization: null
  max_collections: null
service:
  max_request_size_mb: 32
  max_workers: 0
  host: 0.0.0.0
  http_port: 6333
  grpc_port: 6334
  enable_cors: true
  enable_tls: false
  verify_https_client_certificate: false
cluster:
  enabled: false
  p2p:
    port: 6335
    enable_tls: false
  consensus:
    tick_period_ms: 100
    compact_wal_entries: 128
telemetry_disabled: false
per_collection_metrics_enabled: true
tls:
  cert: ./tls/cert.pem
  key: ./tls/key.pem
  ca_cert: ./tls/cacert.pem
  cert_ttl: 3600
)";

TEST(NodeConfigTest, QdrantsDefaultConfigLoadsWithoutWarnings) {
  std::vector<std::string> warnings;
  const NodeConfig c = FromYaml(kQdrantConfig, &warnings);
  EXPECT_THAT(warnings, IsEmpty());
  EXPECT_EQ(c.service.http_port, 6333);
  EXPECT_EQ(c.cluster.p2p.port, 6335);
  EXPECT_EQ(c.storage.shard_transfer_method, "stream_records");
  EXPECT_EQ(c.storage.performance.incoming_shard_transfers_limit, 1u);
}

TEST(NodeConfigTest, UnsupportedTransferMethodWarnsAndFallsBack) {
  std::vector<std::string> warnings;
  const NodeConfig c = FromYaml("storage:\n  shard_transfer_method: snapshot\n", &warnings);
  EXPECT_EQ(c.storage.shard_transfer_method, "stream_records");
  EXPECT_THAT(warnings, ElementsAre(HasSubstr("\"snapshot\" is not supported")));
}

// Security options Qdrant has and this node lacks are not dropped silently, and a secret is not
// copied into the warning.
TEST(NodeConfigTest, UnsupportedSecurityKeysWarnWithoutTheirValue) {
  std::vector<std::string> warnings;
  FromYaml(
      "service:\n  read_only_api_key: hunter2\n  enable_tls: true\n  jwt_rbac: false\ncluster:\n"
      "  p2p:\n    enable_tls: TRUE\n",
      &warnings);
  EXPECT_THAT(warnings,
              ElementsAre(HasSubstr("service.read_only_api_key is set"),
                          HasSubstr("service.enable_tls is set"), HasSubstr("cluster.p2p.enable_tls")));
  for (const std::string& w : warnings) EXPECT_THAT(w, Not(HasSubstr("hunter2")));
}

TEST(ApplyYamlFileTest, ReadsAFile) {
  test_util::TempDir dir;
  const std::string path = dir.Write("c.yaml", "service:\n  http_port: abc\n");
  NodeConfig c;
  std::vector<std::string> warnings;
  const absl::Status s = ApplyYamlFile(path, &c, &warnings);
  EXPECT_THAT(s.message(), HasSubstr(path + ":2: invalid value \"abc\" for service.http_port"));
}

TEST(ApplyYamlFileTest, MissingFileIsNotFoundAndDirectoryIsUnreadable) {
  test_util::TempDir dir;
  NodeConfig c;
  std::vector<std::string> warnings;
  const absl::Status missing = ApplyYamlFile(dir.path() + "/nope.yaml", &c, &warnings);
  EXPECT_EQ(missing.code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(missing.message(), HasSubstr(dir.path() + "/nope.yaml"));
  const absl::Status directory = ApplyYamlFile(dir.path(), &c, &warnings);
  EXPECT_EQ(directory.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(directory.message(), HasSubstr("is a directory"));
}

TEST(ApplyEnvironmentTest, SetsNestedKeys) {
  NodeConfig c;
  std::vector<std::string> warnings;
  const Environment env({{"QDRANT__CLUSTER__ENABLED", "true"},
                         {"QDRANT__SERVICE__HTTP_PORT", "7000"},
                         {"QDRANT__CLUSTER__P2P__PORT", "7001"},
                         {"QDRANT__LOG_LEVEL", "debug"},
                         {"QDRANT__SERVICE__API_KEY", "k"},
                         {"QDRANT__CLUSTER__CONSENSUS__PRE_VOTE", "false"},
                         {"QDRANT__STORAGE__PERFORMANCE__OUTGOING_SHARD_TRANSFERS_LIMIT", "3"}});
  ASSERT_TRUE(ApplyEnvironment(env, &c, &warnings).ok());
  EXPECT_THAT(warnings, IsEmpty());
  EXPECT_TRUE(c.cluster.enabled);
  EXPECT_EQ(c.service.http_port, 7000);
  EXPECT_EQ(c.cluster.p2p.port, 7001);
  EXPECT_EQ(c.log_level, "debug");
  EXPECT_EQ(c.service.api_key, "k");
  EXPECT_FALSE(c.cluster.consensus.pre_vote);
  EXPECT_EQ(c.storage.performance.outgoing_shard_transfers_limit, 3u);
}

TEST(ApplyEnvironmentTest, KeysAreCaseInsensitive) {
  NodeConfig c;
  std::vector<std::string> warnings;
  const Environment env({{"qdrant__service__http_port", "7000"}, {"Qdrant__Cluster__P2p__Port", "7001"}});
  ASSERT_TRUE(ApplyEnvironment(env, &c, &warnings).ok());
  EXPECT_EQ(c.service.http_port, 7000);
  EXPECT_EQ(c.cluster.p2p.port, 7001);
}

TEST(ApplyEnvironmentTest, IgnoresOtherVariablesAndQdrantKeysItDoesNotUse) {
  NodeConfig c;
  std::vector<std::string> warnings;
  const Environment env({{"PATH", "/bin"},
                         {"QDRANT_URI", "http://h"},
                         {"QDRANT_SERVICE__HTTP_PORT", "1"},  // one underscore: not a config key
                         {"QDRANT__TELEMETRY_DISABLED", "true"},
                         {"QDRANT__STORAGE__OPTIMIZERS__DEFAULT_SEGMENT_NUMBER", "2"}});
  ASSERT_TRUE(ApplyEnvironment(env, &c, &warnings).ok());
  EXPECT_THAT(warnings, IsEmpty());
  EXPECT_EQ(c.service.http_port, 6333);
}

TEST(ApplyEnvironmentTest, UnknownKeysWarnNamingTheVariable) {
  NodeConfig c;
  std::vector<std::string> warnings;
  const Environment env({{"QDRANT__SERVICE__HTTP_PROT", "7000"}, {"QDRANT__", "x"}, {"QDRANT__A____B", "x"}});
  ASSERT_TRUE(ApplyEnvironment(env, &c, &warnings).ok());
  EXPECT_THAT(warnings, SizeIs(3));
  EXPECT_THAT(warnings, Contains(HasSubstr("environment variable QDRANT__SERVICE__HTTP_PROT: unknown "
                                           "configuration key \"service.http_prot\"")));
}

TEST(ApplyEnvironmentTest, MalformedValueNamesVariableKeyAndValue) {
  NodeConfig c;
  std::vector<std::string> warnings;
  const absl::Status s =
      ApplyEnvironment(Environment({{"QDRANT__SERVICE__HTTP_PORT", "abc"}}), &c, &warnings);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(s.message(),
            "environment variable QDRANT__SERVICE__HTTP_PORT: invalid value \"abc\" for service.http_port: "
            "expected a port number (1-65535)");
  const absl::Status section = ApplyEnvironment(Environment({{"QDRANT__CLUSTER", "on"}}), &c, &warnings);
  EXPECT_THAT(section.message(), HasSubstr("invalid value \"on\" for cluster: expected a section"));
}

TEST(GlobalLogLevelTest, TakesTheLastPlainDirective) {
  EXPECT_EQ(GlobalLogLevel("INFO"), "info");
  EXPECT_EQ(GlobalLogLevel("debug,raft=trace"), "debug");
  EXPECT_EQ(GlobalLogLevel("raft=trace, Warning"), "warn");
  EXPECT_EQ(GlobalLogLevel("raft=trace"), "info");
}

}  // namespace
}  // namespace qdsim::config
