// Server lists as users write them: every entry checked before anything is
// sent, IPv6 literals in brackets, an empty GODISTLOCK_SERVERS refused.
#include "harness.hpp"

#include <boost/test/unit_test.hpp>

#include <algorithm>

using namespace gdl_process;

BOOST_AUTO_TEST_SUITE(servers)

// Entries that are not HOST:PORT: exit 2 naming the entry, not a
// connection attempt ending in exit 3.
BOOST_FIXTURE_TEST_CASE(bad_entries_are_named, Harness) {
  const std::string good = "127.0.0.1:" + str(free_loopback_port());
  for (std::string entry : {"n1@127.0.0.1:7001", "http://127.0.0.1:7001", "garbage", "::1:7001",
                            "[::1]", "127.0.0.1:0", "[not-v6]:7001"}) {
    BOOST_TEST_CONTEXT(entry) {
      auto r = cli({"--servers", good + "," + entry, "status", "S"});
      check_usage_error(r);
      BOOST_CHECK_MESSAGE(contains(r.err, "'" + entry + "'"), r.describe());
      auto& env = cli_background({"status", "S"}, {{"GODISTLOCK_SERVERS", entry}});
      auto e = env.wait_or_kill(10000ms);
      BOOST_CHECK_MESSAGE(e.exited && e.code == 2, env.describe());
    }
  }
  // Set but empty is a mistake, not "use the default list".
  auto& empty = cli_background({"status", "S"}, {{"GODISTLOCK_SERVERS", ""}});
  auto e = empty.wait_or_kill(10000ms);
  BOOST_CHECK_MESSAGE(e.exited && e.code == 2, empty.describe());
  BOOST_CHECK_MESSAGE(contains(empty.err(), "GODISTLOCK_SERVERS"), empty.describe());
}

// A cluster on ::1: nodes listen and dial peers at [::1]:PORT, the CLI
// reaches them the same way.
BOOST_FIXTURE_TEST_CASE(ipv6_cluster, Harness) {
  std::vector<uint16_t> ports;
  while (ports.size() < 3) {
    auto p = free_loopback_port();
    if (std::find(ports.begin(), ports.end(), p) == ports.end())
      ports.push_back(p);
  }
  auto at = [&](size_t i) { return "[::1]:" + str(ports[i]); };
  std::vector<Child*> nodes;
  for (size_t i = 0; i < 3; ++i) {
    std::string peers;
    for (size_t j = 0; j < 3; ++j)
      if (j != i)
        peers += (peers.empty() ? "" : ",") + ("n" + str(j + 1) + "@" + at(j));
    auto dir = scratch().file("data-v6-" + str(i + 1));
    nodes.push_back(&start_node_process({"--id", "n" + str(i + 1), "--listen", at(i), "--data-dir",
                                         dir, "--peers", peers, "--bootstrap"}));
  }
  const auto servers = at(0) + "," + at(1) + "," + at(2);
  std::optional<uint64_t> token;
  BOOST_CHECK(eventually(
      [&] {
        auto r = cli_at(servers, {"--timeout", "1s", "try", "v6-lock", "--owner", "o"});
        if (r.code() == 0)
          token = parse_token_output(r.out);
        return r.code() == 0;
      },
      20000ms, 100ms));
  BOOST_REQUIRE_MESSAGE(token, nodes[0]->describe());
  // Every node answers on its own, as a member of the majority.
  for (size_t i = 0; i < 3; ++i) {
    auto r = cli_at(at(i), {"check", "v6-lock", "--token", str(*token)});
    BOOST_CHECK_MESSAGE(r.code() == 0, r.describe());
  }
  BOOST_CHECK(contains(nodes[0]->err(), "ready on [::1]:" + str(ports[0])));
  for (auto* n : nodes) {
    n->send_signal(SIGTERM);
    n->wait_or_kill(10000ms);
  }
}

BOOST_AUTO_TEST_SUITE_END()
