#include "client/cli_signals.hpp"

#include <array>
#include <atomic>
#include <cstring>
#include <string>

namespace godistlock::client {

namespace {

// Every signal the tool may catch or change, for reset_signals_in_child.
constexpr int handled_signals[] = {SIGINT,  SIGTERM,  SIGHUP,  SIGQUIT, SIGUSR1,
                                   SIGUSR2, SIGWINCH, SIGTSTP, SIGPIPE, SIGCHLD};

std::array<std::atomic<unsigned>, NSIG> pending{};
std::array<bool, NSIG> ignored_at_start{};
static_assert(std::atomic<unsigned>::is_always_lock_free, "used from a signal handler");

extern "C" void mark_pending(int signal) {
  if (signal > 0 && signal < NSIG)
    pending[static_cast<size_t>(signal)].fetch_add(1);
}

bool always_caught(int signal) {
  return signal == SIGINT || signal == SIGTERM;
}

} // namespace

const std::vector<int> wait_stop_signals = {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2};
const std::vector<int> run_signals = {SIGINT,  SIGTERM, SIGHUP,   SIGQUIT,
                                      SIGUSR1, SIGUSR2, SIGWINCH, SIGTSTP};

void note_startup_signals() {
  for (int signal : handled_signals) {
    struct sigaction current {};
    sigaction(signal, nullptr, &current);
    ignored_at_start[static_cast<size_t>(signal)] = current.sa_handler == SIG_IGN;
  }
  struct sigaction ignore {};
  ignore.sa_handler = SIG_IGN;
  sigemptyset(&ignore.sa_mask);
  sigaction(SIGPIPE, &ignore, nullptr);
}

CaughtSignals::CaughtSignals(const std::vector<int>& signals) {
  struct sigaction catch_it {};
  catch_it.sa_handler = mark_pending;
  sigemptyset(&catch_it.sa_mask);
  catch_it.sa_flags = SA_RESTART;
  for (int signal : signals) {
    if (ignored_at_start[static_cast<size_t>(signal)] && !always_caught(signal))
      continue;
    struct sigaction previous {};
    sigaction(signal, &catch_it, &previous);
    saved_.emplace_back(signal, previous);
  }
}

CaughtSignals::~CaughtSignals() {
  for (auto& [signal, previous] : saved_)
    sigaction(signal, &previous, nullptr);
}

int take_signal() {
  for (int signal = 1; signal < NSIG; ++signal)
    if (pending[static_cast<size_t>(signal)].exchange(0) > 0)
      return signal;
  return 0;
}

void drop_signal(int signal) {
  pending[static_cast<size_t>(signal)].store(0);
}

void reset_signals_in_child() {
  for (int signal : handled_signals) {
    struct sigaction action {};
    bool ignore = ignored_at_start[static_cast<size_t>(signal)] && !always_caught(signal);
    action.sa_handler = ignore ? SIG_IGN : SIG_DFL;
    sigemptyset(&action.sa_mask);
    sigaction(signal, &action, nullptr);
  }
}

const char* signal_name(int signal) {
  static thread_local std::string name;
  const char* abbrev = sigabbrev_np(signal);
  name = abbrev ? std::string("SIG") + abbrev : "signal " + std::to_string(signal);
  return name.c_str();
}

} // namespace godistlock::client
