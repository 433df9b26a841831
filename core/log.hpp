// A tiny leveled logger for the node (CAF's own logging is compiled out in
// Debian's build). Lines go to stderr, whole, each stamped with RFC 3339 UTC
// wall-clock time for people and log shippers (the protocol never reads the
// wall clock), as text or as one JSON object per line.
#pragma once

#include <cstdint>
#include <sstream>
#include <string>
#include <string_view>

namespace godistlock::core {

enum class LogLevel { error = 0, warning = 1, info = 2, debug = 3 };
enum class LogFormat { text, json };

bool parse_log_level(std::string_view text, LogLevel& out);
bool parse_log_format(std::string_view text, LogFormat& out);
void set_log_level(LogLevel level);
void set_log_format(LogFormat format);
// One line as it is written (without the newline): for tests.
std::string format_log_line(LogFormat format, LogLevel level, const std::string& text,
                            int64_t unix_ms);
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
