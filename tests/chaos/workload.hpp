// The clients of a chaos run: K threads, each with its own Client and owner,
// acquiring (waiting and try-lock) a few hot locks and many cold ones,
// holding them for a random time with refreshes and fenced writes, and
// releasing them. Every operation goes into the history.
#pragma once

#include "fenced_register.hpp"
#include "history.hpp"

#include "net/endpoint.hpp"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace gdl_chaos {

struct WorkloadOptions {
  std::vector<godistlock::net::Endpoint> servers;
  size_t clients = 4;
  uint64_t seed = 1;
  // Each acquire and refresh asks for its own ttl, from ttl_min up to `ttl`
  // on hot locks and up to `cold_ttl` on cold ones; refreshes lengthen and
  // shorten leases. Liveness bounds use `ttl`: only hot locks are probed.
  std::chrono::milliseconds ttl{2000};
  std::chrono::milliseconds ttl_min{200};
  std::chrono::milliseconds cold_ttl{10000};
  size_t hot_locks = 3;
  size_t cold_locks = 50;
  // Short enough that a refresh of a lease of a second or two can still
  // be retried through another member before its trusted time ends.
  std::chrono::milliseconds attempt_timeout{1000};
  bool lease_from_reply = false; // the client-side mutation
};

// One client the nemesis drives for a composite fault: it talks to the
// members listed in `servers` (indices into WorkloadOptions::servers, in
// that order) and loops on one lock until `until`: acquire, hold with
// refreshes and fenced writes, release.
struct RoutedClient {
  std::string name; // unique per run: it names the process in the history
  std::vector<size_t> servers;
  std::string lock;
  std::chrono::milliseconds ttl{2000};
  // Refreshes ask for a ttl from `ttl` up to this (default: `ttl` only).
  std::optional<std::chrono::milliseconds> ttl_max;
  // Its own attempt timeout (default: the workload's).
  std::optional<std::chrono::milliseconds> attempt_timeout;
  std::chrono::milliseconds hold_min{0};
  std::chrono::milliseconds hold_max{100};
  std::optional<std::chrono::milliseconds> wait; // nullopt: try-lock
  std::chrono::milliseconds between{20};         // pause after each attempt
  // Freezes once it holds the lock: no refresh, no write, for the hold,
  // then one write with its old token (a client stopped by SIGSTOP or GC).
  bool frozen = false;
  // Reads the lock's status once (which connects it to its servers), then
  // waits this long before its first acquire. A connection cannot be set up
  // through a link slower than the nodes' handshake allows.
  std::optional<std::chrono::milliseconds> connect_first;
};

namespace detail {
class Actor;
}
class Session;

class Workload {
public:
  Workload(WorkloadOptions options, History& history, FencedRegister& store);
  ~Workload(); // stops and joins
  Workload(const Workload&) = delete;
  Workload& operator=(const Workload&) = delete;

  void start();
  // Asks the clients to finish their current operation and joins them.
  void stop();

  // The next client thread that holds a lock freezes for `pause` without
  // refreshing, then writes with its old token (logged as fault
  // client-freeze; its library's threads keep running, unlike the SIGSTOP
  // of a client process, see ClientProcesses).
  // Waits at most `limit` for the pause to start and end; false if no
  // client took it (it is withdrawn then).
  bool pause_a_holder(std::chrono::milliseconds pause, std::chrono::milliseconds limit);

  // After stop(): one fresh client acquires each lock (waiting up to `wait`)
  // and releases it, so liveness is exercised even if the load was thin.
  void probe(const std::vector<std::string>& locks, std::chrono::milliseconds wait);

  std::vector<std::string> hot_locks() const;
  const std::vector<godistlock::net::Endpoint>& servers() const { return options_.servers; }

  // Runs `spec` on the calling thread until `until` (or stop()). Bounded:
  // every call it makes has a deadline. Returns how many grants it got.
  size_t run_routed(const RoutedClient& spec, std::chrono::steady_clock::time_point until);

private:
  friend class Session;
  void client_loop(size_t index);

  WorkloadOptions options_;
  History& history_;
  FencedRegister& store_;
  std::atomic<bool> stopping_{false};
  std::vector<std::thread> threads_;

  std::mutex pause_mutex_;
  std::condition_variable pause_changed_;
  std::chrono::milliseconds pause_length_{0};
  bool pause_wanted_ = false;
  bool pause_taken_ = false;
  bool pause_done_ = false;
};

// One client a composite fault drives step by step, from its own thread:
// each call is one operation (bounded by the attempt timeout), recorded in
// the history under `name`. It talks to the members `servers` only.
class Session {
public:
  Session(Workload& workload, const std::string& name, const std::vector<size_t>& servers,
          std::chrono::milliseconds attempt_timeout);
  ~Session();
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  void status(const std::string& lock);
  // Try-lock; if granted, enters and leaves its critical section and
  // releases at once. True if granted.
  bool try_and_release(const std::string& lock, std::chrono::milliseconds ttl);

private:
  std::unique_ptr<detail::Actor> actor_;
};

} // namespace gdl_chaos
