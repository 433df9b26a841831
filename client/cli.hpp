// The `godistlock` command-line tool: takes, releases and inspects locks from
// shell scripts, and runs a command while holding a lock. Its output formats
// and exit statuses are a contract that scripts rely on.
#pragma once

#include "net/endpoint.hpp"

#include <chrono>
#include <cstdint>
#include <iosfwd>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace godistlock::client {

// Exit statuses of the tool.
constexpr int exit_ok = 0;
constexpr int exit_refused = 1;     // not acquired in time, not the holder, token not current
constexpr int exit_bad_usage = 2;   // bad usage or bad input; nothing was sent
constexpr int exit_unavailable = 3; // no server reachable, no quorum, or a server-side failure
constexpr int exit_lock_lost = 4;   // the lock was lost while `run` was running its command

extern const char* const cli_usage;

// Help on one command: its lines of cli_usage, then what every command
// shares (durations, limits, servers, exit statuses).
std::string command_help(std::string_view command);

// A parsed and fully validated command line.
struct CliCommand {
  bool help = false;
  std::string help_topic; // with help: the command asked about ("help run", "run --help")
  bool version = false;
  std::string command; // acquire, try, release, refresh, check, status, stats, cluster, run
  std::vector<net::Endpoint> servers;
  std::chrono::milliseconds attempt_timeout{5000};
  std::string name;
  std::chrono::milliseconds ttl{30000};
  std::optional<std::chrono::milliseconds> wait; // nullopt: wait forever
  std::optional<int> conflict_exit_code;         // exit status when not acquired (else 1)
  std::string owner;                             // empty: unique to this invocation
  uint64_t token = 0;
  bool json = false;  // one JSON object on stdout
  bool quiet = false; // acquire, run: no progress line while waiting
  // Set by run_cli: a waiting acquire or run shows a progress line (stderr
  // is a terminal and no --quiet).
  bool progress = false;
  std::vector<std::string> program; // run: the command and its arguments
};

// Parses argv (without argv[0]). `servers_env` is $GODISTLOCK_SERVERS (null
// when unset). Returns an empty string on success, otherwise a one-line
// error for the user.
std::string parse_cli_command_line(const std::vector<std::string>& args, const char* servers_env,
                                   CliCommand& out);

// Runs the tool: parses `args` (without argv[0]), talks to the servers and
// returns the exit status. Results go to `out`, diagnostics to `err`.
int run_cli(const std::vector<std::string>& args, std::ostream& out, std::ostream& err);

} // namespace godistlock::client
