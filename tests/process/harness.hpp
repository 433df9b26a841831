// Process-level test harness: starts real godistlock-node processes and runs
// the godistlock CLI with fork/exec. Rules every test relies on:
//  - everything binds 127.0.0.1 only, on ports picked free at run time;
//  - every child is tracked by PID and killed (SIGKILL to its process group,
//    then waitpid) when its owner goes away, even when a check failed;
//  - every wait is bounded in time;
//  - scratch files and data dirs live in a fresh /tmp directory that is
//    removed afterwards.
#pragma once

#include <boost/test/unit_test.hpp>

#include <chrono>
#include <csignal>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <sys/types.h>
#include <vector>

namespace gdl_process {

using Millis = std::chrono::milliseconds;
using namespace std::chrono_literals;

// The binaries under test: those of this build, or of $GDL_TEST_BIN_DIR if set.
std::string node_binary();
std::string cli_binary();
bool cli_available();

// ------------------------------------------------------------------ files

std::string read_file(const std::string& path);
void write_file(const std::string& path, const std::string& content);
bool file_exists(const std::string& path);
std::string trim(std::string_view text);
std::vector<std::string> split_lines(const std::string& text);

// A fresh directory /tmp/gdl-proc-XXXXXX, removed (recursively) on destruction.
class TempDir {
public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }
  std::string file(const std::string& name) const { return path_ + "/" + name; }

private:
  std::string path_;
};

// ------------------------------------------------------------------ network

// A port nothing listens on right now: bind 127.0.0.1:0, read it, close.
uint16_t free_loopback_port();

// Connects to 127.0.0.1:port, sends `bytes` (as much as the peer takes),
// half-closes, reads until EOF or `io_limit`, closes. Returns false if the
// connection could not even be made.
bool send_raw_bytes(uint16_t port, const std::string& bytes, Millis io_limit = 2000ms);

// ------------------------------------------------------------------ processes

struct Exit {
  bool exited = false; // normal exit (else: killed by `signal`)
  int code = -1;
  int signal = 0;
  bool timed_out = false; // we had to kill it
  // Exit code, or -1000 - signal when killed by a signal.
  int status() const { return exited ? code : -1000 - signal; }
  std::string describe() const;
};

// A child process started with fork/exec in its own process group; stdin is
// /dev/null, stdout and stderr go to files. The destructor SIGKILLs the
// group and reaps the child if it still runs.
class Child {
public:
  // max_fds > 0: RLIMIT_NOFILE of the child.
  Child(const std::vector<std::string>& argv, const std::string& out_path,
        const std::string& err_path, const std::map<std::string, std::string>& env = {},
        unsigned max_fds = 0);
  ~Child();
  Child(const Child&) = delete;
  Child& operator=(const Child&) = delete;

  pid_t pid() const { return pid_; }
  const std::vector<std::string>& argv() const { return argv_; }
  // Reaps the child if it has exited.
  bool running();
  // Waits at most `limit` for the child to exit; nullopt if it still runs.
  std::optional<Exit> wait_for(Millis limit);
  // Waits at most `limit`; kills the group if it still runs then (timed_out).
  Exit wait_or_kill(Millis limit);
  void send_signal(int sig);
  Exit kill_and_reap();
  const std::optional<Exit>& exit() const { return exit_; }
  std::string out() const { return read_file(out_path_); }
  std::string err() const { return read_file(err_path_); }
  double seconds_running() const;
  std::string describe() const; // command line, exit, output: for failure messages

private:
  void reap(int wstatus);

  std::vector<std::string> argv_;
  std::string out_path_, err_path_;
  pid_t pid_ = -1;
  std::optional<Exit> exit_;
  std::chrono::steady_clock::time_point started_;
};

// Kills every child still registered (safety net at process exit).
void kill_all_children();

// Is process `pid` gone (no such process, or a zombie)?
bool process_gone(pid_t pid);

// Polls `predicate` every `step` until it holds or `limit` passed.
bool eventually(const std::function<bool()>& predicate, Millis limit, Millis step = 25ms);

// ------------------------------------------------------------------ JSON

// Just enough JSON for the CLI's --json output.
struct Json {
  enum class Type { null, boolean, number, string, array, object };
  Type type = Type::null;
  bool boolean = false;
  std::string text; // number literal or string value
  std::vector<Json> array;
  std::map<std::string, Json> object;

  bool has(const std::string& key) const;
  const Json* get(const std::string& key) const;
};
std::optional<Json> parse_json(std::string_view text);
// An unsigned integer member: a JSON number or a string of digits (proto3 JSON
// renders uint64 as strings). nullopt if absent or anything else.
std::optional<uint64_t> json_uint(const Json& object, const std::string& key);
// The field as an integer; fails the test (REQUIRE) when missing.
uint64_t uint_field(const Json& object, const std::string& key);
bool contains(const std::string& text, const std::string& part);
std::optional<bool> json_bool(const Json& object, const std::string& key);
std::optional<std::string> json_string(const Json& object, const std::string& key);

// ------------------------------------------------------------------ CLI

struct CliResult {
  std::vector<std::string> args;
  Exit exit;
  std::string out, err;
  double seconds = 0;
  int code() const { return exit.status(); }
  std::string describe() const;
};

// A positive decimal token alone on stdout (one line).
std::optional<uint64_t> parse_token_output(const std::string& out);
// A bad-usage answer: exit 2, nothing on stdout, one line on stderr.
void check_usage_error(const CliResult& r);
inline std::string str(uint64_t v) {
  return std::to_string(v);
}

// ------------------------------------------------------------------ nodes

class Harness;

class Node {
public:
  const std::string& id() const { return id_; }
  uint16_t port() const { return port_; }
  std::string endpoint() const { return "127.0.0.1:" + std::to_string(port_); }
  const std::string& data_dir() const { return data_dir_; }
  Child& child() { return *child_; }
  std::string log() const { return child_->err(); }
  bool alive() { return child_->running(); }
  // SIGTERM (or `sig`), then wait up to `limit`; killed if it takes longer.
  Exit stop(int sig = SIGTERM, Millis limit = 10000ms);
  Exit kill9() { return child_->kill_and_reap(); }

private:
  friend class Harness;
  std::string id_, data_dir_;
  uint16_t port_ = 0;
  std::unique_ptr<Child> child_;
};

// Base of every fixture: owns the scratch dir and every child it started.
class Harness {
public:
  Harness();
  virtual ~Harness();

  const TempDir& scratch() const { return scratch_; }
  std::string scratch_file(const std::string& stem);

  // Starts godistlock-node on 127.0.0.1 and waits up to 10 s for "ready on".
  // port 0: pick a free port (retrying on collisions). data_dir empty:
  // <scratch>/data-<id>. Fails the test (REQUIRE) if it does not get ready.
  Node& start_node(const std::string& id, uint16_t port = 0, std::string data_dir = {},
                   const std::vector<std::string>& extra = {});
  // Nodes started from now on get at most `n` file descriptors (0: no limit).
  void limit_node_fds(unsigned n) { node_fd_limit_ = n; }
  // Starts godistlock-node with raw arguments, expecting it NOT to become
  // ready: waits up to `limit` for it to exit. The Child stays tracked.
  Child& start_node_expect_exit(const std::vector<std::string>& args, Millis limit = 10000ms);
  // Starts godistlock-node with exactly `args` and returns at once.
  Child& start_node_process(const std::vector<std::string>& args);

  // Runs the CLI with exactly `args`, at most `limit`.
  CliResult cli(const std::vector<std::string>& args, Millis limit = 20000ms);
  // The CLI with "--servers <servers>" in front of `args`.
  CliResult cli_at(const std::string& servers, const std::vector<std::string>& args,
                   Millis limit = 20000ms);
  // Starts the CLI in the background; the Child is owned by the harness.
  Child& cli_background(const std::vector<std::string>& args,
                        const std::map<std::string, std::string>& env = {});

  Child& track(std::unique_ptr<Child> child);

private:
  TempDir scratch_;
  int counter_ = 0;
  unsigned node_fd_limit_ = 0;
  std::vector<std::unique_ptr<Child>> children_;
  std::vector<std::unique_ptr<Node>> nodes_;
};

// One running node "n1"; `gdl(...)` runs the CLI against it.
struct NodeFixture : Harness {
  NodeFixture();
  Node* node = nullptr;
  std::vector<std::string> with_servers(std::vector<std::string> args) const;
  CliResult gdl(const std::vector<std::string>& args, Millis limit = 20000ms);
  Child& gdl_background(const std::vector<std::string>& args);
  // acquire (must succeed) and return the token.
  uint64_t acquire(const std::string& name, const std::string& owner,
                   const std::string& ttl = "30s");
  // status --json (must succeed and parse).
  Json status(const std::string& name);
  Json stats();
  // Waits (bounded) until status shows `n` waiters.
  bool wait_for_waiters(const std::string& name, uint64_t n, Millis limit = 10000ms);
};

// A cluster on loopback: members n1..nN, each started with --listen itself
// and --peers the others (every node gets the same member list). Members are
// numbered from 1, like their ids.
struct ClusterFixture : Harness {
  struct Member {
    std::string id;
    uint16_t port = 0;
    std::string data_dir;
    Node* node = nullptr; // the newest process of this member
  };
  std::vector<Member> members;
  bool named_peers = false; // --peers as ID@HOST:PORT instead of HOST:PORT

  // Picks n distinct free ports, starts every member with --bootstrap (a
  // brand-new cluster) and waits (bounded) until each one is connected to
  // every peer and voting.
  void start_cluster(size_t n, bool named = false);
  // Only picks the members' ports and data dirs; nothing is started.
  void plan_cluster(size_t n, bool named = false);
  // The cluster arguments of member i: --peers ... (no --bootstrap).
  std::vector<std::string> cluster_args(size_t i) const;
  // The full command line of member i (without the binary).
  std::vector<std::string> node_args(size_t i) const;
  Node& node(size_t i) { return *members.at(i - 1).node; }
  std::string endpoint(size_t i) const;
  // Comma-separated endpoints of `which` (every member if empty).
  std::string servers(const std::vector<size_t>& which = {}) const;
  // Starts member i again on its port and data dir, WITHOUT --bootstrap.
  Node& restart(size_t i);
  // Removes member i's data dir (a lost disk); the member must be stopped.
  void wipe(size_t i);
  // Times member i's newest log says "connected to peer <id of j>".
  size_t connections_logged(size_t i, size_t j);
  // Waits until member i logged a connection to every member in `peers`
  // (every other member if empty) at least `times` times.
  bool wait_connected(size_t i, const std::vector<size_t>& peers = {}, size_t times = 1,
                      Millis limit = 10000ms);
};

} // namespace gdl_process
