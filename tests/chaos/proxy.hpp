// A TCP proxy for one directed peer link (node i dials node j through it),
// owned by the harness so that it can cut the link. Binds 127.0.0.1 only, on
// a port the kernel picks. One thread per proxy; every wait is bounded.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>

namespace gdl_chaos {

enum class LinkMode {
  pass,  // forward both ways
  cut,   // close open connections and every new one at once (a refused link)
  stall, // keep connections open but drop every byte (a black hole); they are
         // closed when the link passes again, since their byte streams have gaps
};

const char* to_string(LinkMode mode);

class LinkProxy {
public:
  // Throws std::runtime_error if it cannot listen.
  LinkProxy(std::string name, uint16_t target_port);
  ~LinkProxy();
  LinkProxy(const LinkProxy&) = delete;
  LinkProxy& operator=(const LinkProxy&) = delete;

  const std::string& name() const { return name_; }
  uint16_t port() const { return port_; }
  uint16_t target_port() const { return target_port_; }
  void set_mode(LinkMode mode);
  LinkMode mode() const { return mode_.load(); }
  // Holds every byte this long before passing it on, both ways (a slow
  // link). Zero: none. Applies to bytes read from now on.
  void set_delay(std::chrono::milliseconds delay);
  // Connections accepted and forwarded so far, and bytes moved.
  uint64_t connections_forwarded() const { return forwarded_.load(); }
  uint64_t bytes_forwarded() const { return bytes_.load(); }
  size_t open_connections() const { return open_.load(); }

private:
  void run();

  std::string name_;
  uint16_t target_port_;
  uint16_t port_ = 0;
  int listen_fd_ = -1;
  int wake_fds_[2] = {-1, -1};
  std::atomic<LinkMode> mode_{LinkMode::pass};
  std::atomic<int64_t> delay_ms_{0};
  std::atomic<bool> stop_{false};
  std::atomic<uint64_t> forwarded_{0};
  std::atomic<uint64_t> bytes_{0};
  std::atomic<size_t> open_{0};
  std::thread thread_;
};

} // namespace gdl_chaos
