// The table of configuration keys behind NodeConfig: which dotted keys are settings (and how each
// value is checked and stored), which are sections, and which are real Qdrant keys this project
// accepts without using. Used by node_config.cc (layers) and flags.cc (the key list in Usage()).
//
//   const SettingSpec* spec = FindSetting("service.http_port");
//   if (!spec->apply("7000", config, warnings)) { /* malformed: "expected " + spec->expected */ }
//
// Keys here are lower-case and dotted; callers fold case before looking up.
//
// Thread-safety: immutable tables; safe from any thread.
#ifndef QDSIM_REAL_CONFIG_INTERNAL_CONFIG_KEYS_H_
#define QDSIM_REAL_CONFIG_INTERNAL_CONFIG_KEYS_H_

#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "real/config/node_config.h"

namespace qdsim::config::internal {

// One layer's value for a key: the text of a scalar, or nullopt for YAML null (`~`, `null`, empty).
using RawValue = std::optional<std::string>;

struct SettingSpec {
  const char* key;           // dotted and lower-case: "cluster.p2p.port"
  const char* expected;      // what a valid value is, for messages: "a port number (1-65535)"
  const char* default_text;  // the default as Usage() shows it
  // Stores `value` into `config` if it is valid and returns true; returns false (changing nothing)
  // if it is malformed. May append a warning (an accepted value this node replaces).
  bool (*apply)(const RawValue& value, NodeConfig& config, std::vector<std::string>* warnings);
};

enum class KeyKind {
  kSetting,  // a key FindSetting() knows
  kSection,  // a map of further keys: "", "service", "cluster", "cluster.p2p", ...
  kUnused,   // a Qdrant key (or anything under a Qdrant section) that this project ignores silently
  kUnknown,  // none of the above: ignored with a warning
};

KeyKind Classify(const std::string& key);

// A warning for a kUnused key that turns on security this node does not provide (TLS, read-only or
// alternative API keys, JWT), so that it is not dropped silently; nullopt for every other key and for
// a null, empty or false value.
std::optional<std::string> UnusedKeyNotice(const std::string& key, const RawValue& value);

// The setting called `key`, or nullptr.
const SettingSpec* FindSetting(const std::string& key);

// Every setting, in the order of SPEC.md §1.
std::span<const SettingSpec> AllSettings();

// "info" for "INFO" etc.: the canonical lower-case name of a log level (trace, debug, info, warn,
// error, off; "warning" is "warn"), or nullopt if `text` is not one.
std::optional<std::string> CanonicalLogLevel(std::string_view text);

}  // namespace qdsim::config::internal

#endif  // QDSIM_REAL_CONFIG_INTERNAL_CONFIG_KEYS_H_
