// Input limits (core/limits.hpp) and request validation (messages/validate.hpp).
#include "core/limits.hpp"
#include "messages/validate.hpp"
#include "printers.hpp"

#include <boost/test/unit_test.hpp>

#include <cstdint>
#include <limits>
#include <random>
#include <string>
#include <vector>

using namespace godistlock;
using core::check_name;
using core::check_owner;
using core::format_duration_ms;
using core::parse_duration_ms;
using core::parse_token;

namespace {

using Opt = std::optional<uint64_t>;

// Inputs that every text check must refuse, whatever the size limit.
const std::vector<std::string>& bad_texts() {
  static const std::vector<std::string> texts = {
      std::string("a\0b", 3),     // NUL
      "a\tb",                     // tab
      "a\nb",                     // newline
      "a\rb",                     // carriage return
      "\x1b[31mred",              // escape (terminal injection)
      "\x1f",                     // last C0 control
      "a\x7f",                    // DEL
      "\xc2\x80",                 // U+0080, first C1 control
      "\xc2\x85",                 // U+0085 NEL
      "\xc2\x9f",                 // U+009F, last C1 control
      "\x80",                     // lone continuation byte
      "\xbf",                     // lone continuation byte
      "\xc3",                     // truncated 2-byte sequence
      "ab\xe2\x82",               // truncated 3-byte sequence at the end
      "\xf0\x9f\x98",             // truncated 4-byte sequence
      "\xc3(",                    // bad continuation byte
      "\xe2(\xa1",                // bad continuation byte in 3-byte sequence
      "\xc0\x80",                 // overlong NUL
      "\xc1\xbf",                 // overlong
      "\xe0\x80\xaf",             // overlong '/'
      "\xf0\x80\x80\xaf",         // overlong '/'
      "\xed\xa0\x80",             // U+D800 surrogate
      "\xed\xbf\xbf",             // U+DFFF surrogate
      "\xf4\x90\x80\x80",         // U+110000, above the Unicode range
      "\xf5\x80\x80\x80",         // lead byte beyond U+10FFFF
      "\xf8\x88\x80\x80\x80",     // 5-byte form
      "\xfc\x84\x80\x80\x80\x80", // 6-byte form
      "\xfe",                     // never valid in UTF-8
      "\xff",                     // never valid in UTF-8
      "ok\xff",                   // bad byte after good text
  };
  return texts;
}

const std::vector<std::string>& good_texts() {
  static const std::vector<std::string> texts = {
      "a",
      " ",                        // space is printable
      "~",                        // last printable ASCII
      "orders/42",                // typical name
      "x y-z_1.2:3@host",         // punctuation
      "\xc2\xa0",                 // U+00A0, first after the C1 block
      "\xc3\xa9t\xc3\xa9",        // "ete" with accents
      "\xe2\x82\xac",             // euro sign
      "\xed\x9f\xbf",             // U+D7FF, just below the surrogates
      "\xee\x80\x80",             // U+E000, just above the surrogates
      "\xef\xbf\xbd",             // U+FFFD replacement character
      "\xf0\x9f\x94\x92",         // lock emoji (4 bytes)
      "\xf4\x8f\xbf\xbf",         // U+10FFFF, the last code point
      "\xe6\x97\xa5\xe6\x9c\xac", // CJK
  };
  return texts;
}

} // namespace

BOOST_AUTO_TEST_SUITE(limits)

// ---------------------------------------------------------------- names and owners

BOOST_AUTO_TEST_CASE(name_accepts_printable_utf8) {
  for (auto& t : good_texts()) {
    BOOST_TEST_CONTEXT("text " << t) {
      BOOST_TEST(check_name(t) == "");
      BOOST_TEST(check_owner(t) == "");
    }
  }
}

BOOST_AUTO_TEST_CASE(name_and_owner_reject_control_chars_and_bad_utf8) {
  for (size_t i = 0; i < bad_texts().size(); ++i) {
    auto& t = bad_texts()[i];
    BOOST_TEST_CONTEXT("bad text #" << i) {
      auto e = check_name(t);
      BOOST_TEST(e == "lock name must be UTF-8 without control characters");
      auto o = check_owner(t);
      BOOST_TEST(o == "owner id must be UTF-8 without control characters");
      // Bad bytes embedded in otherwise good text are caught too.
      BOOST_TEST(check_name("good-" + t + "-good") != "");
    }
  }
}

BOOST_AUTO_TEST_CASE(every_ascii_control_char_is_rejected) {
  for (int c = 0; c < 0x20; ++c) {
    BOOST_TEST_CONTEXT("char " << c) {
      BOOST_TEST(check_name(std::string("lock") + static_cast<char>(c)) != "");
      BOOST_TEST(check_owner(std::string(1, static_cast<char>(c))) != "");
    }
  }
  BOOST_TEST(check_name("\x7f") != "");
  for (int c = 0x20; c < 0x7f; ++c)
    BOOST_TEST(check_name(std::string(1, static_cast<char>(c))) == "");
}

BOOST_AUTO_TEST_CASE(every_c1_control_char_is_rejected) {
  for (int cp = 0x80; cp < 0xa0; ++cp) {
    std::string s;
    s.push_back(static_cast<char>(0xc0 | (cp >> 6)));
    s.push_back(static_cast<char>(0x80 | (cp & 0x3f)));
    BOOST_TEST_CONTEXT("code point " << cp) {
      BOOST_TEST(check_name(s) != "");
    }
  }
}

BOOST_AUTO_TEST_CASE(empty_name_and_owner_are_rejected) {
  BOOST_TEST(check_name("") == "lock name must not be empty");
  BOOST_TEST(check_owner("") == "owner id must not be empty");
}

BOOST_AUTO_TEST_CASE(name_size_limit_is_512_bytes) {
  BOOST_TEST(core::max_name_bytes == 512u);
  BOOST_TEST(check_name(std::string(1, 'n')) == "");
  BOOST_TEST(check_name(std::string(511, 'n')) == "");
  BOOST_TEST(check_name(std::string(512, 'n')) == "");
  BOOST_TEST(check_name(std::string(513, 'n')) == "lock name is 513 bytes; the limit is 512");
  BOOST_TEST(check_name(std::string(100000, 'n')) == "lock name is 100000 bytes; the limit is 512");
}

BOOST_AUTO_TEST_CASE(owner_size_limit_is_128_bytes) {
  BOOST_TEST(core::max_owner_bytes == 128u);
  BOOST_TEST(check_owner(std::string(128, 'o')) == "");
  BOOST_TEST(check_owner(std::string(129, 'o')) == "owner id is 129 bytes; the limit is 128");
}

BOOST_AUTO_TEST_CASE(size_limits_count_bytes_not_characters) {
  const std::string euro = "\xe2\x82\xac"; // 3 bytes, 1 character
  std::string owner;
  for (int i = 0; i < 42; ++i)
    owner += euro; // 126 bytes
  BOOST_TEST(check_owner(owner + "ab") == "");
  BOOST_TEST(check_owner(owner + euro) == "owner id is 129 bytes; the limit is 128");
  std::string name;
  for (int i = 0; i < 128; ++i)
    name += "\xf0\x9f\x94\x92"; // 512 bytes
  BOOST_TEST(check_name(name) == "");
  BOOST_TEST(check_name(name + "x") != "");
}

BOOST_AUTO_TEST_CASE(size_is_checked_before_encoding) {
  // Oversized garbage reports the size, so the user learns the real limit.
  BOOST_TEST(check_owner(std::string(200, '\x01')) == "owner id is 200 bytes; the limit is 128");
}

BOOST_AUTO_TEST_CASE(random_bytes_never_crash_and_match_a_reference) {
  // Reference decoder: accepts exactly printable scalar values.
  auto reference_ok = [](const std::string& s) {
    size_t i = 0;
    while (i < s.size()) {
      auto c = static_cast<unsigned char>(s[i]);
      uint32_t cp;
      size_t len;
      if (c < 0x80) {
        cp = c;
        len = 1;
      } else if (c >= 0xc2 && c <= 0xdf) {
        cp = c & 0x1f;
        len = 2;
      } else if (c >= 0xe0 && c <= 0xef) {
        cp = c & 0x0f;
        len = 3;
      } else if (c >= 0xf0 && c <= 0xf4) {
        cp = c & 0x07;
        len = 4;
      } else {
        return false;
      }
      if (i + len > s.size())
        return false;
      for (size_t k = 1; k < len; ++k) {
        auto cc = static_cast<unsigned char>(s[i + k]);
        if (cc < 0x80 || cc > 0xbf)
          return false;
        cp = (cp << 6) | (cc & 0x3f);
      }
      if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10ffff)))
        return false;
      if (cp >= 0xd800 && cp <= 0xdfff)
        return false;
      if (cp < 0x20 || (cp >= 0x7f && cp < 0xa0))
        return false;
      i += len;
    }
    return true;
  };
  std::mt19937 rng(12345);
  std::uniform_int_distribution<int> len(1, 8);
  std::uniform_int_distribution<int> byte(0, 255);
  std::uniform_int_distribution<int> hi(0x80, 0xff);
  int accepted = 0;
  for (int n = 0; n < 50000; ++n) {
    std::string s;
    int l = len(rng);
    for (int i = 0; i < l; ++i)
      s.push_back(static_cast<char>((n % 2) ? hi(rng) : byte(rng)));
    bool expect = reference_ok(s);
    accepted += expect;
    BOOST_TEST_CONTEXT("iteration " << n) {
      BOOST_TEST((check_name(s) == "") == expect);
    }
  }
  BOOST_TEST(accepted > 0); // the generator does reach valid text
}

// ---------------------------------------------------------------- ttl and wait

BOOST_AUTO_TEST_CASE(ttl_must_be_between_100ms_and_24h) {
  BOOST_TEST(core::check_ttl_ms(0) == "ttl must be between 100ms and 24h, got 0s");
  BOOST_TEST(core::check_ttl_ms(99) == "ttl must be between 100ms and 24h, got 99ms");
  BOOST_TEST(core::check_ttl_ms(100) == "");
  BOOST_TEST(core::check_ttl_ms(30'000) == "");
  BOOST_TEST(core::check_ttl_ms(3'600'000) == "");
  BOOST_TEST(core::check_ttl_ms(7'200'000) == "");
  BOOST_TEST(core::check_ttl_ms(86'400'000) == "");
  BOOST_TEST(core::check_ttl_ms(86'400'001) == "ttl must be between 100ms and 24h, got 86400001ms");
  BOOST_TEST(core::check_ttl_ms(90'000'000) == "ttl must be between 100ms and 24h, got 25h");
  BOOST_TEST(core::check_ttl_ms(std::numeric_limits<uint64_t>::max()) != "");
}

BOOST_AUTO_TEST_CASE(wait_must_be_between_0_and_1h) {
  BOOST_TEST(core::check_wait_ms(0) == "");
  BOOST_TEST(core::check_wait_ms(1) == "");
  BOOST_TEST(core::check_wait_ms(3'600'000) == "");
  BOOST_TEST(core::check_wait_ms(3'600'001) == "wait must be between 0 and 1h, got 3600001ms");
  BOOST_TEST(core::check_wait_ms(std::numeric_limits<uint64_t>::max()) != "");
}

// ---------------------------------------------------------------- durations

BOOST_AUTO_TEST_CASE(parse_duration_units) {
  BOOST_TEST(parse_duration_ms("250ms") == Opt(250));
  BOOST_TEST(parse_duration_ms("30s") == Opt(30'000));
  BOOST_TEST(parse_duration_ms("5m") == Opt(300'000));
  BOOST_TEST(parse_duration_ms("1h") == Opt(3'600'000));
  BOOST_TEST(parse_duration_ms("0ms") == Opt(0));
  BOOST_TEST(parse_duration_ms("0") == Opt(0));
  BOOST_TEST(parse_duration_ms("0h") == Opt(0));
  BOOST_TEST(parse_duration_ms("007s") == Opt(7'000));
}

BOOST_AUTO_TEST_CASE(parse_duration_bare_number_is_seconds) {
  BOOST_TEST(parse_duration_ms("1") == Opt(1'000));
  BOOST_TEST(parse_duration_ms("30") == Opt(30'000));
  BOOST_TEST(parse_duration_ms("3600") == Opt(3'600'000));
}

BOOST_AUTO_TEST_CASE(parse_duration_rejects_junk) {
  for (const char* text :
       {"",    "s",    "ms",   "h",    "-1",    "-5s",          "+5s",  " 5s",  "5s ",
        "5 s", "1.5s", "1,5s", "1e3",  "5S",    "5MS",          "5H",   "5sec", "5min",
        "5hr", "5us",  "5ns",  "5d",   "5ms5",  "5s5",          "0x10", "five", "5\n",
        "\t5", "5mss", "5hh",  "5m s", "1_000", "\xef\xbc\x95s" /* fullwidth 5 */}) {
    BOOST_TEST_CONTEXT("text '" << text << "'") {
      BOOST_TEST(parse_duration_ms(text) == Opt());
    }
  }
  // Embedded NUL: the view's length counts, not the C string.
  BOOST_TEST(parse_duration_ms(std::string_view("5s\0", 3)) == Opt());
  BOOST_TEST(parse_duration_ms(std::string_view("5\0s", 3)) == Opt());
}

BOOST_AUTO_TEST_CASE(parse_duration_rejects_overflow) {
  // 12 digits are accepted in every unit (they fit in 64 bits)...
  BOOST_TEST(parse_duration_ms("999999999999h") == Opt(999'999'999'999ull * 3'600'000ull));
  BOOST_TEST(parse_duration_ms("999999999999ms") == Opt(999'999'999'999ull));
  // ...more are refused instead of wrapping around.
  for (const char* text :
       {"9999999999999", "9999999999999ms", "9999999999999h", "18446744073709551615",
        "18446744073709551616ms", "99999999999999999999999999999999s"}) {
    BOOST_TEST_CONTEXT("text " << text) {
      BOOST_TEST(parse_duration_ms(text) == Opt());
    }
  }
}

BOOST_AUTO_TEST_CASE(parse_duration_never_wraps) {
  // For every accepted input the value equals the exact product.
  std::mt19937_64 rng(7);
  const std::pair<const char*, uint64_t> units[] = {
      {"", 1000}, {"ms", 1}, {"s", 1000}, {"m", 60'000}, {"h", 3'600'000}};
  for (int n = 0; n < 20000; ++n) {
    int digits = 1 + static_cast<int>(rng() % 14);
    std::string num;
    for (int i = 0; i < digits; ++i)
      num.push_back(static_cast<char>('0' + rng() % 10));
    auto& [unit, factor] = units[rng() % 5];
    auto got = parse_duration_ms(num + unit);
    BOOST_TEST_CONTEXT("text " << num << unit) {
      if (digits > 12) {
        BOOST_TEST(got == Opt());
      } else {
        uint64_t v = std::stoull(num);
        BOOST_TEST(got == Opt(v * factor));
        BOOST_TEST(v * factor / factor == v); // no wrap possible
      }
    }
  }
}

BOOST_AUTO_TEST_CASE(format_duration_picks_the_largest_exact_unit) {
  BOOST_TEST(format_duration_ms(0) == "0s");
  BOOST_TEST(format_duration_ms(1) == "1ms");
  BOOST_TEST(format_duration_ms(250) == "250ms");
  BOOST_TEST(format_duration_ms(999) == "999ms");
  BOOST_TEST(format_duration_ms(1000) == "1s");
  BOOST_TEST(format_duration_ms(1500) == "1500ms");
  BOOST_TEST(format_duration_ms(30'000) == "30s");
  BOOST_TEST(format_duration_ms(59'000) == "59s");
  BOOST_TEST(format_duration_ms(60'000) == "1m");
  BOOST_TEST(format_duration_ms(90'000) == "90s");
  BOOST_TEST(format_duration_ms(300'000) == "5m");
  BOOST_TEST(format_duration_ms(3'600'000) == "1h");
  BOOST_TEST(format_duration_ms(5'400'000) == "90m");
  BOOST_TEST(format_duration_ms(7'200'000) == "2h");
  BOOST_TEST(format_duration_ms(3'600'001) == "3600001ms");
}

BOOST_AUTO_TEST_CASE(format_then_parse_round_trips) {
  std::mt19937_64 rng(99);
  std::vector<uint64_t> values = {0,         1,         99,        100,        999,
                                  1000,      1001,      59'999,    60'000,     60'001,
                                  3'599'999, 3'600'000, 3'600'001, 86'400'000, 999'999'999'999ull};
  for (int i = 0; i < 20000; ++i) {
    switch (i % 4) {
    case 0:
      values.push_back(rng() % 1'000'000'000'000ull); // any ms below 10^12
      break;
    case 1:
      values.push_back((rng() % 1'000'000) * 1000);
      break;
    case 2:
      values.push_back((rng() % 1'000'000) * 60'000);
      break;
    default:
      values.push_back((rng() % 1'000'000) * 3'600'000);
    }
  }
  for (auto v : values) {
    auto text = format_duration_ms(v);
    BOOST_TEST_CONTEXT("value " << v << " text " << text) {
      BOOST_TEST(parse_duration_ms(text) == Opt(v));
    }
  }
}

// ---------------------------------------------------------------- tokens

BOOST_AUTO_TEST_CASE(parse_token_accepts_decimal_u64) {
  BOOST_TEST(parse_token("0") == Opt(0));
  BOOST_TEST(parse_token("1") == Opt(1));
  BOOST_TEST(parse_token("42") == Opt(42));
  BOOST_TEST(parse_token("00042") == Opt(42));
  BOOST_TEST(parse_token("18446744073709551615") == Opt(std::numeric_limits<uint64_t>::max()));
}

BOOST_AUTO_TEST_CASE(parse_token_rejects_everything_else) {
  for (const char* text : {"", "-1", "+1", " 1", "1 ", "1.0", "1e3", "0x1f", "abc", "12a", "a12",
                           "1,000", "18446744073709551616", "99999999999999999999",
                           "000000000000000000001", "184467440737095516150", "\xef\xbc\x91"}) {
    BOOST_TEST_CONTEXT("text '" << text << "'") {
      BOOST_TEST(parse_token(text) == Opt());
    }
  }
  BOOST_TEST(parse_token(std::string_view("1\0", 2)) == Opt());
}

BOOST_AUTO_TEST_CASE(parse_token_round_trips_random_values) {
  std::mt19937_64 rng(3);
  for (int i = 0; i < 10000; ++i) {
    uint64_t v = rng() >> (rng() % 64);
    BOOST_TEST(parse_token(std::to_string(v)) == Opt(v));
  }
}

BOOST_AUTO_TEST_SUITE_END()

// ---------------------------------------------------------------- request validation

BOOST_AUTO_TEST_SUITE(validate_request)

namespace {

using messages::validate;

wire::Request base(const std::string& client = "client-1") {
  wire::Request r;
  r.set_client_id(client);
  r.set_request_id(7);
  return r;
}

wire::Request acquire(const std::string& name = "orders", const std::string& owner = "worker",
                      uint64_t ttl = 30'000, uint64_t wait = 0) {
  auto r = base();
  auto& a = *r.mutable_acquire();
  a.set_name(name);
  a.set_owner(owner);
  a.set_ttl_ms(ttl);
  a.set_wait_ms(wait);
  return r;
}

wire::Request release(const std::string& name = "orders", uint64_t token = 1) {
  auto r = base();
  r.mutable_release()->set_name(name);
  r.mutable_release()->set_token(token);
  return r;
}

wire::Request refresh(const std::string& name = "orders", uint64_t token = 1,
                      uint64_t ttl = 30'000) {
  auto r = base();
  r.mutable_refresh()->set_name(name);
  r.mutable_refresh()->set_token(token);
  r.mutable_refresh()->set_ttl_ms(ttl);
  return r;
}

wire::Request status(const std::string& name = "orders") {
  auto r = base();
  r.mutable_status()->set_name(name);
  return r;
}

wire::Request check(const std::string& name = "orders", uint64_t token = 1) {
  auto r = base();
  r.mutable_check()->set_name(name);
  r.mutable_check()->set_token(token);
  return r;
}

wire::Request cancel(const std::string& name = "orders", const std::string& owner = "worker") {
  auto r = base();
  r.mutable_cancel()->set_name(name);
  r.mutable_cancel()->set_owner(owner);
  return r;
}

wire::Request stats() {
  auto r = base();
  r.mutable_stats();
  return r;
}

} // namespace

BOOST_AUTO_TEST_CASE(well_formed_requests_pass) {
  BOOST_TEST(validate(acquire()) == "");
  BOOST_TEST(validate(acquire("orders", "worker", 100, 0)) == "");
  BOOST_TEST(validate(acquire("orders", "worker", 3'600'000, 3'600'000)) == "");
  BOOST_TEST(validate(release()) == "");
  BOOST_TEST(validate(refresh()) == "");
  BOOST_TEST(validate(status()) == "");
  BOOST_TEST(validate(check()) == "");
  BOOST_TEST(validate(cancel()) == "");
  BOOST_TEST(validate(stats()) == "");
}

BOOST_AUTO_TEST_CASE(client_id_must_be_1_to_128_bytes) {
  for (auto make :
       {+[] { return acquire(); }, +[] { return stats(); }, +[] { return release(); }}) {
    auto r = make();
    r.set_client_id("");
    BOOST_TEST(validate(r) == "client id must be 1-128 bytes");
    r.set_client_id(std::string(128, 'c'));
    BOOST_TEST(validate(r) == "");
    r.set_client_id(std::string(129, 'c'));
    BOOST_TEST(validate(r) == "client id must be 1-128 bytes");
  }
}

BOOST_AUTO_TEST_CASE(missing_operation_is_rejected) {
  BOOST_TEST(validate(base()) == "unknown or missing operation");
  wire::Request empty;
  BOOST_TEST(validate(empty) == "client id must be 1-128 bytes");
}

BOOST_AUTO_TEST_CASE(every_named_operation_checks_the_name) {
  std::vector<wire::Request> requests = {acquire(""), release(""), refresh(""),
                                         status(""),  check(""),   cancel("")};
  for (auto& r : requests)
    BOOST_TEST(validate(r) == "lock name must not be empty");
  requests = {acquire(std::string(513, 'n')), release(std::string(513, 'n')),
              refresh(std::string(513, 'n')), status(std::string(513, 'n')),
              check(std::string(513, 'n')),   cancel(std::string(513, 'n'))};
  for (auto& r : requests)
    BOOST_TEST(validate(r) == "lock name is 513 bytes; the limit is 512");
  requests = {acquire("a\nb"), release("a\nb"), refresh("a\nb"),
              status("a\nb"),  check("a\nb"),   cancel("a\nb")};
  for (auto& r : requests)
    BOOST_TEST(validate(r) == "lock name must be UTF-8 without control characters");
  requests = {acquire(std::string(512, 'n')), release(std::string(512, 'n')),
              refresh(std::string(512, 'n')), status(std::string(512, 'n')),
              check(std::string(512, 'n')),   cancel(std::string(512, 'n'))};
  for (auto& r : requests)
    BOOST_TEST(validate(r) == "");
}

BOOST_AUTO_TEST_CASE(stats_needs_no_name) {
  BOOST_TEST(validate(stats()) == "");
}

BOOST_AUTO_TEST_CASE(acquire_checks_owner_ttl_and_wait) {
  BOOST_TEST(validate(acquire("orders", "")) == "owner id must not be empty");
  BOOST_TEST(validate(acquire("orders", std::string(129, 'o'))) ==
             "owner id is 129 bytes; the limit is 128");
  BOOST_TEST(validate(acquire("orders", "bad\x01")) ==
             "owner id must be UTF-8 without control characters");
  BOOST_TEST(validate(acquire("orders", "w", 0)) == "ttl must be between 100ms and 24h, got 0s");
  BOOST_TEST(validate(acquire("orders", "w", 99)) == "ttl must be between 100ms and 24h, got 99ms");
  BOOST_TEST(validate(acquire("orders", "w", 86'400'001)) != "");
  BOOST_TEST(validate(acquire("orders", "w", 1000, 3'600'001)) ==
             "wait must be between 0 and 1h, got 3600001ms");
  // The first problem wins: the owner is reported before the ttl.
  BOOST_TEST(validate(acquire("orders", "", 0, 3'600'001)) == "owner id must not be empty");
  BOOST_TEST(validate(acquire("orders", "w", 0, 3'600'001)) ==
             "ttl must be between 100ms and 24h, got 0s");
  // ...and the name before the owner.
  BOOST_TEST(validate(acquire("", "")) == "lock name must not be empty");
}

BOOST_AUTO_TEST_CASE(tokens_must_be_positive) {
  BOOST_TEST(validate(release("orders", 0)) == "token must be a positive integer");
  BOOST_TEST(validate(refresh("orders", 0)) == "token must be a positive integer");
  BOOST_TEST(validate(check("orders", 0)) == "token must be a positive integer");
  BOOST_TEST(validate(release("orders", std::numeric_limits<uint64_t>::max())) == "");
  BOOST_TEST(validate(check("orders", 1)) == "");
}

BOOST_AUTO_TEST_CASE(refresh_checks_ttl) {
  BOOST_TEST(validate(refresh("orders", 5, 99)) == "ttl must be between 100ms and 24h, got 99ms");
  BOOST_TEST(validate(refresh("orders", 5, 86'400'001)) != "");
  BOOST_TEST(validate(refresh("orders", 5, 100)) == "");
  BOOST_TEST(validate(refresh("orders", 0, 99)) == "token must be a positive integer");
}

BOOST_AUTO_TEST_CASE(cancel_checks_owner) {
  BOOST_TEST(validate(cancel("orders", "")) == "owner id must not be empty");
  BOOST_TEST(validate(cancel("orders", "\xff")) ==
             "owner id must be UTF-8 without control characters");
  BOOST_TEST(validate(cancel("orders", std::string(128, 'o'))) == "");
}

BOOST_AUTO_TEST_CASE(lock_name_of_each_operation) {
  BOOST_TEST(messages::lock_name(acquire("a")) == "a");
  BOOST_TEST(messages::lock_name(release("b")) == "b");
  BOOST_TEST(messages::lock_name(refresh("c")) == "c");
  BOOST_TEST(messages::lock_name(status("d")) == "d");
  BOOST_TEST(messages::lock_name(check("e")) == "e");
  BOOST_TEST(messages::lock_name(cancel("f")) == "f");
  BOOST_TEST(messages::lock_name(stats()) == "");
  BOOST_TEST(messages::lock_name(base()) == "");
}

BOOST_AUTO_TEST_CASE(validation_survives_a_serialization_round_trip) {
  // What the node sees is the parsed form of the client's bytes.
  auto r = acquire("orders", "worker", 99);
  wire::Request parsed;
  BOOST_TEST(parsed.ParseFromString(r.SerializeAsString()));
  BOOST_TEST(validate(parsed) == validate(r));
  BOOST_TEST(validate(parsed) != "");
}

BOOST_AUTO_TEST_SUITE_END()
