#include "core/mutation.hpp"

namespace godistlock::core {

std::optional<Mutation> parse_mutation(const std::string& name) {
  for (auto m :
       {Mutation::skip_promise_fsync, Mutation::wiped_votes_at_once,
        Mutation::proposer_clock_expiry, Mutation::lifo_queue, Mutation::stale_lease_restart})
    if (name == to_string(m))
      return m;
  return std::nullopt;
}

const char* to_string(Mutation m) {
  switch (m) {
  case Mutation::none:
    return "none";
  case Mutation::skip_promise_fsync:
    return "skip-promise-fsync";
  case Mutation::wiped_votes_at_once:
    return "wiped-votes-at-once";
  case Mutation::proposer_clock_expiry:
    return "proposer-clock-expiry";
  case Mutation::lifo_queue:
    return "lifo-queue";
  case Mutation::stale_lease_restart:
    return "stale-lease-restart";
  }
  return "none";
}

} // namespace godistlock::core
