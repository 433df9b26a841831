// Rejoining after a lost data dir (notes section 4.3): the incarnation book
// every acceptor checks accepts against, the rejoin verdicts, and the round
// features the catch-up relies on.
#include "core/change.hpp"
#include "core/incarnation.hpp"
#include "core/rejoin.hpp"
#include "core/round.hpp"
#include "printers.hpp"

#include <boost/test/unit_test.hpp>

#include <thread>

using namespace godistlock::core;

namespace {

Promise promise_from(const std::string& node, uint64_t incarnation, Ballot accepted = {},
                     LockState value = {}) {
  Promise p;
  p.ok = true;
  p.accepted = accepted;
  p.value = std::move(value);
  p.voter = Voter{node, incarnation};
  return p;
}

RejoinAnswer answer(bool voting, std::vector<std::string> locks, uint64_t counter = 0) {
  RejoinAnswer a;
  a.voting = voting;
  a.accepted_any = !locks.empty();
  a.locks = std::move(locks);
  a.highest_counter = counter;
  return a;
}

Change unchanged_change() {
  return [](LockState& s, WitnessAge age) { return unchanged(s, age); };
}

} // namespace

BOOST_AUTO_TEST_SUITE(incarnation_book)

BOOST_AUTO_TEST_CASE(unknown_nodes_are_admitted) {
  IncarnationBook book;
  BOOST_TEST(book.admit({{"a", 1}, {"b", 2}}, 5));
  BOOST_TEST(book.highest_counter() == 5u);
}

BOOST_AUTO_TEST_CASE(a_superseded_incarnation_is_refused) {
  IncarnationBook book;
  book.supersede("b", 9);
  BOOST_TEST(!book.admit({{"a", 1}, {"b", 2}}, 5));
  BOOST_TEST(book.admit({{"a", 1}, {"b", 9}}, 5));
  // A refused accept does not count as a ballot this node accepted.
  IncarnationBook other;
  other.supersede("b", 9);
  BOOST_TEST(!other.admit({{"b", 2}}, 7));
  BOOST_TEST(other.highest_counter() == 0u);
}

// A peer that missed a node's rejoin (it needs only some peers' answers)
// learns the new incarnation from the first accept that counts it, and
// refuses the old one from then on.
BOOST_AUTO_TEST_CASE(a_newer_incarnation_in_an_accept_is_learned) {
  IncarnationBook book;
  book.supersede("b", 2);
  BOOST_TEST(book.admit({{"a", 1}, {"b", 5}}, 7));
  BOOST_TEST(book.known().at("b") == 5u);
  BOOST_TEST(!book.admit({{"a", 1}, {"b", 2}}, 8));
}

// The proposer's side of the member-down rejoin: a promise given after the
// rejoin was recorded carries the new incarnation; learned before the
// round's own accept, it makes the proposer refuse a round that also
// counted the old incarnation's (forgotten) promise, so no accept of it
// leaves, not even to a peer that never heard of the rejoin.
BOOST_AUTO_TEST_CASE(a_vote_carrying_a_new_incarnation_stops_the_proposer) {
  IncarnationBook answered; // a peer that recorded the rejoin of "r"
  answered.supersede("r", 9);
  IncarnationBook proposer; // knows only r's old incarnation
  proposer.supersede("r", 4);
  IncarnationBook silent; // a peer that missed the rejoin
  silent.supersede("r", 4);
  PromiseSet counted{{"p", 1}, {"r", 4}, {"a", 1}};
  BOOST_TEST(silent.admit(counted, 20)); // why the proposer must refuse first
  proposer.learn(answered.known());
  BOOST_TEST(!proposer.admit(counted, 20));
}

BOOST_AUTO_TEST_CASE(accepted_any_only_after_an_accept) {
  IncarnationBook book;
  book.note(5);
  BOOST_TEST(!book.accepted_any());
  book.supersede("b", 2);
  BOOST_TEST(!book.admit({{"b", 1}}, 6)); // refused: nothing accepted
  BOOST_TEST(!book.accepted_any());
  BOOST_TEST(book.admit({{"b", 2}}, 6));
  BOOST_TEST(book.accepted_any());
  IncarnationBook replayed;
  replayed.note_accepted(3);
  BOOST_TEST(replayed.accepted_any());
  BOOST_TEST(replayed.highest_counter() == 3u);
}

BOOST_AUTO_TEST_CASE(a_late_rejoin_of_an_earlier_life_is_not_recorded) {
  IncarnationBook book;
  auto first = next_incarnation(0, 77);
  auto second = next_incarnation(first, 5); // lower random bits, newer life
  BOOST_TEST(second > first);
  BOOST_TEST(book.supersede("b", second).recorded);
  auto late = book.supersede("b", first);
  BOOST_TEST(!late.recorded);
  BOOST_TEST(late.current == second);
  BOOST_TEST(book.admit({{"b", second}}, 1));
  BOOST_TEST(!book.admit({{"b", first}}, 1));
  // Learning from other nodes keeps the newer one, whichever order.
  book.learn({{"b", first}});
  BOOST_TEST(book.known().at("b") == second);
  IncarnationBook other;
  other.learn({{"b", first}});
  other.learn({{"b", second}});
  BOOST_TEST(other.known().at("b") == second);
}

BOOST_AUTO_TEST_CASE(supersede_reports_every_ballot_seen_before) {
  IncarnationBook book;
  book.note(3);
  BOOST_TEST(book.admit({}, 12));
  book.note(4);
  BOOST_TEST(book.supersede("b", 1).highest_counter == 12u);
  BOOST_TEST(book.supersede("b", 2).highest_counter == 12u);
  BOOST_TEST(book.supersede("b", 2).recorded); // repeated rejoins are harmless
  BOOST_TEST(book.known().at("b") == 2u);
}

BOOST_AUTO_TEST_CASE(learn_never_moves_back) {
  IncarnationBook book;
  book.supersede("b", 9);
  book.learn({{"b", 3}, {"c", 4}});
  BOOST_TEST(book.known().at("b") == 9u);
  BOOST_TEST(book.known().at("c") == 4u);
  BOOST_TEST(!book.admit({{"c", 1}}, 1));
}

BOOST_AUTO_TEST_CASE(encode_and_parse_round_trip) {
  std::map<std::string, uint64_t> known{{"n1", 18446744073709551615ull}, {"node two", 7}};
  auto parsed = IncarnationBook::parse(IncarnationBook::encode(known));
  BOOST_REQUIRE(parsed);
  BOOST_TEST((*parsed == known));
  BOOST_TEST(IncarnationBook::parse("")->empty());
}

BOOST_AUTO_TEST_CASE(damaged_text_is_rejected) {
  for (const char* bad :
       {"12", "x n1\n", " n1\n", "12 \n", "99999999999999999999999 n1\n", "1a n1\n", "-1 n1\n"})
    BOOST_TEST(!IncarnationBook::parse(bad), bad);
}

// Either the accept sees the new incarnation, or the snapshot taken at the
// rejoin covers the accept's ballot: never neither.
BOOST_AUTO_TEST_CASE(rejoin_and_accepts_race_safely) {
  for (int run = 0; run < 200; ++run) {
    IncarnationBook book;
    bool admitted = false;
    uint64_t covered = 0;
    std::thread accepter([&] { admitted = book.admit({{"b", 1}}, 42); });
    std::thread rejoiner([&] { covered = book.supersede("b", 2).highest_counter; });
    accepter.join();
    rejoiner.join();
    BOOST_TEST((!admitted || covered >= 42u));
  }
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(rejoin_plan)

BOOST_AUTO_TEST_CASE(three_nodes_wait_for_every_peer) {
  RejoinPlan plan(2, 2, false);
  BOOST_TEST(plan.voting_needed() == 2u);
  plan.on_answer(1, answer(true, {"a"}));
  BOOST_TEST((plan.verdict() == RejoinPlan::Verdict::waiting));
  BOOST_TEST((plan.missing() == std::vector<uint32_t>{2}));
  plan.on_answer(2, answer(true, {}));
  BOOST_TEST((plan.verdict() == RejoinPlan::Verdict::catch_up));
}

// N = 5: one peer down must not keep a wiped node out; 3 of the 4 peers,
// voting, meet every quorum that could have counted it.
BOOST_AUTO_TEST_CASE(five_nodes_need_three_voting_peers) {
  RejoinPlan plan(4, 3, false);
  BOOST_TEST(plan.voting_needed() == 3u);
  plan.on_answer(1, answer(true, {"a"}, 4));
  plan.on_answer(2, answer(true, {}));
  BOOST_TEST((plan.verdict() == RejoinPlan::Verdict::waiting));
  plan.on_answer(9, answer(true, {})); // no such peer
  plan.on_answer(0, answer(true, {}));
  // A peer that is catching up itself forgot what it promised: not counted.
  plan.on_answer(3, answer(false, {}));
  BOOST_TEST((plan.verdict() == RejoinPlan::Verdict::waiting));
  BOOST_TEST((plan.missing() == std::vector<uint32_t>{4}));
  plan.on_answer(3, answer(true, {"b"}, 9));
  BOOST_TEST((plan.verdict() == RejoinPlan::Verdict::catch_up));
  BOOST_TEST((plan.locks() == std::set<std::string>{"a", "b"}));
  BOOST_TEST(plan.ballot_floor() == 10u);
  plan.on_answer(4, answer(false, {}));
  BOOST_TEST((plan.verdict() == RejoinPlan::Verdict::catch_up));
}

BOOST_AUTO_TEST_CASE(seven_nodes_need_four_voting_peers) {
  RejoinPlan plan(6, 4, false);
  BOOST_TEST(plan.voting_needed() == 4u);
  for (uint32_t p = 1; p <= 3; ++p)
    plan.on_answer(p, answer(true, {}));
  BOOST_TEST((plan.verdict() == RejoinPlan::Verdict::waiting));
  plan.on_answer(4, answer(true, {}));
  BOOST_TEST((plan.verdict() == RejoinPlan::Verdict::vote_now));
}

// With a peer silent, even a lock record that holds only a promise is
// caught up: our acceptor must end up promised above every such ballot.
BOOST_AUTO_TEST_CASE(a_silent_peer_makes_promise_only_records_count) {
  RejoinPlan plan(4, 3, false);
  auto promised = answer(true, {"a"}, 5);
  promised.accepted_any = false;
  plan.on_answer(1, promised);
  plan.on_answer(2, answer(true, {}));
  plan.on_answer(3, answer(true, {}));
  BOOST_TEST((plan.verdict() == RejoinPlan::Verdict::catch_up));
  BOOST_TEST((plan.locks() == std::set<std::string>{"a"}));
  // Every peer answered: such a record holds nothing to learn (as before).
  plan.on_answer(4, answer(true, {}));
  BOOST_TEST((plan.verdict() == RejoinPlan::Verdict::vote_now));
}

// Only when every member answered can a node tell a brand-new cluster from
// one whose majority lost its data: --bootstrap never helps a silent peer.
BOOST_AUTO_TEST_CASE(a_new_cluster_waits_for_every_member) {
  RejoinPlan plan(2, 2, true);
  plan.on_answer(1, answer(false, {}));
  BOOST_TEST((plan.verdict() == RejoinPlan::Verdict::waiting));
  RejoinPlan five(4, 3, true);
  for (uint32_t p = 1; p <= 3; ++p)
    five.on_answer(p, answer(false, {}));
  BOOST_TEST((five.verdict() == RejoinPlan::Verdict::waiting));
  five.on_answer(4, answer(false, {}));
  BOOST_TEST((five.verdict() == RejoinPlan::Verdict::vote_now));
}

BOOST_AUTO_TEST_CASE(catch_up_covers_every_lock_and_ballot) {
  RejoinPlan plan(2, 2, false);
  plan.on_answer(1, answer(true, {"a", "b"}, 7));
  plan.on_answer(2, answer(true, {"b", "c"}, 11));
  BOOST_TEST((plan.verdict() == RejoinPlan::Verdict::catch_up));
  BOOST_TEST((plan.locks() == std::set<std::string>{"a", "b", "c"}));
  // Above every counter reported, and above the promise an accept at that
  // counter gave for the next one (the one-round-trip path).
  BOOST_TEST(plan.ballot_floor() == 12u);
  // A later answer of the same peer replaces its earlier one.
  plan.on_answer(2, answer(true, {"c"}, 13));
  BOOST_TEST(plan.ballot_floor() == 14u);
  BOOST_TEST((plan.locks() == std::set<std::string>{"a", "b", "c"}));
}

BOOST_AUTO_TEST_CASE(votes_at_once_when_nothing_can_be_forgotten) {
  RejoinPlan plan(2, 2, false);
  plan.on_answer(1, answer(true, {}));
  plan.on_answer(2, answer(true, {}));
  BOOST_TEST((plan.verdict() == RejoinPlan::Verdict::vote_now));
}

BOOST_AUTO_TEST_CASE(majority_without_data_needs_the_operator) {
  // N = 3: one peer holds data, the other caught up itself.
  RejoinPlan plan(2, 2, false);
  plan.on_answer(1, answer(true, {"a"}));
  plan.on_answer(2, answer(false, {}));
  BOOST_TEST((plan.verdict() == RejoinPlan::Verdict::majority_lost));
  // --bootstrap does not make lost locks acceptable.
  RejoinPlan bootstrap(2, 2, true);
  bootstrap.on_answer(1, answer(true, {"a"}));
  bootstrap.on_answer(2, answer(false, {}));
  BOOST_TEST((bootstrap.verdict() == RejoinPlan::Verdict::majority_lost));
}

BOOST_AUTO_TEST_CASE(records_without_any_accept_are_not_data) {
  // A new cluster: the first member to vote got a request it could not
  // decide alone; its lock record holds a promise, nothing accepted.
  RejoinPlan plan(2, 2, true);
  auto first = answer(true, {"a"});
  first.accepted_any = false;
  plan.on_answer(1, first);
  plan.on_answer(2, answer(false, {}));
  BOOST_TEST((plan.verdict() == RejoinPlan::Verdict::vote_now));
  // Once it accepted anything, its locks are data.
  first.accepted_any = true;
  plan.on_answer(1, first);
  BOOST_TEST((plan.verdict() == RejoinPlan::Verdict::majority_lost));
}

BOOST_AUTO_TEST_CASE(brand_new_cluster_needs_bootstrap) {
  RejoinPlan plan(2, 2, false);
  plan.on_answer(1, answer(false, {}));
  plan.on_answer(2, answer(false, {}));
  BOOST_TEST((plan.verdict() == RejoinPlan::Verdict::needs_bootstrap));
  RejoinPlan bootstrap(2, 2, true);
  bootstrap.on_answer(1, answer(false, {}));
  bootstrap.on_answer(2, answer(true, {}));
  BOOST_TEST((bootstrap.verdict() == RejoinPlan::Verdict::vote_now));
}

BOOST_AUTO_TEST_CASE(the_highest_fence_floor_is_taken) {
  RejoinPlan plan(2, 2, false);
  auto a = answer(true, {"x"});
  a.fence_floor = 7ull << 32;
  plan.on_answer(1, a);
  plan.on_answer(2, answer(true, {}));
  BOOST_TEST(plan.fence_floor() == (7ull << 32));
}

BOOST_AUTO_TEST_CASE(incarnations_are_merged) {
  RejoinPlan plan(2, 2, false);
  auto a = answer(true, {});
  a.incarnations = {{"x", 1}};
  auto b = answer(true, {});
  b.incarnations = {{"y", 2}};
  plan.on_answer(1, a);
  plan.on_answer(2, b);
  BOOST_TEST(plan.incarnations().size() == 2u);
  BOOST_TEST(plan.voting_peers() == 2u);
}

BOOST_AUTO_TEST_CASE(the_newest_incarnation_a_peer_knows_wins) {
  // Peers may have heard of different lives of one node: the newest counts,
  // whichever peer answered first.
  RejoinPlan plan(2, 2, false);
  auto a = answer(true, {});
  a.incarnations = {{"x", (1ull << 32) | 5}};
  auto b = answer(true, {});
  b.incarnations = {{"x", (2ull << 32) | 3}};
  plan.on_answer(1, a);
  plan.on_answer(2, b);
  BOOST_TEST(plan.incarnations().at("x") == ((2ull << 32) | 3));
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(catch_up_round)

BOOST_AUTO_TEST_CASE(promise_set_names_every_counted_promise) {
  Round r(Ballot{5, 1, 1}, 2, unchanged_change(), 0, true);
  r.on_promise(1, promise_from("a", 10));
  BOOST_TEST(r.promise_set().empty()); // not before the quorum
  BOOST_TEST(r.on_promise(2, promise_from("b", 20)) == Round::Phase::accepting);
  BOOST_TEST((r.promise_set() == PromiseSet{{"a", 10}, {"b", 20}}));
}

BOOST_AUTO_TEST_CASE(must_accept_rewrites_even_an_unchanged_value) {
  LockState v;
  v.fence = 4;
  Ballot old{3, 2, 2};
  Round plain(Ballot{5, 1, 1}, 2, unchanged_change());
  plain.on_promise(1, promise_from("a", 1, old, v));
  BOOST_TEST(plain.on_promise(2, promise_from("b", 1, old, v)) == Round::Phase::decided);
  Round forced(Ballot{5, 1, 1}, 2, unchanged_change(), 0, true);
  forced.on_promise(1, promise_from("a", 1, old, v));
  BOOST_TEST(forced.on_promise(2, promise_from("b", 1, old, v)) == Round::Phase::accepting);
  BOOST_TEST(forced.proposal() == v);
  BOOST_TEST(forced.result().fence == 4u);
}

BOOST_AUTO_TEST_CASE(unwritten_registers_keep_the_highest_fence_floor) {
  LockState floor;
  floor.fence = 1000;
  for (bool floor_first : {true, false}) {
    Round r(Ballot{5, 1, 1}, 2, [](LockState& s, WitnessAge age) {
      return acquire(s, age, AcquireArgs{"o", LeaseOrigin{"c", 1, 0}, 1000, false});
    });
    r.on_promise(1, promise_from("a", 1, Ballot{}, floor_first ? floor : LockState{}));
    r.on_promise(2, promise_from("b", 1, Ballot{}, floor_first ? LockState{} : floor));
    BOOST_TEST(r.result().token == 1001u);
  }
  // A written value always wins over a floor: it holds the real history.
  LockState written;
  written.fence = 3;
  Round r(Ballot{5, 1, 1}, 2, unchanged_change());
  r.on_promise(1, promise_from("a", 1, Ballot{}, floor));
  r.on_promise(2, promise_from("b", 1, Ballot{2, 1, 1}, written));
  BOOST_TEST(r.proposal().fence == 3u);
}

BOOST_AUTO_TEST_CASE(unchanged_leaves_every_field_as_it_was) {
  LockState s;
  s.fence = 9;
  s.epoch = Epoch{4, Ballot{2, 2, 2}};
  s.holder = Holder{"o", 9, 500, LeaseOrigin{"c", 3, 1}};
  auto before = s;
  auto r = unchanged(s, uint64_t{1'000'000}); // even long past the lease
  BOOST_TEST(s == before);
  BOOST_TEST(r.fence == 9u);
}

BOOST_AUTO_TEST_SUITE_END()
