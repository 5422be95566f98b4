// Record framing: the on-disk unit of every file this project writes.
//
//   [u32 length][u32 crc32c(type byte + payload)][u8 type][payload]      (little-endian)
//
// `length` counts the type byte and the payload. A reader stops at the first record that is cut
// short, too long, or fails its checksum: everything from there on is a torn or corrupt tail.
//
//   std::string file;
//   AppendRecord(file, kEntry, entry.SerializeAsString());
//   RecordReader reader(file);
//   while (auto r = reader.Next()) Use(r->type, r->payload);
//   size_t good = reader.valid_bytes();   // truncate the file here
#ifndef QDSIM_NODE_WORLD_RECORDS_H_
#define QDSIM_NODE_WORLD_RECORDS_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "node/world/disk.h"

namespace qdsim::world {

// Largest payload a record may carry (a guard against reading a garbage length as a huge record).
inline constexpr uint32_t kMaxRecordPayload = 256u << 20;

// Appends one framed record to `out`.
void AppendRecord(std::string& out, uint8_t type, std::string_view payload);

// Framed record bytes.
std::string EncodeRecord(uint8_t type, std::string_view payload);

struct Record {
  uint8_t type;
  std::string_view payload;  // points into the reader's buffer
};

// Iterates the valid records of a buffer. The buffer must outlive the reader and its records.
class RecordReader {
 public:
  explicit RecordReader(std::string_view bytes) : bytes_(bytes) {}

  // The next record, or nullopt at the end or at the first invalid record.
  std::optional<Record> Next();

  // Bytes covered by the valid records returned so far.
  size_t valid_bytes() const { return offset_; }
  // True if Next() stopped before the end of the buffer (a torn or corrupt tail).
  bool stopped_early() const { return stopped_early_; }

 private:
  std::string_view bytes_;
  size_t offset_ = 0;
  bool stopped_early_ = false;
};

// Reads a file of records a few times and returns the copy with the longest valid record prefix:
// in the fault model a bit flip in a read only shortens that prefix and read errors are transient,
// while a torn or corrupt tail is short every time. NotFound if the file is missing; DataLoss if
// no read succeeded, or if `whole_file_must_parse` and even the best copy has a bad tail.
absl::StatusOr<std::string> ReadRecordFile(Disk& disk, const std::string& file,
                                           bool whole_file_must_parse);

}  // namespace qdsim::world

#endif  // QDSIM_NODE_WORLD_RECORDS_H_
