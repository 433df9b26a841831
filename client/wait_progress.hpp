// The one-line progress of a waiting acquire or run on a terminal: place in
// the queue, who holds the lock, time waited, rewritten in place on stderr.
// The caller decides whether to show it (stderr a terminal, no --quiet).
#pragma once

#include "client/cli.hpp"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <iosfwd>
#include <mutex>
#include <string>
#include <thread>

namespace godistlock::client::cli {

class WaitProgress {
public:
  WaitProgress(const CliCommand& cmd, std::ostream& err);
  // Clears the line (the command's own messages follow on a clean line).
  ~WaitProgress();
  WaitProgress(const WaitProgress&) = delete;
  WaitProgress& operator=(const WaitProgress&) = delete;

  // A QUEUED answer's place (1 = next); any thread.
  void queued(uint64_t position) { position_.store(position); }
  // Redraws the line if it is due; the waiting thread calls it often.
  void show();

private:
  void watch_holder(); // its own thread: asks who holds the lock now and then

  const CliCommand& cmd_;
  std::ostream& err_;
  std::chrono::steady_clock::time_point started_ = std::chrono::steady_clock::now();
  std::chrono::steady_clock::time_point drawn_at_{};
  bool drawn_ = false;
  std::atomic<uint64_t> position_{0};
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
  std::string holder_; // "OWNER (token N)", "nobody", or empty: not known yet
  std::thread watcher_;
};

} // namespace godistlock::client::cli
