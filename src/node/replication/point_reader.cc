#include "node/replication/point_reader.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <set>
#include <utility>

#include "absl/strings/str_cat.h"
#include "google/protobuf/io/coded_stream.h"
#include "google/protobuf/io/zero_copy_stream_impl_lite.h"
#include "node/collection/hash_ring.h"
#include "node/collection/routing.h"
#include "node/shard/point_id.h"
#include "node/shard/vectors.h"
#include "node/world/status_macros.h"

namespace qdsim::replication {
namespace {

using Answers = std::vector<readpb::ShardReadResult>;  // one shard's replicas' answers
using ShardResults = std::map<uint32_t, Answers>;      // every asked shard's answers, by shard id
using shard::PointKey;

// ---- Conversions between the store's read structs and their Protobuf forms ----------------

readpb::WithVector ToProto(const shard::WithVector& w) {
  readpb::WithVector out;
  out.set_all(w.all);
  for (const std::string& name : w.names) out.add_names(name);
  return out;
}

shard::WithVector FromProto(const readpb::WithVector& w) {
  return shard::WithVector{w.all(), {w.names().begin(), w.names().end()}};
}

readpb::Record ToProto(const shard::PointRecord& r) {
  readpb::Record out;
  *out.mutable_id() = r.id;
  out.set_version(r.version);
  if (r.payload) *out.mutable_payload() = *r.payload;
  if (r.vectors) *out.mutable_vectors() = *r.vectors;
  return out;
}

shard::PointRecord FromProto(const readpb::Record& r) {
  shard::PointRecord out;
  out.id = r.id();
  out.version = r.version();
  if (r.has_payload()) out.payload = r.payload();
  if (r.has_vectors()) out.vectors = r.vectors();
  return out;
}

readpb::ScoredRecord ToProto(const shard::ScoredPoint& p) {
  readpb::ScoredRecord out;
  readpb::Record& r = *out.mutable_record();
  *r.mutable_id() = p.id;
  r.set_version(p.version);
  if (p.payload) *r.mutable_payload() = *p.payload;
  if (p.vectors) *r.mutable_vectors() = *p.vectors;
  out.set_score(p.score);
  return out;
}

shard::ScoredPoint FromProto(const readpb::ScoredRecord& s) {
  shard::PointRecord r = FromProto(s.record());
  return shard::ScoredPoint{std::move(r.id), s.score(), r.version, std::move(r.payload), std::move(r.vectors)};
}

readpb::ScrollRead ToProto(const shard::ScrollRequest& q) {
  readpb::ScrollRead out;
  if (q.offset) *out.mutable_offset() = *q.offset;
  out.set_limit(q.limit);
  if (q.filter) *out.mutable_filter() = *q.filter;
  out.set_with_payload(q.with_payload);
  *out.mutable_with_vector() = ToProto(q.with_vector);
  return out;
}

shard::ScrollRequest FromProto(const readpb::ScrollRead& q) {
  shard::ScrollRequest out;
  if (q.has_offset()) out.offset = q.offset();
  out.limit = static_cast<size_t>(q.limit());
  if (q.has_filter()) out.filter = q.filter();
  out.with_payload = q.with_payload();
  out.with_vector = FromProto(q.with_vector());
  return out;
}

readpb::SearchRead ToProto(const shard::SearchRequest& q) {
  readpb::SearchRead out;
  out.set_vector_name(q.vector_name);
  *out.mutable_query() = q.query;
  out.set_limit(q.limit);
  out.set_offset(q.offset);
  if (q.filter) *out.mutable_filter() = *q.filter;
  if (q.score_threshold) out.set_score_threshold(*q.score_threshold);
  out.set_with_payload(q.with_payload);
  *out.mutable_with_vector() = ToProto(q.with_vector);
  return out;
}

shard::SearchRequest FromProto(const readpb::SearchRead& q) {
  shard::SearchRequest out;
  out.vector_name = q.vector_name();
  out.query = q.query();
  out.limit = static_cast<size_t>(q.limit());
  out.offset = static_cast<size_t>(q.offset());
  if (q.has_filter()) out.filter = q.filter();
  if (q.has_score_threshold()) out.score_threshold = q.score_threshold();
  out.with_payload = q.with_payload();
  out.with_vector = FromProto(q.with_vector());
  return out;
}

// ---- The replica side ------------------------------------------------------------------------

// Runs `read` on a replica's store.
absl::StatusOr<readpb::ShardReadResult> Execute(const shard::ShardStore& store, const readpb::ShardRead& read) {
  readpb::ShardReadResult out;
  switch (read.read_case()) {
    case readpb::ShardRead::kRetrieve: {
      const readpb::RetrieveRead& r = read.retrieve();
      ASSIGN_OR_RETURN(std::vector<shard::PointRecord> records,
                       store.Retrieve({r.ids().begin(), r.ids().end()}, r.with_payload(), FromProto(r.with_vector())));
      for (const shard::PointRecord& record : records) *out.add_records() = ToProto(record);
      return out;
    }
    case readpb::ShardRead::kScroll: {
      ASSIGN_OR_RETURN(shard::ScrollPage page, store.Scroll(FromProto(read.scroll())));
      for (const shard::PointRecord& record : page.points) *out.add_records() = ToProto(record);
      if (page.next_page_offset) *out.mutable_next_page_offset() = *page.next_page_offset;
      return out;
    }
    case readpb::ShardRead::kCount: {
      const readpb::CountRead& c = read.count();
      ASSIGN_OR_RETURN(const uint64_t count, store.Count(c.has_filter() ? &c.filter() : nullptr));
      out.set_count(count);
      return out;
    }
    case readpb::ShardRead::kSearch: {
      ASSIGN_OR_RETURN(std::vector<shard::ScoredPoint> hits, store.Search(FromProto(read.search())));
      for (const shard::ScoredPoint& hit : hits) *out.add_hits() = ToProto(hit);
      return out;
    }
    case readpb::ShardRead::READ_NOT_SET:
      break;
  }
  return absl::InvalidArgumentError("shard read names no operation");
}

// "shard 2 of collection `docs`", for messages.
std::string ShardName(const std::string& collection, uint32_t shard) {
  return absl::StrCat("shard ", shard, " of collection `", collection, "`");
}

using consensus::FindReplica;

// `peer`'s replica of (collection, shard) in `metadata`, or null.
const consensuspb::Replica* FindReplica(const consensus::ClusterStateMachine& metadata, const std::string& collection,
                                        uint32_t shard, uint64_t peer) {
  const consensuspb::CollectionState* c = metadata.FindCollection(collection);
  if (c == nullptr || shard >= static_cast<uint32_t>(c->shards_size())) return nullptr;
  return FindReplica(c->shards(static_cast<int>(shard)), peer);
}

// ---- Resolving the answers of one shard's replicas --------------------------------------------

// A validation error: the request is wrong, every replica would say the same.
bool IsUserError(const absl::Status& s) { return absl::IsInvalidArgument(s); }

// How many answers must hold a record for it to be kept: all of them for consistency "all", else
// more than half.
size_t Needed(size_t answers, bool all) { return all ? answers : answers / 2 + 1; }

// A record's content as replicas are compared on: everything but its version, serialized
// deterministically (map order fixed).
std::string Content(readpb::Record record) {
  record.set_version(0);
  std::string out;
  {
    google::protobuf::io::StringOutputStream stream(&out);
    google::protobuf::io::CodedOutputStream coded(&stream);
    coded.SetSerializationDeterministic(true);
    record.SerializeToCodedStream(&coded);
  }
  return out;
}

// The items (records or hits) that at least `needed` of `lists` hold with identical content, by
// point id — at most one content per id can reach a majority. Of the agreeing copies, the one with
// the highest version. `record_of` gives an item's record. Items with a malformed id are ignored.
template <typename Item, typename RecordOf>
std::map<PointKey, Item> Resolve(const std::vector<const google::protobuf::RepeatedPtrField<Item>*>& lists,
                                 size_t needed, RecordOf record_of) {
  using Slot = std::pair<PointKey, std::string>;  // (id, content)
  struct Tally {
    size_t answers = 0;          // answers holding this content
    const Item* best = nullptr;  // the copy with the highest version
  };
  std::map<Slot, Tally> tallies;
  for (const auto* list : lists) {
    std::set<Slot> seen;  // each content counts once per answer
    for (const Item& item : *list) {
      const readpb::Record& r = record_of(item);
      absl::StatusOr<PointKey> key = PointKey::From(r.id());
      if (!key.ok()) continue;
      Slot slot{*key, Content(r)};
      if (!seen.insert(slot).second) continue;
      Tally& t = tallies[std::move(slot)];
      ++t.answers;
      if (t.best == nullptr || record_of(*t.best).version() < r.version()) t.best = &item;
    }
  }
  std::map<PointKey, Item> kept;
  for (const auto& [slot, tally] : tallies) {
    if (tally.answers >= needed) kept.emplace(slot.first, *tally.best);
  }
  return kept;
}

const readpb::Record& RecordItself(const readpb::Record& r) { return r; }
const readpb::Record& RecordOfHit(const readpb::ScoredRecord& h) { return h.record(); }

// The records of one shard's answers that enough of them agree on, by id.
std::map<PointKey, readpb::Record> ResolveRecords(const Answers& answers, bool all) {
  std::vector<const google::protobuf::RepeatedPtrField<readpb::Record>*> lists;
  for (const readpb::ShardReadResult& a : answers) lists.push_back(&a.records());
  return Resolve(lists, Needed(answers.size(), all), RecordItself);
}

std::map<PointKey, readpb::ScoredRecord> ResolveHits(const Answers& answers, bool all) {
  std::vector<const google::protobuf::RepeatedPtrField<readpb::ScoredRecord>*> lists;
  for (const readpb::ShardReadResult& a : answers) lists.push_back(&a.hits());
  return Resolve(lists, Needed(answers.size(), all), RecordOfHit);
}

// The lower median of the answers' counts.
uint64_t ResolveCount(const Answers& answers) {
  std::vector<uint64_t> counts;
  for (const readpb::ShardReadResult& a : answers) counts.push_back(a.count());
  if (counts.empty()) return 0;
  std::sort(counts.begin(), counts.end());
  return counts[(counts.size() - 1) / 2];
}

// The smallest next page offset any answer gives (none if no answer gives one).
std::optional<PointKey> ResolveNextPage(const Answers& answers) {
  std::optional<PointKey> next;
  for (const readpb::ShardReadResult& a : answers) {
    if (!a.has_next_page_offset()) continue;
    absl::StatusOr<PointKey> key = PointKey::From(a.next_page_offset());
    if (key.ok() && (!next || *key < *next)) next = *key;
  }
  return next;
}

// ---- Merging shards ---------------------------------------------------------------------------

// True if a higher score is closer for `vector_name` of the collection (Cosine, Dot, sparse).
bool HigherIsBetterFor(const consensuspb::CollectionState& c, const std::string& vector_name) {
  const shard::ShardConfig config = collection::ShardConfigOf(c.params());
  auto it = config.dense.find(vector_name);
  return it == config.dense.end() || shard::HigherIsBetter(it->second.distance);
}

// A score mapped so that higher is closer, NaN last (as the store ranks).
double Rank(float score, bool higher_is_better) {
  if (std::isnan(score)) return -std::numeric_limits<double>::infinity();
  return higher_is_better ? score : -static_cast<double>(score);
}

// The best hits over all shards: best first, equal scores by id; `offset` skipped, `limit` kept.
std::vector<shard::ScoredPoint> MergeHits(const ShardResults& results, bool all, bool higher_is_better,
                                          size_t offset, size_t limit) {
  struct Ranked {
    double rank;                        // higher is closer
    PointKey key;                       // ties go to the lower id
    const readpb::ScoredRecord* hit;
  };
  std::vector<std::map<PointKey, readpb::ScoredRecord>> per_shard;
  for (const auto& [shard, answers] : results) per_shard.push_back(ResolveHits(answers, all));
  std::vector<Ranked> ranked;
  for (const auto& hits : per_shard) {
    for (const auto& [key, hit] : hits) ranked.push_back(Ranked{Rank(hit.score(), higher_is_better), key, &hit});
  }
  std::sort(ranked.begin(), ranked.end(), [](const Ranked& a, const Ranked& b) {
    if (a.rank != b.rank) return a.rank > b.rank;
    return a.key < b.key;
  });
  std::vector<shard::ScoredPoint> out;
  for (size_t i = offset; i < ranked.size() && out.size() < limit; ++i) out.push_back(FromProto(*ranked[i].hit));
  return out;
}

// One page over all shards (see the header for why the next page offset is right).
shard::ScrollPage MergePages(const ShardResults& results, bool all, size_t limit) {
  std::map<PointKey, readpb::Record> kept;
  std::optional<PointKey> next;
  for (const auto& [shard, answers] : results) {
    kept.merge(ResolveRecords(answers, all));
    std::optional<PointKey> shard_next = ResolveNextPage(answers);
    if (shard_next && (!next || *shard_next < *next)) next = shard_next;
  }
  shard::ScrollPage page;
  auto it = kept.begin();
  for (; it != kept.end() && page.points.size() < limit; ++it) page.points.push_back(FromProto(it->second));
  if (it != kept.end() && (!next || it->first < *next)) next = it->first;
  if (next) page.next_page_offset = next->ToProto();
  return page;
}

absl::Status LimitError() { return absl::InvalidArgumentError("Wrong input: limit must be at least 1"); }

// Collects the answers of `n` shards and calls `done` once all are in: with every shard's answers,
// or with the first validation error by shard id, else the first error by shard id.
class Join {
 public:
  using Done = std::function<void(absl::StatusOr<ShardResults>)>;
  Join(size_t n, Done done) : left_(n), done_(std::move(done)) {
    if (left_ == 0) Finish();
  }
  void Add(uint32_t shard, absl::StatusOr<Answers> answers) {
    if (answers.ok()) {
      results_[shard] = std::move(*answers);
    } else {
      errors_.emplace(shard, answers.status());
    }
    if (--left_ == 0) Finish();
  }

 private:
  void Finish() {
    if (errors_.empty()) return done_(std::move(results_));
    for (const auto& [shard, s] : errors_) {
      if (IsUserError(s)) return done_(s);
    }
    done_(errors_.begin()->second);
  }

  size_t left_;                               // shards yet to answer
  Done done_;                                 // the read's continuation
  ShardResults results_;                      // shards that answered
  std::map<uint32_t, absl::Status> errors_;   // shards that failed, with why
};

}  // namespace

// One shard's part of a read: asks the shard's readable replicas, in order, until enough answered.
struct PointReader::ShardFanout {
  uint32_t shard = 0;
  readpb::ShardRead read;                   // the request (its generation is set per replica)
  std::vector<consensuspb::Replica> order;  // readable replicas, in the order to ask them
  uint32_t required = 1;                    // answers needed
  world::Duration timeout{};                // for each request to a remote replica
  size_t next = 0;                          // index in `order` of the next replica to ask
  size_t in_flight = 0;                     // replicas asked that have not answered
  Answers answers;                          // the answers so far
  absl::Status last_error;                  // why the last failed replica failed
  bool finished = false;                    // `done` ran
  std::function<void(absl::StatusOr<Answers>)> done;

  void Finish(absl::StatusOr<Answers> outcome) {
    if (finished) return;
    finished = true;
    done(std::move(outcome));
  }
};

PointReader::PointReader(world::PeerId self, rpc::RpcEndpoint& rpc, consensus::ConsensusManager& consensus,
                         collection::LocalShards& shards)
    : self_(self), rpc_(rpc), consensus_(consensus), shards_(shards) {
  rpc_.Handle(kReadMethod, [this, alive = alive_](world::PeerId, std::string body, rpc::RpcEndpoint::Reply reply) {
    if (!*alive) return reply(absl::UnavailableError("the point reader is gone"), "");
    readpb::ShardRead read;
    if (!read.ParseFromString(body)) return reply(absl::InvalidArgumentError("malformed shard read"), "");
    ReadLocalAsync(read, [reply](absl::StatusOr<readpb::ShardReadResult> result) {
      if (!result.ok()) return reply(result.status(), "");
      reply(absl::OkStatus(), result->SerializeAsString());
    });
  });
}

PointReader::~PointReader() { *alive_ = false; }

void PointReader::ReadLocalAsync(const readpb::ShardRead& read,
                                 std::function<void(absl::StatusOr<readpb::ShardReadResult>)> done) const {
  if (env_ == nullptr || !read.has_search()) return done(ReadLocal(read));
  absl::StatusOr<shard::ShardStore*> store = ReadableStore(read);
  if (!store.ok()) return done(store.status());
  // An exact search is the one read that can take long: it runs off the node's thread (a helper
  // thread in the real runtime), the store pinned so that nothing changes or frees it meanwhile.
  shard::ShardStore* s = *store;
  s->PinForRead();
  auto result = std::make_shared<absl::StatusOr<readpb::ShardReadResult>>(absl::UnknownError("not run"));
  env_->Offload([s, read, result] { *result = Execute(*s, read); },
                [s, result, done = std::move(done)] {
                  s->UnpinRead();
                  done(std::move(*result));
                });
}

absl::StatusOr<shard::ShardStore*> PointReader::ReadableStore(const readpb::ShardRead& read) const {
  const std::string where = ShardName(read.collection(), read.shard_id());
  shard::ShardStore* store = read.generation() == 0
                                 ? shards_.Find(read.collection(), read.shard_id())
                                 : shards_.Find(read.collection(), read.shard_id(), read.generation());
  if (store == nullptr) {
    const std::string life = read.generation() == 0 ? "" : absl::StrCat(" (generation ", read.generation(), ")");
    return absl::UnavailableError(absl::StrCat("peer ", self_, " holds no open replica of ", where, life));
  }
  // The coordinator's metadata may be behind this peer's: a replica this peer knows is Dead or
  // Partial has missed writes and must not answer.
  const consensuspb::Replica* mine = FindReplica(consensus_.metadata(), read.collection(), read.shard_id(), self_);
  if (mine == nullptr || !IsReadable(mine->state())) {
    return absl::UnavailableError(absl::StrCat("peer ", self_, "'s replica of ", where, " is not readable (",
                                               mine == nullptr ? "not placed here" : ReplicaState_Name(mine->state()),
                                               ")"));
  }
  return store;
}

absl::StatusOr<readpb::ShardReadResult> PointReader::ReadLocal(const readpb::ShardRead& read) const {
  absl::StatusOr<shard::ShardStore*> store = ReadableStore(read);
  if (!store.ok()) return store.status();
  return Execute(**store, read);
}

void PointReader::AskReplica(const consensuspb::Replica& replica, readpb::ShardRead read, world::Duration timeout,
                             std::function<void(absl::StatusOr<readpb::ShardReadResult>)> done) {
  read.set_generation(replica.generation());
  if (replica.peer_id() == self_) return ReadLocalAsync(read, std::move(done));
  rpc_.Call(replica.peer_id(), kReadMethod, read.SerializeAsString(), timeout,
            [alive = alive_, done = std::move(done)](absl::StatusOr<std::string> response) {
              if (!*alive) return;
              if (!response.ok()) return done(response.status());
              readpb::ShardReadResult result;
              if (!result.ParseFromString(*response)) return done(absl::DataLossError("malformed shard read result"));
              done(std::move(result));
            },
            rpc::RpcEndpoint::kResendEvery);
}

void PointReader::Pump(const std::shared_ptr<ShardFanout>& f) {
  // A local replica answers before AskReplica returns, possibly re-entering Pump through OnAnswer:
  // the loop re-reads the fan-out's state every time.
  while (!f->finished && f->answers.size() + f->in_flight < f->required && f->next < f->order.size()) {
    const consensuspb::Replica replica = f->order[f->next++];
    ++f->in_flight;
    AskReplica(replica, f->read, f->timeout,
               [this, f](absl::StatusOr<readpb::ShardReadResult> answer) { OnAnswer(f, std::move(answer)); });
  }
  if (f->finished || f->in_flight > 0 || f->answers.size() >= f->required) return;
  const std::string where = ShardName(f->read.collection(), f->shard);
  if (f->order.empty()) {
    return f->Finish(absl::UnavailableError(absl::StrCat("Service unavailable: ", where, " has no Active replica")));
  }
  f->Finish(absl::UnavailableError(absl::StrCat("Service unavailable: ", where, ": ", f->answers.size(), " of ",
                                                f->required, " required replicas answered; last error: ",
                                                f->last_error.message())));
}

void PointReader::OnAnswer(const std::shared_ptr<ShardFanout>& f, absl::StatusOr<readpb::ShardReadResult> answer) {
  --f->in_flight;
  if (f->finished) return;
  if (answer.ok()) {
    f->answers.push_back(std::move(*answer));
    if (f->answers.size() >= f->required) f->Finish(std::move(f->answers));
    return;
  }
  if (IsUserError(answer.status())) return f->Finish(answer.status());
  f->last_error = answer.status();  // the replica failed, not the request: try another one
  Pump(f);
}

void PointReader::ReadShards(const consensuspb::CollectionState& collection,
                             std::map<uint32_t, readpb::ShardRead> reads, const ReadConsistency& consistency,
                             world::Duration timeout, JoinDone done) {
  // Every fan-out is set up before any starts: a local answer may complete the read (and run the
  // caller's code) before the loop ends, so nothing may refer to the metadata by then.
  std::vector<std::shared_ptr<ShardFanout>> fanouts;
  for (auto& [shard, read] : reads) {
    const consensuspb::ShardInfo& info = collection.shards(static_cast<int>(shard));
    const ShardReplicas replicas(info.replicas().begin(), info.replicas().end());
    auto f = std::make_shared<ShardFanout>();
    f->shard = shard;
    f->read = std::move(read);
    f->read.set_collection(collection.name());
    f->read.set_shard_id(shard);
    for (uint64_t peer : ReadOrder(replicas, self_)) f->order.push_back(*FindReplica(info, peer));
    f->required = RequiredReads(consistency, replicas);
    f->timeout = timeout;
    fanouts.push_back(std::move(f));
  }
  auto join = std::make_shared<Join>(fanouts.size(), std::move(done));
  for (const auto& f : fanouts) {
    f->done = [join, shard = f->shard](absl::StatusOr<Answers> answers) { join->Add(shard, std::move(answers)); };
  }
  for (const auto& f : fanouts) Pump(f);
}

void PointReader::ReadAllShards(const consensuspb::CollectionState& collection, const readpb::ShardRead& read,
                                const ReadConsistency& consistency, world::Duration timeout, JoinDone done) {
  std::map<uint32_t, readpb::ShardRead> reads;
  for (int shard = 0; shard < collection.shards_size(); ++shard) reads[static_cast<uint32_t>(shard)] = read;
  ReadShards(collection, std::move(reads), consistency, timeout, std::move(done));
}

void PointReader::Retrieve(const std::string& collection, std::vector<shardpb::PointId> ids, bool with_payload,
                           shard::WithVector with_vector, ReadConsistency consistency, world::Duration timeout,
                           RetrieveDone done) {
  const consensuspb::CollectionState* c = consensus_.metadata().FindCollection(collection);
  if (c == nullptr) return done(consensus::CollectionNotFound(collection));
  // Each id goes to the shard that owns it, in the order asked.
  const uint32_t shard_count = static_cast<uint32_t>(c->shards_size());
  const collection::HashRing ring = collection::HashRing::Fair(std::max<uint32_t>(shard_count, 1));
  std::vector<PointKey> keys;
  std::map<uint32_t, readpb::ShardRead> reads;
  for (const shardpb::PointId& id : ids) {
    absl::StatusOr<PointKey> key = PointKey::From(id);
    if (!key.ok()) return done(key.status());
    keys.push_back(*key);
    if (shard_count == 0) continue;
    readpb::RetrieveRead& part = *reads[collection::ShardOf(ring, id)].mutable_retrieve();
    *part.add_ids() = id;
  }
  for (auto& [shard, read] : reads) {
    read.mutable_retrieve()->set_with_payload(with_payload);
    *read.mutable_retrieve()->mutable_with_vector() = ToProto(with_vector);
  }
  const bool all = consistency.kind == ReadConsistency::Kind::kAll;
  ReadShards(*c, std::move(reads), consistency, timeout,
             [keys = std::move(keys), all, done = std::move(done)](absl::StatusOr<ShardResults> results) {
               if (!results.ok()) return done(results.status());
               std::map<PointKey, readpb::Record> kept;
               for (const auto& [shard, answers] : *results) kept.merge(ResolveRecords(answers, all));
               std::vector<shard::PointRecord> out;
               std::set<PointKey> answered;
               for (const PointKey& key : keys) {
                 auto it = kept.find(key);
                 if (it != kept.end() && answered.insert(key).second) out.push_back(FromProto(it->second));
               }
               done(std::move(out));
             });
}

void PointReader::Scroll(const std::string& collection, shard::ScrollRequest request, ReadConsistency consistency,
                         world::Duration timeout, ScrollDone done) {
  const consensuspb::CollectionState* c = consensus_.metadata().FindCollection(collection);
  if (c == nullptr) return done(consensus::CollectionNotFound(collection));
  if (request.limit == 0) return done(LimitError());
  readpb::ShardRead read;
  *read.mutable_scroll() = ToProto(request);
  const bool all = consistency.kind == ReadConsistency::Kind::kAll;
  ReadAllShards(*c, read, consistency, timeout,
                [all, limit = request.limit, done = std::move(done)](absl::StatusOr<ShardResults> results) {
                  if (!results.ok()) return done(results.status());
                  done(MergePages(*results, all, limit));
                });
}

void PointReader::Count(const std::string& collection, std::optional<shardpb::Filter> filter,
                        ReadConsistency consistency, world::Duration timeout, CountDone done) {
  const consensuspb::CollectionState* c = consensus_.metadata().FindCollection(collection);
  if (c == nullptr) return done(consensus::CollectionNotFound(collection));
  readpb::ShardRead read;
  readpb::CountRead* count = read.mutable_count();
  if (filter) *count->mutable_filter() = std::move(*filter);
  ReadAllShards(*c, read, consistency, timeout, [done = std::move(done)](absl::StatusOr<ShardResults> results) {
    if (!results.ok()) return done(results.status());
    uint64_t total = 0;
    for (const auto& [shard, answers] : *results) total += ResolveCount(answers);
    done(total);
  });
}

void PointReader::Search(const std::string& collection, shard::SearchRequest request, ReadConsistency consistency,
                         world::Duration timeout, SearchDone done) {
  const consensuspb::CollectionState* c = consensus_.metadata().FindCollection(collection);
  if (c == nullptr) return done(consensus::CollectionNotFound(collection));
  if (request.limit == 0) return done(LimitError());
  const size_t offset = request.offset;
  const size_t limit = request.limit;
  // Every shard's best offset + limit: the merged answer's window may come from any of them.
  request.limit = offset > std::numeric_limits<size_t>::max() - limit ? std::numeric_limits<size_t>::max()
                                                                      : offset + limit;
  request.offset = 0;
  if (bugs_.Has(shard::ClusterBug::kSearchShardQuota) && c->shards_size() > 1) {
    const size_t shards = static_cast<size_t>(c->shards_size());
    request.limit = request.limit / shards + (request.limit % shards != 0);
  }
  readpb::ShardRead read;
  *read.mutable_search() = ToProto(request);
  const bool all = consistency.kind == ReadConsistency::Kind::kAll;
  const bool higher = HigherIsBetterFor(*c, request.vector_name);
  ReadAllShards(*c, read, consistency, timeout,
                [all, higher, offset, limit, done = std::move(done)](absl::StatusOr<ShardResults> results) {
                  if (!results.ok()) return done(results.status());
                  done(MergeHits(*results, all, higher, offset, limit));
                });
}

}  // namespace qdsim::replication
