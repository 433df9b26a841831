// Requests that are over stay over, and waiters that left stop holding up
// the queue (issue 10 §2): the change functions alone, no actors.
#include "core/change.hpp"
#include "core/limits.hpp"
#include "printers.hpp"

#include <boost/test/unit_test.hpp>

#include <string>
#include <vector>

using namespace godistlock::core;

namespace {

const WitnessAge unknown = std::nullopt;

LeaseOrigin sent(const std::string& client, uint64_t request, uint32_t attempt = 0) {
  return LeaseOrigin{client, request, attempt};
}

AcquireArgs try_lock(const std::string& owner, const LeaseOrigin& o, uint64_t ttl = 1000) {
  return AcquireArgs{owner, o, ttl, false};
}

AcquireArgs waiting(const std::string& owner, const LeaseOrigin& o, uint64_t wait_ms,
                    uint64_t ttl = 1000) {
  AcquireArgs a{owner, o, ttl, true};
  a.wait_ms = wait_ms;
  return a;
}

} // namespace

BOOST_AUTO_TEST_SUITE(finished_requests)

// The reported phantom grant: an attempt delayed in a busy node arrives
// after its client was granted (by a retry) and released.
BOOST_AUTO_TEST_CASE(a_released_grant_is_never_granted_again) {
  LockState s;
  BOOST_TEST(acquire(s, unknown, try_lock("a", sent("ca", 1, 1))).outcome == Outcome::granted);
  BOOST_TEST(release(s, WitnessAge(10), 1).outcome == Outcome::released);
  auto after_release = s;
  // Both the attempt the lease was timed from, a later one and an earlier
  // one (all sent before the client heard of its grant).
  for (uint32_t attempt : {0u, 1u, 2u, 7u}) {
    BOOST_TEST_CONTEXT("attempt " << attempt) {
      auto r = acquire(s, WitnessAge(20), try_lock("a", sent("ca", 1, attempt)));
      BOOST_TEST(r.outcome == Outcome::busy);
      BOOST_TEST(r.stale_attempt);
      BOOST_TEST(s == after_release);
      r = acquire(s, WitnessAge(20), waiting("a", sent("ca", 1, attempt), 5000));
      BOOST_TEST(r.outcome == Outcome::busy);
      BOOST_TEST(s == after_release);
    }
  }
  // The client's next request is a new one.
  auto r = acquire(s, WitnessAge(30), try_lock("a", sent("ca", 2)));
  BOOST_TEST(r.outcome == Outcome::granted);
  BOOST_TEST(r.token == 2u);
}

// A refresh moved the lease's origin to a later request of the same
// client; the acquire before it is over too once the grant is released.
BOOST_AUTO_TEST_CASE(release_ends_every_earlier_request_of_the_owner_in_that_client) {
  LockState s;
  acquire(s, unknown, try_lock("a", sent("ca", 1)));
  BOOST_TEST(refresh(s, WitnessAge(5), 1, sent("ca", 2), 1000).outcome == Outcome::refreshed);
  release(s, WitnessAge(6), 1);
  BOOST_TEST(acquire(s, WitnessAge(7), try_lock("a", sent("ca", 1, 3))).outcome == Outcome::busy);
  BOOST_TEST(s.fence == 1u);
  // Another owner of the same client process, and the same owner from
  // another process, are not affected.
  BOOST_TEST(acquire(s, WitnessAge(8), try_lock("b", sent("ca", 1))).outcome == Outcome::granted);
  release(s, WitnessAge(1), 2);
  BOOST_TEST(acquire(s, WitnessAge(9), try_lock("a", sent("other", 1))).outcome ==
             Outcome::granted);
}

// A lapsed grant's client may never have heard of it and may still be
// retrying: its later attempts may be granted, earlier ones not.
BOOST_AUTO_TEST_CASE(a_lapsed_grant_ends_only_the_attempts_up_to_its_origin) {
  LockState s;
  acquire(s, unknown, try_lock("a", sent("ca", 1, 2), 100));
  BOOST_TEST(acquire(s, WitnessAge(150), try_lock("b", sent("cb", 1))).outcome == Outcome::granted);
  BOOST_TEST(release(s, WitnessAge(1), 2).outcome == Outcome::released);
  auto before = s;
  BOOST_TEST(acquire(s, WitnessAge(2), try_lock("a", sent("ca", 1, 1))).outcome == Outcome::busy);
  BOOST_TEST(acquire(s, WitnessAge(2), try_lock("a", sent("ca", 1, 2))).outcome == Outcome::busy);
  BOOST_TEST(s == before);
  auto r = acquire(s, WitnessAge(2), try_lock("a", sent("ca", 1, 3)));
  BOOST_TEST(r.outcome == Outcome::granted);
  BOOST_TEST(r.token == 3u);
}

// The reported phantom waiter: a waiter gave up and cancelled, then an
// attempt of its acquire delayed in transit arrives.
BOOST_AUTO_TEST_CASE(a_cancelled_wait_never_queues_again) {
  LockState s;
  acquire(s, unknown, try_lock("holder", sent("ch", 1), 60'000));
  BOOST_TEST(acquire(s, WitnessAge(1), waiting("a", sent("ca", 4), 10'000)).outcome ==
             Outcome::queued);
  cancel(s, WitnessAge(2), "a", sent("ca", 4, UINT32_MAX));
  BOOST_TEST(s.queue.empty());
  for (uint32_t attempt : {0u, 5u}) {
    auto r = acquire(s, WitnessAge(3), waiting("a", sent("ca", 4, attempt), 9000));
    BOOST_TEST(r.outcome == Outcome::busy);
    BOOST_TEST(s.queue.empty());
  }
  BOOST_TEST(acquire(s, WitnessAge(4), waiting("a", sent("ca", 5), 9000)).outcome ==
             Outcome::queued);
}

// A node cancels for a client whose connection is gone, up to the attempt
// it had: the client, if alive, goes on with later attempts elsewhere.
BOOST_AUTO_TEST_CASE(a_cancel_for_one_attempt_leaves_later_attempts_free) {
  LockState s;
  acquire(s, unknown, try_lock("holder", sent("ch", 1), 60'000));
  acquire(s, WitnessAge(1), waiting("a", sent("ca", 1, 3), 10'000));
  cancel(s, WitnessAge(2), "a", sent("ca", 1, 3));
  BOOST_TEST(acquire(s, WitnessAge(3), waiting("a", sent("ca", 1, 2), 9000)).outcome ==
             Outcome::busy);
  BOOST_TEST(acquire(s, WitnessAge(3), waiting("a", sent("ca", 1, 4), 9000)).outcome ==
             Outcome::queued);
}

BOOST_AUTO_TEST_CASE(finished_requests_are_bounded_one_per_owner_and_client) {
  LockState s;
  for (uint64_t i = 1; i <= 20; ++i) {
    acquire(s, unknown, try_lock("a", sent("ca", i)));
    release(s, WitnessAge(1), s.fence);
  }
  BOOST_REQUIRE_EQUAL(s.finished.size(), 1u);
  BOOST_TEST(s.finished[0].last.request == 20u);
  for (int c = 0; c < 20; ++c) {
    auto client = "c" + std::to_string(c);
    acquire(s, unknown, try_lock(client, sent(client, 1)));
    release(s, WitnessAge(1), s.fence);
  }
  BOOST_TEST(s.finished.size() == max_finished_requests);
  BOOST_TEST(s.finished.back().owner == "c19");
  // An older cancel does not move an entry back.
  cancel(s, WitnessAge(1), "c19", sent("c19", 0));
  BOOST_TEST(s.finished.back().last.request == 1u);
}

// ---------------------------------------------------------------- waiters that left

// A waiter whose process died cannot cancel: its entry ends with its wait
// (plus the margin), and the lock is never offered to it after that.
BOOST_AUTO_TEST_CASE(a_waiter_leaves_the_queue_when_its_wait_is_over) {
  LockState s;
  acquire(s, unknown, try_lock("holder", sent("ch", 1), 60'000));
  acquire(s, WitnessAge(0), waiting("gone", sent("cg", 1), 2000));
  acquire(s, WitnessAge(0), waiting("alive", sent("cl", 1), 60'000));
  BOOST_TEST(queue_owners(s) == (Names{"gone", "alive"}));
  auto early = s;
  release(early, WitnessAge(2000 + waiter_margin_ms - 1), 1);
  BOOST_TEST(early.reserved->owner == "gone");
  release(s, WitnessAge(2000 + waiter_margin_ms), 1);
  BOOST_REQUIRE(s.reserved);
  BOOST_TEST(s.reserved->owner == "alive");
  BOOST_TEST(s.queue.empty());
}

// Entries count from the epoch's birth; when the epoch moves on, what is
// left of each wait carries over.
BOOST_AUTO_TEST_CASE(a_waiters_end_carries_over_epoch_bumps) {
  LockState s;
  acquire(s, unknown, try_lock("holder", sent("ch", 1), 10'000));
  acquire(s, WitnessAge(0), waiting("w", sent("cw", 1), 5000)); // ends at 6000
  BOOST_TEST(refresh(s, WitnessAge(4000), 1, sent("ch", 2), 10'000).outcome == Outcome::refreshed);
  BOOST_TEST(s.queue.front().expires_ms == 2000u);
  auto early = s;
  release(early, WitnessAge(1999), 1);
  BOOST_TEST(early.reserved->owner == "w");
  release(s, WitnessAge(2000), 1);
  BOOST_TEST(s.is_free());
}

// Time nobody witnessed is not taken off a wait: an unknown age never ends
// a queue entry (as it never ends a lease).
BOOST_AUTO_TEST_CASE(an_unknown_age_ends_no_waiter) {
  LockState s;
  acquire(s, unknown, try_lock("holder", sent("ch", 1), 60'000));
  acquire(s, WitnessAge(0), waiting("w", sent("cw", 1), 10));
  release(s, unknown, 1);
  BOOST_REQUIRE(s.reserved);
  BOOST_TEST(s.reserved->owner == "w");
}

// A waiter without a deadline sends the longest wait with every attempt;
// its entry is renewed when half of it is gone, not on every attempt.
BOOST_AUTO_TEST_CASE(a_long_wait_is_renewed_by_the_waiters_attempts) {
  LockState s;
  acquire(s, unknown, try_lock("holder", sent("ch", 1), 100 * max_wait_ms));
  auto life = max_wait_ms + waiter_margin_ms;
  acquire(s, WitnessAge(0), waiting("w", sent("cw", 1), max_wait_ms));
  BOOST_TEST(s.queue.front().expires_ms == life);
  auto before = s;
  acquire(s, WitnessAge(life / 2 - 10), waiting("w", sent("cw", 1, 1), max_wait_ms));
  BOOST_TEST(s == before);
  acquire(s, WitnessAge(life / 2 + 10), waiting("w", sent("cw", 1, 2), max_wait_ms));
  BOOST_TEST(s.queue.front().expires_ms == life / 2 + 10 + life);
  BOOST_TEST(s.epoch == before.epoch);
}

// Records written before queue entries had an end keep theirs endless.
BOOST_AUTO_TEST_CASE(entries_without_an_end_never_lapse) {
  LockState s;
  acquire(s, unknown, try_lock("holder", sent("ch", 1), 60'000));
  s.queue.push_back(Waiter{"old", 1000});
  release(s, WitnessAge(10'000'000), 1);
  BOOST_REQUIRE(s.reserved);
  BOOST_TEST(s.reserved->owner == "old");
}

BOOST_AUTO_TEST_SUITE_END()
