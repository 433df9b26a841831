#include "client/cli.hpp"

#include "client/client.hpp"
#include "client/lock_holder.hpp"
#include "core/limits.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <future>
#include <mutex>
#include <ostream>
#include <set>
#include <string_view>
#include <thread>

namespace godistlock::client {

const char* const cli_usage =
    "usage: godistlock [--servers HOST:PORT[,HOST:PORT...]] [--timeout DUR] COMMAND ...\n"
    "\n"
    "commands:\n"
    "  acquire NAME [--ttl DUR] [--wait DUR] [--owner ID]\n"
    "                 wait for the lock (forever unless --wait); print its token\n"
    "  try NAME [--ttl DUR] [--owner ID]\n"
    "                 take the lock only if it is free now; print its token\n"
    "  release NAME --token N              give the lock back\n"
    "  refresh NAME --token N [--ttl DUR]  extend the lease\n"
    "  check NAME --token N                print current or not current\n"
    "  status NAME [--json]                who holds the lock\n"
    "  stats [--json]                      counters of one server\n"
    "  cluster                             which servers answer; is there a quorum\n"
    "  run NAME [--ttl DUR] [--wait DUR] [--owner ID] -- CMD [ARGS...]\n"
    "                 run CMD while holding the lock (it sees GODISTLOCK_NAME and\n"
    "                 GODISTLOCK_TOKEN); CMD is stopped if the lock is lost\n"
    "\n"
    "DUR is 250ms, 30s, 5m or 1h; a bare number means seconds. Defaults: --ttl 30s,\n"
    "--timeout 5s (per attempt at a server), --owner unique to this invocation,\n"
    "servers from $GODISTLOCK_SERVERS, else 127.0.0.1:7001,127.0.0.1:7002,127.0.0.1:7003.\n"
    "\n"
    "exit status: 0 ok; 1 not acquired, not the holder or token not current;\n"
    "2 bad usage or input; 3 no server reachable or no quorum; 4 lock lost during run;\n"
    "run exits with CMD's status otherwise (128+N if killed by signal N, 127 if it\n"
    "cannot be started).\n";

namespace {

using namespace std::chrono;

constexpr const char* default_servers = "127.0.0.1:7001,127.0.0.1:7002,127.0.0.1:7003";
constexpr const char* duration_hint = "expected a duration like 250ms, 30s, 5m, 1h";

// ------------------------------------------------------------ command line

struct CommandSpec {
  std::string_view name;
  bool takes_name;
  std::vector<std::string_view> options; // besides the global --servers and --timeout
  bool needs_token;
};

const std::vector<CommandSpec>& command_specs() {
  static const std::vector<CommandSpec> specs = {
      {"acquire", true, {"--ttl", "--wait", "--owner"}, false},
      {"try", true, {"--ttl", "--owner"}, false},
      {"release", true, {"--token"}, true},
      {"refresh", true, {"--token", "--ttl"}, true},
      {"check", true, {"--token"}, true},
      {"status", true, {"--json"}, false},
      {"stats", false, {"--json"}, false},
      {"cluster", false, {}, false},
      {"run", true, {"--ttl", "--wait", "--owner"}, false},
  };
  return specs;
}

const CommandSpec* find_command(std::string_view name) {
  for (auto& spec : command_specs())
    if (spec.name == name)
      return &spec;
  return nullptr;
}

bool is_global_option(std::string_view option) {
  return option == "--servers" || option == "--timeout";
}

bool is_command_option(std::string_view option) {
  for (auto& spec : command_specs())
    if (std::find(spec.options.begin(), spec.options.end(), option) != spec.options.end())
      return true;
  return false;
}

bool takes_option(const CommandSpec* spec, std::string_view option) {
  if (is_global_option(option))
    return true;
  return spec &&
         std::find(spec->options.begin(), spec->options.end(), option) != spec->options.end();
}

std::string bad_value(std::string_view option, std::string_view value, std::string_view why) {
  return "bad " + std::string(option) + " '" + std::string(value) + "': " + std::string(why);
}

// Parses a duration option and checks it with `check` (a core::check_* rule).
std::string parse_duration(std::string_view option, const std::string& value,
                           std::string (*check)(uint64_t), milliseconds& out) {
  auto ms = core::parse_duration_ms(value);
  if (!ms)
    return bad_value(option, value, duration_hint);
  if (auto error = check(*ms); !error.empty())
    return bad_value(option, value, error);
  out = milliseconds(*ms);
  return {};
}

std::string check_attempt_timeout(uint64_t ms) {
  if (ms == 0 || ms > core::max_wait_ms)
    return "timeout must be between 1ms and 1h, got " + core::format_duration_ms(ms);
  return {};
}

std::string apply_value_option(std::string_view option, const std::string& value,
                               std::optional<std::string>& servers_text, CliCommand& out) {
  if (option == "--servers") {
    servers_text = value;
    return {};
  }
  if (option == "--timeout")
    return parse_duration(option, value, check_attempt_timeout, out.attempt_timeout);
  if (option == "--ttl")
    return parse_duration(option, value, core::check_ttl_ms, out.ttl);
  if (option == "--wait") {
    milliseconds wait{0};
    auto error = parse_duration(option, value, core::check_wait_ms, wait);
    out.wait = wait;
    return error;
  }
  if (option == "--owner") {
    if (auto error = core::check_owner(value); !error.empty())
      return "bad --owner: " + error;
    out.owner = value;
    return {};
  }
  if (option == "--token") {
    auto token = core::parse_token(value);
    if (!token || *token == 0)
      return bad_value(option, value, "expected a token from acquire (a positive decimal integer)");
    out.token = *token;
    return {};
  }
  return "unknown option " + std::string(option);
}

std::string parse_servers(const std::optional<std::string>& servers_text, const char* servers_env,
                          CliCommand& out) {
  std::string source = "--servers";
  std::string text = default_servers;
  if (servers_text) {
    text = *servers_text;
  } else if (servers_env && *servers_env) {
    source = "GODISTLOCK_SERVERS";
    text = servers_env;
  }
  auto servers = net::parse_endpoint_list(text);
  if (!servers || servers->empty())
    return bad_value(source, text, "expected HOST:PORT[,HOST:PORT...]");
  out.servers = std::move(*servers);
  return {};
}

// ------------------------------------------------------------ output

const char* message_prefix = "godistlock: ";

int exit_status_for(Status status) {
  switch (status) {
  case Status::ok:
    return exit_ok;
  case Status::not_acquired:
  case Status::not_holder:
    return exit_refused;
  case Status::invalid_argument:
    return exit_bad_usage;
  case Status::unavailable:
  case Status::internal:
    break;
  }
  return exit_unavailable;
}

int report_failure(std::ostream& err, const std::string& what, const Reply& reply) {
  std::string_view status = to_string(reply.status);
  err << message_prefix << what << ": ";
  if (reply.message.empty())
    err << status;
  else if (reply.message.rfind(status, 0) == 0) // the server's message already says it
    err << reply.message;
  else
    err << status << ": " << reply.message;
  err << "\n";
  return exit_status_for(reply.status);
}

std::string describe_lock(const CliCommand& cmd) {
  return cmd.command + " '" + cmd.name + "'";
}

std::string json_string(std::string_view text) {
  std::string json = "\"";
  for (char c : text) {
    auto byte = static_cast<unsigned char>(c);
    switch (c) {
    case '"':
      json += "\\\"";
      break;
    case '\\':
      json += "\\\\";
      break;
    case '\n':
      json += "\\n";
      break;
    case '\r':
      json += "\\r";
      break;
    case '\t':
      json += "\\t";
      break;
    default:
      if (byte < 0x20 || byte == 0x7f) {
        char escaped[8];
        std::snprintf(escaped, sizeof escaped, "\\u%04x", byte);
        json += escaped;
      } else {
        json += c; // UTF-8 passes through: JSON text is UTF-8
      }
    }
  }
  return json + "\"";
}

const char* json_bool(bool value) {
  return value ? "true" : "false";
}

// ------------------------------------------------------------ commands

AcquireOptions acquire_options(const CliCommand& cmd) {
  AcquireOptions options;
  options.ttl = cmd.ttl;
  options.wait = cmd.command == "try" ? std::optional<milliseconds>(0) : cmd.wait;
  options.owner = cmd.owner;
  return options;
}

int acquire_command(Client& client, const CliCommand& cmd, std::ostream& out, std::ostream& err) {
  auto reply = client.acquire(cmd.name, acquire_options(cmd));
  if (!reply.ok())
    return report_failure(err, describe_lock(cmd), reply);
  out << reply.lease.token << "\n" << std::flush;
  return exit_ok;
}

int release_command(Client& client, const CliCommand& cmd, std::ostream& err) {
  auto reply = client.release(cmd.name, cmd.token);
  if (!reply.ok())
    return report_failure(err, describe_lock(cmd), reply);
  return exit_ok;
}

int refresh_command(Client& client, const CliCommand& cmd, std::ostream& err) {
  auto reply = client.refresh(cmd.name, cmd.token, cmd.ttl);
  if (!reply.ok())
    return report_failure(err, describe_lock(cmd), reply);
  return exit_ok;
}

int check_command(Client& client, const CliCommand& cmd, std::ostream& out, std::ostream& err) {
  auto reply = client.check(cmd.name, cmd.token);
  if (!reply.ok() && reply.status != Status::not_holder)
    return report_failure(err, describe_lock(cmd), reply);
  bool current = reply.ok() && reply.current;
  out << (current ? "current" : "not current") << "\n";
  return current ? exit_ok : exit_refused;
}

int status_command(Client& client, const CliCommand& cmd, std::ostream& out, std::ostream& err) {
  auto reply = client.status(cmd.name);
  if (!reply.ok())
    return report_failure(err, describe_lock(cmd), reply);
  auto& lock = reply.lock;
  if (cmd.json) {
    out << "{\"name\":" << json_string(cmd.name) << ",\"held\":" << json_bool(lock.held())
        << ",\"owner\":" << json_string(lock.owner()) << ",\"token\":" << lock.token()
        << ",\"remaining_ms\":" << lock.remaining_ms() << ",\"waiters\":" << lock.waiters()
        << ",\"fence\":" << lock.fence() << "}\n";
  } else if (!lock.held()) {
    out << "free\n";
  } else {
    out << "held by " << lock.owner() << " token " << lock.token() << ", lease "
        << lock.remaining_ms() << "ms left, " << lock.waiters() << " waiting, fence "
        << lock.fence() << "\n";
  }
  return exit_ok;
}

std::string join(const google::protobuf::RepeatedPtrField<std::string>& items,
                 const std::string& separator, std::string (*render)(std::string_view)) {
  std::string joined;
  for (auto& item : items) {
    if (!joined.empty())
      joined += separator;
    joined += render(item);
  }
  return joined;
}

std::string as_is(std::string_view text) {
  return std::string(text);
}

int stats_command(Client& client, const CliCommand& cmd, std::ostream& out, std::ostream& err) {
  auto reply = client.stats();
  if (!reply.ok())
    return report_failure(err, "stats", reply);
  auto& s = reply.stats;
  if (cmd.json) {
    out << "{\"server\":" << json_string(reply.server)
        << ",\"node_id\":" << json_string(s.node_id()) << ",\"uptime_ms\":" << s.uptime_ms()
        << ",\"live_lock_actors\":" << s.live_lock_actors()
        << ",\"resting_locks\":" << s.resting_locks() << ",\"held_locks\":" << s.held_locks()
        << ",\"waiters\":" << s.waiters() << ",\"grants\":" << s.grants()
        << ",\"releases\":" << s.releases() << ",\"expiries\":" << s.expiries()
        << ",\"stale_attempts\":" << s.stale_attempts() << ",\"cluster_size\":" << s.cluster_size()
        << ",\"members\":[" << join(s.members(), ",", json_string)
        << "],\"draining\":" << json_bool(s.draining()) << ",\"wal_commits\":" << s.wal_commits()
        << ",\"wal_records\":" << s.wal_records() << ",\"recovering\":" << json_bool(s.recovering())
        << "}\n";
    return exit_ok;
  }
  out << "server: " << reply.server << "\n"
      << "node_id: " << s.node_id() << "\n"
      << "uptime_ms: " << s.uptime_ms() << "\n"
      << "live_lock_actors: " << s.live_lock_actors() << "\n"
      << "resting_locks: " << s.resting_locks() << "\n"
      << "held_locks: " << s.held_locks() << "\n"
      << "waiters: " << s.waiters() << "\n"
      << "grants: " << s.grants() << "\n"
      << "releases: " << s.releases() << "\n"
      << "expiries: " << s.expiries() << "\n"
      << "stale_attempts: " << s.stale_attempts() << "\n"
      << "cluster_size: " << s.cluster_size() << "\n"
      << "members: " << join(s.members(), ",", as_is) << "\n"
      << "draining: " << json_bool(s.draining()) << "\n"
      << "wal_commits: " << s.wal_commits() << "\n"
      << "wal_records: " << s.wal_records() << "\n"
      << "recovering: " << json_bool(s.recovering()) << "\n";
  return exit_ok;
}

int cluster_command(Client& client, std::ostream& out, std::ostream& err) {
  auto& servers = client.servers();
  // Ask every server at once: an unreachable one may take a whole attempt
  // timeout to give up on.
  std::vector<std::future<StatsReply>> answers;
  for (size_t i = 0; i < servers.size(); ++i)
    answers.push_back(std::async(std::launch::async, [&client, i] { return client.stats(i); }));
  uint64_t cluster_size = 0;
  std::set<std::string> serving_nodes; // by node id: a server listed twice counts once
  for (size_t i = 0; i < servers.size(); ++i) {
    auto reply = answers[i].get();
    out << servers[i].to_string();
    if (!reply.ok()) {
      out << " unreachable: " << reply.message << "\n";
      continue;
    }
    auto& s = reply.stats;
    cluster_size = std::max(cluster_size, s.cluster_size());
    if (!s.draining() && !s.recovering())
      serving_nodes.insert(s.node_id());
    out << " reachable, node " << s.node_id() << ", "
        << (s.draining()     ? "draining"
            : s.recovering() ? "catching up (not voting)"
                             : "serving")
        << "\n";
  }
  if (cluster_size == 0) // nobody answered: assume the list is the whole cluster
    cluster_size = servers.size();
  auto majority = cluster_size / 2 + 1;
  bool quorum = serving_nodes.size() >= majority;
  out << serving_nodes.size() << " of " << cluster_size << " nodes serving, majority is "
      << majority << ": " << (quorum ? "quorum" : "no quorum") << "\n";
  if (!quorum) {
    err << message_prefix << "cluster: no quorum (" << serving_nodes.size() << " serving, "
        << majority << " needed)\n";
    return exit_unavailable;
  }
  return exit_ok;
}

// ------------------------------------------------------------ run

// The last SIGINT/SIGTERM the tool received while `run` supervises its
// command; the supervising loop forwards it to the command.
std::atomic<int> received_stop_signal{0};
static_assert(std::atomic<int>::is_always_lock_free, "used from a signal handler");

extern "C" void remember_stop_signal(int signal) {
  received_stop_signal.store(signal);
}

// While alive, SIGINT and SIGTERM are caught (to be forwarded) instead of
// ending the tool, and SIGCHLD is at its default so that the child stays ours
// to reap. Restores the previous dispositions when done.
class SignalForwarding {
public:
  SignalForwarding() {
    received_stop_signal.store(0);
    struct sigaction catch_it {};
    catch_it.sa_handler = remember_stop_signal;
    sigemptyset(&catch_it.sa_mask);
    catch_it.sa_flags = SA_RESTART;
    sigaction(SIGINT, &catch_it, &saved_int_);
    sigaction(SIGTERM, &catch_it, &saved_term_);
    struct sigaction default_action {};
    default_action.sa_handler = SIG_DFL;
    sigemptyset(&default_action.sa_mask);
    sigaction(SIGCHLD, &default_action, &saved_chld_);
  }
  ~SignalForwarding() {
    sigaction(SIGINT, &saved_int_, nullptr);
    sigaction(SIGTERM, &saved_term_, nullptr);
    sigaction(SIGCHLD, &saved_chld_, nullptr);
  }
  SignalForwarding(const SignalForwarding&) = delete;
  SignalForwarding& operator=(const SignalForwarding&) = delete;

  // Async-signal-safe, for the child between fork and exec. SIGINT and
  // SIGTERM start at their defaults even when the tool was started with them
  // ignored (as background jobs of scripts are): the tool promises to stop
  // the command by forwarding them.
  void reset_in_child() const {
    struct sigaction default_action {};
    default_action.sa_handler = SIG_DFL;
    sigemptyset(&default_action.sa_mask);
    sigaction(SIGINT, &default_action, nullptr);
    sigaction(SIGTERM, &default_action, nullptr);
    sigaction(SIGCHLD, &saved_chld_, nullptr);
  }

  // The signal received since the last call, or 0.
  int take() { return received_stop_signal.exchange(0); }

private:
  struct sigaction saved_int_ {};
  struct sigaction saved_term_ {};
  struct sigaction saved_chld_ {};
};

// Set by the LockHolder's refresh thread when the lock is lost.
class LossReport {
public:
  void set(const std::string& why) {
    std::lock_guard<std::mutex> guard(mutex_);
    why_ = why;
    lost_ = true;
  }
  std::optional<std::string> why() const {
    std::lock_guard<std::mutex> guard(mutex_);
    if (!lost_)
      return std::nullopt;
    return why_;
  }

private:
  mutable std::mutex mutex_;
  bool lost_ = false;
  std::string why_;
};

// Why the lock must be considered lost, or nullopt while it is still ours.
// Checks the deadline itself too: the holder only notices a lapsed lease once
// its refresh call returns, which can take a whole attempt timeout.
std::optional<std::string> lock_loss(const LockHolder& holder, const LossReport& loss) {
  if (auto why = loss.why())
    return why;
  if (!holder.lease().still_trusted())
    return std::string("the lease ran out before a refresh succeeded");
  return std::nullopt;
}

std::vector<std::string> child_environment(const std::string& name, uint64_t token) {
  std::vector<std::string> environment;
  for (char** entry = environ; *entry; ++entry) {
    std::string_view text(*entry);
    if (text.rfind("GODISTLOCK_NAME=", 0) == 0 || text.rfind("GODISTLOCK_TOKEN=", 0) == 0)
      continue;
    environment.emplace_back(text);
  }
  environment.push_back("GODISTLOCK_NAME=" + name);
  environment.push_back("GODISTLOCK_TOKEN=" + std::to_string(token));
  return environment;
}

std::vector<char*> c_strings(std::vector<std::string>& strings) {
  std::vector<char*> pointers;
  for (auto& s : strings)
    pointers.push_back(s.data());
  pointers.push_back(nullptr);
  return pointers;
}

struct StartedChild {
  pid_t pid = -1;    // -1: there is no child
  std::string error; // why the command could not be started
};

// Forks and execs `program`. The tool is multithreaded (CAF), so the child
// only makes async-signal-safe calls before exec; an exec failure comes back
// through a close-on-exec pipe (the child then exits 127).
StartedChild start_child(std::vector<std::string> program, std::vector<std::string> environment,
                         const SignalForwarding& signals) {
  auto argv = c_strings(program);
  auto envp = c_strings(environment);
  StartedChild started;
  int exec_report[2];
  if (pipe2(exec_report, O_CLOEXEC) != 0) {
    int pipe_errno = errno;
    started.error = "cannot run '" + program[0] + "': pipe: " + std::strerror(pipe_errno);
    return started;
  }
  started.pid = fork();
  if (started.pid == 0) {
    close(exec_report[0]);
    signals.reset_in_child();
    execvpe(argv[0], argv.data(), envp.data());
    int exec_errno = errno;
    [[maybe_unused]] auto written = write(exec_report[1], &exec_errno, sizeof exec_errno);
    _exit(127);
  }
  int fork_errno = errno;
  close(exec_report[1]);
  if (started.pid < 0) {
    close(exec_report[0]);
    started.error = "cannot run '" + program[0] + "': fork: " + std::strerror(fork_errno);
    return started;
  }
  int exec_errno = 0;
  ssize_t n;
  do
    n = read(exec_report[0], &exec_errno, sizeof exec_errno);
  while (n < 0 && errno == EINTR);
  close(exec_report[0]);
  if (n == sizeof exec_errno)
    started.error = "cannot run '" + program[0] + "': " + std::strerror(exec_errno);
  return started;
}

struct ChildEnd {
  std::optional<int> exit_status;  // nullopt: the child could not be waited for
  std::string wait_error;          // why it could not
  std::optional<std::string> lost; // why the lock was lost while the child ran
};

int exit_status_of(int wait_status) {
  if (WIFEXITED(wait_status))
    return WEXITSTATUS(wait_status);
  if (WIFSIGNALED(wait_status))
    return 128 + WTERMSIG(wait_status);
  return exit_unavailable;
}

// Waits for the child, forwarding stop signals, and stops it once the lock is
// lost (SIGTERM at once, SIGKILL after a grace period). This loop is the only
// place that reaps the child, so until it does, every kill() here reaches the
// child or its zombie: never a process that reused its pid.
ChildEnd supervise_child(pid_t child, const LockHolder& holder, const LossReport& loss,
                         SignalForwarding& signals, const std::string& name, std::ostream& err) {
  constexpr auto poll_interval = milliseconds(10);
  constexpr auto kill_grace = seconds(3);
  ChildEnd end;
  std::optional<steady_clock::time_point> terminated_at;
  bool killed = false;
  for (;;) {
    int wait_status = 0;
    auto reaped = waitpid(child, &wait_status, WNOHANG);
    if (reaped == child || (reaped < 0 && errno != EINTR)) {
      if (reaped == child)
        end.exit_status = exit_status_of(wait_status);
      else
        end.wait_error = std::strerror(errno);
      if (!terminated_at) { // the lock must have been ours for the whole run
        end.lost = lock_loss(holder, loss);
        if (end.lost)
          err << message_prefix << "lost the lock '" << name << "': " << *end.lost << "\n";
      }
      return end;
    }
    if (int signal = signals.take())
      kill(child, signal);
    if (!terminated_at) {
      end.lost = lock_loss(holder, loss);
      if (end.lost) {
        err << message_prefix << "lost the lock '" << name << "': " << *end.lost
            << "; stopping the command" << std::endl;
        kill(child, SIGTERM);
        terminated_at = steady_clock::now();
      }
    } else if (!killed && steady_clock::now() - *terminated_at >= kill_grace) {
      kill(child, SIGKILL);
      killed = true;
    }
    std::this_thread::sleep_for(poll_interval);
  }
}

int run_command(Client& client, const CliCommand& cmd, std::ostream& out, std::ostream& err) {
  auto acquired = client.acquire(cmd.name, acquire_options(cmd));
  if (!acquired.ok())
    return report_failure(err, describe_lock(cmd), acquired);
  SignalForwarding signals;
  LossReport loss; // outlives the holder, whose refresh thread reports to it
  LockHolder holder(client, acquired.lease,
                    [&loss](const Lease&, const std::string& why) { loss.set(why); });
  auto release = [&] {
    if (!holder.release() && !loss.why())
      err << message_prefix << "could not release '" << cmd.name
          << "'; it stays taken until its lease ends\n";
  };
  if (int signal = signals.take()) { // asked to stop before the command started
    release();
    return 128 + signal;
  }
  // The command may run one poll interval past a lapse of the lease before it
  // is stopped; the margin in the trusted lease time covers that.
  if (auto why = lock_loss(holder, loss)) {
    err << message_prefix << "lost the lock '" << cmd.name << "': " << *why << "\n";
    return exit_lock_lost;
  }
  out.flush();
  err.flush();
  std::fflush(nullptr);
  auto child = start_child(cmd.program, child_environment(cmd.name, acquired.lease.token), signals);
  if (!child.error.empty())
    err << message_prefix << child.error << "\n";
  if (child.pid < 0) {
    release();
    return 127;
  }
  auto end = supervise_child(child.pid, holder, loss, signals, cmd.name, err);
  if (end.lost) {
    holder.release(); // a lapsed lease may still be ours on the servers: give it back
    return exit_lock_lost;
  }
  release();
  if (!end.exit_status) {
    err << message_prefix << "lost track of the command: " << end.wait_error << "\n";
    return exit_unavailable;
  }
  return *end.exit_status;
}

} // namespace

std::string parse_cli_command_line(const std::vector<std::string>& args, const char* servers_env,
                                   CliCommand& out) {
  out = CliCommand{};
  const CommandSpec* spec = nullptr;
  std::optional<std::string> servers_text;
  bool have_name = false;
  bool have_token = false;
  bool have_program = false;
  for (size_t i = 0; i < args.size(); ++i) {
    const auto& arg = args[i];
    if (spec && spec->name == "run" && arg == "--") {
      out.program.assign(args.begin() + static_cast<std::ptrdiff_t>(i) + 1, args.end());
      have_program = true;
      break;
    }
    if (arg == "-h" || arg == "--help") {
      out.help = true;
      return {};
    }
    if (arg.size() > 1 && arg[0] == '-') {
      // --option VALUE or --option=VALUE
      auto equals = arg.find('=');
      std::string option = arg.substr(0, equals);
      if (!takes_option(spec, option)) {
        if (spec && is_command_option(option))
          return std::string(spec->name) + " does not take " + option;
        return "unknown option " + option;
      }
      if (option == "--json") {
        if (equals != std::string::npos)
          return "--json takes no value";
        out.json = true;
        continue;
      }
      std::string value;
      if (equals != std::string::npos)
        value = arg.substr(equals + 1);
      else if (i + 1 < args.size())
        value = args[++i];
      else
        return "missing value for " + option;
      if (auto error = apply_value_option(option, value, servers_text, out); !error.empty())
        return error;
      if (option == "--token")
        have_token = true;
      continue;
    }
    if (!spec) {
      spec = find_command(arg);
      if (!spec)
        return "unknown command '" + arg + "'";
      out.command = arg;
    } else if (spec->takes_name && !have_name) {
      if (auto error = core::check_name(arg); !error.empty())
        return "bad NAME: " + error;
      out.name = arg;
      have_name = true;
    } else if (spec->name == "run") {
      return "run: put -- before the command: run NAME [OPTIONS] -- CMD [ARGS...]";
    } else {
      return "unexpected argument '" + arg + "'";
    }
  }
  if (!spec)
    return "missing command";
  if (spec->takes_name && !have_name)
    return out.command + ": missing NAME";
  if (spec->needs_token && !have_token)
    return out.command + ": missing --token N";
  if (spec->name == "run" && (!have_program || out.program.empty()))
    return "run: missing -- CMD [ARGS...]";
  return parse_servers(servers_text, servers_env, out);
}

int run_cli(const std::vector<std::string>& args, std::ostream& out, std::ostream& err) {
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
    out << cli_usage;
    return exit_ok;
  }
  ClientOptions options;
  options.servers = cmd.servers;
  options.attempt_timeout = cmd.attempt_timeout;
  Client client(std::move(options));
  if (cmd.command == "acquire" || cmd.command == "try")
    return acquire_command(client, cmd, out, err);
  if (cmd.command == "release")
    return release_command(client, cmd, err);
  if (cmd.command == "refresh")
    return refresh_command(client, cmd, err);
  if (cmd.command == "check")
    return check_command(client, cmd, out, err);
  if (cmd.command == "status")
    return status_command(client, cmd, out, err);
  if (cmd.command == "stats")
    return stats_command(client, cmd, out, err);
  if (cmd.command == "cluster")
    return cluster_command(client, out, err);
  return run_command(client, cmd, out, err);
}

} // namespace godistlock::client
