#include "real/http/request.h"

#include <algorithm>
#include <cstdio>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"

namespace qdsim::http {
namespace {

// tchar of RFC 9110 §5.6.2: what a header name may be made of.
bool IsTokenChar(char c) {
  return absl::ascii_isalnum(static_cast<unsigned char>(c)) ||
         std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

// Header fields the serializer writes itself; copies from `headers` would contradict them.
bool IsOwnedBySerializer(std::string_view name) {
  return EqualsIgnoreCase(name, "Content-Length") || EqualsIgnoreCase(name, "Transfer-Encoding") ||
         EqualsIgnoreCase(name, "Connection") || EqualsIgnoreCase(name, "Content-Type");
}

// A header value with the bytes that would end the field (or confuse a client) replaced by spaces.
std::string SanitizedValue(std::string_view value) {
  std::string out(value);
  for (char& c : out) {
    if (c == '\r' || c == '\n' || c == '\0') c = ' ';
  }
  return out;
}

// Statuses whose responses never carry content (RFC 9110 §6.4.1).
bool StatusHasNoBody(int status) { return status < 200 || status == 204 || status == 304; }

}  // namespace

void HttpHeaders::Add(std::string_view name, std::string_view value) {
  entries_.push_back(HttpHeader{std::string(name), std::string(value)});
}

void HttpHeaders::Set(std::string_view name, std::string_view value) {
  Remove(name);
  Add(name, value);
}

size_t HttpHeaders::Remove(std::string_view name) {
  const auto removed = std::remove_if(entries_.begin(), entries_.end(),
                                      [&](const HttpHeader& h) { return EqualsIgnoreCase(h.name, name); });
  const size_t count = entries_.end() - removed;
  entries_.erase(removed, entries_.end());
  return count;
}

std::optional<std::string_view> HttpHeaders::Get(std::string_view name) const {
  for (const HttpHeader& h : entries_) {
    if (EqualsIgnoreCase(h.name, name)) return std::string_view(h.value);
  }
  return std::nullopt;
}

std::vector<std::string_view> HttpHeaders::GetAll(std::string_view name) const {
  std::vector<std::string_view> values;
  for (const HttpHeader& h : entries_) {
    if (EqualsIgnoreCase(h.name, name)) values.push_back(h.value);
  }
  return values;
}

size_t HttpHeaders::Count(std::string_view name) const {
  return std::count_if(entries_.begin(), entries_.end(),
                       [&](const HttpHeader& h) { return EqualsIgnoreCase(h.name, name); });
}

bool HttpHeaders::HasToken(std::string_view name, std::string_view token) const {
  for (std::string_view value : GetAll(name)) {
    for (std::string_view item : ListItems(value)) {
      if (EqualsIgnoreCase(item, token)) return true;
    }
  }
  return false;
}

std::optional<std::string_view> HttpRequest::QueryValue(std::string_view name) const {
  for (const auto& [key, value] : query) {
    if (key == name) return std::string_view(value);
  }
  return std::nullopt;
}

HttpResponse HttpResponse::Json(int status, std::string json) {
  HttpResponse response;
  response.status = status;
  response.body = std::move(json);
  return response;
}

HttpResponse HttpResponse::Error(int status, std::string_view message) {
  return Json(status, R"({"status":{"error":")" + JsonEscape(message) + R"("},"time":0.0})");
}

bool HttpResponse::AsksToClose() const { return headers.HasToken("Connection", "close"); }

std::string HttpResponse::Serialize(const ResponseFraming& framing) const {
  const int code = status >= 100 && status <= 599 ? status : 500;
  const bool bodiless = StatusHasNoBody(code);
  std::string out = absl::StrCat("HTTP/1.1 ", code, " ");
  out.append(ReasonPhrase(code)).append("\r\n");
  for (const HttpHeader& h : headers) {
    if (!IsToken(h.name) || IsOwnedBySerializer(h.name)) continue;
    absl::StrAppend(&out, h.name, ": ", SanitizedValue(h.value), "\r\n");
  }
  if (!bodiless) {
    if (!content_type.empty()) absl::StrAppend(&out, "Content-Type: ", SanitizedValue(content_type), "\r\n");
    absl::StrAppend(&out, "Content-Length: ", body.size(), "\r\n");
  }
  if (framing.close) {
    out += "Connection: close\r\n";
  } else if (framing.keep_alive_header) {
    out += "Connection: keep-alive\r\n";
  }
  out += "\r\n";
  if (!bodiless && !framing.head) out += body;
  return out;
}

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return absl::ascii_tolower(static_cast<unsigned char>(x)) ==
                  absl::ascii_tolower(static_cast<unsigned char>(y));
         });
}

std::vector<std::string_view> ListItems(std::string_view value) {
  std::vector<std::string_view> items;
  while (true) {
    const size_t comma = value.find(',');
    std::string_view item = value.substr(0, comma);
    while (!item.empty() && (item.front() == ' ' || item.front() == '\t')) item.remove_prefix(1);
    while (!item.empty() && (item.back() == ' ' || item.back() == '\t')) item.remove_suffix(1);
    if (!item.empty()) items.push_back(item);
    if (comma == std::string_view::npos) return items;
    value.remove_prefix(comma + 1);
  }
}

bool IsToken(std::string_view s) { return !s.empty() && std::all_of(s.begin(), s.end(), IsTokenChar); }

std::string_view ReasonPhrase(int status) {
  switch (status) {
    case 100: return "Continue";
    case 101: return "Switching Protocols";
    case 200: return "OK";
    case 201: return "Created";
    case 202: return "Accepted";
    case 204: return "No Content";
    case 206: return "Partial Content";
    case 301: return "Moved Permanently";
    case 302: return "Found";
    case 304: return "Not Modified";
    case 307: return "Temporary Redirect";
    case 308: return "Permanent Redirect";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 406: return "Not Acceptable";
    case 408: return "Request Timeout";
    case 409: return "Conflict";
    case 410: return "Gone";
    case 411: return "Length Required";
    case 412: return "Precondition Failed";
    case 413: return "Payload Too Large";
    case 414: return "URI Too Long";
    case 415: return "Unsupported Media Type";
    case 416: return "Range Not Satisfiable";
    case 417: return "Expectation Failed";
    case 422: return "Unprocessable Entity";
    case 426: return "Upgrade Required";
    case 429: return "Too Many Requests";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    case 505: return "HTTP Version Not Supported";
    default: return "Unknown";
  }
}

std::string JsonEscape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          char escaped[8];
          std::snprintf(escaped, sizeof(escaped), "\\u%04x", static_cast<unsigned char>(c));
          out += escaped;
        } else {
          out.push_back(c);
        }
    }
  }
  return out;
}

bool KeepAlive(HttpVersion version, const HttpHeaders& headers) {
  if (headers.HasToken("Connection", "close")) return false;
  return version == HttpVersion::kHttp11 || headers.HasToken("Connection", "keep-alive");
}

}  // namespace qdsim::http
