// Frame codec: what is encoded decodes to the same handshake and payloads however the byte stream is
// split, and a stream that breaks the format is rejected for good without buffering past the limit.
// A probe decodes as the whole stream or not at all.
#include "real/runtime/frame_codec.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "rapidcheck/gtest.h"

namespace qdsim::real {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

std::string Wire(world::PeerId sender, const std::vector<std::string>& payloads) {
  std::string wire = EncodeHandshake(sender);
  for (const std::string& p : payloads) AppendFrame(wire, p);
  return wire;
}

TEST(FrameCodecTest, LayoutIsLittleEndianLengthThenBody) {
  EXPECT_EQ(EncodeHandshake(0x0102030405060708),
            std::string("\x0c\0\0\0QDP1\x08\x07\x06\x05\x04\x03\x02\x01", 16));
  EXPECT_EQ(EncodeFrame("hi"), std::string("\x02\0\0\0hi", 6));
  EXPECT_EQ(EncodeFrame(""), std::string("\0\0\0\0", 4));
  const auto header = EncodeFrameHeader(0x01020304);
  EXPECT_EQ(std::string(header.data(), header.size()), "\x04\x03\x02\x01");
}

TEST(FrameCodecTest, DecodesHandshakeAndFramesInOneFeed) {
  FrameDecoder decoder;
  std::vector<std::string> frames;
  EXPECT_FALSE(decoder.handshake_done());
  ASSERT_TRUE(decoder.Feed(Wire(7, {"a", "", "hello"}), frames).ok());
  EXPECT_TRUE(decoder.handshake_done());
  EXPECT_EQ(decoder.peer(), 7u);
  EXPECT_THAT(frames, ElementsAre("a", "", "hello"));
  EXPECT_EQ(decoder.buffered_bytes(), 0u);
}

TEST(FrameCodecTest, SplitAtEveryByteGivesTheSameFrames) {
  const std::vector<std::string> payloads = {"first", "", std::string(300, 'x'), "last"};
  const std::string wire = Wire(42, payloads);
  for (size_t cut = 0; cut <= wire.size(); ++cut) {
    FrameDecoder decoder;
    std::vector<std::string> frames;
    ASSERT_TRUE(decoder.Feed(std::string_view(wire).substr(0, cut), frames).ok()) << cut;
    ASSERT_TRUE(decoder.Feed(std::string_view(wire).substr(cut), frames).ok()) << cut;
    EXPECT_EQ(frames, payloads) << "cut at " << cut;
    EXPECT_EQ(decoder.peer(), 42u);
  }
  FrameDecoder bytewise;
  std::vector<std::string> frames;
  for (char c : wire) ASSERT_TRUE(bytewise.Feed(std::string_view(&c, 1), frames).ok());
  EXPECT_EQ(frames, payloads);
}

TEST(FrameCodecTest, RejectsAStreamThatDoesNotStartWithAHandshake) {
  FrameDecoder decoder;
  std::vector<std::string> frames;
  absl::Status s = decoder.Feed(EncodeFrame("no handshake"), frames);
  EXPECT_TRUE(absl::IsInvalidArgument(s));
  EXPECT_THAT(std::string(s.message()), HasSubstr("handshake"));
  EXPECT_THAT(frames, IsEmpty());
}

TEST(FrameCodecTest, RejectsBadMagicAndPeerZero) {
  std::string bad_magic = EncodeHandshake(5);
  bad_magic[4] = 'X';
  FrameDecoder a;
  std::vector<std::string> frames;
  EXPECT_THAT(std::string(a.Feed(bad_magic + EncodeFrame("x"), frames).message()), HasSubstr("magic"));
  FrameDecoder b;
  EXPECT_THAT(std::string(b.Feed(Wire(0, {"x"}), frames).message()), HasSubstr("peer id 0"));
  EXPECT_THAT(frames, IsEmpty());
  FrameDecoder c;
  EXPECT_FALSE(c.Feed("GET / HTTP/1.1\r\nHost: x\r\n\r\n", frames).ok());
}

TEST(FrameCodecTest, OversizeFrameIsRejectedBeforeItsBodyIsBuffered) {
  FrameDecoder decoder(/*max_frame_bytes=*/16);
  std::vector<std::string> frames;
  ASSERT_TRUE(decoder.Feed(Wire(1, {std::string(16, 'a')}), frames).ok());  // exactly the limit
  EXPECT_THAT(frames, ElementsAre(std::string(16, 'a')));
  const auto header = EncodeFrameHeader(17);
  absl::Status s = decoder.Feed(std::string(header.data(), header.size()) + std::string(1000, 'b'), frames);
  EXPECT_TRUE(absl::IsInvalidArgument(s));
  EXPECT_THAT(std::string(s.message()), HasSubstr("exceeds"));
  EXPECT_LE(decoder.buffered_bytes(), kFrameHeaderBytes);
  EXPECT_EQ(frames.size(), 1u);
  const auto huge = EncodeFrameHeader(0xFFFFFFFF);
  FrameDecoder fresh;  // the default 64 MiB limit rejects a 4 GiB length up front
  EXPECT_FALSE(fresh.Feed(EncodeHandshake(1) + std::string(huge.data(), huge.size()), frames).ok());
  EXPECT_LE(fresh.buffered_bytes(), kFrameHeaderBytes);
}

TEST(FrameCodecTest, ErrorsAreStickyAndEarlierFramesSurvive) {
  FrameDecoder decoder(/*max_frame_bytes=*/8);
  std::vector<std::string> frames;
  const auto oversize = EncodeFrameHeader(9);
  const std::string wire =
      Wire(3, {"ok"}) + std::string(oversize.data(), oversize.size()) + EncodeFrame("after");
  EXPECT_FALSE(decoder.Feed(wire, frames).ok());
  EXPECT_THAT(frames, ElementsAre("ok"));
  EXPECT_FALSE(decoder.Feed(EncodeFrame("more"), frames).ok());
  EXPECT_FALSE(decoder.status().ok());
  EXPECT_THAT(frames, ElementsAre("ok"));
}

TEST(FrameCodecTest, ProbeLayoutDiffersFromTheHandshakeOnlyInTheMagic) {
  EXPECT_EQ(EncodeProbe(0x0102030405060708),
            std::string("\x0c\0\0\0QDPQ\x08\x07\x06\x05\x04\x03\x02\x01", 16));
}

TEST(FrameCodecTest, DecodesAProbeAndTheHandshakeThatAnswersIt) {
  FrameDecoder acceptor;
  std::vector<std::string> frames;
  ASSERT_TRUE(acceptor.Feed(EncodeProbe(9), frames).ok());
  EXPECT_TRUE(acceptor.probe());
  EXPECT_TRUE(acceptor.handshake_done());
  EXPECT_EQ(acceptor.peer(), 9u);
  EXPECT_THAT(frames, IsEmpty());
  EXPECT_EQ(acceptor.buffered_bytes(), 0u);
  ASSERT_TRUE(acceptor.Feed("", frames).ok());  // nothing more is fine

  FrameDecoder prober;  // the answer is exactly a handshake
  ASSERT_TRUE(prober.Feed(EncodeHandshake(2), frames).ok());
  EXPECT_FALSE(prober.probe());
  EXPECT_EQ(prober.peer(), 2u);
  EXPECT_THAT(frames, IsEmpty());

  FrameDecoder plain;
  ASSERT_TRUE(plain.Feed(Wire(3, {"x"}), frames).ok());
  EXPECT_FALSE(plain.probe());
}

TEST(FrameCodecTest, AnythingAfterAProbeIsRejected) {
  FrameDecoder together;
  std::vector<std::string> frames;
  absl::Status s = together.Feed(EncodeProbe(9) + EncodeFrame("x"), frames);
  EXPECT_TRUE(absl::IsInvalidArgument(s));
  EXPECT_THAT(std::string(s.message()), HasSubstr("probe"));
  EXPECT_THAT(frames, IsEmpty());

  FrameDecoder later;  // one more byte in a later Feed is enough
  ASSERT_TRUE(later.Feed(EncodeProbe(9), frames).ok());
  EXPECT_FALSE(later.Feed(std::string(1, '\0'), frames).ok());
  EXPECT_FALSE(later.Feed(EncodeFrame("x"), frames).ok());  // sticky
  EXPECT_THAT(frames, IsEmpty());

  FrameDecoder twice;  // not even a second probe or a handshake
  EXPECT_FALSE(twice.Feed(EncodeProbe(9) + EncodeHandshake(9), frames).ok());
  FrameDecoder after_handshake;  // and a probe frame after a handshake is just a message
  ASSERT_TRUE(after_handshake.Feed(EncodeHandshake(4) + EncodeFrame(EncodeProbe(9)), frames).ok());
  EXPECT_FALSE(after_handshake.probe());
  EXPECT_THAT(frames, ElementsAre(EncodeProbe(9)));
}

TEST(FrameCodecTest, ProbeFromPeerZeroIsRejected) {
  FrameDecoder decoder;
  std::vector<std::string> frames;
  EXPECT_THAT(std::string(decoder.Feed(EncodeProbe(0), frames).message()), HasSubstr("peer id 0"));
  EXPECT_FALSE(decoder.probe());
  EXPECT_FALSE(decoder.handshake_done());
}

TEST(FrameCodecTest, ProbeSplitAtEveryByte) {
  const std::string probe = EncodeProbe(77);
  for (size_t cut = 0; cut <= probe.size(); ++cut) {
    FrameDecoder decoder;
    std::vector<std::string> frames;
    ASSERT_TRUE(decoder.Feed(std::string_view(probe).substr(0, cut), frames).ok()) << cut;
    EXPECT_EQ(decoder.probe(), cut == probe.size()) << cut;
    ASSERT_TRUE(decoder.Feed(std::string_view(probe).substr(cut), frames).ok()) << cut;
    EXPECT_TRUE(decoder.probe()) << cut;
    EXPECT_EQ(decoder.peer(), 77u);
    EXPECT_THAT(frames, IsEmpty());
  }
  // With a frame after it, every split fails once the byte after the probe arrives, never earlier,
  // and yields nothing.
  const std::string wire = probe + EncodeFrame("extra");
  for (size_t cut = 0; cut <= wire.size(); ++cut) {
    FrameDecoder decoder;
    std::vector<std::string> frames;
    EXPECT_EQ(decoder.Feed(std::string_view(wire).substr(0, cut), frames).ok(), cut <= probe.size()) << cut;
    EXPECT_FALSE(decoder.Feed(std::string_view(wire).substr(cut), frames).ok()) << cut;
    EXPECT_TRUE(decoder.probe()) << cut;
    EXPECT_THAT(frames, IsEmpty()) << cut;
  }
  FrameDecoder bytewise;
  std::vector<std::string> frames;
  for (size_t i = 0; i < wire.size(); ++i) {
    EXPECT_EQ(bytewise.Feed(std::string_view(wire).substr(i, 1), frames).ok(), i < probe.size()) << i;
  }
  EXPECT_THAT(frames, IsEmpty());
}

TEST(FrameCodecTest, TheHandshakeMayAdvertiseAUriUpTo255Bytes) {
  EXPECT_EQ(EncodeHandshake(1, "http://a:1/"), std::string("\x17\0\0\0QDP1\x01\0\0\0\0\0\0\0http://a:1/", 27));
  for (const std::string uri : {std::string("http://10.0.0.2:6335/"), std::string(kMaxAdvertisedUriBytes, 'u')}) {
    const std::string wire = EncodeHandshake(9, uri) + EncodeFrame("m");
    for (size_t cut = 0; cut <= wire.size(); ++cut) {
      FrameDecoder decoder(/*max_frame_bytes=*/2);
      std::vector<std::string> frames;
      ASSERT_TRUE(decoder.Feed(std::string_view(wire).substr(0, cut), frames).ok()) << cut;
      ASSERT_TRUE(decoder.Feed(std::string_view(wire).substr(cut), frames).ok()) << cut;
      EXPECT_EQ(decoder.peer(), 9u);
      EXPECT_EQ(decoder.advertised_uri(), uri);
      EXPECT_THAT(frames, ElementsAre("m"));
    }
  }
  // One byte more than the bound, and a probe with a tail, break the format.
  std::string over = EncodeHandshake(9);
  over[0] = static_cast<char>(kHandshakeBodyBytes + kMaxAdvertisedUriBytes + 1);
  over += std::string(kMaxAdvertisedUriBytes + 1, 'u');
  FrameDecoder too_long;
  std::vector<std::string> frames;
  EXPECT_FALSE(too_long.Feed(over, frames).ok());
  std::string probe = EncodeProbe(9);
  probe[0] = static_cast<char>(kHandshakeBodyBytes + 3);
  probe += "abc";
  FrameDecoder long_probe;
  const absl::Status s = long_probe.Feed(probe, frames);
  EXPECT_FALSE(s.ok());
  EXPECT_THAT(std::string(s.message()), HasSubstr("probe"));
}

TEST(FrameCodecTest, HandshakeIsAcceptedUnderALimitSmallerThanItself) {
  FrameDecoder decoder(/*max_frame_bytes=*/2);
  std::vector<std::string> frames;
  ASSERT_TRUE(decoder.Feed(Wire(5, {"ab"}), frames).ok());
  EXPECT_EQ(decoder.peer(), 5u);
  EXPECT_THAT(frames, ElementsAre("ab"));
  EXPECT_EQ(FrameDecoder::MaxBufferedBytes(2), kFrameHeaderBytes + kHandshakeBodyBytes + kMaxAdvertisedUriBytes);
  EXPECT_EQ(FrameDecoder::MaxBufferedBytes(1000), kFrameHeaderBytes + 1000);
}

RC_GTEST_PROP(FrameCodecProperty, AnySplitRoundTrips,
              (world::PeerId sender, std::vector<std::string> payloads, std::vector<uint8_t> cuts)) {
  RC_PRE(sender != 0);
  const std::string wire = Wire(sender, payloads);
  FrameDecoder decoder;
  std::vector<std::string> frames;
  size_t at = 0;
  for (uint8_t cut : cuts) {
    const size_t n = std::min<size_t>(cut, wire.size() - at);
    RC_ASSERT(decoder.Feed(std::string_view(wire).substr(at, n), frames).ok());
    at += n;
  }
  RC_ASSERT(decoder.Feed(std::string_view(wire).substr(at), frames).ok());
  RC_ASSERT(frames == payloads);
  RC_ASSERT(decoder.peer() == sender);
  RC_ASSERT(decoder.buffered_bytes() == 0u);
}

RC_GTEST_PROP(FrameCodecProperty, GarbageNeverExceedsTheLimit, (std::string garbage, uint8_t limit)) {
  FrameDecoder decoder(limit);
  std::vector<std::string> frames;
  const absl::Status s = decoder.Feed(garbage, frames);
  for (const std::string& f : frames) RC_ASSERT(f.size() <= limit);
  RC_ASSERT(decoder.buffered_bytes() <= FrameDecoder::MaxBufferedBytes(limit));
  if (!frames.empty()) RC_ASSERT(decoder.handshake_done());
  if (decoder.probe()) RC_ASSERT(frames.empty());
  RC_ASSERT(s.ok() == decoder.status().ok());
}

}  // namespace
}  // namespace qdsim::real
