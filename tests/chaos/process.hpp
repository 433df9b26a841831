// A child process started with fork/exec in its own process group, tracked
// by PID. stdin is /dev/null and stdout and stderr are appended to a file,
// or, with `pipes`, stdin and stdout are pipes to the harness (stderr still
// goes to the file). The
// child gets SIGKILL if the harness dies (PR_SET_PDEATHSIG), so fork only
// from a thread that lives as long as the child (the main thread).
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <sys/types.h>
#include <vector>

namespace gdl_chaos {

struct ExitStatus {
  bool exited = false; // normal exit (else killed by `signal`)
  int code = -1;
  int signal = 0;
  std::string describe() const;
};

class ChildProcess {
public:
  // Throws std::runtime_error if fork fails.
  ChildProcess(const std::vector<std::string>& argv, const std::string& log_path,
               bool pipes = false);
  // SIGKILL and reap if still running; closes the pipes.
  ~ChildProcess();
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  pid_t pid() const { return pid_; }
  // Reaps the child if it has exited; false then.
  bool running();
  void signal(int sig);
  // SIGKILL, then reap (bounded: SIGKILL cannot be ignored, even when stopped).
  ExitStatus kill_and_reap();
  // Waits at most `limit` for an exit; nullopt if it still runs.
  std::optional<ExitStatus> wait_for(std::chrono::milliseconds limit);
  const std::optional<ExitStatus>& exit_status() const { return exit_; }
  // With `pipes`: the write end of the child's stdin and the read end of its
  // stdout (close-on-exec); -1 otherwise.
  int stdin_fd() const { return stdin_fd_; }
  int stdout_fd() const { return stdout_fd_; }

private:
  void reap(int wstatus);

  pid_t pid_ = -1;
  std::optional<ExitStatus> exit_;
  int stdin_fd_ = -1;
  int stdout_fd_ = -1;
};

std::string read_file(const std::string& path);

} // namespace gdl_chaos
