// Deliberate bugs for the fault-injection harness (tests/chaos): each one
// breaks a rule the safety argument needs, so that the harness can show its
// checkers see the violation. Off unless a node is started with
// --test-mutation; never for production.
#pragma once

#include <optional>
#include <string>

namespace godistlock::core {

enum class Mutation {
  none,
  skip_promise_fsync,    // promises are not written at all (a crash forgets them)
  wiped_votes_at_once,   // a node that lost its data votes with an empty state
  proposer_clock_expiry, // expiry judged by the proposer's own acceptor, whatever epoch it holds
  lifo_queue,            // a new waiter goes to the front of the wait queue, not the back
  stale_lease_restart,   // any lease restart takes its attempt's ttl, even a stale, shorter one
};

std::optional<Mutation> parse_mutation(const std::string& name);
const char* to_string(Mutation m);

} // namespace godistlock::core
