// The cluster actor: one per node. Connects to every peer with CAF remote
// actors, reconnects with back-off after a peer restarts, checks the peer's
// membership digest, and fans our lock actors' vote requests out to the
// peers (whose node actors route them to their lock actor of the same name).
// It decides nothing: a lost or late answer only makes a round slower.
#pragma once

#include "actors/node_context.hpp"

#include <optional>
#include <string>
#include <vector>

namespace godistlock::actors {

struct PeerLink {
  net::Member member;
  std::optional<node_actor> handle{}; // set once connected and the digest matched
  bool connecting = false;
  uint64_t dial = 0;      // numbers dials: answers to a superseded one are ignored
  caf::actor_addr lost{}; // the peer's proxy before its connection dropped
  std::chrono::milliseconds backoff{100};
  std::string last_problem{};
};

struct cluster_state {
  std::shared_ptr<const NodeContext> ctx;
  std::vector<PeerLink> peers; // peer number n is peers[n - 1]
  static inline const char* name = "godistlock.cluster";
};

cluster_actor::behavior_type cluster_actor_impl(cluster_actor::stateful_pointer<cluster_state> self,
                                                std::shared_ptr<const NodeContext> ctx);

} // namespace godistlock::actors
