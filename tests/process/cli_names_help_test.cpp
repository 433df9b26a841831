// `help [COMMAND]`, `COMMAND --help`, and lock names that start with "-"
// (after "--", as with most Unix tools).
#include "harness.hpp"

#include <boost/test/unit_test.hpp>

using namespace gdl_process;

BOOST_FIXTURE_TEST_SUITE(cli_names_help, NodeFixture)

BOOST_AUTO_TEST_CASE(names_that_start_with_a_dash) {
  auto t = gdl({"try", "--owner", "o", "--", "-dash"});
  BOOST_REQUIRE_MESSAGE(t.code() == 0, t.describe());
  auto token = parse_token_output(t.out);
  BOOST_REQUIRE(token);
  auto st = gdl({"status", "--", "-dash"});
  BOOST_CHECK_MESSAGE(st.code() == 0 && contains(st.out, "held by o "), st.describe());
  auto c = gdl({"check", "--token", str(*token), "--", "-dash"});
  BOOST_CHECK_MESSAGE(c.code() == 0, c.describe());
  auto r = gdl({"release", "--token", str(*token), "--", "-dash"});
  BOOST_CHECK_MESSAGE(r.code() == 0, r.describe());
  // run: the first "--" ends the options before NAME, the second one starts CMD.
  auto run = gdl({"run", "--wait", "5s", "--", "-dash", "--", "sh", "-c", "echo $GODISTLOCK_NAME"});
  BOOST_CHECK_MESSAGE(run.code() == 0 && contains(run.out, "-dash"), run.describe());
  // Without "--" a dash is an option, and an unknown one is bad usage.
  check_usage_error(gdl({"try", "-dash"}));
}

BOOST_AUTO_TEST_CASE(help_for_one_command) {
  for (std::vector<std::string> args :
       {std::vector<std::string>{"help", "run"}, std::vector<std::string>{"run", "--help"}}) {
    auto h = cli(args);
    BOOST_CHECK_MESSAGE(h.code() == 0, h.describe());
    BOOST_CHECK_MESSAGE(contains(h.out, "run NAME") && contains(h.out, "-- CMD"), h.out);
    BOOST_CHECK_MESSAGE(!contains(h.out, "release NAME"), "other commands shown:\n" << h.out);
    BOOST_CHECK_MESSAGE(contains(h.out, "exit status"), h.out);
  }
  auto all = cli({"help"});
  BOOST_CHECK(all.code() == 0 && contains(all.out, "release NAME") &&
              contains(all.out, "run NAME"));
  check_usage_error(cli({"help", "nope"}));
}

BOOST_AUTO_TEST_SUITE_END()
