// The byte format of a peer connection, and an incremental decoder for it. Pure: no sockets, so the
// fuzzer (fuzz/peer_frame_fuzz.cc) drives exactly what the transport runs.
//
// A connection carries messages in one direction, from the side that connected:
//
//   handshake  [u32 length = 12 + n]["QDP1"][u64 sender peer id][n bytes: the sender's p2p URI]
//                                                                 (first frame, exactly once; n <= 255)
//   message    [u32 length][length bytes of payload]              (length <= max frame bytes)
//
// or, instead, a probe asking the acceptor who it is (a joining node knows only an address):
//
//   probe      [u32 length = 12]["QDPQ"][u64 prober peer id]     (the first and only frame)
//
// which the acceptor answers on the same connection with its own handshake ("QDP1", its id) before
// closing it; the prober decodes that answer with a FrameDecoder of its own.
//
// Integers are little-endian. The sender's id travels once, in the handshake, so every later frame
// is a bare payload. The URI (n = 0: none) is where the sender listens, as it advertises itself
// (its --uri): a receiver that has no address for the sender can answer it there. A stream that
// breaks the format (wrong first length or magic, peer id 0, a frame over the limit, a probe with
// a URI or any byte after a probe) is rejected as a whole: the transport closes that connection.
//
//   std::string wire = EncodeHandshake(7) + EncodeFrame("hello");
//   FrameDecoder decoder;
//   std::vector<std::string> frames;
//   absl::Status s = decoder.Feed(wire.substr(0, 5), frames);   // any split works
//   s = decoder.Feed(wire.substr(5), frames);                   // frames == {"hello"}, peer() == 7
//   FrameDecoder asked;                                         // the acceptor of a probe
//   s = asked.Feed(EncodeProbe(9), frames);                     // asked.probe(), asked.peer() == 9
//
// Thread-safety: none (a decoder belongs to one connection).
#ifndef QDSIM_REAL_RUNTIME_FRAME_CODEC_H_
#define QDSIM_REAL_RUNTIME_FRAME_CODEC_H_

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "node/world/transport.h"

namespace qdsim::real {

inline constexpr uint32_t kDefaultMaxFrameBytes = 64u << 20;
inline constexpr size_t kFrameHeaderBytes = 4;
inline constexpr std::string_view kHandshakeMagic = "QDP1";
inline constexpr std::string_view kProbeMagic = "QDPQ";
static_assert(kProbeMagic.size() == kHandshakeMagic.size());
// Handshake (and probe) body: magic + u64 peer id (+ the handshake's advertised URI).
inline constexpr uint32_t kHandshakeBodyBytes = 12;
inline constexpr uint32_t kMaxAdvertisedUriBytes = 255;

// The 4-byte length prefix of a frame whose payload is `payload_bytes` long (for scatter writes).
std::array<char, kFrameHeaderBytes> EncodeFrameHeader(uint32_t payload_bytes);
// The handshake frame announcing `sender`, listening at `uri` ("": not said).
// REQUIRES: sender != 0, uri.size() <= kMaxAdvertisedUriBytes.
std::string EncodeHandshake(world::PeerId sender, std::string_view uri = {});
// The probe frame, sent by `prober` to learn the acceptor's id. REQUIRES: prober != 0.
std::string EncodeProbe(world::PeerId prober);
// Appends one message frame to `out`. REQUIRES: payload.size() fits in u32.
void AppendFrame(std::string& out, std::string_view payload);
std::string EncodeFrame(std::string_view payload);

class FrameDecoder {
 public:
  // Message frames longer than `max_frame_bytes` are rejected before any of their payload is
  // buffered, so a decoder never holds more than MaxBufferedBytes(max_frame_bytes).
  explicit FrameDecoder(uint32_t max_frame_bytes = kDefaultMaxFrameBytes)
      : max_frame_bytes_(max_frame_bytes) {}

  // The most a decoder with this limit ever buffers: one header and one body (the handshake's
  // own bound counts even under a smaller limit).
  static constexpr size_t MaxBufferedBytes(uint32_t max_frame_bytes) {
    constexpr uint32_t kHandshakeMax = kHandshakeBodyBytes + kMaxAdvertisedUriBytes;
    return kFrameHeaderBytes + (max_frame_bytes > kHandshakeMax ? max_frame_bytes : kHandshakeMax);
  }

  // Consumes `data`, the next bytes of the stream: records the handshake and appends the payload of
  // every message frame it completes to `frames`. An incomplete frame is kept for the next call.
  // Returns InvalidArgument once the stream breaks the format; the error is sticky (later calls
  // decode nothing and return it again). Frames completed before the bad one are still appended.
  absl::Status Feed(std::string_view data, std::vector<std::string>& frames);

  // True once the handshake (or a probe) has been decoded; peer() is then the sender's id (else 0).
  bool handshake_done() const { return peer_ != 0; }
  world::PeerId peer() const { return peer_; }
  // The URI the handshake advertised ("" if none, or before the handshake).
  const std::string& advertised_uri() const { return uri_; }
  // True when the first frame was a probe; peer() is then the prober. Such a stream must end there:
  // a byte after the probe is a format error, so a probe never yields message frames.
  bool probe() const { return probe_; }
  // Bytes of an incomplete header or frame held for the next Feed().
  size_t buffered_bytes() const { return header_have_ + body_.size(); }
  const absl::Status& status() const { return status_; }

 private:
  // Takes header bytes from `data`; once all four are in, checks the length.
  void ConsumeHeader(std::string_view& data, std::vector<std::string>& frames);
  // Takes body bytes from `data`; completes the frame when it is whole.
  void ConsumeBody(std::string_view& data, std::vector<std::string>& frames);
  void FinishFrame(std::string body, std::vector<std::string>& frames);

  const uint32_t max_frame_bytes_;
  absl::Status status_;     // first format error, sticky
  world::PeerId peer_ = 0;  // sender from the handshake; 0 until it arrives
  std::string uri_;         // URI the handshake advertised
  bool probe_ = false;      // the first frame was a probe
  std::array<char, kFrameHeaderBytes> header_{};
  size_t header_have_ = 0;  // header bytes collected (4 = length known)
  uint32_t length_ = 0;     // body length of the current frame, once known
  std::string body_;        // body bytes of the current frame collected so far
};

}  // namespace qdsim::real

#endif  // QDSIM_REAL_RUNTIME_FRAME_CODEC_H_
