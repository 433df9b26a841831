// The client's record of why each server failed it (client/attempts.hpp):
// the error a call ends with must name every server tried and the most
// telling reason of each.
#include "client/attempts.hpp"

#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <string>
#include <vector>

using godistlock::client::detail::Failures;
using godistlock::client::detail::rendezvous;
using godistlock::client::detail::rendezvous_ranking;

BOOST_AUTO_TEST_SUITE(attempts)

BOOST_AUTO_TEST_CASE(failures_name_each_server_once_in_the_order_tried) {
  Failures f;
  BOOST_CHECK(f.empty());
  f.note("a:1", "cannot connect");
  f.note("b:2", "no quorum: x");
  f.note("a:1", "cannot connect");
  BOOST_CHECK_EQUAL(f.text(),
                    "no server could answer (a:1 (2 attempts): cannot connect; b:2: no quorum: x)");
  f.clear();
  BOOST_CHECK(f.empty());
}

BOOST_AUTO_TEST_CASE(the_latest_reason_wins_unless_our_budget_cut_the_attempt_short) {
  Failures f;
  f.note("b:2", "no quorum: too few nodes answered");
  // The last pass had only 100 ms left: its timeout says nothing about b.
  f.note("b:2", "no answer within 100 ms", true);
  BOOST_CHECK_EQUAL(f.text(),
                    "no server could answer (b:2 (2 attempts): no quorum: too few nodes answered)");
  // A full attempt that timed out does replace it.
  f.note("b:2", "no answer within 5000 ms");
  BOOST_CHECK_EQUAL(f.text(),
                    "no server could answer (b:2 (3 attempts): no answer within 5000 ms)");
  // A cut-short timeout is still the reason when there is no other.
  Failures g;
  g.note("c:3", "no answer within 40 ms", true);
  BOOST_CHECK_EQUAL(g.text(), "no server could answer (c:3: no answer within 40 ms)");
}

// A dead home's clients all fall back to one server, the lock's second in
// the ranking: the ranking starts with the home and holds every server once.
BOOST_AUTO_TEST_CASE(ranking_starts_with_the_home_and_holds_every_server) {
  // Keys that differ only in their last byte, as run-local's ports do.
  const std::vector<std::string> keys{"\n127.0.0.1:7001", "\n127.0.0.1:7002", "\n127.0.0.1:7003",
                                      "\n127.0.0.1:7004", "\n127.0.0.1:7005"};
  std::vector<int> firsts(keys.size(), 0);
  std::vector<int> seconds(keys.size(), 0);
  for (int k = 0; k < 200; ++k) {
    auto lock = "lock-" + std::to_string(k);
    auto order = rendezvous_ranking(keys, lock);
    BOOST_REQUIRE_EQUAL(order.size(), keys.size());
    BOOST_CHECK_EQUAL(order.front(), rendezvous(keys, lock));
    auto sorted = order;
    std::sort(sorted.begin(), sorted.end());
    for (size_t i = 0; i < sorted.size(); ++i)
      BOOST_CHECK_EQUAL(sorted[i], i);
    BOOST_CHECK(order == rendezvous_ranking(keys, lock)); // the same for every client
    ++firsts[order[0]];
    ++seconds[order[1]];
  }
  // Homes and fallbacks spread over the servers (about 40 each), not onto
  // one or two.
  for (size_t i = 0; i < keys.size(); ++i) {
    BOOST_CHECK_GT(firsts[i], 15);
    BOOST_CHECK_GT(seconds[i], 15);
  }
}

BOOST_AUTO_TEST_SUITE_END()
