// The link proxy against a loopback echo server: forwards, cuts, stalls and
// passes again. Every read is bounded by poll.
#include "cluster.hpp"
#include "proxy.hpp"

#include <boost/test/unit_test.hpp>

#include <arpa/inet.h>
#include <atomic>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <thread>
#include <unistd.h>

using namespace gdl_chaos;
using namespace std::chrono_literals;

namespace {

// Echoes every byte back, one thread per connection; stops when destroyed.
class EchoServer {
public:
  EchoServer() {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    BOOST_REQUIRE(::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
    BOOST_REQUIRE(::listen(fd_, 16) == 0);
    BOOST_REQUIRE(::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len) == 0);
    port_ = ntohs(a.sin_port);
    thread_ = std::thread([this] { run(); });
  }
  ~EchoServer() {
    stop_ = true;
    thread_.join();
    for (auto& t : workers_)
      t.join();
    ::close(fd_);
  }
  uint16_t port() const { return port_; }

private:
  void run() {
    while (!stop_) {
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, 50) <= 0)
        continue;
      int c = ::accept(fd_, nullptr, nullptr);
      if (c < 0)
        continue;
      workers_.emplace_back([this, c] {
        char buf[256];
        while (!stop_) {
          pollfd q{c, POLLIN, 0};
          if (::poll(&q, 1, 50) <= 0)
            continue;
          auto n = ::read(c, buf, sizeof buf);
          if (n <= 0)
            break;
          if (::send(c, buf, static_cast<size_t>(n), MSG_NOSIGNAL) != n)
            break;
        }
        ::close(c);
      });
    }
  }
  int fd_ = -1;
  uint16_t port_ = 0;
  std::atomic<bool> stop_{false};
  std::thread thread_;
  std::vector<std::thread> workers_;
};

int dial(uint16_t port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

// What arrives on `fd` within `limit`: the bytes, "" on timeout, "EOF" on close.
std::string read_some(int fd, std::chrono::milliseconds limit) {
  pollfd p{fd, POLLIN, 0};
  if (::poll(&p, 1, static_cast<int>(limit.count())) <= 0)
    return "";
  char buf[256];
  auto n = ::read(fd, buf, sizeof buf);
  if (n <= 0)
    return "EOF";
  return std::string(buf, static_cast<size_t>(n));
}

bool say(int fd, const std::string& text) {
  return ::send(fd, text.data(), text.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(text.size());
}

} // namespace

BOOST_AUTO_TEST_SUITE(link_proxy)

BOOST_AUTO_TEST_CASE(forwards_both_ways) {
  EchoServer echo;
  LinkProxy proxy("a->b", echo.port());
  BOOST_TEST(proxy.port() != echo.port());
  int fd = dial(proxy.port());
  BOOST_REQUIRE(fd >= 0);
  BOOST_REQUIRE(say(fd, "hello"));
  BOOST_TEST(read_some(fd, 2000ms) == "hello");
  ::close(fd);
}

BOOST_AUTO_TEST_CASE(cut_closes_open_and_new_connections_until_passing_again) {
  EchoServer echo;
  LinkProxy proxy("a->b", echo.port());
  int fd = dial(proxy.port());
  BOOST_REQUIRE(say(fd, "x"));
  BOOST_REQUIRE(read_some(fd, 2000ms) == "x");
  proxy.set_mode(LinkMode::cut);
  BOOST_TEST(read_some(fd, 2000ms) == "EOF");
  ::close(fd);
  fd = dial(proxy.port()); // the kernel accepts; the proxy closes it at once
  BOOST_TEST(read_some(fd, 2000ms) == "EOF");
  ::close(fd);
  proxy.set_mode(LinkMode::pass);
  fd = dial(proxy.port());
  BOOST_REQUIRE(say(fd, "again"));
  BOOST_TEST(read_some(fd, 2000ms) == "again");
  ::close(fd);
}

BOOST_AUTO_TEST_CASE(stall_drops_bytes_and_passing_again_closes_the_gapped_stream) {
  EchoServer echo;
  LinkProxy proxy("a->b", echo.port());
  int fd = dial(proxy.port());
  BOOST_REQUIRE(say(fd, "x"));
  BOOST_REQUIRE(read_some(fd, 2000ms) == "x");
  proxy.set_mode(LinkMode::stall);
  std::this_thread::sleep_for(200ms);
  BOOST_REQUIRE(say(fd, "lost"));
  BOOST_TEST(read_some(fd, 500ms) == "");
  proxy.set_mode(LinkMode::pass);
  BOOST_TEST(read_some(fd, 2000ms) == "EOF");
  ::close(fd);
}

BOOST_AUTO_TEST_CASE(delay_holds_bytes_back_in_order) {
  EchoServer echo;
  LinkProxy proxy("a->b", echo.port());
  int fd = dial(proxy.port());
  proxy.set_delay(300ms);
  auto sent = std::chrono::steady_clock::now();
  BOOST_REQUIRE(say(fd, "slow"));
  std::string got;
  while (got.size() < 4 && std::chrono::steady_clock::now() - sent < 3s) {
    auto part = read_some(fd, 3000ms);
    if (part.empty() || part == "EOF")
      break;
    got += part;
  }
  // Held 300 ms on the way there and 300 ms on the way back.
  BOOST_TEST(got == "slow");
  BOOST_TEST((std::chrono::steady_clock::now() - sent >= 550ms));
  proxy.set_delay(0ms);
  BOOST_REQUIRE(say(fd, "fast"));
  BOOST_TEST(read_some(fd, 2000ms) == "fast");
  ::close(fd);
}

BOOST_AUTO_TEST_CASE(a_dead_target_closes_the_dialer) {
  auto port = free_loopback_port();
  LinkProxy proxy("a->b", port);
  int fd = dial(proxy.port());
  BOOST_TEST(read_some(fd, 2000ms) == "EOF");
  ::close(fd);
}

BOOST_AUTO_TEST_SUITE_END()
