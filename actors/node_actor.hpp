// The node actor: the one actor a node publishes. It validates client
// requests, routes each to its lock's actor (spawning it on first use, from
// the lock table if the lock rests there) and answers `stats` itself.
#pragma once

#include "actors/lock_actor.hpp"
#include "actors/lock_table.hpp"
#include "actors/node_context.hpp"
#include "messages/interfaces.hpp"

#include <memory>
#include <string>
#include <unordered_map>

namespace godistlock::actors {

struct node_state {
  std::shared_ptr<const NodeContext> ctx;
  LockTable table;
  struct Live {
    lock_actor handle;
    uint64_t forwarded = 0; // requests routed to it (retire handshake)
  };
  std::unordered_map<std::string, Live> live;
  bool draining = false;
  core::Instant started;
  static inline const char* name = "godistlock.node";
};

node_actor::behavior_type node_actor_impl(node_actor::stateful_pointer<node_state> self,
                                          std::shared_ptr<const NodeContext> ctx,
                                          std::shared_ptr<LockTable> table);

} // namespace godistlock::actors
