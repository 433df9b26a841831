#include "core/log.hpp"

#include "core/time.hpp"

#include <atomic>
#include <cstdio>
#include <mutex>

namespace godistlock::core {

namespace {

std::atomic<int> current_level{static_cast<int>(LogLevel::info)};
std::mutex output_mutex;
const Instant process_start = Clock::now();

const char* level_name(LogLevel level) {
  switch (level) {
  case LogLevel::error:
    return "ERROR";
  case LogLevel::warning:
    return "WARN";
  case LogLevel::info:
    return "INFO";
  default:
    return "DEBUG";
  }
}

} // namespace

bool parse_log_level(std::string_view text, LogLevel& out) {
  if (text == "error")
    out = LogLevel::error;
  else if (text == "warning" || text == "warn")
    out = LogLevel::warning;
  else if (text == "info")
    out = LogLevel::info;
  else if (text == "debug")
    out = LogLevel::debug;
  else
    return false;
  return true;
}

void set_log_level(LogLevel level) {
  current_level = static_cast<int>(level);
}

bool log_enabled(LogLevel level) {
  return static_cast<int>(level) <= current_level.load();
}

void log_line(LogLevel level, const std::string& text) {
  auto ms = to_ms(Clock::now() - process_start);
  std::lock_guard<std::mutex> guard(output_mutex);
  std::fprintf(stderr, "[%8llu.%03llu] %-5s %s\n", static_cast<unsigned long long>(ms / 1000),
               static_cast<unsigned long long>(ms % 1000), level_name(level), text.c_str());
  std::fflush(stderr);
}

} // namespace godistlock::core
