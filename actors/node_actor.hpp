// The node actor: the one actor a node publishes. It validates client
// requests, routes each to its lock's actor (spawning it on first use, from
// the lock table if the lock rests there) and answers `stats` itself.
#pragma once

#include "actors/lock_actor.hpp"
#include "actors/lock_table.hpp"
#include "actors/node_context.hpp"
#include "core/rejoin.hpp"
#include "messages/interfaces.hpp"

#include <deque>
#include <memory>
#include <optional>
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
  // Catching up after losing the data dir (actors/rejoin.hpp): no votes,
  // no client requests until it is done.
  struct Rejoin {
    explicit Rejoin(core::RejoinPlan p) : plan(std::move(p)) {}
    core::RejoinPlan plan;
    std::optional<core::Instant> refused_since; // a verdict that needs an operator
    std::optional<core::Instant> last_report;   // of what it waits for
    bool unsaved = false;                       // a new incarnation not yet on disk: not announced
    bool catching_up = false;
    uint64_t ballot_floor = 0;
    std::deque<std::string> waiting; // locks not caught up yet
    size_t in_flight = 0;
    size_t done = 0;
  };
  std::optional<Rejoin> rejoin;
  static inline const char* name = "godistlock.node";
};

// The lock's actor, spawned (from the lock table, or empty) if needed.
node_state::Live& live_actor(node_actor::stateful_pointer<node_state> self,
                             const std::string& name);

node_actor::behavior_type node_actor_impl(node_actor::stateful_pointer<node_state> self,
                                          std::shared_ptr<const NodeContext> ctx,
                                          std::shared_ptr<LockTable> table);

} // namespace godistlock::actors
