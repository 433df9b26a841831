// Issue 12: a CLI that never leaks a lock or a child. `run`'s command (and
// its process group) dies with the tool even on SIGKILL; a waiting acquire
// or run that gives up leaves the queue; a token that cannot be written is
// given back; bad `run` commands and options are refused before the lock.
#include "harness.hpp"

#include <sstream>
#include <sys/stat.h>
#include <thread>
#include <unistd.h>

using namespace gdl_process;

namespace {

// The process group of `pid` (field 5 of /proc/PID/stat), or -1.
pid_t process_group(pid_t pid) {
  auto stat = read_file("/proc/" + std::to_string(pid) + "/stat");
  auto close_paren = stat.rfind(')');
  if (close_paren == std::string::npos)
    return -1;
  std::istringstream fields(stat.substr(close_paren + 2));
  std::string state;
  long ppid = 0, pgrp = -1;
  fields >> state >> ppid >> pgrp;
  return static_cast<pid_t>(pgrp);
}

// The state letter of `pid` (R, S, T for stopped, Z...), or '?'.
char process_state(pid_t pid) {
  auto stat = read_file("/proc/" + std::to_string(pid) + "/stat");
  auto close_paren = stat.rfind(')');
  return close_paren != std::string::npos && close_paren + 2 < stat.size() ? stat[close_paren + 2]
                                                                           : '?';
}

std::optional<pid_t> read_pid(const std::string& path) {
  auto text = trim(read_file(path));
  if (text.empty())
    return std::nullopt;
  return static_cast<pid_t>(std::stol(text));
}

// A shell snippet that writes `value` to `path` atomically.
std::string publish(const std::string& value, const std::string& path) {
  return "echo " + value + " > '" + path + ".tmp' && mv '" + path + ".tmp' '" + path + "'";
}

} // namespace

BOOST_FIXTURE_TEST_SUITE(cli_no_leaks, NodeFixture)

// SIGKILL cannot be caught: the command must still die, and so must a
// grandchild in its process group (PR_SET_PDEATHSIG alone would miss it).
BOOST_AUTO_TEST_CASE(run_child_dies_with_cli_on_sigkill) {
  const auto pidfile = scratch().file("pid");
  const auto grandfile = scratch().file("grandchild");
  auto& run = gdl_background(
      {"run", "K1", "--ttl", "30s", "--owner", "runner", "--", "sh", "-c",
       "sleep 300 & " + publish("$!", grandfile) + "; " + publish("$$", pidfile) + "; wait"});
  BOOST_REQUIRE_MESSAGE(eventually([&] { return file_exists(pidfile) || !run.running(); }, 10000ms),
                        run.describe());
  auto child = read_pid(pidfile);
  auto grandchild = read_pid(grandfile);
  BOOST_REQUIRE_MESSAGE(child && grandchild, run.describe());
  // The setup means what it should: the grandchild shares the command's
  // group, and that group is not the tool's.
  BOOST_REQUIRE_EQUAL(process_group(*grandchild), process_group(*child));
  BOOST_CHECK_NE(process_group(*child), process_group(run.pid()));

  run.send_signal(SIGKILL);
  auto e = run.wait_for(5000ms);
  BOOST_REQUIRE_MESSAGE(e && !e->exited && e->signal == SIGKILL, run.describe());
  BOOST_CHECK_MESSAGE(eventually([&] { return process_gone(*child); }, 2000ms),
                      "the command (pid " << *child << ") outlived the SIGKILLed tool");
  BOOST_CHECK_MESSAGE(eventually([&] { return process_gone(*grandchild); }, 2000ms),
                      "the grandchild (pid " << *grandchild << ") outlived the SIGKILLed tool");
}

// What the command leaves behind in its group dies before the lock is released.
BOOST_AUTO_TEST_CASE(run_kills_leftovers_before_release) {
  const auto grandfile = scratch().file("grandchild");
  auto r = gdl({"run", "K2", "--owner", "runner", "--", "sh", "-c",
                "sleep 300 & " + publish("$!", grandfile)});
  BOOST_CHECK_MESSAGE(r.code() == 0, r.describe());
  auto grandchild = read_pid(grandfile);
  BOOST_REQUIRE_MESSAGE(grandchild, r.describe());
  BOOST_CHECK_MESSAGE(eventually([&] { return process_gone(*grandchild); }, 2000ms),
                      "a leftover of the command (pid " << *grandchild << ") outlived run");
  BOOST_CHECK(json_bool(status("K2"), "held") == false);
}

// HUP, QUIT, USR1, USR2 and WINCH reach the command as INT and TERM do; the
// tool exits with the command's status and releases the lock.
BOOST_AUTO_TEST_CASE(run_forwards_more_signals) {
  for (int sig : {SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGWINCH, SIGINT, SIGTERM}) {
    BOOST_TEST_CONTEXT("signal " << sig) {
      const auto name = "F" + str(static_cast<uint64_t>(sig));
      const auto ready = scratch().file("ready-" + name);
      const auto got = scratch().file("got-" + name);
      auto& run =
          gdl_background({"run", name, "--owner", "runner", "--", "sh", "-c",
                          "trap '" + publish("yes", got) + "; exit 7' " + std::to_string(sig) +
                              "; " + publish("1", ready) + "; while :; do sleep 0.05; done"});
      BOOST_REQUIRE_MESSAGE(
          eventually([&] { return file_exists(ready) || !run.running(); }, 10000ms),
          run.describe());
      run.send_signal(sig);
      auto e = run.wait_for(10000ms);
      BOOST_REQUIRE_MESSAGE(e, "the command did not get signal " << sig << ": " << run.describe());
      BOOST_CHECK_MESSAGE(e->exited && e->code == 7, run.describe());
      BOOST_CHECK_EQUAL(trim(read_file(got)), "yes");
      BOOST_CHECK(json_bool(status(name), "held") == false);
    }
  }
}

// SIGTSTP stops the command's whole group and then the tool, so that nothing
// works on while the lease is not refreshed; SIGCONT to the tool resumes both.
BOOST_AUTO_TEST_CASE(run_sigtstp_stops_the_whole_job) {
  const auto pidfile = scratch().file("pid");
  const auto go = scratch().file("go");
  auto& run = gdl_background(
      {"run", "T1", "--owner", "runner", "--", "sh", "-c",
       publish("$$", pidfile) + "; while [ ! -e '" + go + "' ]; do sleep 0.05; done"});
  BOOST_REQUIRE_MESSAGE(eventually([&] { return file_exists(pidfile) || !run.running(); }, 10000ms),
                        run.describe());
  auto child = read_pid(pidfile);
  BOOST_REQUIRE(child);
  run.send_signal(SIGTSTP);
  BOOST_CHECK_MESSAGE(
      eventually([&] { return process_state(run.pid()) == 'T' && process_state(*child) == 'T'; },
                 5000ms),
      "not stopped: tool " << process_state(run.pid()) << ", command " << process_state(*child));
  run.send_signal(SIGCONT);
  BOOST_CHECK_MESSAGE(eventually([&] { return process_state(*child) != 'T'; }, 5000ms),
                      "the command stayed stopped");
  write_file(go, "");
  auto e = run.wait_for(10000ms);
  BOOST_REQUIRE_MESSAGE(e, run.describe());
  BOOST_CHECK_MESSAGE(e->exited && e->code == 0, run.describe());
  BOOST_CHECK(json_bool(status("T1"), "held") == false);
}

// CMD is looked up before the lock is taken: 127 not found, 126 not executable.
BOOST_AUTO_TEST_CASE(run_checks_command_before_the_lock) {
  const auto plain = scratch().file("not-executable");
  write_file(plain, "#!/bin/sh\necho hi\n");
  ::chmod(plain.c_str(), 0644);
  const std::vector<std::pair<std::string, int>> cases{
      {"/nonexistent/gdl-command", 127},
      {"gdl-no-such-command-anywhere", 127},
      {plain, 126},
      {scratch().path(), 126},
  };
  auto before = stats();
  for (auto& [program, expected] : cases) {
    BOOST_TEST_CONTEXT("run -- " << program) {
      auto r = gdl({"run", "C1", "--owner", "runner", "--", program, "arg"});
      BOOST_CHECK_MESSAGE(r.code() == expected, r.describe());
      BOOST_CHECK_MESSAGE(contains(r.err, program) && !contains(trim(r.err), "\n"),
                          "expected one line naming the command: " << r.describe());
      // Against no server at all, the answer is the same: nothing was sent.
      auto offline = cli_at("127.0.0.1:" + str(free_loopback_port()), {"run", "C1", "--", program});
      BOOST_CHECK_MESSAGE(offline.code() == expected, offline.describe());
    }
  }
  auto after = stats();
  BOOST_CHECK_EQUAL(uint_field(after, "grants"), uint_field(before, "grants"));
  BOOST_CHECK_EQUAL(uint_field(status("C1"), "fence"), 0u);
}

BOOST_AUTO_TEST_CASE(conflict_exit_code) {
  auto token = acquire("E1", "alice");
  const auto marker = scratch().file("ran");
  auto t = gdl({"try", "E1", "--owner", "bob", "--conflict-exit-code", "75"});
  BOOST_CHECK_MESSAGE(t.code() == 75, t.describe());
  auto run = gdl({"run", "E1", "--owner", "bob", "--wait", "0", "--conflict-exit-code=75", "--",
                  "touch", marker});
  BOOST_CHECK_MESSAGE(run.code() == 75, run.describe());
  BOOST_CHECK(!file_exists(marker));
  auto waited =
      gdl({"acquire", "E1", "--owner", "bob", "--wait", "200ms", "--conflict-exit-code", "0"});
  BOOST_CHECK_MESSAGE(waited.code() == 0 && trim(waited.out).empty(), waited.describe());
  // Other failures keep their status.
  auto dead =
      cli_at("127.0.0.1:" + str(free_loopback_port()), {"try", "E1", "--conflict-exit-code", "75"});
  BOOST_CHECK_MESSAGE(dead.code() == 3, dead.describe());
  for (std::string bad : {"-1", "256", "abc", "", "1.5", "+5", "0x10", "1000"}) {
    BOOST_TEST_CONTEXT("--conflict-exit-code '" << bad << "'") {
      check_usage_error(gdl({"try", "E1", "--owner", "bob", "--conflict-exit-code", bad}));
    }
  }
  check_usage_error(gdl({"release", "E1", "--token", str(token), "--conflict-exit-code", "5"}));
  BOOST_CHECK_EQUAL(uint_field(status("E1"), "token"), token);
  BOOST_CHECK_EQUAL(uint_field(status("E1"), "waiters"), 0u);
}

// Ctrl-C or SIGTERM on a waiting acquire (or run) leaves the queue: once the
// holder releases, a try by anyone else succeeds at once.
BOOST_AUTO_TEST_CASE(interrupted_waiter_leaves_no_ghost) {
  int round = 0;
  for (int sig : {SIGINT, SIGTERM}) {
    for (std::string command : {"acquire", "run"}) {
      BOOST_TEST_CONTEXT(command << " stopped by signal " << sig) {
        const auto name = "G" + str(static_cast<uint64_t>(++round));
        const auto marker = scratch().file("ran-" + name);
        auto holder = acquire(name, "holder");
        std::vector<std::string> args{command, name, "--owner", "ghost"};
        if (command == "run")
          args.insert(args.end(), {"--", "touch", marker});
        auto& waiter = gdl_background(args);
        BOOST_REQUIRE_MESSAGE(wait_for_waiters(name, 1), waiter.describe());
        waiter.send_signal(sig);
        auto e = waiter.wait_for(5000ms);
        BOOST_REQUIRE_MESSAGE(e, "the waiter ignored signal " << sig << ": " << waiter.describe());
        BOOST_CHECK_MESSAGE(e->exited && e->code == 128 + sig, waiter.describe());
        BOOST_CHECK_MESSAGE(trim(waiter.out()).empty(), waiter.describe());
        BOOST_CHECK(!file_exists(marker));
        BOOST_CHECK_EQUAL(uint_field(status(name), "waiters"), 0u);
        auto rel = gdl({"release", name, "--token", str(holder)});
        BOOST_REQUIRE_MESSAGE(rel.code() == 0, rel.describe());
        auto t = gdl({"try", name, "--owner", "other"});
        BOOST_CHECK_MESSAGE(t.code() == 0, "the lock went to a ghost: " << t.describe());
        BOOST_CHECK_MESSAGE(t.seconds < 2, "try took " << t.seconds << " s");
        auto text = gdl({"status", name});
        BOOST_CHECK_MESSAGE(contains(text.out, "0 waiting"), text.describe());
      }
    }
  }
  // --wait running out in run leaves the queue too.
  auto holder = acquire("G-wait", "holder");
  auto r = gdl({"run", "G-wait", "--owner", "ghost", "--wait", "300ms", "--", "true"});
  BOOST_CHECK_MESSAGE(r.code() == 1, r.describe());
  BOOST_CHECK_EQUAL(uint_field(status("G-wait"), "waiters"), 0u);
  (void)holder;
}

// A waiter killed with SIGKILL cannot leave the queue: the lock is offered to
// it for a while. status must then not say "free" while --json counts waiters.
BOOST_AUTO_TEST_CASE(status_text_agrees_with_json) {
  auto holder = acquire("S1", "holder");
  auto& ghost = gdl_background({"acquire", "S1", "--owner", "ghost"});
  BOOST_REQUIRE_MESSAGE(wait_for_waiters("S1", 1), ghost.describe());
  ghost.kill_and_reap();
  auto rel = gdl({"release", "S1", "--token", str(holder)});
  BOOST_REQUIRE_MESSAGE(rel.code() == 0, rel.describe());
  auto j = status("S1");
  auto text = gdl({"status", "S1"});
  BOOST_REQUIRE_MESSAGE(text.code() == 0, text.describe());
  if (json_bool(j, "held") == false && uint_field(j, "waiters") > 0)
    BOOST_CHECK_MESSAGE(trim(text.out) != "free" && contains(text.out, "1 waiting"),
                        "text: " << text.out);
  // Once nobody waits, the text says free again.
  BOOST_CHECK(wait_for_waiters("S1", 0));
  BOOST_CHECK_EQUAL(trim(gdl({"status", "S1"}).out), "free");
}

// A waiter killed with SIGKILL cannot cancel, but its connection closes:
// the node it waited through takes it out of the queue at once, so the
// lock is never offered to it (which would hold up the next one for 2 s).
BOOST_AUTO_TEST_CASE(killed_waiter_leaves_the_queue_at_once) {
  auto holder = acquire("K1", "holder");
  auto& ghost = gdl_background({"acquire", "K1", "--owner", "ghost"}); // waits forever
  BOOST_REQUIRE_MESSAGE(wait_for_waiters("K1", 1), ghost.describe());
  ghost.kill_and_reap();
  BOOST_CHECK_MESSAGE(wait_for_waiters("K1", 0, 3000ms), "the dead waiter stayed queued");
  auto rel = gdl({"release", "K1", "--token", str(holder)});
  BOOST_REQUIRE_MESSAGE(rel.code() == 0, rel.describe());
  auto t = gdl({"try", "K1", "--owner", "other"});
  BOOST_CHECK_MESSAGE(t.code() == 0, "the lock went to the dead waiter: " << t.describe());
}

// A waiter that can neither cancel nor lose its connection (a stopped
// process) leaves the queue when its own --wait is over, plus a margin.
BOOST_AUTO_TEST_CASE(frozen_waiter_leaves_the_queue_when_its_wait_ends) {
  auto holder = acquire("K2", "holder");
  auto& frozen = gdl_background({"acquire", "K2", "--owner", "frozen", "--wait", "2s"});
  BOOST_REQUIRE_MESSAGE(wait_for_waiters("K2", 1), frozen.describe());
  auto stopped_at = std::chrono::steady_clock::now();
  frozen.send_signal(SIGSTOP);
  BOOST_CHECK_MESSAGE(wait_for_waiters("K2", 0, 6000ms), "the frozen waiter stayed queued");
  auto gone_after = std::chrono::steady_clock::now() - stopped_at;
  BOOST_TEST_MESSAGE("frozen waiter left the queue "
                     << std::chrono::duration_cast<std::chrono::milliseconds>(gone_after).count()
                     << " ms after it was stopped");
  frozen.send_signal(SIGCONT);
  // Its attempt in flight may have to time out first (the default --timeout, 5 s).
  auto e = frozen.wait_for(15000ms);
  BOOST_CHECK_MESSAGE(e && e->exited && e->code == 1, frozen.describe());
  auto rel = gdl({"release", "K2", "--token", str(holder)});
  BOOST_REQUIRE_MESSAGE(rel.code() == 0, rel.describe());
  auto t = gdl({"try", "K2", "--owner", "other"});
  BOOST_CHECK_MESSAGE(t.code() == 0, t.describe());
}

// A token nobody received is a leaked lock: it is given back.
BOOST_AUTO_TEST_CASE(stdout_write_error_gives_the_lock_back) {
  for (std::string command : {"acquire", "try"}) {
    BOOST_TEST_CONTEXT(command << " > /dev/full") {
      const auto name = "W-" + command;
      std::vector<std::string> argv{cli_binary(), "--servers", node->endpoint(), command,
                                    name,         "--owner",   "writer"};
      auto& c = track(std::make_unique<Child>(argv, "/dev/full", scratch_file("full.err")));
      auto e = c.wait_or_kill(20000ms);
      // Not c.describe(): it would read /dev/full, which never ends.
      BOOST_CHECK_MESSAGE(e.exited && e.code == 1, e.describe() << ": " << c.err());
      BOOST_CHECK_MESSAGE(contains(c.err(), "stdout"), c.err());
      auto s = status(name);
      BOOST_CHECK(json_bool(s, "held") == false);
      BOOST_CHECK_GE(uint_field(s, "fence"), 1u); // it was granted, then given back
    }
  }
  // A closed pipe: the reader is gone by the time the token is written.
  const auto status_file = scratch().file("pipe-status");
  auto piped = gdl({"run", "W-wrap", "--", "sh", "-c",
                    "(sleep 0.3; \"$0\" --servers \"$1\" acquire W-pipe --owner writer; "
                    "echo $? > \"$2\") | true",
                    cli_binary(), node->endpoint(), status_file});
  BOOST_CHECK_MESSAGE(piped.code() == 0, piped.describe());
  BOOST_CHECK_MESSAGE(eventually([&] { return !read_file(status_file).empty(); }, 5000ms),
                      piped.describe());
  BOOST_CHECK_EQUAL(trim(read_file(status_file)), "1");
  BOOST_CHECK(json_bool(status("W-pipe"), "held") == false);
  BOOST_CHECK_GE(uint_field(status("W-pipe"), "fence"), 1u);
  // stdout closed altogether: refused before anything is sent.
  auto closed = gdl({"run", "W-wrap", "--", "sh", "-c",
                     "\"$0\" --servers \"$1\" acquire W-closed --owner writer >&-", cli_binary(),
                     node->endpoint()});
  BOOST_CHECK_MESSAGE(closed.code() == 2 && contains(closed.err, "stdout is closed"),
                      closed.describe());
  BOOST_CHECK_EQUAL(uint_field(status("W-closed"), "fence"), 0u);
  // Read commands say so too.
  std::vector<std::string> argv{cli_binary(), "--servers", node->endpoint(), "status", "W-try"};
  auto& st = track(std::make_unique<Child>(argv, "/dev/full", scratch_file("full-status.err")));
  auto e = st.wait_or_kill(20000ms);
  BOOST_CHECK_MESSAGE(e.exited && e.code == 3 && contains(st.err(), "stdout"),
                      e.describe() << ": " << st.err());
}

BOOST_AUTO_TEST_CASE(long_wait_and_ttl) {
  auto day = gdl({"try", "D1", "--owner", "x", "--ttl", "24h"});
  BOOST_CHECK_MESSAGE(day.code() == 0, day.describe());
  auto remaining = json_uint(status("D1"), "remaining_ms").value_or(0);
  BOOST_CHECK_MESSAGE(remaining > 23 * 3'600'000ull && remaining <= 24 * 3'600'000ull,
                      "--ttl 24h: remaining_ms " << remaining);
  auto one_day = gdl({"try", "D2", "--owner", "x", "--ttl", "1d"});
  BOOST_CHECK_MESSAGE(one_day.code() == 0, one_day.describe());
  for (std::string wait : {"2d", "inf", "30d", "90m"}) {
    auto r = gdl({"acquire", "D3-" + wait, "--owner", "x", "--wait", wait});
    BOOST_CHECK_MESSAGE(r.code() == 0 && parse_token_output(r.out), r.describe());
  }
  // A long wait queues like any other, and is stopped like any other.
  auto& waiter = gdl_background({"acquire", "D1", "--owner", "y", "--wait", "2d"});
  BOOST_REQUIRE_MESSAGE(wait_for_waiters("D1", 1), waiter.describe());
  waiter.send_signal(SIGTERM);
  auto e = waiter.wait_for(5000ms);
  BOOST_CHECK_MESSAGE(e && e->exited && e->code == 128 + SIGTERM, waiter.describe());
  BOOST_CHECK_EQUAL(uint_field(status("D1"), "waiters"), 0u);
  for (auto& args : std::vector<std::vector<std::string>>{
           {"try", "D4", "--ttl", "25h"},
           {"try", "D4", "--ttl", "2d"},
           {"acquire", "D4", "--wait", "31d"},
           {"acquire", "D4", "--wait", "d"},
           {"acquire", "D4", "--wait", "-1d"},
           {"acquire", "D4", "--wait", "1.5d"},
           {"acquire", "D4", "--wait", "infinity"},
           {"acquire", "D4", "--wait", "9999999d"},
       })
    BOOST_TEST_CONTEXT(args[2] << " " << args[3]) {
      check_usage_error(gdl(args));
    }
  BOOST_CHECK_EQUAL(uint_field(status("D4"), "fence"), 0u);
  auto help = gdl({"--help"});
  BOOST_CHECK_MESSAGE(contains(help.out, "24h") && contains(help.out, "30d"), help.describe());
}

BOOST_AUTO_TEST_SUITE_END()
