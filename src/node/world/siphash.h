// SipHash-2-4 (Aumasson & Bernstein, 2012) with a 128-bit key, as a streaming hasher: feeding
// bytes in pieces gives the same result as feeding them at once. Used for Qdrant's hash ring, whose
// keys are SipHash-2-4 with a zero key over Rust's Hash encoding of the value.
//
//   SipHasher24 h;                 // key (0, 0)
//   h.WriteU64(0); h.WriteU64(id); // the encoding of a numeric point id
//   uint64_t key = h.Finish();
#ifndef QDSIM_NODE_WORLD_SIPHASH_H_
#define QDSIM_NODE_WORLD_SIPHASH_H_

#include <cstdint>
#include <string_view>

namespace qdsim::world {

class SipHasher24 {
 public:
  explicit SipHasher24(uint64_t k0 = 0, uint64_t k1 = 0);

  void Write(std::string_view bytes);
  // Little-endian integer writes (Rust's native-endian encoding on the platforms Qdrant ships for).
  void WriteU32(uint32_t v);
  void WriteU64(uint64_t v);

  // The hash of everything written so far (does not reset).
  uint64_t Finish() const;

 private:
  void Compress(uint64_t m);

  uint64_t v0_, v1_, v2_, v3_;  // internal state
  uint64_t tail_ = 0;           // bytes not yet forming a full 8-byte word, little-endian
  uint32_t tail_len_ = 0;       // number of bytes in tail_ (0..7)
  uint64_t length_ = 0;         // total bytes written
};

}  // namespace qdsim::world

#endif  // QDSIM_NODE_WORLD_SIPHASH_H_
