#include "client/cli_common.hpp"

#include "client/cli_signals.hpp"

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <future>
#include <ostream>

namespace godistlock::client::cli {

using namespace std::chrono;

const char* const message_prefix = "godistlock: ";

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

int report_acquire_failure(std::ostream& err, const CliCommand& cmd, const Reply& reply) {
  int status = report_failure(err, describe_lock(cmd), reply);
  if (reply.status == Status::not_acquired && cmd.conflict_exit_code)
    return *cmd.conflict_exit_code;
  return status;
}

std::string describe_lock(const CliCommand& cmd) {
  return cmd.command + " '" + cmd.name + "'";
}

Acquired acquire_interruptible(Client& client, const CliCommand& cmd, std::ostream& err) {
  AcquireOptions options;
  options.ttl = cmd.ttl;
  options.wait = cmd.command == "try" ? std::optional<milliseconds>(0) : cmd.wait;
  options.owner = cmd.owner;
  std::atomic<int> stop{0};
  options.stop_requested = [&stop] { return stop.load() != 0; };
  // The acquire runs on a thread of its own so that this one can watch for
  // signals while it is parked at a server.
  auto reply = std::async(std::launch::async, [&] { return client.acquire(cmd.name, options); });
  // The attempt in flight comes back within one park window (<= 1 s) when the
  // server answers, and leaving the queue takes one more request.
  const auto patience = cmd.attempt_timeout + seconds(2);
  std::optional<steady_clock::time_point> give_up_at;
  while (reply.wait_for(milliseconds(20)) != std::future_status::ready) {
    int signal = take_signal();
    if (signal == SIGWINCH)
      continue; // not a request to stop
    bool impatient = signal != 0 && stop.load() != 0;
    if (impatient || (give_up_at && steady_clock::now() >= *give_up_at)) {
      err << message_prefix << describe_lock(cmd) << ": interrupted by " << signal_name(stop.load())
          << "; leaving the wait queue was not confirmed (the "
          << "place lapses when its turn comes)" << std::endl;
      std::_Exit(128 + stop.load()); // the acquire thread cannot be joined in time
    }
    if (signal != 0) {
      stop.store(signal);
      give_up_at = steady_clock::now() + patience;
    }
  }
  Acquired acquired{reply.get(), stop.load()};
  drop_signal(SIGWINCH);
  if (acquired.signal == 0) // one that came with the answer counts too
    acquired.signal = take_signal();
  return acquired;
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

} // namespace godistlock::client::cli
