// What the WAL tests share: a temp dir, opening a Wal and collecting what
// it replays, and whole-file reads and writes.
#pragma once

#include "core/wal.hpp"

#include <boost/test/unit_test.hpp>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <string>
#include <unistd.h>
#include <utility>
#include <vector>

namespace gdl_wal_test {

namespace fs = std::filesystem;
using godistlock::core::Wal;

// A fresh directory under /tmp, removed with everything in it afterwards.
struct TempDir {
  std::string path;
  TempDir() {
    char tmpl[] = "/tmp/gdl-wal-test-XXXXXX";
    char* p = ::mkdtemp(tmpl);
    BOOST_REQUIRE(p != nullptr);
    path = p;
  }
  ~TempDir() {
    std::error_code ec;
    fs::permissions(path, fs::perms::owner_all, fs::perm_options::add, ec);
    fs::remove_all(path, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  std::string operator/(const std::string& name) const { return path + "/" + name; }
};

using Records = std::vector<std::pair<std::string, std::string>>;

struct Opened {
  std::unique_ptr<Wal> wal;
  Records seen;
  std::map<std::string, std::string> latest() const {
    std::map<std::string, std::string> m;
    for (auto& [k, v] : seen)
      m[k] = v;
    return m;
  }
};

inline Opened open_wal(const std::string& dir, bool fsync = true,
                       uint64_t compact_after = 64 << 20) {
  Opened o;
  Wal::Options opts;
  opts.dir = dir;
  opts.fsync = fsync;
  opts.compact_after_bytes = compact_after;
  o.wal = std::make_unique<Wal>(opts, [&](std::string_view k, std::string_view v) {
    o.seen.emplace_back(std::string(k), std::string(v));
  });
  return o;
}

inline std::string read_all(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

inline void write_all(const std::string& path, const std::string& data) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << data;
  BOOST_REQUIRE(out.good());
}

} // namespace gdl_wal_test
