#include "node/shard/payload.h"

#include <string>

namespace qdsim::shard {
namespace {

using google::protobuf::Struct;
using google::protobuf::Value;

// Splits off the first path segment: "a.b.c" -> ("a", "b.c"); "a" -> ("a", "").
std::pair<std::string, std::string_view> SplitFirst(std::string_view key) {
  const size_t dot = key.find('.');
  if (dot == std::string_view::npos) return {std::string(key), std::string_view()};
  return {std::string(key.substr(0, dot)), key.substr(dot + 1)};
}

void ValuesAtValue(const Value& value, std::string_view rest, std::vector<const Value*>& out);

void ValuesAtStruct(const Struct& s, std::string_view key, std::vector<const Value*>& out) {
  auto [head, rest] = SplitFirst(key);
  auto it = s.fields().find(head);
  if (it == s.fields().end()) return;
  if (rest.empty() && key.find('.') == std::string_view::npos) {
    out.push_back(&it->second);
    return;
  }
  ValuesAtValue(it->second, rest, out);
}

// Continues a walk at `value` with the remaining path `rest` (non-empty).
void ValuesAtValue(const Value& value, std::string_view rest, std::vector<const Value*>& out) {
  if (value.has_struct_value()) {
    ValuesAtStruct(value.struct_value(), rest, out);
  } else if (value.has_list_value()) {
    for (const Value& element : value.list_value().values()) ValuesAtValue(element, rest, out);
  }
}

void DeleteAtValue(Value& value, std::string_view rest);

void DeleteAtStruct(Struct& s, std::string_view key) {
  auto [head, rest] = SplitFirst(key);
  if (key.find('.') == std::string_view::npos) {
    s.mutable_fields()->erase(head);
    return;
  }
  auto it = s.mutable_fields()->find(head);
  if (it != s.mutable_fields()->end()) DeleteAtValue(it->second, rest);
}

void DeleteAtValue(Value& value, std::string_view rest) {
  if (value.has_struct_value()) {
    DeleteAtStruct(*value.mutable_struct_value(), rest);
  } else if (value.has_list_value()) {
    for (Value& element : *value.mutable_list_value()->mutable_values()) DeleteAtValue(element, rest);
  }
}

}  // namespace

void ValuesAt(const Struct& payload, std::string_view key, std::vector<const Value*>& out) {
  if (key.empty()) return;
  ValuesAtStruct(payload, key, out);
}

void SetPayloadAt(Struct& payload, std::string_view key, const Struct& fields) {
  Struct* target = &payload;
  while (!key.empty()) {
    auto [head, rest] = SplitFirst(key);
    Value& v = (*target->mutable_fields())[head];
    if (!v.has_struct_value()) v.mutable_struct_value();  // replaces a scalar, list or null
    target = v.mutable_struct_value();
    key = rest;
  }
  for (const auto& [name, value] : fields.fields()) (*target->mutable_fields())[name] = value;
}

void DeletePayloadKey(Struct& payload, std::string_view key) {
  if (key.empty()) return;
  DeleteAtStruct(payload, key);
}

}  // namespace qdsim::shard
