// The lock's change functions (core/change.hpp) on core::LockState.
#include "core/change.hpp"
#include "core/limits.hpp"
#include "printers.hpp"

#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <map>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <vector>

using namespace godistlock::core;

namespace {

const WitnessAge unknown = std::nullopt;

LeaseOrigin origin(const std::string& owner, uint64_t request = 1, uint32_t attempt = 0) {
  return LeaseOrigin{owner + "-client", request, attempt};
}

AcquireArgs acq(const std::string& owner, bool wait = false, uint64_t ttl = 1000,
                uint64_t request = 1, uint32_t attempt = 0) {
  return AcquireArgs{owner, origin(owner, request, attempt), ttl, wait};
}

// A state where `owner` holds the lock with `ttl`, granted from a free lock.
LockState held_by(const std::string& owner, uint64_t ttl = 1000) {
  LockState s;
  auto r = acquire(s, unknown, acq(owner, false, ttl));
  BOOST_REQUIRE(r.outcome == Outcome::granted);
  return s;
}

} // namespace

BOOST_AUTO_TEST_SUITE(change)

// ---------------------------------------------------------------- acquire

BOOST_AUTO_TEST_CASE(free_lock_is_granted) {
  for (bool wait : {false, true}) {
    for (WitnessAge age : {unknown, WitnessAge(0), WitnessAge(1'000'000)}) {
      LockState s;
      auto r = acquire(s, age, acq("a", wait, 1500, 9, 2));
      BOOST_TEST(r.outcome == Outcome::granted);
      BOOST_TEST(r.token == 1u);
      BOOST_TEST(r.lease_ms == 1500u);
      BOOST_TEST(r.origin == origin("a", 9, 2));
      BOOST_TEST(!r.expired_holder);
      BOOST_TEST(s.fence == 1u);
      BOOST_TEST(s.epoch.number == 1u);
      BOOST_TEST(s.epoch.origin.is_zero());
      BOOST_REQUIRE(s.holder);
      BOOST_TEST(*s.holder == (Holder{"a", 1, 1500, origin("a", 9, 2)}));
      BOOST_TEST(!s.reserved);
      BOOST_TEST(s.queue.empty());
      BOOST_TEST(!s.is_free());
    }
  }
}

BOOST_AUTO_TEST_CASE(fence_strictly_increases_across_grants) {
  LockState s;
  uint64_t last = 0;
  for (int i = 0; i < 50; ++i) {
    std::string owner = "o" + std::to_string(i % 3);
    auto r = acquire(s, unknown, acq(owner, false, 1000, static_cast<uint64_t>(i)));
    BOOST_REQUIRE(r.outcome == Outcome::granted);
    BOOST_TEST(r.token > last);
    BOOST_TEST(r.token == s.fence);
    last = r.token;
    if (i % 2 == 0) {
      BOOST_TEST(release(s, unknown, r.token).outcome == Outcome::released);
    } else {
      // ...also across expiry takeovers.
      auto h = handoff(s, WitnessAge(1000));
      BOOST_TEST(h.expired_holder);
    }
    BOOST_TEST(s.fence == last); // releases and expiry never touch the fence
  }
  BOOST_TEST(last == 50u);
}

BOOST_AUTO_TEST_CASE(fence_survives_from_a_high_start) {
  LockState s;
  s.fence = 41;
  auto r = acquire(s, unknown, acq("a"));
  BOOST_TEST(r.token == 42u);
  BOOST_TEST(s.fence == 42u);
}

BOOST_AUTO_TEST_CASE(reentrant_acquire_keeps_token_and_restarts_lease) {
  for (WitnessAge age : {unknown, WitnessAge(0), WitnessAge(999)}) {
    auto s = held_by("a", 1000);
    auto before = s;
    auto r = acquire(s, age, acq("a", false, 5000, 2, 0));
    BOOST_TEST(r.outcome == Outcome::granted);
    BOOST_TEST(r.token == 1u);
    BOOST_TEST(r.lease_ms == 5000u);
    BOOST_TEST(r.origin == origin("a", 2, 0)); // timed from the new attempt
    BOOST_TEST(s.fence == before.fence);
    BOOST_TEST(s.epoch.number == before.epoch.number + 1);
    BOOST_TEST(s.holder->token == 1u);
    BOOST_TEST(s.holder->lease_ms == 5000u);
    BOOST_TEST(s.holder->origin == origin("a", 2, 0));
    BOOST_TEST(!r.expired_holder);
  }
}

BOOST_AUTO_TEST_CASE(reentrant_acquire_with_a_new_attempt_restarts_lease) {
  auto s = held_by("a", 1000);
  auto r = acquire(s, WitnessAge(10), acq("a", true, 1000, 1, 1)); // same request, next attempt
  BOOST_TEST(r.outcome == Outcome::granted);
  BOOST_TEST(r.origin == origin("a", 1, 1));
  BOOST_TEST(s.epoch.number == 2u);
}

BOOST_AUTO_TEST_CASE(exact_retry_with_same_origin_is_a_pure_read) {
  // Also when the lease looks lapsed: the retry must not change anything.
  for (WitnessAge age :
       {unknown, WitnessAge(0), WitnessAge(999), WitnessAge(1000), WitnessAge(1'000'000)}) {
    auto s = held_by("a", 1000);
    s.epoch.origin = Ballot{3, 1, 77};
    auto before = s;
    auto r = acquire(s, age, acq("a", false, 1000));
    BOOST_TEST(r.outcome == Outcome::granted);
    BOOST_TEST(r.token == 1u);
    BOOST_TEST(r.origin == origin("a"));
    BOOST_TEST(r.lease_ms == 1000u);
    BOOST_TEST(s == before);
  }
}

BOOST_AUTO_TEST_CASE(reacquire_by_holder_after_lapse_is_a_new_grant) {
  auto s = held_by("a", 1000);
  auto r = acquire(s, WitnessAge(1000), acq("a", false, 1000, 2));
  BOOST_TEST(r.outcome == Outcome::granted);
  BOOST_TEST(r.token == 2u);
  BOOST_TEST(r.expired_holder);
  BOOST_TEST(s.holder->token == 2u);
  BOOST_TEST(s.epoch.number == 2u);
}

BOOST_AUTO_TEST_CASE(try_lock_on_a_held_lock_is_busy) {
  for (WitnessAge age : {unknown, WitnessAge(0), WitnessAge(999)}) {
    auto s = held_by("a", 1000);
    auto before = s;
    auto r = acquire(s, age, acq("b"));
    BOOST_TEST(r.outcome == Outcome::busy);
    BOOST_TEST(r.token == 0u);
    BOOST_TEST(!r.expired_holder);
    BOOST_TEST(s == before);
  }
}

BOOST_AUTO_TEST_CASE(lapsed_lease_is_taken_over_only_when_witnessed) {
  auto s = held_by("a", 1000);
  // An unknown age never expires a lease, however long it has been.
  auto r = acquire(s, unknown, acq("b"));
  BOOST_TEST(r.outcome == Outcome::busy);
  r = acquire(s, WitnessAge(999), acq("b"));
  BOOST_TEST(r.outcome == Outcome::busy);
  BOOST_TEST(s.holder->owner == "a");
  r = acquire(s, WitnessAge(1000), acq("b"));
  BOOST_TEST(r.outcome == Outcome::granted);
  BOOST_TEST(r.token == 2u);
  BOOST_TEST(r.expired_holder);
  BOOST_TEST(s.holder->owner == "b");
  BOOST_TEST(s.epoch.number == 2u);  // expiry + grant: one bump
  BOOST_TEST(s.last_released == 0u); // expiry is not a release
}

BOOST_AUTO_TEST_CASE(waiters_queue_in_fifo_order_with_positions) {
  auto s = held_by("a");
  auto epoch = s.epoch;
  uint64_t pos = 1;
  for (auto name : {"b", "c", "d", "e"}) {
    auto r = acquire(s, unknown, acq(name, true, 700));
    BOOST_TEST(r.outcome == Outcome::queued);
    BOOST_TEST(r.position == pos++);
  }
  BOOST_TEST(queue_owners(s) == (Names{"b", "c", "d", "e"}));
  BOOST_TEST(s.queue.front().ttl_ms == 700u);
  BOOST_TEST(s.epoch == epoch); // enqueues do not extend the holder's lease
  // Asking again keeps the place and changes nothing, waiting or not.
  auto before = s;
  auto r = acquire(s, unknown, acq("d", true, 700, 1, 3));
  BOOST_TEST(r.outcome == Outcome::queued);
  BOOST_TEST(r.position == 3u);
  r = acquire(s, unknown, acq("c", false));
  BOOST_TEST(r.outcome == Outcome::queued);
  BOOST_TEST(r.position == 2u);
  BOOST_TEST(s == before);
}

BOOST_AUTO_TEST_CASE(queue_positions_count_the_reservation) {
  auto s = held_by("a");
  acquire(s, unknown, acq("b", true));
  acquire(s, unknown, acq("c", true));
  BOOST_TEST(release(s, unknown, 1).outcome == Outcome::released);
  BOOST_TEST(s.reserved->owner == "b");
  auto r = acquire(s, unknown, acq("c", true));
  BOOST_TEST(r.outcome == Outcome::queued);
  BOOST_TEST(r.position == 2u); // b (reserved) is next
  r = acquire(s, unknown, acq("d", true));
  BOOST_TEST(r.position == 3u);
}

BOOST_AUTO_TEST_CASE(lifo_mutation_puts_a_new_waiter_first) {
  // Test mutation lifo-queue: the chaos harness's fifo checker must see it.
  auto s = held_by("a");
  auto lifo = [](const std::string& owner) {
    auto args = acq(owner, true);
    args.test_lifo = true;
    return args;
  };
  BOOST_TEST(acquire(s, unknown, lifo("b")).position == 1u);
  auto r = acquire(s, unknown, lifo("c"));
  BOOST_TEST(r.outcome == Outcome::queued);
  BOOST_TEST(r.position == 1u);
  BOOST_TEST(queue_owners(s) == (Names{"c", "b"}));
  BOOST_TEST(acquire(s, unknown, lifo("b")).position == 2u); // asking again keeps the place
  BOOST_TEST(release(s, unknown, 1).outcome == Outcome::released);
  BOOST_TEST(s.reserved->owner == "c"); // the second waiter goes ahead of the first
}

BOOST_AUTO_TEST_CASE(queue_is_capped) {
  auto s = held_by("holder");
  for (size_t i = 0; i < max_queue_length; ++i) {
    auto r = acquire(s, unknown, acq("w" + std::to_string(i), true));
    BOOST_REQUIRE(r.outcome == Outcome::queued);
    BOOST_TEST(r.position == i + 1);
  }
  BOOST_TEST(s.queue.size() == max_queue_length);
  auto before = s;
  auto r = acquire(s, unknown, acq("late", true));
  BOOST_TEST(r.outcome == Outcome::queue_full);
  BOOST_TEST(s == before);
  // A try-lock is just busy; a waiter already queued keeps its place.
  BOOST_TEST(acquire(s, unknown, acq("late", false)).outcome == Outcome::busy);
  r = acquire(s, unknown, acq("w7", true));
  BOOST_TEST(r.outcome == Outcome::queued);
  BOOST_TEST(r.position == 8u);
  BOOST_TEST(s == before);
  // Room again after a waiter leaves.
  BOOST_TEST(cancel(s, unknown, "w0").outcome == Outcome::cancelled);
  r = acquire(s, unknown, acq("late", true));
  BOOST_TEST(r.outcome == Outcome::queued);
  BOOST_TEST(r.position == max_queue_length);
}

BOOST_AUTO_TEST_CASE(no_barging_past_waiters) {
  auto s = held_by("a");
  acquire(s, unknown, acq("b", true));
  BOOST_TEST(release(s, unknown, 1).outcome == Outcome::released);
  BOOST_TEST(s.reserved->owner == "b");
  // While b holds the reservation nobody else gets in, not even a.
  for (auto name : {"c", "a"}) {
    auto before = s;
    auto r = acquire(s, WitnessAge(reserve_ms - 1), acq(name, false, 1000, 5));
    BOOST_TEST(r.outcome == Outcome::busy);
    BOOST_TEST(s == before);
  }
  auto r = acquire(s, unknown, acq("c", true));
  BOOST_TEST(r.outcome == Outcome::queued);
  BOOST_TEST(r.position == 2u);
}

BOOST_AUTO_TEST_CASE(free_lock_with_waiters_is_offered_to_the_head) {
  // A state where nobody was offered the lock yet (e.g. read from an older
  // node): the next change reserves it for the head instead of barging.
  LockState s;
  s.fence = 4;
  s.queue = {Waiter{"b", 100}, Waiter{"c", 100}};
  auto r = acquire(s, unknown, acq("x"));
  BOOST_TEST(r.outcome == Outcome::busy);
  BOOST_TEST(s.reserved->owner == "b");
  BOOST_TEST(queue_owners(s) == (Names{"c"}));
  BOOST_TEST(s.epoch.number == 1u);
  r = acquire(s, unknown, acq("b"));
  BOOST_TEST(r.outcome == Outcome::granted);
  BOOST_TEST(r.token == 5u);
}

BOOST_AUTO_TEST_CASE(head_of_queue_can_take_a_free_lock_directly) {
  LockState s;
  s.queue = {Waiter{"b", 100}, Waiter{"c", 100}};
  auto r = acquire(s, unknown, acq("b"));
  BOOST_TEST(r.outcome == Outcome::granted);
  BOOST_TEST(queue_owners(s) == (Names{"c"}));
  BOOST_TEST(!s.reserved);
}

// ---------------------------------------------------------------- release

BOOST_AUTO_TEST_CASE(release_by_current_token) {
  auto s = held_by("a");
  auto r = release(s, unknown, 1);
  BOOST_TEST(r.outcome == Outcome::released);
  BOOST_TEST(!s.holder);
  BOOST_TEST(s.last_released == 1u);
  BOOST_TEST(s.fence == 1u);
  BOOST_TEST(s.epoch.number == 2u);
  BOOST_TEST(s.is_free());
}

BOOST_AUTO_TEST_CASE(release_retry_is_still_released) {
  auto s = held_by("a");
  release(s, unknown, 1);
  auto before = s;
  for (WitnessAge age : {unknown, WitnessAge(0), WitnessAge(100'000)}) {
    auto r = release(s, age, 1);
    BOOST_TEST(r.outcome == Outcome::released);
    BOOST_TEST(s == before);
  }
  // Once someone else got the lock, the old token is just not the holder,
  // and the newer grant is untouched.
  acquire(s, unknown, acq("b"));
  auto held = s;
  BOOST_TEST(release(s, unknown, 1).outcome == Outcome::not_holder);
  BOOST_TEST(s == held);
  BOOST_TEST(s.holder->owner == "b");
}

BOOST_AUTO_TEST_CASE(release_of_a_stale_or_wrong_token_is_not_holder) {
  auto s = held_by("a"); // token 1
  release(s, unknown, 1);
  acquire(s, unknown, acq("b")); // token 2
  release(s, unknown, 2);
  acquire(s, unknown, acq("c")); // token 3
  auto before = s;
  for (uint64_t token : {0ull, 1ull, 4ull, 99ull}) {
    BOOST_TEST_CONTEXT("token " << token) {
      auto r = release(s, unknown, token);
      BOOST_TEST(r.outcome == Outcome::not_holder);
      BOOST_TEST(s == before);
    }
  }
  // Token 0 is never "already released", even on a fresh lock.
  LockState fresh;
  BOOST_TEST(release(fresh, unknown, 0).outcome == Outcome::not_holder);
  BOOST_TEST(release(fresh, unknown, 1).outcome == Outcome::not_holder);
  BOOST_TEST(fresh == LockState{});
}

BOOST_AUTO_TEST_CASE(release_after_expiry_is_not_holder) {
  auto s = held_by("a");
  handoff(s, WitnessAge(1000)); // lease lapsed, dropped
  BOOST_TEST(!s.holder);
  BOOST_TEST(release(s, unknown, 1).outcome == Outcome::not_holder);
}

BOOST_AUTO_TEST_CASE(release_of_a_lapsed_but_untaken_lease_counts) {
  auto s = held_by("a");
  auto r = release(s, WitnessAge(5000), 1);
  BOOST_TEST(r.outcome == Outcome::released);
  BOOST_TEST(s.last_released == 1u);
  BOOST_TEST(!r.expired_holder);
}

BOOST_AUTO_TEST_CASE(release_reserves_the_head_waiter) {
  auto s = held_by("a");
  acquire(s, unknown, acq("b", true, 300));
  acquire(s, unknown, acq("c", true, 400));
  auto epoch = s.epoch.number;
  auto r = release(s, unknown, 1);
  BOOST_TEST(r.outcome == Outcome::released);
  BOOST_REQUIRE(s.reserved);
  BOOST_TEST(*s.reserved == (Waiter{"b", 300}));
  BOOST_TEST(queue_owners(s) == (Names{"c"}));
  BOOST_TEST(!s.holder);
  BOOST_TEST(s.epoch.number == epoch + 1); // one bump per change
}

BOOST_AUTO_TEST_CASE(reserved_waiter_claims_the_lock) {
  for (bool wait : {false, true}) {
    auto s = held_by("a");
    acquire(s, unknown, acq("b", true));
    acquire(s, unknown, acq("c", true));
    release(s, unknown, 1);
    auto epoch = s.epoch.number;
    // A fresh attempt (the claim) is what the lease is timed from.
    auto r = acquire(s, WitnessAge(reserve_ms - 1), acq("b", wait, 2000, 1, 4));
    BOOST_TEST(r.outcome == Outcome::granted);
    BOOST_TEST(r.token == 2u);
    BOOST_TEST(r.lease_ms == 2000u);
    BOOST_TEST(r.origin == origin("b", 1, 4));
    BOOST_TEST(!s.reserved);
    BOOST_TEST(s.holder->owner == "b");
    BOOST_TEST(queue_owners(s) == (Names{"c"}));
    BOOST_TEST(s.epoch.number == epoch + 1);
  }
}

// ---------------------------------------------------------------- reservations

BOOST_AUTO_TEST_CASE(reservation_lapses_only_when_witnessed) {
  auto make = [] {
    auto s = held_by("a");
    acquire(s, unknown, acq("b", true));
    acquire(s, unknown, acq("c", true));
    release(s, unknown, 1);
    return s;
  };
  for (WitnessAge age : {unknown, WitnessAge(0), WitnessAge(reserve_ms - 1)}) {
    auto s = make();
    auto before = s;
    auto r = handoff(s, age);
    BOOST_TEST(r.outcome == Outcome::observed);
    BOOST_TEST(s == before);
  }
  for (WitnessAge age : {WitnessAge(reserve_ms), WitnessAge(reserve_ms * 100)}) {
    auto s = make();
    auto epoch = s.epoch.number;
    handoff(s, age);
    BOOST_TEST(s.reserved->owner == "c"); // passed on; b is dropped entirely
    BOOST_TEST(s.queue.empty());
    BOOST_TEST(s.epoch.number == epoch + 1);
    BOOST_TEST(!s.holder);
  }
}

BOOST_AUTO_TEST_CASE(lapsed_reservation_without_more_waiters_frees_the_lock) {
  auto s = held_by("a");
  acquire(s, unknown, acq("b", true));
  release(s, unknown, 1);
  handoff(s, WitnessAge(reserve_ms));
  BOOST_TEST(s.is_free());
  BOOST_TEST(s.epoch.number == 3u); // grant, release+reserve, lapse
  // ...and anyone may now take it.
  auto r = acquire(s, unknown, acq("x"));
  BOOST_TEST(r.outcome == Outcome::granted);
  BOOST_TEST(r.token == 2u);
}

BOOST_AUTO_TEST_CASE(lapsed_reservation_lets_the_next_request_through) {
  auto s = held_by("a");
  acquire(s, unknown, acq("b", true));
  acquire(s, unknown, acq("c", true));
  release(s, unknown, 1);
  // A try-lock by c (next in line) after b's reservation lapsed.
  auto r = acquire(s, WitnessAge(reserve_ms), acq("c"));
  BOOST_TEST(r.outcome == Outcome::granted);
  BOOST_TEST(s.holder->owner == "c");
  BOOST_TEST(!s.reserved);
  // A stranger's request drops the lapsed reservation but cannot barge.
  s = held_by("a");
  acquire(s, unknown, acq("b", true));
  acquire(s, unknown, acq("c", true));
  release(s, unknown, 1);
  r = acquire(s, WitnessAge(reserve_ms), acq("x"));
  BOOST_TEST(r.outcome == Outcome::busy);
  BOOST_TEST(s.reserved->owner == "c");
}

BOOST_AUTO_TEST_CASE(late_claim_on_an_uncontested_lapsed_reservation_still_wins) {
  auto s = held_by("a");
  acquire(s, unknown, acq("b", true));
  release(s, unknown, 1);
  auto r = acquire(s, WitnessAge(reserve_ms * 3), acq("b", true, 1000, 1, 9));
  BOOST_TEST(r.outcome == Outcome::granted);
  BOOST_TEST(r.token == 2u);
}

// ---------------------------------------------------------------- expiry

BOOST_AUTO_TEST_CASE(expiry_needs_age_at_least_lease) {
  for (uint64_t lease : {100ull, 1000ull, 60'000ull}) {
    auto s = held_by("a", lease);
    auto before = s;
    handoff(s, unknown);
    handoff(s, WitnessAge(0));
    handoff(s, WitnessAge(lease - 1));
    observe(s, WitnessAge(lease - 1));
    BOOST_TEST(s == before);
    auto r = handoff(s, WitnessAge(lease));
    BOOST_TEST(r.expired_holder);
    BOOST_TEST(!s.holder);
    BOOST_TEST(s.is_free());
    BOOST_TEST(s.epoch.number == before.epoch.number + 1);
    BOOST_TEST(s.last_released == 0u);
  }
}

BOOST_AUTO_TEST_CASE(expiry_offers_the_lock_to_the_head_waiter) {
  auto s = held_by("a", 500);
  acquire(s, unknown, acq("b", true));
  acquire(s, unknown, acq("c", true));
  auto epoch = s.epoch.number;
  auto r = handoff(s, WitnessAge(500));
  BOOST_TEST(r.expired_holder);
  BOOST_TEST(s.reserved->owner == "b");
  BOOST_TEST(queue_owners(s) == (Names{"c"}));
  BOOST_TEST(s.epoch.number == epoch + 1);
  BOOST_TEST(r.waiters == 2u);
  BOOST_TEST(!r.observed_holder);
}

BOOST_AUTO_TEST_CASE(epoch_origin_is_cleared_on_bump_and_kept_otherwise) {
  auto s = held_by("a");
  s.epoch.origin = Ballot{7, 2, 99};
  acquire(s, unknown, acq("b", true)); // enqueue: no bump
  BOOST_TEST(s.epoch.origin == (Ballot{7, 2, 99}));
  observe(s, unknown);
  BOOST_TEST(s.epoch.origin == (Ballot{7, 2, 99}));
  release(s, unknown, 1);
  BOOST_TEST(s.epoch.origin.is_zero()); // the round stamps the new epoch
}

// ---------------------------------------------------------------- refresh

BOOST_AUTO_TEST_CASE(refresh_extends_the_current_lease) {
  auto s = held_by("a", 1000);
  auto r = refresh(s, WitnessAge(400), 1, origin("a", 2), 3000);
  BOOST_TEST(r.outcome == Outcome::refreshed);
  BOOST_TEST(r.token == 1u);
  BOOST_TEST(r.lease_ms == 3000u);
  BOOST_TEST(r.origin == origin("a", 2));
  BOOST_TEST(s.holder->lease_ms == 3000u);
  BOOST_TEST(s.holder->origin == origin("a", 2));
  BOOST_TEST(s.fence == 1u);
  BOOST_TEST(s.epoch.number == 2u);
}

BOOST_AUTO_TEST_CASE(refresh_retry_is_idempotent) {
  auto s = held_by("a", 1000);
  refresh(s, unknown, 1, origin("a", 2), 3000);
  auto before = s;
  for (WitnessAge age : {unknown, WitnessAge(10), WitnessAge(2999)}) {
    auto r = refresh(s, age, 1, origin("a", 2), 3000);
    BOOST_TEST(r.outcome == Outcome::refreshed);
    BOOST_TEST(r.origin == origin("a", 2));
    BOOST_TEST(s == before);
  }
}

BOOST_AUTO_TEST_CASE(refresh_needs_the_current_token) {
  auto s = held_by("a", 1000);
  auto before = s;
  for (uint64_t token : {0ull, 2ull, 7ull}) {
    auto r = refresh(s, unknown, token, origin("a", 2), 3000);
    BOOST_TEST(r.outcome == Outcome::not_holder);
    BOOST_TEST(s == before);
  }
  release(s, unknown, 1);
  BOOST_TEST(refresh(s, unknown, 1, origin("a", 3), 3000).outcome == Outcome::not_holder);
}

BOOST_AUTO_TEST_CASE(refresh_after_lapse_before_takeover_succeeds) {
  auto s = held_by("a", 1000);
  acquire(s, unknown, acq("b", true));
  auto r = refresh(s, WitnessAge(5000), 1, origin("a", 2), 1000);
  BOOST_TEST(r.outcome == Outcome::refreshed);
  BOOST_TEST(!r.expired_holder);
  BOOST_TEST(s.holder->owner == "a");
  BOOST_TEST(s.epoch.number == 2u); // the new epoch restarts the witnesses' timers
  BOOST_TEST(queue_owners(s) == (Names{"b"}));
}

BOOST_AUTO_TEST_CASE(refresh_after_takeover_fails) {
  auto s = held_by("a", 1000);
  acquire(s, WitnessAge(1000), acq("b")); // takeover
  auto before = s;
  auto r = refresh(s, unknown, 1, origin("a", 2), 1000);
  BOOST_TEST(r.outcome == Outcome::not_holder);
  BOOST_TEST(s == before);
}

BOOST_AUTO_TEST_CASE(refresh_with_wrong_token_still_applies_due_expiry) {
  auto s = held_by("a", 1000);
  auto r = refresh(s, WitnessAge(1000), 9, origin("x", 1), 1000);
  BOOST_TEST(r.outcome == Outcome::not_holder);
  BOOST_TEST(r.expired_holder);
  BOOST_TEST(!s.holder);
}

// ---------------------------------------------------------------- cancel

BOOST_AUTO_TEST_CASE(cancel_leaves_the_queue) {
  auto s = held_by("a");
  for (auto name : {"b", "c", "d"})
    acquire(s, unknown, acq(name, true));
  auto epoch = s.epoch;
  auto r = cancel(s, unknown, "c");
  BOOST_TEST(r.outcome == Outcome::cancelled);
  BOOST_TEST(queue_owners(s) == (Names{"b", "d"}));
  BOOST_TEST(s.epoch == epoch); // no lease changed
  BOOST_TEST(acquire(s, unknown, acq("d", true)).position == 2u);
  // Cancelling again, or someone who never waited, changes nothing.
  auto before = s;
  BOOST_TEST(cancel(s, unknown, "c").outcome == Outcome::cancelled);
  BOOST_TEST(cancel(s, unknown, "zz").outcome == Outcome::cancelled);
  BOOST_TEST(s == before);
  // The holder cannot cancel its way out of a lease.
  cancel(s, unknown, "a");
  BOOST_TEST(s == before);
}

BOOST_AUTO_TEST_CASE(cancel_returns_a_reservation_to_the_next_waiter) {
  auto s = held_by("a");
  acquire(s, unknown, acq("b", true));
  acquire(s, unknown, acq("c", true));
  release(s, unknown, 1);
  auto epoch = s.epoch.number;
  auto r = cancel(s, unknown, "b");
  BOOST_TEST(r.outcome == Outcome::cancelled);
  BOOST_TEST(s.reserved->owner == "c");
  BOOST_TEST(s.queue.empty());
  BOOST_TEST(s.epoch.number == epoch + 1);
  cancel(s, unknown, "c");
  BOOST_TEST(s.is_free());
}

// ---------------------------------------------------------------- handoff / observe

BOOST_AUTO_TEST_CASE(observe_reports_the_lock) {
  LockState free;
  auto r = observe(free, unknown);
  BOOST_TEST(r.outcome == Outcome::observed);
  BOOST_TEST(!r.observed_holder);
  BOOST_TEST(r.waiters == 0u);
  BOOST_TEST(r.fence == 0u);
  BOOST_TEST(free == LockState{});

  auto s = held_by("a", 1000);
  acquire(s, unknown, acq("b", true));
  acquire(s, unknown, acq("c", true));
  auto before = s;
  r = observe(s, WitnessAge(300));
  BOOST_TEST(s == before);
  BOOST_TEST(r.outcome == Outcome::observed);
  BOOST_REQUIRE(r.observed_holder);
  BOOST_TEST(r.observed_holder->owner == "a");
  BOOST_TEST(r.observed_holder->token == 1u);
  BOOST_TEST(r.remaining_ms == 700u);
  BOOST_TEST(r.waiters == 2u);
  BOOST_TEST(r.fence == 1u);
  // Unknown age: the whole lease may be left.
  BOOST_TEST(observe(s, unknown).remaining_ms == 1000u);
  BOOST_TEST(observe(s, WitnessAge(999)).remaining_ms == 1u);
}

BOOST_AUTO_TEST_CASE(observe_applies_due_expiry) {
  auto s = held_by("a", 1000);
  acquire(s, unknown, acq("b", true));
  auto r = observe(s, WitnessAge(1000));
  BOOST_TEST(r.expired_holder);
  BOOST_TEST(!r.observed_holder);
  BOOST_TEST(r.remaining_ms == 0u);
  BOOST_TEST(s.reserved->owner == "b");
  BOOST_TEST(r.waiters == 1u);
  BOOST_TEST(r.fence == 1u);
}

BOOST_AUTO_TEST_CASE(handoff_without_due_work_changes_nothing) {
  auto s = held_by("a", 1000);
  acquire(s, unknown, acq("b", true));
  auto before = s;
  auto r = handoff(s, WitnessAge(999));
  BOOST_TEST(r.outcome == Outcome::observed);
  BOOST_TEST(!r.expired_holder);
  BOOST_TEST(s == before);
}

BOOST_AUTO_TEST_CASE(handoff_due_times) {
  LockState s;
  BOOST_TEST(handoff_due_ms(s) == std::optional<uint64_t>());
  s = held_by("a", 1234);
  BOOST_TEST(handoff_due_ms(s) == std::optional<uint64_t>()); // nobody waits
  acquire(s, unknown, acq("b", true));
  BOOST_TEST(handoff_due_ms(s) == std::optional<uint64_t>(1234));
  release(s, unknown, 1);
  BOOST_TEST(handoff_due_ms(s) == std::optional<uint64_t>(reserve_ms));
  LockState pending;
  pending.queue = {Waiter{"b", 100}};
  BOOST_TEST(handoff_due_ms(pending) == std::optional<uint64_t>(0));
}

BOOST_AUTO_TEST_CASE(expired_holder_flag_marks_only_expiry) {
  auto s = held_by("a", 1000);
  BOOST_TEST(!acquire(s, WitnessAge(999), acq("b")).expired_holder);
  BOOST_TEST(!release(s, WitnessAge(999), 1).expired_holder);
  s = held_by("a", 1000);
  BOOST_TEST(acquire(s, WitnessAge(1000), acq("b")).expired_holder);
  s = held_by("a", 1000);
  BOOST_TEST(release(s, WitnessAge(1000), 77).expired_holder);
  s = held_by("a", 1000);
  BOOST_TEST(cancel(s, WitnessAge(1000), "zz").expired_holder);
  s = held_by("a", 1000);
  acquire(s, unknown, acq("b", true));
  BOOST_TEST(acquire(s, WitnessAge(1000), acq("c", true)).expired_holder);
  s = held_by("a", 1000);
  BOOST_TEST(!handoff(s, unknown).expired_holder);
}

// ---------------------------------------------------------------- property test

namespace {

enum class Op { acquire, release, refresh, cancel, handoff, observe };

struct Checker {
  uint64_t max_token = 0;
  std::string last_error;

  // Returns false (with a reason) when a step broke an invariant.
  bool check(const LockState& pre, const LockState& post, Op op, const std::string& who,
             uint64_t token, bool wait, WitnessAge age, const Result& r) {
    auto fail = [&](const std::string& why) {
      last_error = why;
      return false;
    };
    if (post.fence < pre.fence)
      return fail("fence decreased");
    if (post.epoch.number < pre.epoch.number)
      return fail("epoch decreased");
    if (post.epoch.number > pre.epoch.number + 1)
      return fail("epoch bumped more than once in one change");
    if (post.holder && post.reserved)
      return fail("holder and reservation both set");
    if (post.holder && post.holder->token != post.fence)
      return fail("holder token is not the fence");
    if (post.queue.size() > max_queue_length)
      return fail("queue above the cap");
    std::set<std::string> owners;
    for (auto& w : post.queue)
      if (!owners.insert(w.owner).second)
        return fail("owner queued twice: " + w.owner);
    if (post.holder && owners.count(post.holder->owner))
      return fail("holder also queued");
    if (post.reserved && owners.count(post.reserved->owner))
      return fail("reserved waiter also queued");
    bool lease_changed = !(post.holder == pre.holder) || !(post.reserved == pre.reserved);
    bool epoch_changed = post.epoch.number != pre.epoch.number;
    if (lease_changed != epoch_changed)
      return fail("epoch bump does not match a lease change");
    if (epoch_changed && !post.epoch.origin.is_zero())
      return fail("bumped epoch kept its old origin");
    if (!epoch_changed && post.epoch.origin != pre.epoch.origin)
      return fail("epoch origin changed without a bump");

    // Grants: tokens strictly increase; same token only for the same holder.
    bool new_grant = post.fence != pre.fence;
    if (new_grant) {
      if (post.fence != pre.fence + 1)
        return fail("fence jumped");
      if (r.outcome != Outcome::granted || r.token != post.fence || op != Op::acquire)
        return fail("fence moved without a grant");
      if (r.token <= max_token)
        return fail("new token not above all earlier ones");
      max_token = r.token;
      // FIFO: only the reserved waiter, the head, or anyone when nobody waits.
      bool was_reserved = pre.reserved && pre.reserved->owner == who;
      bool head = !pre.queue.empty() && pre.queue.front().owner == who;
      if (!was_reserved && !head && !pre.queue.empty())
        return fail("grant barged past waiters");
    }
    if (r.outcome == Outcome::granted) {
      if (op != Op::acquire || !post.holder || post.holder->owner != who ||
          r.token != post.holder->token || !(r.origin == post.holder->origin) ||
          r.lease_ms != post.holder->lease_ms)
        return fail("granted result does not match the holder");
      if (!new_grant && (!pre.holder || pre.holder->owner != who || pre.holder->token != r.token))
        return fail("old token granted to someone other than its holder");
    }
    // A waiting acquire is busy only as an attempt of a request that is
    // over, and then changes nothing.
    if (r.outcome == Outcome::busy && r.stale_attempt && !(pre == post))
      return fail("a finished request's attempt changed the lock");
    if (r.outcome == Outcome::busy && (op != Op::acquire || (wait && !r.stale_attempt)))
      return fail("busy for a waiting acquire");
    if (r.outcome == Outcome::queued) {
      size_t i = static_cast<size_t>(r.position) - 1 - (post.reserved ? 1 : 0);
      if (r.position == 0 || i >= post.queue.size() || post.queue[i].owner != who)
        return fail("queued position does not match the queue");
    }
    if (r.outcome == Outcome::queue_full && pre.queue.size() < max_queue_length)
      return fail("queue_full below the cap");
    if (r.outcome == Outcome::released) {
      bool current = pre.holder && pre.holder->token == token;
      if (!current && !(token != 0 && pre.last_released == token))
        return fail("released a token that was neither current nor released");
    }
    if (r.outcome == Outcome::refreshed &&
        (!post.holder || post.holder->token != token || !pre.holder || pre.holder->token != token))
      return fail("refreshed a token that is not current");
    if (r.outcome == Outcome::not_holder && pre.holder && pre.holder->token == token)
      return fail("not_holder for the current token");

    // A lease ends only by its own release or by a witnessed expiry.
    if (pre.holder && (!post.holder || post.holder->token != pre.holder->token)) {
      bool released = op == Op::release && token == pre.holder->token;
      bool expired = age && *age >= pre.holder->lease_ms;
      if (!released && !expired)
        return fail("lease ended early");
      if (r.expired_holder != !released)
        return fail("expired_holder flag wrong");
    } else if (r.expired_holder) {
      return fail("expired_holder without expiry");
    }
    // A reservation ends by its claim, its cancel, or a witnessed lapse.
    if (pre.reserved && (!post.reserved || post.reserved->owner != pre.reserved->owner)) {
      bool by_owner = who == pre.reserved->owner && (op == Op::acquire || op == Op::cancel);
      bool lapsed = age && *age >= reserve_ms;
      if (!by_owner && !lapsed)
        return fail("reservation ended early");
      if (by_owner && op == Op::acquire && !lapsed && r.outcome != Outcome::granted)
        return fail("reserved waiter was not granted");
    }
    // Waiters leave the queue only to be served or by cancelling; order kept.
    std::vector<std::string> kept;
    for (auto& w : pre.queue) {
      bool served = (post.reserved && post.reserved->owner == w.owner) ||
                    (post.holder && post.holder->owner == w.owner);
      if (owners.count(w.owner))
        kept.push_back(w.owner);
      else if (!served && !(op == Op::cancel && who == w.owner))
        return fail("waiter vanished: " + w.owner);
    }
    for (size_t i = 0; i < kept.size(); ++i)
      if (post.queue[i].owner != kept[i])
        return fail("queue order changed");
    if (post.queue.size() > kept.size() + 1)
      return fail("more than one waiter added");
    if (post.queue.size() == kept.size() + 1 &&
        (post.queue.back().owner != who || op != Op::acquire || !wait))
      return fail("unexpected waiter added");
    return true;
  }
};

struct Fuzzer {
  std::mt19937 rng;
  std::vector<std::string> owners;
  std::map<std::string, LeaseOrigin> last_origin;
  uint64_t next_request = 1;

  Fuzzer(uint32_t seed, size_t owner_count) : rng(seed) {
    for (size_t i = 0; i < owner_count; ++i)
      owners.push_back("o" + std::to_string(i));
  }

  size_t pick(size_t n) { return std::uniform_int_distribution<size_t>(0, n - 1)(rng); }
  bool chance(int percent) { return pick(100) < static_cast<size_t>(percent); }

  size_t unknown_age_percent = 0;

  WitnessAge age(const LockState& s) {
    if (chance(static_cast<int>(unknown_age_percent)))
      return unknown;
    switch (pick(8)) {
    case 0:
    case 1:
      return unknown;
    case 2:
      return WitnessAge(0);
    case 3:
      return WitnessAge(s.holder ? s.holder->lease_ms - 1 : reserve_ms - 1);
    case 4:
      return WitnessAge(s.holder ? s.holder->lease_ms : reserve_ms);
    case 5:
      return WitnessAge(reserve_ms + pick(2));
    default:
      return WitnessAge(pick(3000));
    }
  }

  uint64_t ttl() {
    static const uint64_t ttls[] = {100, 500, 1000, 2500};
    return ttls[pick(4)];
  }

  LeaseOrigin fresh_origin(const std::string& owner) {
    LeaseOrigin o{owner + "-c", next_request++, static_cast<uint32_t>(pick(3))};
    last_origin[owner] = o;
    return o;
  }

  LeaseOrigin some_origin(const std::string& owner) {
    auto it = last_origin.find(owner);
    if (it != last_origin.end() && chance(40))
      return it->second; // an exact retry
    return fresh_origin(owner);
  }

  uint64_t token(const LockState& s) {
    switch (pick(5)) {
    case 0:
    case 1:
      return s.holder ? s.holder->token : s.fence;
    case 2:
      return s.last_released;
    case 3:
      return s.fence == 0 ? 0 : 1 + pick(static_cast<size_t>(s.fence));
    default:
      return pick(3) == 0 ? 0 : s.fence + 1;
    }
  }
};

// Runs one random sequence; returns an error text or "".
std::string run_sequence(uint32_t seed, size_t owner_count, int steps, int wait_percent,
                         size_t* queue_full_seen = nullptr) {
  Fuzzer f(seed, owner_count);
  // Long queues build up only while leases rarely lapse.
  bool long_queue = owner_count > max_queue_length;
  f.unknown_age_percent = long_queue ? 90 : 0;
  int acquire_percent = long_queue ? 85 : 40;
  Checker c;
  LockState s;
  for (int step = 0; step < steps; ++step) {
    auto pre = s;
    auto age = f.age(s);
    std::string who = f.owners[f.pick(f.owners.size())];
    // Prefer the reserved waiter sometimes, so that claims happen.
    if (s.reserved && f.chance(30))
      who = s.reserved->owner;
    uint64_t token = 0;
    bool wait = false;
    Op op;
    Result r;
    size_t kind = f.chance(acquire_percent) ? 0 : 4 + f.pick(6);
    switch (kind) {
    case 0: {
      op = Op::acquire;
      wait = f.chance(wait_percent);
      AcquireArgs a{who, f.some_origin(who), f.ttl(), wait};
      r = acquire(s, age, a);
      break;
    }
    case 4:
    case 5:
      op = Op::release;
      token = f.token(s);
      r = release(s, age, token);
      break;
    case 6:
      op = Op::refresh;
      token = f.token(s);
      who = s.holder ? s.holder->owner : who;
      r = refresh(s, age, token, f.some_origin(who), f.ttl());
      break;
    case 7:
      op = Op::cancel;
      if (!s.queue.empty() && f.chance(50))
        who = s.queue[f.pick(s.queue.size())].owner;
      r = cancel(s, age, who);
      break;
    case 8:
      op = Op::handoff;
      r = handoff(s, age);
      break;
    default:
      op = Op::observe;
      r = observe(s, age);
      break;
    }
    if (queue_full_seen && r.outcome == Outcome::queue_full)
      ++*queue_full_seen;
    if (!c.check(pre, s, op, who, token, wait, age, r)) {
      std::ostringstream os;
      os << "seed " << seed << " step " << step << " op " << static_cast<int>(op) << " by " << who
         << " token " << token << " wait " << wait << " age "
         << (age ? std::to_string(*age) : "unknown") << " -> " << r.outcome << ": " << c.last_error
         << "\n  before " << pre << "\n  after  " << s;
      return os.str();
    }
  }
  return {};
}

} // namespace

BOOST_AUTO_TEST_CASE(random_sequences_keep_the_invariants) {
  int failures = 0;
  for (uint32_t seed = 1; seed <= 4000 && failures < 3; ++seed) {
    auto error = run_sequence(seed, 2 + seed % 6, 80, 60);
    if (!error.empty()) {
      ++failures;
      BOOST_ERROR(error);
    }
  }
  BOOST_TEST(failures == 0);
}

BOOST_AUTO_TEST_CASE(random_sequences_with_a_full_queue_keep_the_invariants) {
  int failures = 0;
  size_t full = 0;
  for (uint32_t seed = 1; seed <= 12 && failures < 3; ++seed) {
    auto error = run_sequence(100'000 + seed, max_queue_length + 40, 1500, 95, &full);
    if (!error.empty()) {
      ++failures;
      BOOST_ERROR(error);
    }
  }
  BOOST_TEST(failures == 0);
  BOOST_TEST(full > 0u); // the cap was actually reached
}

BOOST_AUTO_TEST_CASE(the_checker_catches_a_broken_change) {
  // The property test must be able to fail: feed it a forged step.
  Checker c;
  auto pre = held_by("a", 1000);
  auto post = pre;
  post.holder.reset(); // dropped without release or witnessed expiry
  ++post.epoch.number;
  Result r;
  r.outcome = Outcome::observed;
  BOOST_TEST(!c.check(pre, post, Op::handoff, "x", 0, false, WitnessAge(999), r));
  BOOST_TEST(c.last_error == "lease ended early");
  post = pre;
  post.fence = 0;
  BOOST_TEST(!c.check(pre, post, Op::observe, "x", 0, false, unknown, r));
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(release_retries)

// A request that may already have taken effect (a retried round, a client
// retry) reads "released" for the last released token even after a newer
// grant; a fresh request with that token is not the holder.
BOOST_AUTO_TEST_CASE(retried_release_finds_its_own_effect) {
  using namespace godistlock::core;
  LockState s;
  AcquireArgs a{"a", LeaseOrigin{"c1", 1, 0}, 1000, false};
  AcquireArgs b{"b", LeaseOrigin{"c2", 1, 0}, 1000, false};
  BOOST_TEST((acquire(s, std::nullopt, a).outcome == Outcome::granted));
  BOOST_TEST((release(s, std::nullopt, 1).outcome == Outcome::released));
  BOOST_TEST((acquire(s, std::nullopt, b).outcome == Outcome::granted));
  auto before = s;
  BOOST_TEST((release(s, std::nullopt, 1, true).outcome == Outcome::released));
  BOOST_TEST((release(s, std::nullopt, 1, false).outcome == Outcome::not_holder));
  BOOST_TEST((s == before)); // the newer grant is untouched either way
  BOOST_TEST((release(s, std::nullopt, 5, true).outcome == Outcome::not_holder));
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(grant_accounting)

// Only a change that issues a new token reports a new grant; the holder's
// re-acquire and an exact retry do not (the node's grant counter uses it).
BOOST_AUTO_TEST_CASE(only_new_tokens_are_new_grants) {
  using namespace godistlock::core;
  LockState s;
  AcquireArgs first{"a", LeaseOrigin{"c1", 1, 0}, 1000, false};
  AcquireArgs again{"a", LeaseOrigin{"c1", 2, 0}, 1000, false};
  BOOST_TEST(acquire(s, std::nullopt, first).new_grant);
  BOOST_TEST(!acquire(s, std::nullopt, first).new_grant);
  BOOST_TEST(!acquire(s, std::nullopt, again).new_grant);
  BOOST_TEST(release(s, std::nullopt, 1).outcome == Outcome::released);
  // `again` was granted and released: a late copy of it is over.
  BOOST_TEST(!acquire(s, std::nullopt, again).new_grant);
  AcquireArgs next{"a", LeaseOrigin{"c1", 3, 0}, 1000, false};
  BOOST_TEST(acquire(s, std::nullopt, next).new_grant);
}

BOOST_AUTO_TEST_SUITE_END()
