#include "net/basp_guard.hpp"

#include "core/log.hpp"

#include <caf/io/basp/header.hpp>
#include <caf/io/basp/message_type.hpp>
#include <caf/io/basp_broker.hpp>
#include <caf/io/middleman.hpp>
#include <caf/io/network/default_multiplexer.hpp>
#include <caf/io/network/doorman_impl.hpp>
#include <caf/io/network/scribe_impl.hpp>
#include <caf/send.hpp>

#include <atomic>
#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <sys/socket.h>
#include <thread>

namespace godistlock::net {

namespace {

namespace network = caf::io::network;
using caf::io::basp::message_type;
using Clock = std::chrono::steady_clock;

std::atomic<uint64_t> refused{0};

void log_refusal(std::string_view why) {
  // One line per hostile connection would let a scanner flood the log.
  auto n = ++refused;
  if (n <= 10 || n % 1000 == 0)
    GDL_WARN("closed a connection on the node port: " << why << " (" << n << " so far)");
}

// BASP header, 0.17.6 (network byte order): operation, 2 padding bytes,
// flags, payload_len (u32), operation_data (u64), source, dest (u64 each).
uint32_t payload_len(const uint8_t* h) {
  return (uint32_t{h[4]} << 24) | (uint32_t{h[5]} << 16) | (uint32_t{h[6]} << 8) | h[7];
}

// Closes connections that never sent their handshake (they hold a socket
// each, and would let anyone run the node out of file descriptors). Runs on
// its own thread so that it needs no traffic to make progress.
class Reaper {
public:
  struct Entry {
    int fd;
    Clock::time_point deadline;
    bool open = true;  // cleared before the scribe closes the socket
    bool done = false; // handshake received
  };

  explicit Reaper(std::chrono::milliseconds timeout) : timeout_(timeout) {
    thread_ = std::thread([this] { run(); });
  }
  ~Reaper() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      stop_ = true;
    }
    wake_.notify_all();
    thread_.join();
  }
  Reaper(const Reaper&) = delete;
  Reaper& operator=(const Reaper&) = delete;

  std::shared_ptr<Entry> watch(int fd) {
    auto entry = std::make_shared<Entry>(Entry{fd, Clock::now() + timeout_});
    std::lock_guard<std::mutex> lock(mutex_);
    entries_.push_back(entry); // deadlines are in order: one timeout for all
    if (entries_.size() == 1)
      wake_.notify_all();
    return entry;
  }
  void handshaken(Entry& e) {
    std::lock_guard<std::mutex> lock(mutex_);
    e.done = true;
  }
  void closing(Entry& e) {
    std::lock_guard<std::mutex> lock(mutex_);
    e.open = false;
  }

private:
  void run() {
    std::unique_lock<std::mutex> lock(mutex_);
    while (!stop_) {
      if (entries_.empty()) {
        wake_.wait(lock);
        continue;
      }
      auto front = entries_.front();
      if (!front->open || front->done) {
        entries_.pop_front();
        continue;
      }
      if (Clock::now() < front->deadline) {
        wake_.wait_until(lock, front->deadline);
        continue;
      }
      entries_.pop_front();
      // The multiplexer sees end of stream next and closes the connection
      // the usual way; the socket stays ours until then (open is true).
      ::shutdown(front->fd, SHUT_RDWR);
      log_refusal("no handshake in time");
    }
  }

  const std::chrono::milliseconds timeout_;
  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<std::shared_ptr<Entry>> entries_;
  bool stop_ = false;
  std::thread thread_;
};

// Shared by one port's doorman and its connections.
struct Guard {
  explicit Guard(const GuardLimits& l) : limits(l), reaper(l.handshake_timeout) {}
  const GuardLimits limits;
  std::atomic<uint64_t> large_in_flight{0};
  Reaper reaper;
};

// CAF's scribe for one accepted connection, checking every BASP header
// before the broker sees it. The broker reads exactly one header or one
// payload per consume(); the scribe follows the same states.
class GuardedScribe final : public network::scribe_impl {
public:
  GuardedScribe(network::default_multiplexer& mx, network::native_socket fd,
                std::shared_ptr<Guard> guard)
      : scribe_impl(mx, fd), guard_(std::move(guard)), entry_(guard_->reaper.watch(fd)) {}

  ~GuardedScribe() override {
    release();
    guard_->reaper.closing(*entry_);
  }

  bool consume(caf::execution_unit* ctx, const void* buf, size_t n) override {
    if (refused_)
      return false;
    if (!handshaken_ && Clock::now() > entry_->deadline) {
      refuse(ctx, "no handshake in time"); // trickled, or still sending after the reaper's shutdown
      return false;
    }
    if (awaiting_payload_) {
      awaiting_payload_ = false;
      auto result = scribe_impl::consume(ctx, buf, n);
      release();
      if (!handshaken_) {
        handshaken_ = true;
        guard_->reaper.handshaken(*entry_);
      }
      // The stream keeps its buffer's capacity: give a large one back.
      auto& rd = rd_buf();
      if (rd.capacity() > guard_->limits.small_payload)
        std::vector<char>().swap(rd);
      return result;
    }
    auto* header = static_cast<const uint8_t*>(buf);
    auto why =
        refuse_header(header, n, !handshaken_, guard_->large_in_flight.load(), guard_->limits);
    if (why) {
      refuse(ctx, *why);
      return false;
    }
    auto len = payload_len(header);
    if (len > guard_->limits.small_payload) {
      reserved_ = len;
      guard_->large_in_flight += len;
    }
    awaiting_payload_ = len > 0;
    return scribe_impl::consume(ctx, buf, n);
  }

private:
  void release() {
    if (reserved_ > 0) {
      guard_->large_in_flight -= reserved_;
      reserved_ = 0;
    }
  }

  // The same path as a peer hanging up: the broker gets connection_closed,
  // the stream stops reading, the socket closes when the scribe goes away.
  void refuse(caf::execution_unit* ctx, std::string_view why) {
    refused_ = true;
    release();
    log_refusal(why);
    ::shutdown(stream_.fd(), SHUT_RDWR);
    io_failure(ctx, network::operation::read);
  }

  std::shared_ptr<Guard> guard_;
  std::shared_ptr<Reaper::Entry> entry_;
  uint64_t reserved_ = 0;
  bool awaiting_payload_ = false;
  bool handshaken_ = false;
  bool refused_ = false;
};

// CAF's doorman, handing out GuardedScribes instead of plain ones.
class GuardedDoorman final : public network::doorman_impl {
public:
  GuardedDoorman(network::default_multiplexer& mx, network::native_socket fd,
                 std::shared_ptr<Guard> guard)
      : doorman_impl(mx, fd), guard_(std::move(guard)) {}

  bool new_connection() override {
    if (detached())
      return false; // as doorman_impl: the broker let go of us already
    auto& mx = acceptor_.backend();
    auto fd = acceptor_.accepted_socket();
    network::keepalive(fd, true);
    caf::io::scribe_ptr scribe = caf::make_counted<GuardedScribe>(mx, fd, guard_);
    auto hdl = scribe->hdl();
    parent()->add_scribe(std::move(scribe));
    return doorman::new_connection(&mx, hdl);
  }

private:
  std::shared_ptr<Guard> guard_;
};

} // namespace

std::optional<std::string_view> refuse_header(const uint8_t* header, size_t size, bool first,
                                              uint64_t large_in_flight, const GuardLimits& limits) {
  if (size != caf::io::basp::header_size)
    return "not a BASP header";
  auto op = header[0];
  auto len = payload_len(header);
  if (first) {
    // A client handshake always carries the client's node id; CAF would
    // dereference a missing payload.
    if (op != static_cast<uint8_t>(message_type::client_handshake))
      return "first message is not a client handshake";
    if (len == 0 || len > limits.handshake_payload)
      return "client handshake of implausible size";
    return std::nullopt;
  }
  switch (static_cast<message_type>(op)) {
  case message_type::client_handshake: // repeated to select a connection
    if (len == 0 || len > limits.handshake_payload)
      return "client handshake of implausible size";
    return std::nullopt;
  case message_type::direct_message:
  case message_type::routed_message:
  case message_type::monitor_message:
  case message_type::down_message:
  case message_type::heartbeat:
    break;
  default: // server handshakes only come from nodes this one dialled
    return "unexpected BASP operation";
  }
  if (len > limits.max_payload)
    return "BASP payload larger than the limit";
  if (len > limits.small_payload && large_in_flight + len > limits.large_budget)
    return "too many large BASP payloads in flight";
  return std::nullopt;
}

caf::expected<uint16_t> publish_guarded(caf::actor_system& sys, caf::strong_actor_ptr whom,
                                        std::set<std::string> interface, uint16_t port,
                                        const std::string& host, bool reuse,
                                        const GuardLimits& limits) {
  auto* mx = dynamic_cast<network::default_multiplexer*>(&sys.middleman().backend());
  if (mx == nullptr)
    return caf::make_error(caf::sec::runtime_error,
                           "the BASP guard needs CAF's default multiplexer");
  auto fd = network::new_tcp_acceptor_impl(port, host.empty() ? nullptr : host.c_str(), reuse);
  if (!fd)
    return std::move(fd.error());
  caf::io::doorman_ptr doorman =
      caf::make_counted<GuardedDoorman>(*mx, *fd, std::make_shared<Guard>(limits));
  auto actual_port = doorman->port();
  // What middleman_actor_impl::put() does with the doorman it opened.
  auto basp = sys.middleman().named_broker<caf::io::basp_broker>(caf::atom("BASP"));
  caf::anon_send(basp, caf::publish_atom::value, std::move(doorman), actual_port, std::move(whom),
                 std::move(interface));
  return actual_port;
}

} // namespace godistlock::net
