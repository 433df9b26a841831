// The header rules of the BASP guard (net/basp_guard.hpp), byte by byte; the
// process test tests/process/fuzz_test.cpp attacks a real node.
#include "net/basp_guard.hpp"

#include <boost/test/unit_test.hpp>

#include <array>
#include <cstdint>

using godistlock::net::GuardLimits;
using godistlock::net::refuse_header;

namespace {

// A BASP header of CAF 0.17.6 (network byte order), 32 bytes.
std::array<uint8_t, 32> header(uint8_t op, uint32_t len) {
  std::array<uint8_t, 32> h{};
  h[0] = op;
  h[4] = static_cast<uint8_t>(len >> 24);
  h[5] = static_cast<uint8_t>(len >> 16);
  h[6] = static_cast<uint8_t>(len >> 8);
  h[7] = static_cast<uint8_t>(len);
  return h;
}

bool passes(uint8_t op, uint32_t len, bool first, uint64_t in_flight = 0) {
  auto h = header(op, len);
  return !refuse_header(h.data(), h.size(), first, in_flight, GuardLimits{});
}

constexpr uint8_t server_handshake = 0, client_handshake = 1, direct = 2, heartbeat = 6;

} // namespace

BOOST_AUTO_TEST_SUITE(basp_guard)

BOOST_AUTO_TEST_CASE(the_first_header_is_a_small_client_handshake) {
  BOOST_CHECK(passes(client_handshake, 32, true));        // what CAF 0.17.6 sends
  BOOST_CHECK(passes(client_handshake, 16 * 1024, true)); // the limit
  BOOST_CHECK(!passes(client_handshake, 16 * 1024 + 1, true));
  BOOST_CHECK(!passes(client_handshake, 0, true));  // CAF would crash on it
  BOOST_CHECK(!passes(server_handshake, 32, true)); // the four zero bytes
  BOOST_CHECK(!passes(server_handshake, 0xffffffff, true));
  BOOST_CHECK(!passes(direct, 100, true));
  BOOST_CHECK(!passes(heartbeat, 0, true));
  BOOST_CHECK(!passes('G', 0x2f204854, true)); // an HTTP request
  BOOST_CHECK(!passes(0x16, 0x0100, true));    // a TLS hello
}

BOOST_AUTO_TEST_CASE(later_headers_are_known_operations_of_bounded_size) {
  BOOST_CHECK(passes(heartbeat, 0, false));
  BOOST_CHECK(passes(client_handshake, 32, false)); // repeated to select the connection
  BOOST_CHECK(!passes(client_handshake, 0, false));
  BOOST_CHECK(!passes(server_handshake, 100, false));
  for (uint8_t op = 2; op <= 5; ++op) {
    BOOST_CHECK(passes(op, 300, false));
    BOOST_CHECK(passes(op, 16 << 20, false));
    BOOST_CHECK(!passes(op, (16 << 20) + 1, false));
    BOOST_CHECK(!passes(op, 0xffffffff, false));
  }
  for (unsigned op = 7; op < 256; ++op)
    BOOST_CHECK(!passes(static_cast<uint8_t>(op), 10, false));
}

BOOST_AUTO_TEST_CASE(large_payloads_share_a_budget_small_ones_do_not) {
  const uint64_t budget = GuardLimits{}.large_budget;
  BOOST_CHECK(passes(direct, 12 << 20, false, 4 << 20));
  BOOST_CHECK(!passes(direct, 12 << 20, false, (4 << 20) + 1));
  BOOST_CHECK(passes(direct, 16 * 1024, false, budget)); // small: always
  BOOST_CHECK(!passes(direct, 16 * 1024 + 1, false, budget));
}

BOOST_AUTO_TEST_CASE(only_whole_headers) {
  auto h = header(client_handshake, 32);
  BOOST_CHECK(refuse_header(h.data(), 31, true, 0, GuardLimits{}));
  BOOST_CHECK(refuse_header(h.data(), 0, true, 0, GuardLimits{}));
}

BOOST_AUTO_TEST_SUITE_END()
