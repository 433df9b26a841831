#include "recording_client.hpp"

#include <algorithm>

namespace gdl_chaos {

namespace client = godistlock::client;
using namespace std::chrono;

EventType outcome_of(client::Status status) {
  switch (status) {
  case client::Status::ok:
    return EventType::ok;
  case client::Status::not_acquired:
  case client::Status::not_holder:
  case client::Status::invalid_argument:
    return EventType::fail;
  default:
    return EventType::unknown; // unavailable or internal: it may have happened
  }
}

RecordingClient::RecordingClient(std::string name, client::ClientOptions options, Emit emit,
                                 RealTime real_time)
    : name_(std::move(name)), client_(std::move(options)), emit_(std::move(emit)),
      real_time_(std::move(real_time)) {}

void RecordingClient::emit(Event e) {
  e.process = name_;
  emit_(std::move(e));
}

uint64_t RecordingClient::invoke(Op op, const std::string& lock, uint64_t token,
                                 std::string detail) {
  Event e;
  e.type = EventType::invoke;
  e.op = op;
  e.op_id = next_op_id();
  e.lock = lock;
  e.token = token;
  e.detail = std::move(detail);
  auto id = e.op_id;
  emit(std::move(e));
  return id;
}

void RecordingClient::complete(Op op, uint64_t id, const std::string& lock, EventType outcome,
                               uint64_t token, std::string detail, int64_t trusted_until) {
  Event e;
  e.type = outcome;
  e.op = op;
  e.op_id = id;
  e.lock = lock;
  e.token = token;
  e.server = op == Op::write ? std::string() : client_.last_server();
  e.trusted_until_ns = trusted_until;
  e.detail = std::move(detail);
  emit(std::move(e));
}

void RecordingClient::note(EventType type, const std::string& lock, uint64_t token,
                           std::string detail, std::string fault) {
  Event e;
  e.type = type;
  e.lock = lock;
  e.token = token;
  e.fault = std::move(fault);
  e.detail = std::move(detail);
  emit(std::move(e));
}

std::optional<client::Lease> RecordingClient::acquire(const std::string& lock, milliseconds ttl,
                                                      std::optional<milliseconds> wait) {
  Op op = wait ? Op::acquire : Op::try_acquire;
  auto id = invoke(op, lock, 0, wait ? "wait " + std::to_string(wait->count()) + " ms" : "");
  client::AcquireReply r;
  if (wait) {
    client::AcquireOptions how;
    how.ttl = ttl;
    how.wait = *wait;
    how.on_queued = [&](uint64_t position) {
      Event e;
      e.type = EventType::queued;
      e.op = op;
      e.op_id = id;
      e.lock = lock;
      e.server = client_.last_server();
      e.position = position;
      emit(std::move(e));
    };
    r = client_.acquire(lock, how);
  } else {
    r = client_.try_acquire(lock, ttl);
  }
  complete(op, id, lock, outcome_of(r.status), r.ok() ? r.lease.token : 0,
           r.ok() ? std::string() : r.message, r.ok() ? real_time_(r.lease.trusted_until) : 0);
  if (!r.ok())
    return std::nullopt;
  return r.lease;
}

std::optional<client::Lease> RecordingClient::refresh(const client::Lease& lease,
                                                      std::optional<milliseconds> ttl) {
  auto asked = ttl.value_or(lease.ttl);
  auto id =
      invoke(Op::refresh, lease.name, lease.token, "ttl " + std::to_string(asked.count()) + " ms");
  auto r = client_.refresh(lease, asked, lease.trusted_until);
  complete(Op::refresh, id, lease.name, outcome_of(r.status), lease.token,
           r.ok() ? std::string() : r.message, r.ok() ? real_time_(r.lease.trusted_until) : 0);
  if (!r.ok())
    return std::nullopt;
  // Trusting the later end is what a holder does (LockHolder too): no
  // refresh, however delayed or short, may cut a lease short.
  auto extended = lease;
  extended.ttl = r.lease.ttl;
  extended.trusted_until = std::max(lease.trusted_until, r.lease.trusted_until);
  return extended;
}

void RecordingClient::release(const std::string& lock, uint64_t token) {
  auto id = invoke(Op::release, lock, token);
  auto r = client_.release(lock, token);
  complete(Op::release, id, lock, outcome_of(r.status), token, r.ok() ? "" : r.message);
}

void RecordingClient::status(const std::string& lock) {
  auto id = invoke(Op::status, lock);
  auto r = client_.status(lock);
  Event e;
  e.type = outcome_of(r.status);
  e.op = Op::status;
  e.op_id = id;
  e.lock = lock;
  e.server = client_.last_server();
  if (r.ok()) {
    e.fence = r.lock.fence();
    e.holder_token = r.lock.held() ? r.lock.token() : 0;
  } else {
    e.detail = r.message;
  }
  emit(std::move(e));
}

} // namespace gdl_chaos
