// Test 1: the godistlock CLI contract against one real node, exit codes
// included. Every case gets a fresh node (NodeFixture) and its own lock names.
#include "harness.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <thread>
#include <unistd.h>

using namespace gdl_process;

BOOST_FIXTURE_TEST_SUITE(cli_contract, NodeFixture)

BOOST_AUTO_TEST_CASE(acquire_try_reacquire_release) {
  auto a = gdl({"acquire", "L1", "--owner", "alice", "--ttl", "30s"});
  BOOST_REQUIRE_MESSAGE(a.code() == 0, a.describe());
  auto token = parse_token_output(a.out);
  BOOST_REQUIRE_MESSAGE(token && *token > 0, "not a positive token alone: " << a.describe());

  auto other = gdl({"try", "L1", "--owner", "bob"});
  BOOST_CHECK_MESSAGE(other.code() == 1, other.describe());
  BOOST_CHECK_MESSAGE(trim(other.out).empty(), other.describe());

  // The same owner again: idempotent, same token.
  auto again = gdl({"acquire", "L1", "--owner", "alice", "--ttl", "30s"});
  BOOST_CHECK_MESSAGE(again.code() == 0 && parse_token_output(again.out) == token,
                      "re-acquire by the same owner: " << again.describe());
  auto again_try = gdl({"try", "L1", "--owner", "alice"});
  BOOST_CHECK_MESSAGE(again_try.code() == 0 && parse_token_output(again_try.out) == token,
                      "try by the same owner: " << again_try.describe());

  auto wrong = gdl({"release", "L1", "--token", str(*token + 1)});
  BOOST_CHECK_MESSAGE(wrong.code() == 1, wrong.describe());
  auto s = status("L1");
  BOOST_CHECK(json_bool(s, "held") == true);
  BOOST_CHECK_EQUAL(uint_field(s, "token"), *token);

  auto right = gdl({"release", "L1", "--token", str(*token)});
  BOOST_CHECK_MESSAGE(right.code() == 0, right.describe());
  BOOST_CHECK(json_bool(status("L1"), "held") == false);
  // Releasing the just-released token again is idempotent by design (a
  // retried release); it must not change anything.
  auto twice = gdl({"release", "L1", "--token", str(*token)});
  BOOST_CHECK_MESSAGE(twice.code() == 0 || twice.code() == 1, twice.describe());
  BOOST_CHECK(json_bool(status("L1"), "held") == false);

  // Now free: bob's try works.
  auto bob = gdl({"try", "L1", "--owner", "bob"});
  BOOST_CHECK_MESSAGE(bob.code() == 0, bob.describe());
  auto bob_token = parse_token_output(bob.out);
  BOOST_REQUIRE_MESSAGE(bob_token && *bob_token > *token, bob.describe());
  // alice's old token can no longer release (or refresh) bob's grant.
  auto stale = gdl({"release", "L1", "--token", str(*token)});
  BOOST_CHECK_MESSAGE(stale.code() == 1, "release with a superseded token: " << stale.describe());
  auto stale_refresh = gdl({"refresh", "L1", "--token", str(*token)});
  BOOST_CHECK_MESSAGE(stale_refresh.code() == 1, stale_refresh.describe());
  auto s2 = status("L1");
  BOOST_CHECK(json_string(s2, "owner") == std::string("bob"));
  BOOST_CHECK_EQUAL(uint_field(s2, "token"), *bob_token);
}

BOOST_AUTO_TEST_CASE(tokens_strictly_increase) {
  uint64_t previous = 0;
  for (int i = 0; i < 5; ++i) {
    auto owner = i % 2 ? std::string("odd") : std::string("even");
    auto r = gdl({i % 2 ? "try" : "acquire", "L2", "--owner", owner});
    BOOST_REQUIRE_MESSAGE(r.code() == 0, r.describe());
    auto token = parse_token_output(r.out);
    BOOST_REQUIRE_MESSAGE(token, r.describe());
    BOOST_CHECK_MESSAGE(*token > previous,
                        "grant " << i << " got token " << *token << ", not above " << previous);
    previous = *token;
    auto rel = gdl({"release", "L2", "--token", str(*token)});
    BOOST_REQUIRE_MESSAGE(rel.code() == 0, rel.describe());
  }
  BOOST_CHECK_EQUAL(uint_field(status("L2"), "fence"), previous);
}

BOOST_AUTO_TEST_CASE(check_and_refresh) {
  auto token = acquire("L3", "alice", "1s");
  auto cur = gdl({"check", "L3", "--token", str(token)});
  BOOST_CHECK_MESSAGE(cur.code() == 0, cur.describe());
  auto not_cur = gdl({"check", "L3", "--token", str(token + 1)});
  BOOST_CHECK_MESSAGE(not_cur.code() == 1, not_cur.describe());

  auto ok = gdl({"refresh", "L3", "--token", str(token), "--ttl", "30s"});
  BOOST_CHECK_MESSAGE(ok.code() == 0, ok.describe());
  // Only the refresh can explain more than the original 1 s left.
  auto remaining = uint_field(status("L3"), "remaining_ms");
  BOOST_CHECK_MESSAGE(remaining > 5000 && remaining <= 30000,
                      "remaining_ms after refresh --ttl 30s: " << remaining);
  auto bad = gdl({"refresh", "L3", "--token", str(token + 1), "--ttl", "30s"});
  BOOST_CHECK_MESSAGE(bad.code() == 1, bad.describe());
  BOOST_CHECK(json_string(status("L3"), "owner") == std::string("alice"));

  auto rel = gdl({"release", "L3", "--token", str(token)});
  BOOST_CHECK_MESSAGE(rel.code() == 0, rel.describe());
  auto after = gdl({"check", "L3", "--token", str(token)});
  BOOST_CHECK_MESSAGE(after.code() == 1, "check after release: " << after.describe());
  auto late = gdl({"refresh", "L3", "--token", str(token)});
  BOOST_CHECK_MESSAGE(late.code() == 1, "refresh after release: " << late.describe());
  BOOST_CHECK(json_bool(status("L3"), "held") == false);
}

BOOST_AUTO_TEST_CASE(status_text_and_json) {
  auto free = status("L4");
  for (auto key : {"name", "held", "owner", "token", "remaining_ms", "waiters", "fence"})
    BOOST_CHECK_MESSAGE(free.has(key), "free lock: no field " << key);
  BOOST_CHECK(json_string(free, "name") == std::string("L4"));
  BOOST_CHECK(json_bool(free, "held") == false);
  BOOST_CHECK_EQUAL(uint_field(free, "waiters"), 0u);
  auto free_text = gdl({"status", "L4"});
  BOOST_CHECK_MESSAGE(free_text.code() == 0 && !trim(free_text.out).empty(), free_text.describe());

  auto token = acquire("L4", "alice", "30s");
  auto held = status("L4");
  for (auto key : {"name", "held", "owner", "token", "remaining_ms", "waiters", "fence"})
    BOOST_CHECK_MESSAGE(held.has(key), "held lock: no field " << key);
  BOOST_CHECK(json_string(held, "name") == std::string("L4"));
  BOOST_CHECK(json_bool(held, "held") == true);
  BOOST_CHECK(json_string(held, "owner") == std::string("alice"));
  BOOST_CHECK_EQUAL(uint_field(held, "token"), token);
  auto remaining = uint_field(held, "remaining_ms");
  BOOST_CHECK_MESSAGE(remaining > 0 && remaining <= 30000, "remaining_ms " << remaining);
  BOOST_CHECK_EQUAL(uint_field(held, "waiters"), 0u);
  BOOST_CHECK_EQUAL(uint_field(held, "fence"), token);
  auto held_text = gdl({"status", "L4"});
  BOOST_CHECK_MESSAGE(held_text.code() == 0 && !trim(held_text.out).empty(), held_text.describe());
  BOOST_CHECK_MESSAGE(held_text.out != free_text.out, "text status same for free and held");
  // Without --ttl the lease is 30 s.
  auto dflt = gdl({"acquire", "L4-default", "--owner", "alice"});
  BOOST_CHECK_MESSAGE(dflt.code() == 0, dflt.describe());
  auto dflt_remaining = json_uint(status("L4-default"), "remaining_ms").value_or(0);
  BOOST_CHECK_MESSAGE(dflt_remaining > 20000 && dflt_remaining <= 30000,
                      "default ttl: remaining_ms " << dflt_remaining);
  // A name with spaces and non-ASCII text survives the round trip.
  const std::string fancy = "lock with spaces \xc3\xa9\xe2\x82\xac \"quoted\"";
  auto fancy_token = acquire(fancy, "\xc3\xa5sa", "30s");
  auto f = status(fancy);
  BOOST_CHECK(json_string(f, "name") == fancy);
  BOOST_CHECK(json_string(f, "owner") == std::string("\xc3\xa5sa"));
  BOOST_CHECK_EQUAL(uint_field(f, "token"), fancy_token);
}

BOOST_AUTO_TEST_CASE(stats_json_counts) {
  auto before = stats();
  for (auto key : {"node_id", "uptime_ms", "live_lock_actors", "resting_locks", "held_locks",
                   "waiters", "grants", "releases", "expiries", "cluster_size"})
    BOOST_CHECK_MESSAGE(before.has(key), "stats --json has no field " << key);
  BOOST_CHECK(json_string(before, "node_id") == std::string("n1"));
  BOOST_CHECK_EQUAL(uint_field(before, "cluster_size"), 1u);

  const int n = 3;
  for (int i = 0; i < n; ++i) {
    auto name = "S" + std::to_string(i);
    auto token = acquire(name, "counter");
    auto rel = gdl({"release", name, "--token", str(token)});
    BOOST_REQUIRE_MESSAGE(rel.code() == 0, rel.describe());
  }
  auto held = acquire("S-held", "counter");
  (void)held;
  auto after = stats();
  BOOST_CHECK_EQUAL(uint_field(after, "grants") - uint_field(before, "grants"), n + 1u);
  BOOST_CHECK_EQUAL(uint_field(after, "releases") - uint_field(before, "releases"),
                    static_cast<uint64_t>(n));
  BOOST_CHECK_EQUAL(uint_field(after, "held_locks"), uint_field(before, "held_locks") + 1);
  BOOST_CHECK_GE(uint_field(after, "uptime_ms"), uint_field(before, "uptime_ms"));
  auto text = gdl({"stats"});
  BOOST_CHECK_MESSAGE(text.code() == 0 && !trim(text.out).empty(), text.describe());
}

BOOST_AUTO_TEST_CASE(wait_runs_out_and_leaves_queue) {
  acquire("L6", "alice", "30s");
  auto r = gdl({"acquire", "L6", "--owner", "bob", "--wait", "500ms"});
  BOOST_CHECK_MESSAGE(r.code() == 1, r.describe());
  BOOST_CHECK_MESSAGE(trim(r.out).empty(), r.describe());
  BOOST_CHECK_MESSAGE(r.seconds >= 0.4 && r.seconds < 10,
                      "--wait 500ms took " << r.seconds << " s");
  BOOST_CHECK_MESSAGE(wait_for_waiters("L6", 0, 2000ms),
                      "the timed-out waiter is still queued: waiters="
                          << json_uint(status("L6"), "waiters").value_or(999));
  auto s = status("L6");
  BOOST_CHECK(json_string(s, "owner") == std::string("alice"));
  // Released now, the lock must not go to the waiter that gave up.
  auto rel = gdl({"release", "L6", "--token", str(uint_field(s, "token"))});
  BOOST_CHECK_MESSAGE(rel.code() == 0, rel.describe());
  BOOST_CHECK(json_bool(status("L6"), "held") == false);
  // And a try with --wait 0 on a held lock answers at once.
  acquire("L6", "carol", "30s");
  auto zero = gdl({"acquire", "L6", "--owner", "dave", "--wait", "0"});
  BOOST_CHECK_MESSAGE(zero.code() == 1, zero.describe());
  BOOST_CHECK_EQUAL(uint_field(status("L6"), "waiters"), 0u);
}

BOOST_AUTO_TEST_CASE(waiters_are_served_in_order) {
  auto t1 = acquire("L7", "alice", "30s");
  auto& bob = gdl_background({"acquire", "L7", "--owner", "bob", "--wait", "20s"});
  BOOST_REQUIRE_MESSAGE(wait_for_waiters("L7", 1), "bob never queued: " << bob.describe());
  auto& carol = gdl_background({"acquire", "L7", "--owner", "carol", "--wait", "20s"});
  BOOST_REQUIRE_MESSAGE(wait_for_waiters("L7", 2), "carol never queued: " << carol.describe());
  BOOST_CHECK(bob.running() && carol.running());

  auto rel = gdl({"release", "L7", "--token", str(t1)});
  BOOST_REQUIRE_MESSAGE(rel.code() == 0, rel.describe());
  auto bob_exit = bob.wait_for(15000ms);
  BOOST_REQUIRE_MESSAGE(bob_exit, "bob not served after the release: " << bob.describe());
  BOOST_CHECK_MESSAGE(bob_exit->exited && bob_exit->code == 0, bob.describe());
  auto tb = parse_token_output(bob.out());
  BOOST_REQUIRE_MESSAGE(tb, bob.describe());
  BOOST_CHECK_GT(*tb, t1);
  BOOST_CHECK_MESSAGE(carol.running(), "carol finished before bob released: " << carol.describe());
  auto s = status("L7");
  BOOST_CHECK(json_string(s, "owner") == std::string("bob"));
  BOOST_CHECK_EQUAL(uint_field(s, "token"), *tb);
  BOOST_CHECK_EQUAL(uint_field(s, "waiters"), 1u);

  auto rel_b = gdl({"release", "L7", "--token", str(*tb)});
  BOOST_REQUIRE_MESSAGE(rel_b.code() == 0, rel_b.describe());
  auto carol_exit = carol.wait_for(15000ms);
  BOOST_REQUIRE_MESSAGE(carol_exit, "carol not served: " << carol.describe());
  BOOST_CHECK_MESSAGE(carol_exit->exited && carol_exit->code == 0, carol.describe());
  auto tc = parse_token_output(carol.out());
  BOOST_REQUIRE_MESSAGE(tc, carol.describe());
  BOOST_CHECK_GT(*tc, *tb);
  BOOST_CHECK(json_string(status("L7"), "owner") == std::string("carol"));
}

BOOST_AUTO_TEST_CASE(lease_expiry_hands_over) {
  auto ta = acquire("L8", "alice", "500ms");
  auto r = gdl({"acquire", "L8", "--owner", "bob", "--wait", "20s"}, 30000ms);
  BOOST_REQUIRE_MESSAGE(r.code() == 0, r.describe());
  auto tb = parse_token_output(r.out);
  BOOST_REQUIRE_MESSAGE(tb, r.describe());
  BOOST_CHECK_GT(*tb, ta);
  auto c = gdl({"check", "L8", "--token", str(ta)});
  BOOST_CHECK_MESSAGE(c.code() == 1, "expired token still current: " << c.describe());
  auto rel = gdl({"release", "L8", "--token", str(ta)});
  BOOST_CHECK_MESSAGE(rel.code() == 1, "release by the expired holder: " << rel.describe());
  BOOST_CHECK(json_string(status("L8"), "owner") == std::string("bob"));
  BOOST_CHECK_GE(uint_field(stats(), "expiries"), 1u);
}

BOOST_AUTO_TEST_CASE(bad_input_is_exit_2_and_changes_nothing) {
  auto token = acquire("L9", "alice", "1h");
  auto before = stats();
  const auto t = str(token);
  const std::string marker = scratch().file("run-must-not-run");
  const std::vector<std::vector<std::string>> bad{
      {"acquire", "L9", "--ttl", "5x"},
      {"acquire", "L9", "--ttl", "50ms"},
      {"acquire", "L9", "--ttl", "25h"},
      {"acquire", "L9", "--ttl", "-1s"},
      {"acquire", "L9", "--wait", "31d"},
      {"acquire", "L9", "--wait", "5x"},
      {"try", "L9", "--ttl", "50ms"},
      {"acquire", ""},
      {"acquire", std::string("bad\x01name")},
      {"acquire", std::string("bad\x7fname")},
      {"acquire", std::string("bad\xffname")},
      {"acquire", std::string(513, 'n')},
      {"acquire", "L9-new", "--owner", ""},
      {"acquire", "L9-new", "--owner", std::string(129, 'o')},
      {"release", "L9", "--token", "abc"},
      {"release", "L9", "--token", "-1"},
      {"release", "L9", "--token", "1.5"},
      {"release", "L9", "--token", "99999999999999999999999"},
      {"release", "L9"},
      {"release", "L9", "--token"},
      {"check", "L9", "--token", "abc"},
      {"refresh", "L9", "--token", "-1"},
      {"refresh", "L9", "--token", t, "--ttl", "25h"},
      {"refresh", "L9", "--token", t, "--ttl", "50ms"},
      {"status", std::string(513, 'n')},
      {"frobnicate", "L9"},
      {"acquire", "L9", "--bogus", "1"},
      {"acquire"},
      {"run", "L9-run", "--ttl", "50ms", "--", "touch", marker},
      {
          "run",
          "L9-run",
          "--",
      },
      {},
  };
  const std::string dead = "127.0.0.1:" + str(free_loopback_port());
  for (auto& args : bad) {
    BOOST_TEST_CONTEXT("godistlock " << [&] {
      std::string s;
      for (auto& a : args)
        s += (a.size() > 40 ? "<" + str(a.size()) + " bytes>" : a) + " ";
      return s;
    }()) {
      auto r = gdl(args);
      if (args.empty())
        BOOST_CHECK_MESSAGE(r.code() == 2, r.describe()); // may print the whole usage
      else
        check_usage_error(r);
      // Checked before anything is sent: no server needed to say "bad usage".
      auto offline = cli_at(dead, args);
      BOOST_CHECK_MESSAGE(offline.code() == 2,
                          "against no server (expected 2, not 3): " << offline.describe());
    }
  }
  auto global = cli({"--servers", "not-an-endpoint", "status", "L9"});
  check_usage_error(global);
  auto bad_timeout = gdl({"--timeout", "5x", "status", "L9"});
  check_usage_error(bad_timeout);

  BOOST_CHECK_MESSAGE(!file_exists(marker), "run executed its command despite bad usage");
  auto s = status("L9");
  BOOST_CHECK(json_bool(s, "held") == true);
  BOOST_CHECK_EQUAL(uint_field(s, "token"), token);
  BOOST_CHECK(json_string(s, "owner") == std::string("alice"));
  BOOST_CHECK(json_bool(status("L9-new"), "held") == false);
  BOOST_CHECK(json_bool(status("L9-run"), "held") == false);
  auto after = stats();
  BOOST_CHECK_EQUAL(uint_field(after, "grants"), uint_field(before, "grants"));
  BOOST_CHECK_EQUAL(uint_field(after, "releases"), uint_field(before, "releases"));

  // The limits themselves are fine.
  const std::string longest(512, 'n');
  auto edge = gdl({"acquire", longest, "--owner", std::string(128, 'o'), "--ttl", "100ms"});
  BOOST_CHECK_MESSAGE(edge.code() == 0, edge.describe());
  auto hour = gdl({"try", "L9-hour", "--ttl", "1h", "--owner", "x"});
  BOOST_CHECK_MESSAGE(hour.code() == 0, hour.describe());
  auto bare = gdl({"try", "L9-bare", "--ttl", "5", "--owner", "x"});
  BOOST_CHECK_MESSAGE(bare.code() == 0, bare.describe());
  auto remaining = json_uint(status("L9-bare"), "remaining_ms").value_or(0);
  BOOST_CHECK_MESSAGE(remaining > 1000 && remaining <= 5000,
                      "bare --ttl 5 should be 5 s, remaining_ms " << remaining);
  auto minutes = gdl({"try", "L9-min", "--ttl", "5m", "--owner", "x"});
  BOOST_CHECK_MESSAGE(minutes.code() == 0, minutes.describe());
  auto min_remaining = json_uint(status("L9-min"), "remaining_ms").value_or(0);
  BOOST_CHECK_MESSAGE(min_remaining > 60000 && min_remaining <= 300000,
                      "--ttl 5m: remaining_ms " << min_remaining);
}

BOOST_AUTO_TEST_CASE(no_server_reachable_is_exit_3) {
  const std::string dead = "127.0.0.1:" + str(free_loopback_port());
  const std::vector<std::vector<std::string>> cmds{
      {"try", "L10", "--owner", "a"},
      {"acquire", "L10", "--owner", "a", "--wait", "2s"},
      {"acquire", "L10", "--owner", "a", "--wait", "1s"},
      {"release", "L10", "--token", "1"},
      {"refresh", "L10", "--token", "1"},
      {"check", "L10", "--token", "1"},
      {"status", "L10"},
      {"stats"},
      {"run", "L10", "--wait", "2s", "--", "true"},
  };
  for (auto& args : cmds) {
    BOOST_TEST_CONTEXT("godistlock --servers " << dead << " " << args[0]) {
      auto r = cli_at(dead, args);
      BOOST_CHECK_MESSAGE(r.code() == 3, r.describe());
      BOOST_CHECK_MESSAGE(r.seconds < 10, "took " << r.seconds << " s: " << r.describe());
      BOOST_CHECK_MESSAGE(trim(r.out).empty(), r.describe());
    }
  }
  // A peer that accepts TCP connections but never speaks: --timeout bounds it.
  {
    int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    BOOST_REQUIRE(fd >= 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof addr;
    BOOST_REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
    BOOST_REQUIRE(::listen(fd, 64) == 0);
    BOOST_REQUIRE(::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0);
    const std::string mute = "127.0.0.1:" + str(ntohs(addr.sin_port));
    auto r = cli_at(mute, {"--timeout", "1s", "try", "L10", "--owner", "a"});
    ::close(fd);
    BOOST_CHECK_MESSAGE(r.code() == 3, "against a mute server: " << r.describe());
    BOOST_CHECK_MESSAGE(r.seconds < 10, "took " << r.seconds << " s");
  }
  // Without --wait an acquire waits for good, through an outage too: it is
  // still asking after 3 s, and leaves on SIGTERM.
  {
    auto& forever = cli_background({"--servers", dead, "acquire", "L10", "--owner", "a"});
    std::this_thread::sleep_for(3000ms);
    BOOST_CHECK_MESSAGE(forever.running(), "gave up without --wait: " << forever.describe());
    forever.send_signal(SIGTERM);
    auto e = forever.wait_for(10000ms);
    BOOST_CHECK_MESSAGE(e && e->exited, "no exit after SIGTERM: " << forever.describe());
    BOOST_CHECK_MESSAGE(trim(forever.out()).empty(), forever.describe());
  }
  auto down = cli_at(dead, {"cluster"});
  BOOST_CHECK_MESSAGE(down.code() != 0, down.describe());
  BOOST_WARN_MESSAGE(down.code() == 3, "cluster against no server: " << down.describe());
  auto up = gdl({"cluster"});
  BOOST_CHECK_MESSAGE(up.code() == 0, up.describe());

  // A dead server listed first is skipped; --servers wins over the environment.
  auto both = cli_at(dead + "," + node->endpoint(), {"try", "L10", "--owner", "a"});
  BOOST_CHECK_MESSAGE(both.code() == 0, both.describe());
}

BOOST_AUTO_TEST_CASE(every_binary_tells_its_version_and_commit) {
  auto c = cli({"--version"});
  BOOST_CHECK_MESSAGE(c.code() == 0, c.describe());
  BOOST_CHECK_MESSAGE(c.out.rfind("godistlock ", 0) == 0 && contains(c.out, "(commit "),
                      c.describe());
  Child node({node_binary(), "--version"}, scratch_file("version.out"),
             scratch_file("version.err"));
  auto e = node.wait_or_kill(10000ms);
  BOOST_CHECK_MESSAGE(e.exited && e.code == 0, node.describe());
  BOOST_CHECK_MESSAGE(node.out().rfind("godistlock-node ", 0) == 0, node.describe());
}

BOOST_AUTO_TEST_CASE(servers_option_beats_environment) {
  const std::string dead = "127.0.0.1:" + str(free_loopback_port());
  auto& c = cli_background(with_servers({"status", "L11"}), {{"GODISTLOCK_SERVERS", dead}});
  auto e = c.wait_or_kill(20000ms);
  BOOST_CHECK_MESSAGE(!e.timed_out && e.exited && e.code == 0, c.describe());
}

BOOST_AUTO_TEST_CASE(run_passes_env_and_exit_status) {
  auto r = gdl({"run", "R1", "--owner", "runner", "--", "sh", "-c",
                "echo \"$GODISTLOCK_NAME $GODISTLOCK_TOKEN\""});
  BOOST_CHECK_MESSAGE(r.code() == 0, r.describe());
  std::optional<uint64_t> token;
  for (auto& line : split_lines(r.out))
    if (line.rfind("R1 ", 0) == 0)
      token = parse_token_output(line.substr(3));
  BOOST_REQUIRE_MESSAGE(token, "no 'R1 <token>' line from the command: " << r.describe());
  auto s = status("R1");
  BOOST_CHECK_MESSAGE(json_bool(s, "held") == false, "run did not release");
  BOOST_CHECK_EQUAL(uint_field(s, "fence"), *token);

  auto seven = gdl({"run", "R1", "--owner", "runner", "--", "sh", "-c", "exit 7"});
  BOOST_CHECK_MESSAGE(seven.code() == 7, seven.describe());
  BOOST_CHECK(json_bool(status("R1"), "held") == false);
  BOOST_CHECK_GT(uint_field(status("R1"), "fence"), *token);

  // The lock is held while the command runs.
  auto inside = gdl({"run", "R1", "--owner", "runner", "--", "sh", "-c",
                     "\"$0\" --servers \"$1\" status R1 --json", cli_binary(), node->endpoint()});
  BOOST_CHECK_MESSAGE(inside.code() == 0, inside.describe());
  auto j = parse_json(inside.out);
  BOOST_CHECK_MESSAGE(j && json_bool(*j, "held") == true &&
                          json_string(*j, "owner") == std::string("runner"),
                      "status from inside run: " << inside.describe());

  // Held by someone else: run gives up after --wait and never starts CMD.
  auto other = acquire("R1", "other", "30s");
  const auto marker = scratch().file("ran");
  auto blocked = gdl({"run", "R1", "--owner", "runner", "--wait", "300ms", "--", "touch", marker});
  BOOST_CHECK_MESSAGE(blocked.code() == 1, blocked.describe());
  BOOST_CHECK_MESSAGE(!file_exists(marker), "run started its command without the lock");
  BOOST_CHECK_EQUAL(uint_field(status("R1"), "token"), other);
  auto rel = gdl({"release", "R1", "--token", str(other)});
  BOOST_CHECK_MESSAGE(rel.code() == 0, rel.describe());

  // A command that cannot be started: non-zero, and the lock is released.
  auto missing = gdl({"run", "R1", "--owner", "runner", "--", "/nonexistent/gdl-command"});
  BOOST_CHECK_MESSAGE(missing.code() != 0, missing.describe());
  BOOST_CHECK(json_bool(status("R1"), "held") == false);
}

BOOST_AUTO_TEST_CASE(run_refreshes_while_command_runs) {
  const auto started = scratch().file("started");
  const auto go = scratch().file("go");
  auto& run =
      gdl_background({"run", "R2", "--ttl", "2s", "--owner", "runner", "--", "sh", "-c",
                      "touch \"$0\"; while [ ! -e \"$1\" ]; do sleep 0.05; done", started, go});
  BOOST_REQUIRE_MESSAGE(eventually([&] { return file_exists(started) || !run.running(); }, 10000ms),
                        run.describe());
  BOOST_REQUIRE_MESSAGE(file_exists(started), run.describe());
  // Well past two 2 s leases: only refreshing keeps the lock.
  std::this_thread::sleep_for(4500ms);
  auto t = gdl({"try", "R2", "--owner", "intruder"});
  BOOST_CHECK_MESSAGE(t.code() == 1, "lease not refreshed during run: " << t.describe());
  auto s = status("R2");
  BOOST_CHECK(json_bool(s, "held") == true);
  BOOST_CHECK(json_string(s, "owner") == std::string("runner"));
  write_file(go, "");
  auto e = run.wait_for(10000ms);
  BOOST_REQUIRE_MESSAGE(e, "run did not finish: " << run.describe());
  BOOST_CHECK_MESSAGE(e->exited && e->code == 0, run.describe());
  BOOST_CHECK(json_bool(status("R2"), "held") == false);
}

BOOST_AUTO_TEST_CASE(run_lease_lost_is_exit_4) {
  const auto pidfile = scratch().file("pid");
  auto& run =
      gdl_background({"run", "R3", "--ttl", "1s", "--owner", "runner", "--", "sh", "-c",
                      "echo $$ > \"$0.tmp\" && mv \"$0.tmp\" \"$0\"; exec sleep 30", pidfile});
  BOOST_REQUIRE_MESSAGE(
      eventually([&] { return !read_file(pidfile).empty() || !run.running(); }, 10000ms),
      run.describe());
  auto pid_text = trim(read_file(pidfile));
  BOOST_REQUIRE_MESSAGE(!pid_text.empty(), run.describe());
  const pid_t cmd_pid = static_cast<pid_t>(std::stol(pid_text));

  auto s = status("R3");
  BOOST_REQUIRE(json_bool(s, "held") == true);
  auto token = uint_field(s, "token");
  // Someone else (an operator) releases the lease under the command's feet.
  auto rel = gdl({"release", "R3", "--token", str(token)});
  BOOST_REQUIRE_MESSAGE(rel.code() == 0, rel.describe());

  auto e = run.wait_for(10000ms);
  BOOST_REQUIRE_MESSAGE(e, "run did not notice the lost lease: " << run.describe());
  BOOST_CHECK_MESSAGE(e->exited && e->code == 4, run.describe());
  BOOST_CHECK_MESSAGE(!trim(run.err()).empty(), "no message on stderr: " << run.describe());
  BOOST_CHECK_MESSAGE(eventually([&] { return process_gone(cmd_pid); }, 5000ms),
                      "the command (pid " << cmd_pid << ") still runs after the lease was lost");
}

// The node goes away (kill -9) while `run` holds the lock: the lease can no
// longer be confirmed, so the command is stopped and run exits 4.
BOOST_AUTO_TEST_CASE(run_server_gone_is_exit_4) {
  const auto pidfile = scratch().file("pid");
  auto& run = gdl_background(
      {"--timeout", "500ms", "run", "R4", "--ttl", "2s", "--owner", "runner", "--", "sh", "-c",
       "echo $$ > \"$0.tmp\" && mv \"$0.tmp\" \"$0\"; exec sleep 30", pidfile});
  BOOST_REQUIRE_MESSAGE(
      eventually([&] { return !read_file(pidfile).empty() || !run.running(); }, 10000ms),
      run.describe());
  auto pid_text = trim(read_file(pidfile));
  BOOST_REQUIRE_MESSAGE(!pid_text.empty(), run.describe());
  const pid_t cmd_pid = static_cast<pid_t>(std::stol(pid_text));
  node->kill9();
  auto e = run.wait_for(15000ms);
  BOOST_REQUIRE_MESSAGE(e, "run kept going without a server: " << run.describe());
  BOOST_CHECK_MESSAGE(e->exited && e->code == 4, run.describe());
  BOOST_CHECK_MESSAGE(eventually([&] { return process_gone(cmd_pid); }, 5000ms),
                      "the command (pid " << cmd_pid << ") outlived the lease");
}

// Several `run`s race for one lock: their commands never overlap, and each
// sees a token above the one before it.
BOOST_AUTO_TEST_CASE(run_mutual_exclusion) {
  const auto inside = scratch().file("inside");
  const auto journal = scratch().file("journal");
  const std::string script = "if ! mkdir \"$0\" 2>/dev/null; then echo OVERLAP >> \"$1\"; fi; "
                             "echo \"$GODISTLOCK_TOKEN\" >> \"$1\"; sleep 0.2; rmdir \"$0\"";
  std::vector<Child*> runs;
  for (int i = 0; i < 5; ++i)
    runs.push_back(
        &gdl_background({"run", "R5", "--ttl", "10s", "--wait", "30s", "--owner",
                         "racer-" + std::to_string(i), "--", "sh", "-c", script, inside, journal}));
  for (auto* r : runs) {
    auto e = r->wait_for(40000ms);
    BOOST_CHECK_MESSAGE(e && e->exited && e->code == 0, r->describe());
  }
  auto lines = split_lines(read_file(journal));
  BOOST_CHECK_EQUAL(lines.size(), runs.size());
  uint64_t previous = 0;
  for (auto& line : lines) {
    BOOST_CHECK_MESSAGE(line != "OVERLAP", "two commands ran at once under the lock");
    auto token = parse_token_output(line);
    BOOST_CHECK_MESSAGE(token && *token > previous,
                        "token order in journal: " << read_file(journal));
    previous = token.value_or(previous);
  }
  BOOST_CHECK(json_bool(status("R5"), "held") == false);
}

BOOST_AUTO_TEST_SUITE_END()
