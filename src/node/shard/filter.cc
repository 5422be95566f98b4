#include "node/shard/filter.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "absl/strings/str_cat.h"
#include "node/shard/payload.h"
#include "node/world/status_macros.h"

namespace qdsim::shard {
namespace {

using google::protobuf::Struct;
using google::protobuf::Value;

constexpr int kMaxFilterDepth = 32;

absl::Status ValidateFilterAt(const shardpb::Filter& filter, int depth);

absl::Status ValidateCondition(const shardpb::Condition& c, int depth) {
  switch (c.kind_case()) {
    case shardpb::Condition::kField: {
      const auto& f = c.field();
      if (f.key().empty()) return absl::InvalidArgumentError("Wrong input: field condition without a key");
      if (!f.has_match() && !f.has_range()) {
        return absl::InvalidArgumentError(
            absl::StrCat("Wrong input: field condition on ", f.key(), " has neither match nor range"));
      }
      if (f.has_match() && f.match().kind_case() == shardpb::Match::KIND_NOT_SET) {
        return absl::InvalidArgumentError(absl::StrCat("Wrong input: empty match on ", f.key()));
      }
      return absl::OkStatus();
    }
    case shardpb::Condition::kHasId:
      for (const auto& id : c.has_id().ids()) RETURN_IF_ERROR(PointKey::From(id).status());
      return absl::OkStatus();
    case shardpb::Condition::kIsEmpty:
      if (c.is_empty().key().empty()) return absl::InvalidArgumentError("Wrong input: is_empty without a key");
      return absl::OkStatus();
    case shardpb::Condition::kIsNull:
      if (c.is_null().key().empty()) return absl::InvalidArgumentError("Wrong input: is_null without a key");
      return absl::OkStatus();
    case shardpb::Condition::kFilter:
      return ValidateFilterAt(c.filter(), depth + 1);
    case shardpb::Condition::KIND_NOT_SET:
      break;
  }
  return absl::InvalidArgumentError("Wrong input: empty filter condition");
}

absl::Status ValidateFilterAt(const shardpb::Filter& filter, int depth) {
  if (depth > kMaxFilterDepth) return absl::InvalidArgumentError("Wrong input: filter nested too deeply");
  for (const auto* list : {&filter.must(), &filter.should(), &filter.must_not(),
                           &filter.min_should().conditions()}) {
    for (const auto& c : *list) RETURN_IF_ERROR(ValidateCondition(c, depth));
  }
  return absl::OkStatus();
}

// The values at `key`, with final arrays flattened into their elements.
std::vector<const Value*> FlatValuesAt(const Struct& payload, const std::string& key) {
  std::vector<const Value*> raw, flat;
  ValuesAt(payload, key, raw);
  for (const Value* v : raw) {
    if (v->has_list_value()) {
      for (const Value& e : v->list_value().values()) flat.push_back(&e);
    } else {
      flat.push_back(v);
    }
  }
  return flat;
}

// The payload number as an exact integer, if it is one within int64.
bool AsInteger(const Value& v, int64_t* out) {
  if (!v.has_number_value()) return false;
  const double d = v.number_value();
  if (!std::isfinite(d) || std::floor(d) != d || d < -9223372036854775808.0 ||
      d >= 9223372036854775808.0) {
    return false;
  }
  *out = static_cast<int64_t>(d);
  return true;
}

bool ValueEquals(const Value& v, const shardpb::MatchValue& m) {
  int64_t i;
  switch (m.kind_case()) {
    case shardpb::MatchValue::kKeyword: return v.has_string_value() && v.string_value() == m.keyword();
    case shardpb::MatchValue::kInteger: return AsInteger(v, &i) && i == m.integer();
    case shardpb::MatchValue::kBoolean: return v.has_bool_value() && v.bool_value() == m.boolean();
    case shardpb::MatchValue::KIND_NOT_SET: break;
  }
  return false;
}

// Whether `v` has the list's type; if so, *in tells whether it is listed.
bool TypedMember(const Value& v, const shardpb::AnyOf& list, bool* in) {
  if (!list.keywords().empty()) {
    if (!v.has_string_value()) return false;
    *in = std::find(list.keywords().begin(), list.keywords().end(), v.string_value()) !=
          list.keywords().end();
    return true;
  }
  int64_t i;
  if (!AsInteger(v, &i)) return false;
  *in = std::find(list.integers().begin(), list.integers().end(), i) != list.integers().end();
  return true;
}

bool MatchHolds(const shardpb::Match& m, const std::vector<const Value*>& values) {
  for (const Value* v : values) {
    bool in = false;
    switch (m.kind_case()) {
      case shardpb::Match::kValue:
        if (ValueEquals(*v, m.value())) return true;
        break;
      case shardpb::Match::kAny:
        if (TypedMember(*v, m.any(), &in) && in) return true;
        break;
      case shardpb::Match::kExcept:
        if (TypedMember(*v, m.except(), &in) && !in) return true;
        break;
      case shardpb::Match::KIND_NOT_SET:
        break;
    }
  }
  return false;
}

bool RangeHolds(const shardpb::Range& r, const std::vector<const Value*>& values) {
  for (const Value* v : values) {
    if (!v->has_number_value()) continue;
    const double d = v->number_value();
    if (r.has_gt() && !(d > r.gt())) continue;
    if (r.has_gte() && !(d >= r.gte())) continue;
    if (r.has_lt() && !(d < r.lt())) continue;
    if (r.has_lte() && !(d <= r.lte())) continue;
    return true;
  }
  return false;
}

bool IsEmptyHolds(const Struct& payload, const std::string& key) {
  std::vector<const Value*> raw;
  ValuesAt(payload, key, raw);
  for (const Value* v : raw) {
    if (v->has_null_value()) continue;
    if (v->has_list_value() && v->list_value().values().empty()) continue;
    return false;
  }
  return true;
}

bool IsNullHolds(const Struct& payload, const std::string& key) {
  std::vector<const Value*> raw;
  ValuesAt(payload, key, raw);
  for (const Value* v : raw) {
    if (v->has_null_value()) return true;
  }
  return false;
}

bool ConditionHolds(const shardpb::Condition& c, const PointKey& id, const Struct& payload) {
  switch (c.kind_case()) {
    case shardpb::Condition::kField: {
      const std::vector<const Value*> values = FlatValuesAt(payload, c.field().key());
      if (c.field().has_match() && !MatchHolds(c.field().match(), values)) return false;
      if (c.field().has_range() && !RangeHolds(c.field().range(), values)) return false;
      return true;
    }
    case shardpb::Condition::kHasId:
      for (const auto& listed : c.has_id().ids()) {
        auto key = PointKey::From(listed);
        if (key.ok() && *key == id) return true;
      }
      return false;
    case shardpb::Condition::kIsEmpty: return IsEmptyHolds(payload, c.is_empty().key());
    case shardpb::Condition::kIsNull: return IsNullHolds(payload, c.is_null().key());
    case shardpb::Condition::kFilter: return FilterMatches(c.filter(), id, payload);
    case shardpb::Condition::KIND_NOT_SET: break;
  }
  return false;
}

}  // namespace

absl::Status ValidateFilter(const shardpb::Filter& filter) { return ValidateFilterAt(filter, 0); }

bool FilterMatches(const shardpb::Filter& filter, const PointKey& id, const Struct& payload) {
  for (const auto& c : filter.must()) {
    if (!ConditionHolds(c, id, payload)) return false;
  }
  for (const auto& c : filter.must_not()) {
    if (ConditionHolds(c, id, payload)) return false;
  }
  if (!filter.should().empty()) {
    bool any = false;
    for (const auto& c : filter.should()) {
      if (ConditionHolds(c, id, payload)) {
        any = true;
        break;
      }
    }
    if (!any) return false;
  }
  if (filter.has_min_should()) {
    uint64_t held = 0;
    for (const auto& c : filter.min_should().conditions()) held += ConditionHolds(c, id, payload);
    if (held < filter.min_should().min_count()) return false;
  }
  return true;
}

}  // namespace qdsim::shard
