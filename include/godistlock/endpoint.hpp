// Network addresses as users write them: HOST:PORT, and lists of them.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace godistlock::net {

struct Endpoint {
  std::string host; // an IPv6 address without its brackets
  uint16_t port = 0;
  std::string to_string() const; // HOST:PORT, [IPV6]:PORT
  friend bool operator==(const Endpoint& a, const Endpoint& b) {
    return a.host == b.host && a.port == b.port;
  }
};

// "127.0.0.1:7001", "host.example:7001", "[::1]:7001" -> Endpoint. The host
// is a DNS name, an IPv4 address or a bracketed IPv6 address; port 1-65535
// (0 allowed only if `allow_any_port`, meaning "let the OS pick"). nullopt
// on anything else ("n1@host:7001", "http://host:7001", "::1:7001").
std::optional<Endpoint> parse_endpoint(std::string_view text, bool allow_any_port = false);

// Calls `item` for every comma-separated part of `text` (none for an empty
// text); stops and returns false as soon as `item` does.
bool for_each_list_item(std::string_view text, const std::function<bool(std::string_view)>& item);

// Comma-separated endpoints; empty items are errors. nullopt on any bad
// item, which is then copied to `bad_entry` (if given).
std::optional<std::vector<Endpoint>> parse_endpoint_list(std::string_view text,
                                                         std::string* bad_entry = nullptr);

} // namespace godistlock::net
