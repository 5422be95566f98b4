// Records, hits, scroll pages and update results as Qdrant prints them.
#include "absl/strings/str_split.h"
#include "real/rest/json_points.h"

namespace qdsim::rest {
namespace {

Json VectorToJson(const shardpb::Vector& v) {
  if (v.has_sparse()) {
    Json indices = Json::array();
    Json values = Json::array();
    for (uint32_t i : v.sparse().indices()) indices.push_back(i);
    for (float x : v.sparse().values()) values.push_back(FloatToJson(x));
    return Json::object({{"indices", std::move(indices)}, {"values", std::move(values)}});
  }
  Json dense = Json::array();
  for (float x : v.dense().values()) dense.push_back(FloatToJson(x));
  return dense;
}

std::vector<std::string> PathOf(const std::string& key) { return absl::StrSplit(key, '.'); }

// Copies the value at `path` of `from` (if any) to the same path of `to`, creating objects.
void CopyPath(const Json& from, const std::vector<std::string>& path, Json& to) {
  const Json* at = &from;
  for (const std::string& part : path) {
    if (!at->is_object() || !at->contains(part)) return;
    at = &(*at)[part];
  }
  Json* dest = &to;
  for (size_t i = 0; i + 1 < path.size(); ++i) {
    Json& next = (*dest)[path[i]];
    if (!next.is_object()) next = Json::object();
    dest = &next;
  }
  (*dest)[path.back()] = *at;
}

void ErasePath(Json& from, const std::vector<std::string>& path) {
  Json* at = &from;
  for (size_t i = 0; i + 1 < path.size(); ++i) {
    if (!at->is_object() || !at->contains(path[i])) return;
    at = &(*at)[path[i]];
  }
  if (at->is_object()) at->erase(path.back());
}

}  // namespace

Json VectorsToJson(const shardpb::NamedVectors& vectors) {
  const auto& map = vectors.vectors();
  if (map.size() == 1 && map.begin()->first.empty() && map.begin()->second.has_dense()) {
    return VectorToJson(map.begin()->second);
  }
  // Json objects are sorted maps: the answer never depends on the Protobuf map's hash order.
  Json out = Json::object();
  for (const auto& [name, v] : map) out[name] = VectorToJson(v);
  return out;
}

Json SelectPayload(const google::protobuf::Struct& payload, const PayloadSelector& selector) {
  Json all = StructToJson(payload);
  if (!selector.include.empty()) {
    Json picked = Json::object();
    for (const std::string& key : selector.include) CopyPath(all, PathOf(key), picked);
    all = std::move(picked);
  }
  for (const std::string& key : selector.exclude) ErasePath(all, PathOf(key));
  return all;
}

Json RecordToJson(const shard::PointRecord& record, const PayloadSelector& selector) {
  Json out = Json::object();
  out["id"] = PointIdToJson(record.id);
  out["payload"] = record.payload ? SelectPayload(*record.payload, selector) : Json(nullptr);
  out["vector"] = record.vectors ? VectorsToJson(*record.vectors) : Json(nullptr);
  return out;
}

Json ScoredPointToJson(const shard::ScoredPoint& hit, const PayloadSelector& selector) {
  Json out = Json::object();
  out["id"] = PointIdToJson(hit.id);
  out["version"] = hit.version;
  out["score"] = FloatToJson(hit.score);
  if (hit.payload) out["payload"] = SelectPayload(*hit.payload, selector);
  if (hit.vectors) out["vector"] = VectorsToJson(*hit.vectors);
  return out;
}

Json ScoredPointsToJson(const std::vector<shard::ScoredPoint>& hits, const PayloadSelector& selector) {
  Json out = Json::array();
  for (const auto& hit : hits) out.push_back(ScoredPointToJson(hit, selector));
  return out;
}

Json ScrollPageToJson(const shard::ScrollPage& page, const PayloadSelector& selector) {
  Json points = Json::array();
  for (const auto& record : page.points) points.push_back(RecordToJson(record, selector));
  Json out = Json::object();
  out["points"] = std::move(points);
  out["next_page_offset"] = page.next_page_offset ? PointIdToJson(*page.next_page_offset) : Json(nullptr);
  return out;
}

Json UpdateResultToJson(const api::UpdateResult& result) {
  Json out = Json::object();
  out["operation_id"] = result.operation_id;
  out["status"] = result.status == api::UpdateResult::Status::kCompleted ? "completed" : "acknowledged";
  return out;
}

}  // namespace qdsim::rest
