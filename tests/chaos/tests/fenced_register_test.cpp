#include "fenced_register.hpp"

#include <boost/test/unit_test.hpp>

using namespace gdl_chaos;

BOOST_AUTO_TEST_SUITE(fenced_register)

BOOST_AUTO_TEST_CASE(accepts_equal_or_higher_tokens_and_refuses_lower_ones) {
  FencedRegister store;
  BOOST_TEST(store.write("L", 3, "a"));
  BOOST_TEST(store.write("L", 3, "b"));
  BOOST_TEST(store.write("L", 5, "c"));
  BOOST_TEST(!store.write("L", 4, "d"));
  BOOST_TEST(store.write("M", 1, "e")); // locks are independent
  BOOST_TEST(store.accepted() == 4u);
  BOOST_TEST(store.rejected() == 1u);
  auto state = store.state();
  BOOST_TEST(state["L"] == (std::vector<std::string>{"a", "b", "c"}),
             boost::test_tools::per_element());
  auto log = store.log();
  BOOST_REQUIRE(log.size() == 5u);
  BOOST_TEST(!log[3].accepted);
  BOOST_TEST(log[3].highest_before == 5u);
  BOOST_TEST(log[4].seq == 5u);
}

BOOST_AUTO_TEST_SUITE_END()
