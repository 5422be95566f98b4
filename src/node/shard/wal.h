// The shard's on-disk files and their low-level reading.
//
// Files (under the shard's directory):
//   wal           records.h records, each of type kWalOp holding one serialized ShardOperation, seqs
//                 strictly increasing. Recovery keeps the longest valid prefix and truncates the rest.
//   snapshot      one record of type kSnapshotRecord holding a FlatBuffers ShardSnapshot
//                 (schema/shard_snapshot.fbs); the state as of its last_seq.
//   snapshot.tmp  a snapshot being written; never current, removed on open.
//
// Protobuf serializes map fields (payload objects, named vectors) in an unspecified order;
// DeterministicBytes fixes it so that a given state always produces the same bytes on disk (which
// the simulator's torn writes and trace hashes depend on).
#ifndef QDSIM_NODE_SHARD_WAL_H_
#define QDSIM_NODE_SHARD_WAL_H_

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "google/protobuf/message.h"
#include "node/world/disk.h"

namespace qdsim::shard {

enum ShardRecordType : uint8_t {
  kWalOp = 1,           // a serialized shardpb::ShardOperation (in `wal`)
  kSnapshotRecord = 2,  // a FlatBuffers ShardSnapshot (the `snapshot` file's only record)
};

inline constexpr char kWalFile[] = "wal";
inline constexpr char kSnapshotFile[] = "snapshot";
inline constexpr char kSnapshotTmpFile[] = "snapshot.tmp";

// `message` serialized with map entries in key order.
std::string DeterministicBytes(const google::protobuf::Message& message);

}  // namespace qdsim::shard

#endif  // QDSIM_NODE_SHARD_WAL_H_
