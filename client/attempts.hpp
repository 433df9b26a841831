// How a client spreads, paces and explains its attempts at the servers:
// each lock's home server (rendezvous hashing), the pause between rounds of
// attempts when no server answered, and CAF's errors in plain words.
#pragma once

#include "client/lease_clock.hpp"
#include "net/endpoint.hpp"

#include <caf/error.hpp>

#include <algorithm>
#include <chrono>
#include <functional>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <vector>

namespace godistlock::client::detail {

// The per-server half of a lock's home-hash key.
std::string home_key(const net::Endpoint& server);

// The index of the key with the highest hash of lock + key.
size_t rendezvous(const std::vector<std::string>& keys, const std::string& lock);
// Every index, by that hash from the highest: the lock's home first, then
// the server every client falls back to when the home is down.
std::vector<size_t> rendezvous_ranking(const std::vector<std::string>& keys,
                                       const std::string& lock);

// CAF's error codes in the words a user of the client understands.
std::string plain_words(const caf::error& e, std::chrono::milliseconds timeout);

// Why each server failed us, for the error that ends a call: the latest
// reason per server, in the order the servers were first tried, with the
// number of attempts. A reason that only says our own budget cut an attempt
// short does not replace a real answer (a live node's "no quorum" says more
// than "no answer within 120 ms").
class Failures {
public:
  void note(const std::string& server, const std::string& reason, bool cut_short = false);
  bool empty() const { return servers_.empty(); }
  void clear() { servers_.clear(); }
  // "no server could answer (A: reason; B (3 attempts): reason)".
  std::string text() const;

private:
  struct Server {
    std::string address;
    std::string reason;
    int attempts = 0;
  };
  std::vector<Server> servers_;
};

// Pauses between rounds of attempts when no server answered: 50 ms
// doubling to 1 s, each with up to 50 % random jitter, and never past
// `until`; looks at `stop` every 50 ms.
class Backoff {
public:
  void wait(std::optional<LeaseClock::time_point> until, const std::function<bool()>& stop) {
    // Seeded once per thread, on first use: an acquire that never waits
    // (the common case) builds no generator.
    thread_local std::mt19937_64 rng{std::random_device{}()};
    std::uniform_int_distribution<int64_t> jitter(0, next_.count() / 2);
    auto end = LeaseClock::now() + next_ + std::chrono::milliseconds(jitter(rng));
    if (until)
      end = std::min(end, *until);
    while (LeaseClock::now() < end && !(stop && stop()))
      std::this_thread::sleep_until(
          std::min(end, LeaseClock::now() + std::chrono::milliseconds(50)));
    next_ = std::min(next_ * 2, std::chrono::milliseconds(1000));
  }
  void reset() { next_ = std::chrono::milliseconds(50); }

private:
  std::chrono::milliseconds next_{50};
};

} // namespace godistlock::client::detail
