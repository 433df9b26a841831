#include "net/membership.hpp"

#include <algorithm>
#include <set>

namespace godistlock::net {

uint64_t stable_hash(std::string_view text) {
  uint64_t h = 0xcbf29ce484222325ull;
  for (unsigned char c : text) {
    h ^= c;
    h *= 0x100000001b3ull;
  }
  return h;
}

std::vector<std::string> Membership::describe() const {
  std::vector<std::string> out{self_id + "@" + self_endpoint.to_string()};
  for (auto& p : peers)
    out.push_back(p.id.empty() ? p.endpoint.to_string() : p.id + "@" + p.endpoint.to_string());
  return out;
}

std::optional<std::vector<Member>> parse_peer_list(std::string_view text) {
  std::vector<Member> out;
  bool ok = for_each_list_item(text, [&](std::string_view part) {
    Member m;
    if (auto at = part.find('@'); at != std::string_view::npos) {
      m.id = std::string(part.substr(0, at));
      part = part.substr(at + 1);
      if (m.id.empty())
        return false;
    }
    auto ep = parse_endpoint(part);
    if (!ep)
      return false;
    m.endpoint = *ep;
    out.push_back(std::move(m));
    return true;
  });
  if (!ok)
    return std::nullopt;
  return out;
}

std::optional<Membership> make_membership(const std::string& self_id, const Endpoint& listen,
                                          std::vector<Member> peers, std::string& error) {
  Membership m{self_id, listen, std::move(peers), 0};
  std::set<std::string> endpoints{listen.to_string()};
  std::set<std::string> ids{self_id};
  bool all_named = true;
  for (auto& p : m.peers) {
    if (!endpoints.insert(p.endpoint.to_string()).second) {
      error = "--peers lists " + p.endpoint.to_string() + " twice (or lists this node itself)";
      return std::nullopt;
    }
    if (p.id.empty())
      all_named = false;
    else if (!ids.insert(p.id).second) {
      error = "--peers names node id '" + p.id + "' twice (or names this node itself)";
      return std::nullopt;
    }
  }
  // With ids for everyone the identity is the id set (a peer may be dialed
  // through a proxy); otherwise it is the set of addresses.
  std::string canonical = std::to_string(m.size()) + "|";
  for (auto& item : all_named ? ids : endpoints)
    canonical += item + ",";
  m.digest = stable_hash(canonical);
  return m;
}

} // namespace godistlock::net
