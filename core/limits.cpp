#include "core/limits.hpp"

#include <charconv>

namespace godistlock::core {

namespace {

// Strict UTF-8 check (no overlongs, no surrogates, max U+10FFFF) that also
// rejects control characters, which would break logs and terminals.
bool is_printable_utf8(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      if (c < 0x20 || c == 0x7f)
        return false;
      ++i;
      continue;
    }
    size_t len;
    uint32_t cp;
    if ((c & 0xe0) == 0xc0) {
      len = 2;
      cp = c & 0x1f;
    } else if ((c & 0xf0) == 0xe0) {
      len = 3;
      cp = c & 0x0f;
    } else if ((c & 0xf8) == 0xf0) {
      len = 4;
      cp = c & 0x07;
    } else {
      return false;
    }
    if (i + len > s.size())
      return false;
    for (size_t k = 1; k < len; ++k) {
      auto cc = static_cast<unsigned char>(s[i + k]);
      if ((cc & 0xc0) != 0x80)
        return false;
      cp = (cp << 6) | (cc & 0x3f);
    }
    static constexpr uint32_t min_for_len[] = {0, 0, 0x80, 0x800, 0x10000};
    if (cp < min_for_len[len] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
      return false;
    if (cp >= 0x80 && cp < 0xa0) // C1 control characters
      return false;
    i += len;
  }
  return true;
}

std::string check_text(std::string_view what, std::string_view s, size_t max_bytes) {
  if (s.empty())
    return std::string(what) + " must not be empty";
  if (s.size() > max_bytes)
    return std::string(what) + " is " + std::to_string(s.size()) + " bytes; the limit is " +
           std::to_string(max_bytes);
  if (!is_printable_utf8(s))
    return std::string(what) + " must be UTF-8 without control characters";
  return {};
}

} // namespace

std::string check_name(std::string_view name) {
  return check_text("lock name", name, max_name_bytes);
}

std::string check_owner(std::string_view owner) {
  return check_text("owner id", owner, max_owner_bytes);
}

std::string check_ttl_ms(uint64_t ttl_ms) {
  if (ttl_ms < min_ttl_ms || ttl_ms > max_ttl_ms)
    return "ttl must be between 100ms and 24h, got " + format_duration_ms(ttl_ms);
  return {};
}

std::string check_wait_ms(uint64_t wait_ms) {
  if (wait_ms > max_wait_ms)
    return "wait must be between 0 and 1h, got " + format_duration_ms(wait_ms);
  return {};
}

std::optional<uint64_t> parse_duration_ms(std::string_view text) {
  size_t digits = 0;
  while (digits < text.size() && text[digits] >= '0' && text[digits] <= '9')
    ++digits;
  if (digits == 0 || digits > 12) // 12 digits of hours still fit in 64 bits
    return std::nullopt;
  uint64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + digits, value);
  if (ec != std::errc{} || end != text.data() + digits)
    return std::nullopt;
  auto unit = text.substr(digits);
  uint64_t factor;
  if (unit.empty() || unit == "s")
    factor = 1000;
  else if (unit == "ms")
    factor = 1;
  else if (unit == "m")
    factor = 60'000;
  else if (unit == "h")
    factor = 3'600'000;
  else
    return std::nullopt;
  return value * factor;
}

std::optional<uint64_t> parse_token(std::string_view text) {
  if (text.empty() || text.size() > 20)
    return std::nullopt;
  for (char c : text)
    if (c < '0' || c > '9')
      return std::nullopt;
  uint64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc{} || end != text.data() + text.size())
    return std::nullopt;
  return value;
}

std::string format_duration_ms(uint64_t ms) {
  if (ms != 0 && ms % 3'600'000 == 0)
    return std::to_string(ms / 3'600'000) + "h";
  if (ms != 0 && ms % 60'000 == 0)
    return std::to_string(ms / 60'000) + "m";
  if (ms % 1000 == 0)
    return std::to_string(ms / 1000) + "s";
  return std::to_string(ms) + "ms";
}

} // namespace godistlock::core
