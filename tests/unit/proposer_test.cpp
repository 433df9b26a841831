// core::Proposer by hand: events in, effects out, against real acceptors
// standing in for the peers. The randomised runs are in paxos_sim.hpp.
#include "core/proposer.hpp"
#include "printers.hpp"

#include <boost/test/unit_test.hpp>

#include <array>

using namespace godistlock::core;

namespace {

Instant at_ms(int64_t ms) {
  return Instant{} + std::chrono::milliseconds(1'000'000 + ms);
}

Change acquire_by(const std::string& owner, uint64_t request = 1) {
  AcquireArgs a{owner, LeaseOrigin{owner + "-c", request, 0}, 1000, false};
  return [a](LockState& s, WitnessAge age) { return acquire(s, age, a); };
}

template <class E> std::vector<E> all_of(const ProposerEffects& effects) {
  std::vector<E> out;
  for (auto& e : effects)
    if (auto* x = std::get_if<E>(&e))
      out.push_back(*x);
  return out;
}

template <class E> E only(const ProposerEffects& effects) {
  auto v = all_of<E>(effects);
  BOOST_REQUIRE_EQUAL(v.size(), 1u);
  return v.front();
}

// A proposer on node 0 of three (`alone`: of one); peers 1 and 2 are
// acceptors the test answers for.
struct Node {
  explicit Node(bool alone = false, int max_attempts = 12, Millis hold_accepts = Millis(0))
      : proposer(ProposerSetup{alone ? 1u : 2u, alone, Millis(1000), hold_accepts, Mutation::none,
                               max_attempts, 7},
                 BallotSource(1, 1), local, book, [] {
                   return Voter{"n0", 1};
                 }) {}

  Promise promise_of(uint32_t peer, const Ballot& b, int64_t ms) {
    auto p = peers[peer - 1].prepare(b, at_ms(ms));
    p.voter = Voter{"n" + std::to_string(peer), 1};
    return p;
  }
  Accepted accept_of(uint32_t peer, const SendAccept& a, int64_t ms) {
    auto r = peers[peer - 1].accept(a.ballot, a.value, a.next_promise, at_ms(ms));
    r.voter = Voter{"n" + std::to_string(peer), 1};
    return r;
  }

  Acceptor local;
  IncarnationBook book;
  Proposer proposer;
  std::array<Acceptor, 2> peers;
};

// Runs one change to its decision with peer 1 answering; returns the effects
// of the last step (the one with Finished).
ProposerEffects decide(Node& n, Change change, uint64_t tag, int64_t ms) {
  auto out = n.proposer.propose(Proposal{std::move(change), tag, false, nullptr}, at_ms(ms));
  auto prepares = all_of<SendPrepare>(out);
  SendAccept accept;
  if (prepares.empty()) {
    accept = only<SendAccept>(out);
  } else {
    auto ticket = only<Persist>(out).ticket;
    BOOST_TEST(n.proposer.on_durable(ticket, at_ms(ms)).empty()); // one promise of two
    auto round = prepares.front().round;
    out = n.proposer.on_promise(round, 1, n.promise_of(1, prepares.front().ballot, ms), at_ms(ms));
    accept = only<SendAccept>(out);
  }
  auto ticket = only<Persist>(out).ticket;
  BOOST_TEST(all_of<AcceptorChanged>(out).size() == 1u);
  BOOST_TEST(
      n.proposer.on_accepted(accept.round, 1, n.accept_of(1, accept, ms), at_ms(ms)).empty());
  return n.proposer.on_durable(ticket, at_ms(ms));
}

} // namespace

BOOST_AUTO_TEST_SUITE(proposer)

BOOST_AUTO_TEST_CASE(a_node_alone_decides_on_its_own_accept_being_durable) {
  Node n(true);
  auto out = n.proposer.propose(Proposal{acquire_by("x"), 5, false, nullptr}, at_ms(0));
  BOOST_TEST(all_of<SendPrepare>(out).empty());
  BOOST_TEST(all_of<SendAccept>(out).empty());
  auto persist = only<Persist>(out);
  BOOST_TEST(persist.write);
  BOOST_TEST(all_of<Finished>(out).empty()); // not before the write
  BOOST_TEST(n.local.record().value.holder.has_value());
  auto done = only<Finished>(n.proposer.on_durable(persist.ticket, at_ms(1)));
  BOOST_TEST(done.tag == 5u);
  BOOST_TEST(done.decided);
  BOOST_TEST(done.result.outcome == Outcome::granted);
  BOOST_TEST(n.proposer.idle());
}

BOOST_AUTO_TEST_CASE(a_round_needs_the_local_promise_on_disk_and_a_peer) {
  Node n;
  auto out = n.proposer.propose(Proposal{acquire_by("x"), 1, false, nullptr}, at_ms(0));
  auto prepare = only<SendPrepare>(out);
  auto timer = only<ArmTimer>(out);
  BOOST_TEST((timer.kind == ProposerTimer::round_timeout));
  BOOST_TEST(timer.round == prepare.round);
  BOOST_TEST(timer.delay.count() == 1000);
  auto promise_write = only<Persist>(out);
  BOOST_TEST(promise_write.write);
  // The peer's promise alone is one of two: nothing is sent yet.
  BOOST_TEST(n.proposer.on_promise(prepare.round, 1, n.promise_of(1, prepare.ballot, 0), at_ms(0))
                 .empty());
  out = n.proposer.on_durable(promise_write.ticket, at_ms(1));
  auto accept = only<SendAccept>(out);
  BOOST_TEST(accept.ballot == prepare.ballot);
  BOOST_TEST(accept.value.holder->owner == "x");
  BOOST_TEST(accept.promise_set.size() == 2u);
  auto accept_write = only<Persist>(out);
  BOOST_TEST(n.proposer.on_accepted(accept.round, 1, n.accept_of(1, accept, 1), at_ms(1)).empty());
  auto done = only<Finished>(n.proposer.on_durable(accept_write.ticket, at_ms(2)));
  BOOST_TEST(done.decided);
  BOOST_TEST(done.result.token == 1u);
  BOOST_TEST(done.ballot == prepare.ballot);
}

BOOST_AUTO_TEST_CASE(the_next_change_skips_the_prepare) {
  Node n;
  auto first = only<Finished>(decide(n, acquire_by("x"), 1, 0));
  BOOST_REQUIRE(first.decided);
  // The next change goes straight to the accept phase at the ballot the
  // accepts promised.
  auto out = n.proposer.propose(
      Proposal{[](LockState& s, WitnessAge age) { return release(s, age, 1); }, 2, false, nullptr},
      at_ms(10));
  BOOST_TEST(all_of<SendPrepare>(out).empty());
  auto accept = only<SendAccept>(out);
  BOOST_TEST(accept.ballot ==
             (Ballot{first.ballot.counter + 1, first.ballot.node, first.ballot.nonce}));
  BOOST_TEST(!accept.value.holder.has_value());
  BOOST_TEST(
      n.proposer.on_accepted(accept.round, 1, n.accept_of(1, accept, 10), at_ms(10)).empty());
  auto done = only<Finished>(n.proposer.on_durable(only<Persist>(out).ticket, at_ms(11)));
  BOOST_TEST(done.decided);
  BOOST_TEST(done.result.outcome == Outcome::released);
}

BOOST_AUTO_TEST_CASE(a_rival_prepare_in_between_forces_a_prepare) {
  Node n;
  BOOST_REQUIRE(only<Finished>(decide(n, acquire_by("x"), 1, 0)).decided);
  n.local.prepare(Ballot{50, 9, 9}, at_ms(5)); // another proposer came by
  auto out = n.proposer.propose(Proposal{acquire_by("y"), 2, false, nullptr}, at_ms(10));
  BOOST_TEST(all_of<SendAccept>(out).empty());
  // Our own acceptor refuses the next ballot, so the proposer goes above
  // the rival's at once.
  auto prepare = only<SendPrepare>(out);
  BOOST_TEST(prepare.ballot.counter > 50u);
}

BOOST_AUTO_TEST_CASE(changes_run_one_at_a_time_in_order) {
  Node n(true);
  auto out = n.proposer.propose(Proposal{acquire_by("x"), 1, false, nullptr}, at_ms(0));
  auto second = n.proposer.propose(Proposal{acquire_by("y"), 2, false, nullptr}, at_ms(0));
  BOOST_TEST(second.empty()); // queued behind the first
  out = n.proposer.on_durable(only<Persist>(out).ticket, at_ms(1));
  // The second round started in the same step, after the first's outcome;
  // it changes nothing, so alone it is decided from the promise.
  auto finished = all_of<Finished>(out);
  BOOST_REQUIRE_EQUAL(finished.size(), 2u);
  BOOST_TEST(finished[0].tag == 1u);
  BOOST_TEST(finished[0].result.outcome == Outcome::granted);
  BOOST_TEST(finished[1].tag == 2u);
  BOOST_TEST(finished[1].result.outcome == Outcome::busy);
  BOOST_TEST(finished[1].read_only);
  BOOST_TEST(all_of<Persist>(out).empty());
}

BOOST_AUTO_TEST_CASE(a_nack_retries_above_it_after_a_back_off) {
  Node n;
  auto retried = std::make_shared<bool>(false);
  auto out = n.proposer.propose(Proposal{acquire_by("x"), 1, false, retried}, at_ms(0));
  auto prepare = only<SendPrepare>(out);
  n.peers[0].prepare(Ballot{40, 9, 9}, at_ms(0));
  // A refusal fails the round at once: waiting for more votes could mean
  // waiting for a node that is down.
  out = n.proposer.on_promise(prepare.round, 1, n.promise_of(1, prepare.ballot, 0), at_ms(0));
  auto retry = only<ArmTimer>(out);
  BOOST_TEST((retry.kind == ProposerTimer::retry));
  BOOST_TEST(retry.delay.count() >= 1);
  BOOST_TEST(retry.delay.count() <= 10);
  BOOST_TEST(*retried);
  // Late answers to the lost round are ignored.
  BOOST_TEST(n.proposer.on_promise(prepare.round, 2, n.promise_of(2, prepare.ballot, 0), at_ms(1))
                 .empty());
  BOOST_TEST(n.proposer.on_timer(ProposerTimer::round_timeout, prepare.round, at_ms(5)).empty());
  out = n.proposer.on_timer(ProposerTimer::retry, retry.round, at_ms(5));
  BOOST_TEST(only<SendPrepare>(out).ballot.counter > 40u);
}

BOOST_AUTO_TEST_CASE(a_round_without_a_quorum_times_out_and_says_who_answered) {
  Node n;
  auto out = n.proposer.propose(Proposal{acquire_by("x"), 4, false, nullptr}, at_ms(0));
  auto prepare = only<SendPrepare>(out);
  n.proposer.on_unready(prepare.round, 2);
  out = n.proposer.on_timer(ProposerTimer::round_timeout, prepare.round, at_ms(1000));
  auto done = only<Finished>(out);
  BOOST_TEST(done.tag == 4u);
  BOOST_TEST(!done.decided);
  BOOST_REQUIRE(done.why.has_value());
  BOOST_TEST(done.why->timed_out);
  BOOST_TEST(done.why->elapsed_ms == 1000u);
  BOOST_TEST(done.why->rounds == 1);
  BOOST_TEST((done.why->heard_from == std::set<uint32_t>{2}));
  BOOST_TEST((done.why->refused_by == std::set<uint32_t>{2}));
  BOOST_TEST(n.proposer.idle());
}

BOOST_AUTO_TEST_CASE(too_many_lost_rounds_end_undecided) {
  Node n(false, 2);
  auto out = n.proposer.propose(Proposal{acquire_by("x"), 1, false, nullptr}, at_ms(0));
  for (int round = 0; round < 2; ++round) {
    auto prepare = only<SendPrepare>(out);
    n.peers[0].prepare(Ballot{prepare.ballot.counter + 10, 9, 9}, at_ms(0)); // a rival, again
    out = n.proposer.on_promise(prepare.round, 1, n.promise_of(1, prepare.ballot, 0), at_ms(0));
    if (round == 0)
      out = n.proposer.on_timer(ProposerTimer::retry, only<ArmTimer>(out).round, at_ms(1));
  }
  auto done = only<Finished>(out);
  BOOST_TEST(!done.decided);
  BOOST_TEST(done.why->rounds == 2);
  BOOST_TEST(!done.why->timed_out);
}

BOOST_AUTO_TEST_CASE(a_promise_from_a_superseded_incarnation_stops_the_accept) {
  Node n;
  auto out = n.proposer.propose(Proposal{acquire_by("x"), 1, false, nullptr}, at_ms(0));
  auto prepare = only<SendPrepare>(out);
  n.proposer.on_durable(only<Persist>(out).ticket, at_ms(0));
  n.book.supersede("n1", 2); // n1 lost its data after promising as incarnation 1
  out = n.proposer.on_promise(prepare.round, 1, n.promise_of(1, prepare.ballot, 0), at_ms(0));
  BOOST_TEST(all_of<SendAccept>(out).empty());
  BOOST_TEST((only<ArmTimer>(out).kind == ProposerTimer::retry));
}

BOOST_AUTO_TEST_CASE(catch_up_asks_only_the_peers_and_installs_the_decided_value) {
  Node n;
  // The peers hold a value the local acceptor forgot.
  LockState held;
  held.fence = 3;
  Ballot b{7, 2, 2};
  for (auto& p : n.peers) {
    p.prepare(b, at_ms(0));
    p.accept(b, held, Ballot{8, 2, 2}, at_ms(0));
  }
  n.proposer.observe(Ballot{8, 0, 0}); // the floor the rejoin's answers gave
  auto out = n.proposer.propose(
      Proposal{[](LockState& s, WitnessAge age) { return unchanged(s, age); }, 9, true, nullptr},
      at_ms(0));
  BOOST_TEST(all_of<Persist>(out).empty()); // a catching-up node does not vote
  auto prepare = only<SendPrepare>(out);
  n.proposer.on_promise(prepare.round, 1, n.promise_of(1, prepare.ballot, 0), at_ms(0));
  out = n.proposer.on_promise(prepare.round, 2, n.promise_of(2, prepare.ballot, 0), at_ms(0));
  // Identical promises, unchanged value: still rewritten at the new ballot.
  auto accept = only<SendAccept>(out);
  BOOST_TEST(all_of<Persist>(out).empty());
  n.proposer.on_accepted(accept.round, 1, n.accept_of(1, accept, 0), at_ms(0));
  out = n.proposer.on_accepted(accept.round, 2, n.accept_of(2, accept, 0), at_ms(0));
  auto done = only<Finished>(out);
  BOOST_TEST(done.decided);
  BOOST_TEST(n.local.record().accepted == prepare.ballot);
  BOOST_TEST(n.local.record().value.fence == 3u);
}

BOOST_AUTO_TEST_CASE(a_held_accept_phase_waits_for_its_timer) {
  Node n(false, 12, Millis(300));
  auto out = n.proposer.propose(Proposal{acquire_by("x"), 1, false, nullptr}, at_ms(0));
  auto prepare = only<SendPrepare>(out);
  BOOST_TEST(only<ArmTimer>(out).delay.count() == 1300); // the hold counts in the timeout
  n.proposer.on_durable(only<Persist>(out).ticket, at_ms(0));
  out = n.proposer.on_promise(prepare.round, 1, n.promise_of(1, prepare.ballot, 0), at_ms(0));
  auto hold = only<ArmTimer>(out);
  BOOST_TEST((hold.kind == ProposerTimer::hold_over));
  BOOST_TEST(all_of<SendAccept>(out).empty());
  out = n.proposer.on_timer(ProposerTimer::hold_over, hold.round, at_ms(300));
  BOOST_TEST(all_of<SendAccept>(out).size() == 1u);
}

BOOST_AUTO_TEST_SUITE_END()
