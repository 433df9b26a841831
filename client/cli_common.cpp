#include "client/cli_common.hpp"

#include "client/cli_signals.hpp"
#include "client/wait_progress.hpp"

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <future>
#include <optional>
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
  std::optional<WaitProgress> progress;
  if (cmd.progress && options.wait != milliseconds(0))
    progress.emplace(cmd, err);
  options.on_queued = [&progress](uint64_t place) {
    if (progress)
      progress->queued(place);
  };
  // The acquire runs on a thread of its own so that this one can watch for
  // signals while it is parked at a server.
  auto reply = std::async(std::launch::async, [&] { return client.acquire(cmd.name, options); });
  // The attempt in flight comes back within one park window (<= 1 s) when the
  // server answers, and leaving the queue takes one more request.
  const auto patience = cmd.attempt_timeout + seconds(2);
  std::optional<steady_clock::time_point> give_up_at;
  while (reply.wait_for(milliseconds(20)) != std::future_status::ready) {
    if (progress)
      progress->show();
    int signal = take_signal();
    if (signal == SIGWINCH)
      continue; // not a request to stop
    bool impatient = signal != 0 && stop.load() != 0;
    if (impatient || (give_up_at && steady_clock::now() >= *give_up_at)) {
      if (progress)
        err << "\r\033[K";
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
  progress.reset();
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

const char* status_code(Status status) {
  switch (status) {
  case Status::ok:
    return "ok";
  case Status::not_acquired:
    return "not_acquired";
  case Status::not_holder:
    return "not_holder";
  case Status::invalid_argument:
    return "invalid_argument";
  case Status::unavailable:
    return "unavailable";
  case Status::internal:
    break;
  }
  return "internal";
}

int json_failure(std::ostream& out, const CliCommand& cmd, const Reply& reply, int exit_code) {
  if (!cmd.json)
    return exit_code;
  out << "{\"command\":" << json_string(cmd.command);
  if (!cmd.name.empty())
    out << ",\"name\":" << json_string(cmd.name);
  out << ",\"error\":" << json_string(status_code(reply.status))
      << ",\"message\":" << json_string(reply.message) << ",\"exit_code\":" << exit_code << "}\n";
  return exit_code;
}

int fail(std::ostream& out, std::ostream& err, const CliCommand& cmd, const Reply& reply) {
  bool acquiring = cmd.command == "acquire" || cmd.command == "try" || cmd.command == "run";
  int status =
      acquiring ? report_acquire_failure(err, cmd, reply)
                : report_failure(err, cmd.name.empty() ? cmd.command : describe_lock(cmd), reply);
  return json_failure(out, cmd, reply, status);
}

} // namespace godistlock::client::cli
