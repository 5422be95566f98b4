#include "real/rest/json_filter.h"

#include <cstdint>
#include <vector>

#include "absl/strings/str_cat.h"

namespace qdsim::rest {
namespace {

absl::StatusOr<shardpb::Condition> ConditionFromJson(const Json& value, const std::string& where);

std::string At(const std::string& where, size_t index) { return absl::StrCat(where, "[", index, "]"); }
std::string Member(const std::string& where, const char* key) { return absl::StrCat(where, ".", key); }

absl::Status NotACondition(const std::string& where) {
  return FormatError(absl::StrCat(where, ": data did not match any variant of untagged enum Condition"));
}

// One condition or a list of them (Qdrant accepts both for must / should / must_not).
absl::Status AddConditions(const Json& value, const std::string& where,
                           google::protobuf::RepeatedPtrField<shardpb::Condition>* out) {
  if (value.is_object()) {
    absl::StatusOr<shardpb::Condition> c = ConditionFromJson(value, where);
    if (!c.ok()) return c.status();
    *out->Add() = *std::move(c);
    return absl::OkStatus();
  }
  if (!value.is_array()) return InvalidType(where, value, "a condition or a list of conditions");
  for (size_t i = 0; i < value.size(); ++i) {
    absl::StatusOr<shardpb::Condition> c = ConditionFromJson(value[i], At(where, i));
    if (!c.ok()) return c.status();
    *out->Add() = *std::move(c);
  }
  return absl::OkStatus();
}

// A match value: keyword string, integer or boolean (a float is no variant of Qdrant's Match).
absl::StatusOr<shardpb::MatchValue> MatchValueFromJson(const Json& value, const std::string& where) {
  shardpb::MatchValue m;
  if (value.is_string()) {
    m.set_keyword(value.get<std::string>());
  } else if (value.is_boolean()) {
    m.set_boolean(value.get<bool>());
  } else if (value.is_number_unsigned() && value.get<uint64_t>() <= static_cast<uint64_t>(INT64_MAX)) {
    m.set_integer(static_cast<int64_t>(value.get<uint64_t>()));
  } else if (value.is_number_integer() && !value.is_number_unsigned()) {
    m.set_integer(value.get<int64_t>());
  } else {
    return FormatError(
        absl::StrCat(where, ": data did not match any variant of untagged enum ValueVariants"));
  }
  return m;
}

// A list of keywords or of integers (empty: matches nothing / everything, as in Qdrant).
absl::StatusOr<shardpb::AnyOf> AnyOfFromJson(const Json& value, const std::string& where) {
  if (!value.is_array()) return InvalidType(where, value, "a list of strings or integers");
  shardpb::AnyOf any;
  for (size_t i = 0; i < value.size(); ++i) {
    const Json& v = value[i];
    const bool want_strings = i == 0 ? v.is_string() : any.keywords_size() > 0;
    if (want_strings && v.is_string()) {
      any.add_keywords(v.get<std::string>());
    } else if (!want_strings && v.is_number_integer() &&
               (!v.is_number_unsigned() || v.get<uint64_t>() <= static_cast<uint64_t>(INT64_MAX))) {
      any.add_integers(v.get<int64_t>());
    } else {
      return FormatError(
          absl::StrCat(At(where, i), ": data did not match any variant of untagged enum AnyVariants"));
    }
  }
  return any;
}

absl::StatusOr<shardpb::Match> MatchFromJson(const Json& value, const std::string& where) {
  if (!value.is_object()) return InvalidType(where, value, "a match");
  shardpb::Match m;
  if (const Json* v = Find(value, "value")) {
    absl::StatusOr<shardpb::MatchValue> x = MatchValueFromJson(*v, Member(where, "value"));
    if (!x.ok()) return x.status();
    *m.mutable_value() = *std::move(x);
  } else if (const Json* any = Find(value, "any")) {
    absl::StatusOr<shardpb::AnyOf> x = AnyOfFromJson(*any, Member(where, "any"));
    if (!x.ok()) return x.status();
    *m.mutable_any() = *std::move(x);
  } else if (const Json* except = Find(value, "except")) {
    absl::StatusOr<shardpb::AnyOf> x = AnyOfFromJson(*except, Member(where, "except"));
    if (!x.ok()) return x.status();
    *m.mutable_except() = *std::move(x);
  } else if (Find(value, "text") || Find(value, "phrase") || Find(value, "text_any")) {
    return BadRequest(absl::StrCat(where, ": full-text match is not supported"));
  } else {
    return FormatError(absl::StrCat(where, ": data did not match any variant of untagged enum Match"));
  }
  return m;
}

absl::StatusOr<shardpb::Range> RangeFromJson(const Json& value, const std::string& where) {
  if (!value.is_object()) return InvalidType(where, value, "a range");
  shardpb::Range r;
  for (const char* bound : {"gt", "gte", "lt", "lte"}) {
    const Json* v = Find(value, bound);
    if (v == nullptr) continue;
    if (v->is_string())
      return BadRequest(absl::StrCat(Member(where, bound), ": datetime ranges are not supported"));
    absl::StatusOr<double> d = ToDouble(*v, Member(where, bound));
    if (!d.ok()) return d.status();
    const std::string b = bound;
    if (b == "gt") r.set_gt(*d);
    if (b == "gte") r.set_gte(*d);
    if (b == "lt") r.set_lt(*d);
    if (b == "lte") r.set_lte(*d);
  }
  return r;
}

// Wraps several conditions that must all hold into one (a nested filter).
shardpb::Condition AllOf(std::vector<shardpb::Condition> parts) {
  if (parts.size() == 1) return std::move(parts.front());
  shardpb::Condition c;
  for (auto& p : parts) *c.mutable_filter()->add_must() = std::move(p);
  return c;
}

// `is_empty` / `is_null` flags of a field condition: true requires the state, false excludes it.
shardpb::Condition FlagCondition(const std::string& key, bool is_null, bool wanted) {
  shardpb::Condition c;
  if (is_null) {
    c.mutable_is_null()->set_key(key);
  } else {
    c.mutable_is_empty()->set_key(key);
  }
  if (wanted) return c;
  shardpb::Condition negated;
  *negated.mutable_filter()->add_must_not() = std::move(c);
  return negated;
}

absl::StatusOr<shardpb::Condition> FieldConditionFromJson(const Json& value, const std::string& where) {
  absl::StatusOr<std::string> key = ToString(value["key"], Member(where, "key"));
  if (!key.ok()) return key.status();
  for (const char* unsupported : {"geo_bounding_box", "geo_radius", "geo_polygon", "values_count"}) {
    if (Find(value, unsupported))
      return BadRequest(absl::StrCat(where, ": `", unsupported, "` conditions are not supported"));
  }
  std::vector<shardpb::Condition> parts;
  const Json* match = Find(value, "match");
  const Json* range = Find(value, "range");
  if (match != nullptr || range != nullptr) {
    shardpb::Condition c;
    c.mutable_field()->set_key(*key);
    if (match != nullptr) {
      absl::StatusOr<shardpb::Match> m = MatchFromJson(*match, Member(where, "match"));
      if (!m.ok()) return m.status();
      *c.mutable_field()->mutable_match() = *std::move(m);
    }
    if (range != nullptr) {
      absl::StatusOr<shardpb::Range> r = RangeFromJson(*range, Member(where, "range"));
      if (!r.ok()) return r.status();
      *c.mutable_field()->mutable_range() = *std::move(r);
    }
    parts.push_back(std::move(c));
  }
  for (const char* flag : {"is_empty", "is_null"}) {
    const Json* v = Find(value, flag);
    if (v == nullptr) continue;
    absl::StatusOr<bool> wanted = ToBool(*v, Member(where, flag));
    if (!wanted.ok()) return wanted.status();
    parts.push_back(FlagCondition(*key, std::string(flag) == "is_null", *wanted));
  }
  if (parts.empty()) return ValidationError(where, "At least one field condition must be specified");
  return AllOf(std::move(parts));
}

absl::StatusOr<shardpb::Condition> KeyConditionFromJson(const Json& value, const std::string& where,
                                                        bool is_null) {
  const char* name = is_null ? "is_null" : "is_empty";
  const Json& inner = value[name];
  if (!inner.is_object() || Find(inner, "key") == nullptr)
    return InvalidType(Member(where, name), inner, "struct PayloadField");
  absl::StatusOr<std::string> key = ToString(inner["key"], absl::StrCat(Member(where, name), ".key"));
  if (!key.ok()) return key.status();
  return FlagCondition(*key, is_null, true);
}

absl::StatusOr<shardpb::Condition> HasIdFromJson(const Json& ids, const std::string& where) {
  if (!ids.is_array()) return InvalidType(where, ids, "a list of point ids");
  shardpb::Condition c;
  for (size_t i = 0; i < ids.size(); ++i) {
    absl::StatusOr<shardpb::PointId> id = PointIdFromJson(ids[i]);
    if (!id.ok()) return id.status();
    *c.mutable_has_id()->add_ids() = *id;
  }
  return c;
}

absl::StatusOr<shardpb::Condition> ConditionFromJson(const Json& value, const std::string& where) {
  if (!value.is_object()) return NotACondition(where);
  if (value.contains("key")) return FieldConditionFromJson(value, where);
  if (const Json* ids = Find(value, "has_id")) return HasIdFromJson(*ids, Member(where, "has_id"));
  if (value.contains("is_empty")) return KeyConditionFromJson(value, where, false);
  if (value.contains("is_null")) return KeyConditionFromJson(value, where, true);
  if (value.contains("nested"))
    return BadRequest(absl::StrCat(where, ": `nested` conditions are not supported"));
  if (value.contains("has_vector"))
    return BadRequest(absl::StrCat(where, ": `has_vector` conditions are not supported"));
  for (const char* clause : {"must", "should", "must_not", "min_should"}) {
    if (!value.contains(clause)) continue;
    absl::StatusOr<shardpb::Filter> nested = FilterFromJson(value, where);
    if (!nested.ok()) return nested.status();
    shardpb::Condition c;
    *c.mutable_filter() = *std::move(nested);
    return c;
  }
  return NotACondition(where);
}

Json ConditionsToJson(const google::protobuf::RepeatedPtrField<shardpb::Condition>& conditions);

Json AnyOfToJson(const shardpb::AnyOf& any) {
  Json out = Json::array();
  if (any.keywords_size() > 0 || any.integers_size() == 0) {
    for (const auto& k : any.keywords()) out.push_back(k);
  } else {
    for (int64_t i : any.integers()) out.push_back(i);
  }
  return out;
}

Json MatchToJson(const shardpb::Match& m) {
  Json out = Json::object();
  switch (m.kind_case()) {
    case shardpb::Match::kValue:
      if (m.value().kind_case() == shardpb::MatchValue::kKeyword) out["value"] = m.value().keyword();
      if (m.value().kind_case() == shardpb::MatchValue::kInteger) out["value"] = m.value().integer();
      if (m.value().kind_case() == shardpb::MatchValue::kBoolean) out["value"] = m.value().boolean();
      break;
    case shardpb::Match::kAny:
      out["any"] = AnyOfToJson(m.any());
      break;
    case shardpb::Match::kExcept:
      out["except"] = AnyOfToJson(m.except());
      break;
    default:
      break;
  }
  return out;
}

Json RangeToJson(const shardpb::Range& r) {
  Json out = Json::object();
  if (r.has_gt()) out["gt"] = r.gt();
  if (r.has_gte()) out["gte"] = r.gte();
  if (r.has_lt()) out["lt"] = r.lt();
  if (r.has_lte()) out["lte"] = r.lte();
  return out;
}

Json ConditionToJson(const shardpb::Condition& c) {
  Json out = Json::object();
  switch (c.kind_case()) {
    case shardpb::Condition::kField:
      out["key"] = c.field().key();
      if (c.field().has_match()) out["match"] = MatchToJson(c.field().match());
      if (c.field().has_range()) out["range"] = RangeToJson(c.field().range());
      break;
    case shardpb::Condition::kHasId: {
      Json ids = Json::array();
      for (const auto& id : c.has_id().ids()) ids.push_back(PointIdToJson(id));
      out["has_id"] = std::move(ids);
      break;
    }
    case shardpb::Condition::kIsEmpty:
      out["is_empty"] = Json::object({{"key", c.is_empty().key()}});
      break;
    case shardpb::Condition::kIsNull:
      out["is_null"] = Json::object({{"key", c.is_null().key()}});
      break;
    case shardpb::Condition::kFilter:
      return FilterToJson(c.filter());
    default:
      break;
  }
  return out;
}

Json ConditionsToJson(const google::protobuf::RepeatedPtrField<shardpb::Condition>& conditions) {
  Json out = Json::array();
  for (const auto& c : conditions) out.push_back(ConditionToJson(c));
  return out;
}

}  // namespace

absl::StatusOr<shardpb::Filter> FilterFromJson(const Json& value, const std::string& where) {
  if (!value.is_object()) return InvalidType(where, value, "struct Filter");
  if (absl::Status s = CheckKnownFields(value, {"should", "min_should", "must", "must_not"}); !s.ok()) {
    return FormatError(
        absl::StrCat(where, ": ", s.message().substr(std::string("Format error in JSON body: ").size())));
  }
  shardpb::Filter filter;
  if (const Json* must = Find(value, "must")) {
    if (absl::Status s = AddConditions(*must, Member(where, "must"), filter.mutable_must()); !s.ok())
      return s;
  }
  if (const Json* should = Find(value, "should")) {
    if (absl::Status s = AddConditions(*should, Member(where, "should"), filter.mutable_should()); !s.ok())
      return s;
  }
  if (const Json* must_not = Find(value, "must_not")) {
    if (absl::Status s = AddConditions(*must_not, Member(where, "must_not"), filter.mutable_must_not());
        !s.ok()) {
      return s;
    }
  }
  if (const Json* min_should = Find(value, "min_should")) {
    const std::string at = Member(where, "min_should");
    if (!min_should->is_object()) return InvalidType(at, *min_should, "struct MinShould");
    absl::StatusOr<const Json*> conditions = Require(*min_should, "conditions");
    if (!conditions.ok()) return FormatError(absl::StrCat(at, ": missing field `conditions`"));
    auto* out = filter.mutable_min_should();
    if (absl::Status s = AddConditions(**conditions, Member(at, "conditions"), out->mutable_conditions());
        !s.ok()) {
      return s;
    }
    absl::StatusOr<const Json*> count = Require(*min_should, "min_count");
    if (!count.ok()) return FormatError(absl::StrCat(at, ": missing field `min_count`"));
    absl::StatusOr<uint64_t> n = ToU64(**count, Member(at, "min_count"));
    if (!n.ok()) return n.status();
    out->set_min_count(*n);
  }
  return filter;
}

Json FilterToJson(const shardpb::Filter& filter) {
  Json out = Json::object();
  if (filter.must_size() > 0) out["must"] = ConditionsToJson(filter.must());
  if (filter.should_size() > 0) out["should"] = ConditionsToJson(filter.should());
  if (filter.must_not_size() > 0) out["must_not"] = ConditionsToJson(filter.must_not());
  if (filter.has_min_should()) {
    out["min_should"] = Json::object({{"conditions", ConditionsToJson(filter.min_should().conditions())},
                                      {"min_count", filter.min_should().min_count()}});
  }
  return out;
}

}  // namespace qdsim::rest
