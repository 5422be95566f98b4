#include "real/config/peer_uri.h"

#include <arpa/inet.h>

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace qdsim::config {
namespace {

constexpr std::string_view kScheme = "http://";

absl::Status Bad(std::string_view text, std::string_view why) {
  return absl::InvalidArgumentError(absl::StrCat("invalid peer URI \"", std::string(text),
                                                 "\": ", std::string(why), " (expected http://host:port)"));
}

bool IsDigits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// RFC 1123 host name: dot-separated labels of letters, digits and '-', 1-63 characters each, not
// starting or ending with '-'; at most 253 characters in all.
bool IsHostName(std::string_view host) {
  if (host.empty() || host.size() > 253) return false;
  size_t start = 0;
  while (start <= host.size()) {
    size_t end = host.find('.', start);
    if (end == std::string_view::npos) end = host.size();
    std::string_view label = host.substr(start, end - start);
    if (label.empty() || label.size() > 63 || label.front() == '-' || label.back() == '-') return false;
    for (char c : label) {
      if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '-') return false;
    }
    start = end + 1;
  }
  return true;
}

bool IsAddress(int family, const std::string& text) {
  unsigned char buf[16];
  return inet_pton(family, text.c_str(), buf) == 1;
}

// Splits "host:port", "[v6]:port", "host" or "[v6]" into the PeerUri fields.
absl::Status ParseAuthority(std::string_view text, std::string_view authority, PeerUri& uri) {
  std::string_view port_part;
  bool has_port = false;
  if (!authority.empty() && authority.front() == '[') {
    const size_t close = authority.find(']');
    if (close == std::string_view::npos) return Bad(text, "unterminated '[' in the host");
    uri.host = absl::AsciiStrToLower(std::string(authority.substr(1, close - 1)));
    if (!IsAddress(AF_INET6, uri.host)) return Bad(text, "the bracketed host is not an IPv6 address");
    std::string_view rest = authority.substr(close + 1);
    if (!rest.empty()) {
      if (rest.front() != ':') return Bad(text, "unexpected characters after the IPv6 address");
      has_port = true;
      port_part = rest.substr(1);
    }
  } else {
    const size_t colon = authority.find(':');
    if (colon != std::string_view::npos) {
      if (authority.find(':', colon + 1) != std::string_view::npos) {
        return Bad(text, "an IPv6 host must be written in brackets");
      }
      has_port = true;
      port_part = authority.substr(colon + 1);
      authority = authority.substr(0, colon);
    }
    if (authority.empty()) return Bad(text, "the host is missing");
    uri.host = absl::AsciiStrToLower(std::string(authority));
    const bool numeric = std::all_of(uri.host.begin(), uri.host.end(),
                                     [](char c) { return c == '.' || (c >= '0' && c <= '9'); });
    if (numeric ? !IsAddress(AF_INET, uri.host) : !IsHostName(uri.host)) {
      return Bad(text, "the host is neither a host name nor an IP address");
    }
  }
  if (has_port) {
    if (!IsDigits(port_part) || port_part.size() > 5) return Bad(text, "the port is not a number");
    const int port = std::stoi(std::string(port_part));
    if (port < 1 || port > 65535) return Bad(text, "the port is out of range (1-65535)");
    uri.port = static_cast<uint16_t>(port);
  }
  return absl::OkStatus();
}

}  // namespace

std::string PeerUri::HostPort() const {
  if (host.find(':') != std::string::npos) return absl::StrCat("[", host, "]:", port);
  return absl::StrCat(host, ":", port);
}

std::string PeerUri::ToString() const { return absl::StrCat("http://", HostPort(), "/"); }

absl::StatusOr<PeerUri> ParsePeerUri(std::string_view text) {
  if (text.size() < kScheme.size() ||
      !absl::EqualsIgnoreCase(absl::string_view(text.data(), kScheme.size()),
                              absl::string_view(kScheme.data(), kScheme.size()))) {
    if (text.find("://") != std::string_view::npos) return Bad(text, "the scheme must be http://");
    return Bad(text, "the http:// scheme is missing");
  }
  std::string_view rest = text.substr(kScheme.size());
  const size_t end = rest.find_first_of("/?#");
  std::string_view authority = rest.substr(0, end);
  if (end != std::string_view::npos && rest.substr(end) != "/") {
    return Bad(text, "a peer URI has no path, query or fragment");
  }
  if (authority.find('@') != std::string_view::npos) return Bad(text, "user info is not allowed");
  PeerUri uri;
  if (absl::Status s = ParseAuthority(text, authority, uri); !s.ok()) return s;
  return uri;
}

}  // namespace qdsim::config
