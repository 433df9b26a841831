#include "client/cli.hpp"

#include "client/cli_common.hpp"
#include "client/cli_signals.hpp"
#include "client/client.hpp"
#include "client/run_command.hpp"
#include "core/limits.hpp"
#include "godistlock/version.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <future>
#include <ostream>
#include <set>
#include <string_view>

namespace godistlock::client {

const char* const cli_usage =
    "usage: godistlock [--servers HOST:PORT[,HOST:PORT...]] [--timeout DUR] COMMAND ...\n"
    "       godistlock --version | --help | help [COMMAND]\n"
    "\n"
    "commands:\n"
    "  acquire NAME [--ttl DUR] [--wait DUR] [--owner ID] [--conflict-exit-code N] [--quiet]\n"
    "                 wait for the lock (forever unless --wait); print its token\n"
    "  try NAME [--ttl DUR] [--owner ID] [--conflict-exit-code N]\n"
    "                 take the lock only if it is free now; print its token\n"
    "  release NAME --token N              give the lock back\n"
    "  refresh NAME --token N [--ttl DUR]  extend the lease\n"
    "  check NAME --token N                print current or not current\n"
    "  status NAME                         who holds the lock\n"
    "  stats                               counters, peers and quorum of one server\n"
    "  cluster                             which servers answer, whom each node sees;\n"
    "                                      is there a quorum\n"
    "  run NAME [--ttl DUR] [--wait DUR] [--owner ID] [--conflict-exit-code N] [--quiet] -- CMD "
    "[ARGS...]\n"
    "                 run CMD while holding the lock (it sees GODISTLOCK_NAME and\n"
    "                 GODISTLOCK_TOKEN); CMD and its process group are stopped if the\n"
    "                 lock is lost, and killed if godistlock dies\n"
    "\n"
    "DUR is 250ms, 30s, 5m, 1h or 2d; a bare number means seconds. Limits: --ttl 100ms\n"
    "to 24h (default 30s); --wait 0 to 30d, or inf (the default: wait forever);\n"
    "--timeout 1ms to 1h (default 5s, per attempt at a server). --owner is unique to\n"
    "this invocation unless given. Servers come from $GODISTLOCK_SERVERS, else\n"
    "127.0.0.1:7001,127.0.0.1:7002,127.0.0.1:7003.\n"
    "A waiting acquire or run that is stopped (Ctrl-C, SIGTERM, SIGHUP, ...) or whose\n"
    "--wait runs out leaves the wait queue before it exits. A NAME that starts with -\n"
    "goes after --: try -- -name; run [OPTIONS] -- -name -- CMD.\n"
    "Every command takes --json: one JSON object on stdout instead of text, failures\n"
    "too ({\"error\": ...}); run writes it after CMD's output. While acquire or run\n"
    "waits on a terminal, a progress line on stderr shows the place in the queue, the\n"
    "holder and the time waited; --quiet (or stderr not a terminal) turns it off.\n"
    "\n"
    "exit status: 0 ok; 1 not acquired (or N from --conflict-exit-code N, 0-255), not\n"
    "the holder or token not current; 2 bad usage or input; 3 no server reachable or\n"
    "no quorum; 4 lock lost during run; 128+N stopped by signal N. run exits with\n"
    "CMD's status otherwise (128+N if killed by signal N), 127 if CMD is not found\n"
    "and 126 if it is not executable (both checked before the lock is taken).\n";

std::string command_help(std::string_view command) {
  std::string_view usage = cli_usage;
  auto commands_at = usage.find("\ncommands:\n");
  auto shared_at = usage.find("\n\n", commands_at + 1);
  std::string out = "usage: godistlock [--servers HOST:PORT[,...]] [--timeout DUR] ";
  bool in_entry = false;
  // An entry is its "  COMMAND ..." line and the more deeply indented
  // lines that continue it.
  for (size_t at = commands_at + 11; at < shared_at;) {
    auto end = usage.find('\n', at);
    auto line = usage.substr(at, end - at);
    at = end + 1;
    bool starts_entry = line.size() > 2 && line[2] != ' ';
    if (starts_entry) {
      auto word = line.substr(2, line.find(' ', 2) - 2);
      in_entry = word == command;
      if (in_entry) {
        auto text = line.substr(2);
        auto gap = text.find("   ");
        out += std::string(text.substr(0, gap)) + "\n";
        if (gap != std::string_view::npos)
          out += "  " + std::string(text.substr(text.find_first_not_of(' ', gap))) + "\n";
      }
    } else if (in_entry) {
      out += "  " + std::string(line.substr(line.find_first_not_of(' '))) + "\n";
    }
  }
  return out + std::string(usage.substr(shared_at + 1));
}

namespace {

using namespace std::chrono;
using namespace cli;

// ------------------------------------------------------------ commands

// The printed token is the only proof of the grant: when it cannot be written,
// nobody holds the lock, so it is given back at once rather than left taken
// until its lease runs out.
int acquire_command(Client& client, const CliCommand& cmd, std::ostream& out, std::ostream& err) {
  CaughtSignals caught(wait_stop_signals);
  auto acquired = acquire_interruptible(client, cmd, err);
  auto& reply = acquired.reply;
  auto give_back = [&] {
    if (client.release(cmd.name, reply.lease.token).ok())
      return true;
    err << message_prefix << "could not give back '" << cmd.name
        << "'; it stays taken until its lease ends\n";
    return false;
  };
  if (acquired.signal) {
    bool given_back = reply.ok() && give_back();
    err << message_prefix << describe_lock(cmd) << ": interrupted by "
        << signal_name(acquired.signal)
        << (reply.ok() ? (given_back ? "; gave the lock back" : "") : "; left the wait queue")
        << "\n";
    return 128 + acquired.signal;
  }
  if (!reply.ok())
    return fail(out, err, cmd, reply);
  errno = 0;
  if (cmd.json)
    out << "{\"command\":" << json_string(cmd.command) << ",\"name\":" << json_string(cmd.name)
        << ",\"acquired\":true,\"token\":" << reply.lease.token
        << ",\"owner\":" << json_string(reply.lease.owner)
        << ",\"ttl_ms\":" << reply.lease.ttl.count() << "}\n"
        << std::flush;
  else
    out << reply.lease.token << "\n" << std::flush;
  if (out)
    return exit_ok;
  int write_errno = errno;
  err << message_prefix << describe_lock(cmd) << ": cannot write the token to stdout"
      << (write_errno ? std::string(": ") + std::strerror(write_errno) : std::string());
  bool given_back = give_back();
  err << (given_back ? "; gave the lock back\n" : "\n");
  return given_back ? exit_refused : exit_unavailable;
}

int release_command(Client& client, const CliCommand& cmd, std::ostream& out, std::ostream& err) {
  auto reply = client.release(cmd.name, cmd.token);
  if (!reply.ok())
    return fail(out, err, cmd, reply);
  if (cmd.json)
    out << "{\"command\":\"release\",\"name\":" << json_string(cmd.name)
        << ",\"token\":" << cmd.token << ",\"released\":true}\n";
  return exit_ok;
}

int refresh_command(Client& client, const CliCommand& cmd, std::ostream& out, std::ostream& err) {
  auto reply = client.refresh(cmd.name, cmd.token, cmd.ttl);
  if (!reply.ok())
    return fail(out, err, cmd, reply);
  if (cmd.json)
    out << "{\"command\":\"refresh\",\"name\":" << json_string(cmd.name)
        << ",\"token\":" << cmd.token << ",\"refreshed\":true,\"ttl_ms\":" << cmd.ttl.count()
        << "}\n";
  return exit_ok;
}

int check_command(Client& client, const CliCommand& cmd, std::ostream& out, std::ostream& err) {
  auto reply = client.check(cmd.name, cmd.token);
  if (!reply.ok() && reply.status != Status::not_holder)
    return fail(out, err, cmd, reply);
  bool current = reply.ok() && reply.current;
  if (cmd.json)
    out << "{\"command\":\"check\",\"name\":" << json_string(cmd.name) << ",\"token\":" << cmd.token
        << ",\"current\":" << json_bool(current) << "}\n";
  else
    out << (current ? "current" : "not current") << "\n";
  return current ? exit_ok : exit_refused;
}

int status_command(Client& client, const CliCommand& cmd, std::ostream& out, std::ostream& err) {
  auto reply = client.status(cmd.name);
  if (!reply.ok())
    return fail(out, err, cmd, reply);
  auto& lock = reply.lock;
  if (cmd.json) {
    out << "{\"name\":" << json_string(cmd.name) << ",\"held\":" << json_bool(lock.held())
        << ",\"owner\":" << json_string(lock.owner()) << ",\"token\":" << lock.token()
        << ",\"remaining_ms\":" << lock.remaining_ms() << ",\"waiters\":" << lock.waiters()
        << ",\"fence\":" << lock.fence() << "}\n";
  } else if (!lock.held() && lock.waiters() == 0) {
    out << "free\n";         // and a try would get it
  } else if (!lock.held()) { // being handed to the first waiter: not free for a try
    out << "not held, " << lock.waiters() << " waiting, fence " << lock.fence() << "\n";
  } else {
    out << "held by " << lock.owner() << " token " << lock.token() << ", lease "
        << lock.remaining_ms() << "ms left, " << lock.waiters() << " waiting, fence "
        << lock.fence() << "\n";
  }
  return exit_ok;
}

int simple_command(Client& client, const CliCommand& cmd, std::ostream& out, std::ostream& err) {
  if (cmd.command == "release")
    return release_command(client, cmd, out, err);
  if (cmd.command == "refresh")
    return refresh_command(client, cmd, out, err);
  if (cmd.command == "check")
    return check_command(client, cmd, out, err);
  if (cmd.command == "status")
    return status_command(client, cmd, out, err);
  if (cmd.command == "stats")
    return stats_command(client, cmd, out, err);
  return cluster_command(client, cmd, out, err);
}

} // namespace
int run_cli(const std::vector<std::string>& args, std::ostream& out, std::ostream& err) {
  note_startup_signals();
  // A closed stdin, stdout or stderr would be taken by the first socket the
  // tool opens, and output written into it: hold it with /dev/null instead.
  bool stdout_closed = false;
  for (int fd = 0; fd <= 2; ++fd) {
    if (fcntl(fd, F_GETFD) >= 0 || errno != EBADF)
      continue;
    stdout_closed = stdout_closed || fd == 1;
    open("/dev/null", O_RDWR); // the lowest free descriptor: this one
  }
  if (args.empty()) {
    err << cli_usage;
    return exit_bad_usage;
  }
  CliCommand cmd;
  if (auto error = parse_cli_command_line(args, std::getenv("GODISTLOCK_SERVERS"), cmd);
      !error.empty()) {
    err << message_prefix << error << "\n";
    return exit_bad_usage;
  }
  if (cmd.help) {
    out << (cmd.help_topic.empty() ? std::string(cli_usage) : command_help(cmd.help_topic));
    return exit_ok;
  }
  if (cmd.version) {
    out << "godistlock " << godistlock::version << " (commit " << godistlock::git_commit << ")\n";
    return exit_ok;
  }
  bool prints =
      cmd.json || (cmd.command != "release" && cmd.command != "refresh" && cmd.command != "run");
  if (stdout_closed && prints) { // an answer nobody can read, a token nobody gets
    err << message_prefix << cmd.command << ": stdout is closed; nothing was sent\n";
    return exit_bad_usage;
  }
  cmd.progress = !cmd.quiet && isatty(STDERR_FILENO);
  ClientOptions options;
  options.servers = cmd.servers;
  options.attempt_timeout = cmd.attempt_timeout;
  Client client(std::move(options));
  if (cmd.command == "acquire" || cmd.command == "try")
    return acquire_command(client, cmd, out, err);
  if (cmd.command == "run")
    return cli::run_command(client, cmd, out, err);
  errno = 0;
  int status = simple_command(client, cmd, out, err);
  out.flush();
  if (!out) { // nobody got the answer
    int write_errno = errno;
    err << message_prefix << cmd.command << ": cannot write to stdout"
        << (write_errno ? std::string(": ") + std::strerror(write_errno) : std::string()) << "\n";
    return status == exit_ok ? exit_unavailable : status;
  }
  return status;
}

} // namespace godistlock::client
