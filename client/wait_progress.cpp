#include "client/wait_progress.hpp"

#include "client/cli_common.hpp"
#include "client/client.hpp"

#include <sys/ioctl.h>
#include <unistd.h>

#include <ostream>

namespace godistlock::client::cli {

using namespace std::chrono;

namespace {

// Redraws at most this often: enough for a seconds counter.
constexpr auto redraw_every = milliseconds(250);
constexpr auto ask_holder_every = seconds(1);

size_t terminal_width() {
  winsize size{};
  if (ioctl(STDERR_FILENO, TIOCGWINSZ, &size) == 0 && size.ws_col > 0)
    return size.ws_col;
  return 80;
}

std::string ordinal(uint64_t n) {
  auto suffix = "th";
  if (n % 100 < 11 || n % 100 > 13) {
    if (n % 10 == 1)
      suffix = "st";
    else if (n % 10 == 2)
      suffix = "nd";
    else if (n % 10 == 3)
      suffix = "rd";
  }
  return std::to_string(n) + suffix;
}

std::string waited_text(steady_clock::duration waited) {
  auto s = duration_cast<seconds>(waited).count();
  if (s < 60)
    return std::to_string(s) + "s";
  if (s < 3600)
    return std::to_string(s / 60) + "m" + std::to_string(s % 60) + "s";
  return std::to_string(s / 3600) + "h" + std::to_string(s % 3600 / 60) + "m";
}

} // namespace

WaitProgress::WaitProgress(const CliCommand& cmd, std::ostream& err) : cmd_(cmd), err_(err) {
  watcher_ = std::thread([this] { watch_holder(); });
}

WaitProgress::~WaitProgress() {
  {
    std::lock_guard<std::mutex> guard(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  watcher_.join();
  if (drawn_)
    err_ << "\r\033[K" << std::flush;
}

void WaitProgress::show() {
  auto now = steady_clock::now();
  if (drawn_ && now - drawn_at_ < redraw_every)
    return;
  // Time first: a narrow terminal cuts the end of the line.
  std::string line = message_prefix + std::string("waiting for '") + cmd_.name + "' " +
                     waited_text(now - started_);
  if (auto place = position_.load(); place > 0)
    line += ", " + ordinal(place) + " in the queue";
  {
    std::lock_guard<std::mutex> guard(mutex_);
    if (!holder_.empty())
      line += ", held by " + holder_;
  }
  // Longer than the terminal, it would wrap and \r would redraw only its tail.
  auto width = terminal_width();
  if (line.size() >= width)
    line = line.substr(0, width - 1);
  err_ << "\r\033[K" << line << std::flush;
  drawn_ = true;
  drawn_at_ = now;
}

void WaitProgress::watch_holder() {
  // A Client of its own with a short budget: shutting the line down never
  // waits for a slow server for long.
  ClientOptions options;
  options.servers = cmd_.servers;
  options.attempt_timeout = std::min(cmd_.attempt_timeout, milliseconds(1000));
  Client client(std::move(options));
  std::unique_lock<std::mutex> lock(mutex_);
  while (!stopping_) {
    lock.unlock();
    auto reply = client.status(cmd_.name);
    lock.lock();
    if (reply.ok())
      holder_ = reply.lock.held()
                    ? reply.lock.owner() + " (token " + std::to_string(reply.lock.token()) + ")"
                    : "nobody (being handed over)";
    wake_.wait_for(lock, ask_holder_every, [this] { return stopping_; });
  }
}

} // namespace godistlock::client::cli
