// Data dir behaviour seen from outside: crash and restart, corruption,
// unusable paths, two nodes on one dir.
#include "harness.hpp"

#include <algorithm>
#include <filesystem>
#include <sys/stat.h>

using namespace gdl_process;

namespace {

// Fills a data dir with a few records, then stops the node cleanly.
void populate(NodeFixture& f) {
  for (int i = 0; i < 6; ++i) {
    auto name = "populate-" + std::to_string(i);
    auto token = f.acquire(name, "owner-" + std::to_string(i));
    if (i % 2 == 0) {
      auto r = f.gdl({"release", name, "--token", std::to_string(token)});
      BOOST_REQUIRE_MESSAGE(r.code() == 0, r.describe());
    }
  }
  auto e = f.node->stop();
  BOOST_REQUIRE_MESSAGE(e.exited && e.code == 0, "node did not stop cleanly: " << e.describe());
}

void copy_dir(const std::string& from, const std::string& to) {
  std::filesystem::copy(from, to, std::filesystem::copy_options::recursive);
}

} // namespace

BOOST_AUTO_TEST_SUITE(storage)

// Test 4: kill -9, restart on the same dir and port at once; acknowledged
// grants survive and tokens keep increasing.
BOOST_FIXTURE_TEST_CASE(kill9_restart_keeps_grants_and_token_order, NodeFixture) {
  uint64_t max_seen = 0;
  for (int i = 0; i < 4; ++i) {
    auto token = acquire("crash-lock", "owner-" + std::to_string(i));
    BOOST_CHECK_GT(token, max_seen);
    max_seen = std::max(max_seen, token);
    auto r = gdl({"release", "crash-lock", "--token", std::to_string(token)});
    BOOST_REQUIRE_MESSAGE(r.code() == 0, r.describe());
  }
  auto held_token = acquire("held-lock", "keeper", "1h");

  const auto port = node->port();
  const auto dir = node->data_dir();
  auto e = node->kill9();
  BOOST_REQUIRE_EQUAL(e.signal, SIGKILL);

  // Same port, immediately: the restarted node must be able to bind again.
  node = &start_node("n1", port, dir);

  auto held = status("held-lock");
  BOOST_CHECK_MESSAGE(json_bool(held, "held") == true, "held-lock lost by the crash");
  BOOST_CHECK_EQUAL(uint_field(held, "token"), held_token);
  BOOST_CHECK(json_string(held, "owner") == std::string("keeper"));
  auto check = gdl({"check", "held-lock", "--token", std::to_string(held_token)});
  BOOST_CHECK_MESSAGE(check.code() == 0, check.describe());

  auto crash = status("crash-lock");
  BOOST_CHECK(json_bool(crash, "held") == false);
  BOOST_CHECK_GE(uint_field(crash, "fence"), max_seen);

  auto after = acquire("crash-lock", "after-restart");
  BOOST_CHECK_MESSAGE(after > max_seen, "token after restart " << after
                                                               << " is not above the highest "
                                                                  "token before the crash "
                                                               << max_seen);
  // Another crash right after a grant: that grant is acknowledged, so kept.
  node->kill9();
  node = &start_node("n1", port, dir);
  auto again = status("crash-lock");
  BOOST_CHECK(json_bool(again, "held") == true);
  BOOST_CHECK_EQUAL(uint_field(again, "token"), after);
  BOOST_CHECK(json_string(again, "owner") == std::string("after-restart"));
}

// kill -9 in the middle of concurrent grants: every grant a client saw
// acknowledged (exit 0 and a token) is still there after the restart.
BOOST_FIXTURE_TEST_CASE(kill9_during_concurrent_grants, NodeFixture) {
  const int n = 16;
  std::vector<Child*> clients;
  for (int i = 0; i < n; ++i)
    // A waiting acquire outlives a dead node until its --wait ends.
    clients.push_back(
        &gdl_background({"acquire", "burst-" + std::to_string(i), "--owner",
                         "owner-" + std::to_string(i), "--ttl", "1h", "--wait", "5s"}));
  auto acknowledged = [&] {
    int done = 0;
    for (auto* c : clients)
      if (!c->running() && c->exit() && c->exit()->exited && c->exit()->code == 0)
        ++done;
    return done;
  };
  BOOST_REQUIRE_MESSAGE(eventually([&] { return acknowledged() >= 3; }, 15000ms),
                        "no grants at all: " << clients.front()->describe());
  const auto port = node->port();
  const auto dir = node->data_dir();
  node->kill9();
  for (auto* c : clients) {
    auto e = c->wait_for(20000ms);
    BOOST_CHECK_MESSAGE(e, "client hangs after the node died: " << c->describe());
  }
  node = &start_node("n1", port, dir);
  int acked = 0;
  for (int i = 0; i < n; ++i) {
    auto* c = clients[static_cast<size_t>(i)];
    if (!c->exit() || !c->exit()->exited)
      continue;
    if (c->exit()->code != 0) {
      BOOST_CHECK_MESSAGE(c->exit()->code == 3, c->describe());
      continue;
    }
    ++acked;
    auto token = parse_token_output(c->out());
    BOOST_REQUIRE_MESSAGE(token, c->describe());
    auto s = status("burst-" + std::to_string(i));
    BOOST_CHECK_MESSAGE(json_bool(s, "held") == true && json_uint(s, "token") == *token &&
                            json_string(s, "owner") == "owner-" + std::to_string(i),
                        "acknowledged grant burst-" << i << " token " << *token
                                                    << " lost in the crash");
  }
  BOOST_TEST_MESSAGE(acked << " of " << n << " grants were acknowledged before kill -9");
  BOOST_CHECK_GE(acked, 3);
}

// Test 5a: a flipped byte in the middle of locks.log (and of locks.snapshot
// when there is one) stops the node at start, naming file and offset, and
// leaves the file as it was.
BOOST_FIXTURE_TEST_CASE(corrupted_files_refuse_start, NodeFixture) {
  populate(*this);
  const auto dir = node->data_dir();
  int corrupted = 0;
  for (std::string file : {"locks.log", "locks.snapshot"}) {
    auto original = read_file(dir + "/" + file);
    if (original.empty())
      continue;
    BOOST_TEST_CONTEXT("corrupting " << file << " (" << original.size() << " bytes)") {
      ++corrupted;
      auto copy = scratch().file("corrupt-" + file);
      copy_dir(dir, copy);
      auto damaged = original;
      damaged[damaged.size() / 2] ^= static_cast<char>(0xff);
      write_file(copy + "/" + file, damaged);

      auto& child = start_node_expect_exit({"--id", "n1", "--listen",
                                            "127.0.0.1:" + std::to_string(free_loopback_port()),
                                            "--data-dir", copy});
      auto e = *child.exit();
      BOOST_CHECK_MESSAGE(!e.timed_out && e.exited && e.code != 0,
                          "node started on a damaged " << file << ": " << child.describe());
      BOOST_CHECK_MESSAGE(!contains(child.err(), "ready on"), child.describe());
      BOOST_CHECK_MESSAGE(contains(child.err(), file) && contains(child.err(), "offset"),
                          "error does not name the file and the offset: " << child.describe());
      BOOST_CHECK_MESSAGE(read_file(copy + "/" + file) == damaged,
                          "the node changed the damaged " << file << " (size now "
                                                          << read_file(copy + "/" + file).size()
                                                          << ")");
    }
  }
  BOOST_REQUIRE_MESSAGE(corrupted > 0, "no locks.log or locks.snapshot in " << dir);

  // A damaged byte inside the LAST record (not a torn write: the record is
  // complete) must not be mistaken for a crash during an unacknowledged write.
  auto log = read_file(dir + "/locks.log");
  BOOST_REQUIRE(log.size() > 16);
  auto copy = scratch().file("corrupt-tail");
  copy_dir(dir, copy);
  auto damaged = log;
  damaged[damaged.size() - 1] ^= static_cast<char>(0x01);
  write_file(copy + "/locks.log", damaged);
  auto& child = start_node_expect_exit({"--id", "n1", "--listen",
                                        "127.0.0.1:" + std::to_string(free_loopback_port()),
                                        "--data-dir", copy});
  auto e = *child.exit();
  BOOST_CHECK_MESSAGE(!e.timed_out && e.exited && e.code != 0,
                      "node started with a damaged complete last record: " << child.describe());
  BOOST_CHECK_MESSAGE(contains(child.err(), "locks.log") && contains(child.err(), "offset"),
                      child.describe());
}

// Test 5b: a torn tail (crash during a write) is tolerated with a warning,
// and the earlier records survive.
BOOST_FIXTURE_TEST_CASE(torn_tail_is_dropped_with_warning, NodeFixture) {
  auto kept = acquire("torn-kept", "keeper", "1h");
  auto e = node->stop(SIGINT); // SIGINT stops as cleanly as SIGTERM
  BOOST_REQUIRE_MESSAGE(e.exited && e.code == 0, e.describe());
  const auto dir = node->data_dir();
  auto log = read_file(dir + "/locks.log");
  BOOST_REQUIRE(!log.empty());
  // Half of a record appended: a length/crc header and a few payload bytes.
  std::string torn = log.substr(0, 12);
  write_file(dir + "/locks.log", log + torn);
  node = &start_node("n1", 0, dir);
  // Never silent: file, offset and size in the log, the size in stats.
  auto warning = dir + "/locks.log (offset " + std::to_string(log.size()) + ", 12 bytes)";
  BOOST_CHECK_MESSAGE(contains(node->log(), warning),
                      "no warning naming " << warning << ": " << node->log());
  BOOST_CHECK_EQUAL(uint_field(stats(), "wal_tail_bytes_dropped"), 12u);
  BOOST_CHECK_EQUAL(read_file(dir + "/locks.log").size(), log.size());
  auto s = status("torn-kept");
  BOOST_CHECK(json_bool(s, "held") == true);
  BOOST_CHECK_EQUAL(uint_field(s, "token"), kept);
  // A clean restart drops nothing and says so.
  e = node->stop();
  BOOST_REQUIRE_MESSAGE(e.exited && e.code == 0, e.describe());
  node = &start_node("n1", 0, dir);
  BOOST_CHECK_EQUAL(uint_field(stats(), "wal_tail_bytes_dropped"), 0u);
  BOOST_CHECK_MESSAGE(!contains(node->log(), "dropped"), node->log());
}

// Test 5c: unusable data dir paths give a clear error and a non-zero exit.
BOOST_FIXTURE_TEST_CASE(unusable_data_dir, Harness) {
  auto plain_file = scratch().file("plain-file");
  write_file(plain_file, "not a directory\n");
  const std::vector<std::string> paths{plain_file, plain_file + "/sub",
                                       "/proc/gdl-process-test/data"};
  for (auto& path : paths) {
    BOOST_TEST_CONTEXT("--data-dir " << path) {
      auto& child = start_node_expect_exit({"--id", "n1", "--listen",
                                            "127.0.0.1:" + std::to_string(free_loopback_port()),
                                            "--data-dir", path});
      auto e = *child.exit();
      BOOST_CHECK_MESSAGE(!e.timed_out && e.exited && e.code != 0, child.describe());
      BOOST_CHECK_MESSAGE(!contains(child.err(), "ready on"), child.describe());
      BOOST_CHECK_MESSAGE(contains(child.err(), path),
                          "the error does not name the path: " << child.describe());
    }
  }
  struct stat st {};
  BOOST_CHECK_MESSAGE(::stat("/proc/gdl-process-test", &st) != 0, "created something in /proc");
}

// Test 6: a second node on a data dir in use refuses to start; the first
// keeps serving.
BOOST_FIXTURE_TEST_CASE(second_node_on_same_data_dir, NodeFixture) {
  auto token = acquire("shared-dir", "first");
  auto& second = start_node_expect_exit({"--id", "n2", "--listen",
                                         "127.0.0.1:" + std::to_string(free_loopback_port()),
                                         "--data-dir", node->data_dir()});
  auto e = *second.exit();
  BOOST_CHECK_MESSAGE(!e.timed_out && e.exited && e.code != 0,
                      "second node on the same data dir: " << second.describe());
  BOOST_CHECK_MESSAGE(contains(second.err(), "in use"),
                      "error does not say the dir is in use: " << second.describe());
  BOOST_CHECK_MESSAGE(!contains(second.err(), "ready on"), second.describe());

  BOOST_REQUIRE(node->alive());
  auto s = status("shared-dir");
  BOOST_CHECK_EQUAL(uint_field(s, "token"), token);
  auto r = gdl({"release", "shared-dir", "--token", std::to_string(token)});
  BOOST_CHECK_MESSAGE(r.code() == 0, r.describe());
  // The first node still writes its dir: its state survives a restart.
  const auto port = node->port();
  const auto dir = node->data_dir();
  auto stopped = node->stop();
  BOOST_CHECK_MESSAGE(stopped.exited && stopped.code == 0, stopped.describe());
  node = &start_node("n1", port, dir);
  BOOST_CHECK(json_bool(status("shared-dir"), "held") == false);
  BOOST_CHECK_GE(uint_field(status("shared-dir"), "fence"), token);
}

BOOST_AUTO_TEST_SUITE_END()
