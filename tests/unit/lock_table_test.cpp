// The resting form of locks: compact encoding and the lock table.
#include "actors/lock_table.hpp"
#include "messages/codec.hpp"
#include "printers.hpp"

#include <boost/test/unit_test.hpp>

#include <random>

using namespace godistlock;
using core::AcceptorRecord;
using core::Ballot;

namespace {

AcceptorRecord sample(std::mt19937_64& rng) {
  AcceptorRecord r;
  Ballot b{rng() % 100 + 1, static_cast<uint32_t>(rng() % 5), rng()};
  r.accepted = b;
  // Each field that the resting form may elide sometimes repeats, sometimes not.
  r.promised = rng() % 2 ? b : Ballot{b.counter + 1, b.node, b.nonce};
  r.value.fence = rng() % 1000;
  r.value.epoch = core::Epoch{rng() % 500, rng() % 2 ? b : Ballot{3, 1, rng()}};
  if (rng() % 3) {
    std::string owner = "owner-" + std::to_string(rng() % 7);
    std::string client = rng() % 2 ? owner : "client-" + std::to_string(rng());
    r.value.holder =
        core::Holder{owner, r.value.fence, 100 + rng() % 5000,
                     core::LeaseOrigin{client, rng() % 99, static_cast<uint32_t>(rng() % 4)}};
  }
  if (rng() % 4 == 0)
    r.value.reserved = core::Waiter{"w-r", 500};
  for (auto i = rng() % 4; i > 0; --i)
    r.value.queue.push_back(core::Waiter{"w-" + std::to_string(i), 1000 * i});
  r.value.last_released = rng() % 3;
  return r;
}

} // namespace

BOOST_AUTO_TEST_SUITE(lock_table)

BOOST_AUTO_TEST_CASE(resting_encoding_is_lossless) {
  std::mt19937_64 rng(7);
  for (int i = 0; i < 5000; ++i) {
    auto r = sample(rng);
    auto back = messages::decode_resting(messages::encode_resting(r));
    BOOST_REQUIRE(back.has_value());
    BOOST_TEST_CONTEXT("sample " << i) {
      BOOST_TEST((*back == r));
    }
  }
}

BOOST_AUTO_TEST_CASE(resting_encoding_is_smaller_when_fields_repeat) {
  AcceptorRecord r;
  r.accepted = r.promised = Ballot{5, 1, 0x1234567890abcdefull};
  r.value.fence = 3;
  r.value.epoch = core::Epoch{4, r.accepted};
  r.value.holder =
      core::Holder{"c-0123456789abcdef", 3, 30000, core::LeaseOrigin{"c-0123456789abcdef", 9, 0}};
  BOOST_TEST(messages::encode_resting(r).size() + 40 < messages::encode_record(r).size());
}

BOOST_AUTO_TEST_CASE(put_take_and_overwrite) {
  actors::LockTable table;
  std::mt19937_64 rng(11);
  auto a = sample(rng);
  auto b = sample(rng);
  table.put("alpha", a, 100);
  table.put("beta", b, 200);
  BOOST_TEST(table.size() == 2u);
  BOOST_TEST(!table.take("gamma"));
  auto c = sample(rng);
  table.put("alpha", c, 300); // newest wins
  BOOST_TEST(table.size() == 2u);
  auto got = table.take("alpha");
  BOOST_REQUIRE(got);
  BOOST_TEST((got->record == c));
  BOOST_TEST(got->epoch_seen_ns == 300);
  BOOST_TEST(table.size() == 1u);
  BOOST_TEST(!table.take("alpha"));
  auto beta = table.take("beta");
  BOOST_REQUIRE(beta);
  BOOST_TEST((beta->record == b));
  BOOST_TEST(table.size() == 0u);
}

BOOST_AUTO_TEST_CASE(names_are_exact_keys) {
  actors::LockTable table;
  AcceptorRecord r;
  r.value.fence = 1;
  table.put("a", r, 1);
  r.value.fence = 2;
  table.put("ab", r, 2);
  r.value.fence = 3;
  table.put(std::string(512, 'x'), r, 3);
  BOOST_TEST(table.take("ab")->record.value.fence == 2u);
  BOOST_TEST(table.take("a")->record.value.fence == 1u);
  BOOST_TEST(!table.take(std::string(511, 'x')));
  BOOST_TEST(table.take(std::string(512, 'x'))->record.value.fence == 3u);
}

BOOST_AUTO_TEST_SUITE_END()
