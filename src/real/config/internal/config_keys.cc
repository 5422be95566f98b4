#include "real/config/internal/config_keys.h"

#include <cstdint>
#include <limits>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"

namespace qdsim::config::internal {
namespace {

// Digits only (no sign, no spaces, no exponent), without overflow.
std::optional<uint64_t> ParseDecimal(const std::string& text) {
  if (text.empty() || text.size() > 20) return std::nullopt;
  uint64_t value = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
    const uint64_t digit = static_cast<uint64_t>(c - '0');
    if (value > (std::numeric_limits<uint64_t>::max() - digit) / 10) return std::nullopt;
    value = value * 10 + digit;
  }
  return value;
}

template <typename T>
bool SetUnsigned(const RawValue& value, uint64_t min, uint64_t max, T& out) {
  if (!value) return false;
  const std::optional<uint64_t> n = ParseDecimal(*value);
  if (!n || *n < min || *n > max) return false;
  out = static_cast<T>(*n);
  return true;
}

bool SetPort(const RawValue& value, uint16_t& out) { return SetUnsigned(value, 1, 65535, out); }

// YAML's and Qdrant's spelling only: true or false, in any case.
bool SetBool(const RawValue& value, bool& out) {
  if (!value) return false;
  const std::string lower = absl::AsciiStrToLower(*value);
  if (lower != "true" && lower != "false") return false;
  out = lower == "true";
  return true;
}

bool SetNonEmpty(const RawValue& value, std::string& out) {
  if (!value || value->empty()) return false;
  out = *value;
  return true;
}

// null or "" unsets (Qdrant treats an empty api key as no key).
bool SetOptionalString(const RawValue& value, std::optional<std::string>& out) {
  if (!value || value->empty()) {
    out.reset();
  } else {
    out = *value;
  }
  return true;
}

bool SetPeerId(const RawValue& value, std::optional<uint64_t>& out) {
  if (!value) {
    out.reset();
    return true;
  }
  uint64_t id = 0;
  if (!SetUnsigned(value, 1, kMaxPeerId, id)) return false;
  out = id;
  return true;
}

// null is Qdrant's "unlimited".
bool SetTransferLimit(const RawValue& value, uint32_t& out) {
  if (!value) {
    out = kUnlimitedTransfers;
    return true;
  }
  return SetUnsigned(value, 0, kUnlimitedTransfers - 1, out);
}

// null is Qdrant's "no preference", which here is stream_records.
bool SetTransferMethod(const RawValue& value, NodeConfig& config, std::vector<std::string>* warnings) {
  const std::string method = value ? absl::AsciiStrToLower(*value) : kStreamRecords;
  if (method == kStreamRecords) {
    config.storage.shard_transfer_method = kStreamRecords;
    return true;
  }
  if (method != "snapshot" && method != "wal_delta") return false;
  warnings->push_back(absl::StrCat("storage.shard_transfer_method \"", *value,
                                   "\" is not supported by this node; using stream_records"));
  config.storage.shard_transfer_method = kStreamRecords;
  return true;
}

// A comma-separated list of directives, each a level or "target=level".
bool SetLogLevel(const RawValue& value, std::string& out) {
  if (!value || value->empty()) return false;
  size_t start = 0;
  while (start <= value->size()) {
    size_t end = value->find(',', start);
    if (end == std::string::npos) end = value->size();
    std::string directive(absl::StripAsciiWhitespace(value->substr(start, end - start)));
    const size_t eq = directive.find('=');
    if (eq == 0) return false;
    if (!CanonicalLogLevel(eq == std::string::npos ? directive : directive.substr(eq + 1))) return false;
    start = end + 1;
  }
  out = *value;
  return true;
}

using Warnings = std::vector<std::string>*;

constexpr char kPort[] = "a port number (1-65535)";
constexpr char kBool[] = "true or false";
constexpr char kPath[] = "a non-empty path";

// Each row: key, what a valid value is, the default as Usage() shows it, and where the value goes.
const SettingSpec kSettings[] = {
    {"service.host", "a non-empty host name or address", "0.0.0.0",
     [](const RawValue& v, NodeConfig& c, Warnings) { return SetNonEmpty(v, c.service.host); }},
    {"service.http_port", kPort, "6333",
     [](const RawValue& v, NodeConfig& c, Warnings) { return SetPort(v, c.service.http_port); }},
    {"service.api_key", "a string", "unset",
     [](const RawValue& v, NodeConfig& c, Warnings) { return SetOptionalString(v, c.service.api_key); }},
    {"service.max_request_size_mb", "a whole number of megabytes (1-4096)", "32",
     [](const RawValue& v, NodeConfig& c, Warnings) {
       return SetUnsigned(v, 1, 4096, c.service.max_request_size_mb);
     }},
    {"cluster.enabled", kBool, "false",
     [](const RawValue& v, NodeConfig& c, Warnings) { return SetBool(v, c.cluster.enabled); }},
    {"cluster.peer_id", "a peer id (1-9007199254740991)", "random",
     [](const RawValue& v, NodeConfig& c, Warnings) { return SetPeerId(v, c.cluster.peer_id); }},
    {"cluster.p2p.port", kPort, "6335",
     [](const RawValue& v, NodeConfig& c, Warnings) { return SetPort(v, c.cluster.p2p.port); }},
    {"cluster.consensus.tick_period_ms", "a whole number of milliseconds (1-60000)", "100",
     [](const RawValue& v, NodeConfig& c, Warnings) {
       return SetUnsigned(v, 1, 60000, c.cluster.consensus.tick_period_ms);
     }},
    {"cluster.consensus.bootstrap_timeout_sec", "a whole number of seconds (1-86400)", "15",
     [](const RawValue& v, NodeConfig& c, Warnings) {
       return SetUnsigned(v, 1, 86400, c.cluster.consensus.bootstrap_timeout_sec);
     }},
    {"cluster.consensus.message_timeout_ticks", "a whole number of ticks (1-1000000)", "10",
     [](const RawValue& v, NodeConfig& c, Warnings) {
       return SetUnsigned(v, 1, 1000000, c.cluster.consensus.message_timeout_ticks);
     }},
    {"cluster.consensus.compact_wal_entries", "a whole number of entries (0 disables compaction)", "128",
     [](const RawValue& v, NodeConfig& c, Warnings) {
       return SetUnsigned(v, 0, UINT64_MAX, c.cluster.consensus.compact_wal_entries);
     }},
    {"cluster.consensus.pre_vote", kBool, "true",
     [](const RawValue& v, NodeConfig& c, Warnings) { return SetBool(v, c.cluster.consensus.pre_vote); }},
    {"cluster.consensus.check_quorum", kBool, "true",
     [](const RawValue& v, NodeConfig& c, Warnings) { return SetBool(v, c.cluster.consensus.check_quorum); }},
    {"storage.storage_path", kPath, "./storage",
     [](const RawValue& v, NodeConfig& c, Warnings) { return SetNonEmpty(v, c.storage.storage_path); }},
    {"storage.snapshots_path", kPath, "./snapshots",
     [](const RawValue& v, NodeConfig& c, Warnings) { return SetNonEmpty(v, c.storage.snapshots_path); }},
    {"storage.shard_transfer_method", "stream_records, snapshot, wal_delta or null", "stream_records",
     [](const RawValue& v, NodeConfig& c, Warnings w) { return SetTransferMethod(v, c, w); }},
    {"storage.performance.incoming_shard_transfers_limit", "a whole number of transfers, or null", "1",
     [](const RawValue& v, NodeConfig& c, Warnings) {
       return SetTransferLimit(v, c.storage.performance.incoming_shard_transfers_limit);
     }},
    {"storage.performance.outgoing_shard_transfers_limit", "a whole number of transfers, or null", "1",
     [](const RawValue& v, NodeConfig& c, Warnings) {
       return SetTransferLimit(v, c.storage.performance.outgoing_shard_transfers_limit);
     }},
    {"log_level", "a log level (trace, debug, info, warn, error, off) or a filter like \"info,raft=debug\"",
     "INFO", [](const RawValue& v, NodeConfig& c, Warnings) { return SetLogLevel(v, c.log_level); }},
};

constexpr const char* kSections[] = {
    "", "service", "cluster", "cluster.p2p", "cluster.consensus", "storage", "storage.performance",
};

// Keys of Qdrant's config (src/settings.rs, lib/storage/src/types.rs, config/config.yaml) that this
// project does not use. Everything under one of them is accepted too (storage.optimizers.*).
constexpr const char* kUnused[] = {
    // Top level.
    "logger",
    "tls",
    "debugger",
    "inference",
    "gpu",
    "feature_flags",
    "audit",
    "telemetry_disabled",
    "per_collection_metrics_enabled",
    // service.
    "service.grpc_port",
    "service.metrics_port",
    "service.max_workers",
    "service.enable_cors",
    "service.enable_tls",
    "service.verify_https_client_certificate",
    "service.alt_api_key",
    "service.read_only_api_key",
    "service.jwt_rbac",
    "service.hide_jwt_dashboard",
    "service.static_content_dir",
    "service.enable_static_content",
    "service.slow_query_secs",
    "service.hardware_reporting",
    "service.metrics_prefix",
    // cluster.
    "cluster.grpc_timeout_ms",
    "cluster.connection_timeout_ms",
    "cluster.resharding_enabled",
    "cluster.p2p.connection_pool_size",
    "cluster.p2p.enable_tls",
    "cluster.consensus.max_message_queue_size",
    // storage.
    "storage.temp_path",
    "storage.on_disk_payload",
    "storage.optimizers",
    "storage.optimizers_overwrite",
    "storage.wal",
    "storage.hnsw_index",
    "storage.quantization",
    "storage.mmap_advice",
    "storage.node_type",
    "storage.update_queue_size",
    "storage.handle_collection_load_errors",
    "storage.async_scorer",
    "storage.recovery_mode",
    "storage.update_concurrency",
    "storage.snapshots_config",
    "storage.collection",
    "storage.max_collections",
    // storage.performance.
    "storage.performance.max_search_threads",
    "storage.performance.max_optimization_threads",
    "storage.performance.optimizer_cpu_budget",
    "storage.performance.update_rate_limit",
    "storage.performance.search_timeout_sec",
    "storage.performance.async_scorer",
    "storage.performance.max_concurrent_collection_loads",
    "storage.performance.max_concurrent_shard_loads",
    "storage.performance.max_concurrent_segment_loads",
};

// Unused keys whose being switched on would mislead: the operator expects encryption or access
// control that this node does not give.
constexpr const char* kUnsupportedSecurity[] = {
    "service.enable_tls",  "service.verify_https_client_certificate",
    "service.alt_api_key", "service.read_only_api_key",
    "service.jwt_rbac",    "cluster.p2p.enable_tls",
};

}  // namespace

std::optional<std::string> UnusedKeyNotice(const std::string& key, const RawValue& value) {
  if (!value || value->empty() || absl::AsciiStrToLower(*value) == "false") return std::nullopt;
  for (const char* unsupported : kUnsupportedSecurity) {
    if (key == unsupported) {
      // The value is not repeated: it may be a secret.
      return absl::StrCat(key, " is set, but this node does not support it: ignored");
    }
  }
  return std::nullopt;
}

KeyKind Classify(const std::string& key) {
  for (const char* unused : kUnused) {
    const std::string_view u(unused);
    const bool under = key.size() > u.size() && key.compare(0, u.size(), u) == 0 && key[u.size()] == '.';
    if (key == u || under) return KeyKind::kUnused;
  }
  if (FindSetting(key) != nullptr) return KeyKind::kSetting;
  for (const char* section : kSections) {
    if (key == section) return KeyKind::kSection;
  }
  return KeyKind::kUnknown;
}

const SettingSpec* FindSetting(const std::string& key) {
  for (const SettingSpec& spec : kSettings) {
    if (key == spec.key) return &spec;
  }
  return nullptr;
}

std::span<const SettingSpec> AllSettings() { return kSettings; }

std::optional<std::string> CanonicalLogLevel(std::string_view text) {
  std::string lower = absl::AsciiStrToLower(absl::string_view(text.data(), text.size()));
  if (lower == "warning") lower = "warn";
  for (const char* level : {"trace", "debug", "info", "warn", "error", "off"}) {
    if (lower == level) return lower;
  }
  return std::nullopt;
}

}  // namespace qdsim::config::internal
