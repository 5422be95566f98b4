// Payload access by nested key, Qdrant-style: "a.b.c" walks into objects; an array met on the way
// is walked element by element, so "a.b" reaches `b` in every object of an array `a`.
//
//   payload = {"city": {"name": "Berlin"}, "tags": [{"k": 1}, {"k": 2}]}
//   ValuesAt(payload, "city.name")   -> ["Berlin"]
//   ValuesAt(payload, "tags.k")      -> [1, 2]
//   ValuesAt(payload, "tags")        -> [[{"k":1},{"k":2}]]   (the array itself; callers flatten)
//
// Thread-safety: pure functions over caller-owned messages.
#ifndef QDSIM_NODE_SHARD_PAYLOAD_H_
#define QDSIM_NODE_SHARD_PAYLOAD_H_

#include <string_view>
#include <vector>

#include "google/protobuf/struct.pb.h"

namespace qdsim::shard {

// Appends to `out` every value found at `key` (pointers into `payload`). Intermediate arrays are
// walked; the final values are not flattened. Nothing is appended for a missing key.
void ValuesAt(const google::protobuf::Struct& payload, std::string_view key,
              std::vector<const google::protobuf::Value*>& out);

// Merges `fields` into `payload` (top-level keys of `fields` replace those of `payload`). With a
// non-empty `key`, merges into the object at that nested key instead, creating objects along the
// path and replacing any non-object found there.
void SetPayloadAt(google::protobuf::Struct& payload, std::string_view key,
                  const google::protobuf::Struct& fields);

// Removes the nested `key` from `payload` (from every object an intermediate array holds). A
// missing key is not an error.
void DeletePayloadKey(google::protobuf::Struct& payload, std::string_view key);

}  // namespace qdsim::shard

#endif  // QDSIM_NODE_SHARD_PAYLOAD_H_
