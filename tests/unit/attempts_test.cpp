// The client's record of why each server failed it (client/attempts.hpp):
// the error a call ends with must name every server tried and the most
// telling reason of each.
#include "client/attempts.hpp"

#include <boost/test/unit_test.hpp>

using godistlock::client::detail::Failures;

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

BOOST_AUTO_TEST_SUITE_END()
