// Protobuf conversions of acceptor records (messages/codec.hpp).
#include "core/limits.hpp"
#include "messages/codec.hpp"
#include "printers.hpp"

#include <boost/test/unit_test.hpp>

#include <limits>
#include <random>
#include <string>

using namespace godistlock;
using core::AcceptorRecord;
using core::Ballot;
using core::LockState;
using messages::decode_record;
using messages::encode_record;

namespace {

constexpr uint64_t u64max = std::numeric_limits<uint64_t>::max();

AcceptorRecord round_trip(const AcceptorRecord& in) {
  auto bytes = encode_record(in);
  auto out = decode_record(bytes);
  BOOST_REQUIRE(out.has_value());
  return *out;
}

LockState held_state() {
  LockState s;
  s.fence = 42;
  s.epoch = core::Epoch{17, Ballot{9, 2, u64max}};
  s.holder = core::Holder{"worker-\xc3\xa9", 42, 30'000, core::LeaseOrigin{"client-uuid", 77, 3}};
  s.last_released = 41;
  return s;
}

} // namespace

BOOST_AUTO_TEST_SUITE(codec)

BOOST_AUTO_TEST_CASE(empty_record_round_trips) {
  AcceptorRecord rec;
  BOOST_TEST(round_trip(rec) == rec);
  BOOST_TEST(round_trip(rec).value.is_free());
}

BOOST_AUTO_TEST_CASE(held_record_round_trips) {
  AcceptorRecord rec{Ballot{12, 3, 0x0123456789abcdefull}, Ballot{11, 1, u64max}, held_state()};
  auto out = round_trip(rec);
  BOOST_TEST(out == rec);
  BOOST_TEST(out.promised == rec.promised);
  BOOST_TEST(out.accepted == rec.accepted);
  BOOST_TEST(out.value.epoch == rec.value.epoch);
  BOOST_TEST(*out.value.holder == *rec.value.holder);
  BOOST_TEST(out.value.last_released == 41u);
}

BOOST_AUTO_TEST_CASE(reserved_record_round_trips) {
  AcceptorRecord rec;
  rec.promised = Ballot{5, 1, 1};
  rec.accepted = Ballot{5, 1, 1};
  rec.value.fence = 8;
  rec.value.epoch = core::Epoch{20, Ballot{5, 1, 1}};
  rec.value.reserved = core::Waiter{"next", 1500};
  rec.value.queue = {core::Waiter{"after", 200}};
  rec.value.last_released = 8;
  auto out = round_trip(rec);
  BOOST_TEST(out == rec);
  BOOST_TEST(!out.value.holder);
  BOOST_TEST(out.value.reserved->owner == "next");
  BOOST_TEST(out.value.reserved->ttl_ms == 1500u);
}

BOOST_AUTO_TEST_CASE(queued_record_round_trips_in_order) {
  AcceptorRecord rec{Ballot{1, 1, 1}, Ballot{1, 1, 1}, held_state()};
  for (size_t i = 0; i < core::max_queue_length; ++i)
    rec.value.queue.push_back(core::Waiter{"w" + std::to_string(i), 100 + i});
  auto out = round_trip(rec);
  BOOST_TEST(out == rec);
  BOOST_TEST(out.value.queue.size() == core::max_queue_length);
  BOOST_TEST(out.value.queue.front().owner == "w0");
  BOOST_TEST(out.value.queue.back().owner == "w255");
}

BOOST_AUTO_TEST_CASE(zero_epoch_origin_round_trips) {
  // A value from the 1-RTT path before stamping, or a fresh lock.
  AcceptorRecord rec{Ballot{2, 1, 1}, Ballot{2, 1, 1}, held_state()};
  rec.value.epoch.origin = Ballot{};
  BOOST_TEST(round_trip(rec) == rec);
}

BOOST_AUTO_TEST_CASE(extreme_numbers_round_trip) {
  AcceptorRecord rec{Ballot{u64max, std::numeric_limits<uint32_t>::max(), u64max},
                     Ballot{u64max, 0, 0}, held_state()};
  rec.value.fence = u64max;
  rec.value.epoch.number = u64max;
  rec.value.holder->token = u64max;
  rec.value.holder->lease_ms = u64max;
  rec.value.holder->origin.request = u64max;
  rec.value.holder->origin.attempt = std::numeric_limits<uint32_t>::max();
  rec.value.last_released = u64max;
  BOOST_TEST(round_trip(rec) == rec);
}

BOOST_AUTO_TEST_CASE(lock_state_and_ballot_conversions_round_trip) {
  auto s = held_state();
  s.queue = {core::Waiter{"a", 1}, core::Waiter{"b", 2}};
  wire::LockState pb;
  messages::to_proto(s, pb);
  BOOST_TEST(pb.fence() == 42u);
  BOOST_TEST(pb.queue_size() == 2);
  BOOST_TEST(messages::from_proto(pb) == s);
  wire::Ballot bp;
  messages::to_proto(Ballot{3, 4, 5}, bp);
  BOOST_TEST(messages::from_proto(bp) == (Ballot{3, 4, 5}));
}

BOOST_AUTO_TEST_CASE(random_records_round_trip) {
  std::mt19937_64 rng(2024);
  auto ballot = [&] { return Ballot{rng() % 1000, static_cast<uint32_t>(rng() % 5), rng()}; };
  auto text = [&] {
    std::string s;
    for (size_t i = 0, n = rng() % 12; i < n; ++i)
      s.push_back(static_cast<char>('a' + rng() % 26));
    return s;
  };
  for (int i = 0; i < 2000; ++i) {
    AcceptorRecord rec{ballot(), ballot(), {}};
    auto& v = rec.value;
    v.fence = rng() % 100;
    v.epoch = core::Epoch{rng() % 100, rng() % 2 ? ballot() : Ballot{}};
    switch (rng() % 3) {
    case 0:
      v.holder = core::Holder{text(), v.fence, rng() % 10'000,
                              core::LeaseOrigin{text(), rng(), static_cast<uint32_t>(rng())}};
      break;
    case 1:
      v.reserved = core::Waiter{text(), rng() % 10'000};
      break;
    default:
      break;
    }
    for (size_t k = 0, n = rng() % 5; k < n; ++k)
      v.queue.push_back(core::Waiter{text(), rng() % 10'000, rng() % 3 ? rng() % 100'000 : 0});
    v.last_released = rng() % 100;
    // Owners are never empty; most are the client id, which is written once.
    for (size_t k = 0, n = rng() % (core::max_finished_requests + 1); k < n; ++k) {
      core::LeaseOrigin last{text(), rng(), static_cast<uint32_t>(rng())};
      v.finished.push_back(core::FinishedRequest{rng() % 2 ? last.client : "o" + text(), last});
    }
    BOOST_TEST_CONTEXT("record " << i << ": " << v) {
      BOOST_TEST(round_trip(rec) == rec);
    }
  }
}

BOOST_AUTO_TEST_CASE(garbage_does_not_decode) {
  const std::string cases[] = {
      std::string("\x00", 1), // field number 0
      "\x07",                 // field 0, invalid wire type
      "\x0f",                 // field 1, wire type 7 (invalid)
      "\x0a",                 // length-delimited field without length
      "\x0a\x05"
      "ab",                                               // length runs past the end
      "\x1a\x7f",                                         // value: 127 bytes announced, none there
      "\x08",                                             // varint field without value
      "\x08\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01", // varint longer than 10 bytes
      "\x0b",                                             // start group never ended
      "\x0c",                                             // end group without start
      "\xff\xff\xff\xff",                                 // junk
      "\x0a\x02\x08",                                     // nested message cut short
      "not a protobuf at all \xff\xfe",
  };
  for (size_t i = 0; i < std::size(cases); ++i) {
    BOOST_TEST_CONTEXT("case " << i) {
      BOOST_TEST(!decode_record(cases[i]).has_value());
    }
  }
}

BOOST_AUTO_TEST_CASE(record_cut_inside_the_value_does_not_decode) {
  AcceptorRecord rec{Ballot{4, 1, 9}, Ballot{4, 1, 9}, held_state()};
  rec.value.holder->owner = "worker"; // ASCII: a cut never splits a character
  rec.value.queue = {core::Waiter{"a", 100}, core::Waiter{"b", 200}};
  auto bytes = encode_record(rec);
  // The value is the last field; cutting inside it breaks its length prefix.
  wire::LockState pb;
  messages::to_proto(rec.value, pb);
  size_t value_bytes = pb.ByteSizeLong();
  BOOST_REQUIRE(value_bytes > 10u);
  for (size_t cut = bytes.size() - value_bytes; cut < bytes.size(); ++cut) {
    BOOST_TEST_CONTEXT("cut at " << cut << " of " << bytes.size()) {
      BOOST_TEST(!decode_record(std::string_view(bytes).substr(0, cut)).has_value());
    }
  }
  BOOST_TEST(decode_record(bytes).has_value());
}

BOOST_AUTO_TEST_SUITE_END()
