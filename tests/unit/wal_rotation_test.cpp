// Compaction in the background (core/wal.hpp): the log is rotated to
// locks.log.1, merged into the snapshot on another thread while commits go
// on, and a crash at any step replays to the newest values.
#include "core/wal.hpp"
#include "wal_support.hpp"

#include <boost/test/unit_test.hpp>

#include <thread>

using godistlock::core::Wal;
using namespace gdl_wal_test;

namespace {

void put(Wal& wal, const std::string& key, const std::string& value) {
  wal.append(key, value);
  wal.commit();
}

} // namespace

BOOST_AUTO_TEST_SUITE(wal_rotation)

BOOST_AUTO_TEST_CASE(commits_go_on_while_the_rotated_log_is_merged) {
  TempDir tmp;
  auto o = open_wal(tmp.path, true, 256);
  for (int i = 0; i < 20; ++i)
    put(*o.wal, "k" + std::to_string(i % 5), "old-" + std::to_string(i));
  BOOST_REQUIRE(o.wal->wants_compaction());
  auto job = o.wal->rotate();
  BOOST_TEST(fs::exists(tmp / "locks.log.1"));
  BOOST_TEST(o.wal->log_bytes() == 0u);
  BOOST_TEST(!o.wal->wants_compaction()); // one at a time
  // The merge runs on its own thread while this one keeps committing.
  uint64_t snapshot_bytes = 0;
  std::thread merger([&] { snapshot_bytes = Wal::merge_rotated(job); });
  for (int i = 0; i < 50; ++i)
    put(*o.wal, "k" + std::to_string(i % 7), "new-" + std::to_string(i));
  merger.join();
  o.wal->compaction_done(snapshot_bytes);
  BOOST_TEST(!fs::exists(tmp / "locks.log.1"));
  BOOST_TEST(fs::file_size(tmp / "locks.snapshot") == snapshot_bytes);
  o.wal.reset();

  auto back = open_wal(tmp.path);
  auto m = back.latest();
  BOOST_TEST(m.size() == 7u);
  BOOST_TEST(m["k0"] == "new-49");
  BOOST_TEST(m["k6"] == "new-48");
  BOOST_TEST(back.wal->warnings().empty());
}

// A crash after the rename, before or during the merge: the rotated log is
// replayed between the snapshot and the live log, and merged on the next
// compaction, without being renamed over.
BOOST_AUTO_TEST_CASE(a_rotated_log_left_by_a_crash_replays_in_order_and_is_merged_first) {
  TempDir tmp;
  {
    auto o = open_wal(tmp.path, true, 1 << 20);
    put(*o.wal, "a", "snapshot");
    put(*o.wal, "b", "snapshot");
    o.wal->compact();
    put(*o.wal, "a", "rotated");
    put(*o.wal, "c", "rotated");
    o.wal->rotate(); // and the process dies before the merge
    put(*o.wal, "c", "live");
  }
  write_all(tmp / "locks.snapshot.tmp", "half-written garbage"); // ignored
  auto o = open_wal(tmp.path, true, 1 << 20);
  auto m = o.latest();
  BOOST_TEST(m["a"] == "rotated");
  BOOST_TEST(m["b"] == "snapshot");
  BOOST_TEST(m["c"] == "live");
  BOOST_TEST(Wal::holds_data(tmp.path));
  // The leftover is merged before anything else, however small the log.
  BOOST_REQUIRE(o.wal->wants_compaction());
  auto live_before = read_all(tmp / "locks.log");
  auto job = o.wal->rotate();
  BOOST_TEST(read_all(tmp / "locks.log") == live_before); // not renamed over
  o.wal->compaction_done(Wal::merge_rotated(job));
  BOOST_TEST(!fs::exists(tmp / "locks.log.1"));
  o.wal.reset();
  auto back = open_wal(tmp.path);
  BOOST_TEST((back.latest() == m));
}

// A crash after the new snapshot is in place but before the rotated log is
// removed: the rotated log replays over a snapshot that already holds it.
BOOST_AUTO_TEST_CASE(a_crash_before_removing_the_rotated_log_gives_the_same_values) {
  TempDir tmp;
  std::string rotated;
  std::map<std::string, std::string> expected;
  {
    auto o = open_wal(tmp.path);
    put(*o.wal, "x", "1");
    put(*o.wal, "y", "1");
    put(*o.wal, "x", "2");
    auto job = o.wal->rotate();
    rotated = read_all(tmp / "locks.log.1");
    put(*o.wal, "y", "live");
    o.wal->compaction_done(Wal::merge_rotated(job));
    expected = {{"x", "2"}, {"y", "live"}};
  }
  write_all(tmp / "locks.log.1", rotated);
  auto o = open_wal(tmp.path);
  BOOST_TEST((o.latest() == expected));
  BOOST_TEST(o.wal->warnings().empty());
}

// Compaction is due once the log is as large as the snapshot, so that the
// bytes rewritten stay within twice the bytes logged.
BOOST_AUTO_TEST_CASE(the_threshold_grows_with_the_snapshot) {
  TempDir tmp;
  auto o = open_wal(tmp.path, false, 100);
  std::string big(1000, 'v');
  for (int i = 0; i < 10; ++i)
    put(*o.wal, "key" + std::to_string(i), big);
  o.wal->compact();
  auto snapshot = fs::file_size(tmp / "locks.snapshot");
  BOOST_REQUIRE(snapshot > 10000u);
  put(*o.wal, "key0", big);
  BOOST_TEST(!o.wal->wants_compaction()); // past 100 bytes, below the snapshot's size
  while (o.wal->log_bytes() < snapshot)
    put(*o.wal, "key1", big);
  BOOST_TEST(o.wal->wants_compaction());
}

BOOST_AUTO_TEST_SUITE_END()
