#include "net/endpoint.hpp"

#include <arpa/inet.h>
#include <charconv>

namespace godistlock::net {

namespace {

bool is_host_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
         c == '-' || c == '_';
}

// A DNS name or dotted IPv4 address: no scheme, no "ID@", no path.
bool is_host_name(std::string_view host) {
  if (host.empty() || host.size() > 253 || host.front() == '-' || host.front() == '.')
    return false;
  for (char c : host)
    if (!is_host_char(c))
      return false;
  return true;
}

// The inside of "[...]": hex digits, colons and an IPv4 tail, as in ::1 or
// ::ffff:127.0.0.1 (getaddrinfo judges the rest).
bool is_ipv6_literal(std::string_view host) {
  if (host.size() < 2 || host.size() > 45 || host.find(':') == std::string_view::npos)
    return false;
  for (char c : host)
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F') || c == ':' ||
          c == '.'))
      return false;
  return true;
}

} // namespace

std::string Endpoint::to_string() const {
  auto port_text = std::to_string(port);
  if (host.find(':') != std::string::npos)
    return "[" + host + "]:" + port_text;
  return host + ":" + port_text;
}

std::optional<Endpoint> parse_endpoint(std::string_view text, bool allow_any_port) {
  auto colon = text.rfind(':');
  if (colon == std::string_view::npos || colon == 0 || colon + 1 == text.size())
    return std::nullopt;
  auto host = text.substr(0, colon);
  auto port_text = text.substr(colon + 1);
  if (host.front() == '[') {
    if (host.back() != ']')
      return std::nullopt;
    host = host.substr(1, host.size() - 2);
    if (!is_ipv6_literal(host))
      return std::nullopt;
  } else if (!is_host_name(host)) {
    return std::nullopt;
  }
  unsigned port = 0;
  auto [end, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (ec != std::errc{} || end != port_text.data() + port_text.size() || port > 65535 ||
      (port == 0 && !allow_any_port))
    return std::nullopt;
  return Endpoint{std::string(host), static_cast<uint16_t>(port)};
}

bool for_each_list_item(std::string_view text, const std::function<bool(std::string_view)>& item) {
  if (text.empty())
    return true;
  size_t start = 0;
  for (;;) {
    auto comma = text.find(',', start);
    if (!item(text.substr(start, comma == std::string_view::npos ? text.npos : comma - start)))
      return false;
    if (comma == std::string_view::npos)
      return true;
    start = comma + 1;
  }
}

std::optional<std::vector<Endpoint>> parse_endpoint_list(std::string_view text,
                                                         std::string* bad_entry) {
  std::vector<Endpoint> out;
  bool ok = for_each_list_item(text, [&](std::string_view part) {
    auto ep = parse_endpoint(part);
    if (ep)
      out.push_back(*ep);
    else if (bad_entry)
      *bad_entry = std::string(part);
    return ep.has_value();
  });
  if (!ok)
    return std::nullopt;
  return out;
}

bool is_ip_or_localhost(const std::string& host) {
  unsigned char address[sizeof(in6_addr)];
  return host == "localhost" || inet_pton(AF_INET, host.c_str(), address) == 1 ||
         inet_pton(AF_INET6, host.c_str(), address) == 1;
}

} // namespace godistlock::net
