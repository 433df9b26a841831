// The replicated value of one lock: everything the cluster agrees on about
// it. It changes only through the deterministic change functions in
// change.hpp, applied in Paxos rounds (see docs/protocol.md).
#pragma once

#include "core/ballot.hpp"

#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <vector>

namespace godistlock::core {

// The client attempt that started the current lease: the client times its
// lease from the moment it sent exactly this attempt.
struct LeaseOrigin {
  std::string client;   // client incarnation id (unique per process run)
  uint64_t request = 0; // request id within that client
  uint32_t attempt = 0; // retry number of that request
  friend bool operator==(const LeaseOrigin& a, const LeaseOrigin& b) {
    return a.client == b.client && a.request == b.request && a.attempt == b.attempt;
  }
  // Within one client, later sends carry larger (request, attempt) pairs.
  bool sent_before(const LeaseOrigin& o) const {
    return client == o.client &&
           (request < o.request || (request == o.request && attempt < o.attempt));
  }
};

// How many other clients' newest lease restarts a grant remembers (beyond
// its current origin). Past that the oldest is forgotten, which costs only
// the "changes nothing" answer to its stale attempts, never safety: the
// lease rule in change.cpp never moves a lease's end earlier.
constexpr size_t max_earlier_origins = 4;

struct Holder {
  std::string owner;  // application-level identity; re-acquire by it is idempotent
  uint64_t token = 0; // fencing token of this grant
  uint64_t lease_ms = 0;
  LeaseOrigin origin;
  // The newest attempt of each other client that restarted this grant's
  // lease, so that their delayed older attempts are recognised as stale.
  std::vector<LeaseOrigin> earlier{};
  friend bool operator==(const Holder& a, const Holder& b) {
    return a.owner == b.owner && a.token == b.token && a.lease_ms == b.lease_ms &&
           a.origin == b.origin && a.earlier == b.earlier;
  }
};

// How many finished requests a lock remembers (see LockState::finished).
// Past that the oldest is forgotten: a delayed attempt of it can then queue
// or be granted once more, which its wait or lease ends (liveness, never
// safety: a grant is a grant like any other).
constexpr size_t max_finished_requests = 8;

// An acquire request that can no longer take effect for `owner`: every
// attempt its client sent no later than `last` is stale.
struct FinishedRequest {
  std::string owner;
  LeaseOrigin last;
  bool covers(const std::string& o, const LeaseOrigin& attempt) const {
    return o == owner && (attempt == last || attempt.sent_before(last));
  }
  friend bool operator==(const FinishedRequest& a, const FinishedRequest& b) {
    return a.owner == b.owner && a.last == b.last;
  }
};

struct Waiter {
  std::string owner;
  uint64_t ttl_ms = 0;
  // The waiter leaves the queue once the current epoch is this old (its
  // client's wait is over, plus a margin): a waiter that cannot say it gave
  // up (its process died) does not hold up those behind it. Rebased at
  // every epoch bump; 0: no end (records written before it existed).
  uint64_t expires_ms = 0;
  friend bool operator==(const Waiter& a, const Waiter& b) {
    return a.owner == b.owner && a.ttl_ms == b.ttl_ms && a.expires_ms == b.expires_ms;
  }
};

// A lease "epoch" names one lease period. Acceptors time leases per epoch
// with their own monotonic clocks. The ballot that created the epoch is part
// of its identity, because two competing proposals can both produce the same
// epoch number from the same base and must not share a timer.
struct Epoch {
  uint64_t number = 0;
  Ballot origin;
  friend bool operator==(const Epoch& a, const Epoch& b) {
    return a.number == b.number && a.origin == b.origin;
  }
  friend bool operator!=(const Epoch& a, const Epoch& b) { return !(a == b); }
};

struct LockState {
  uint64_t fence = 0; // last token issued; never decreases, never deleted
  Epoch epoch;        // bumped on grant, refresh, release, expiry, reservation
  std::optional<Holder> holder;
  // Head waiter offered the lock after a release or expiry; only it may take
  // the lock until the reservation lapses (mutually exclusive with holder).
  std::optional<Waiter> reserved;
  std::deque<Waiter> queue;   // FIFO, capped at max_queue_length
  uint64_t last_released = 0; // token of the last explicit release: retries stay idempotent
  // Acquire requests that can no longer take effect: released or lapsed
  // grants, cancelled waits. A delayed or duplicated attempt of one changes
  // nothing, so it never queues or is granted a second time. At most one
  // per (owner, client), oldest first, capped at max_finished_requests.
  std::vector<FinishedRequest> finished{};

  bool is_free() const { return !holder && !reserved && queue.empty(); }
  friend bool operator==(const LockState& a, const LockState& b) {
    return a.fence == b.fence && a.epoch == b.epoch && a.holder == b.holder &&
           a.reserved == b.reserved && a.queue == b.queue && a.last_released == b.last_released &&
           a.finished == b.finished;
  }
  friend bool operator!=(const LockState& a, const LockState& b) { return !(a == b); }
};

} // namespace godistlock::core
