#include "core/log.hpp"

#include <atomic>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <mutex>

namespace godistlock::core {

namespace {

std::atomic<int> current_level{static_cast<int>(LogLevel::info)};
std::atomic<int> current_format{static_cast<int>(LogFormat::text)};
std::mutex output_mutex;

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

// 2026-12-06T07:35:12.345Z
std::string rfc3339_utc(int64_t unix_ms) {
  std::time_t seconds = static_cast<std::time_t>(unix_ms / 1000);
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  char date[32];
  std::strftime(date, sizeof date, "%Y-%m-%dT%H:%M:%S", &utc);
  char text[48];
  std::snprintf(text, sizeof text, "%s.%03dZ", date, static_cast<int>(unix_ms % 1000));
  return text;
}

std::string json_quoted(const std::string& text) {
  std::string out = "\"";
  for (char c : text) {
    auto byte = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (byte < 0x20 || byte == 0x7f) {
      char escaped[8];
      std::snprintf(escaped, sizeof escaped, "\\u%04x", byte);
      out += escaped;
    } else {
      out += c;
    }
  }
  return out + "\"";
}

} // namespace

bool parse_log_format(std::string_view text, LogFormat& out) {
  if (text == "text")
    out = LogFormat::text;
  else if (text == "json")
    out = LogFormat::json;
  else
    return false;
  return true;
}

void set_log_format(LogFormat format) {
  current_format = static_cast<int>(format);
}

std::string format_log_line(LogFormat format, LogLevel level, const std::string& text,
                            int64_t unix_ms) {
  if (format == LogFormat::json) {
    std::string name = level_name(level);
    for (auto& c : name)
      c = static_cast<char>(c - 'A' + 'a');
    return "{\"time\":\"" + rfc3339_utc(unix_ms) + "\",\"level\":\"" + name +
           "\",\"msg\":" + json_quoted(text) + "}";
  }
  char level_text[8];
  std::snprintf(level_text, sizeof level_text, "%-5s", level_name(level));
  return rfc3339_utc(unix_ms) + " " + level_text + " " + text;
}

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
  auto unix_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                     std::chrono::system_clock::now().time_since_epoch())
                     .count();
  auto line = format_log_line(static_cast<LogFormat>(current_format.load()), level, text,
                              static_cast<int64_t>(unix_ms));
  std::lock_guard<std::mutex> guard(output_mutex);
  std::fprintf(stderr, "%s\n", line.c_str());
  std::fflush(stderr);
}

} // namespace godistlock::core
