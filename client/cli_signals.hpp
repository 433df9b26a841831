// Signal handling of the `godistlock` tool. A caught signal only marks
// itself pending; the thread that waits for the lock or supervises `run`'s
// command acts on it, so that the lock is given back (or the command stopped)
// before the tool exits instead of being left behind.
#pragma once

#include <csignal>
#include <utility>
#include <vector>

namespace godistlock::client {

// Records which signals were ignored when the tool started (nohup, background
// jobs of scripts) and ignores SIGPIPE, so that a write to a closed pipe is an
// error the tool can answer instead of a silent death. Call once, first.
void note_startup_signals();

// Catches `signals` while alive and restores their previous dispositions on
// destruction. A signal that was ignored when the tool started stays ignored
// (nohup keeps working), except SIGINT and SIGTERM, which the tool always
// honours. Instances may overlap (the newer one restores to the older one's
// handler), so that a lock is never held while a stop signal would kill the
// tool outright.
class CaughtSignals {
public:
  explicit CaughtSignals(const std::vector<int>& signals);
  ~CaughtSignals();
  CaughtSignals(const CaughtSignals&) = delete;
  CaughtSignals& operator=(const CaughtSignals&) = delete;

private:
  std::vector<std::pair<int, struct sigaction>> saved_;
};

// The lowest-numbered signal caught since it was last taken, or 0.
int take_signal();
// Forgets `signal` if it is pending.
void drop_signal(int signal);

// For a forked child before exec (async-signal-safe): every signal the tool
// catches or ignores goes back to what the tool started with, except SIGINT
// and SIGTERM, which start at their defaults (the tool forwards them).
void reset_signals_in_child();

// Signals that end a waiting acquire or run (it leaves the wait queue first).
extern const std::vector<int> wait_stop_signals;
// Signals `run` passes on to its command's process group (SIGTSTP stops the
// whole job instead, see run_command.cpp).
extern const std::vector<int> run_signals;

// "SIGINT", "SIGTERM", ... for messages.
const char* signal_name(int signal);

} // namespace godistlock::client
