#include "process.hpp"

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <fcntl.h>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

namespace gdl_chaos {

std::string ExitStatus::describe() const {
  if (exited)
    return "exit " + std::to_string(code);
  return std::string("killed by signal ") + std::to_string(signal);
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

ChildProcess::ChildProcess(const std::vector<std::string>& argv, const std::string& log_path,
                           bool pipes) {
  // Everything the child needs is prepared before fork: after it, only
  // async-signal-safe calls.
  std::vector<char*> args;
  for (auto& a : argv)
    args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  const char* log = log_path.c_str();
  long max_fd = std::min<long>(::sysconf(_SC_OPEN_MAX), 65536);
  pid_t parent = ::getpid();
  // [0] read end, [1] write end; close-on-exec, so no other child inherits them.
  int to_child[2] = {-1, -1};
  int from_child[2] = {-1, -1};
  if (pipes && (::pipe2(to_child, O_CLOEXEC) != 0 || ::pipe2(from_child, O_CLOEXEC) != 0)) {
    auto error = std::string("pipe: ") + std::strerror(errno);
    for (int fd : {to_child[0], to_child[1], from_child[0], from_child[1]})
      if (fd >= 0)
        ::close(fd);
    throw std::runtime_error(error);
  }
  pid_ = ::fork();
  if (pid_ < 0) {
    auto error = std::string("fork: ") + std::strerror(errno);
    if (pipes)
      for (int fd : {to_child[0], to_child[1], from_child[0], from_child[1]})
        ::close(fd);
    throw std::runtime_error(error);
  }
  if (pid_ == 0) {
    ::setpgid(0, 0);
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent)
      ::_exit(127);
    int in = pipes ? to_child[0] : ::open("/dev/null", O_RDONLY);
    int out = ::open(log, O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (in < 0 || out < 0)
      ::_exit(127);
    // dup2 clears close-on-exec on the copies.
    ::dup2(in, 0);
    ::dup2(pipes ? from_child[1] : out, 1);
    ::dup2(out, 2);
    // The harness's sockets (proxies, clients) must not leak into nodes.
    for (long fd = 3; fd < max_fd; ++fd)
      ::close(static_cast<int>(fd));
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    ::execv(args[0], args.data());
    ::_exit(127);
  }
  ::setpgid(pid_, pid_);
  if (pipes) {
    ::close(to_child[0]);
    ::close(from_child[1]);
    stdin_fd_ = to_child[1];
    stdout_fd_ = from_child[0];
  }
}

ChildProcess::~ChildProcess() {
  if (!exit_)
    kill_and_reap();
  for (int fd : {stdin_fd_, stdout_fd_})
    if (fd >= 0)
      ::close(fd);
}

void ChildProcess::reap(int wstatus) {
  ExitStatus e;
  if (WIFEXITED(wstatus)) {
    e.exited = true;
    e.code = WEXITSTATUS(wstatus);
  } else if (WIFSIGNALED(wstatus)) {
    e.signal = WTERMSIG(wstatus);
  }
  exit_ = e;
}

bool ChildProcess::running() {
  if (exit_)
    return false;
  int status = 0;
  pid_t r = ::waitpid(pid_, &status, WNOHANG);
  if (r == pid_) {
    reap(status);
    return false;
  }
  return true;
}

void ChildProcess::signal(int sig) {
  if (running())
    ::kill(pid_, sig);
}

ExitStatus ChildProcess::kill_and_reap() {
  if (exit_)
    return *exit_;
  // The node's process group holds only the node; the PID is ours.
  ::kill(-pid_, SIGKILL);
  ::kill(pid_, SIGKILL);
  int status = 0;
  if (::waitpid(pid_, &status, 0) == pid_)
    reap(status);
  else
    exit_ = ExitStatus{};
  return *exit_;
}

std::optional<ExitStatus> ChildProcess::wait_for(std::chrono::milliseconds limit) {
  auto until = std::chrono::steady_clock::now() + limit;
  while (running()) {
    if (std::chrono::steady_clock::now() >= until)
      return std::nullopt;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return exit_;
}

} // namespace gdl_chaos
