// The actor of one lock on one node. It owns the lock's acceptor state and
// runs the Paxos rounds for requests this node receives; the lock rules
// themselves live in core/ (change.hpp, round.hpp, acceptor.hpp).
#pragma once

#include "actors/metered_promise.hpp"
#include "actors/node_context.hpp"
#include "core/acceptor.hpp"
#include "core/round.hpp"
#include "messages/interfaces.hpp"

#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <set>
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

// A change waiting for its round: rounds on one lock run one at a time.
struct PendingChange {
  core::Change change;
  std::function<void(const Applied&)> done;
  // A rejoining node's catch-up: only the peers vote, the value is always
  // rewritten, and the decided value is installed here (notes 4.3).
  bool catch_up = false;
  // Set once a round for this change was lost: the change may have taken
  // effect anyway (changes read it; they must stay pure functions).
  std::shared_ptr<bool> retried;
};

// What our last decided round left behind: the acceptors that accepted it
// promised `next` with their accept, so the next round on this lock may
// skip the prepare (CASPaxos 2.2.1). Dropped after any lost round.
struct OneRoundTrip {
  core::Ballot next;
  core::LockState value;
  core::PromiseSet promisers;
};

struct RoundInFlight {
  uint64_t id = 0;
  core::Round round;
  PendingChange pending;
  int attempts = 0; // rounds lost to competing proposers so far
  // For the log line of a change that found no quorum: how long it tried
  // and who answered, so that the cause (a dead peer, a slow one, a
  // duelling proposer) can be told apart.
  core::Instant started = core::Clock::now();
  std::set<uint32_t> heard_from{}; // peers that answered one of its rounds
  std::set<uint32_t> refused_by{}; // peers (0: this node) that refused a round
  bool timed_out = false;
};

struct lock_state {
  std::shared_ptr<const NodeContext> ctx;
  node_actor node;
  std::string name;
  core::Acceptor acceptor;
  core::BallotSource ballots{0, 0};
  std::deque<ParkedAcquire> parked; // arrival order
  uint64_t next_park_id = 0;
  uint64_t handled = 0;              // client requests handled (retire handshake)
  uint64_t activity = 0;             // bumps on every message; idle timers compare it
  uint64_t writes_in_flight = 0;     // persists sent to storage, not yet confirmed
  uint64_t handoff_armed_for = 0;    // epoch number a handoff timer is armed for
  std::deque<PendingChange> changes; // waiting for the round in flight
  std::optional<RoundInFlight> in_flight;
  std::optional<OneRoundTrip> cached;
  uint64_t next_round_id = 0;
  bool counted_held = false;
  int64_t counted_waiters = 0;
  bool draining = false;
  std::string no_quorum_why; // who answered the last change that found no quorum
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
