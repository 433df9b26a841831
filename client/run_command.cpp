// How `run` keeps its command from outliving the lock, even when the tool
// itself is killed with SIGKILL (nothing in the tool runs then):
//  - The command runs in a process group of its own, led by a tiny guardian
//    process forked from the tool (no exec; it holds no other descriptor).
//    The guardian ignores the signals the tool forwards and the job-control
//    stops, and blocks reading a "lifeline" pipe whose only writer is the
//    tool. When the tool dies, however it dies, the kernel closes the pipe;
//    the guardian reads EOF and SIGKILLs the whole group, itself included.
//    That reaches grandchildren that PR_SET_PDEATHSIG cannot, and a
//    `kill -9` of the tool's own process group does not reach the guardian.
//    A pipe rather than a pidfd: EOF needs no polling and no recent kernel,
//    and it cannot come while the tool lives.
//  - The command itself also has PR_SET_PDEATHSIG(SIGKILL), set between fork
//    and exec, and checks that the tool did not die before the prctl.
//  - The guardian leads the group and stays unreaped until the tool reaps it
//    last, so the group id can never name a recycled process group.
//  - Signals the tool is asked to stop with go to the whole group; when the
//    command ends, whatever it left in its group is killed before the lock
//    is released.
#include "client/run_command.hpp"

#include "client/cli_common.hpp"
#include "client/cli_signals.hpp"
#include "client/lock_holder.hpp"
#include "client/run_child.hpp"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <mutex>
#include <optional>
#include <ostream>
#include <thread>

namespace godistlock::client::cli {

namespace {

using namespace std::chrono;

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

// SIGCHLD at its default while alive, so that the command stays ours to reap
// even when the tool was started with SIGCHLD ignored.
class ReapableChildren {
public:
  ReapableChildren() {
    struct sigaction default_action {};
    default_action.sa_handler = SIG_DFL;
    sigemptyset(&default_action.sa_mask);
    sigaction(SIGCHLD, &default_action, &saved_);
  }
  ~ReapableChildren() { sigaction(SIGCHLD, &saved_, nullptr); }
  ReapableChildren(const ReapableChildren&) = delete;
  ReapableChildren& operator=(const ReapableChildren&) = delete;

private:
  struct sigaction saved_ {};
};

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

bool stopped_by_terminal(int wait_status) {
  if (!WIFSTOPPED(wait_status))
    return false;
  int signal = WSTOPSIG(wait_status);
  return signal == SIGTSTP || signal == SIGTTIN || signal == SIGTTOU;
}

// Waits for the command, forwarding signals to its group, and stops the group
// once the lock is lost (SIGTERM at once, SIGKILL after a grace period). This
// loop is the only place that reaps the command, and the group's leader (the
// guardian) is reaped only after it, so every kill() here reaches the group.
ChildEnd supervise_child(RunChild& child, const LockHolder& holder, const LossReport& loss,
                         const std::string& name, std::ostream& err) {
  constexpr auto poll_interval = milliseconds(10);
  constexpr auto kill_grace = seconds(3);
  ChildEnd end;
  std::optional<steady_clock::time_point> terminated_at;
  bool killed = false;
  auto stop_job = [&] {
    child.stop_job();
    // A lease that ran out while the job was stopped: the loss check below
    // sends SIGTERM first, so that nothing runs on without the lock.
    if (terminated_at || !lock_loss(holder, loss))
      child.signal_group(SIGCONT);
  };
  for (;;) {
    int wait_status = 0;
    auto reaped = child.poll(wait_status);
    if (reaped == child.pid() && WIFSTOPPED(wait_status)) {
      // Ctrl-Z (or a read from the terminal in the background) stopped the
      // command: stop the tool too, so that the shell sees the job stopped.
      if (stopped_by_terminal(wait_status))
        stop_job();
      continue;
    }
    if (reaped == child.pid() || (reaped < 0 && errno != EINTR)) {
      if (reaped == child.pid())
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
    while (int signal = take_signal()) {
      if (signal == SIGTSTP)
        stop_job();
      else
        child.signal_group(signal);
    }
    if (!terminated_at) {
      end.lost = lock_loss(holder, loss);
      if (end.lost) {
        err << message_prefix << "lost the lock '" << name << "': " << *end.lost
            << "; stopping the command" << std::endl;
        child.signal_group(SIGTERM);
        child.signal_group(SIGCONT); // a stopped group would not see the SIGTERM
        terminated_at = steady_clock::now();
      }
    } else if (!killed && steady_clock::now() - *terminated_at >= kill_grace) {
      child.signal_group(SIGKILL);
      killed = true;
    }
    std::this_thread::sleep_for(poll_interval);
  }
}

// What `run --json` reports once everything is over.
struct RunOutcome {
  bool acquired = false;
  uint64_t token = 0;
  bool lock_lost = false;
  std::optional<int> command_status; // CMD's own exit status, if it ran to the end
  std::optional<Reply> refused;      // the acquire's failure
};

int run_locked(Client& client, const CliCommand& cmd, std::ostream& out, std::ostream& err,
               RunOutcome& outcome) {
  // Before the lock is taken: a command that cannot run must not cost anyone
  // a lock (the statuses are those of env, timeout and flock).
  if (auto bad = check_program(cmd.program[0]); bad.exit_status != 0) {
    err << message_prefix << describe_lock(cmd) << ": " << bad.error << "\n";
    return bad.exit_status;
  }
  CaughtSignals waiting(wait_stop_signals);
  auto acquired = acquire_interruptible(client, cmd, err);
  if (!acquired.reply.ok() && !acquired.signal) {
    outcome.refused = acquired.reply;
    return report_acquire_failure(err, cmd, acquired.reply);
  }
  CaughtSignals forwarding(run_signals); // before `waiting` lets go: no gap
  ReapableChildren reapable;
  if (!acquired.reply.ok()) { // stopped while waiting; the queue was left
    err << message_prefix << describe_lock(cmd) << ": interrupted by "
        << signal_name(acquired.signal) << " while waiting; left the wait queue\n";
    return 128 + acquired.signal;
  }
  outcome.acquired = true;
  outcome.token = acquired.reply.lease.token;
  LossReport loss; // outlives the holder, whose refresh thread reports to it
  LockHolder holder(client, acquired.reply.lease,
                    [&loss](const Lease&, const std::string& why) { loss.set(why); });
  auto release = [&] {
    if (!holder.release() && !loss.why())
      err << message_prefix << "could not release '" << cmd.name
          << "'; it stays taken until its lease ends\n";
  };
  int early = acquired.signal ? acquired.signal : take_signal();
  if (early == SIGWINCH || early == SIGTSTP)
    early = 0; // nothing to pass them on to yet
  if (early) { // asked to stop before the command started
    release();
    return 128 + early;
  }
  // The command may run one poll interval past a lapse of the lease before it
  // is stopped; the margin in the trusted lease time covers that.
  if (auto why = lock_loss(holder, loss)) {
    err << message_prefix << "lost the lock '" << cmd.name << "': " << *why << "\n";
    outcome.lock_lost = true;
    return exit_lock_lost;
  }
  out.flush();
  err.flush();
  std::fflush(nullptr);
  RunChild child(cmd.program, cmd.name, acquired.reply.lease.token);
  if (!child.error().empty()) {
    err << message_prefix << child.error() << "\n";
    child.finish();
    release();
    return child.start_status();
  }
  auto end = supervise_child(child, holder, loss, cmd.name, err);
  child.finish(); // nothing the command started may work on without the lock
  if (end.lost) {
    holder.release(); // a lapsed lease may still be ours on the servers: give it back
    outcome.lock_lost = true;
    return exit_lock_lost;
  }
  release();
  if (!end.exit_status) {
    err << message_prefix << "lost track of the command: " << end.wait_error << "\n";
    return exit_unavailable;
  }
  outcome.command_status = *end.exit_status;
  return *end.exit_status;
}

} // namespace

int run_command(Client& client, const CliCommand& cmd, std::ostream& out, std::ostream& err) {
  RunOutcome outcome;
  int status = run_locked(client, cmd, out, err, outcome);
  if (!cmd.json)
    return status;
  if (outcome.refused)
    return json_failure(out, cmd, *outcome.refused, status);
  // After CMD's own output, which shares stdout: the last line is ours.
  out << "{\"command\":\"run\",\"name\":" << json_string(cmd.name)
      << ",\"acquired\":" << json_bool(outcome.acquired);
  if (outcome.acquired)
    out << ",\"token\":" << outcome.token << ",\"lock_lost\":" << json_bool(outcome.lock_lost);
  if (outcome.command_status)
    out << ",\"command_status\":" << *outcome.command_status;
  out << ",\"exit_code\":" << status << "}\n" << std::flush;
  return status;
}

} // namespace godistlock::client::cli
