// Shared pieces of the JSON mapping: parsing a body, Qdrant's error messages and their HTTP codes,
// typed field access that fails with a message instead of an exception, payloads (JSON objects)
// to and from google.protobuf.Struct, point ids, and the answer envelopes of SPEC.md §7.
//
// Errors follow Qdrant's wording so clients and people see what they would see from Qdrant:
//   - malformed JSON or a value of the wrong type/shape: 400 "Format error in JSON body: <detail>";
//   - a well-formed value out of its range (limit 0, size 0): 422 "Validation error in JSON body:
//     [<field>: <detail>]";
//   - errors from the node keep their message; RestHttpStatus maps them (api::HttpStatusOf, plus
//     422 for any message that starts with "Validation error").
//
//   ASSIGN_OR_RETURN(Json body, ParseJsonBody(request.body, /*empty_is_object=*/false));
//   ASSIGN_OR_RETURN(uint64_t limit, GetU64(body, "limit", 10));
//   done({200, OkBody(result, seconds)});
//
// nlohmann::json throws only from parse (caught here) and from typed getters this file never calls
// on an unchecked value; dumping replaces invalid UTF-8 instead of throwing.
//
// Thread-safety: pure functions.
#ifndef QDSIM_REAL_REST_JSON_UTIL_H_
#define QDSIM_REAL_REST_JSON_UTIL_H_

#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "google/protobuf/struct.pb.h"
#include "nlohmann/json.hpp"
#include "proto/shard.pb.h"

namespace qdsim::rest {

// Objects keep their members sorted by key (std::map). Not nlohmann::ordered_json: its objects look
// keys up linearly, which makes a body or payload with many keys cost quadratic time.
using Json = nlohmann::json;

// JSON nesting deeper than this is refused (serde_json's own limit is 128).
inline constexpr int kMaxJsonDepth = 128;
// A payload nesting deeper than this is refused: each level costs up to three levels of Protobuf
// message nesting (Value, Struct, map entry), and a peer must be able to parse the replicated
// operation within Protobuf's default recursion limit of 100.
inline constexpr int kMaxPayloadDepth = 24;

// ---- Errors ------------------------------------------------------------------------------------

// 400 "Format error in JSON body: <detail>".
absl::Status FormatError(const std::string& detail);
// 422 "Validation error in JSON body: [<field>: <detail>]".
absl::Status ValidationError(const std::string& field, const std::string& detail);
// 400 "Bad request: <detail>" (a request Qdrant understands but this node does not serve).
absl::Status BadRequest(const std::string& detail);
// 400 "Wrong input: <detail>".
absl::Status WrongInput(const std::string& detail);
// The HTTP status of an error: 422 for "Validation error…" messages, else api::HttpStatusOf.
int RestHttpStatus(const absl::Status& status);

// ---- Parsing and typed access ------------------------------------------------------------------

// Parses a request body. An empty (or all-blank) body is `{}` when `empty_is_object` (endpoints
// whose fields are all optional), else a format error as serde reports it. Bodies nested deeper
// than kMaxJsonDepth are refused.
absl::StatusOr<Json> ParseJsonBody(const std::string& body, bool empty_is_object);

// serde's description of a value in "invalid type" messages: `string "x"`, `integer `5``, `map`…
std::string Describe(const Json& value);
// "<where>: invalid type: <Describe(value)>, expected <expected>" as a format error.
absl::Status InvalidType(const std::string& where, const Json& value, const std::string& expected);

// The member `key` of object `obj`, or null when absent or JSON null (serde treats both as None).
// REQUIRES: obj.is_object().
const Json* Find(const Json& obj, const char* key);

// Format error unless `value` is an object ("invalid type: …, expected struct <what>").
absl::Status RequireObject(const Json& value, const std::string& what);
// Format error naming the first member of `obj` not in `known` (for Qdrant's deny_unknown_fields
// types, e.g. Filter).
absl::Status CheckKnownFields(const Json& obj, std::initializer_list<const char*> known);

absl::StatusOr<uint64_t> ToU64(const Json& value, const std::string& where);
absl::StatusOr<uint32_t> ToU32(const Json& value, const std::string& where);
absl::StatusOr<double> ToDouble(const Json& value, const std::string& where);
// A number that fits a 32-bit float (vector components, score thresholds).
absl::StatusOr<float> ToFloat(const Json& value, const std::string& where);
absl::StatusOr<bool> ToBool(const Json& value, const std::string& where);
absl::StatusOr<std::string> ToString(const Json& value, const std::string& where);

// Optional members: `fallback` when absent or null.
absl::StatusOr<uint64_t> GetU64(const Json& obj, const char* key, uint64_t fallback);
absl::StatusOr<bool> GetBool(const Json& obj, const char* key, bool fallback);
absl::StatusOr<std::optional<uint32_t>> GetOptU32(const Json& obj, const char* key);
absl::StatusOr<std::optional<float>> GetOptFloat(const Json& obj, const char* key);
// A required member ("missing field `key`" when absent).
absl::StatusOr<const Json*> Require(const Json& obj, const char* key);

// ---- Payloads ----------------------------------------------------------------------------------

// A JSON object as a Struct. Format error for anything but an object ("expected a map") or a
// nesting deeper than kMaxPayloadDepth.
absl::StatusOr<google::protobuf::Struct> JsonToStruct(const Json& object, const std::string& where);
// The Struct as JSON. Integral numbers print as integers (Struct keeps every number as a double).
Json StructToJson(const google::protobuf::Struct& s);
Json ValueToJson(const google::protobuf::Value& v);

// A float as the shortest decimal that reads back as the same float (what Qdrant prints), so
// 0.1f prints as 0.1, not 0.10000000149011612.
Json FloatToJson(float value);

// ---- Point ids ---------------------------------------------------------------------------------

// An id in a body: an unsigned integer or a UUID string (hyphenated, simple, braced or urn form).
// Anything else: "value <v> is not a valid point ID, valid values are either an unsigned integer
// or a UUID" as a format error.
absl::StatusOr<shardpb::PointId> PointIdFromJson(const Json& value);
// An id in a path (GET …/points/{id}): decimal digits or a UUID; else 400 "Wrong input: Can not
// recognize \"<text>\" as point id".
absl::StatusOr<shardpb::PointId> PointIdFromPath(const std::string& text);
// u64 ids as numbers, UUIDs as lowercase hyphenated strings.
Json PointIdToJson(const shardpb::PointId& id);

// ---- Answers -----------------------------------------------------------------------------------

// Serializes without throwing (invalid UTF-8 is replaced).
std::string Dump(const Json& value);
// {"result": <result>, "status": "ok", "time": <seconds>}
std::string OkBody(const Json& result, double seconds);
// {"status": {"error": "<message>"}, "time": <seconds>}
std::string ErrorBody(const std::string& message, double seconds);

}  // namespace qdsim::rest

#endif  // QDSIM_REAL_REST_JSON_UTIL_H_
