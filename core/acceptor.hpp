// The acceptor side of one lock's Paxos register (CASPaxos). Every node
// keeps one per lock. Its durable part (`record()`) must reach the disk
// before any reply that depends on it leaves the node.
#pragma once

#include "core/ballot.hpp"
#include "core/incarnation.hpp"
#include "core/lock_state.hpp"
#include "core/time.hpp"

#include <optional>

namespace godistlock::core {

struct AcceptorRecord {
  Ballot promised; // no prepare or accept below this is honoured
  Ballot accepted; // ballot of `value`
  LockState value;
  friend bool operator==(const AcceptorRecord& a, const AcceptorRecord& b) {
    return a.promised == b.promised && a.accepted == b.accepted && a.value == b.value;
  }
};

struct Promise {
  bool ok = false;
  Ballot conflict; // when !ok: the ballot that beat the request
  Ballot accepted;
  LockState value;
  uint64_t age_ms = 0; // how long this acceptor has known value.epoch
  Voter voter;         // who promised, in which incarnation (filled by the caller)
};

struct Accepted {
  bool ok = false;
  Ballot conflict;
  Voter voter; // who accepted, in which incarnation (filled by the caller)
};

class Acceptor {
public:
  // `epoch_seen` is when this acceptor first stored the record's epoch; after
  // a restart that is the boot time, which only delays expiry (safe).
  explicit Acceptor(AcceptorRecord record = {}, Instant epoch_seen = Instant{})
      : record_(std::move(record)), epoch_seen_(epoch_seen) {}

  Promise prepare(const Ballot& b, Instant now);
  // `next_promise` lets the same proposer skip the next prepare (1-RTT path).
  Accepted accept(const Ballot& b, const LockState& v, const Ballot& next_promise, Instant now);

  const AcceptorRecord& record() const { return record_; }
  Instant epoch_seen() const { return epoch_seen_; }
  uint64_t age_ms(Instant now) const { return to_ms(now - epoch_seen_); }

private:
  AcceptorRecord record_;
  Instant epoch_seen_;
};

} // namespace godistlock::core
