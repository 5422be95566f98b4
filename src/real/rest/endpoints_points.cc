// Point endpoints (SPEC.md §5): writes, retrieve, scroll, count, search and query.
#include <limits>
#include <utility>

#include "absl/strings/str_cat.h"
#include "node/shard/point_id.h"
#include "real/rest/json_points.h"
#include "real/rest/query_params.h"
#include "real/rest/router_internal.h"

namespace qdsim::rest::internal {
namespace {

using Hits = std::vector<shard::ScoredPoint>;
using HitsCallback = std::function<void(absl::StatusOr<Hits>)>;

// Parses the body with `parse` and sends the operation to the node with the query's write params.
void Write(Call& call, absl::StatusOr<shardpb::ShardOperation> (*parse)(const Json&)) {
  std::optional<WriteParams> params = call.Take(ParseWriteParams(call.request.query));
  if (!params) return;
  std::optional<Json> body = call.Body(false);
  if (!body) return;
  std::optional<shardpb::ShardOperation> op = call.Take(parse(*body));
  if (!op) return;
  api::PointWrite write{call.collection(), *std::move(op), params->wait, params->ordering, params->timeout};
  call.node.WritePoints(write, [reply = call.reply](absl::StatusOr<api::UpdateResult> r) {
    reply->Answer(r, UpdateResultToJson);
  });
}

// The operations of a batch, one after another; stops at the first failure.
struct BatchState {
  Node& node;
  std::string collection;
  WriteParams params;
  std::vector<shardpb::ShardOperation> ops;
  Json results = Json::array();
  std::shared_ptr<Responder> reply;
};

void WriteNext(std::shared_ptr<BatchState> state) {
  const size_t next = state->results.size();
  if (next == state->ops.size()) return state->reply->Ok(state->results);
  api::PointWrite write{state->collection, std::move(state->ops[next]), state->params.wait,
                        state->params.ordering, state->params.timeout};
  state->node.WritePoints(write, [state](absl::StatusOr<api::UpdateResult> r) {
    if (!r.ok()) return state->reply->Fail(r.status());
    state->results.push_back(UpdateResultToJson(*r));
    WriteNext(state);
  });
}

std::optional<api::ReadOptions> ReadParams(Call& call) {
  return call.Take(ParseReadParams(call.request.query));
}

// A query by point id: the nearest to that point's vector, leaving the point itself out.
void SearchByPointId(Node& node, const std::string& collection, const SearchBody& body,
                     const api::ReadOptions& read, HitsCallback done) {
  api::Retrieve retrieve{
      collection, {*body.query_id}, false, shard::WithVector{false, {body.request.vector_name}}, read};
  node.Retrieve(
      retrieve, [&node, collection, body, read, done](absl::StatusOr<std::vector<shard::PointRecord>> r) {
        if (!r.ok()) return done(r.status());
        const shardpb::Vector* vector = nullptr;
        if (!r->empty() && (*r)[0].vectors) {
          const auto& named = (*r)[0].vectors->vectors();
          auto it = named.find(body.request.vector_name);
          if (it != named.end()) vector = &it->second;
        }
        if (vector == nullptr) {
          return done(absl::NotFoundError(
              absl::StrCat("Not found: No point with id ", shard::FormatPointId(*body.query_id), " found")));
        }
        api::Search search{collection, body.request, read};
        search.request.query = *vector;
        if (!search.request.filter) search.request.filter = shardpb::Filter();
        *search.request.filter->add_must_not()->mutable_has_id()->add_ids() = *body.query_id;
        node.Search(search, done);
      });
}

// A query without `query`: the matching points in id order, after `offset` of them, score 0.
void SearchInIdOrder(Node& node, const std::string& collection, const SearchBody& body,
                     const api::ReadOptions& read, HitsCallback done) {
  api::Scroll scroll;
  scroll.collection = collection;
  const size_t most = std::numeric_limits<size_t>::max();
  scroll.request.limit =
      body.request.offset > most - body.request.limit ? most : body.request.offset + body.request.limit;
  scroll.request.filter = body.request.filter;
  scroll.request.with_payload = body.request.with_payload;
  scroll.request.with_vector = body.request.with_vector;
  scroll.read = read;
  const size_t offset = body.request.offset;
  node.Scroll(scroll, [offset, done](absl::StatusOr<shard::ScrollPage> page) {
    if (!page.ok()) return done(page.status());
    Hits hits;
    for (size_t i = offset; i < page->points.size(); ++i) {
      shard::PointRecord& r = page->points[i];
      hits.push_back({std::move(r.id), 0.0f, r.version, std::move(r.payload), std::move(r.vectors)});
    }
    done(std::move(hits));
  });
}

void RunSearch(Node& node, const std::string& collection, const SearchBody& body,
               const api::ReadOptions& read, HitsCallback done) {
  switch (body.kind) {
    case SearchBody::Kind::kVector:
      return node.Search({collection, body.request, read}, std::move(done));
    case SearchBody::Kind::kPointId:
      return SearchByPointId(node, collection, body, read, std::move(done));
    case SearchBody::Kind::kIdOrder:
      return SearchInIdOrder(node, collection, body, read, std::move(done));
  }
}

Json QueryResponse(const Hits& hits, const PayloadSelector& payload) {
  return Json::object({{"points", ScoredPointsToJson(hits, payload)}});
}

// Runs every search of a batch at once; answers when all have, in request order, or with the
// error of the first one (by position) that failed.
void RunBatch(Call& call, std::vector<SearchBody> searches, bool query_shape) {
  std::optional<api::ReadOptions> read = ReadParams(call);
  if (!read) return;
  struct State {
    std::vector<SearchBody> searches;
    std::vector<std::optional<absl::StatusOr<Hits>>> results;
    size_t pending;
    bool query_shape;
    std::shared_ptr<Responder> reply;
  };
  auto state = std::make_shared<State>(State{std::move(searches), {}, 0, query_shape, call.reply});
  state->results.resize(state->searches.size());
  state->pending = state->searches.size();
  if (state->pending == 0) return call.reply->Ok(Json::array());
  for (size_t i = 0; i < state->searches.size(); ++i) {
    RunSearch(call.node, call.collection(), state->searches[i], *read, [state, i](absl::StatusOr<Hits> hits) {
      if (state->results[i]) return;  // exactly-once guard against a misbehaving callee
      state->results[i] = std::move(hits);
      if (--state->pending > 0) return;
      Json out = Json::array();
      for (size_t j = 0; j < state->results.size(); ++j) {
        const absl::StatusOr<Hits>& r = *state->results[j];
        if (!r.ok()) return state->reply->Fail(r.status());
        const PayloadSelector& payload = state->searches[j].payload;
        out.push_back(state->query_shape ? QueryResponse(*r, payload) : ScoredPointsToJson(*r, payload));
      }
      state->reply->Ok(out);
    });
  }
}

void RunOne(Call& call, absl::StatusOr<SearchBody> (*parse)(const Json&), bool query_shape) {
  std::optional<api::ReadOptions> read = ReadParams(call);
  if (!read) return;
  std::optional<Json> body = call.Body(query_shape);
  if (!body) return;
  std::optional<SearchBody> search = call.Take(parse(*body));
  if (!search) return;
  const PayloadSelector payload = search->payload;
  RunSearch(call.node, call.collection(), *search, *read,
            [reply = call.reply, payload, query_shape](absl::StatusOr<Hits> hits) {
              reply->Answer(hits, [&](const Hits& h) {
                return query_shape ? QueryResponse(h, payload) : ScoredPointsToJson(h, payload);
              });
            });
}

}  // namespace

void Upsert(Call& call) { Write(call, UpsertFromJson); }
void DeletePoints(Call& call) { Write(call, DeletePointsFromJson); }
void SetPayload(Call& call) { Write(call, SetPayloadFromJson); }
void OverwritePayload(Call& call) { Write(call, OverwritePayloadFromJson); }
void DeletePayload(Call& call) { Write(call, DeletePayloadFromJson); }
void ClearPayload(Call& call) { Write(call, ClearPayloadFromJson); }
void UpdateVectors(Call& call) { Write(call, UpdateVectorsFromJson); }

void BatchUpdate(Call& call) {
  std::optional<WriteParams> params = call.Take(ParseWriteParams(call.request.query));
  if (!params) return;
  std::optional<Json> body = call.Body(false);
  if (!body) return;
  std::optional<std::vector<shardpb::ShardOperation>> ops = call.Take(BatchUpdateFromJson(*body));
  if (!ops) return;
  WriteNext(std::make_shared<BatchState>(
      BatchState{call.node, call.collection(), *params, *std::move(ops), Json::array(), call.reply}));
}

void GetPoint(Call& call) {
  std::optional<shardpb::PointId> id = call.Take(PointIdFromPath(call.params[1]));
  if (!id) return;
  std::optional<api::ReadOptions> read = ReadParams(call);
  if (!read) return;
  api::Retrieve retrieve{call.collection(), {*id}, true, shard::WithVector{true, {}}, *read};
  call.node.Retrieve(
      retrieve, [reply = call.reply, id = *id](absl::StatusOr<std::vector<shard::PointRecord>> r) {
        if (r.ok() && r->empty()) {
          return reply->Fail(absl::NotFoundError(
              absl::StrCat("Not found: Point with id ", shard::FormatPointId(id), " does not exists!")));
        }
        reply->Answer(r, [](const std::vector<shard::PointRecord>& records) {
          return RecordToJson(records.front(), PayloadSelector{true, {}, {}});
        });
      });
}

void RetrievePoints(Call& call) {
  std::optional<api::ReadOptions> read = ReadParams(call);
  if (!read) return;
  std::optional<Json> body = call.Body(false);
  if (!body) return;
  std::optional<RetrieveBody> parsed = call.Take(RetrieveFromJson(*body));
  if (!parsed) return;
  api::Retrieve retrieve{call.collection(), parsed->ids, parsed->payload.enabled, parsed->with_vector, *read};
  call.node.Retrieve(retrieve, [reply = call.reply, payload = parsed->payload](
                                   absl::StatusOr<std::vector<shard::PointRecord>> r) {
    reply->Answer(r, [&](const std::vector<shard::PointRecord>& records) {
      Json out = Json::array();
      for (const auto& record : records) out.push_back(RecordToJson(record, payload));
      return out;
    });
  });
}

void ScrollPoints(Call& call) {
  std::optional<api::ReadOptions> read = ReadParams(call);
  if (!read) return;
  std::optional<Json> body = call.Body(true);
  if (!body) return;
  std::optional<ScrollBody> parsed = call.Take(ScrollFromJson(*body));
  if (!parsed) return;
  api::Scroll scroll{call.collection(), parsed->request, *read};
  call.node.Scroll(
      scroll, [reply = call.reply, payload = parsed->payload](absl::StatusOr<shard::ScrollPage> page) {
        reply->Answer(page, [&](const shard::ScrollPage& p) { return ScrollPageToJson(p, payload); });
      });
}

void CountPoints(Call& call) {
  std::optional<api::ReadOptions> read = ReadParams(call);
  if (!read) return;
  std::optional<Json> body = call.Body(true);
  if (!body) return;
  std::optional<std::optional<shardpb::Filter>> filter = call.Take(CountFromJson(*body));
  if (!filter) return;
  api::Count count{call.collection(), *std::move(filter), true, *read};
  call.node.Count(count, [reply = call.reply](absl::StatusOr<uint64_t> n) {
    reply->Answer(n, [](uint64_t c) { return Json::object({{"count", c}}); });
  });
}

void SearchPoints(Call& call) { RunOne(call, SearchFromJson, false); }
void QueryPoints(Call& call) { RunOne(call, QueryFromJson, true); }

void SearchBatch(Call& call) {
  std::optional<Json> body = call.Body(false);
  if (!body) return;
  std::optional<std::vector<SearchBody>> searches = call.Take(SearchBatchFromJson(*body));
  if (!searches) return;
  RunBatch(call, *std::move(searches), false);
}

void QueryBatch(Call& call) {
  std::optional<Json> body = call.Body(false);
  if (!body) return;
  std::optional<std::vector<SearchBody>> searches = call.Take(QueryBatchFromJson(*body));
  if (!searches) return;
  RunBatch(call, *std::move(searches), true);
}

}  // namespace qdsim::rest::internal
