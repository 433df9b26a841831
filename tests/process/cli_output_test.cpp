// The CLI's output for people and programs (issue 12): --json on every
// command, failures included; `stats` with peers and quorum; the progress
// line of a waiting acquire on a terminal, and silence elsewhere.
#include "harness.hpp"

#include <boost/test/unit_test.hpp>

using namespace gdl_process;

namespace {

Json json_object(const CliResult& r) {
  auto j = parse_json(r.out);
  BOOST_REQUIRE_MESSAGE(j && j->type == Json::Type::object,
                        "not one JSON object: " << r.describe());
  return *j;
}

std::string shell_quote(const std::string& word) {
  std::string quoted = "'";
  for (char c : word)
    quoted += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return quoted + "'";
}

} // namespace

BOOST_FIXTURE_TEST_SUITE(cli_output, NodeFixture)

BOOST_AUTO_TEST_CASE(every_command_speaks_json) {
  auto acquired = gdl({"acquire", "J1", "--owner", "a", "--json"});
  BOOST_REQUIRE_MESSAGE(acquired.code() == 0, acquired.describe());
  auto a = json_object(acquired);
  auto token = uint_field(a, "token");
  BOOST_CHECK(json_bool(a, "acquired") == true);
  BOOST_CHECK(json_string(a, "owner") == std::string("a"));

  auto busy = gdl({"try", "J1", "--owner", "b", "--json"});
  BOOST_CHECK_MESSAGE(busy.code() == 1, busy.describe());
  auto b = json_object(busy);
  BOOST_CHECK(json_string(b, "error") == std::string("not_acquired"));
  BOOST_CHECK(json_string(b, "command") == std::string("try"));
  BOOST_CHECK_EQUAL(uint_field(b, "exit_code"), 1u);

  auto refreshed = gdl({"refresh", "J1", "--token", str(token), "--ttl", "1m", "--json"});
  BOOST_CHECK_MESSAGE(refreshed.code() == 0, refreshed.describe());
  BOOST_CHECK(json_bool(json_object(refreshed), "refreshed") == true);
  BOOST_CHECK_EQUAL(uint_field(json_object(refreshed), "ttl_ms"), 60000u);

  auto current = gdl({"check", "J1", "--token", str(token), "--json"});
  BOOST_CHECK_MESSAGE(current.code() == 0, current.describe());
  BOOST_CHECK(json_bool(json_object(current), "current") == true);
  auto stale = gdl({"check", "J1", "--token", str(token + 1), "--json"});
  BOOST_CHECK_MESSAGE(stale.code() == 1, stale.describe());
  BOOST_CHECK(json_bool(json_object(stale), "current") == false);

  auto status = gdl({"status", "J1", "--json"});
  BOOST_CHECK(json_bool(json_object(status), "held") == true);

  auto wrong = gdl({"release", "J1", "--token", str(token + 1), "--json"});
  BOOST_CHECK_MESSAGE(wrong.code() == 1, wrong.describe());
  BOOST_CHECK(json_string(json_object(wrong), "error") == std::string("not_holder"));
  auto released = gdl({"release", "J1", "--token", str(token), "--json"});
  BOOST_CHECK_MESSAGE(released.code() == 0, released.describe());
  BOOST_CHECK(json_bool(json_object(released), "released") == true);

  auto stats = json_object(gdl({"stats", "--json"}));
  BOOST_CHECK(json_bool(stats, "quorum") == true);
  BOOST_CHECK(stats.get("peers") && stats.get("peers")->type == Json::Type::array);
  auto stats_text = gdl({"stats"});
  BOOST_CHECK_MESSAGE(contains(stats_text.out, "\nquorum: yes (sees 1 of 1 members, majority 1)\n"),
                      stats_text.describe());
  auto cluster = json_object(gdl({"cluster", "--json"}));
  BOOST_CHECK(json_bool(cluster, "quorum") == true);

  // run: CMD's output first, then run's own object as the last line.
  auto ran = gdl({"run", "J2", "--json", "--", "sh", "-c", "echo from-cmd; exit 3"});
  BOOST_CHECK_MESSAGE(ran.code() == 3, ran.describe());
  auto lines = split_lines(ran.out);
  BOOST_REQUIRE_MESSAGE(lines.size() == 2 && lines[0] == "from-cmd", ran.describe());
  auto r = parse_json(lines[1]);
  BOOST_REQUIRE_MESSAGE(r, ran.describe());
  BOOST_CHECK(json_bool(*r, "acquired") == true);
  BOOST_CHECK(json_bool(*r, "lock_lost") == false);
  BOOST_CHECK_EQUAL(uint_field(*r, "command_status"), 3u);
  BOOST_CHECK_GT(uint_field(*r, "token"), 0u);

  // Nobody reachable: the failure is an object too.
  auto dead = "127.0.0.1:" + str(free_loopback_port());
  auto down = cli_at(dead, {"--timeout", "300ms", "status", "J1", "--json"});
  BOOST_CHECK_MESSAGE(down.code() == 3, down.describe());
  BOOST_CHECK(json_string(json_object(down), "error") == std::string("unavailable"));
}

// On a terminal (script(1) gives the tool a pty) a waiting acquire shows
// where it stands; with --quiet, or with stderr in a file, nothing.
BOOST_AUTO_TEST_CASE(waiting_shows_progress_only_on_a_terminal) {
  acquire("P1", "holder");
  auto on_terminal = [&](const std::vector<std::string>& extra) {
    std::string command = shell_quote(cli_binary()) + " --servers " + node->endpoint() +
                          " acquire P1 --wait 2500ms --owner waiter";
    for (auto& e : extra)
      command += " " + e;
    Child c({"/usr/bin/script", "-qec", command, "/dev/null"}, scratch_file("tty.out"),
            scratch_file("tty.err"));
    auto e = c.wait_or_kill(20000ms);
    BOOST_CHECK_MESSAGE(e.exited && e.code == 1, c.describe());
    return c.out(); // the pty carries stdout and stderr alike
  };
  auto shown = on_terminal({});
  BOOST_CHECK_MESSAGE(contains(shown, "\r\033[Kgodistlock: waiting for 'P1' "), shown);
  BOOST_CHECK_MESSAGE(contains(shown, "1st in the queue"), shown);
  BOOST_CHECK_MESSAGE(contains(shown, "held by holder (token "), shown);
  BOOST_CHECK_MESSAGE(contains(shown, "not acquired within the wait time"), shown);
  auto quiet = on_terminal({"--quiet"});
  BOOST_CHECK_MESSAGE(!contains(quiet, "waiting for") && contains(quiet, "not acquired"), quiet);

  auto in_file = gdl({"acquire", "P1", "--wait", "1500ms", "--owner", "waiter2"});
  BOOST_CHECK_MESSAGE(in_file.code() == 1, in_file.describe());
  BOOST_CHECK_MESSAGE(!contains(in_file.err, "waiting for") && !contains(in_file.err, "\r"),
                      in_file.describe());
}

BOOST_AUTO_TEST_SUITE_END()
