// A tiny leveled logger for the node (CAF's own logging is compiled out in
// Debian's build). Lines go to stderr, whole, with a monotonic timestamp.
#pragma once

#include <sstream>
#include <string>
#include <string_view>

namespace godistlock::core {

enum class LogLevel { error = 0, warning = 1, info = 2, debug = 3 };

bool parse_log_level(std::string_view text, LogLevel& out);
void set_log_level(LogLevel level);
bool log_enabled(LogLevel level);
void log_line(LogLevel level, const std::string& text);

} // namespace godistlock::core

#define GDL_LOG(level, expr)                                                                       \
  do {                                                                                             \
    if (::godistlock::core::log_enabled(level)) {                                                  \
      std::ostringstream gdl_log_stream;                                                           \
      gdl_log_stream << expr;                                                                      \
      ::godistlock::core::log_line(level, gdl_log_stream.str());                                   \
    }                                                                                              \
  } while (false)
#define GDL_ERROR(expr) GDL_LOG(::godistlock::core::LogLevel::error, expr)
#define GDL_WARN(expr) GDL_LOG(::godistlock::core::LogLevel::warning, expr)
#define GDL_INFO(expr) GDL_LOG(::godistlock::core::LogLevel::info, expr)
#define GDL_DEBUG(expr) GDL_LOG(::godistlock::core::LogLevel::debug, expr)
