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

// A try that is still retrying stops at Ctrl-C (between passes), rather
// than after its --timeout.
BOOST_FIXTURE_TEST_CASE(a_retrying_try_stops_on_sigint, Harness) {
  const std::string dead = "127.0.0.1:" + str(free_loopback_port());
  auto& t = cli_background({"--servers", dead, "--timeout", "60s", "try", "x", "--owner", "o"});
  std::this_thread::sleep_for(1000ms);
  BOOST_REQUIRE_MESSAGE(t.running(), "gave up within its --timeout: " << t.describe());
  t.send_signal(SIGINT);
  auto e = t.wait_for(10000ms);
  BOOST_REQUIRE_MESSAGE(e, "still retrying 10 s after SIGINT: " << t.describe());
  BOOST_CHECK_MESSAGE(e->exited && e->code == 128 + SIGINT, t.describe());
  BOOST_CHECK_MESSAGE(trim(t.out()).empty(), t.describe());
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

namespace {

const Json* member_at(const Json& cluster, const std::string& server) {
  auto* list = cluster.get("members");
  if (!list)
    return nullptr;
  for (auto& m : list->array)
    if (json_string(m, "server") == server)
      return &m;
  return nullptr;
}

} // namespace

// `cluster` shows what each node sees, not only what the tool reaches: a
// node alone is reachable but has no quorum, and the summary says so.
BOOST_FIXTURE_TEST_CASE(cluster_shows_each_nodes_own_view, ClusterFixture) {
  start_cluster(3, true);
  auto all = cli_at(servers(), {"cluster", "--json"});
  BOOST_REQUIRE_MESSAGE(all.code() == 0, all.describe());
  auto j = parse_json(all.out);
  BOOST_REQUIRE_MESSAGE(j, all.describe());
  BOOST_CHECK(json_bool(*j, "quorum") == true);
  BOOST_CHECK_EQUAL(json_uint(*j, "serving").value_or(0), 3u);
  for (size_t m = 1; m <= 3; ++m) {
    auto* node_view = member_at(*j, endpoint(m));
    BOOST_REQUIRE_MESSAGE(node_view, "no entry for n" << m << ": " << all.describe());
    BOOST_CHECK(json_bool(*node_view, "reachable") == true);
    BOOST_CHECK(json_string(*node_view, "node_id") == "n" + str(m));
    BOOST_CHECK(json_bool(*node_view, "sees_majority") == true);
    BOOST_CHECK(json_string(*node_view, "state") == std::string("serving"));
    BOOST_CHECK(node_view->get("rtt_ms") && json_uint(*node_view, "incarnation"));
    auto* peers = node_view->get("connected_peers");
    BOOST_REQUIRE(peers);
    BOOST_CHECK_EQUAL(peers->array.size(), 2u);
  }
  auto text = cli_at(servers(), {"cluster"});
  BOOST_CHECK_MESSAGE(text.code() == 0, text.describe());
  BOOST_CHECK_MESSAGE(contains(text.out, "peers connected 2 of 2") &&
                          contains(text.out, "quorum yes") &&
                          contains(text.out, "3 of 3 nodes serving"),
                      text.describe());

  // n1 alone: reachable, but it sees no majority, and neither does the tool.
  node(2).kill9();
  node(3).kill9();
  CliResult alone;
  BOOST_CHECK_MESSAGE(eventually(
                          [&] {
                            alone = cli_at(servers(), {"--timeout", "2s", "cluster"});
                            return contains(alone.out, "peers connected 0 of 2");
                          },
                          10000ms, 100ms),
                      "n1 still counts its dead peers: " << alone.describe());
  BOOST_CHECK_MESSAGE(alone.code() == 3, alone.describe());
  BOOST_CHECK_MESSAGE(contains(alone.out, "quorum no") && contains(alone.out, "unreachable") &&
                          contains(alone.out, "0 of 3 nodes serving"),
                      alone.describe());

  // n2 back: both see a majority again once they have dialled each other.
  restart(2);
  CliResult back;
  BOOST_CHECK_MESSAGE(eventually(
                          [&] {
                            back = cli_at(servers({1, 2}), {"--timeout", "2s", "cluster"});
                            return back.code() == 0;
                          },
                          10000ms, 100ms),
                      back.describe());
  BOOST_CHECK_MESSAGE(contains(back.out, "2 of 3 nodes serving"), back.describe());
}

BOOST_AUTO_TEST_SUITE_END()
