#include "client_worker.hpp"

#include "checkers.hpp"
#include "history.hpp"
#include "recording_client.hpp"
#include "worker_protocol.hpp"

#include "client/client.hpp"
#include "core/limits.hpp"

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <fcntl.h>
#include <iostream>
#include <optional>
#include <poll.h>
#include <random>
#include <string>
#include <thread>
#include <unistd.h>

namespace gdl_chaos {

namespace client = godistlock::client;
using namespace std::chrono;
using namespace std::chrono_literals;

namespace {

volatile std::sig_atomic_t stop_requested = 0;

void on_sigterm(int) {
  stop_requested = 1;
}

struct WorkerOptions {
  std::string name;
  std::vector<godistlock::net::Endpoint> servers;
  uint64_t seed = 1;
  milliseconds ttl{2000};
  size_t hot_locks = 3;
  double clock_rate = 1.0;
  milliseconds attempt_timeout{2000};
};

// The worker's end of the pipes to the harness.
class Channel {
public:
  Channel(int in, int out) : in_(in), out_(out) {}

  bool closed() const { return closed_; }

  void send(const std::string& line) {
    if (closed_)
      return;
    std::string data = line + "\n";
    size_t done = 0;
    while (done < data.size()) {
      auto n = ::write(out_, data.data() + done, data.size() - done);
      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0) {
        closed_ = true; // the harness is gone
        return;
      }
      done += static_cast<size_t>(n);
    }
  }

  // Reads what is there without blocking (notices EOF).
  void poll_input() { fill(0); }

  // The harness's answer to write `id`; nullopt if none came within `limit`.
  std::optional<bool> await_write(uint64_t id, milliseconds limit) {
    auto until = steady_clock::now() + limit;
    for (;;) {
      for (auto nl = buffer_.find('\n'); nl != std::string::npos; nl = buffer_.find('\n')) {
        auto line = buffer_.substr(0, nl);
        buffer_.erase(0, nl + 1);
        auto message = parse_line(line);
        if (!message)
          continue;
        auto reply = decode_write_reply(*message);
        if (reply && reply->id == id)
          return reply->accepted;
      }
      if (closed_)
        return std::nullopt;
      auto left = duration_cast<milliseconds>(until - steady_clock::now());
      // At least one look: after a SIGSTOP the answer may be waiting in the
      // pipe although the time is up.
      if (!fill(std::max<int64_t>(0, left.count())) && left <= 0ms)
        return std::nullopt;
    }
  }

private:
  // Waits up to `ms` for input and appends it; false if none came.
  bool fill(int64_t ms) {
    if (closed_)
      return false;
    pollfd p{in_, POLLIN, 0};
    int r = ::poll(&p, 1, static_cast<int>(ms));
    if (r <= 0)
      return false;
    char buf[4096];
    auto n = ::read(in_, buf, sizeof buf);
    if (n < 0 && errno == EINTR)
      return false;
    if (n <= 0) {
      closed_ = true;
      return false;
    }
    buffer_.append(buf, static_cast<size_t>(n));
    return true;
  }

  int in_;
  int out_;
  bool closed_ = false;
  std::string buffer_;
};

class Worker {
public:
  Worker(WorkerOptions options, Channel& channel)
      : o_(std::move(options)), channel_(channel),
        client_(
            o_.name, client_options(o_),
            [this](Event e) {
              e.time_ns = now_ns(); // the real clock, as the harness's history
              channel_.send(encode_event(e));
            },
            [this](client::LeaseClock::time_point t) { return real_time_of(t); }),
        rng_(o_.seed) {}

  void run() {
    std::vector<std::string> hot;
    for (size_t i = 0; i < o_.hot_locks; ++i)
      hot.push_back("hot-" + std::to_string(i));
    client_.note(EventType::info, "", 0,
                 "client worker process " + std::to_string(::getpid()) + ", clock rate " +
                     std::to_string(o_.clock_rate));
    while (!stopping()) {
      auto lock = hot[rng_() % hot.size()];
      auto lease = client_.acquire(lock, o_.ttl, uniform(1000, 3000));
      if (!lease) {
        std::this_thread::sleep_for(uniform(10, 150));
        continue;
      }
      client_.note(EventType::cs_enter, lock, lease->token, "");
      auto hold = std::uniform_int_distribution<int>(0, 99)(rng_) < 65
                      ? uniform(0, 300)
                      : uniform(300, o_.ttl.count() * 5 / 2);
      hold_lock(*lease, hold);
    }
  }

private:
  static client::ClientOptions client_options(const WorkerOptions& o) {
    client::ClientOptions c;
    c.servers = o.servers;
    c.attempt_timeout = o.attempt_timeout;
    c.client_id = "chaos-" + std::to_string(::getpid()) + "-" + o.name;
    return c;
  }

  bool stopping() {
    channel_.poll_input();
    return stop_requested || channel_.closed();
  }

  milliseconds uniform(int64_t lo, int64_t hi) {
    return milliseconds(std::uniform_int_distribution<int64_t>(lo, hi)(rng_));
  }

  // A deadline on the (maybe skewed) lease clock in real time, for the
  // history: the checkers compare it with real timestamps.
  int64_t real_time_of(client::LeaseClock::time_point deadline) const {
    if (o_.clock_rate == 1.0)
      return deadline.time_since_epoch().count();
    auto real = client::LeaseClock::real_now(); // first: see real_deadline()
    auto skewed = client::LeaseClock::now();
    return real_deadline(deadline.time_since_epoch().count(), skewed.time_since_epoch().count(),
                         real.time_since_epoch().count(), o_.clock_rate);
  }

  // Sleeps until `t` on the lease clock.
  void sleep_until(client::LeaseClock::time_point t) const {
    auto left = t - client::LeaseClock::now();
    if (left > nanoseconds(0))
      std::this_thread::sleep_for(
          nanoseconds(static_cast<int64_t>(static_cast<double>(left.count()) / o_.clock_rate)));
  }

  // A write at the harness's fenced register, with the lease's token. The
  // harness logs its invoke and outcome when the write reaches the register
  // (it takes effect there, even if this process was stopped since).
  void write(const client::Lease& lease) {
    // Only for the reader of the history: the write goes out regardless.
    bool stale = !lease.still_trusted();
    auto id = client_.next_op_id();
    channel_.send(encode_write_request({id, lease.name, lease.token, register_value(o_.name, id),
                                        stale ? "stale: the lease ran out while preparing" : ""}));
    if (!channel_.await_write(id, 5s))
      client_.note(EventType::info, lease.name, lease.token,
                   "no answer from the harness to write " + std::to_string(id));
  }

  // As hold_lock() in workload.cpp, but each write is prepared after the
  // lease was checked (see client_worker.hpp), and there is at least one.
  void hold_lock(client::Lease lease, milliseconds hold) {
    const auto& lock = lease.name;
    const auto trusted = duration_cast<milliseconds>(client::trusted_lease(lease.ttl));
    auto hold_until = client::LeaseClock::now() + hold;
    auto refresh_at = client::LeaseClock::now() + trusted / 3;
    bool first = true;
    for (;;) {
      auto now = client::LeaseClock::now();
      if (!lease.still_trusted()) {
        client_.note(EventType::lease_lost, lock, lease.token, "the trusted time ran out");
        break;
      }
      if (stopping() || (!first && now >= hold_until))
        break;
      first = false;
      if (now >= refresh_at) {
        auto extended = client_.refresh(lease);
        if (!extended) {
          client_.note(EventType::lease_lost, lock, lease.token, "a refresh failed");
          break;
        }
        lease = *extended;
        refresh_at = client::LeaseClock::now() + trusted / 3;
        continue;
      }
      // The lease was trusted a moment ago; preparing the write takes a
      // while, and a process stopped here writes with a stale token.
      std::this_thread::sleep_for(uniform(50, 150));
      write(lease);
      auto nap = client::LeaseClock::now() + uniform(20, 150);
      sleep_until(std::min({nap, hold_until, refresh_at, lease.trusted_until}));
    }
    client_.note(EventType::cs_exit, lock, lease.token, "");
    client_.release(lock, lease.token);
  }

  WorkerOptions o_;
  Channel& channel_;
  RecordingClient client_;
  std::mt19937_64 rng_;
};

std::string parse(int argc, char** argv, WorkerOptions& o) {
  std::vector<std::string> args(argv + 1, argv + argc);
  for (size_t i = 0; i < args.size(); ++i) {
    const auto& flag = args[i];
    if (i + 1 >= args.size())
      return "missing value for " + flag;
    const auto& value = args[++i];
    auto number = [&](uint64_t lo, uint64_t hi) -> std::optional<uint64_t> {
      try {
        size_t used = 0;
        auto v = std::stoull(value, &used);
        if (used != value.size() || v < lo || v > hi)
          return std::nullopt;
        return v;
      } catch (...) {
        return std::nullopt;
      }
    };
    if (flag == "--name") {
      o.name = value;
    } else if (flag == "--servers") {
      auto list = godistlock::net::parse_endpoint_list(value);
      if (!list || list->empty())
        return "bad --servers '" + value + "'";
      o.servers = *list;
    } else if (flag == "--seed") {
      auto v = number(0, UINT64_MAX);
      if (!v)
        return "bad --seed '" + value + "'";
      o.seed = *v;
    } else if (flag == "--ttl" || flag == "--attempt-timeout") {
      auto v = number(1, 3'600'000);
      if (!v)
        return "bad " + flag + " '" + value + "': milliseconds";
      (flag == "--ttl" ? o.ttl : o.attempt_timeout) = milliseconds(*v);
    } else if (flag == "--hot-locks") {
      auto v = number(1, 100);
      if (!v)
        return "bad --hot-locks '" + value + "'";
      o.hot_locks = *v;
    } else if (flag == "--clock-rate") {
      try {
        size_t used = 0;
        o.clock_rate = std::stod(value, &used);
        if (used != value.size())
          return "bad --clock-rate '" + value + "'";
      } catch (...) {
        return "bad --clock-rate '" + value + "'";
      }
      if (!(o.clock_rate >= 0.1 && o.clock_rate <= 10.0))
        return "bad --clock-rate '" + value + "': 0.1 to 10";
    } else {
      return "unknown option " + flag;
    }
  }
  if (o.name.empty() || o.servers.empty())
    return "--name and --servers are required";
  return {};
}

} // namespace

int run_client_worker(int argc, char** argv) {
  WorkerOptions o;
  if (auto error = parse(argc, argv, o); !error.empty()) {
    std::cerr << "godistlock-chaos --client-worker: " << error << "\n";
    return 2;
  }
  // The protocol gets private copies of stdin/stdout; whatever else writes
  // to stdout (a library) goes to the log (stderr) instead of the pipe.
  int in = ::fcntl(0, F_DUPFD_CLOEXEC, 3);
  int out = ::fcntl(1, F_DUPFD_CLOEXEC, 3);
  int null = ::open("/dev/null", O_RDONLY);
  if (in < 0 || out < 0 || null < 0) {
    std::cerr << "godistlock-chaos --client-worker: cannot set up its pipes\n";
    return 2;
  }
  ::dup2(null, 0);
  ::dup2(2, 1);
  ::close(null);
  std::signal(SIGPIPE, SIG_IGN);
  struct sigaction term {};
  term.sa_handler = on_sigterm;
  sigemptyset(&term.sa_mask);
  ::sigaction(SIGTERM, &term, nullptr);
  ::sigaction(SIGINT, &term, nullptr);
  // Test only: set before the client times anything.
  client::LeaseClock::test_rate().store(o.clock_rate);

  Channel channel(in, out);
  {
    Worker worker(o, channel);
    worker.run();
  }
  std::cerr << o.name << ": stopped" << (channel.closed() ? " (the harness closed the pipe)" : "")
            << "\n";
  return 0;
}

} // namespace gdl_chaos
