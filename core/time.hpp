// Time types shared by the lock rules. The rules never read a clock
// themselves: callers pass `now`, so tests can drive time by hand.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>

namespace godistlock::core {

// The monotonic clock of a node; never the wall clock. It is steady_clock,
// except that the fault-injection harness may make it run at a rate other
// than 1 (--test-clock-rate) to model clock-rate drift between nodes.
struct Clock {
  using duration = std::chrono::steady_clock::duration;
  using rep = duration::rep;
  using period = duration::period;
  using time_point = std::chrono::time_point<Clock>;
  static constexpr bool is_steady = true;

  static time_point now() {
    auto real = std::chrono::steady_clock::now().time_since_epoch();
    double rate = test_rate().load(std::memory_order_relaxed);
    if (rate == 1.0)
      return time_point(real);
    return time_point(duration(static_cast<rep>(static_cast<double>(real.count()) * rate)));
  }
  // Test only; set once at start, before any time is read.
  static std::atomic<double>& test_rate() {
    static std::atomic<double> rate{1.0};
    return rate;
  }
};

using Instant = Clock::time_point;
using Millis = std::chrono::milliseconds;

inline uint64_t to_ms(Clock::duration d) {
  auto ms = std::chrono::duration_cast<Millis>(d).count();
  return ms < 0 ? 0 : static_cast<uint64_t>(ms);
}

} // namespace godistlock::core
