// A real node actor system on a loopback port, driven through the client
// library: the path every user request takes, minus process boundaries.
#include "fixture.hpp"

#include "client/lock_holder.hpp"

#include <boost/test/unit_test.hpp>

#include <atomic>
#include <future>
#include <set>
#include <thread>

using namespace std::chrono_literals;
using namespace godistlock;
using godistlock::testing::NodeFixture;

namespace {

// "c-" and 32 lower-case hex digits: 128 bits.
bool is_128_bit_id(const std::string& id) {
  return id.size() == 34 && id.rfind("c-", 0) == 0 &&
         id.find_first_not_of("0123456789abcdef", 2) == std::string::npos;
}

// Polls `cond` until it holds or `limit` passes (bounded, never hangs).
template <class F> bool eventually(F cond, std::chrono::milliseconds limit = 5000ms) {
  auto until = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < until) {
    if (cond())
      return true;
    std::this_thread::sleep_for(10ms);
  }
  return cond();
}

client::AcquireOptions opts(std::chrono::milliseconds ttl,
                            std::optional<std::chrono::milliseconds> wait, std::string owner = {}) {
  client::AcquireOptions o;
  o.ttl = ttl;
  o.wait = wait;
  o.owner = std::move(owner);
  return o;
}

} // namespace

BOOST_AUTO_TEST_SUITE(node_and_client)

// Two processes with one client id are one owner to the servers: ids are
// 128 random bits, never derived from a PID or a clock.
BOOST_AUTO_TEST_CASE(client_ids_are_random_128_bit) {
  std::set<std::string> ids;
  std::vector<std::set<char>> digits(32);
  for (int i = 0; i < 2000; ++i) {
    auto id = client::random_client_id();
    BOOST_REQUIRE_MESSAGE(is_128_bit_id(id), "not a 128-bit id: " << id);
    ids.insert(id);
    for (size_t d = 0; d < 32; ++d)
      digits[d].insert(id[2 + d]);
  }
  BOOST_CHECK_EQUAL(ids.size(), 2000u);
  // Every digit varies: no fixed or zero-padded part (2000 draws of 16
  // values leave one unseen with probability about 16 * (15/16)^2000).
  for (size_t d = 0; d < 32; ++d)
    BOOST_CHECK_MESSAGE(digits[d].size() == 16u,
                        "digit " << d << " took only " << digits[d].size() << " values");
  NodeFixture f;
  auto a = f.make_client();
  auto b = f.make_client();
  BOOST_CHECK_MESSAGE(is_128_bit_id(a->client_id()), a->client_id());
  BOOST_CHECK(a->client_id() != b->client_id());
}

BOOST_AUTO_TEST_CASE(grants_release_and_increasing_tokens) {
  NodeFixture f;
  auto c = f.make_client();
  uint64_t last = 0;
  for (int i = 0; i < 5; ++i) {
    auto a = c->try_acquire("orders", 5s);
    BOOST_REQUIRE_MESSAGE(a.ok(), a.message);
    BOOST_CHECK_GT(a.lease.token, last);
    BOOST_CHECK(a.lease.still_trusted());
    last = a.lease.token;
    auto busy = f.make_client()->try_acquire("orders", 5s);
    BOOST_CHECK(busy.status == client::Status::not_acquired);
    BOOST_CHECK(c->check("orders", a.lease.token).current);
    BOOST_REQUIRE(c->release("orders", a.lease.token).ok());
    BOOST_CHECK(!c->check("orders", a.lease.token).current);
    BOOST_CHECK(c->release("orders", a.lease.token + 1).status == client::Status::not_holder);
  }
  auto st = c->status("orders");
  BOOST_REQUIRE(st.ok());
  BOOST_CHECK(!st.lock.held());
  BOOST_CHECK_EQUAL(st.lock.fence(), last);
}

BOOST_AUTO_TEST_CASE(same_owner_reacquire_is_idempotent) {
  NodeFixture f;
  auto c1 = f.make_client();
  auto c2 = f.make_client();
  auto a = c1->acquire("job", opts(5s, 0ms, "worker-7"));
  BOOST_REQUIRE(a.ok());
  auto again = c2->acquire("job", opts(5s, 0ms, "worker-7"));
  BOOST_REQUIRE(again.ok());
  BOOST_CHECK_EQUAL(again.lease.token, a.lease.token);
  BOOST_CHECK(again.lease.trusted_until >= a.lease.trusted_until);
}

BOOST_AUTO_TEST_CASE(waiters_are_served_in_fifo_order_on_release) {
  NodeFixture f;
  auto holder = f.make_client();
  auto a = holder->try_acquire("hot", 10s);
  BOOST_REQUIRE(a.ok());
  auto w1 = f.make_client();
  auto w2 = f.make_client();
  auto first = std::async(std::launch::async, [&] { return w1->acquire("hot", opts(10s, 20s)); });
  BOOST_REQUIRE(eventually([&] { return holder->status("hot").lock.waiters() == 1; }));
  auto second = std::async(std::launch::async, [&] { return w2->acquire("hot", opts(10s, 20s)); });
  BOOST_REQUIRE(eventually([&] { return holder->status("hot").lock.waiters() == 2; }));
  BOOST_REQUIRE(holder->release("hot", a.lease.token).ok());
  auto g1 = first.get();
  BOOST_REQUIRE_MESSAGE(g1.ok(), g1.message);
  BOOST_CHECK_GT(g1.lease.token, a.lease.token);
  BOOST_CHECK(second.wait_for(200ms) == std::future_status::timeout); // still waiting
  BOOST_REQUIRE(w1->release("hot", g1.lease.token).ok());
  auto g2 = second.get();
  BOOST_REQUIRE_MESSAGE(g2.ok(), g2.message);
  BOOST_CHECK_GT(g2.lease.token, g1.lease.token);
}

BOOST_AUTO_TEST_CASE(on_queued_reports_the_place_while_waiting) {
  NodeFixture f;
  auto holder = f.make_client();
  auto a = holder->try_acquire("line", 10s);
  BOOST_REQUIRE(a.ok());
  auto w = f.make_client();
  std::atomic<uint64_t> calls{0}, last{0};
  auto how = opts(400ms, 5s); // park window 100 ms: a QUEUED reply every 100 ms
  how.on_queued = [&](uint64_t position) {
    last = position;
    ++calls;
  };
  auto waiting = std::async(std::launch::async, [&] { return w->acquire("line", how); });
  BOOST_CHECK(eventually([&] { return calls.load() >= 2; }, 3000ms));
  BOOST_CHECK_EQUAL(last.load(), 1u);
  BOOST_REQUIRE(holder->release("line", a.lease.token).ok());
  auto g = waiting.get();
  BOOST_REQUIRE_MESSAGE(g.ok(), g.message);
  BOOST_CHECK_GT(g.lease.token, a.lease.token);
}

// A waiter's last park window ends while the round that grants it the
// lock is still being decided: it must hear the grant, not "not acquired"
// while it holds the lock. Every changing round is held 600 ms between its
// phases, so the windows and rounds overlap by a wide margin:
//   t0      the waiter's acquire (wait 1 s = one final window) is sent;
//   t0+0.6  its enqueue is decided and it is parked until t0+1.6;
//   t0+0.7  the holder releases: decided at t0+1.3, the claim for the
//           parked waiter then runs until t0+1.9, across the window's end.
BOOST_AUTO_TEST_CASE(window_ending_during_the_claim_hears_the_grant) {
  NodeFixture f(3000ms, 600ms);
  auto holder = f.make_client(5000ms);
  auto a = holder->try_acquire("claimed", 10s);
  BOOST_REQUIRE_MESSAGE(a.ok(), a.message);
  auto w = f.make_client(5000ms);
  auto t0 = std::chrono::steady_clock::now();
  auto waiting =
      std::async(std::launch::async, [&] { return w->acquire("claimed", opts(4s, 1000ms)); });
  std::this_thread::sleep_until(t0 + 700ms);
  BOOST_REQUIRE(holder->release("claimed", a.lease.token).ok());
  auto g = waiting.get();
  auto s = holder->status("claimed");
  BOOST_REQUIRE(s.ok());
  BOOST_TEST_MESSAGE("waiter: " << g.message << ", holder token " << s.lock.token() << " after "
                                << std::chrono::duration_cast<std::chrono::milliseconds>(
                                       std::chrono::steady_clock::now() - t0)
                                       .count()
                                << " ms");
  // Whatever the timing, the waiter's answer and the lock must agree.
  if (s.lock.held()) {
    BOOST_REQUIRE_MESSAGE(g.ok(), "the waiter holds token " << s.lock.token()
                                                            << " but was told: " << g.message);
    BOOST_CHECK_EQUAL(g.lease.token, s.lock.token());
  } else {
    BOOST_CHECK(!g.ok());
  }
  // And with these timings it is granted.
  BOOST_CHECK_MESSAGE(g.ok(), g.message);
}

BOOST_AUTO_TEST_CASE(wait_timeout_leaves_the_queue) {
  NodeFixture f;
  auto holder = f.make_client();
  BOOST_REQUIRE(holder->try_acquire("q", 10s).ok());
  auto w = f.make_client();
  auto r = w->acquire("q", opts(5s, 300ms));
  BOOST_CHECK(r.status == client::Status::not_acquired);
  BOOST_CHECK(eventually([&] { return holder->status("q").lock.waiters() == 0; }));
}

BOOST_AUTO_TEST_CASE(expired_lease_passes_to_the_waiter) {
  NodeFixture f;
  auto holder = f.make_client();
  auto a = holder->try_acquire("lease", 300ms);
  BOOST_REQUIRE(a.ok());
  auto w = f.make_client();
  auto g = w->acquire("lease", opts(5s, 10s));
  BOOST_REQUIRE_MESSAGE(g.ok(), g.message);
  BOOST_CHECK_GT(g.lease.token, a.lease.token);
  BOOST_CHECK(holder->refresh(a.lease, 5s).status == client::Status::not_holder);
  BOOST_CHECK(!holder->check("lease", a.lease.token).current);
  BOOST_CHECK_GE(w->stats().stats.expiries(), 1u);
}

BOOST_AUTO_TEST_CASE(idle_lock_actors_rest_in_the_table_and_come_back) {
  NodeFixture f(200ms);
  auto c = f.make_client();
  auto a = c->try_acquire("resting", 30s, "owner-a");
  BOOST_REQUIRE(a.ok());
  BOOST_REQUIRE(c->try_acquire("free-again", 30s).ok());
  BOOST_REQUIRE(eventually([&] {
    auto s = c->stats().stats;
    return s.live_lock_actors() == 0 && s.resting_locks() == 2;
  }));
  auto s = c->stats().stats;
  BOOST_CHECK_EQUAL(s.held_locks(), 2u);
  auto st = c->status("resting");
  BOOST_CHECK(st.lock.held());
  BOOST_CHECK_EQUAL(st.lock.token(), a.lease.token);
  BOOST_CHECK_EQUAL(st.lock.owner(), "owner-a");
  BOOST_CHECK(f.make_client()->try_acquire("resting", 1s).status == client::Status::not_acquired);
}

BOOST_AUTO_TEST_CASE(restart_keeps_grants_and_tokens_increase) {
  NodeFixture f;
  uint64_t held_token = 0;
  uint64_t last = 0;
  {
    auto c = f.make_client();
    for (int i = 0; i < 3; ++i) {
      auto a = c->try_acquire("counter", 5s);
      BOOST_REQUIRE(a.ok());
      last = a.lease.token;
      BOOST_REQUIRE(c->release("counter", a.lease.token).ok());
    }
    auto h = c->try_acquire("kept", 30s, "keeper");
    BOOST_REQUIRE(h.ok());
    held_token = h.lease.token;
  }
  f.stop();
  f.start(3000ms);
  auto c = f.make_client();
  auto st = c->status("kept");
  BOOST_REQUIRE(st.ok());
  BOOST_CHECK(st.lock.held());
  BOOST_CHECK_EQUAL(st.lock.token(), held_token);
  auto a = c->try_acquire("counter", 5s);
  BOOST_REQUIRE(a.ok());
  BOOST_CHECK_GT(a.lease.token, last);
}

BOOST_AUTO_TEST_CASE(lock_holder_keeps_the_lease_and_reports_loss) {
  NodeFixture f;
  auto c = f.make_client();
  auto a = c->try_acquire("held", 400ms);
  BOOST_REQUIRE(a.ok());
  std::atomic<bool> lost{false};
  {
    client::LockHolder holder(*c, a.lease,
                              [&](const client::Lease&, const std::string&) { lost = true; });
    std::this_thread::sleep_for(1200ms); // three lease lengths
    BOOST_CHECK(!holder.lost());
    BOOST_CHECK(c->check("held", a.lease.token).current);
    // Someone with the token releases it behind the holder's back.
    BOOST_REQUIRE(f.make_client()->release("held", a.lease.token).ok());
    BOOST_CHECK(eventually([&] { return lost.load(); }, 2000ms));
    BOOST_CHECK(holder.lost());
  }
  BOOST_CHECK(!c->status("held").lock.held());
}

BOOST_AUTO_TEST_CASE(drain_answers_waiters_and_refuses_new_requests) {
  NodeFixture f;
  auto holder = f.make_client();
  BOOST_REQUIRE(holder->try_acquire("d", 30s).ok());
  auto w = f.make_client(1000ms);
  // The waiter is answered "shutting down"; with no other node to go to it
  // keeps asking until its own wait ends, then reports unavailable.
  auto waiting = std::async(std::launch::async, [&] { return w->acquire("d", opts(5s, 3s)); });
  BOOST_REQUIRE(eventually([&] { return holder->status("d").lock.waiters() == 1; }));
  f.node->drain(5s);
  BOOST_REQUIRE(waiting.wait_for(8s) == std::future_status::ready);
  auto r = waiting.get();
  BOOST_CHECK(r.status == client::Status::unavailable);
  BOOST_CHECK_MESSAGE(r.message.find("shutting down") != std::string::npos, r.message);
  BOOST_CHECK(holder->try_acquire("other", 5s).status == client::Status::unavailable);
}

BOOST_AUTO_TEST_CASE(bad_input_changes_nothing) {
  NodeFixture f;
  auto c = f.make_client();
  BOOST_CHECK(c->try_acquire("", 5s).status == client::Status::invalid_argument);
  BOOST_CHECK(c->try_acquire("x", 50ms).status == client::Status::invalid_argument);
  BOOST_CHECK(c->try_acquire(std::string(513, 'a'), 5s).status == client::Status::invalid_argument);
  BOOST_CHECK(c->try_acquire("bad\x01name", 5s).status == client::Status::invalid_argument);
  BOOST_CHECK(c->release("x", 0).status == client::Status::invalid_argument);
  auto s = c->stats().stats;
  BOOST_CHECK_EQUAL(s.grants(), 0u);
  BOOST_CHECK_EQUAL(s.live_lock_actors(), 0u);
}

BOOST_AUTO_TEST_SUITE_END()
