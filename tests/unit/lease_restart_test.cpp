// Lease restarts (refresh, and acquire by the holder's own owner) against
// delayed and replayed attempts: a stale attempt changes nothing, and no
// restart ends a lease earlier than its last restarter may trust it
// (docs/protocol.md §4, "Lease restarts").
#include "core/change.hpp"
#include "core/round.hpp"
#include "printers.hpp"

#include <boost/test/unit_test.hpp>

#include <random>

using namespace godistlock::core;

namespace {

const WitnessAge unknown = std::nullopt;

LockState held(uint64_t ttl, const LeaseOrigin& o) {
  LockState s;
  auto r = acquire(s, unknown, AcquireArgs{"app", o, ttl, false});
  BOOST_REQUIRE(r.outcome == Outcome::granted);
  return s;
}

} // namespace

BOOST_AUTO_TEST_SUITE(lease_restart)

// The reported bug, step by step: CLI process X sends `refresh --ttl 1s`,
// its first attempt is delayed on the way to the home node, its second
// succeeds elsewhere; CLI process Y then refreshes to 60 s; then X's first
// attempt arrives. It must not cut Y's 60 s lease back to 1 s.
BOOST_AUTO_TEST_CASE(a_delayed_attempt_after_a_newer_refresh_changes_nothing) {
  auto s = held(30'000, LeaseOrigin{"acquirer", 1, 0});
  auto r = refresh(s, WitnessAge(100), 1, LeaseOrigin{"X", 7, 1}, 1000);
  BOOST_TEST(r.outcome == Outcome::refreshed);
  r = refresh(s, WitnessAge(200), 1, LeaseOrigin{"Y", 3, 0}, 60'000);
  BOOST_TEST(r.outcome == Outcome::refreshed);
  BOOST_TEST(r.lease_ms == 60'000u);
  BOOST_TEST(r.origin == (LeaseOrigin{"Y", 3, 0}));
  auto before = s;
  for (WitnessAge age : {unknown, WitnessAge(0), WitnessAge(500), WitnessAge(59'999)}) {
    auto stale = refresh(s, age, 1, LeaseOrigin{"X", 7, 0}, 1000);
    BOOST_TEST(stale.outcome == Outcome::refreshed);
    BOOST_TEST(stale.lease_ms == 60'000u);
    BOOST_TEST(stale.origin == (LeaseOrigin{"Y", 3, 0})); // not X's: X cannot time it
    BOOST_TEST(s == before);
  }
  // An older request of X is just as stale as an older attempt.
  refresh(s, WitnessAge(500), 1, LeaseOrigin{"X", 6, 4}, 1000);
  BOOST_TEST(s == before);
}

BOOST_AUTO_TEST_CASE(the_mutation_brings_the_bug_back) {
  auto s = held(30'000, LeaseOrigin{"acquirer", 1, 0});
  refresh(s, WitnessAge(100), 1, LeaseOrigin{"X", 7, 1}, 1000, true);
  refresh(s, WitnessAge(200), 1, LeaseOrigin{"Y", 3, 0}, 60'000, true);
  refresh(s, WitnessAge(500), 1, LeaseOrigin{"X", 7, 0}, 1000, true);
  BOOST_TEST(s.holder->lease_ms == 1000u); // Y trusted 60 s
}

BOOST_AUTO_TEST_CASE(a_stale_attempt_of_the_holders_own_client_changes_nothing) {
  auto s = held(1000, LeaseOrigin{"c", 1, 0});
  refresh(s, unknown, 1, LeaseOrigin{"c", 5, 0}, 9000);
  auto before = s;
  for (auto o : {LeaseOrigin{"c", 4, 9}, LeaseOrigin{"c", 1, 0}, LeaseOrigin{"c", 5, 0}}) {
    BOOST_TEST(refresh(s, WitnessAge(10), 1, o, 200).outcome == Outcome::refreshed);
    auto g = acquire(s, WitnessAge(10), AcquireArgs{"app", o, 200, false});
    BOOST_TEST(g.outcome == Outcome::granted);
    BOOST_TEST(g.token == 1u);
    BOOST_TEST(s == before);
  }
}

BOOST_AUTO_TEST_CASE(a_restart_never_ends_the_lease_earlier) {
  // Shorter ttl: the lease keeps what is left of the current one.
  auto s = held(60'000, LeaseOrigin{"a", 1, 0});
  auto r = refresh(s, WitnessAge(10'000), 1, LeaseOrigin{"b", 1, 0}, 1000);
  BOOST_TEST(r.lease_ms == 50'000u);
  BOOST_TEST(r.origin == (LeaseOrigin{"b", 1, 0})); // timed from b's send: safe for b too
  // Without a witness the whole lease may be ahead.
  r = refresh(s, unknown, 1, LeaseOrigin{"c", 1, 0}, 1000);
  BOOST_TEST(r.lease_ms == 50'000u);
  // Longer ttl: as asked.
  r = refresh(s, WitnessAge(0), 1, LeaseOrigin{"c", 2, 0}, 90'000);
  BOOST_TEST(r.lease_ms == 90'000u);
  // After the lease lapsed (nobody took over): as asked.
  r = refresh(s, WitnessAge(95'000), 1, LeaseOrigin{"c", 3, 0}, 1000);
  BOOST_TEST(r.lease_ms == 1000u);
  // A re-acquire by the holder's owner follows the same rule.
  auto g = acquire(s, WitnessAge(100), AcquireArgs{"app", LeaseOrigin{"d", 1, 0}, 300, false});
  BOOST_TEST(g.lease_ms == 900u);
}

BOOST_AUTO_TEST_CASE(a_shortening_restart_is_never_taken_on_the_one_round_trip_path) {
  // Its outcome depends on the witness age, so it must prepare.
  auto s = held(60'000, LeaseOrigin{"a", 1, 0});
  Round shorter(Ballot{5, 1, 1}, 2, [](LockState& st, WitnessAge age) {
    return refresh(st, age, 1, LeaseOrigin{"a", 2, 0}, 1000);
  });
  BOOST_TEST(!shorter.skip_prepare(s, {}));
  Round same(Ballot{5, 1, 1}, 2, [](LockState& st, WitnessAge age) {
    return refresh(st, age, 1, LeaseOrigin{"a", 2, 0}, 60'000);
  });
  BOOST_TEST(same.skip_prepare(s, {}));
}

BOOST_AUTO_TEST_CASE(other_clients_newest_attempts_are_remembered_and_bounded) {
  auto s = held(1000, LeaseOrigin{"c0", 1, 0});
  for (uint64_t i = 1; i <= 10; ++i)
    refresh(s, unknown, 1, LeaseOrigin{"c" + std::to_string(i), 1, 0}, 1000);
  BOOST_TEST(s.holder->earlier.size() == max_earlier_origins);
  BOOST_TEST(s.holder->earlier.back() == (LeaseOrigin{"c9", 1, 0}));
  // A newer attempt of a remembered client replaces its entry.
  refresh(s, unknown, 1, LeaseOrigin{"c8", 2, 0}, 1000);
  BOOST_TEST(s.holder->earlier.size() == max_earlier_origins);
  for (auto& e : s.holder->earlier)
    BOOST_TEST(e.client != "c8");
  BOOST_TEST(s.holder->earlier.back() == (LeaseOrigin{"c10", 1, 0}));
  // A new grant starts with no history.
  release(s, unknown, 1);
  acquire(s, unknown, AcquireArgs{"app", LeaseOrigin{"z", 1, 0}, 1000, false});
  BOOST_TEST(s.holder->earlier.empty());
}

// Property: whatever the order of restarts and their attempts, the end of
// the lease on the witnesses' time line never moves earlier, and the last
// applied attempt of each client is never overtaken by an older one.
BOOST_AUTO_TEST_CASE(random_restarts_never_move_the_end_earlier) {
  std::mt19937_64 rng(7);
  for (int run = 0; run < 300; ++run) {
    auto s = held(1 + rng() % 5000, LeaseOrigin{"k0", 1, 0});
    uint64_t epoch_start = 0, now = 0;
    std::map<std::string, std::pair<uint64_t, uint32_t>> newest;
    for (int step = 0; step < 60; ++step) {
      now += rng() % 300;
      uint64_t age = now - epoch_start;
      if (age >= s.holder->lease_ms)
        break; // lapsed: a takeover may come, nothing is trusted any more
      uint64_t end = epoch_start + s.holder->lease_ms;
      std::string client = "k" + std::to_string(rng() % 4);
      LeaseOrigin o{client, 1 + rng() % 6, static_cast<uint32_t>(rng() % 3)};
      uint64_t ttl = 100 + rng() % 6000;
      auto before = s;
      WitnessAge witness = rng() % 4 == 0 ? unknown : WitnessAge(age - rng() % (age + 1));
      auto r = rng() % 2 ? refresh(s, witness, 1, o, ttl)
                         : acquire(s, witness, AcquireArgs{"app", o, ttl, false});
      BOOST_REQUIRE(r.token == 1u);
      if (s.epoch.number != before.epoch.number) {
        epoch_start = now;
        BOOST_TEST(now + s.holder->lease_ms >= end);
        BOOST_TEST(s.holder->lease_ms >= ttl);
        auto it = newest.find(client);
        if (it != newest.end())
          BOOST_TEST((std::make_pair(o.request, o.attempt) > it->second));
        newest[client] = {o.request, o.attempt};
      } else {
        BOOST_TEST(s == before);
      }
    }
  }
}

BOOST_AUTO_TEST_SUITE_END()
