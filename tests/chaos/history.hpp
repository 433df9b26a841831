// The history of a chaos run: one event per line, JSON, in the order the
// events happened. Every timestamp is on the client lease clock
// (CLOCK_BOOTTIME, monotonic), so lease deadlines compare directly with it.
#pragma once

#include <cstdint>
#include <fstream>
#include <mutex>
#include <string>
#include <vector>

namespace gdl_chaos {

enum class EventType {
  invoke,      // an operation was started
  ok,          // ...and succeeded
  fail,        // ...and definitely did not happen (not acquired, not holder, rejected)
  unknown,     // ...and its outcome is unknown (unavailable, timeout)
  fault_start, // the nemesis started a fault (op = its kind)
  fault_stop,  // ...and healed it
  cs_enter,    // a client entered its critical section under a lease
  cs_exit,     // ...and left it
  lease_lost,  // a client stopped trusting its lease (deadline passed or refresh failed)
  queued,      // a waiting acquire was told it is queued (op_id = the acquire's, position)
  info,        // anything else worth reading (node could not rejoin, ...)
};

enum class Op { none, acquire, try_acquire, release, refresh, status, write };

const char* to_string(EventType type);
const char* to_string(Op op);

struct Event {
  int64_t time_ns = 0;
  EventType type = EventType::info;
  std::string process; // "c3", "probe", "nemesis"
  Op op = Op::none;
  uint64_t op_id = 0; // pairs an invoke with its completion, unique per process
  std::string lock;
  uint64_t token = 0;
  std::string server;
  int64_t trusted_until_ns = 0; // acquire/refresh ok: lease end by the client's clock
  uint64_t fence = 0;           // status ok: the highest token issued
  uint64_t holder_token = 0;    // status ok: the holder's token (0: free)
  uint64_t position = 0;        // queued: the place in the wait queue (1 = next; 0: not said)
  std::string fault;            // fault events: the kind; others: empty
  std::string detail;

  std::string to_json() const;
};

// A thread-safe append-only history, mirrored to a file as it grows.
class History {
public:
  // path empty: memory only.
  explicit History(const std::string& path = {});

  // Stamps the event with the current time (under the lock, so the file and
  // the memory copy are in time order) and appends it. Returns the stamp.
  int64_t record(Event event);
  // Appends an event stamped elsewhere (a client worker process, on the same
  // clock), keeping the memory copy in time order; the file gets it as it
  // comes, so its lines may be out of order by a pipe's latency.
  void record_at(Event event);
  std::vector<Event> snapshot() const;
  const std::string& path() const { return path_; }

private:
  mutable std::mutex mutex_;
  std::string path_;
  std::ofstream file_;
  std::vector<Event> events_;
};

int64_t now_ns();

std::string json_escape(const std::string& text);

} // namespace gdl_chaos
