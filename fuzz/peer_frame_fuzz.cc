// Fuzzes the peer frame decoder (src/real/runtime/frame_codec.h) with raw bytes off the network.
//
// Input: [u8 limit selector][u8 chunk size][stream bytes...]. The small frame limit (1..1021 bytes)
// lets short inputs reach the oversize path. The stream is decoded twice, in one piece and in
// chunks; both must agree (frames, sender, probe or not, error or not). No frame may exceed the
// limit, nothing may be buffered beyond one header and one body (FrameDecoder::MaxBufferedBytes), a
// probe is accepted only as the whole stream and never yields frames (nor a URI), and re-encoding what was
// decoded (handshake or probe, then frames) must decode back to the same thing with nothing left over.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "real/runtime/frame_codec.h"

namespace {

using qdsim::real::FrameDecoder;

void Check(bool ok) {
  if (!ok) __builtin_trap();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace qdsim::real;
  const uint32_t limit = size > 0 ? 1 + 4u * data[0] : kDefaultMaxFrameBytes;
  const size_t chunk = size > 1 ? 1 + data[1] : 1;
  const std::string_view stream =
      size > 2 ? std::string_view(reinterpret_cast<const char*>(data) + 2, size - 2) : std::string_view();

  FrameDecoder whole(limit);
  std::vector<std::string> whole_frames;
  const bool whole_ok = whole.Feed(stream, whole_frames).ok();

  FrameDecoder pieces(limit);
  std::vector<std::string> piece_frames;
  bool pieces_ok = true;
  for (size_t at = 0; at < stream.size() && pieces_ok; at += chunk) {
    pieces_ok = pieces.Feed(stream.substr(at, chunk), piece_frames).ok();
    Check(pieces.buffered_bytes() <= FrameDecoder::MaxBufferedBytes(limit));
  }
  Check(whole_ok == pieces_ok);
  Check(whole_frames == piece_frames);
  Check(whole.peer() == pieces.peer());
  Check(whole.probe() == pieces.probe());
  Check(whole.advertised_uri() == pieces.advertised_uri());
  Check(whole.advertised_uri().size() <= kMaxAdvertisedUriBytes);
  if (whole.probe()) Check(whole.advertised_uri().empty());
  if (whole.probe()) {
    Check(whole.handshake_done());
    Check(whole_frames.empty());
    Check(whole_ok == (stream.size() == kFrameHeaderBytes + kHandshakeBodyBytes));
  }
  Check(whole.buffered_bytes() <= FrameDecoder::MaxBufferedBytes(limit));
  for (const std::string& frame : whole_frames) Check(frame.size() <= limit);
  if (!whole_frames.empty()) Check(whole.handshake_done());

  if (whole.handshake_done()) {
    std::string wire =
        whole.probe() ? EncodeProbe(whole.peer()) : EncodeHandshake(whole.peer(), whole.advertised_uri());
    for (const std::string& frame : whole_frames) AppendFrame(wire, frame);
    FrameDecoder again(limit);
    std::vector<std::string> again_frames;
    Check(again.Feed(wire, again_frames).ok());
    Check(again_frames == whole_frames);
    Check(again.peer() == whole.peer());
    Check(again.probe() == whole.probe());
    Check(again.advertised_uri() == whole.advertised_uri());
    Check(again.buffered_bytes() == 0);
  }
  return 0;
}
