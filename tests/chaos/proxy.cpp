#include "proxy.hpp"

#include <arpa/inet.h>
#include <cerrno>
#include <cstring>
#include <deque>
#include <fcntl.h>
#include <list>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdexcept>
#include <sys/socket.h>
#include <unistd.h>
#include <vector>

namespace gdl_chaos {

namespace {

// Bytes buffered per direction before we stop reading from the sender.
constexpr size_t buffer_limit = 256 * 1024;
// The loop wakes at least this often, so stop and mode changes are seen in time.
constexpr int poll_interval_ms = 100;

sockaddr_in loopback(uint16_t port) {
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return a;
}

int connect_loopback(uint16_t port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0)
    return -1;
  auto a = loopback(port);
  // Loopback connects complete or fail at once (a stopped process's kernel
  // still completes the handshake), so a blocking connect is bounded.
  if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    ::close(fd);
    return -1;
  }
  int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK);
  return fd;
}

using Clock = std::chrono::steady_clock;

// Bytes read but held back by the link delay, with the time they may go.
using Delayed = std::deque<std::pair<Clock::time_point, std::string>>;

struct Pair {
  int dialer = -1; // the node that dialed the proxy
  int target = -1; // our connection to the dialed node
  std::string to_target, to_dialer;
  Delayed later_to_target, later_to_dialer;
  bool stalled = false;
  bool dead = false;
};

size_t held(const Delayed& later) {
  size_t n = 0;
  for (auto& chunk : later)
    n += chunk.second.size();
  return n;
}

// Moves chunks whose delay is over into the send buffer.
void release_due(Delayed& later, std::string& into, Clock::time_point now) {
  while (!later.empty() && later.front().first <= now) {
    into += later.front().second;
    later.pop_front();
  }
}

// Reads what `from` has into `into` or, with a delay, into `later` (or drops
// it when stalled). False on EOF or error.
bool pump_in(int from, std::string& into, Delayed& later, bool stalled,
             std::chrono::milliseconds delay, std::atomic<uint64_t>& bytes) {
  char buf[16384];
  for (;;) {
    if (into.size() + held(later) >= buffer_limit)
      return true;
    ssize_t n = ::read(from, buf, sizeof buf);
    if (n > 0) {
      if (!stalled) {
        // Behind held-back bytes even when the delay is gone: never reorder.
        if (delay.count() > 0 || !later.empty())
          later.emplace_back(Clock::now() + delay, std::string(buf, static_cast<size_t>(n)));
        else
          into.append(buf, static_cast<size_t>(n));
        bytes += static_cast<uint64_t>(n);
      }
      continue;
    }
    if (n == 0)
      return false;
    return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR;
  }
}

// Writes what it can of `from` to `to`. False on error.
bool pump_out(std::string& from, int to) {
  while (!from.empty()) {
    ssize_t n = ::send(to, from.data(), from.size(), MSG_NOSIGNAL);
    if (n > 0) {
      from.erase(0, static_cast<size_t>(n));
      continue;
    }
    return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR);
  }
  return true;
}

} // namespace

const char* to_string(LinkMode mode) {
  switch (mode) {
  case LinkMode::pass:
    return "pass";
  case LinkMode::cut:
    return "cut";
  case LinkMode::stall:
    return "stall";
  }
  return "?";
}

LinkProxy::LinkProxy(std::string name, uint16_t target_port)
    : name_(std::move(name)), target_port_(target_port) {
  listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (listen_fd_ < 0)
    throw std::runtime_error("proxy " + name_ + ": socket: " + std::strerror(errno));
  int one = 1;
  ::setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  auto a = loopback(0);
  socklen_t len = sizeof a;
  if (::bind(listen_fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
      ::listen(listen_fd_, 64) != 0 ||
      ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&a), &len) != 0) {
    auto error = std::string(std::strerror(errno));
    ::close(listen_fd_);
    throw std::runtime_error("proxy " + name_ + ": cannot listen: " + error);
  }
  port_ = ntohs(a.sin_port);
  if (::pipe2(wake_fds_, O_CLOEXEC | O_NONBLOCK) != 0) {
    ::close(listen_fd_);
    throw std::runtime_error("proxy " + name_ + ": pipe: " + std::strerror(errno));
  }
  thread_ = std::thread([this] { run(); });
}

LinkProxy::~LinkProxy() {
  stop_ = true;
  char c = 's';
  [[maybe_unused]] auto n = ::write(wake_fds_[1], &c, 1);
  thread_.join();
  ::close(listen_fd_);
  ::close(wake_fds_[0]);
  ::close(wake_fds_[1]);
}

void LinkProxy::set_mode(LinkMode mode) {
  mode_ = mode;
  char c = 'm';
  [[maybe_unused]] auto n = ::write(wake_fds_[1], &c, 1);
}

void LinkProxy::set_delay(std::chrono::milliseconds delay) {
  delay_ms_ = delay.count();
}

void LinkProxy::run() {
  std::list<Pair> pairs;
  auto close_pair = [](Pair& p) {
    ::close(p.dialer);
    ::close(p.target);
    p.dead = true;
  };
  std::vector<pollfd> fds;
  while (!stop_) {
    auto mode = mode_.load();
    for (auto& p : pairs) {
      if (mode == LinkMode::cut || (mode == LinkMode::pass && p.stalled))
        close_pair(p);
      else if (mode == LinkMode::stall && !p.stalled) {
        p.stalled = true;
        p.to_target.clear();
        p.to_dialer.clear();
        p.later_to_target.clear();
        p.later_to_dialer.clear();
      }
    }
    auto now = Clock::now();
    auto next_due = now + std::chrono::milliseconds(poll_interval_ms);
    for (auto& p : pairs) {
      release_due(p.later_to_target, p.to_target, now);
      release_due(p.later_to_dialer, p.to_dialer, now);
      for (auto* later : {&p.later_to_target, &p.later_to_dialer})
        if (!later->empty())
          next_due = std::min(next_due, later->front().first);
    }
    auto wait_ms = std::chrono::duration_cast<std::chrono::milliseconds>(next_due - now).count();
    pairs.remove_if([](const Pair& p) { return p.dead; });
    open_ = pairs.size();

    fds.clear();
    fds.push_back({wake_fds_[0], POLLIN, 0});
    fds.push_back({listen_fd_, POLLIN, 0});
    for (auto& p : pairs) {
      short d = 0, t = 0;
      if (p.to_target.size() + held(p.later_to_target) < buffer_limit)
        d |= POLLIN;
      if (p.to_dialer.size() + held(p.later_to_dialer) < buffer_limit)
        t |= POLLIN;
      if (!p.to_dialer.empty())
        d |= POLLOUT;
      if (!p.to_target.empty())
        t |= POLLOUT;
      fds.push_back({p.dialer, d, 0});
      fds.push_back({p.target, t, 0});
    }
    int ready = ::poll(fds.data(), fds.size(), static_cast<int>(std::max<int64_t>(1, wait_ms)));
    if (ready <= 0)
      continue;
    if (fds[0].revents) {
      char drain[64];
      while (::read(wake_fds_[0], drain, sizeof drain) > 0) {
      }
    }
    size_t k = 2;
    for (auto& p : pairs) {
      auto d = fds[k++].revents;
      auto t = fds[k++].revents;
      bool alive = true;
      std::chrono::milliseconds delay(delay_ms_.load());
      if (d & (POLLIN | POLLHUP | POLLERR))
        alive = pump_in(p.dialer, p.to_target, p.later_to_target, p.stalled, delay, bytes_);
      if (alive && (t & (POLLIN | POLLHUP | POLLERR)))
        alive = pump_in(p.target, p.to_dialer, p.later_to_dialer, p.stalled, delay, bytes_);
      if (alive)
        alive = pump_out(p.to_target, p.target) && pump_out(p.to_dialer, p.dialer);
      if (!alive)
        close_pair(p);
    }
    if (fds[1].revents & POLLIN) {
      for (;;) {
        int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK);
        if (fd < 0)
          break;
        if (mode_.load() == LinkMode::cut) {
          ::close(fd);
          continue;
        }
        int target = connect_loopback(target_port_);
        if (target < 0) {
          ::close(fd);
          continue;
        }
        int one = 1;
        ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        Pair p;
        p.dialer = fd;
        p.target = target;
        p.stalled = mode_.load() == LinkMode::stall;
        pairs.push_back(std::move(p));
        ++forwarded_;
      }
    }
  }
  for (auto& p : pairs)
    if (!p.dead)
      close_pair(p);
}

} // namespace gdl_chaos
