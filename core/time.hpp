// Time types shared by the lock rules. The rules never read a clock
// themselves: callers pass `now`, so tests can drive time by hand.
#pragma once

#include <chrono>
#include <cstdint>

namespace godistlock::core {

using Clock = std::chrono::steady_clock; // monotonic; never the wall clock
using Instant = Clock::time_point;
using Millis = std::chrono::milliseconds;

inline uint64_t to_ms(Clock::duration d) {
  auto ms = std::chrono::duration_cast<Millis>(d).count();
  return ms < 0 ? 0 : static_cast<uint64_t>(ms);
}

} // namespace godistlock::core
