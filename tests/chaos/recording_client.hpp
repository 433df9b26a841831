// A client of a chaos run whose every operation becomes history events: an
// invoke, then ok / fail / unknown with what the client library answered.
// Shared by the harness's client threads and the client worker processes;
// where the events go, and how a lease deadline reads on the real clock,
// is theirs to say.
#pragma once

#include "history.hpp"

#include "client/client.hpp"

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>

namespace gdl_chaos {

EventType outcome_of(godistlock::client::Status status);

class RecordingClient {
public:
  // Gets each event with its process set; stamps and delivers it.
  using Emit = std::function<void(Event)>;
  // A deadline on this client's lease clock, in real-clock nanoseconds.
  using RealTime = std::function<int64_t(godistlock::client::LeaseClock::time_point)>;

  RecordingClient(std::string name, godistlock::client::ClientOptions options, Emit emit,
                  RealTime real_time);

  godistlock::client::Client& client() { return client_; }
  const std::string& name() const { return name_; }
  // A fresh operation id (unique within this client's events).
  uint64_t next_op_id() { return ++next_op_; }

  uint64_t invoke(Op op, const std::string& lock, uint64_t token = 0, std::string detail = {});
  void complete(Op op, uint64_t id, const std::string& lock, EventType outcome, uint64_t token,
                std::string detail = {}, int64_t trusted_until = 0);
  void note(EventType type, const std::string& lock, uint64_t token, std::string detail,
            std::string fault = {});

  // Waits up to `wait` (nullopt: try-lock); `queued` events on the way.
  std::optional<godistlock::client::Lease> acquire(const std::string& lock,
                                                   std::chrono::milliseconds ttl,
                                                   std::optional<std::chrono::milliseconds> wait);
  // The extended lease, or nullopt if the refresh did not succeed. Asks for
  // `ttl` (default: the lease's); the lease keeps the later trusted end.
  std::optional<godistlock::client::Lease>
  refresh(const godistlock::client::Lease& lease,
          std::optional<std::chrono::milliseconds> ttl = std::nullopt);
  void release(const std::string& lock, uint64_t token);
  void status(const std::string& lock);

private:
  void emit(Event e);

  std::string name_;
  godistlock::client::Client client_;
  Emit emit_;
  RealTime real_time_;
  uint64_t next_op_ = 0;
};

} // namespace gdl_chaos
