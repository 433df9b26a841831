// Parts of the `godistlock` tool shared by its commands (client/cli.cpp) and
// by `run` (client/run_command.cpp). Not a public interface.
#pragma once

#include "client/cli.hpp"
#include "client/client.hpp"

#include <iosfwd>
#include <string>
#include <string_view>

namespace godistlock::client::cli {

extern const char* const message_prefix;

int exit_status_for(Status status);
// Prints `what: reason` on `err`; returns the exit status for `reply`.
int report_failure(std::ostream& err, const std::string& what, const Reply& reply);
// As report_failure, but "not acquired" exits with --conflict-exit-code if given.
int report_acquire_failure(std::ostream& err, const CliCommand& cmd, const Reply& reply);
std::string describe_lock(const CliCommand& cmd);

// JSON output: a string literal (escaped, UTF-8 passed through) and a bool.
std::string json_string(std::string_view text);
const char* json_bool(bool value);
// ok, not_acquired, not_holder, invalid_argument, unavailable, internal.
const char* status_code(Status status);
// With --json, a failed command's object on `out`: {"command", "name" (for
// a lock), "error" (status_code), "message", "exit_code"}. The line on
// `err` is written either way. Returns `exit_code`.
int json_failure(std::ostream& out, const CliCommand& cmd, const Reply& reply, int exit_code);
// report_failure / report_acquire_failure, plus json_failure with --json.
int fail(std::ostream& out, std::ostream& err, const CliCommand& cmd, const Reply& reply);

// `stats` and `cluster` (client/cli_nodes.cpp).
int stats_command(Client& client, const CliCommand& cmd, std::ostream& out, std::ostream& err);
int cluster_command(Client& client, const CliCommand& cmd, std::ostream& out, std::ostream& err);

struct Acquired {
  AcquireReply reply;
  int signal = 0; // a stop signal that arrived while waiting (0: none)
};

// Acquires as `cmd` says (try, or wait up to --wait). A stop signal, caught by
// the caller's CaughtSignals, makes the request leave the wait queue before
// this returns; the reply may still hold a grant that raced with it, which
// the caller must give back. If the servers do not let go within the attempt
// timeout (or a second signal comes), the tool exits 128 + signal at once.
Acquired acquire_interruptible(Client& client, const CliCommand& cmd, std::ostream& err);

} // namespace godistlock::client::cli
