// One lock's Paxos register: the acceptor (core/acceptor.hpp), the proposer's
// round bookkeeping (core/round.hpp), and a deterministic simulation of
// competing proposers over a lossy, duplicating, reordering network.
#include "core/acceptor.hpp"
#include "core/ballot.hpp"
#include "core/change.hpp"
#include "core/round.hpp"
#include "printers.hpp"

#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <chrono>
#include <map>
#include <memory>
#include <queue>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <tuple>
#include <vector>

using namespace godistlock::core;
using std::chrono::milliseconds;

namespace {

const Instant t0 = Instant{} + std::chrono::hours(1);

Instant at_ms(uint64_t ms) {
  return t0 + milliseconds(ms);
}

LockState state_with(uint64_t fence, uint64_t epoch, Ballot origin = {}) {
  LockState s;
  s.fence = fence;
  s.epoch = Epoch{epoch, origin};
  return s;
}

LockState held(const std::string& owner, uint64_t token, uint64_t epoch, Ballot origin,
               uint64_t lease = 1000) {
  auto s = state_with(token, epoch, origin);
  s.holder = Holder{owner, token, lease, LeaseOrigin{owner + "-c", 1, 0}};
  return s;
}

Promise promise(Ballot accepted, LockState value, uint64_t age_ms = 0) {
  Promise p;
  p.ok = true;
  p.accepted = accepted;
  p.value = std::move(value);
  p.age_ms = age_ms;
  return p;
}

Promise nack(Ballot conflict) {
  Promise p;
  p.conflict = conflict;
  return p;
}

Change acquire_change(const std::string& owner, bool wait = false, uint64_t ttl = 1000) {
  AcquireArgs a{owner, LeaseOrigin{owner + "-c", 1, 0}, ttl, wait};
  return [a](LockState& s, WitnessAge age) { return acquire(s, age, a); };
}

Change observe_change() {
  return [](LockState& s, WitnessAge age) { return observe(s, age); };
}

// Records the witness age the round hands to the change.
Change spy_change(std::optional<WitnessAge>& seen) {
  return [&seen](LockState& s, WitnessAge age) {
    seen = age;
    return observe(s, age);
  };
}

const Ballot b1{1, 1, 11};
const Ballot b2{2, 1, 11};
const Ballot b3{3, 1, 11};
const Ballot b4{4, 1, 11};
const Ballot b5{5, 1, 11};

} // namespace

// ==================================================================== ballots

BOOST_AUTO_TEST_SUITE(ballots)

BOOST_AUTO_TEST_CASE(ballots_order_by_counter_then_node_then_nonce) {
  BOOST_TEST((Ballot{1, 9, 9} < Ballot{2, 0, 0}));
  BOOST_TEST((Ballot{2, 1, 9} < Ballot{2, 2, 0}));
  BOOST_TEST((Ballot{2, 2, 1} < Ballot{2, 2, 2}));
  BOOST_TEST((Ballot{2, 2, 2} == Ballot{2, 2, 2}));
  BOOST_TEST((Ballot{2, 2, 2} <= Ballot{2, 2, 2}));
  BOOST_TEST((Ballot{2, 2, 2} != Ballot{2, 2, 3}));
  BOOST_TEST(Ballot{}.is_zero());
  BOOST_TEST(!(Ballot{0, 0, 1}.is_zero()));
  BOOST_TEST(to_string(Ballot{3, 2, 1}) == "(3,2,1)");
}

BOOST_AUTO_TEST_CASE(ballot_source_counts_up_and_fast_forwards) {
  BallotSource src(4, 77);
  BOOST_TEST(src.node() == 4u);
  BOOST_TEST(src.next() == (Ballot{1, 4, 77}));
  BOOST_TEST(src.next() == (Ballot{2, 4, 77}));
  src.observe(Ballot{10, 9, 1});
  BOOST_TEST(src.next() == (Ballot{11, 4, 77}));
  src.observe(Ballot{3, 9, 1}); // never goes back
  BOOST_TEST(src.next() == (Ballot{12, 4, 77}));
  src.observe(Ballot{}); // a timeout carries no ballot
  auto b = src.next();
  BOOST_TEST(b == (Ballot{13, 4, 77}));
  // After observing a competitor's ballot, the next one beats it.
  Ballot rival{50, 9, 0};
  src.observe(rival);
  BOOST_TEST(src.next() > rival);
}

BOOST_AUTO_TEST_SUITE_END()

// ==================================================================== acceptor

BOOST_AUTO_TEST_SUITE(acceptor)

BOOST_AUTO_TEST_CASE(fresh_acceptor_promises) {
  Acceptor a({}, at_ms(0));
  auto p = a.prepare(b1, at_ms(250));
  BOOST_TEST(p.ok);
  BOOST_TEST(p.accepted.is_zero());
  BOOST_TEST(p.value == LockState{});
  BOOST_TEST(p.age_ms == 250u);
  BOOST_TEST(a.record().promised == b1);
  BOOST_TEST(a.record().accepted.is_zero());
}

BOOST_AUTO_TEST_CASE(zero_ballot_is_never_promised) {
  Acceptor a;
  auto p = a.prepare(Ballot{}, at_ms(0));
  BOOST_TEST(!p.ok);
}

BOOST_AUTO_TEST_CASE(prepare_rejects_lower_or_equal_ballots) {
  Acceptor a;
  BOOST_TEST(a.prepare(b3, at_ms(0)).ok);
  for (auto b : {b1, b2, b3, Ballot{3, 0, 99}, Ballot{3, 1, 10}}) {
    BOOST_TEST_CONTEXT("ballot " << b) {
      auto p = a.prepare(b, at_ms(1));
      BOOST_TEST(!p.ok);
      BOOST_TEST(p.conflict == b3); // names the ballot that beat it
    }
  }
  BOOST_TEST(a.record().promised == b3);
  BOOST_TEST(a.prepare(Ballot{3, 1, 12}, at_ms(2)).ok); // higher nonce
  BOOST_TEST(a.prepare(Ballot{3, 2, 0}, at_ms(3)).ok);  // higher node
  BOOST_TEST(a.prepare(b4, at_ms(4)).ok);
  BOOST_TEST(a.record().promised == b4);
}

BOOST_AUTO_TEST_CASE(accept_rules) {
  Acceptor a;
  BOOST_TEST(a.prepare(b3, at_ms(0)).ok);
  auto v = held("x", 1, 1, b3);
  // Below the promise: refused, naming the promise.
  auto r = a.accept(b2, v, Ballot{}, at_ms(1));
  BOOST_TEST(!r.ok);
  BOOST_TEST(r.conflict == b3);
  BOOST_TEST(a.record().accepted.is_zero());
  // At the promise: accepted.
  r = a.accept(b3, v, Ballot{}, at_ms(2));
  BOOST_TEST(r.ok);
  BOOST_TEST(a.record().accepted == b3);
  BOOST_TEST(a.record().value == v);
  BOOST_TEST(a.record().promised == b3);
  // The same ballot again (a duplicate, or another value): refused.
  r = a.accept(b3, v, Ballot{}, at_ms(3));
  BOOST_TEST(!r.ok);
  BOOST_TEST(r.conflict == b3);
  r = a.accept(b3, state_with(9, 9), Ballot{}, at_ms(3));
  BOOST_TEST(!r.ok);
  BOOST_TEST(a.record().value == v);
  // Above the promise without a prepare: accepted (phase 2 may skip 1).
  auto v5 = held("x", 1, 2, b5);
  r = a.accept(b5, v5, Ballot{}, at_ms(4));
  BOOST_TEST(r.ok);
  BOOST_TEST(a.record().promised == b5);
  // A prepare at or below the accepted ballot is refused.
  auto p = a.prepare(b5, at_ms(5));
  BOOST_TEST(!p.ok);
  BOOST_TEST(p.conflict == b5);
  p = a.prepare(Ballot{6, 0, 0}, at_ms(6));
  BOOST_TEST(p.ok);
  BOOST_TEST(p.accepted == b5);
  BOOST_TEST(p.value == v5);
}

BOOST_AUTO_TEST_CASE(nack_carries_the_highest_conflicting_ballot) {
  // A record whose accepted ballot is above its promise (possible when an
  // accept skipped the prepare and the promise was stored separately).
  AcceptorRecord rec{b2, b4, state_with(1, 1)};
  Acceptor a(rec, at_ms(0));
  auto p = a.prepare(b3, at_ms(1));
  BOOST_TEST(!p.ok);
  BOOST_TEST(p.conflict == b4);
  auto r = a.accept(b3, state_with(2, 2), Ballot{}, at_ms(1));
  BOOST_TEST(!r.ok);
  BOOST_TEST(r.conflict == b4);
  BOOST_TEST(a.record() == rec); // refusals change nothing
}

BOOST_AUTO_TEST_CASE(prepare_does_not_touch_the_value_or_its_age) {
  AcceptorRecord rec{b1, b1, held("x", 1, 1, b1)};
  Acceptor a(rec, at_ms(100));
  auto p = a.prepare(b2, at_ms(400));
  BOOST_TEST(p.ok);
  BOOST_TEST(p.age_ms == 300u);
  BOOST_TEST(p.value == rec.value);
  BOOST_TEST(p.accepted == b1);
  BOOST_TEST(a.epoch_seen() == at_ms(100));
  p = a.prepare(b3, at_ms(900));
  BOOST_TEST(p.age_ms == 800u);
}

BOOST_AUTO_TEST_CASE(epoch_seen_resets_only_when_the_epoch_changes) {
  Acceptor a({}, at_ms(0));
  auto e1 = held("x", 1, 1, b1);
  BOOST_TEST(a.accept(b1, e1, Ballot{}, at_ms(100)).ok);
  BOOST_TEST(a.epoch_seen() == at_ms(100));
  BOOST_TEST(a.age_ms(at_ms(350)) == 250u);

  // Same epoch (an enqueue, a rewrite at a higher ballot): the timer runs on.
  auto e1q = e1;
  e1q.queue.push_back(Waiter{"y", 100});
  BOOST_TEST(a.accept(b2, e1q, Ballot{}, at_ms(200)).ok);
  BOOST_TEST(a.epoch_seen() == at_ms(100));
  BOOST_TEST(a.prepare(b3, at_ms(700)).age_ms == 600u);

  // Same epoch number, other origin ballot: another lease, a new timer.
  auto e1other = e1q;
  e1other.epoch.origin = b3;
  BOOST_TEST(a.accept(b3, e1other, Ballot{}, at_ms(800)).ok);
  BOOST_TEST(a.epoch_seen() == at_ms(800));

  // A new epoch number: a new timer.
  auto e2 = e1other;
  e2.epoch = Epoch{2, b4};
  BOOST_TEST(a.accept(b4, e2, Ballot{}, at_ms(900)).ok);
  BOOST_TEST(a.epoch_seen() == at_ms(900));
  BOOST_TEST(a.age_ms(at_ms(900)) == 0u);

  // A refused accept does not restart anything.
  auto e3 = e2;
  e3.epoch = Epoch{3, b3};
  BOOST_TEST(!a.accept(b3, e3, Ballot{}, at_ms(1000)).ok);
  BOOST_TEST(a.epoch_seen() == at_ms(900));
}

BOOST_AUTO_TEST_CASE(age_is_whole_milliseconds_and_never_negative) {
  Acceptor a({}, at_ms(1000));
  BOOST_TEST(a.age_ms(at_ms(1000) + std::chrono::microseconds(999)) == 0u);
  BOOST_TEST(a.age_ms(at_ms(1001) + std::chrono::microseconds(999)) == 1u);
  BOOST_TEST(a.age_ms(at_ms(500)) == 0u); // a clock before the start: no age
}

BOOST_AUTO_TEST_CASE(restarted_acceptor_times_from_its_boot) {
  AcceptorRecord rec{b2, b2, held("x", 1, 1, b2)};
  Acceptor a(rec, at_ms(5000));
  BOOST_TEST(a.prepare(b3, at_ms(5200)).age_ms == 200u);
}

BOOST_AUTO_TEST_CASE(next_promise_enables_the_one_round_trip_path) {
  Acceptor a;
  BOOST_TEST(a.prepare(b1, at_ms(0)).ok);
  auto v1 = held("x", 1, 1, b1);
  Ballot next{2, 1, 11};
  BOOST_TEST(a.accept(b1, v1, next, at_ms(1)).ok);
  BOOST_TEST(a.record().promised == next);
  BOOST_TEST(a.record().accepted == b1);
  // Nobody else can prepare at or below the promised ballot...
  auto p = a.prepare(Ballot{2, 0, 999}, at_ms(2));
  BOOST_TEST(!p.ok);
  BOOST_TEST(p.conflict == next);
  BOOST_TEST(!a.prepare(next, at_ms(2)).ok);
  // ...so the same proposer's next change needs only the accept.
  auto v2 = v1;
  v2.holder->lease_ms = 5000;
  Ballot next2{3, 1, 11};
  BOOST_TEST(a.accept(next, v2, next2, at_ms(3)).ok);
  BOOST_TEST(a.record().value == v2);
  BOOST_TEST(a.record().promised == next2);
}

BOOST_AUTO_TEST_CASE(a_rival_prepare_voids_the_cached_promise) {
  Acceptor a;
  a.prepare(b1, at_ms(0));
  Ballot next{2, 1, 11};
  BOOST_TEST(a.accept(b1, held("x", 1, 1, b1), next, at_ms(1)).ok);
  Ballot rival{2, 2, 0};
  auto p = a.prepare(rival, at_ms(2));
  BOOST_TEST(p.ok);
  auto r = a.accept(next, held("x", 1, 2, next), Ballot{3, 1, 11}, at_ms(3));
  BOOST_TEST(!r.ok);
  BOOST_TEST(r.conflict == rival);
}

BOOST_AUTO_TEST_CASE(next_promise_below_the_ballot_is_ignored) {
  Acceptor a;
  BOOST_TEST(a.accept(b3, state_with(0, 0), b1, at_ms(0)).ok);
  BOOST_TEST(a.record().promised == b3);
  BOOST_TEST(a.accept(b4, state_with(0, 0), Ballot{}, at_ms(0)).ok);
  BOOST_TEST(a.record().promised == b4);
}

BOOST_AUTO_TEST_SUITE_END()

// ==================================================================== round

BOOST_AUTO_TEST_SUITE(paxos_round)

BOOST_AUTO_TEST_CASE(round_collects_a_quorum_of_distinct_promises) {
  Round r(b5, 2, acquire_change("a"));
  BOOST_TEST(r.ballot() == b5);
  BOOST_TEST(r.phase() == Round::Phase::preparing);
  BOOST_TEST(r.on_promise(0, promise(Ballot{}, LockState{})) == Round::Phase::preparing);
  // A duplicate delivery from the same acceptor does not count twice.
  BOOST_TEST(r.on_promise(0, promise(Ballot{}, LockState{})) == Round::Phase::preparing);
  BOOST_TEST(r.on_promise(0, promise(Ballot{}, LockState{})) == Round::Phase::preparing);
  BOOST_TEST(r.on_promise(2, promise(Ballot{}, LockState{})) == Round::Phase::accepting);
  BOOST_TEST(r.result().outcome == Outcome::granted);
  BOOST_TEST(r.proposal().holder->owner == "a");
  BOOST_TEST(r.proposal().fence == 1u);
  BOOST_TEST(!r.decided_without_accept());
}

BOOST_AUTO_TEST_CASE(quorum_of_three_out_of_five) {
  Round r(b5, 3, acquire_change("a"));
  BOOST_TEST(r.on_promise(4, promise(Ballot{}, LockState{})) == Round::Phase::preparing);
  BOOST_TEST(r.on_promise(1, promise(Ballot{}, LockState{})) == Round::Phase::preparing);
  BOOST_TEST(r.on_promise(1, promise(Ballot{}, LockState{})) == Round::Phase::preparing);
  BOOST_TEST(r.on_promise(3, promise(Ballot{}, LockState{})) == Round::Phase::accepting);
  BOOST_TEST(r.on_accepted(4, Accepted{true, {}}) == Round::Phase::accepting);
  BOOST_TEST(r.on_accepted(4, Accepted{true, {}}) == Round::Phase::accepting);
  BOOST_TEST(r.on_accepted(0, Accepted{true, {}}) == Round::Phase::accepting);
  BOOST_TEST(r.on_accepted(2, Accepted{true, {}}) == Round::Phase::decided);
  BOOST_TEST(r.phase() == Round::Phase::decided);
}

BOOST_AUTO_TEST_CASE(accepts_before_the_accept_phase_are_ignored) {
  Round r(b5, 1, acquire_change("a"));
  BOOST_TEST(r.on_accepted(0, Accepted{true, {}}) == Round::Phase::preparing);
  BOOST_TEST(r.on_promise(0, promise(Ballot{}, LockState{})) == Round::Phase::accepting);
  BOOST_TEST(r.on_accepted(0, Accepted{true, {}}) == Round::Phase::decided);
  // Late messages after the decision change nothing.
  BOOST_TEST(r.on_accepted(1, Accepted{false, b5}) == Round::Phase::decided);
  BOOST_TEST(r.on_promise(1, nack(b5)) == Round::Phase::decided);
}

BOOST_AUTO_TEST_CASE(highest_accepted_ballot_is_adopted_in_any_order) {
  // Three acceptors report values from three ballots; the highest descends
  // from every chosen value, so the change must start from it.
  std::vector<std::pair<uint32_t, Promise>> replies = {
      {0, promise(b2, held("x", 3, 3, b2), 10)},
      {1, promise(b4, held("y", 7, 8, b4), 20)},
      {2, promise(b3, held("z", 5, 5, b3), 30)},
  };
  std::vector<size_t> order = {0, 1, 2};
  do {
    Round r(b5, 3, acquire_change("w", true));
    for (auto i : order)
      r.on_promise(replies[i].first, replies[i].second);
    BOOST_TEST(r.phase() == Round::Phase::accepting);
    BOOST_TEST(r.proposal().holder->owner == "y");
    BOOST_TEST(r.proposal().fence == 7u);
    BOOST_TEST(r.proposal().queue.size() == 1u);
    BOOST_TEST(r.result().outcome == Outcome::queued);
  } while (std::next_permutation(order.begin(), order.end()));
}

BOOST_AUTO_TEST_CASE(witness_age_is_the_max_among_holders_of_the_current_epoch) {
  auto cur = held("x", 3, 3, b3);
  auto lagging_same_epoch = cur; // same epoch, lower ballot (before an enqueue)
  auto old_epoch = held("x", 3, 2, b2);
  auto other_origin = held("x", 3, 3, b2); // same number, other lease

  std::optional<WitnessAge> seen;
  Round r(b5, 4, spy_change(seen));
  r.on_promise(0, promise(b4, cur, 100));
  r.on_promise(1, promise(b3, lagging_same_epoch, 250));
  r.on_promise(2, promise(b2, old_epoch, 90'000));
  r.on_promise(3, promise(b3, other_origin, 80'000));
  BOOST_REQUIRE(seen.has_value());
  BOOST_TEST(*seen == WitnessAge(250));
}

BOOST_AUTO_TEST_CASE(witness_age_drives_expiry_and_stamps_the_new_epoch) {
  auto cur = held("x", 3, 3, b3, 1000);
  // Only the stale acceptor's clock says "expired": no takeover.
  {
    Round r(b5, 2, acquire_change("w"));
    r.on_promise(0, promise(b3, cur, 999));
    r.on_promise(1, promise(b2, held("x", 3, 2, b2, 1000), 50'000));
    BOOST_TEST(r.result().outcome == Outcome::busy);
  }
  // A witness of the current epoch says so: takeover, new token.
  {
    Round r(b5, 2, acquire_change("w"));
    r.on_promise(0, promise(b3, cur, 1000));
    r.on_promise(1, promise(b3, cur, 10));
    BOOST_TEST(r.phase() == Round::Phase::accepting);
    BOOST_TEST(r.result().outcome == Outcome::granted);
    BOOST_TEST(r.result().expired_holder);
    BOOST_TEST(r.result().token == 4u);
    BOOST_TEST(r.proposal().epoch == (Epoch{4, b5})); // stamped with this round's ballot
  }
}

BOOST_AUTO_TEST_CASE(unchanged_epoch_keeps_its_origin) {
  auto cur = held("x", 3, 3, b3);
  Round r(b5, 1, acquire_change("w", true)); // enqueue only
  r.on_promise(0, promise(b3, cur));
  BOOST_TEST(r.phase() == Round::Phase::accepting);
  BOOST_TEST(r.proposal().epoch == (Epoch{3, b3}));
}

BOOST_AUTO_TEST_CASE(read_only_shortcut_when_unchanged_and_identical) {
  auto cur = held("x", 3, 3, b3);
  Round r(b5, 2, observe_change());
  r.on_promise(0, promise(b3, cur, 10));
  BOOST_TEST(r.on_promise(1, promise(b3, cur, 20)) == Round::Phase::decided);
  BOOST_TEST(r.decided_without_accept());
  BOOST_TEST(r.result().outcome == Outcome::observed);
  BOOST_TEST(r.result().observed_holder->owner == "x");
  BOOST_TEST(r.proposal() == cur);
}

BOOST_AUTO_TEST_CASE(no_shortcut_when_acceptors_disagree) {
  auto cur = held("x", 3, 3, b3);
  {
    // A lagging acceptor: the value must be written back to a quorum.
    Round r(b5, 2, observe_change());
    r.on_promise(0, promise(b3, cur));
    r.on_promise(1, promise(b2, held("x", 3, 2, b2)));
    BOOST_TEST(r.phase() == Round::Phase::accepting);
    BOOST_TEST(!r.decided_without_accept());
    BOOST_TEST(r.proposal() == cur);
  }
  {
    // Same value at different ballots is not "identical" either.
    Round r(b5, 2, observe_change());
    r.on_promise(0, promise(b3, cur));
    r.on_promise(1, promise(b4, cur));
    BOOST_TEST(r.phase() == Round::Phase::accepting);
  }
  {
    // Identical promises but the change writes: no shortcut.
    Round r(b5, 2, acquire_change("w", true));
    r.on_promise(0, promise(b3, cur));
    r.on_promise(1, promise(b3, cur));
    BOOST_TEST(r.phase() == Round::Phase::accepting);
    BOOST_TEST(!r.decided_without_accept());
  }
  {
    // Identical promises but a due expiry changes the value.
    Round r(b5, 2, observe_change());
    r.on_promise(0, promise(b3, cur, 1000));
    r.on_promise(1, promise(b3, cur, 1000));
    BOOST_TEST(r.phase() == Round::Phase::accepting);
    BOOST_TEST(!r.proposal().holder);
  }
}

BOOST_AUTO_TEST_CASE(nack_fails_the_round) {
  Round r(b3, 2, acquire_change("a"));
  r.on_promise(0, promise(Ballot{}, LockState{}));
  BOOST_TEST(r.on_promise(1, nack(b4)) == Round::Phase::failed);
  BOOST_TEST(r.conflict() == b4);
  // Nothing revives a failed round.
  BOOST_TEST(r.on_promise(2, promise(Ballot{}, LockState{})) == Round::Phase::failed);
  BOOST_TEST(r.on_accepted(2, Accepted{true, {}}) == Round::Phase::failed);

  Round r2(b3, 2, acquire_change("a"));
  r2.on_promise(0, promise(Ballot{}, LockState{}));
  r2.on_promise(1, promise(Ballot{}, LockState{}));
  BOOST_TEST(r2.on_accepted(0, Accepted{true, {}}) == Round::Phase::accepting);
  BOOST_TEST(r2.on_accepted(1, Accepted{false, b5}) == Round::Phase::failed);
  BOOST_TEST(r2.conflict() == b5);
  BOOST_TEST(r2.on_accepted(2, Accepted{true, {}}) == Round::Phase::failed);
}

BOOST_AUTO_TEST_CASE(promises_after_the_quorum_are_ignored) {
  Round r(b5, 2, acquire_change("a"));
  r.on_promise(0, promise(Ballot{}, LockState{}));
  r.on_promise(1, promise(Ballot{}, LockState{}));
  auto proposal = r.proposal();
  // A later promise with a higher value must not change what is proposed.
  BOOST_TEST(r.on_promise(2, promise(b4, held("z", 9, 9, b4))) == Round::Phase::accepting);
  BOOST_TEST(r.on_promise(2, nack(b5)) == Round::Phase::accepting);
  BOOST_TEST(r.proposal() == proposal);
}

BOOST_AUTO_TEST_CASE(next_promise_is_the_following_ballot_of_this_node) {
  Round r(Ballot{7, 3, 99}, 2, observe_change());
  BOOST_TEST(r.next_promise() == (Ballot{8, 3, 99}));
  BOOST_TEST(r.next_promise() > r.ballot());
}

BOOST_AUTO_TEST_CASE(round_over_real_acceptors) {
  // Three acceptors, one proposer: a grant, then a 1-RTT release.
  std::vector<Acceptor> acc(3, Acceptor({}, at_ms(0)));
  BallotSource src(1, 5);
  Round r(src.next(), 2, acquire_change("a"));
  for (uint32_t i = 0; i < 3; ++i)
    r.on_promise(i, acc[i].prepare(r.ballot(), at_ms(10)));
  BOOST_REQUIRE(r.phase() == Round::Phase::accepting);
  for (uint32_t i = 0; i < 2; ++i)
    r.on_accepted(i, acc[i].accept(r.ballot(), r.proposal(), r.next_promise(), at_ms(20)));
  BOOST_REQUIRE(r.phase() == Round::Phase::decided);
  BOOST_TEST(r.result().token == 1u);
  BOOST_TEST(acc[0].record().value.epoch == (Epoch{1, r.ballot()}));

  // 1-RTT: accept at the promised next ballot, skipping the prepare.
  auto v = r.proposal();
  BOOST_TEST(release(v, std::nullopt, 1).outcome == Outcome::released);
  v.epoch.origin = r.next_promise();
  Ballot nb{r.next_promise().counter + 1, 1, 5};
  BOOST_TEST(acc[0].accept(r.next_promise(), v, nb, at_ms(30)).ok);
  BOOST_TEST(acc[1].accept(r.next_promise(), v, nb, at_ms(30)).ok);
  // Acceptor 2 missed the first accept, so it only promised the old
  // ballot; it accepts the higher one too.
  BOOST_TEST(acc[2].accept(r.next_promise(), v, nb, at_ms(30)).ok);

  // A second proposer must go past the cached promise.
  BallotSource other(0, 1);
  Round r2(other.next(), 2, acquire_change("b"));
  for (uint32_t i = 0; i < 3; ++i)
    r2.on_promise(i, acc[i].prepare(r2.ballot(), at_ms(40)));
  BOOST_TEST(r2.phase() == Round::Phase::failed);
  other.observe(r2.conflict());
  Round r3(other.next(), 2, acquire_change("b"));
  for (uint32_t i = 0; i < 3; ++i)
    r3.on_promise(i, acc[i].prepare(r3.ballot(), at_ms(50)));
  BOOST_REQUIRE(r3.phase() == Round::Phase::accepting);
  BOOST_TEST(r3.result().token == 2u);
}

BOOST_AUTO_TEST_SUITE_END()

// ==================================================================== simulation

namespace sim {

using Us = uint64_t; // simulated global time in microseconds

enum class Kind { prepare, promise, accept, accepted, wake, timeout };

struct Event {
  Us at = 0;
  uint64_t seq = 0;
  Kind kind = Kind::wake;
  uint32_t from = 0; // node index of the sender
  uint32_t to = 0;   // node index of the receiver (proposer index for wake/timeout)
  uint64_t round = 0;
  Ballot ballot;
  Ballot next_promise;
  // Payloads are shared and immutable: events stay cheap to queue and copy.
  std::shared_ptr<const LockState> value;
  std::shared_ptr<const Promise> promise;
  Accepted accepted;
};

struct Later {
  bool operator()(const Event& a, const Event& b) const {
    return std::tie(a.at, a.seq) > std::tie(b.at, b.seq);
  }
};

struct Config {
  uint32_t seed = 1;
  size_t nodes = 3;
  size_t proposers = 2;
  int ops_per_proposer = 30;
  bool one_rtt = true;
  uint64_t lying_witness_ms = 0; // fault injection: added to every reported age
};

struct Stats {
  uint64_t events = 0, grants = 0, takeovers = 0, fast_decisions = 0, read_only = 0, claims = 0,
           failed_rounds = 0, unknown_ops = 0, drops = 0, duplicates = 0, reservations_lapsed = 0;
  void add(const Stats& o) {
    events += o.events;
    grants += o.grants;
    takeovers += o.takeovers;
    fast_decisions += o.fast_decisions;
    read_only += o.read_only;
    claims += o.claims;
    failed_rounds += o.failed_rounds;
    unknown_ops += o.unknown_ops;
    drops += o.drops;
    duplicates += o.duplicates;
    reservations_lapsed += o.reservations_lapsed;
  }
};

struct Client {
  std::string owner;
  std::optional<uint64_t> token; // the grant this client believes it holds
  Us valid_until = 0;            // end of the lease it trusts (global time)
  bool waiting = false;
  uint64_t wait_request = 0;
  uint32_t wait_attempt = 0;
};

enum class OpKind { acquire, release, refresh, handoff };

struct Op {
  OpKind kind = OpKind::handoff;
  size_t client = 0;
  LeaseOrigin origin;
  Us sent_at = 0;
  uint64_t ttl = 0;
  bool wait = false;
  uint64_t token = 0;
};

struct Proposer {
  uint32_t node = 0;
  BallotSource source{0, 0};
  std::vector<Client> clients;
  std::optional<Op> op;
  int tries = 0;
  int ops_left = 0;
  uint64_t round_id = 0; // 0: no round in flight
  std::optional<Round> round;
  // The 1-RTT path: a round that only sends accepts at a cached promise.
  bool fast = false;
  Ballot fast_ballot;
  LockState fast_value;
  Result fast_result;
  std::set<uint32_t> fast_acks;
  std::optional<std::pair<Ballot, LockState>> cache;
};

struct Grant {
  Ballot ballot;
  uint64_t token;
  std::string owner;
};

class Simulation {
public:
  explicit Simulation(const Config& cfg) : cfg_(cfg), rng_(cfg.seed) {
    quorum_ = cfg.nodes / 2 + 1;
    drop_percent_ = pick(15);
    dup_percent_ = pick(10);
    max_delay_us_ = 1000 + pick(20'000);
    for (size_t i = 0; i < cfg.nodes; ++i) {
      offsets_.push_back(static_cast<Us>(rng_() % 1'000'000'000'000ull));
      acceptors_.emplace_back(AcceptorRecord{}, clock(static_cast<uint32_t>(i)));
    }
    for (size_t p = 0; p < cfg.proposers; ++p) {
      Proposer pr;
      pr.node = static_cast<uint32_t>(p);
      pr.source = BallotSource(pr.node, rng_());
      pr.ops_left = cfg.ops_per_proposer;
      for (int c = 0; c < 2; ++c) {
        Client client;
        client.owner = "p" + std::to_string(p) + "c" + std::to_string(c);
        pr.clients.push_back(client);
      }
      proposers_.push_back(std::move(pr));
      schedule_wake(p, pick(50'000));
    }
  }

  // Runs to the end; returns "" or the first violation.
  std::string run() {
    while (!events_.empty() && error_.empty()) {
      Event ev = events_.top();
      events_.pop();
      now_ = ev.at;
      ++stats_.events;
      handle(ev);
      if (error_.empty())
        check_acceptors();
    }
    if (error_.empty())
      check_history();
    return error_;
  }

  const Stats& stats() const { return stats_; }

private:
  // ------------------------------------------------------------ plumbing

  size_t pick(size_t n) { return n == 0 ? 0 : static_cast<size_t>(rng_() % n); }
  bool chance(size_t percent) { return pick(100) < percent; }

  Instant clock(uint32_t node) const {
    return Instant{} + std::chrono::microseconds(offsets_[node] + now_);
  }

  void push(Event ev) {
    ev.seq = ++seq_;
    events_.push(std::move(ev));
  }

  // The network: loses, duplicates and delays (hence reorders) messages.
  void send(Event ev) {
    if (chance(drop_percent_)) {
      ++stats_.drops;
      return;
    }
    int copies = chance(dup_percent_) ? 2 : 1;
    stats_.duplicates += static_cast<uint64_t>(copies - 1);
    for (int i = 0; i < copies; ++i) {
      Event e = ev;
      e.at = now_ + pick(max_delay_us_);
      push(std::move(e));
    }
  }

  void schedule_wake(size_t p, Us delay) {
    Event ev;
    ev.kind = Kind::wake;
    ev.to = static_cast<uint32_t>(p);
    ev.at = now_ + delay;
    push(std::move(ev));
  }

  void fail(const std::string& why) {
    if (!error_.empty())
      return;
    std::ostringstream os;
    os << "seed " << cfg_.seed << " (" << cfg_.nodes << " nodes, " << cfg_.proposers
       << " proposers) at t=" << now_ << "us: " << why;
    error_ = os.str();
  }

  // ------------------------------------------------------------ dispatch

  void handle(const Event& ev) {
    switch (ev.kind) {
    case Kind::prepare: {
      auto p = acceptors_[ev.to].prepare(ev.ballot, clock(ev.to));
      if (p.ok)
        p.age_ms += cfg_.lying_witness_ms;
      Event reply;
      reply.kind = Kind::promise;
      reply.from = ev.to;
      reply.to = ev.from;
      reply.round = ev.round;
      reply.promise = std::make_shared<const Promise>(std::move(p));
      send(std::move(reply));
      break;
    }
    case Kind::accept: {
      auto a = acceptors_[ev.to].accept(ev.ballot, *ev.value, ev.next_promise, clock(ev.to));
      if (a.ok)
        record_accept(ev.to, ev.ballot, *ev.value);
      Event reply;
      reply.kind = Kind::accepted;
      reply.from = ev.to;
      reply.to = ev.from;
      reply.round = ev.round;
      reply.accepted = a;
      send(std::move(reply));
      break;
    }
    case Kind::promise:
      on_promise(proposers_[ev.to], ev);
      break;
    case Kind::accepted:
      on_accepted(proposers_[ev.to], ev);
      break;
    case Kind::wake: {
      auto& p = proposers_[ev.to];
      if (p.op)
        start_round(p);
      else
        start_op(p);
      break;
    }
    case Kind::timeout: {
      auto& p = proposers_[ev.to];
      if (ev.round == p.round_id && p.round_id != 0)
        round_failed(p, Ballot{});
      break;
    }
    }
  }

  void broadcast(Proposer& p, Kind kind, const Ballot& b, const LockState* v, const Ballot& nb) {
    std::shared_ptr<const LockState> value;
    if (v)
      value = std::make_shared<const LockState>(*v);
    for (uint32_t n = 0; n < cfg_.nodes; ++n) {
      Event ev;
      ev.kind = kind;
      ev.from = p.node;
      ev.to = n;
      ev.round = p.round_id;
      ev.ballot = b;
      ev.next_promise = nb;
      ev.value = value;
      send(std::move(ev));
    }
  }

  // ------------------------------------------------------------ clients

  void remember_send(const LeaseOrigin& o) {
    sent_at_[std::make_tuple(o.client, o.request, o.attempt)] = now_;
  }

  void start_op(Proposer& p) {
    if (p.ops_left <= 0)
      return;
    --p.ops_left;
    Op op;
    op.sent_at = now_;
    op.ttl = 100 + 50 * pick(5);
    if (chance(12)) {
      op.kind = OpKind::handoff;
    } else {
      op.client = pick(p.clients.size());
      auto& c = p.clients[op.client];
      if (c.waiting) {
        if (chance(10)) { // the waiter gives up silently: its reservation must lapse
          c.waiting = false;
          next_op(p);
          return;
        }
        op.kind = OpKind::acquire;
        op.wait = true;
        op.origin = LeaseOrigin{c.owner, c.wait_request, ++c.wait_attempt};
      } else if (c.token) {
        auto r = pick(100);
        if (r < 40) {
          op.kind = OpKind::release;
          op.token = *c.token;
          c.token.reset();
          c.valid_until = std::min(c.valid_until, now_); // stops before it sends
        } else if (r < 65) {
          op.kind = OpKind::refresh;
          op.token = *c.token;
          op.origin = LeaseOrigin{c.owner, ++next_request_, 0};
        } else if (r < 80) { // the holder vanishes: its lease must expire
          c.token.reset();
          next_op(p);
          return;
        } else {
          op.kind = OpKind::acquire; // re-acquire while holding
          op.wait = chance(50);
          op.origin = LeaseOrigin{c.owner, ++next_request_, 0};
        }
      } else {
        op.kind = OpKind::acquire;
        op.wait = chance(60);
        op.origin = LeaseOrigin{c.owner, ++next_request_, 0};
      }
      if (op.kind == OpKind::acquire || op.kind == OpKind::refresh)
        remember_send(op.origin);
    }
    p.op = op;
    p.tries = 0;
    start_round(p);
  }

  Change make_change(const Proposer& p) const {
    const Op& op = *p.op;
    switch (op.kind) {
    case OpKind::acquire: {
      AcquireArgs a{p.clients[op.client].owner, op.origin, op.ttl, op.wait};
      return [a](LockState& s, WitnessAge age) { return acquire(s, age, a); };
    }
    case OpKind::release: {
      auto token = op.token;
      return [token](LockState& s, WitnessAge age) { return release(s, age, token); };
    }
    case OpKind::refresh: {
      auto token = op.token;
      auto origin = op.origin;
      auto ttl = op.ttl;
      return [=](LockState& s, WitnessAge age) { return refresh(s, age, token, origin, ttl); };
    }
    case OpKind::handoff:
      break;
    }
    return [](LockState& s, WitnessAge age) { return handoff(s, age); };
  }

  void start_round(Proposer& p) {
    p.round_id = ++round_counter_;
    Event timeout;
    timeout.kind = Kind::timeout;
    timeout.to = p.node;
    timeout.round = p.round_id;
    timeout.at = now_ + 3 * max_delay_us_ + 2000;
    push(std::move(timeout));
    auto change = make_change(p);
    if (cfg_.one_rtt && p.cache && p.op->kind != OpKind::handoff && chance(70)) {
      // Accept-only round at the promise the last accept secured.
      auto [b, v] = *p.cache;
      p.cache.reset();
      p.source.observe(b); // never issue this ballot again
      LockState next = v;
      p.fast_result = change(next, std::nullopt);
      if (next.epoch.number != v.epoch.number)
        next.epoch.origin = b;
      p.fast = true;
      p.fast_ballot = b;
      p.fast_value = next;
      p.fast_acks.clear();
      p.round.reset();
      broadcast(p, Kind::accept, b, &p.fast_value, Ballot{b.counter + 1, b.node, b.nonce});
      return;
    }
    p.fast = false;
    p.cache.reset();
    p.round.emplace(p.source.next(), quorum_, std::move(change));
    broadcast(p, Kind::prepare, p.round->ballot(), nullptr, Ballot{});
  }

  void on_promise(Proposer& p, const Event& ev) {
    if (ev.round != p.round_id || p.round_id == 0 || p.fast || !p.round)
      return;
    auto before = p.round->phase();
    auto phase = p.round->on_promise(ev.from, *ev.promise);
    if (before == Round::Phase::preparing && phase == Round::Phase::accepting) {
      broadcast(p, Kind::accept, p.round->ballot(), &p.round->proposal(), p.round->next_promise());
    } else if (phase == Round::Phase::decided) {
      ++stats_.read_only;
      decided(p, p.round->ballot(), p.round->result(), true);
    } else if (phase == Round::Phase::failed) {
      round_failed(p, p.round->conflict());
    }
  }

  void on_accepted(Proposer& p, const Event& ev) {
    if (ev.round != p.round_id || p.round_id == 0)
      return;
    if (p.fast) {
      if (!ev.accepted.ok) {
        round_failed(p, ev.accepted.conflict);
        return;
      }
      p.fast_acks.insert(ev.from);
      if (p.fast_acks.size() >= quorum_) {
        ++stats_.fast_decisions;
        auto b = p.fast_ballot;
        p.cache = std::make_pair(Ballot{b.counter + 1, b.node, b.nonce}, p.fast_value);
        decided(p, b, p.fast_result, false);
      }
      return;
    }
    if (!p.round)
      return;
    auto phase = p.round->on_accepted(ev.from, ev.accepted);
    if (phase == Round::Phase::decided) {
      if (cfg_.one_rtt)
        p.cache = std::make_pair(p.round->next_promise(), p.round->proposal());
      decided(p, p.round->ballot(), p.round->result(), false);
    } else if (phase == Round::Phase::failed) {
      round_failed(p, p.round->conflict());
    }
  }

  void round_failed(Proposer& p, const Ballot& conflict) {
    ++stats_.failed_rounds;
    p.source.observe(conflict);
    p.cache.reset(); // never reuse a ballot that may carry another value
    p.round_id = 0;
    p.round.reset();
    p.fast = false;
    if (++p.tries >= 4) {
      unknown_outcome(p);
      return;
    }
    schedule_wake(p.node, 1000 + pick(30'000)); // randomized backoff
  }

  // The client never learned the outcome: it must assume the worst.
  void unknown_outcome(Proposer& p) {
    ++stats_.unknown_ops;
    const Op op = *p.op;
    p.op.reset();
    if (op.kind == OpKind::acquire || op.kind == OpKind::refresh) {
      auto& c = p.clients[op.client];
      if (c.token) // a lease change may have happened: keep the earlier deadline
        c.valid_until = std::min(c.valid_until, op.sent_at + op.ttl * 1000);
    }
    next_op(p);
  }

  void decided(Proposer& p, const Ballot& ballot, const Result& r, bool read_only) {
    if (!read_only) {
      auto it = acceptors_of_.find(ballot);
      if (it == acceptors_of_.end() || it->second.size() < quorum_)
        fail("round " + to_string(ballot) + " decided without a quorum of accepts");
    }
    const Op op = *p.op;
    p.op.reset();
    p.round_id = 0;
    p.round.reset();
    p.fast = false;
    if (r.expired_holder)
      ++stats_.takeovers;
    if (op.kind != OpKind::handoff) {
      auto& c = p.clients[op.client];
      switch (r.outcome) {
      case Outcome::granted:
        on_granted(c, ballot, r);
        break;
      case Outcome::queued:
        if (!c.waiting) {
          c.waiting = true;
          c.wait_request = op.origin.request;
          c.wait_attempt = op.origin.attempt;
        }
        break;
      case Outcome::refreshed:
        c.valid_until = lease_end(r);
        break;
      case Outcome::not_holder:
        c.token.reset();
        c.valid_until = std::min(c.valid_until, now_);
        break;
      default:
        if (op.kind == OpKind::acquire)
          c.waiting = false;
        break;
      }
    }
    next_op(p);
  }

  Us lease_end(const Result& r) {
    auto it = sent_at_.find(std::make_tuple(r.origin.client, r.origin.request, r.origin.attempt));
    if (it == sent_at_.end()) {
      fail("lease timed from an attempt that was never sent");
      return 0;
    }
    return it->second + r.lease_ms * 1000;
  }

  void on_granted(Client& c, const Ballot& ballot, const Result& r) {
    ++stats_.grants;
    if (c.waiting)
      ++stats_.claims;
    c.waiting = false;
    auto [it, fresh] = token_owner_.emplace(r.token, c.owner);
    if (!fresh && it->second != c.owner)
      fail("token " + std::to_string(r.token) + " granted to " + it->second + " and " + c.owner);
    grants_.push_back(Grant{ballot, r.token, c.owner});
    Us end = lease_end(r);
    if (end > now_) {
      for (auto& p : proposers_)
        for (auto& other : p.clients)
          if (other.owner != c.owner && other.valid_until > now_) {
            std::ostringstream os;
            os << c.owner << " granted token " << r.token << " (valid until " << end << ") while "
               << other.owner << " still trusts its lease until " << other.valid_until;
            fail(os.str());
          }
    }
    c.token = r.token;
    c.valid_until = end;
  }

  void next_op(Proposer& p) {
    Us gap = chance(4) ? 2'500'000 + pick(1'000'000) : pick(150'000);
    schedule_wake(p.node, gap);
  }

  // ------------------------------------------------------------ invariants

  void record_accept(uint32_t node, const Ballot& b, const LockState& v) {
    auto [it, fresh] = value_at_.emplace(b, v);
    if (!fresh && it->second != v)
      fail("two different values accepted at ballot " + to_string(b));
    auto& who = acceptors_of_[b];
    who.insert(node);
    if (who.size() == quorum_)
      chosen_.emplace_back(b, v);
  }

  void check_acceptors() {
    for (size_t i = 0; i < acceptors_.size(); ++i) {
      auto& rec = acceptors_[i].record();
      if (rec.promised < rec.accepted)
        fail("acceptor " + std::to_string(i) + " promised below its accepted ballot");
      auto& v = rec.value;
      if (v.holder && v.reserved)
        fail("acceptor " + std::to_string(i) + " holds a value with holder and reservation");
      if (v.holder && v.holder->token != v.fence)
        fail("holder token differs from the fence");
    }
  }

  void check_history() {
    // Chosen values form one chain in ballot order (CASPaxos): fence and
    // epoch only grow along it.
    auto chosen = chosen_;
    std::sort(chosen.begin(), chosen.end(), [](auto& a, auto& b) { return a.first < b.first; });
    for (size_t i = 1; i < chosen.size(); ++i) {
      auto& a = chosen[i - 1].second;
      auto& b = chosen[i].second;
      if (b.fence < a.fence || b.epoch.number < a.epoch.number)
        fail("chosen value at " + to_string(chosen[i].first) + " does not descend from " +
             to_string(chosen[i - 1].first));
    }
    // Decided grants: tokens grow in decision (ballot) order; a token is
    // repeated only to its own holder (an idempotent retry or re-acquire).
    auto grants = grants_;
    std::sort(grants.begin(), grants.end(), [](auto& a, auto& b) { return a.ballot < b.ballot; });
    for (size_t i = 1; i < grants.size(); ++i) {
      auto& a = grants[i - 1];
      auto& b = grants[i];
      if (b.token < a.token || (b.token == a.token && b.owner != a.owner))
        fail("grant of token " + std::to_string(b.token) + " at " + to_string(b.ballot) +
             " does not follow token " + std::to_string(a.token) + " at " + to_string(a.ballot));
    }
  }

  Config cfg_;
  std::mt19937_64 rng_;
  size_t quorum_ = 2;
  size_t drop_percent_ = 0;
  size_t dup_percent_ = 0;
  Us max_delay_us_ = 1000;
  Us now_ = 0;
  uint64_t seq_ = 0;
  uint64_t round_counter_ = 0;
  uint64_t next_request_ = 0;
  std::vector<Us> offsets_;
  std::vector<Acceptor> acceptors_;
  std::vector<Proposer> proposers_;
  std::priority_queue<Event, std::vector<Event>, Later> events_;
  std::map<std::tuple<std::string, uint64_t, uint32_t>, Us> sent_at_;
  std::map<Ballot, LockState> value_at_;
  std::map<Ballot, std::set<uint32_t>> acceptors_of_;
  std::vector<std::pair<Ballot, LockState>> chosen_;
  std::map<uint64_t, std::string> token_owner_;
  std::vector<Grant> grants_;
  Stats stats_;
  std::string error_;
};

} // namespace sim

BOOST_AUTO_TEST_SUITE(simulation)

BOOST_AUTO_TEST_CASE(competing_proposers_never_double_grant) {
  sim::Stats total;
  int failures = 0;
  const uint32_t seeds = 2000;
  for (uint32_t seed = 1; seed <= seeds && failures < 3; ++seed) {
    sim::Config cfg;
    cfg.seed = seed;
    cfg.nodes = seed % 2 ? 3 : 5;
    cfg.proposers = seed % 3 ? 2 : 3;
    cfg.one_rtt = seed % 4 != 0;
    sim::Simulation s(cfg);
    auto error = s.run();
    total.add(s.stats());
    BOOST_TEST_CONTEXT("seed " << seed) {
      if (!error.empty()) {
        ++failures;
        BOOST_ERROR(error);
      }
    }
  }
  BOOST_TEST(failures == 0);
  BOOST_TEST_MESSAGE(
      "simulated " << total.events << " events: " << total.grants << " grants, " << total.takeovers
                   << " expiry takeovers, " << total.claims << " claims after waiting, "
                   << total.fast_decisions << " 1-RTT decisions, " << total.read_only
                   << " read-only rounds, " << total.failed_rounds << " failed rounds, "
                   << total.unknown_ops << " unknown outcomes, " << total.drops << " drops, "
                   << total.duplicates << " duplicates");
  // The runs must actually exercise what they claim to.
  BOOST_TEST(total.grants > 1000u);
  BOOST_TEST(total.takeovers > 100u);
  BOOST_TEST(total.claims > 100u);
  BOOST_TEST(total.fast_decisions > 1000u);
  BOOST_TEST(total.read_only > 0u);
  BOOST_TEST(total.failed_rounds > 1000u);
  BOOST_TEST(total.unknown_ops > 0u);
  BOOST_TEST(total.drops > 1000u);
  BOOST_TEST(total.duplicates > 1000u);
}

BOOST_AUTO_TEST_CASE(simulation_detects_a_lying_witness) {
  // Acceptors that over-report the lease age let a takeover happen while
  // the holder still trusts its lease: the checker must notice.
  int caught = 0;
  for (uint32_t seed = 1; seed <= 200; ++seed) {
    sim::Config cfg;
    cfg.seed = seed;
    cfg.nodes = 3;
    cfg.proposers = 3;
    cfg.lying_witness_ms = 120;
    sim::Simulation s(cfg);
    if (!s.run().empty())
      ++caught;
  }
  BOOST_TEST_MESSAGE("lying witness caught in " << caught << " of 200 runs");
  BOOST_TEST(caught > 0);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(round_with_voters)

// With the number of voters known, one refusal does not fail a round that
// can still reach a quorum; enough refusals do.
BOOST_AUTO_TEST_CASE(fails_only_when_no_quorum_is_left) {
  using namespace godistlock::core;
  auto keep = [](LockState& s, WitnessAge) {
    ++s.fence;
    Result r;
    r.outcome = Outcome::observed;
    return r;
  };
  Ballot b{5, 1, 9};
  Promise yes;
  yes.ok = true;
  Promise no;
  no.conflict = Ballot{6, 2, 1};
  Round r(b, 3, keep, 5);
  BOOST_TEST((r.on_promise(1, no) == Round::Phase::preparing));
  BOOST_TEST((r.on_promise(2, no) == Round::Phase::preparing));
  BOOST_TEST((r.on_promise(3, yes) == Round::Phase::preparing));
  BOOST_TEST((r.on_promise(4, yes) == Round::Phase::preparing));
  BOOST_TEST((r.on_promise(5, yes) == Round::Phase::accepting));
  BOOST_TEST((r.conflict() == no.conflict));
  Accepted ok;
  ok.ok = true;
  Accepted refused;
  refused.conflict = Ballot{7, 2, 1};
  BOOST_TEST((r.on_accepted(3, ok) == Round::Phase::accepting));
  BOOST_TEST((r.on_accepted(1, refused) == Round::Phase::accepting));
  // A duplicate refusal from a voter that already accepted does not count.
  BOOST_TEST((r.on_accepted(3, refused) == Round::Phase::accepting));
  BOOST_TEST((r.on_accepted(2, refused) == Round::Phase::accepting));
  BOOST_TEST((r.on_accepted(4, refused) == Round::Phase::failed));

  Round early(b, 3, keep); // voters unknown: the first refusal fails it
  BOOST_TEST((early.on_promise(1, no) == Round::Phase::failed));
}

BOOST_AUTO_TEST_SUITE_END()
