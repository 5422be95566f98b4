// NodeConfig: every configuration key qdnode honours (SPEC.md §1), with Qdrant's defaults, and the
// two kinds of layer that fill it: YAML documents and QDRANT__SECTION__KEY environment variables.
// LoadConfig() (load_config.h) stacks the layers in Qdrant's order; these functions apply one each.
//
//   NodeConfig config;                    // built-in defaults
//   std::vector<std::string> warnings;
//   absl::Status s = ApplyYaml("cluster:\n  enabled: true\n", "inline", &config, &warnings);
//   s = ApplyEnvironment(Environment({{"QDRANT__SERVICE__HTTP_PORT", "7000"}}), &config, &warnings);
//   // config.cluster.enabled == true, config.service.http_port == 7000
//
// Keys are case-insensitive in both layers ("HTTP_PORT" is "http_port"). A layer that fails leaves
// `config` partly updated; callers discard it. Each key is one of:
//   - a setting listed below: its value is checked, and a malformed one is InvalidArgument naming the
//     source, the key and the value, e.g.
//     `QDRANT__SERVICE__HTTP_PORT: invalid value "abc" for service.http_port: expected a port number
//     (1-65535)`;
//   - a section (service, cluster, cluster.p2p, cluster.consensus, storage, storage.performance):
//     a YAML map, or null for an empty one;
//   - a key real Qdrant knows but this project does not use (storage.optimizers.*, service.grpc_port,
//     telemetry_disabled, ...): accepted silently with whatever value, so that a Qdrant config.yaml
//     loads as it is;
//   - anything else: ignored, with a warning naming the key and its source appended to `warnings`.
//
// Thread-safety: free functions without shared state; NodeConfig is a plain value.
#ifndef QDSIM_REAL_CONFIG_NODE_CONFIG_H_
#define QDSIM_REAL_CONFIG_NODE_CONFIG_H_

#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "real/config/environment.h"
#include "real/config/peer_uri.h"

namespace qdsim::config {

inline constexpr uint16_t kDefaultHttpPort = 6333;
// Peer ids stay JSON-safe (SPEC.md §2): [1, 2^53 - 1].
inline constexpr uint64_t kMaxPeerId = (uint64_t{1} << 53) - 1;
// A shard transfer limit of YAML null: Qdrant's "unlimited".
inline constexpr uint32_t kUnlimitedTransfers = std::numeric_limits<uint32_t>::max();
// The only shard transfer method this node implements (Qdrant's snapshot and wal_delta are
// accepted in the config with a warning and replaced by this one).
inline constexpr char kStreamRecords[] = "stream_records";

struct NodeConfig {
  struct Service {
    std::string host = "0.0.0.0";           // address the REST API binds to
    uint16_t http_port = kDefaultHttpPort;  // REST API port
    std::optional<std::string> api_key;     // unset: no authentication; "" counts as unset
    uint32_t max_request_size_mb = 32;      // larger request bodies get HTTP 413; 1-4096
  };
  struct P2p {
    uint16_t port = kDefaultP2pPort;  // peer-to-peer listening port
  };
  struct Consensus {
    uint64_t tick_period_ms = 100;        // one Raft tick; 1-60000
    uint64_t bootstrap_timeout_sec = 15;  // how long a join may take; 1-86400
    uint64_t message_timeout_ticks = 10;  // a p2p send times out after this many ticks; >= 1
    uint64_t compact_wal_entries = 128;   // snapshot + truncate after this many applied entries; 0: never
    bool pre_vote = true;                 // SPEC.md §3 Beyond; false reproduces Qdrant
    bool check_quorum = true;             // SPEC.md §3 Beyond; false reproduces Qdrant
  };
  struct Cluster {
    bool enabled = false;             // false: standalone node, no p2p
    std::optional<uint64_t> peer_id;  // [1, kMaxPeerId]; unset: random on first start, then persisted
    P2p p2p;
    Consensus consensus;
  };
  struct Performance {
    uint32_t incoming_shard_transfers_limit = 1;  // automatic transfers into this peer at once
    uint32_t outgoing_shard_transfers_limit = 1;  // automatic transfers out of this peer at once
  };
  struct Storage {
    std::string storage_path = "./storage";              // all durable state lives under it
    std::string snapshots_path = "./snapshots";          // collection snapshots
    std::string shard_transfer_method = kStreamRecords;  // default method of user transfers
    Performance performance;
  };

  Service service;
  Cluster cluster;
  Storage storage;
  // Qdrant's log filter: a level (trace, debug, info, warn, error, off; any case), optionally with
  // "target=level" directives, comma-separated ("INFO,raft=debug"). GlobalLogLevel() extracts the level.
  std::string log_level = "INFO";
};

// Applies one YAML document. `source` names it in messages (usually the file path). InvalidArgument
// if the text is not YAML ("<source>:<line>:<column>: cannot parse YAML: <parser message>"), if its
// top level is not a map, or if a setting is malformed.
absl::Status ApplyYaml(const std::string& text, const std::string& source, NodeConfig* config,
                       std::vector<std::string>* warnings);

// Reads `path` and applies it with ApplyYaml(). NotFound if it does not exist, FailedPrecondition if
// it cannot be read (a directory, no permission, over 16 MiB).
absl::Status ApplyYamlFile(const std::string& path, NodeConfig* config, std::vector<std::string>* warnings);

// Applies every variable named QDRANT__<KEY> (the prefix in any case), where <KEY> is the dotted key
// with "__" for each '.': QDRANT__CLUSTER__P2P__PORT is cluster.p2p.port. Values are taken as the
// text of a YAML scalar, never as null. Other variables (QDRANT_URI, PATH, ...) are not looked at.
absl::Status ApplyEnvironment(const Environment& env, NodeConfig* config, std::vector<std::string>* warnings);

// The level of a valid `log_level` filter that applies to every target, lower-cased: the last
// directive without '=' ("warning" is reported as "warn"); "info" if there is none.
std::string GlobalLogLevel(const std::string& log_level);

}  // namespace qdsim::config

#endif  // QDSIM_REAL_CONFIG_NODE_CONFIG_H_
