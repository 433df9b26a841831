// The node under hostile input and under shutdown with clients waiting.
#include "harness.hpp"
#include "raw_connection.hpp"

#include <filesystem>
#include <thread>
#include <unistd.h>

using namespace gdl_process;

BOOST_AUTO_TEST_SUITE(robustness)

// Test 2: garbage on the node's port does not take it down.
BOOST_FIXTURE_TEST_CASE(garbage_bytes_do_not_kill_the_node, NodeFixture) {
  const auto port = node->port();
  // Stalled peers that connect, say a little or nothing, and stay: they must
  // not block anyone else.
  RawConnection silent(port, 2000ms);
  RawConnection half(port, 2000ms);
  BOOST_REQUIRE(silent.connected() && half.connected());
  half.send(random_bytes(7, 3));

  BOOST_CHECK(send_raw_bytes(port, random_bytes(64 * 1024, 1)));
  BOOST_CHECK(
      send_raw_bytes(port, "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"));
  BOOST_CHECK(send_raw_bytes(port, std::string(64, '\xff'))); // every length field maximal
  BOOST_CHECK(send_raw_bytes(port, std::string(4096, '\0')));
  BOOST_CHECK(send_raw_bytes(port, ""));
  BOOST_CHECK(send_raw_bytes(port, random_bytes(64 * 1024, 2)));
  BOOST_REQUIRE_MESSAGE(node->alive(),
                        "node died from garbage input: " << node->child().describe());

  auto t = gdl({"try", "after-garbage", "--owner", "g"});
  BOOST_CHECK_MESSAGE(t.code() == 0, t.describe());
  auto token = parse_token_output(t.out);
  BOOST_REQUIRE_MESSAGE(token, t.describe());
  auto r = gdl({"release", "after-garbage", "--token", std::to_string(*token)});
  BOOST_CHECK_MESSAGE(r.code() == 0, r.describe());
  auto s = gdl({"stats", "--json"});
  BOOST_CHECK_MESSAGE(s.code() == 0, s.describe());
  BOOST_CHECK_MESSAGE(node->alive(), "node died: " << node->child().describe());

  // And once more after the half-spoken peer went on with more garbage.
  half.send(random_bytes(32 * 1024, 4));
  std::this_thread::sleep_for(200ms);
  BOOST_CHECK_MESSAGE(node->alive(), "node died: " << node->child().describe());
  auto t2 = gdl({"try", "after-garbage", "--owner", "g2"});
  BOOST_CHECK_MESSAGE(t2.code() == 0, t2.describe());
  BOOST_CHECK_MESSAGE(node->alive(), "node died: " << node->child().describe());
}

// A flood of connections beyond the node's file descriptor limit: once they
// are gone, the node serves again (no crash, no accept loop given up).
BOOST_FIXTURE_TEST_CASE(connection_flood_beyond_fd_limit, Harness) {
  limit_node_fds(128);
  auto& node = start_node("n1");
  {
    std::vector<std::unique_ptr<RawConnection>> flood;
    for (int i = 0; i < 300; ++i)
      flood.push_back(std::make_unique<RawConnection>(node.port(), 2000ms));
    // Let the node run into EMFILE for a while.
    std::this_thread::sleep_for(1000ms);
    BOOST_REQUIRE_MESSAGE(node.alive(), "node died in the flood: " << node.child().describe());
    // The premise: the node really ran out of descriptors.
    size_t open_fds = 0;
    for ([[maybe_unused]] auto& e :
         std::filesystem::directory_iterator("/proc/" + std::to_string(node.child().pid()) + "/fd"))
      ++open_fds;
    BOOST_CHECK_MESSAGE(open_fds >= 120, "node has only " << open_fds << " fds open");
  }
  bool served = eventually(
      [&] {
        return cli_at(node.endpoint(), {"try", "after-flood", "--owner", "f"}).code() == 0;
      },
      15000ms, 500ms);
  BOOST_CHECK_MESSAGE(served, "node does not serve after the flood: " << node.child().describe());
  BOOST_CHECK_MESSAGE(node.alive(), node.child().describe());
}

// Test 3: SIGTERM while a client waits: the node exits 0 promptly, the waiter
// keeps asking (no server answers) until its own --wait ends, then exits 3
// naming the server, and the held lock survives the restart.
BOOST_FIXTURE_TEST_CASE(sigterm_with_waiters, NodeFixture) {
  auto token = acquire("drain-lock", "holder", "1h");
  auto& waiter = gdl_background({"acquire", "drain-lock", "--owner", "waiter", "--wait", "6s"});
  BOOST_REQUIRE_MESSAGE(wait_for_waiters("drain-lock", 1),
                        "the waiter never queued: " << waiter.describe());

  const auto port = node->port();
  const auto dir = node->data_dir();
  node->child().send_signal(SIGTERM);
  auto stopped = node->child().wait_for(8000ms);
  BOOST_CHECK_MESSAGE(stopped, "node still running 8 s after SIGTERM: " << node->log());
  if (stopped)
    BOOST_CHECK_MESSAGE(stopped->exited && stopped->code == 0,
                        "node exit after SIGTERM: " << node->child().describe());
  node->kill9(); // no-op when it stopped

  auto w = waiter.wait_for(15000ms);
  BOOST_CHECK_MESSAGE(w,
                      "the waiter still hangs 15 s after the node stopped: " << waiter.describe());
  if (w) {
    BOOST_CHECK_MESSAGE(w->exited && w->code == 3,
                        "waiter should exit 3 (no server reachable): " << waiter.describe());
    BOOST_CHECK_MESSAGE(waiter.err().find("127.0.0.1:" + std::to_string(port)) != std::string::npos,
                        "the error names the server: " << waiter.describe());
    BOOST_CHECK_MESSAGE(waiter.err().find("cannot_connect") == std::string::npos,
                        "no CAF identifiers: " << waiter.describe());
    BOOST_CHECK_MESSAGE(trim(waiter.out()).empty(),
                        "waiter printed a token: " << waiter.describe());
  }

  node = &start_node("n1", port, dir);
  auto s = status("drain-lock");
  BOOST_CHECK_MESSAGE(json_bool(s, "held") == true, "shutdown released the lock");
  BOOST_CHECK_EQUAL(uint_field(s, "token"), token);
  BOOST_CHECK(json_string(s, "owner") == std::string("holder"));
  auto c = gdl({"check", "drain-lock", "--token", std::to_string(token)});
  BOOST_CHECK_MESSAGE(c.code() == 0, c.describe());

  // The waiter that gave up may still sit in the queue; it must not keep the
  // lock from a live client for good once the holder releases.
  BOOST_TEST_MESSAGE("waiters after restart: " << json_uint(s, "waiters").value_or(999));
  auto r = gdl({"release", "drain-lock", "--token", std::to_string(token)});
  BOOST_CHECK_MESSAGE(r.code() == 0, r.describe());
  auto next = gdl({"acquire", "drain-lock", "--owner", "newcomer", "--wait", "20s"}, 30000ms);
  BOOST_CHECK_MESSAGE(next.code() == 0, next.describe());
  auto next_token = parse_token_output(next.out);
  BOOST_CHECK_MESSAGE(next_token && *next_token > token, next.describe());
}

BOOST_AUTO_TEST_SUITE_END()
