// Durable key/value records for a node's data dir: a snapshot plus an
// append-only log, every record checksummed. Keys are lock names, values
// are opaque bytes (an encoded acceptor record). The newest record of a key
// wins. Plain C++: the storage actor owns one and decides when to commit.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace godistlock::core {

// A data dir problem the node must not paper over: it names the file and,
// for damaged records, the byte offset.
class StorageError : public std::runtime_error {
public:
  using std::runtime_error::runtime_error;
};

class Wal {
public:
  struct Options {
    std::string dir;
    bool fsync = true;                       // false: --durability none
    uint64_t compact_after_bytes = 64 << 20; // log size that triggers compaction
  };
  using Visitor = std::function<void(std::string_view key, std::string_view value)>;

  // Opens (creating if needed) and locks the data dir, then replays the
  // snapshot and the log through `visit`, oldest first. A record cut short
  // at the very end of the log (a crash during an unacknowledged write) is
  // dropped with a warning in `warnings()` naming the file, offset and size,
  // and counted in `tail_bytes_dropped()`; any other damage throws.
  Wal(Options options, const Visitor& visit);
  ~Wal();
  Wal(const Wal&) = delete;
  Wal& operator=(const Wal&) = delete;

  // Buffers a record; nothing is durable before commit().
  void append(std::string_view key, std::string_view value);
  // Writes the buffered records and (unless fsync is off) waits for the disk.
  // Throws StorageError if the write or the sync fails.
  void commit();
  // The log has grown past max(compact_after_bytes, the snapshot's size),
  // or a rotated log was left by a crash; and no compaction is running.
  bool wants_compaction() const;

  // Compaction in the background, so commits never wait for it: rotate()
  // renames the log to locks.log.1 (after committing what is buffered) and
  // starts a new one; merge_rotated() then folds locks.log.1 into the
  // snapshot and removes it. merge_rotated touches only the snapshot and
  // the rotated log, never the live log, so it may run on another thread
  // while this Wal appends and commits; call compaction_done() with its
  // result afterwards. Replay reads the snapshot, locks.log.1, locks.log in
  // that order, which gives the newest value of every key after a crash at
  // any step.
  struct Compaction {
    std::string dir;
  };
  Compaction rotate();
  static uint64_t merge_rotated(const Compaction& job); // returns the snapshot's size
  void compaction_done(uint64_t snapshot_bytes);
  // rotate() and merge_rotated() in this thread: the snapshot then holds
  // every record and the log is empty.
  void compact();

  const std::vector<std::string>& warnings() const { return warnings_; }
  // Bytes of torn tail cut off the log since this Wal was opened.
  uint64_t tail_bytes_dropped() const { return tail_bytes_dropped_; }
  // Whether the dir holds a snapshot or a log, asked without opening (and
  // so without creating) anything: a refused start must leave the dir as it
  // found it.
  static bool holds_data(const std::string& dir);

  // A small named file beside the log (e.g. the membership this data was
  // written under): read it, or write it durably (temp file, sync, rename).
  std::optional<std::string> read_meta(const std::string& name) const;
  void write_meta(const std::string& name, const std::string& contents);
  // Removes a small file written by write_meta, durably; absent is fine.
  void remove_meta(const std::string& name);
  uint64_t log_bytes() const { return log_bytes_; }
  uint64_t commits() const { return commits_; }
  uint64_t records_committed() const { return records_committed_; }

private:
  Wal() = default; // a reader for merge_rotated: no dir lock, no log open
  // Returns the bytes of valid records read (0 for a missing file).
  uint64_t replay_file(const std::string& path, bool is_log, const Visitor& visit);
  void open_log();
  std::string path(const char* file) const;

  Options options_;
  int dir_lock_fd_ = -1;
  int log_fd_ = -1;
  uint64_t log_bytes_ = 0;
  uint64_t snapshot_bytes_ = 0;
  bool rotated_exists_ = false; // locks.log.1 is there: merge before rotating again
  bool compacting_ = false;
  std::string pending_;
  size_t pending_records_ = 0;
  uint64_t commits_ = 0;
  uint64_t records_committed_ = 0;
  std::vector<std::string> warnings_;
  uint64_t tail_bytes_dropped_ = 0;
};

} // namespace godistlock::core
