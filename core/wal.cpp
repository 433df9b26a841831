#include "core/wal.hpp"

#include <boost/crc.hpp>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <map>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

namespace godistlock::core {

namespace {

constexpr char log_file[] = "locks.log";
constexpr char rotated_log_file[] = "locks.log.1";
constexpr char snapshot_file[] = "locks.snapshot";
constexpr char snapshot_tmp_file[] = "locks.snapshot.tmp";
constexpr char lock_file[] = "LOCK";
constexpr uint32_t max_record_bytes = 16u << 20;
constexpr size_t header_bytes = 8; // u32 length, u32 crc

void put_u32(std::string& out, uint32_t v) {
  for (int i = 0; i < 4; ++i)
    out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

uint32_t get_u32(const char* p) {
  uint32_t v = 0;
  for (int i = 0; i < 4; ++i)
    v |= static_cast<uint32_t>(static_cast<unsigned char>(p[i])) << (8 * i);
  return v;
}

// The checksum covers the length too, so a damaged length is caught.
uint32_t checksum(uint32_t length, std::string_view payload) {
  boost::crc_32_type crc;
  std::string len;
  put_u32(len, length);
  crc.process_bytes(len.data(), len.size());
  crc.process_bytes(payload.data(), payload.size());
  return crc.checksum();
}

void encode_record(std::string& out, std::string_view key, std::string_view value) {
  std::string payload;
  payload.reserve(4 + key.size() + value.size());
  put_u32(payload, static_cast<uint32_t>(key.size()));
  payload.append(key);
  payload.append(value);
  auto length = static_cast<uint32_t>(payload.size());
  put_u32(out, length);
  put_u32(out, checksum(length, payload));
  out.append(payload);
}

std::string errno_text() {
  return std::strerror(errno);
}

void write_all(int fd, std::string_view data, const std::string& what) {
  while (!data.empty()) {
    auto n = ::write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR)
        continue;
      throw StorageError("cannot write " + what + ": " + errno_text());
    }
    data.remove_prefix(static_cast<size_t>(n));
  }
}

void sync_fd(int fd, const std::string& what) {
  if (::fdatasync(fd) != 0)
    throw StorageError("cannot sync " + what + ": " + errno_text());
}

void sync_dir(const std::string& dir) {
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0)
    throw StorageError("cannot open data dir " + dir + ": " + errno_text());
  int rc = ::fsync(fd);
  ::close(fd);
  if (rc != 0)
    throw StorageError("cannot sync data dir " + dir + ": " + errno_text());
}

// Replaces `final_path` with `contents` so that a crash leaves either the
// old file or the complete new one: write a temp file, sync, rename, sync
// the directory.
void replace_file_durably(const std::string& dir, const std::string& final_path,
                          const std::string& tmp, std::string_view contents) {
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0)
    throw StorageError("cannot create " + tmp + ": " + errno_text());
  try {
    write_all(fd, contents, tmp);
    if (::fsync(fd) != 0)
      throw StorageError("cannot sync " + tmp + ": " + errno_text());
  } catch (...) {
    ::close(fd);
    throw;
  }
  ::close(fd);
  if (::rename(tmp.c_str(), final_path.c_str()) != 0)
    throw StorageError("cannot install " + final_path + ": " + errno_text());
  sync_dir(dir);
}

std::string read_file(const std::string& path, bool& exists) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) {
      exists = false;
      return {};
    }
    throw StorageError("cannot open " + path + ": " + errno_text());
  }
  exists = true;
  // Straight into a buffer of the file's size: a data dir with a million
  // locks holds hundreds of megabytes, and growing a string chunk by chunk
  // copies them several times over.
  struct stat st {};
  std::string data;
  if (::fstat(fd, &st) == 0 && st.st_size > 0)
    data.resize(static_cast<size_t>(st.st_size) + 1); // + 1: room to see the end

  size_t filled = 0;
  for (;;) {
    if (filled == data.size())
      data.resize(std::max<size_t>(data.size() * 2, 1 << 16)); // the file grew meanwhile
    auto n = ::read(fd, data.data() + filled, data.size() - filled);
    if (n < 0) {
      if (errno == EINTR)
        continue;
      ::close(fd);
      throw StorageError("cannot read " + path + ": " + errno_text());
    }
    if (n == 0)
      break;
    filled += static_cast<size_t>(n);
  }
  data.resize(filled);
  ::close(fd);
  return data;
}

bool all_zero(std::string_view s) {
  for (char c : s)
    if (c != 0)
      return false;
  return true;
}

// True when a complete record with a matching checksum starts somewhere in
// `data` at or after `from`. A record that runs past the end of the log is
// a torn write only if nothing valid follows it; otherwise its length field
// was damaged and the records after it must not be dropped.
bool valid_record_follows(std::string_view data, size_t from) {
  for (size_t at = from; at + header_bytes <= data.size(); ++at) {
    auto rest = data.substr(at);
    uint32_t length = get_u32(rest.data());
    if (length < 4 || length > max_record_bytes || header_bytes + length > rest.size())
      continue;
    if (checksum(length, rest.substr(header_bytes, length)) == get_u32(rest.data() + 4))
      return true;
  }
  return false;
}

} // namespace

bool Wal::holds_data(const std::string& dir) {
  struct stat st {};
  return ::stat((dir + "/" + log_file).c_str(), &st) == 0 ||
         ::stat((dir + "/" + rotated_log_file).c_str(), &st) == 0 ||
         ::stat((dir + "/" + snapshot_file).c_str(), &st) == 0;
}

std::optional<std::string> Wal::read_meta(const std::string& name) const {
  bool exists = false;
  auto data = read_file(options_.dir + "/" + name, exists);
  if (!exists)
    return std::nullopt;
  return data;
}

void Wal::write_meta(const std::string& name, const std::string& contents) {
  auto final_path = options_.dir + "/" + name;
  replace_file_durably(options_.dir, final_path, final_path + ".tmp", contents);
}

void Wal::remove_meta(const std::string& name) {
  auto final_path = options_.dir + "/" + name;
  if (::unlink(final_path.c_str()) != 0 && errno != ENOENT)
    throw StorageError("cannot remove " + final_path + ": " + errno_text());
  sync_dir(options_.dir);
}

std::string Wal::path(const char* file) const {
  return options_.dir + "/" + file;
}

Wal::Wal(Options options, const Visitor& visit) : options_(std::move(options)) {
  if (options_.dir.empty())
    throw StorageError("no data dir given");
  if (::mkdir(options_.dir.c_str(), 0755) != 0 && errno != EEXIST)
    throw StorageError("cannot create data dir " + options_.dir + ": " + errno_text());
  struct stat st {};
  if (::stat(options_.dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode))
    throw StorageError("data dir " + options_.dir + " is not a directory");
  // One node per data dir: two writers would interleave their logs.
  dir_lock_fd_ = ::open(path(lock_file).c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (dir_lock_fd_ < 0)
    throw StorageError("cannot write to data dir " + options_.dir + ": " + errno_text());
  if (::flock(dir_lock_fd_, LOCK_EX | LOCK_NB) != 0) {
    ::close(dir_lock_fd_);
    dir_lock_fd_ = -1;
    throw StorageError("data dir " + options_.dir + " is in use by another process");
  }
  // The destructor does not run when the constructor throws: release the
  // dir lock here, or this process could never open the dir again.
  try {
    snapshot_bytes_ = replay_file(path(snapshot_file), false, visit);
    replay_file(path(rotated_log_file), true, visit);
    rotated_exists_ = ::access(path(rotated_log_file).c_str(), F_OK) == 0;
    replay_file(path(log_file), true, visit);
    open_log();
  } catch (...) {
    if (log_fd_ >= 0)
      ::close(log_fd_);
    ::close(dir_lock_fd_);
    log_fd_ = dir_lock_fd_ = -1;
    throw;
  }
}

Wal::~Wal() {
  if (log_fd_ >= 0)
    ::close(log_fd_);
  if (dir_lock_fd_ >= 0)
    ::close(dir_lock_fd_);
}

uint64_t Wal::replay_file(const std::string& file, bool is_log, const Visitor& visit) {
  bool exists = false;
  auto data = read_file(file, exists);
  if (!exists)
    return 0;
  size_t offset = 0;
  while (offset < data.size()) {
    auto rest = std::string_view(data).substr(offset);
    bool torn = rest.size() < header_bytes || all_zero(rest);
    uint32_t length = torn ? 0 : get_u32(rest.data());
    if (!torn && length > max_record_bytes)
      throw StorageError("corrupted record in " + file + " at offset " + std::to_string(offset) +
                         ": implausible length " + std::to_string(length));
    if (!torn && header_bytes + length > rest.size()) {
      if (valid_record_follows(data, offset + 1))
        throw StorageError("corrupted record in " + file + " at offset " + std::to_string(offset) +
                           ": length " + std::to_string(length) +
                           " runs past the end of the file, but valid records follow");
      torn = true;
    }
    if (torn) {
      if (!is_log)
        throw StorageError("corrupted record in " + file + " at offset " + std::to_string(offset) +
                           ": file ends inside a record");
      // Only the last, never-acknowledged write can be cut short by a crash.
      warnings_.push_back("dropped an incomplete record at the end of " + file + " (offset " +
                          std::to_string(offset) + ", " + std::to_string(rest.size()) +
                          " bytes): a write interrupted by a crash");
      if (::truncate(file.c_str(), static_cast<off_t>(offset)) != 0)
        throw StorageError("cannot truncate " + file + ": " + errno_text());
      tail_bytes_dropped_ += rest.size();
      break;
    }
    auto payload = rest.substr(header_bytes, length);
    if (checksum(length, payload) != get_u32(rest.data() + 4))
      throw StorageError("corrupted record in " + file + " at offset " + std::to_string(offset) +
                         ": checksum mismatch");
    if (payload.size() < 4 || get_u32(payload.data()) > payload.size() - 4)
      throw StorageError("corrupted record in " + file + " at offset " + std::to_string(offset) +
                         ": bad key length");
    auto key_len = get_u32(payload.data());
    visit(payload.substr(4, key_len), payload.substr(4 + key_len));
    offset += header_bytes + length;
  }
  return offset;
}

void Wal::open_log() {
  log_fd_ = ::open(path(log_file).c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (log_fd_ < 0)
    throw StorageError("cannot open " + path(log_file) + ": " + errno_text());
  struct stat st {};
  if (::fstat(log_fd_, &st) != 0)
    throw StorageError("cannot stat " + path(log_file) + ": " + errno_text());
  log_bytes_ = static_cast<uint64_t>(st.st_size);
  // The log's directory entry must itself be durable.
  sync_dir(options_.dir);
}

void Wal::append(std::string_view key, std::string_view value) {
  encode_record(pending_, key, value);
  ++pending_records_;
}

void Wal::commit() {
  if (pending_.empty())
    return;
  write_all(log_fd_, pending_, path(log_file));
  if (options_.fsync)
    sync_fd(log_fd_, path(log_file));
  log_bytes_ += pending_.size();
  records_committed_ += pending_records_;
  ++commits_;
  pending_.clear();
  pending_records_ = 0;
}

bool Wal::wants_compaction() const {
  if (compacting_)
    return false;
  return rotated_exists_ || log_bytes_ >= std::max(options_.compact_after_bytes, snapshot_bytes_);
}

Wal::Compaction Wal::rotate() {
  commit();
  compacting_ = true;
  // A rotated log left by a crash is merged first, on its own: renaming
  // over it would lose its records.
  if (!rotated_exists_ && log_bytes_ > 0) {
    if (::rename(path(log_file).c_str(), path(rotated_log_file).c_str()) != 0)
      throw StorageError("cannot rename " + path(log_file) + ": " + errno_text());
    ::close(log_fd_);
    log_fd_ = -1;
    rotated_exists_ = true;
    open_log(); // creates the new log and syncs the directory (the rename too)
    log_bytes_ = 0;
  }
  return Compaction{options_.dir};
}

uint64_t Wal::merge_rotated(const Compaction& job) {
  auto at = [&](const char* file) { return job.dir + "/" + file; };
  std::map<std::string, std::string> latest;
  Visitor keep = [&](std::string_view k, std::string_view v) {
    latest[std::string(k)] = std::string(v);
  };
  // A throwaway reader: replay_file needs no open Wal state but its
  // warnings, and the rotated log was complete when it was renamed.
  Wal reader;
  reader.replay_file(at(snapshot_file), false, keep);
  reader.replay_file(at(rotated_log_file), true, keep);
  std::string out;
  for (auto& [k, v] : latest)
    encode_record(out, k, v);
  // Crash after the snapshot is installed: the rotated log replays over the
  // new snapshot and yields the same newest values, so this order is safe.
  replace_file_durably(job.dir, at(snapshot_file), at(snapshot_tmp_file), out);
  if (::unlink(at(rotated_log_file).c_str()) != 0 && errno != ENOENT)
    throw StorageError("cannot remove " + at(rotated_log_file) + ": " + errno_text());
  sync_dir(job.dir);
  return out.size();
}

void Wal::compaction_done(uint64_t snapshot_bytes) {
  snapshot_bytes_ = snapshot_bytes;
  rotated_exists_ = false;
  compacting_ = false;
}

void Wal::compact() {
  // A rotated log left by a crash first, then the live log.
  for (int pass = 0; pass < 2; ++pass) {
    auto job = rotate();
    compaction_done(rotated_exists_ ? merge_rotated(job) : snapshot_bytes_);
  }
}

} // namespace godistlock::core
