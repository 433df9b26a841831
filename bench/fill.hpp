// Filling nodes with held locks quickly: many acquires in flight per
// thread, straight to the node actors (no client library, no retries), for
// the memory and restart benchmarks.
#pragma once

#include "messages/interfaces.hpp"

#include <caf/all.hpp>

#include <cstddef>
#include <string>
#include <vector>

namespace godistlock::bench {

struct FillResult {
  size_t granted = 0;
  size_t refused = 0; // answered, but not OK (the first reason is kept)
  size_t lost = 0;    // no answer within the deadline
  std::string first_refusal;
  double seconds = 0;
};

// Acquires the locks "orders/0" .. "orders/<count-1>" (ttl: the longest
// allowed), from `threads` threads, each keeping `window` requests in
// flight; thread t sends to nodes[t % nodes.size()].
FillResult fill_locks(caf::actor_system& sys, const std::vector<node_actor>& nodes, size_t count,
                      size_t threads = 4, size_t window = 128);

} // namespace godistlock::bench
