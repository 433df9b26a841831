// RawConnection bytes on the node's port (issue 10 §5): the node keeps answering a
// client within 1 s and its resident memory stays within 64 MiB of what it
// was before, whatever arrives. See net/basp_guard.hpp for the guard.
#include "harness.hpp"
#include "raw_connection.hpp"

#include "client/client.hpp"

#include <arpa/inet.h>
#include <atomic>
#include <cerrno>
#include <fstream>
#include <iostream>
#include <netinet/in.h>
#include <poll.h>
#include <random>
#include <sstream>
#include <sys/socket.h>
#include <thread>
#include <unistd.h>

using namespace gdl_process;
namespace gc = godistlock::client;
using Clock = std::chrono::steady_clock;

namespace {

constexpr long rss_bound_kb = 64 * 1024;
constexpr auto latency_bound = 1000ms;

long rss_kb(pid_t pid) {
  std::istringstream in(read_file("/proc/" + std::to_string(pid) + "/status"));
  std::string key;
  long value = -1;
  while (in >> key)
    if (key == "VmRSS:" && in >> value)
      return value;
  return -1;
}

// A BASP header as CAF 0.17.6 writes it (network byte order).
std::string basp_header(uint8_t op, uint32_t payload_len, uint64_t op_data = 0, uint64_t dest = 0) {
  std::string h(32, '\0');
  h[0] = static_cast<char>(op);
  for (int i = 0; i < 4; ++i)
    h[4 + i] = static_cast<char>(payload_len >> (24 - 8 * i));
  for (int i = 0; i < 8; ++i) {
    h[8 + i] = static_cast<char>(op_data >> (56 - 8 * i));
    h[24 + i] = static_cast<char>(dest >> (56 - 8 * i));
  }
  return h;
}

struct CorpusEntry {
  std::string name, bytes;
};

// tests/process/fuzz_corpus.txt: NAME HEX [+N random bytes].
std::vector<CorpusEntry> load_corpus() {
  std::vector<CorpusEntry> corpus;
  std::ifstream in(GDL_FUZZ_CORPUS);
  std::string line;
  for (uint32_t number = 1; std::getline(in, line); ++number) {
    std::istringstream words(line);
    CorpusEntry e;
    std::string hex, tail;
    if (line.empty() || line[0] == '#' || !(words >> e.name >> hex))
      continue;
    for (size_t i = 0; i + 1 < hex.size(); i += 2)
      e.bytes.push_back(static_cast<char>(std::stoi(hex.substr(i, 2), nullptr, 16)));
    if (words >> tail && tail[0] == '+')
      e.bytes += random_bytes(std::stoul(tail.substr(1)), number);
    corpus.push_back(std::move(e));
  }
  return corpus;
}

// Asks the node for its stats every 50 ms over one connection, and every
// second over a new one, and samples the node's RSS meanwhile.
class Probe {
public:
  Probe(const std::string& endpoint, pid_t pid) : endpoint_(endpoint), pid_(pid) {
    thread_ = std::thread([this] { run(); });
  }
  ~Probe() { stop(); }
  void stop() {
    stop_ = true;
    if (thread_.joinable())
      thread_.join();
  }
  std::atomic<long> max_latency_ms{0}, max_rss_kb{0};
  std::atomic<int> requests{0}, failures{0};

private:
  gc::ClientOptions options() const {
    gc::ClientOptions o;
    o.servers = {*godistlock::net::parse_endpoint(endpoint_)};
    o.attempt_timeout = latency_bound;
    return o;
  }
  void ask(gc::Client& client) {
    auto t0 = Clock::now();
    auto reply = client.stats();
    auto ms = std::chrono::duration_cast<Millis>(Clock::now() - t0).count();
    ++requests;
    if (!reply.ok() || ms > latency_bound.count())
      ++failures;
    max_latency_ms = std::max<long>(max_latency_ms, ms);
  }
  void run() {
    gc::Client steady(options());
    for (int i = 0; !stop_; ++i) {
      ask(steady);
      if (i % 20 == 19) {
        gc::Client fresh(options());
        ask(fresh);
      }
      max_rss_kb = std::max(max_rss_kb.load(), rss_kb(pid_));
      std::this_thread::sleep_for(50ms);
    }
  }
  std::string endpoint_;
  pid_t pid_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

} // namespace

BOOST_AUTO_TEST_SUITE(fuzz)

BOOST_FIXTURE_TEST_CASE(hostile_bytes_on_the_node_port, NodeFixture) {
  const auto port = node->port();
  const auto pid = node->child().pid();
  // Warm up (the first requests allocate), then take the baseline.
  BOOST_REQUIRE_MESSAGE(gdl({"stats"}).code() == 0, node->child().describe());
  auto probe = std::make_unique<Probe>(node->endpoint(), pid);
  std::this_thread::sleep_for(500ms);
  const long base_kb = rss_kb(pid);
  BOOST_REQUIRE(base_kb > 0);
  auto healthy = [&](const std::string& after) {
    auto grown = rss_kb(pid) - base_kb;
    BOOST_REQUIRE_MESSAGE(node->alive(), "node died after " << after << ": " << node->log());
    BOOST_REQUIRE_MESSAGE(grown <= rss_bound_kb,
                          "RSS grew by " << grown / 1024 << " MiB after " << after);
    BOOST_REQUIRE_MESSAGE(probe->failures == 0,
                          "a client request failed or took over 1 s after " << after);
  };
  auto expect_closed = [&](RawConnection& c, const std::string& what) {
    BOOST_CHECK_MESSAGE(c.closed_within(1000ms), "node kept the connection open: " << what);
    healthy(what);
  };

  // Stalled halves of a handshake header: closed by the handshake timeout.
  const auto stalled_at = Clock::now();
  std::vector<std::unique_ptr<RawConnection>> stalled;
  for (size_t n = 0; n < 32; n += 3) {
    stalled.push_back(std::make_unique<RawConnection>(port));
    stalled.back()->send(basp_header(1, 32).substr(0, n));
  }

  // The byte sequences that took a node down before the guard.
  for (const auto& e : load_corpus()) {
    RawConnection c(port);
    BOOST_REQUIRE(c.connected());
    c.send(e.bytes);
    expect_closed(c, "corpus " + e.name);
  }

  // Random bytes of random lengths.
  std::mt19937 rng(10);
  for (int i = 0; i < 20; ++i) {
    auto bytes = random_bytes(32 + rng() % 70000, 1000 + i);
    RawConnection c(port);
    c.send(bytes);
    if (bytes[0] != 1) // else, by chance, a handshake the node may wait for
      expect_closed(c, "random bytes #" + std::to_string(i));
  }

  // Every operation with lengths from 0 to 4 GiB - 1 as the first header.
  for (uint8_t op = 0; op <= 7; ++op)
    for (uint32_t len :
         {0u, 16u * 1024 + 1, 16u << 20, 0x7fffffffu, 0xffffffffu, static_cast<uint32_t>(rng())}) {
      if (op == 1 && len == 16u * 1024 + 1)
        len = 0xffffff; // (a 16 KiB handshake would be waited for)
      RawConnection c(port);
      c.send(basp_header(op, len, 1, 1) + random_bytes(64, len));
      expect_closed(c, "first header op " + std::to_string(op) + " len " + std::to_string(len));
    }

  // A valid-looking handshake (the node's own id with another pid), then
  // garbage. The 12 MiB messages pass the size limit, but only one fits
  // into the budget of large messages in flight.
  std::vector<std::unique_ptr<RawConnection>> peers;
  auto handshaken = [&](uint32_t pid_bytes) {
    auto c = std::make_unique<RawConnection>(port);
    auto header = c->read(32);
    BOOST_REQUIRE_MESSAGE(header.size() == 32, "no server handshake");
    uint32_t len = 0;
    for (int i = 4; i < 8; ++i)
      len = len << 8 | static_cast<uint8_t>(header[i]);
    auto payload = c->read(len);
    BOOST_REQUIRE(payload.size() >= 32);
    auto node_id = payload.substr(0, 32); // atom, pid, 20-byte host id
    node_id.replace(8, 4, std::string(reinterpret_cast<const char*>(&pid_bytes), 4));
    c->send(basp_header(1, 32) + node_id);
    return c;
  };
  const std::vector<std::pair<std::string, std::string>> after_handshake{
      {"direct message of 4 GiB", basp_header(2, 0xffffffff, 0, 1)},
      {"server handshake", basp_header(0, 100, 1) + random_bytes(100, 7)},
      {"unknown operation", basp_header(9, 10) + random_bytes(10, 8)},
      {"empty repeated handshake", basp_header(1, 0)},
      {"second 12 MiB message", basp_header(2, 12 << 20, 0, 1)},
  };
  peers.push_back(handshaken(0x10000001));
  peers.back()->send(basp_header(2, 12 << 20, 0, 1)); // first 12 MiB: allowed
  healthy("a 12 MiB message announced");
  uint32_t next_pid = 0x10000002;
  for (const auto& [what, bytes] : after_handshake) {
    auto c = handshaken(next_pid++);
    c->send(bytes);
    expect_closed(*c, "handshake, then " + what);
  }
  for (int i = 0; i < 5; ++i) {
    auto c = handshaken(next_pid++);
    c->send(random_bytes(4096, 50 + i));
    healthy("handshake, then random bytes");
  }

  // Many at once: the issue's attack on 150 connections in parallel.
  {
    std::vector<std::unique_ptr<RawConnection>> many;
    for (int i = 0; i < 150; ++i) {
      many.push_back(std::make_unique<RawConnection>(port));
      many.back()->send(std::string(4, '\0') + random_bytes(64, 5000 + i));
    }
    int open = 0;
    for (auto& c : many)
      open += c->closed_within(1000ms) ? 0 : 1;
    BOOST_CHECK_MESSAGE(open == 0, open << " of 150 attack connections still open");
    healthy("150 attack connections at once");
  }

  // The stalled ones: closed once the 5 s handshake timeout passed.
  int still_open = 0;
  for (auto& c : stalled) {
    auto left = stalled_at + 8000ms - Clock::now();
    still_open +=
        c->closed_within(std::max<Millis>(std::chrono::duration_cast<Millis>(left), 1ms)) ? 0 : 1;
  }
  BOOST_CHECK_MESSAGE(still_open == 0, still_open << " stalled connections still open after 8 s");
  healthy("stalled connections");

  probe->stop();
  auto peak_kb = std::max(probe->max_rss_kb.load(), rss_kb(pid));
  std::cout << "fuzz: node RSS " << base_kb / 1024 << " MiB before, peak " << peak_kb / 1024
            << " MiB; " << probe->requests << " client requests during the attack, "
            << probe->failures << " failed, slowest " << probe->max_latency_ms << " ms"
            << std::endl;
  BOOST_CHECK_MESSAGE(peak_kb - base_kb <= rss_bound_kb,
                      "RSS peak " << (peak_kb - base_kb) / 1024 << " MiB above the baseline");
  BOOST_CHECK_EQUAL(probe->failures, 0);
  BOOST_CHECK_LT(probe->max_latency_ms, latency_bound.count());
  auto t = gdl({"try", "after-fuzz", "--owner", "f"});
  BOOST_CHECK_MESSAGE(t.code() == 0, t.describe());
  BOOST_CHECK_MESSAGE(node->alive(), node->child().describe());
}

BOOST_AUTO_TEST_SUITE_END()
