// The one-round-trip path of a round (CASPaxos 2.2.1): a proposer whose
// last accept was taken by a majority starts its next round at the promise
// that accept carried, on the value it decided.
#include "core/change.hpp"
#include "core/round.hpp"
#include "printers.hpp"

#include <boost/test/unit_test.hpp>

using namespace godistlock::core;

namespace {

const Ballot next{8, 1, 1};
const PromiseSet accepters{{"a", 1}, {"b", 2}};

LockState held_by(const std::string& owner, uint64_t token) {
  LockState s;
  s.fence = token;
  s.epoch = Epoch{3, Ballot{7, 1, 1}};
  s.holder = Holder{owner, token, 1000, LeaseOrigin{owner + "-c", 1, 0}};
  return s;
}

Change acquire_by(const std::string& owner) {
  AcquireArgs a{owner, LeaseOrigin{owner + "-c", 5, 0}, 1000, false};
  return [a](LockState& s, WitnessAge age) { return acquire(s, age, a); };
}

Accepted yes(const std::string& node, uint64_t incarnation) {
  Accepted a;
  a.ok = true;
  a.voter = Voter{node, incarnation};
  return a;
}

} // namespace

BOOST_AUTO_TEST_SUITE(one_round_trip)

BOOST_AUTO_TEST_CASE(a_free_lock_is_granted_without_a_prepare) {
  Round r(next, 2, acquire_by("x"));
  BOOST_REQUIRE(r.skip_prepare(LockState{}, accepters));
  BOOST_TEST(r.phase() == Round::Phase::accepting);
  BOOST_TEST(r.result().outcome == Outcome::granted);
  BOOST_TEST(r.proposal().fence == 1u);
  BOOST_TEST(r.proposal().epoch.origin == next); // a new epoch is stamped with this ballot
  BOOST_TEST((r.promise_set() == accepters));
  BOOST_TEST(r.on_accepted(2, yes("b", 2)) == Round::Phase::accepting);
  BOOST_TEST(r.on_accepted(2, yes("b", 2)) == Round::Phase::accepting); // duplicate
  BOOST_TEST(r.on_accepted(0, yes("self", 9)) == Round::Phase::decided);
  BOOST_TEST((r.accept_set() == PromiseSet{{"b", 2}, {"self", 9}}));
}

BOOST_AUTO_TEST_CASE(the_holder_releasing_does_not_depend_on_age) {
  auto s = held_by("x", 4);
  Round r(next, 2, [](LockState& st, WitnessAge age) { return release(st, age, 4); });
  // Releasing a lapsed lease or a live one ends the same way: free, fence 4.
  // If the outcomes differ (released vs. not held), the prepare is needed.
  bool skipped = r.skip_prepare(s, accepters);
  if (skipped) {
    BOOST_TEST(!r.proposal().holder);
    BOOST_TEST(r.proposal().fence == 4u);
  } else {
    BOOST_TEST(r.phase() == Round::Phase::preparing);
  }
}

BOOST_AUTO_TEST_CASE(a_takeover_needs_the_witnesses) {
  // Another owner may take the lock only if its lease lapsed, which only
  // the acceptors' clocks can tell: no shortcut.
  Round r(next, 2, acquire_by("y"));
  BOOST_TEST(!r.skip_prepare(held_by("x", 4), accepters));
  BOOST_TEST(r.phase() == Round::Phase::preparing);
  BOOST_TEST(r.promise_set().empty());
}

BOOST_AUTO_TEST_CASE(refresh_by_the_holder_is_age_independent) {
  // The holder may refresh a lapsed lease nobody took over yet (change.cpp),
  // so the outcome does not depend on the witnesses.
  Round r(next, 2, [](LockState& st, WitnessAge age) {
    return refresh(st, age, 4, LeaseOrigin{"x-c", 9, 0}, 1000);
  });
  BOOST_REQUIRE(r.skip_prepare(held_by("x", 4), accepters));
  BOOST_TEST(r.result().outcome == Outcome::refreshed);
  BOOST_TEST(r.proposal().epoch.number == 4u);
}

BOOST_AUTO_TEST_CASE(a_stale_token_needs_the_witnesses) {
  // A refresh with an old token expires a lapsed holder as a side effect,
  // which only the acceptors' clocks can decide.
  Round r(next, 2, [](LockState& st, WitnessAge age) {
    return refresh(st, age, 3, LeaseOrigin{"z-c", 9, 0}, 1000);
  });
  BOOST_TEST(!r.skip_prepare(held_by("x", 4), accepters));
}

BOOST_AUTO_TEST_CASE(only_before_the_prepare) {
  Round r(next, 1, acquire_by("x"));
  Promise p;
  p.ok = true;
  r.on_promise(0, p);
  BOOST_TEST(r.phase() == Round::Phase::accepting);
  BOOST_TEST(!r.skip_prepare(LockState{}, accepters));
}

BOOST_AUTO_TEST_SUITE_END()
