// Fuzzes the REST layer's JSON parsers: the input is a request body, handed to the parser of every
// endpoint that takes one. None may crash, throw or hang, whatever the bytes; and what the filter
// and vector parsers accept must survive a render-and-parse round trip unchanged (the answers
// print vectors, and filters are rendered for tests, with the same code).
#include <cstddef>
#include <cstdint>
#include <string>

#include "google/protobuf/util/message_differencer.h"
#include "real/rest/json_cluster.h"
#include "real/rest/json_collections.h"
#include "real/rest/json_filter.h"
#include "real/rest/json_points.h"
#include "real/rest/json_util.h"

namespace {

using namespace qdsim::rest;

bool Same(const google::protobuf::Message& a, const google::protobuf::Message& b) {
  return google::protobuf::util::MessageDifferencer::Equals(a, b);
}

void CheckFilterRoundTrip(const Json& body) {
  if (!body.is_object() || !body.contains("filter")) return;
  absl::StatusOr<qdsim::shardpb::Filter> filter = FilterFromJson(body["filter"], "filter");
  if (!filter.ok()) return;
  absl::StatusOr<qdsim::shardpb::Filter> again = FilterFromJson(FilterToJson(*filter), "filter");
  if (!again.ok() || !Same(*filter, *again)) __builtin_trap();
}

void CheckVectorRoundTrip(const Json& body) {
  if (!body.is_object() || !body.contains("vector")) return;
  absl::StatusOr<qdsim::shardpb::NamedVectors> vectors = VectorStructFromJson(body["vector"], "vector");
  if (!vectors.ok()) return;
  absl::StatusOr<qdsim::shardpb::NamedVectors> again =
      VectorStructFromJson(VectorsToJson(*vectors), "vector");
  if (!again.ok() || !Same(*vectors, *again)) __builtin_trap();
}

// Every body parser of the router; successful parses are rendered where a renderer exists.
void ParseAsEveryBody(const Json& body) {
  if (auto upsert = UpsertFromJson(body); upsert.ok()) {
    for (const auto& p : upsert->upsert().points()) {
      (void)Dump(VectorsToJson(p.vectors()));
      (void)Dump(StructToJson(p.payload()));
    }
  }
  (void)DeletePointsFromJson(body);
  (void)SetPayloadFromJson(body);
  (void)OverwritePayloadFromJson(body);
  (void)DeletePayloadFromJson(body);
  (void)ClearPayloadFromJson(body);
  (void)UpdateVectorsFromJson(body);
  (void)BatchUpdateFromJson(body);
  if (auto r = RetrieveFromJson(body); r.ok()) {
    for (const auto& id : r->ids) (void)Dump(PointIdToJson(id));
  }
  (void)ScrollFromJson(body);
  (void)CountFromJson(body);
  (void)SearchFromJson(body);
  (void)QueryFromJson(body);
  (void)SearchBatchFromJson(body);
  (void)QueryBatchFromJson(body);
  if (auto create = CreateCollectionFromJson("fuzz", body); create.ok()) {
    qdsim::api::CollectionInfo info;
    info.params = create->params;
    (void)Dump(CollectionInfoToJson(info));
  }
  (void)UpdateCollectionFromJson("fuzz", body);
  (void)AliasActionsFromJson(body);
  (void)CollectionClusterUpdateFromJson("fuzz", body);
  CheckFilterRoundTrip(body);
  CheckVectorRoundTrip(body);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  for (bool empty_is_object : {false, true}) {
    absl::StatusOr<Json> body = ParseJsonBody(text, empty_is_object);
    if (body.ok()) ParseAsEveryBody(*body);
  }
  (void)PointIdFromPath(text);
  return 0;
}
