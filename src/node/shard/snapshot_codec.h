// The shard snapshot's FlatBuffers encoding (schema/shard_snapshot.fbs): every point of a
// PointTable and the last applied seq. ShardStore frames the bytes in one records.h record.
//
//   std::string fb = EncodeSnapshot(table, last_seq);
//   PointTable restored(config);
//   uint64_t seq;
//   RETURN_IF_ERROR(DecodeSnapshot(fb, restored, &seq));
//
// Thread-safety: pure functions over caller-owned objects.
#ifndef QDSIM_NODE_SHARD_SNAPSHOT_CODEC_H_
#define QDSIM_NODE_SHARD_SNAPSHOT_CODEC_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "node/shard/point_table.h"

namespace qdsim::shard {

// The FlatBuffer bytes of a snapshot of `table` at `last_seq`.
std::string EncodeSnapshot(const PointTable& table, uint64_t last_seq);

// Decodes untrusted snapshot bytes into `table` (which must be empty) and `*last_seq`. DataLoss if
// the buffer fails the FlatBuffers verifier, lacks the "QDSS" identifier, repeats a point id, holds
// a malformed id, payload or vector, or a vector that does not fit the table's config. On error the
// table is left empty.
absl::Status DecodeSnapshot(std::string_view bytes, PointTable& table, uint64_t* last_seq);

}  // namespace qdsim::shard

#endif  // QDSIM_NODE_SHARD_SNAPSHOT_CODEC_H_
