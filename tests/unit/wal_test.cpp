// The data dir's write-ahead log (core/wal.hpp).
#include "core/wal.hpp"
#include "printers.hpp"
#include "wal_support.hpp"

#include <boost/test/unit_test.hpp>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <string>
#include <sys/stat.h>
#include <unistd.h>
#include <utility>
#include <vector>

using godistlock::core::StorageError;
using godistlock::core::Wal;
using namespace gdl_wal_test;

namespace {

// Size of one record on disk: u32 length, u32 crc, u32 key length, key, value.
size_t record_size(const std::string& key, const std::string& value) {
  return 12 + key.size() + value.size();
}

// Overwrites one byte in place. (Rewriting the whole file with O_TRUNC makes
// ext4 flush it on close, which is slow over thousands of iterations.)
void poke(const std::string& path, size_t pos, char byte) {
  std::fstream f(path, std::ios::binary | std::ios::in | std::ios::out);
  f.seekp(static_cast<std::streamoff>(pos));
  f.put(byte);
  BOOST_REQUIRE(f.good());
}

bool contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

// Writes the records (one commit each), closes, and returns their offsets.
std::vector<size_t> write_log(const std::string& dir, const Records& records) {
  auto o = open_wal(dir);
  std::vector<size_t> offsets;
  size_t at = 0;
  for (auto& [k, v] : records) {
    offsets.push_back(at);
    o.wal->append(k, v);
    o.wal->commit();
    at += record_size(k, v);
  }
  BOOST_REQUIRE(o.wal->log_bytes() == at);
  return offsets;
}

const Records sample = {
    {"alpha", "value-1"}, {"beta", std::string("bin\0ary\xff", 8)}, {"alpha", "value-2"},
    {"gamma", ""},        {"delta", std::string(300, 'd')},         {"beta", "value-3"}};

// The error for a damaged record: names the file and the record's offset.
// True when `text` says "offset <n>" with exactly that number.
bool mentions_offset(const std::string& text, size_t n) {
  const std::string word = "offset ";
  for (auto at = text.find(word); at != std::string::npos; at = text.find(word, at + 1)) {
    size_t i = at + word.size(), end = i;
    while (end < text.size() && text[end] >= '0' && text[end] <= '9')
      ++end;
    if (end > i && text.substr(i, end - i) == std::to_string(n))
      return true;
  }
  return false;
}

bool names_file_and_offset(const StorageError& e, const std::string& file, size_t offset) {
  std::string what = e.what();
  return contains(what, file) && mentions_offset(what, offset);
}

} // namespace

BOOST_AUTO_TEST_SUITE(wal)

BOOST_AUTO_TEST_CASE(empty_dir_replays_nothing_and_is_created) {
  TempDir tmp;
  auto dir = tmp / "data";
  {
    auto o = open_wal(dir);
    BOOST_TEST(o.seen.empty());
    BOOST_TEST(o.wal->log_bytes() == 0u);
    BOOST_TEST(o.wal->warnings().empty());
  }
  BOOST_TEST(fs::is_directory(dir));
  auto o = open_wal(dir);
  BOOST_TEST(o.seen.empty());
}

BOOST_AUTO_TEST_CASE(append_commit_replay_round_trip) {
  TempDir tmp;
  {
    auto o = open_wal(tmp.path);
    for (auto& [k, v] : sample)
      o.wal->append(k, v);
    BOOST_TEST(o.wal->log_bytes() == 0u); // buffered only
    o.wal->commit();
    BOOST_TEST(o.wal->commits() == 1u);
    BOOST_TEST(o.wal->records_committed() == sample.size());
    size_t bytes = 0;
    for (auto& [k, v] : sample)
      bytes += record_size(k, v);
    BOOST_TEST(o.wal->log_bytes() == bytes);
    BOOST_TEST(fs::file_size(tmp / "locks.log") == bytes);
  }
  auto o = open_wal(tmp.path);
  BOOST_TEST(o.seen == sample); // every record, oldest first
  BOOST_TEST(o.wal->warnings().empty());
}

BOOST_AUTO_TEST_CASE(nothing_is_durable_before_commit) {
  TempDir tmp;
  {
    auto o = open_wal(tmp.path);
    o.wal->append("a", "1");
    o.wal->commit();
    o.wal->append("b", "2"); // never committed
    o.wal->commit();
    o.wal->commit(); // nothing pending: no write, no count
    BOOST_TEST(o.wal->commits() == 2u);
    o.wal->append("c", "3");
  }
  auto o = open_wal(tmp.path);
  BOOST_TEST(o.seen == (Records{{"a", "1"}, {"b", "2"}}));
}

BOOST_AUTO_TEST_CASE(newest_record_per_key_wins) {
  TempDir tmp;
  write_log(tmp.path, sample);
  auto o = open_wal(tmp.path);
  auto m = o.latest();
  BOOST_TEST(m.size() == 4u);
  BOOST_TEST(m["alpha"] == "value-2");
  BOOST_TEST(m["beta"] == "value-3");
  BOOST_TEST(m["gamma"] == "");
  BOOST_TEST(m["delta"] == std::string(300, 'd'));
}

BOOST_AUTO_TEST_CASE(appends_after_reopen_follow_the_old_records) {
  TempDir tmp;
  write_log(tmp.path, {{"a", "1"}});
  {
    auto o = open_wal(tmp.path);
    BOOST_TEST(o.wal->log_bytes() == record_size("a", "1"));
    o.wal->append("a", "2");
    o.wal->commit();
  }
  auto o = open_wal(tmp.path);
  BOOST_TEST(o.seen == (Records{{"a", "1"}, {"a", "2"}}));
}

BOOST_AUTO_TEST_CASE(odd_keys_and_large_values_round_trip) {
  TempDir tmp;
  Records records = {{"", "empty key"},
                     {std::string("k\0ey", 4), std::string("\0\0\0\0", 4)},
                     {"\xf0\x9f\x94\x92", std::string(1 << 20, 'v')},
                     {std::string(512, 'n'), "x"}};
  write_log(tmp.path, records);
  auto o = open_wal(tmp.path);
  BOOST_TEST(o.seen == records);
}

BOOST_AUTO_TEST_CASE(fsync_off_still_persists_across_reopen) {
  TempDir tmp;
  {
    auto o = open_wal(tmp.path, false);
    o.wal->append("a", "1");
    o.wal->append("b", "2");
    o.wal->commit();
    o.wal->append("a", "3");
    o.wal->commit();
    o.wal->compact();
    o.wal->append("c", "4");
    o.wal->commit();
  }
  auto o = open_wal(tmp.path, false);
  BOOST_TEST(o.seen == (Records{{"a", "3"}, {"b", "2"}, {"c", "4"}}));
}

// ---------------------------------------------------------------- compaction

BOOST_AUTO_TEST_CASE(compaction_keeps_newest_values_and_empties_the_log) {
  TempDir tmp;
  {
    auto o = open_wal(tmp.path, true, 100);
    BOOST_TEST(!o.wal->wants_compaction());
    for (auto& [k, v] : sample)
      o.wal->append(k, v);
    o.wal->commit();
    BOOST_TEST(o.wal->wants_compaction());
    o.wal->compact();
    BOOST_TEST(o.wal->log_bytes() == 0u);
    BOOST_TEST(!o.wal->wants_compaction());
    BOOST_TEST(fs::file_size(tmp / "locks.log") == 0u);
    BOOST_TEST(fs::exists(tmp / "locks.snapshot"));
    BOOST_TEST(!fs::exists(tmp / "locks.snapshot.tmp"));
  }
  auto o = open_wal(tmp.path);
  // One record per key, newest value, in key order.
  BOOST_TEST(o.seen == (Records{{"alpha", "value-2"},
                                {"beta", "value-3"},
                                {"delta", std::string(300, 'd')},
                                {"gamma", ""}}));
  BOOST_TEST(o.wal->log_bytes() == 0u);
}

BOOST_AUTO_TEST_CASE(compaction_includes_pending_records) {
  TempDir tmp;
  {
    auto o = open_wal(tmp.path);
    o.wal->append("a", "1");
    o.wal->compact(); // commits first
  }
  BOOST_TEST(open_wal(tmp.path).seen == (Records{{"a", "1"}}));
}

BOOST_AUTO_TEST_CASE(replay_after_compaction_and_more_appends) {
  TempDir tmp;
  {
    auto o = open_wal(tmp.path);
    for (auto& [k, v] : sample)
      o.wal->append(k, v);
    o.wal->commit();
    o.wal->compact();
    o.wal->append("alpha", "value-4");
    o.wal->append("omega", "new");
    o.wal->commit();
    BOOST_TEST(o.wal->log_bytes() == record_size("alpha", "value-4") + record_size("omega", "new"));
  }
  {
    auto o = open_wal(tmp.path);
    // Snapshot first, then the log on top of it.
    BOOST_TEST(o.seen.size() == 6u);
    BOOST_TEST(o.seen[4] == (std::pair<std::string, std::string>("alpha", "value-4")));
    auto m = o.latest();
    BOOST_TEST(m["alpha"] == "value-4");
    BOOST_TEST(m["omega"] == "new");
    BOOST_TEST(m["beta"] == "value-3");
    // Compact again on top of an existing snapshot.
    o.wal->append("beta", "value-5");
    o.wal->commit();
    o.wal->compact();
  }
  auto o = open_wal(tmp.path);
  BOOST_TEST(o.seen == (Records{{"alpha", "value-4"},
                                {"beta", "value-5"},
                                {"delta", std::string(300, 'd')},
                                {"gamma", ""},
                                {"omega", "new"}}));
}

BOOST_AUTO_TEST_CASE(compacting_nothing_is_fine) {
  TempDir tmp;
  {
    auto o = open_wal(tmp.path);
    o.wal->compact();
    o.wal->compact();
  }
  auto o = open_wal(tmp.path);
  BOOST_TEST(o.seen.empty());
  BOOST_TEST((!fs::exists(tmp / "locks.snapshot") || fs::file_size(tmp / "locks.snapshot") == 0u));
}

BOOST_AUTO_TEST_CASE(crash_before_log_truncation_replays_to_the_same_values) {
  // The snapshot was installed but the old log was not yet emptied: the log
  // replays over the new snapshot and gives the same newest values.
  TempDir tmp;
  write_log(tmp.path, sample);
  auto old_log = read_all(tmp / "locks.log");
  {
    auto o = open_wal(tmp.path);
    o.wal->compact();
  }
  write_all(tmp / "locks.log", old_log);
  write_all(tmp / "locks.snapshot.tmp", "half-written garbage"); // ignored
  auto o = open_wal(tmp.path);
  BOOST_TEST(o.wal->warnings().empty());
  auto m = o.latest();
  BOOST_TEST(m["alpha"] == "value-2");
  BOOST_TEST(m["beta"] == "value-3");
  BOOST_TEST(m.size() == 4u);
}

// ---------------------------------------------------------------- damage

BOOST_AUTO_TEST_CASE(torn_tail_is_dropped_with_a_warning) {
  TempDir tmp;
  auto offsets = write_log(tmp.path, sample);
  auto full = read_all(tmp / "locks.log");
  size_t last = offsets.back();
  Records prefix(sample.begin(), sample.end() - 1);
  // Cut anywhere inside the last record, header included.
  for (size_t cut = last + 1; cut < full.size(); ++cut) {
    BOOST_TEST_CONTEXT("log cut to " << cut << " of " << full.size() << " bytes") {
      write_all(tmp / "locks.log", full.substr(0, cut));
      auto o = open_wal(tmp.path);
      BOOST_TEST(o.seen == prefix);
      BOOST_REQUIRE(o.wal->warnings().size() == 1u);
      auto& w = o.wal->warnings().front();
      BOOST_TEST(contains(w, tmp / "locks.log"));
      BOOST_TEST(mentions_offset(w, last));
      // Never silent: the size is in the warning and in the counter.
      BOOST_TEST(contains(w, std::to_string(cut - last) + " bytes"));
      BOOST_TEST(o.wal->tail_bytes_dropped() == cut - last);
      // The torn bytes are gone, so new records follow the good prefix.
      BOOST_TEST(o.wal->log_bytes() == last);
      BOOST_TEST(fs::file_size(tmp / "locks.log") == last);
    }
  }
  // And the log stays usable afterwards.
  {
    auto o = open_wal(tmp.path);
    o.wal->append("after", "crash");
    o.wal->commit();
  }
  auto o = open_wal(tmp.path);
  BOOST_TEST(o.wal->warnings().empty());
  BOOST_TEST(o.wal->tail_bytes_dropped() == 0u);
  BOOST_TEST(o.seen.back() == (std::pair<std::string, std::string>("after", "crash")));
  BOOST_TEST(o.seen.size() == sample.size());
}

BOOST_AUTO_TEST_CASE(zero_filled_tail_is_dropped_with_a_warning) {
  TempDir tmp;
  write_log(tmp.path, sample);
  auto full = read_all(tmp / "locks.log");
  for (size_t zeros : {1u, 7u, 8u, 12u, 100u, 4096u}) {
    BOOST_TEST_CONTEXT(zeros << " zero bytes") {
      write_all(tmp / "locks.log", full + std::string(zeros, '\0'));
      auto o = open_wal(tmp.path);
      BOOST_TEST(o.seen == sample);
      BOOST_TEST(o.wal->warnings().size() == 1u);
      BOOST_TEST(o.wal->tail_bytes_dropped() == zeros);
      BOOST_TEST(o.wal->log_bytes() == full.size());
      BOOST_TEST(fs::file_size(tmp / "locks.log") == full.size());
    }
  }
  // A log that is nothing but zeros (a crash right after it grew).
  write_all(tmp / "locks.log", std::string(64, '\0'));
  auto o = open_wal(tmp.path);
  BOOST_TEST(o.seen.empty());
  BOOST_TEST(o.wal->warnings().size() == 1u);
  BOOST_TEST(o.wal->tail_bytes_dropped() == 64u);
}

BOOST_AUTO_TEST_CASE(flipped_byte_in_the_log_throws_naming_file_and_offset) {
  TempDir tmp;
  auto offsets = write_log(tmp.path, sample);
  auto log = tmp / "locks.log";
  auto full = read_all(log);
  // Every byte of every record but the last, plus the last record's checksum
  // and payload. (A grown length in the very last record reads as a torn
  // write, which is indistinguishable from a crash.)
  size_t checked = 0;
  for (size_t pos = 0; pos < full.size(); ++pos) {
    if (pos >= offsets.back() && pos < offsets.back() + 4)
      continue;
    size_t record = 0;
    while (record + 1 < offsets.size() && offsets[record + 1] <= pos)
      ++record;
    for (unsigned char mask : {0x01, 0x10, 0x80, 0xff}) {
      auto damaged = full;
      damaged[pos] = static_cast<char>(damaged[pos] ^ mask);
      poke(log, pos, damaged[pos]);
      BOOST_TEST_CONTEXT("byte " << pos << " xor " << int(mask)) {
        bool threw = false;
        try {
          open_wal(tmp.path);
        } catch (const StorageError& e) {
          threw = true;
          BOOST_CHECK_MESSAGE(names_file_and_offset(e, log, offsets[record]), e.what());
        }
        BOOST_TEST(threw);
        // A refused log is left exactly as found, for the operator.
        BOOST_TEST(read_all(log) == damaged);
      }
      poke(log, pos, full[pos]);
      ++checked;
    }
  }
  BOOST_TEST(checked > 1000u);
}

BOOST_AUTO_TEST_CASE(flipped_byte_in_the_snapshot_throws_naming_file_and_offset) {
  TempDir tmp;
  {
    auto o = open_wal(tmp.path);
    for (auto& [k, v] : sample)
      o.wal->append(k, v);
    o.wal->compact();
  }
  auto snap = tmp / "locks.snapshot";
  auto full = read_all(snap);
  // Snapshot order is key order: alpha, beta, delta, gamma.
  std::vector<size_t> offsets = {0};
  offsets.push_back(offsets.back() + record_size("alpha", "value-2"));
  offsets.push_back(offsets.back() + record_size("beta", "value-3"));
  offsets.push_back(offsets.back() + record_size("delta", std::string(300, 'd')));
  BOOST_REQUIRE(full.size() == offsets.back() + record_size("gamma", ""));
  for (size_t pos = 0; pos < full.size(); ++pos) {
    size_t record = 0;
    while (record + 1 < offsets.size() && offsets[record + 1] <= pos)
      ++record;
    for (unsigned char mask : {0x01, 0x80, 0xff}) {
      auto damaged = full;
      damaged[pos] = static_cast<char>(damaged[pos] ^ mask);
      poke(snap, pos, damaged[pos]);
      BOOST_TEST_CONTEXT("byte " << pos << " xor " << int(mask)) {
        bool threw = false;
        try {
          open_wal(tmp.path);
        } catch (const StorageError& e) {
          threw = true;
          BOOST_CHECK_MESSAGE(names_file_and_offset(e, snap, offsets[record]), e.what());
        }
        BOOST_TEST(threw);
      }
      poke(snap, pos, full[pos]);
    }
  }
}

BOOST_AUTO_TEST_CASE(torn_or_zero_padded_snapshot_throws) {
  TempDir tmp;
  {
    auto o = open_wal(tmp.path);
    o.wal->append("a", "1");
    o.wal->append("b", "2");
    o.wal->compact();
  }
  auto snap = tmp / "locks.snapshot";
  auto full = read_all(snap);
  for (auto damaged :
       {full.substr(0, full.size() - 1), full.substr(0, 3), full + std::string(16, '\0')}) {
    write_all(snap, damaged);
    BOOST_CHECK_THROW(open_wal(tmp.path), StorageError);
  }
}

BOOST_AUTO_TEST_CASE(implausible_length_throws) {
  TempDir tmp;
  write_log(tmp.path, {{"a", "1"}});
  auto log = tmp / "locks.log";
  auto data = read_all(log);
  data += std::string("\xff\xff\xff\x7f", 4) + std::string(20, 'x');
  write_all(log, data);
  try {
    open_wal(tmp.path);
    BOOST_ERROR("no exception");
  } catch (const StorageError& e) {
    BOOST_CHECK_MESSAGE(names_file_and_offset(e, log, record_size("a", "1")), e.what());
    BOOST_TEST(contains(e.what(), "implausible length"));
  }
}

BOOST_AUTO_TEST_CASE(failed_open_leaves_the_dir_usable) {
  // A refused data dir must not stay locked by the failed attempt.
  TempDir tmp;
  write_log(tmp.path, sample);
  auto log = tmp / "locks.log";
  auto good = read_all(log);
  auto bad = good;
  bad[20] = static_cast<char>(bad[20] ^ 0xff);
  write_all(log, bad);
  BOOST_CHECK_THROW(open_wal(tmp.path), StorageError);
  write_all(log, good);
  auto o = open_wal(tmp.path);
  BOOST_TEST(o.seen == sample);
}

// ---------------------------------------------------------------- the data dir

BOOST_AUTO_TEST_CASE(second_wal_on_the_same_dir_throws) {
  TempDir tmp;
  auto first = open_wal(tmp.path);
  try {
    open_wal(tmp.path);
    BOOST_ERROR("no exception");
  } catch (const StorageError& e) {
    BOOST_TEST(contains(e.what(), tmp.path));
    BOOST_TEST(contains(e.what(), "in use"));
  }
  first.wal.reset();
  BOOST_CHECK_NO_THROW(open_wal(tmp.path));
}

BOOST_AUTO_TEST_CASE(missing_parent_dir_throws_a_clear_error) {
  TempDir tmp;
  auto dir = tmp / "no/such/parent";
  try {
    open_wal(dir);
    BOOST_ERROR("no exception");
  } catch (const StorageError& e) {
    BOOST_CHECK_MESSAGE(contains(e.what(), "cannot create data dir " + dir), e.what());
    BOOST_CHECK_MESSAGE(contains(e.what(), "No such file or directory"), e.what());
  }
  BOOST_TEST(!fs::exists(tmp / "no"));
}

BOOST_AUTO_TEST_CASE(parent_that_is_a_file_throws_a_clear_error) {
  TempDir tmp;
  write_all(tmp / "file", "x");
  try {
    open_wal(tmp / "file/data");
    BOOST_ERROR("no exception");
  } catch (const StorageError& e) {
    BOOST_CHECK_MESSAGE(contains(e.what(), tmp / "file/data"), e.what());
    BOOST_CHECK_MESSAGE(contains(e.what(), "Not a directory"), e.what());
  }
  try {
    open_wal(tmp / "file");
    BOOST_ERROR("no exception");
  } catch (const StorageError& e) {
    BOOST_CHECK_MESSAGE(contains(e.what(), "data dir " + (tmp / "file") + " is not a directory"),
                        e.what());
  }
}

BOOST_AUTO_TEST_CASE(unwritable_parent_dir_throws_a_clear_error) {
  if (::geteuid() == 0) {
    BOOST_TEST_MESSAGE("running as root: permissions are not enforced, skipped");
    return;
  }
  TempDir tmp;
  auto parent = tmp / "ro";
  BOOST_REQUIRE(::mkdir(parent.c_str(), 0555) == 0);
  try {
    open_wal(parent + "/data");
    BOOST_ERROR("no exception");
  } catch (const StorageError& e) {
    BOOST_CHECK_MESSAGE(contains(e.what(), "cannot create data dir " + parent + "/data"), e.what());
    BOOST_CHECK_MESSAGE(contains(e.what(), "Permission denied"), e.what());
  }
  // An existing but read-only data dir is refused too.
  BOOST_REQUIRE(::chmod(parent.c_str(), 0755) == 0);
  BOOST_REQUIRE(::mkdir((parent + "/data").c_str(), 0555) == 0);
  BOOST_CHECK_THROW(open_wal(parent + "/data"), StorageError);
}

BOOST_AUTO_TEST_CASE(empty_dir_option_throws) {
  try {
    open_wal("");
    BOOST_ERROR("no exception");
  } catch (const StorageError& e) {
    BOOST_TEST(std::string(e.what()) == "no data dir given");
  }
}

BOOST_AUTO_TEST_SUITE_END()
