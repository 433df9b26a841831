// Input limits of the lock service and the validators that enforce them.
// Every validator returns an empty string when the input is fine, otherwise
// a one-line message meant for the user.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace godistlock::core {

constexpr size_t max_name_bytes = 512;
constexpr size_t max_owner_bytes = 128;
constexpr uint64_t min_ttl_ms = 100;
constexpr uint64_t max_ttl_ms = 86'400'000;
constexpr uint64_t max_wait_ms = 3'600'000;
// Waiters beyond this are refused ("queue full"): the queue is part of the
// replicated value, so it must stay small.
constexpr size_t max_queue_length = 256;

std::string check_name(std::string_view name);
std::string check_owner(std::string_view owner);
std::string check_ttl_ms(uint64_t ttl_ms);
std::string check_wait_ms(uint64_t wait_ms);

// Parses "250ms", "30s", "5m", "1h"; a bare number means seconds.
// Returns nullopt for anything else (negative, empty, overflow, junk).
std::optional<uint64_t> parse_duration_ms(std::string_view text);

// Parses a fencing token: a decimal unsigned 64-bit integer, nothing else.
std::optional<uint64_t> parse_token(std::string_view text);

// Renders milliseconds the way parse_duration_ms reads them back.
std::string format_duration_ms(uint64_t ms);

} // namespace godistlock::core
