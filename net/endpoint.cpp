#include "net/endpoint.hpp"

#include <charconv>

namespace godistlock::net {

std::optional<Endpoint> parse_endpoint(std::string_view text, bool allow_any_port) {
  auto colon = text.rfind(':');
  if (colon == std::string_view::npos || colon == 0 || colon + 1 == text.size())
    return std::nullopt;
  auto host = text.substr(0, colon);
  auto port_text = text.substr(colon + 1);
  for (char c : host)
    if (c <= ' ' || c == ',' || c == 0x7f)
      return std::nullopt;
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

std::optional<std::vector<Endpoint>> parse_endpoint_list(std::string_view text) {
  std::vector<Endpoint> out;
  bool ok = for_each_list_item(text, [&](std::string_view part) {
    auto ep = parse_endpoint(part);
    if (ep)
      out.push_back(*ep);
    return ep.has_value();
  });
  if (!ok)
    return std::nullopt;
  return out;
}

} // namespace godistlock::net
