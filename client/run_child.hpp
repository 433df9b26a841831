// The command of `godistlock run` as a process: started in a process group of
// its own that a guardian process kills when the tool dies, whatever it dies
// of (see client/run_command.cpp for why it is built this way).
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <vector>

namespace godistlock::client::cli {

struct ProgramCheck {
  int exit_status = 0; // 0: it can be run; 127: not found; 126: found but not executable
  std::string error;
};

// Looks `program` up the way execvp will (through $PATH unless it has a '/').
ProgramCheck check_program(const std::string& program);

class RunChild {
public:
  // Starts the guardian and then `program` with GODISTLOCK_NAME/TOKEN set.
  // On failure error() says why and start_status() is 126 or 127.
  RunChild(const std::vector<std::string>& program, const std::string& name, uint64_t token);
  ~RunChild();
  RunChild(const RunChild&) = delete;
  RunChild& operator=(const RunChild&) = delete;

  const std::string& error() const { return error_; }
  int start_status() const { return start_status_; }
  pid_t pid() const { return pid_; }

  // waitpid(pid(), WNOHANG | WUNTRACED) that remembers when the command is gone.
  pid_t poll(int& wait_status);
  // Sends `signal` to every process of the command's group.
  void signal_group(int signal);
  // Stops the command's group and then the tool itself (job control: Ctrl-Z);
  // returns once the tool is continued. The group stays stopped: the caller
  // continues it only if the lock is still held.
  void stop_job();
  // Takes the terminal back and kills whatever is left of the group (the
  // command too, if it still runs), then reaps it. Call before releasing.
  void finish();

private:
  void start(const std::vector<std::string>& program, const std::string& name, uint64_t token);
  void give_terminal();
  void take_terminal_back();

  pid_t guardian_ = -1; // leads the group; reaped last, by finish()
  pid_t pid_ = -1;
  bool reaped_ = false;
  int lifeline_ = -1; // write end; only the tool holds it
  int tty_ = -1;      // the terminal the tool was in the foreground of, if any
  std::string error_;
  int start_status_ = 0;
};

} // namespace godistlock::client::cli
