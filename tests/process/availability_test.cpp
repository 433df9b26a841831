// No spurious unavailability (issue 10, section 3): a one-shot command
// outlasts a lost majority within its --timeout; a waiting one waits until
// its own --wait and then says what the live node answered; `cluster`
// shows what each node itself sees.
#include "harness.hpp"

#include <boost/test/unit_test.hpp>

#include <thread>

using namespace gdl_process;

namespace {

// The error names `server` with `reason` ("ADDR: reason" or "ADDR (N
// attempts): reason").
bool says(const std::string& err, const std::string& server, const std::string& reason) {
  for (auto at = err.find(server); at != std::string::npos; at = err.find(server, at + 1)) {
    auto rest = err.substr(at + server.size());
    if (rest.rfind(" (", 0) == 0 && rest.find(" attempts): ") != std::string::npos)
      rest = rest.substr(rest.find(" attempts): ") + 10);
    if (rest.rfind(": " + reason, 0) == 0)
      return true;
  }
  return false;
}

} // namespace

BOOST_AUTO_TEST_SUITE(availability)

// One-shot commands retry (same request, next attempt) through the servers
// until their --timeout is spent: a majority that comes back within it
// serves them. Before, the first "no quorum" ended them after 1 s.
BOOST_FIXTURE_TEST_CASE(one_shot_commands_retry_within_their_timeout, ClusterFixture) {
  start_cluster(3);
  auto g = cli_at(servers(), {"try", "one-shot", "--owner", "holder", "--ttl", "1h"});
  BOOST_REQUIRE_MESSAGE(g.code() == 0, g.describe());
  auto held = parse_token_output(g.out).value_or(0);
  node(2).kill9();
  node(3).kill9();
  auto& t = cli_background(
      {"--servers", endpoint(1), "--timeout", "12s", "try", "fresh-lock", "--owner", "o"});
  auto& s = cli_background({"--servers", servers(), "--timeout", "12s", "status", "one-shot"});
  auto& c = cli_background(
      {"--servers", endpoint(1), "--timeout", "12s", "check", "one-shot", "--token", str(held)});
  // Each has had at least one "no quorum" (a round gives up after 1 s).
  std::this_thread::sleep_for(2500ms);
  for (auto* cmd : {&t, &s, &c})
    BOOST_CHECK_MESSAGE(cmd->running(), "gave up within its --timeout: " << cmd->describe());
  restart(2);
  for (auto* cmd : {&t, &s, &c}) {
    auto e = cmd->wait_for(20000ms);
    BOOST_REQUIRE_MESSAGE(e, "still running: " << cmd->describe());
    BOOST_CHECK_MESSAGE(e->exited && e->code == 0, cmd->describe());
  }
  BOOST_CHECK_MESSAGE(parse_token_output(t.out()), t.describe());
  BOOST_CHECK_MESSAGE(contains(s.out(), "held by holder"), s.describe());

  // Without a majority for the whole --timeout: exit 3, naming each server
  // tried and what it said.
  node(2).kill9();
  auto r = cli_at(servers(), {"--timeout", "3s", "release", "one-shot", "--token", str(held)});
  BOOST_CHECK_MESSAGE(r.code() == 3, r.describe());
  BOOST_CHECK_MESSAGE(r.seconds >= 2.5, "gave up before its --timeout: " << r.describe());
  for (size_t m = 1; m <= 3; ++m)
    BOOST_CHECK_MESSAGE(contains(r.err, endpoint(m)),
                        "server " << m << " not named: " << r.describe());
  BOOST_CHECK_MESSAGE(says(r.err, endpoint(1), "no quorum"), r.describe());
  BOOST_CHECK_MESSAGE(says(r.err, endpoint(2), "cannot connect"), r.describe());
}

// With 2 of 3 down, a waiting acquire or run waits its whole --wait, then
// exits 3 saying what the live node answered, not only the dead ones'
// connection errors.
BOOST_FIXTURE_TEST_CASE(waiting_commands_without_a_majority_wait_their_deadline, ClusterFixture) {
  start_cluster(3);
  node(2).kill9();
  node(3).kill9();
  const std::vector<std::vector<std::string>> cmds{
      {"acquire", "no-majority", "--owner", "a", "--wait", "4s"},
      {"run", "no-majority", "--owner", "b", "--wait", "4s", "--", "true"},
  };
  for (auto& args : cmds) {
    BOOST_TEST_CONTEXT(args[0]) {
      auto r = cli_at(servers(), args, 30000ms);
      BOOST_CHECK_MESSAGE(r.code() == 3, r.describe());
      BOOST_CHECK_MESSAGE(r.seconds >= 3.5, "gave up before its --wait: " << r.describe());
      BOOST_CHECK_MESSAGE(says(r.err, endpoint(1), "no quorum"), r.describe());
      BOOST_CHECK_MESSAGE(trim(r.out).empty(), r.describe());
    }
  }
}

BOOST_AUTO_TEST_SUITE_END()
