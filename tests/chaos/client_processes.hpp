// The client worker processes of a chaos run (client_worker.hpp): started
// and stopped by PID from the main thread, each with a reader thread that
// records the events it reports in the History and answers its writes with
// the FencedRegister. Every incarnation has a name of its own ("w1-1", then
// "w1-2" after a restart), so op ids never collide in the history.
#pragma once

#include "fenced_register.hpp"
#include "history.hpp"
#include "process.hpp"

#include "net/endpoint.hpp"

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <sys/types.h>
#include <thread>
#include <vector>

namespace gdl_chaos {

struct ClientProcessOptions {
  std::string binary; // godistlock-chaos itself
  std::string log_dir;
  std::vector<godistlock::net::Endpoint> servers;
  uint64_t seed = 1;
  std::chrono::milliseconds ttl{2000};
  size_t hot_locks = 3;
  // The clock rate of a worker that is not being skewed (1.0; the
  // slow-client-clock mutation sets 0.5).
  double base_rate = 1.0;
};

// What the nemesis needs to know of a worker that holds a lock.
struct WorkerHolding {
  size_t index = 0;
  std::string name;
  pid_t pid = -1;
  std::string lock;
  uint64_t token = 0;
};

class ClientProcesses {
public:
  ClientProcesses(ClientProcessOptions options, History& history, FencedRegister& store);
  ~ClientProcesses(); // stop_all()
  ClientProcesses(const ClientProcesses&) = delete;
  ClientProcesses& operator=(const ClientProcesses&) = delete;

  // Starts `n` workers at the base rate. Call from the main thread (the
  // children get SIGKILL when the thread that forked them ends).
  void start(size_t n);
  size_t size() const { return slots_.size(); }

  // Waits at most `limit` for a running worker that is inside its critical
  // section (it reported cs-enter and not yet cs-exit).
  std::optional<WorkerHolding> wait_for_holder(std::chrono::milliseconds limit);
  // SIGSTOP / SIGCONT of worker `index`.
  void pause(size_t index);
  void resume(size_t index);
  // Stops worker `index` (stop()) and starts its next incarnation at `rate`.
  // Returns the new name; empty if it could not start (logged).
  std::string restart(size_t index, double rate);
  std::string name(size_t index) const;
  pid_t pid(size_t index) const;
  // SIGCONT if stopped, SIGTERM, up to 5 s for an exit, then SIGKILL; joins
  // its reader. Bounded.
  void stop(size_t index);
  void stop_all();

private:
  struct Worker;
  std::unique_ptr<Worker> spawn(size_t index, double rate);
  void read_loop(Worker& w);
  void handle_line(Worker& w, const std::string& line);

  ClientProcessOptions options_;
  History& history_;
  FencedRegister& store_;
  std::vector<std::unique_ptr<Worker>> slots_;
  std::vector<size_t> incarnations_;

  mutable std::mutex mutex_; // guards the holding state of every worker
  std::condition_variable changed_;
};

} // namespace gdl_chaos
