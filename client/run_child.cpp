#include "client/run_child.hpp"

#include "client/cli_signals.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <string_view>

namespace godistlock::client::cli {

namespace {

// 0 if `path` could be executed, else why not (an errno value).
int executable(const std::string& path) {
  struct stat st {};
  if (stat(path.c_str(), &st) != 0)
    return errno;
  if (S_ISDIR(st.st_mode))
    return EISDIR;
  if (!S_ISREG(st.st_mode) || access(path.c_str(), X_OK) != 0)
    return EACCES;
  return 0;
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

// A terminal (stdin, stdout or stderr) whose foreground group is the tool's:
// the command must then get the foreground, or reading from it stops it.
int foreground_terminal() {
  for (int fd = 0; fd <= 2; ++fd)
    if (isatty(fd) && tcgetpgrp(fd) == getpgrp())
      return fd;
  return -1;
}

// tcsetpgrp from a background group raises SIGTTOU unless it is blocked.
void set_foreground(int tty, pid_t group) {
  sigset_t ttou, saved;
  sigemptyset(&ttou);
  sigaddset(&ttou, SIGTTOU);
  pthread_sigmask(SIG_BLOCK, &ttou, &saved);
  tcsetpgrp(tty, group);
  pthread_sigmask(SIG_SETMASK, &saved, nullptr);
}

// The guardian, in the forked process: only async-signal-safe calls (the
// tool is multithreaded). Never returns.
[[noreturn]] void guard(int lifeline, int lifeline_write, int max_fd) {
  close(lifeline_write);
  prctl(PR_SET_NAME, "gdl-guardian"); // for ps and top; the command line stays the tool's
  setpgid(0, 0);
  struct sigaction ignore {};
  ignore.sa_handler = SIG_IGN;
  sigemptyset(&ignore.sa_mask);
  // Signals forwarded to the group, and job control, must not end or stop it.
  for (int signal : {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGWINCH, SIGTSTP, SIGTTIN,
                     SIGTTOU, SIGPIPE, SIGALRM})
    sigaction(signal, &ignore, nullptr);
  // Hold nothing else open: not the tool's sockets, nor a pipe on its stdout
  // that a reader waits to see closed.
  if (lifeline != 3) {
    dup2(lifeline, 3);
    lifeline = 3;
  }
  if (close_range(4, ~0U, 0) != 0)
    for (int fd = 4; fd < max_fd; ++fd)
      close(fd);
  close(0);
  close(1);
  close(2);
  for (;;) { // the tool never writes: this returns at its death (EOF)
    char byte;
    auto n = read(lifeline, &byte, 1);
    if (n == 0 || (n < 0 && errno != EINTR))
      break;
  }
  kill(0, SIGKILL); // the tool is gone: the whole group goes, this process last
  _exit(0);
}

} // namespace

ProgramCheck check_program(const std::string& program) {
  ProgramCheck check;
  int problem = ENOENT;
  if (program.find('/') != std::string::npos) {
    problem = executable(program);
  } else if (!program.empty()) {
    const char* path_env = std::getenv("PATH");
    std::string path = path_env ? path_env : "/bin:/usr/bin"; // execvp's default
    size_t start = 0;
    for (;;) {
      auto colon = path.find(':', start);
      auto dir = path.substr(start, colon == std::string::npos ? colon : colon - start);
      int why = executable((dir.empty() ? "." : dir) + "/" + program);
      if (why == 0) {
        problem = 0;
        break;
      }
      if (why == EACCES || why == EISDIR) // execvp goes on searching, then says EACCES
        problem = why;
      if (colon == std::string::npos)
        break;
      start = colon + 1;
    }
  }
  if (problem == 0)
    return check;
  bool missing = problem == ENOENT || problem == ENOTDIR;
  check.exit_status = missing ? 127 : 126;
  check.error = "cannot run '" + program +
                "': " + (missing ? std::string("command not found") : std::strerror(problem));
  return check;
}

RunChild::RunChild(const std::vector<std::string>& program, const std::string& name,
                   uint64_t token) {
  start(program, name, token);
}

RunChild::~RunChild() {
  finish();
}

void RunChild::start(const std::vector<std::string>& program, const std::string& name,
                     uint64_t token) {
  auto fail = [&](const std::string& what, int error) {
    error_ = "cannot run '" + program[0] + "': " + what + std::strerror(error);
    start_status_ = error == ENOENT ? 127 : 126;
  };
  std::vector<std::string> argv_strings = program;
  auto environment = child_environment(name, token);
  auto argv = c_strings(argv_strings);
  auto envp = c_strings(environment);
  struct rlimit files {};
  getrlimit(RLIMIT_NOFILE, &files);
  int max_fd = static_cast<int>(std::min<rlim_t>(files.rlim_cur, 65536));
  tty_ = foreground_terminal();
  const pid_t tool = getpid();

  int lifeline[2];
  if (pipe2(lifeline, O_CLOEXEC) != 0)
    return fail("pipe: ", errno);
  guardian_ = fork();
  if (guardian_ == 0)
    guard(lifeline[0], lifeline[1], max_fd);
  int fork_errno = errno;
  close(lifeline[0]);
  lifeline_ = lifeline[1];
  if (guardian_ < 0)
    return fail("fork: ", fork_errno);
  setpgid(guardian_, guardian_); // also done by the guardian: whoever comes first

  int exec_report[2];
  if (pipe2(exec_report, O_CLOEXEC) != 0)
    return fail("pipe: ", errno);
  pid_ = fork();
  if (pid_ == 0) {
    // Only async-signal-safe calls until exec.
    close(exec_report[0]);
    int error = 0;
    if (setpgid(0, guardian_) != 0)
      error = errno;
    if (error == 0 && tty_ >= 0)
      set_foreground(tty_, guardian_);
    // Dies with the tool. Tied to the forking thread: this is the main thread,
    // which lives until the tool exits.
    if (error == 0 && prctl(PR_SET_PDEATHSIG, SIGKILL) != 0)
      error = errno;
    if (error == 0 && getppid() != tool) // the tool died before the prctl
      _exit(127);
    if (error == 0) {
      reset_signals_in_child();
      execvpe(argv[0], argv.data(), envp.data());
      error = errno;
    }
    [[maybe_unused]] auto written = write(exec_report[1], &error, sizeof error);
    _exit(error == ENOENT ? 127 : 126);
  }
  fork_errno = errno;
  close(exec_report[1]);
  if (pid_ < 0) {
    close(exec_report[0]);
    reaped_ = true;
    return fail("fork: ", fork_errno);
  }
  setpgid(pid_, guardian_);
  if (tty_ >= 0)
    set_foreground(tty_, guardian_);
  int exec_errno = 0;
  ssize_t n;
  do
    n = read(exec_report[0], &exec_errno, sizeof exec_errno);
  while (n < 0 && errno == EINTR);
  close(exec_report[0]);
  if (n == sizeof exec_errno)
    fail("", exec_errno);
}

pid_t RunChild::poll(int& wait_status) {
  auto reaped = waitpid(pid_, &wait_status, WNOHANG | WUNTRACED);
  if (reaped == pid_ && !WIFSTOPPED(wait_status))
    reaped_ = true;
  return reaped;
}

void RunChild::signal_group(int signal) {
  if (guardian_ > 0)
    kill(-guardian_, signal);
}

void RunChild::stop_job() {
  signal_group(SIGSTOP); // nothing may work on while the tool cannot refresh
  take_terminal_back();
  kill(getpid(), SIGSTOP);
  // Continued (fg or bg).
  if (foreground_terminal() >= 0) {
    tty_ = foreground_terminal();
    give_terminal();
  }
}

void RunChild::give_terminal() {
  if (tty_ >= 0 && guardian_ > 0)
    set_foreground(tty_, guardian_);
}

void RunChild::take_terminal_back() {
  if (tty_ >= 0 && guardian_ > 0 && tcgetpgrp(tty_) == guardian_)
    set_foreground(tty_, getpgrp());
}

void RunChild::finish() {
  take_terminal_back();
  tty_ = -1;
  signal_group(SIGKILL);
  if (pid_ > 0 && !reaped_) {
    kill(pid_, SIGKILL); // in case it left the group before exec failed
    while (waitpid(pid_, nullptr, 0) < 0 && errno == EINTR) {
    }
    reaped_ = true;
  }
  if (guardian_ > 0) {
    while (waitpid(guardian_, nullptr, 0) < 0 && errno == EINTR) {
    }
    guardian_ = -1;
  }
  if (lifeline_ >= 0) {
    close(lifeline_);
    lifeline_ = -1;
  }
}

} // namespace godistlock::client::cli
