// Who is in the cluster. Every node is started with the same member list:
// `--listen` is itself, `--peers` the others, as HOST:PORT or ID@HOST:PORT.
// The digest lets nodes refuse to vote with a node whose list differs: two
// different lists could each "have a majority".
#pragma once

#include "net/endpoint.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace godistlock::net {

struct Member {
  std::string id; // empty when the peer was given as plain HOST:PORT
  Endpoint endpoint;
};

struct Membership {
  std::string self_id;
  Endpoint self_endpoint;
  std::vector<Member> peers;
  uint64_t digest = 0;

  size_t size() const { return peers.size() + 1; }
  size_t quorum() const { return size() / 2 + 1; }
  // "id@host:port" for this node, "host:port" or "id@host:port" for peers.
  std::vector<std::string> describe() const;
};

// Parses "HOST:PORT,ID@HOST:PORT,..."; nullopt on any bad item.
std::optional<std::vector<Member>> parse_peer_list(std::string_view text);

// Builds the membership and its digest. Returns an error message (and no
// membership) for duplicates or when this node lists itself as a peer.
std::optional<Membership> make_membership(const std::string& self_id, const Endpoint& listen,
                                          std::vector<Member> peers, std::string& error);

// A stable 64-bit hash (FNV-1a), identical in every process and build.
uint64_t stable_hash(std::string_view text);

} // namespace godistlock::net
