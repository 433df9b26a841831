// The change functions of a lock: deterministic functions from one lock
// state to the next. They are the only way a lock's state changes, in a
// single node and in a cluster alike (each is applied inside a Paxos round).
//
// `age` is how long the current lease epoch has existed as witnessed by the
// acceptors' own monotonic clocks (the largest report among those holding
// the current epoch). nullopt means unknown: nothing may then expire.
#pragma once

#include "core/lock_state.hpp"

#include <cstdint>
#include <functional>
#include <optional>
#include <string>

namespace godistlock::core {

using WitnessAge = std::optional<uint64_t>;

// How long the head waiter may take to claim a lock offered to it.
constexpr uint64_t reserve_ms = 2000;
// How long past its client's wait a queue entry stays (for the client's own
// cancel to arrive first, and for clock-rate drift).
constexpr uint64_t waiter_margin_ms = 1000;

enum class Outcome : uint8_t {
  granted,    // the requester holds the lock (token, lease)
  queued,     // the requester waits at `position` (1 = next)
  busy,       // not acquired and not waiting (try-lock)
  queue_full, // not acquired: too many waiters
  released,   // the token was released (or had been, by an earlier retry)
  refreshed,  // the lease was extended
  not_holder, // the token is not the current grant
  cancelled,  // the waiter left the queue (or was not in it)
  observed,   // read-only result: see `observed_holder`/`waiters`
};

struct Result {
  Outcome outcome = Outcome::busy;
  uint64_t token = 0;
  uint64_t lease_ms = 0;
  LeaseOrigin origin;    // which client attempt the lease is timed from
  uint64_t position = 0; // for queued
  std::optional<Holder> observed_holder;
  uint64_t remaining_ms = 0; // lease left by the witnesses' clocks
  uint64_t waiters = 0;
  uint64_t fence = 0;
  bool expired_holder = false; // this change dropped a lapsed lease (stats)
  bool new_grant = false;      // this change issued a new token (stats)
  bool stale_attempt = false;  // a delayed lease restart that changed nothing (stats)
};

struct AcquireArgs {
  std::string owner;
  LeaseOrigin origin;
  uint64_t ttl_ms = 0;
  bool wait = false; // false: try-lock, never queue
  // Test mutation lifo-queue (core/mutation.hpp): enqueue at the front.
  bool test_lifo = false;
  // Test mutation stale-lease-restart: any attempt but an exact retry
  // restarts the lease with its own ttl, even a stale one that shortens it.
  bool test_stale_restart = false;
  // How long the client still waits (when `wait`): its queue entry ends
  // that long after this attempt, plus waiter_margin_ms. 0: no end.
  uint64_t wait_ms = 0;
};

// A change as applied by a Paxos round.
using Change = std::function<Result(LockState&, WitnessAge)>;

Result acquire(LockState& s, WitnessAge age, const AcquireArgs& args);
// `retried`: this request may already have taken effect (an earlier round
// for it, or an earlier attempt of the client, may have been chosen). Then a
// release of the last released token reads "released" even if a newer grant
// exists; otherwise an old token is simply not the holder.
Result release(LockState& s, WitnessAge age, uint64_t token, bool retried = false);
// Lease restarts (refresh, and acquire by the holder's owner) give the lease
// at least the asked ttl from now but never end it earlier than it could
// end before: whoever restarted it last may trust it that long. An attempt
// older than one already applied for its client changes nothing.
Result refresh(LockState& s, WitnessAge age, uint64_t token, const LeaseOrigin& origin,
               uint64_t ttl_ms, bool test_stale_restart = false);
// A waiter gives up: leaves the queue, or returns its reservation. With
// `request` (the acquire it was waiting in, attempt = the last one that
// may have been sent), a delayed attempt of it can never queue again.
Result cancel(LockState& s, WitnessAge age, const std::string& owner,
              const std::optional<LeaseOrigin>& request = std::nullopt);
// Timer-driven: drops a lapsed lease or reservation and offers the lock to
// the next waiter. Nothing happens unless the witnesses say time is up.
Result handoff(LockState& s, WitnessAge age);
// Status and token checks; applies due expiries like every change.
Result observe(LockState& s, WitnessAge age);
// x -> x: rewrites the value as it is (a rejoining node's catch-up).
Result unchanged(LockState& s, WitnessAge age);

// When the next timer-driven handoff is due, measured from the epoch's
// birth; nullopt when no handoff can become due (nobody waits).
std::optional<uint64_t> handoff_due_ms(const LockState& s);

} // namespace godistlock::core
