#include "real/rest/json_util.h"

#include <cfloat>
#include <cmath>
#include <cstdio>
#include <cstdlib>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "node/api/types.h"
#include "node/shard/point_id.h"

namespace qdsim::rest {
namespace {

std::string Prefixed(const std::string& where, const std::string& detail) {
  return where.empty() ? detail : absl::StrCat(where, ": ", detail);
}

// Line and column (1-based, as serde counts) of byte `offset` in `text`.
std::pair<size_t, size_t> LineColumn(const std::string& text, size_t offset) {
  size_t line = 1, column = 0;
  for (size_t i = 0; i < offset && i < text.size(); ++i) {
    if (text[i] == '\n') {
      ++line;
      column = 0;
    } else {
      ++column;
    }
  }
  return {line, column + 1};
}

// Offset of the bracket that first nests deeper than kMaxJsonDepth, if any. Scans without parsing
// (strings skipped), so a hostile body cannot make the parser or later recursive code go deep.
std::optional<size_t> TooDeepAt(const std::string& text) {
  int depth = 0;
  bool in_string = false;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (in_string) {
      if (c == '\\') {
        ++i;
      } else if (c == '"') {
        in_string = false;
      }
    } else if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      if (++depth > kMaxJsonDepth) return i;
    } else if (c == ']' || c == '}') {
      --depth;
    }
  }
  return std::nullopt;
}

// nlohmann's messages start with "[json.exception.parse_error.101] "; the rest reads like serde's.
std::string WithoutExceptionTag(const std::string& what) {
  if (!what.empty() && what[0] == '[') {
    const size_t end = what.find("] ");
    if (end != std::string::npos) return what.substr(end + 2);
  }
  return what;
}

absl::StatusOr<google::protobuf::Value> JsonToValue(const Json& j, int depth, const std::string& where) {
  if (depth > kMaxPayloadDepth) {
    return FormatError(
        Prefixed(where, absl::StrCat("payload nested deeper than ", kMaxPayloadDepth, " levels")));
  }
  google::protobuf::Value v;
  if (j.is_null()) {
    v.set_null_value(google::protobuf::NULL_VALUE);
  } else if (j.is_boolean()) {
    v.set_bool_value(j.get<bool>());
  } else if (j.is_number()) {
    const double d = j.get<double>();
    if (!std::isfinite(d)) return FormatError(Prefixed(where, "number out of range"));
    v.set_number_value(d);
  } else if (j.is_string()) {
    v.set_string_value(j.get_ref<const std::string&>());
  } else if (j.is_array()) {
    auto* list = v.mutable_list_value();
    for (const Json& item : j) {
      absl::StatusOr<google::protobuf::Value> x = JsonToValue(item, depth + 1, where);
      if (!x.ok()) return x.status();
      *list->add_values() = *std::move(x);
    }
  } else {
    auto& fields = *v.mutable_struct_value()->mutable_fields();
    for (const auto& [key, item] : j.items()) {
      absl::StatusOr<google::protobuf::Value> x = JsonToValue(item, depth + 1, where);
      if (!x.ok()) return x.status();
      fields[key] = *std::move(x);
    }
  }
  return v;
}

// Accepts Qdrant's other UUID spellings (simple, braced, urn) by rewriting them as hyphenated.
std::string CanonicalUuidText(std::string text) {
  if (text.size() > 9 && absl::EqualsIgnoreCase(text.substr(0, 9), "urn:uuid:")) text = text.substr(9);
  if (text.size() == 38 && text.front() == '{' && text.back() == '}') text = text.substr(1, 36);
  if (text.size() == 32) {
    text = absl::StrCat(text.substr(0, 8), "-", text.substr(8, 4), "-", text.substr(12, 4), "-",
                        text.substr(16, 4), "-", text.substr(20));
  }
  return text;
}

std::optional<shardpb::PointId> UuidIdFromText(const std::string& text) {
  absl::StatusOr<shard::Uuid> uuid = shard::ParseUuid(CanonicalUuidText(text));
  if (!uuid.ok()) return std::nullopt;
  return shard::UuidId(*uuid);
}

}  // namespace

// ---- Errors ------------------------------------------------------------------------------------

absl::Status FormatError(const std::string& detail) {
  return absl::InvalidArgumentError(absl::StrCat("Format error in JSON body: ", detail));
}

absl::Status ValidationError(const std::string& field, const std::string& detail) {
  return absl::InvalidArgumentError(
      absl::StrCat("Validation error in JSON body: [", field, ": ", detail, "]"));
}

absl::Status BadRequest(const std::string& detail) {
  return absl::InvalidArgumentError(absl::StrCat("Bad request: ", detail));
}

absl::Status WrongInput(const std::string& detail) {
  return absl::InvalidArgumentError(absl::StrCat("Wrong input: ", detail));
}

int RestHttpStatus(const absl::Status& status) {
  if (absl::StartsWith(status.message(), "Validation error")) return 422;
  return api::HttpStatusOf(status);
}

// ---- Parsing and typed access ------------------------------------------------------------------

absl::StatusOr<Json> ParseJsonBody(const std::string& body, bool empty_is_object) {
  if (body.find_first_not_of(" \t\r\n") == std::string::npos) {
    if (empty_is_object) return Json::object();
    return FormatError("EOF while parsing a value at line 1 column 0");
  }
  if (std::optional<size_t> at = TooDeepAt(body)) {
    const auto [line, column] = LineColumn(body, *at);
    return FormatError(absl::StrCat("recursion limit exceeded at line ", line, " column ", column));
  }
  try {
    return Json::parse(body);
  } catch (const Json::exception& e) {
    return FormatError(WithoutExceptionTag(e.what()));
  } catch (const std::exception& e) {
    return FormatError(e.what());
  }
}

std::string Describe(const Json& value) {
  switch (value.type()) {
    case Json::value_t::null:
      return "null";
    case Json::value_t::boolean:
      return absl::StrCat("boolean `", value.get<bool>() ? "true" : "false", "`");
    case Json::value_t::number_unsigned:
    case Json::value_t::number_integer:
      return absl::StrCat("integer `", Dump(value), "`");
    case Json::value_t::number_float:
      return absl::StrCat("floating point `", Dump(value), "`");
    case Json::value_t::string:
      return absl::StrCat("string ", Dump(value));
    case Json::value_t::array:
      return "sequence";
    case Json::value_t::object:
      return "map";
    default:
      return "value";
  }
}

absl::Status InvalidType(const std::string& where, const Json& value, const std::string& expected) {
  return FormatError(
      Prefixed(where, absl::StrCat("invalid type: ", Describe(value), ", expected ", expected)));
}

const Json* Find(const Json& obj, const char* key) {
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return nullptr;
  return &*it;
}

absl::Status RequireObject(const Json& value, const std::string& what) {
  if (value.is_object()) return absl::OkStatus();
  return InvalidType("", value, absl::StrCat("struct ", what));
}

absl::Status CheckKnownFields(const Json& obj, std::initializer_list<const char*> known) {
  for (const auto& [key, value] : obj.items()) {
    bool found = false;
    for (const char* k : known) found |= key == k;
    if (found) continue;
    std::string expected;
    for (const char* k : known) absl::StrAppend(&expected, expected.empty() ? "" : ", ", "`", k, "`");
    return FormatError(absl::StrCat("unknown field `", key, "`, expected one of ", expected));
  }
  return absl::OkStatus();
}

absl::StatusOr<uint64_t> ToU64(const Json& value, const std::string& where) {
  if (value.is_number_unsigned()) return value.get<uint64_t>();
  if (value.is_number_integer()) {
    return FormatError(Prefixed(where, absl::StrCat("invalid value: ", Describe(value), ", expected u64")));
  }
  return InvalidType(where, value, "u64");
}

absl::StatusOr<uint32_t> ToU32(const Json& value, const std::string& where) {
  absl::StatusOr<uint64_t> v = ToU64(value, where);
  if (!v.ok()) return v.status();
  if (*v > UINT32_MAX) {
    return FormatError(Prefixed(where, absl::StrCat("invalid value: ", Describe(value), ", expected u32")));
  }
  return static_cast<uint32_t>(*v);
}

absl::StatusOr<double> ToDouble(const Json& value, const std::string& where) {
  if (!value.is_number()) return InvalidType(where, value, "f64");
  const double d = value.get<double>();
  if (!std::isfinite(d)) return FormatError(Prefixed(where, "number out of range"));
  return d;
}

absl::StatusOr<float> ToFloat(const Json& value, const std::string& where) {
  if (!value.is_number()) return InvalidType(where, value, "f32");
  const double d = value.get<double>();
  if (!std::isfinite(d) || std::fabs(d) > FLT_MAX) {
    return FormatError(Prefixed(where, absl::StrCat("invalid value: ", Describe(value), ", expected f32")));
  }
  return static_cast<float>(d);
}

absl::StatusOr<bool> ToBool(const Json& value, const std::string& where) {
  if (value.is_boolean()) return value.get<bool>();
  return InvalidType(where, value, "a boolean");
}

absl::StatusOr<std::string> ToString(const Json& value, const std::string& where) {
  if (value.is_string()) return value.get<std::string>();
  return InvalidType(where, value, "a string");
}

absl::StatusOr<uint64_t> GetU64(const Json& obj, const char* key, uint64_t fallback) {
  const Json* v = Find(obj, key);
  return v == nullptr ? absl::StatusOr<uint64_t>(fallback) : ToU64(*v, key);
}

absl::StatusOr<bool> GetBool(const Json& obj, const char* key, bool fallback) {
  const Json* v = Find(obj, key);
  return v == nullptr ? absl::StatusOr<bool>(fallback) : ToBool(*v, key);
}

absl::StatusOr<std::optional<uint32_t>> GetOptU32(const Json& obj, const char* key) {
  const Json* v = Find(obj, key);
  if (v == nullptr) return std::optional<uint32_t>();
  absl::StatusOr<uint32_t> x = ToU32(*v, key);
  if (!x.ok()) return x.status();
  return std::optional<uint32_t>(*x);
}

absl::StatusOr<std::optional<float>> GetOptFloat(const Json& obj, const char* key) {
  const Json* v = Find(obj, key);
  if (v == nullptr) return std::optional<float>();
  absl::StatusOr<float> x = ToFloat(*v, key);
  if (!x.ok()) return x.status();
  return std::optional<float>(*x);
}

absl::StatusOr<const Json*> Require(const Json& obj, const char* key) {
  const Json* v = Find(obj, key);
  if (v == nullptr) return FormatError(absl::StrCat("missing field `", key, "`"));
  return v;
}

// ---- Payloads ----------------------------------------------------------------------------------

absl::StatusOr<google::protobuf::Struct> JsonToStruct(const Json& object, const std::string& where) {
  if (!object.is_object()) return InvalidType(where, object, "a map");
  absl::StatusOr<google::protobuf::Value> v = JsonToValue(object, 1, where);
  if (!v.ok()) return v.status();
  return std::move(*v->mutable_struct_value());
}

Json ValueToJson(const google::protobuf::Value& v) {
  switch (v.kind_case()) {
    case google::protobuf::Value::kBoolValue:
      return v.bool_value();
    case google::protobuf::Value::kNumberValue: {
      const double d = v.number_value();
      // Integral values within the exactly representable range print as integers, as given.
      if (std::isfinite(d) && d == std::floor(d) && std::fabs(d) < 9007199254740992.0) {
        return static_cast<int64_t>(d);
      }
      return std::isfinite(d) ? Json(d) : Json(nullptr);
    }
    case google::protobuf::Value::kStringValue:
      return v.string_value();
    case google::protobuf::Value::kListValue: {
      Json list = Json::array();
      for (const auto& item : v.list_value().values()) list.push_back(ValueToJson(item));
      return list;
    }
    case google::protobuf::Value::kStructValue:
      return StructToJson(v.struct_value());
    default:
      return nullptr;
  }
}

Json StructToJson(const google::protobuf::Struct& s) {
  // Json objects are sorted maps: the answer never depends on the Protobuf map's hash order.
  Json out = Json::object();
  for (const auto& [key, value] : s.fields()) out[key] = ValueToJson(value);
  return out;
}

Json FloatToJson(float value) {
  if (!std::isfinite(value)) return nullptr;  // JSON has no NaN or infinity
  char buf[32];
  for (int precision = 1; precision <= 9; ++precision) {
    std::snprintf(buf, sizeof(buf), "%.*g", precision, static_cast<double>(value));
    // Checked the way readers convert it back (decimal -> double -> float), so the round trip holds.
    const double shortest = std::strtod(buf, nullptr);
    if (static_cast<float>(shortest) == value) return shortest;
  }
  return static_cast<double>(value);
}

// ---- Point ids ---------------------------------------------------------------------------------

absl::StatusOr<shardpb::PointId> PointIdFromJson(const Json& value) {
  if (value.is_number_unsigned()) return shard::NumId(value.get<uint64_t>());
  if (value.is_string()) {
    if (std::optional<shardpb::PointId> id = UuidIdFromText(value.get<std::string>())) return *id;
  }
  const std::string shown = value.is_string() ? value.get<std::string>() : Dump(value);
  return FormatError(absl::StrCat(
      "value ", shown, " is not a valid point ID, valid values are either an unsigned integer or a UUID"));
}

absl::StatusOr<shardpb::PointId> PointIdFromPath(const std::string& text) {
  uint64_t num = 0;
  if (!text.empty() && absl::ascii_isdigit(static_cast<unsigned char>(text[0])) &&
      absl::SimpleAtoi(text, &num)) {
    return shard::NumId(num);
  }
  if (std::optional<shardpb::PointId> id = UuidIdFromText(text)) return *id;
  return WrongInput(absl::StrCat("Can not recognize \"", text, "\" as point id"));
}

Json PointIdToJson(const shardpb::PointId& id) {
  if (id.kind_case() == shardpb::PointId::kNum) return id.num();
  return shard::FormatPointId(id);
}

// ---- Answers -----------------------------------------------------------------------------------

std::string Dump(const Json& value) { return value.dump(-1, ' ', false, Json::error_handler_t::replace); }

std::string OkBody(const Json& result, double seconds) {
  Json body = Json::object();
  body["result"] = result;
  body["status"] = "ok";
  body["time"] = seconds;
  return Dump(body);
}

std::string ErrorBody(const std::string& message, double seconds) {
  Json body = Json::object();
  body["status"] = Json::object({{"error", message}});
  body["time"] = seconds;
  return Dump(body);
}

}  // namespace qdsim::rest
