// The actor of one lock on one node. It owns the lock's acceptor state and
// its proposer (core/proposer.hpp), feeds the proposer the requests this
// node receives and the peers' votes, and carries out what it returns; the
// lock rules themselves live in core/ (change.hpp, round.hpp, acceptor.hpp).
// Its parts are declared in actors/lock_parts.hpp.
#pragma once

#include "actors/metered_promise.hpp"
#include "actors/node_context.hpp"
#include "core/acceptor.hpp"
#include "core/proposer.hpp"
#include "messages/interfaces.hpp"

#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>

namespace godistlock::actors {

// A waiter whose acquire is parked here until granted or its window ends.
struct ParkedAcquire {
  uint64_t id = 0;
  wire::Request request;
  MeteredPromise promise;
  caf::actor_addr requester; // monitored: a dead requester is never granted
  bool final_window = false; // its wait ends with this window
  bool claiming = false;     // an acquire round for it is under way
  // Its window ended while it was claiming: the claim's outcome decides
  // what it hears (a grant, or what the window's end would have said).
  bool window_over = false;
};

// What a decided round (or one that could not be decided) hands back.
struct Applied {
  core::Result result;
  bool decided = false; // false: no quorum in time (the outcome is unknown)
};

// The lock's rounds as this node proposes them.
struct LockRounds {
  // Runs this node's changes on the lock; refers to lock_state::acceptor.
  std::unique_ptr<core::Proposer> proposer;
  // What to do with each proposed change's outcome, by the proposal's tag.
  std::map<uint64_t, std::function<void(const Applied&)>> on_outcome;
  uint64_t next_tag = 0;
  std::string no_quorum_why;   // who answered the last change that found no quorum
  uint64_t metered_rounds = 0; // of the proposer's totals, already in the node's metrics
  uint64_t metered_conflicts = 0;
};

// Acquires waiting here, and the handoff timer that serves them.
struct LockWaiting {
  std::deque<ParkedAcquire> parked; // arrival order
  uint64_t next_park_id = 0;
  uint64_t handoff_armed_for = 0; // epoch number a handoff timer is armed for
};

// Writes in flight, the idle and retire handshake, and the node's gauges.
struct LockUpkeep {
  uint64_t writes_in_flight = 0; // persists sent to storage, not yet confirmed
  uint64_t handled = 0;          // client requests handled (retire handshake)
  uint64_t activity = 0;         // bumps on every message; idle timers compare it
  bool draining = false;
  bool counted_held = false; // what this lock last added to the held_locks gauge
  int64_t counted_waiters = 0;
};

struct lock_state {
  std::shared_ptr<const NodeContext> ctx;
  node_actor node;
  std::string name;
  core::Acceptor acceptor;
  LockRounds rounds;
  LockWaiting waiting;
  LockUpkeep upkeep;
  static inline const char* name_tag = "godistlock.lock";
};

lock_actor::behavior_type lock_actor_impl(lock_actor::stateful_pointer<lock_state> self,
                                          std::shared_ptr<const NodeContext> ctx, node_actor node,
                                          std::string name, core::AcceptorRecord record,
                                          core::Instant epoch_seen);

// How long one acquire attempt waits at the node before the client is told
// "still queued" and asks again: it bounds how much of a lease a waiter can
// lose between sending the attempt and being granted.
uint64_t park_window_ms(uint64_t ttl_ms);

} // namespace godistlock::actors
