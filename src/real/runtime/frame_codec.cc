#include "real/runtime/frame_codec.h"

#include <algorithm>

#include "absl/strings/str_cat.h"

namespace qdsim::real {
namespace {

uint64_t GetLittleEndian(std::string_view bytes) {
  uint64_t v = 0;
  for (size_t i = 0; i < bytes.size(); ++i) {
    v |= static_cast<uint64_t>(static_cast<unsigned char>(bytes[i])) << (8 * i);
  }
  return v;
}

void PutLittleEndian(std::string& out, uint64_t v, int bytes) {
  for (int i = 0; i < bytes; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xFF));
}

}  // namespace

std::array<char, kFrameHeaderBytes> EncodeFrameHeader(uint32_t payload_bytes) {
  std::array<char, kFrameHeaderBytes> header;
  for (size_t i = 0; i < kFrameHeaderBytes; ++i)
    header[i] = static_cast<char>((payload_bytes >> (8 * i)) & 0xFF);
  return header;
}

namespace {

std::string EncodeHello(std::string_view magic, world::PeerId id, std::string_view uri) {
  std::string out;
  PutLittleEndian(out, kHandshakeBodyBytes + uri.size(), 4);
  out.append(magic);
  PutLittleEndian(out, id, 8);
  out.append(uri);
  return out;
}

}  // namespace

std::string EncodeHandshake(world::PeerId sender, std::string_view uri) {
  return EncodeHello(kHandshakeMagic, sender, uri);
}

std::string EncodeProbe(world::PeerId prober) { return EncodeHello(kProbeMagic, prober, {}); }

void AppendFrame(std::string& out, std::string_view payload) {
  const auto header = EncodeFrameHeader(static_cast<uint32_t>(payload.size()));
  out.append(header.data(), header.size());
  out.append(payload);
}

std::string EncodeFrame(std::string_view payload) {
  std::string out;
  out.reserve(kFrameHeaderBytes + payload.size());
  AppendFrame(out, payload);
  return out;
}

absl::Status FrameDecoder::Feed(std::string_view data, std::vector<std::string>& frames) {
  while (status_.ok() && !data.empty()) {
    if (probe_) {
      status_ = absl::InvalidArgumentError("peer probe followed by more data");
    } else if (header_have_ < kFrameHeaderBytes) {
      ConsumeHeader(data, frames);
    } else {
      ConsumeBody(data, frames);
    }
  }
  return status_;
}

void FrameDecoder::ConsumeHeader(std::string_view& data, std::vector<std::string>& frames) {
  const size_t take = std::min(kFrameHeaderBytes - header_have_, data.size());
  std::copy_n(data.data(), take, header_.data() + header_have_);
  header_have_ += take;
  data.remove_prefix(take);
  if (header_have_ < kFrameHeaderBytes) return;
  length_ = static_cast<uint32_t>(GetLittleEndian(std::string_view(header_.data(), header_.size())));
  if (!handshake_done()) {
    // The handshake has bounds of its own, whatever the limit for messages.
    if (length_ < kHandshakeBodyBytes || length_ > kHandshakeBodyBytes + kMaxAdvertisedUriBytes) {
      status_ = absl::InvalidArgumentError(
          absl::StrCat("peer stream does not start with a handshake (first frame of ", length_, " bytes)"));
    }
  } else if (length_ > max_frame_bytes_) {
    status_ = absl::InvalidArgumentError(
        absl::StrCat("peer frame of ", length_, " bytes exceeds the limit of ", max_frame_bytes_));
  } else if (length_ == 0) {
    FinishFrame(std::string(), frames);
  }
}

void FrameDecoder::ConsumeBody(std::string_view& data, std::vector<std::string>& frames) {
  const size_t need = length_ - body_.size();
  if (body_.empty() && data.size() >= need) {
    // The whole frame is at hand: one copy, no buffering.
    std::string body(data.substr(0, need));
    data.remove_prefix(need);
    FinishFrame(std::move(body), frames);
    return;
  }
  // Reserving the whole (checked) length at once: large blocks are mapped lazily, so memory is
  // committed only as bytes actually arrive, and the string never grows past the limit.
  if (body_.empty()) body_.reserve(length_);
  const size_t take = std::min(need, data.size());
  body_.append(data.data(), take);
  data.remove_prefix(take);
  if (body_.size() == length_) FinishFrame(std::exchange(body_, std::string()), frames);
}

void FrameDecoder::FinishFrame(std::string body, std::vector<std::string>& frames) {
  header_have_ = 0;
  length_ = 0;
  if (handshake_done()) {
    frames.push_back(std::move(body));
    return;
  }
  const std::string_view view(body);
  const std::string_view magic = view.substr(0, kHandshakeMagic.size());
  const world::PeerId peer = GetLittleEndian(view.substr(kHandshakeMagic.size(), 8));
  if (magic != kHandshakeMagic && magic != kProbeMagic) {
    status_ = absl::InvalidArgumentError("peer handshake has a bad magic");
  } else if (peer == 0) {
    status_ = absl::InvalidArgumentError("peer handshake announces peer id 0");
  } else if (magic == kProbeMagic && view.size() != kHandshakeBodyBytes) {
    status_ = absl::InvalidArgumentError(absl::StrCat("peer probe of ", view.size(), " bytes"));
  } else {
    peer_ = peer;
    probe_ = magic == kProbeMagic;
    uri_ = std::string(view.substr(kHandshakeBodyBytes));
  }
}

}  // namespace qdsim::real
