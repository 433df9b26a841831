// The C++ client library. A Client talks to a list of servers and moves to
// the next one when a server is down or shutting down. Retrying is safe
// because the operations are idempotent on the servers: an acquire by an
// owner that already holds the lock returns the same token, a release or
// refresh names its token. Every request carries the client id, a request
// id its retries keep and an attempt number, so a lease is always timed from
// the send time of the attempt that created it.
// Calls may run concurrently from several threads; note that threads sharing
// a Client also share its default owner (the client id), so pass distinct
// owners when they must exclude each other.
#pragma once

// Siblings by relative path: found the same way from an install prefix and
// from the source tree.
#include "endpoint.hpp"
#include "lease_clock.hpp"
#include "lock_status.hpp"
#include "node_stats.hpp"

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace godistlock::client {

enum class Status {
  ok,
  not_acquired,     // wait ran out, try-lock found it taken, or the grant came too late
  not_holder,       // the token is not the current grant
  invalid_argument, // bad input; nothing changed
  unavailable,      // no server reachable (or no quorum)
  internal,
};

const char* to_string(Status s);

// A fresh client id: "c-" and 128 random bits in hex. Two processes (or two
// Clients) with one id are one owner to the servers, so ids are never
// derived from a PID or a clock. For applications that build requests
// themselves; a Client with an empty ClientOptions::client_id calls this.
std::string random_client_id();

struct ClientOptions {
  std::vector<net::Endpoint> servers;
  // Bounds each attempt at one server (a waiting acquire additionally waits
  // up to its park window, at most 1 s, per attempt), and is the budget of
  // a one-shot call: it goes on over the servers, with back-off, until this
  // much time has passed since it began (docs/client.md, "Failover").
  std::chrono::milliseconds attempt_timeout{5000};
  std::string client_id; // empty: a fresh random id per Client
  // Test-only mutation (godistlock-chaos --mutation lease-from-reply): time
  // leases from the reply instead of the send, which is unsafe.
  bool test_lease_from_reply = false;
};

// A granted lock as the client sees it.
struct Lease {
  std::string name;
  std::string owner;
  uint64_t token = 0;
  std::chrono::milliseconds ttl{0};
  // Past this instant (by LeaseClock) the lease must be considered lost.
  LeaseClock::time_point trusted_until;
  bool still_trusted() const { return LeaseClock::now() < trusted_until; }
};

struct AcquireOptions {
  std::chrono::milliseconds ttl{30000};
  // nullopt: wait as long as it takes; zero: try-lock.
  std::optional<std::chrono::milliseconds> wait;
  std::string owner; // empty: the client id (unique per Client)
  // Called on the calling thread with each QUEUED reply's place (1 = next; 0: not said).
  std::function<void(uint64_t position)> on_queued;
  // Asked before every attempt: once it returns true the acquire leaves the
  // wait queue (as when the wait runs out) and fails with Status::not_acquired.
  // An attempt already in flight is not cut short (it is back within one park
  // window); if it brings a grant, that grant is returned.
  std::function<bool()> stop_requested;
};

struct Reply {
  Status status = Status::internal;
  std::string message;
  bool ok() const { return status == Status::ok; }
};

struct AcquireReply : Reply {
  Lease lease;
};

struct StatusReply : Reply {
  LockStatus lock;
};

struct CheckReply : Reply {
  bool current = false;
};

struct StatsReply : Reply {
  NodeStats stats;
  std::string server;
};

// The index of a lock's home in `servers`: the server every client with
// this server list tries first for it (rendezvous hashing); nullopt with
// fewer than two servers.
std::optional<size_t> home_server(const std::vector<net::Endpoint>& servers,
                                  const std::string& lock);

class Client {
public:
  explicit Client(ClientOptions options);
  ~Client();
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  AcquireReply acquire(const std::string& name, const AcquireOptions& options = {});
  AcquireReply try_acquire(const std::string& name,
                           std::chrono::milliseconds ttl = std::chrono::seconds(30),
                           const std::string& owner = {});
  Reply release(const std::string& name, uint64_t token);
  // Extends the lease of `lease`; on success returns it with a new deadline.
  AcquireReply refresh(const Lease& lease, std::chrono::milliseconds ttl);
  AcquireReply refresh(const std::string& name, uint64_t token, std::chrono::milliseconds ttl);
  // As above, but gives up (Status::unavailable) once `deadline` passes,
  // however many servers are left to try: a lease keeper must learn in time
  // that its lease could not be extended.
  AcquireReply refresh(const Lease& lease, std::chrono::milliseconds ttl,
                       LeaseClock::time_point deadline);
  StatusReply status(const std::string& name);
  CheckReply check(const std::string& name, uint64_t token);
  // Stats of one server: the first one that answers, or `servers[index]`.
  StatsReply stats(std::optional<size_t> index = std::nullopt);

  const std::string& client_id() const;
  const std::vector<net::Endpoint>& servers() const;
  // The server that answered the latest call (the next call starts there).
  std::string last_server() const;

private:
  AcquireReply refresh_until(const std::string& name, uint64_t token, std::chrono::milliseconds ttl,
                             std::optional<LeaseClock::time_point> deadline);
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

} // namespace godistlock::client
