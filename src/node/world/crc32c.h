// CRC-32C (Castagnoli), the checksum of every on-disk record in this project.
//
//   uint32_t crc = Crc32c(payload);
//   crc = Crc32cExtend(crc, more_bytes);   // == Crc32c(payload + more_bytes)
//
// Software, table-driven; identical on every platform. Test vector: Crc32c("123456789") == 0xE3069283.
#ifndef QDSIM_NODE_WORLD_CRC32C_H_
#define QDSIM_NODE_WORLD_CRC32C_H_

#include <cstdint>
#include <string_view>

namespace qdsim::world {

uint32_t Crc32cExtend(uint32_t crc, std::string_view data);
inline uint32_t Crc32c(std::string_view data) { return Crc32cExtend(0, data); }

}  // namespace qdsim::world

#endif  // QDSIM_NODE_WORLD_CRC32C_H_
