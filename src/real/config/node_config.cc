#include "real/config/node_config.h"

#include <sys/stat.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string_view>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "real/config/internal/config_keys.h"
#include "yaml-cpp/yaml.h"

namespace qdsim::config {
namespace {

using internal::KeyKind;
using internal::RawValue;

constexpr std::string_view kEnvPrefix = "qdrant__";  // matched in any case
constexpr off_t kMaxConfigFileBytes = 16 << 20;

std::string Quoted(const RawValue& value) { return value ? absl::StrCat("\"", *value, "\"") : "null"; }

absl::Status Malformed(const std::string& where, const std::string& key, const std::string& what,
                       const std::string& expected) {
  return absl::InvalidArgumentError(
      absl::StrCat(where, ": invalid value ", what, " for ", key, ": expected ", expected));
}

std::string UnknownKeyWarning(const std::string& where, const std::string& key) {
  return absl::StrCat(where, ": unknown configuration key \"", key, "\" ignored");
}

// Applies a scalar (or null) `value` for `key`, which came from `where` (a file position or an
// environment variable); see node_config.h for what each kind of key does.
absl::Status ApplyValue(const std::string& key, const RawValue& value, const std::string& where,
                        NodeConfig* config, std::vector<std::string>* warnings) {
  switch (internal::Classify(key)) {
    case KeyKind::kUnused:
      if (std::optional<std::string> notice = internal::UnusedKeyNotice(key, value)) {
        warnings->push_back(absl::StrCat(where, ": ", *notice));
      }
      return absl::OkStatus();
    case KeyKind::kUnknown:
      warnings->push_back(UnknownKeyWarning(where, key));
      return absl::OkStatus();
    case KeyKind::kSection:
      if (!value) return absl::OkStatus();  // "cluster:" with nothing under it
      return Malformed(where, key, Quoted(value), "a section (a map of keys)");
    case KeyKind::kSetting:
      break;
  }
  const internal::SettingSpec* spec = internal::FindSetting(key);
  if (!spec->apply(value, *config, warnings)) return Malformed(where, key, Quoted(value), spec->expected);
  return absl::OkStatus();
}

std::string Where(const std::string& source, const YAML::Node& node) {
  const YAML::Mark mark = node.Mark();
  if (mark.is_null()) return source;
  return absl::StrCat(source, ":", mark.line + 1);
}

absl::Status ApplyYamlNode(const YAML::Node& node, const std::string& key, const std::string& where,
                           const std::string& source, NodeConfig* config, std::vector<std::string>* warnings);

// Applies every entry of `map`, whose keys extend `prefix` ("" at the top level).
absl::Status ApplyYamlMap(const YAML::Node& map, const std::string& prefix, const std::string& source,
                          NodeConfig* config, std::vector<std::string>* warnings) {
  for (const auto& entry : map) {
    if (!entry.first.IsScalar()) {
      return absl::InvalidArgumentError(
          absl::StrCat(Where(source, entry.first), ": a key under \"", prefix, "\" is not a plain string"));
    }
    const std::string name = absl::AsciiStrToLower(entry.first.Scalar());
    const std::string key = prefix.empty() ? name : absl::StrCat(prefix, ".", name);
    const std::string where = Where(source, entry.first);  // messages point at the key's line
    if (absl::Status s = ApplyYamlNode(entry.second, key, where, source, config, warnings); !s.ok()) return s;
  }
  return absl::OkStatus();
}

// Applies the value `node` of `key`, which is at `where` in `source`.
absl::Status ApplyYamlNode(const YAML::Node& node, const std::string& key, const std::string& where,
                           const std::string& source, NodeConfig* config,
                           std::vector<std::string>* warnings) {
  if (node.IsNull()) return ApplyValue(key, std::nullopt, where, config, warnings);
  if (node.IsScalar()) return ApplyValue(key, node.Scalar(), where, config, warnings);
  const KeyKind kind = internal::Classify(key);
  if (kind == KeyKind::kSection && node.IsMap()) return ApplyYamlMap(node, key, source, config, warnings);
  if (kind == KeyKind::kUnused) return absl::OkStatus();
  if (kind == KeyKind::kUnknown) {
    warnings->push_back(UnknownKeyWarning(where, key));  // once, for the whole map or list
    return absl::OkStatus();
  }
  const char* got = node.IsMap() ? "(a map)" : "(a list)";
  const char* expected =
      kind == KeyKind::kSection ? "a section (a map of keys)" : internal::FindSetting(key)->expected;
  return Malformed(where, key, got, expected);
}

absl::Status Unreadable(const std::string& path, const std::string& why) {
  return absl::FailedPreconditionError(absl::StrCat("cannot read config file ", path, ": ", why));
}

absl::StatusOr<std::string> ReadConfigFile(const std::string& path) {
  struct stat st;
  if (stat(path.c_str(), &st) != 0) {
    const int err = errno;
    if (err == ENOENT || err == ENOTDIR) {
      return absl::NotFoundError(absl::StrCat("config file not found: ", path));
    }
    return Unreadable(path, std::strerror(err));
  }
  if (S_ISDIR(st.st_mode)) return Unreadable(path, "it is a directory");
  if (st.st_size > kMaxConfigFileBytes) {
    return Unreadable(path, absl::StrCat("larger than ", kMaxConfigFileBytes, " bytes"));
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) return Unreadable(path, std::strerror(errno));
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) return Unreadable(path, "read error");
  return text.str();
}

}  // namespace

absl::Status ApplyYaml(const std::string& text, const std::string& source, NodeConfig* config,
                       std::vector<std::string>* warnings) {
  try {
    const YAML::Node root = YAML::Load(text);
    if (root.IsNull()) return absl::OkStatus();  // an empty document
    if (!root.IsMap()) {
      return absl::InvalidArgumentError(
          absl::StrCat(source, ": the top level of a config file must be a map of keys"));
    }
    return ApplyYamlMap(root, "", source, config, warnings);
  } catch (const YAML::Exception& e) {
    const std::string at =
        e.mark.is_null() ? source : absl::StrCat(source, ":", e.mark.line + 1, ":", e.mark.column + 1);
    return absl::InvalidArgumentError(absl::StrCat(at, ": cannot parse YAML: ", e.msg));
  }
}

absl::Status ApplyYamlFile(const std::string& path, NodeConfig* config, std::vector<std::string>* warnings) {
  absl::StatusOr<std::string> text = ReadConfigFile(path);
  if (!text.ok()) return text.status();
  return ApplyYaml(*text, path, config, warnings);
}

absl::Status ApplyEnvironment(const Environment& env, NodeConfig* config,
                              std::vector<std::string>* warnings) {
  const absl::string_view prefix(kEnvPrefix.data(), kEnvPrefix.size());
  for (const auto& [name, value] : env.vars()) {
    if (!absl::StartsWithIgnoreCase(name, prefix)) continue;
    const std::vector<std::string> parts =
        absl::StrSplit(absl::AsciiStrToLower(name.substr(kEnvPrefix.size())), "__");
    const std::string key = absl::StrJoin(parts, ".");
    const std::string where = absl::StrCat("environment variable ", name);
    bool has_empty_part = false;
    for (const std::string& part : parts) has_empty_part |= part.empty();
    if (has_empty_part) {
      warnings->push_back(UnknownKeyWarning(where, key));
      continue;
    }
    if (absl::Status s = ApplyValue(key, value, where, config, warnings); !s.ok()) return s;
  }
  return absl::OkStatus();
}

std::string GlobalLogLevel(const std::string& log_level) {
  std::string level = "info";
  for (absl::string_view directive : absl::StrSplit(log_level, ',')) {
    directive = absl::StripAsciiWhitespace(directive);
    if (absl::StrContains(directive, '=')) continue;
    if (std::optional<std::string> canonical =
            internal::CanonicalLogLevel(std::string_view(directive.data(), directive.size()))) {
      level = *canonical;
    }
  }
  return level;
}

}  // namespace qdsim::config
