// Hand-made histories for the checker tests: times in milliseconds.
#pragma once

#include "history.hpp"

#include <string>
#include <vector>

namespace gdl_chaos::test {

struct HistoryBuilder {
  std::vector<Event> events;

  static int64_t ns(int64_t ms) { return ms * 1'000'000; }

  Event& add(int64_t at_ms, EventType type, const std::string& process, Op op, uint64_t op_id,
             const std::string& lock, uint64_t token = 0) {
    Event e;
    e.time_ns = ns(at_ms);
    e.type = type;
    e.process = process;
    e.op = op;
    e.op_id = op_id;
    e.lock = lock;
    e.token = token;
    events.push_back(e);
    return events.back();
  }
  // An acquire invoked at `from`, granted `token` at `to`, trusted until `until`.
  void grant(const std::string& process, uint64_t op_id, const std::string& lock, uint64_t token,
             int64_t from, int64_t to, int64_t until) {
    add(from, EventType::invoke, process, Op::acquire, op_id, lock);
    add(to, EventType::ok, process, Op::acquire, op_id, lock, token).trusted_until_ns = ns(until);
  }
  void release(const std::string& process, uint64_t op_id, const std::string& lock, uint64_t token,
               int64_t from, int64_t to) {
    add(from, EventType::invoke, process, Op::release, op_id, lock, token);
    add(to, EventType::ok, process, Op::release, op_id, lock, token);
  }
  void refresh(const std::string& process, uint64_t op_id, const std::string& lock, uint64_t token,
               int64_t from, int64_t to, EventType outcome, int64_t until = 0) {
    add(from, EventType::invoke, process, Op::refresh, op_id, lock, token);
    add(to, outcome, process, Op::refresh, op_id, lock, token).trusted_until_ns =
        until ? ns(until) : 0;
  }
  void status(const std::string& process, uint64_t op_id, const std::string& lock, int64_t from,
              int64_t to, uint64_t fence, uint64_t holder_token) {
    add(from, EventType::invoke, process, Op::status, op_id, lock);
    auto& e = add(to, EventType::ok, process, Op::status, op_id, lock);
    e.fence = fence;
    e.holder_token = holder_token;
  }
  // A waiting acquire (op_id) told it is queued at `position`.
  void queued(const std::string& process, uint64_t op_id, const std::string& lock, int64_t at,
              uint64_t position) {
    add(at, EventType::queued, process, Op::acquire, op_id, lock).position = position;
  }
  void fault(int64_t from, int64_t to, const std::string& kind) {
    add(from, EventType::fault_start, "nemesis", Op::none, 0, "").fault = kind;
    add(to, EventType::fault_stop, "nemesis", Op::none, 0, "").fault = kind;
  }
};

} // namespace gdl_chaos::test
