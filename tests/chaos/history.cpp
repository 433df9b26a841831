#include "history.hpp"

#include "client/lease_clock.hpp"

#include <algorithm>
#include <cstdio>
#include <sstream>

namespace gdl_chaos {

const char* to_string(EventType type) {
  switch (type) {
  case EventType::invoke:
    return "invoke";
  case EventType::ok:
    return "ok";
  case EventType::fail:
    return "fail";
  case EventType::unknown:
    return "unknown";
  case EventType::fault_start:
    return "fault-start";
  case EventType::fault_stop:
    return "fault-stop";
  case EventType::cs_enter:
    return "cs-enter";
  case EventType::cs_exit:
    return "cs-exit";
  case EventType::lease_lost:
    return "lease-lost";
  case EventType::queued:
    return "queued";
  case EventType::info:
    return "info";
  }
  return "?";
}

const char* to_string(Op op) {
  switch (op) {
  case Op::none:
    return "";
  case Op::acquire:
    return "acquire";
  case Op::try_acquire:
    return "try";
  case Op::release:
    return "release";
  case Op::refresh:
    return "refresh";
  case Op::status:
    return "status";
  case Op::write:
    return "write";
  }
  return "?";
}

int64_t now_ns() {
  // Real time even in a client worker whose lease clock runs at a test rate.
  return godistlock::client::LeaseClock::real_now().time_since_epoch().count();
}

std::string json_escape(const std::string& text) {
  std::string out;
  for (unsigned char c : text) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x", c);
      out += buf;
    } else {
      out += static_cast<char>(c);
    }
  }
  return out;
}

std::string Event::to_json() const {
  std::ostringstream s;
  s << "{\"t\":" << time_ns << ",\"type\":\"" << to_string(type) << "\",\"proc\":\""
    << json_escape(process) << "\"";
  if (op != Op::none)
    s << ",\"op\":\"" << to_string(op) << "\",\"id\":" << op_id;
  if (!lock.empty())
    s << ",\"lock\":\"" << json_escape(lock) << "\"";
  if (token)
    s << ",\"token\":" << token;
  if (!server.empty())
    s << ",\"server\":\"" << json_escape(server) << "\"";
  if (trusted_until_ns)
    s << ",\"trusted_until\":" << trusted_until_ns;
  if (op == Op::status && type == EventType::ok)
    s << ",\"fence\":" << fence << ",\"holder_token\":" << holder_token;
  if (type == EventType::queued)
    s << ",\"position\":" << position;
  if (!fault.empty())
    s << ",\"fault\":\"" << json_escape(fault) << "\"";
  if (!detail.empty())
    s << ",\"detail\":\"" << json_escape(detail) << "\"";
  s << "}";
  return s.str();
}

History::History(const std::string& path) : path_(path) {
  if (!path_.empty()) {
    file_.open(path_, std::ios::trunc);
    if (!file_)
      throw std::runtime_error("cannot write the history file " + path_);
  }
}

int64_t History::record(Event event) {
  std::lock_guard<std::mutex> guard(mutex_);
  event.time_ns = now_ns();
  if (file_.is_open())
    file_ << event.to_json() << '\n' << std::flush;
  events_.push_back(std::move(event));
  return events_.back().time_ns;
}

void History::record_at(Event event) {
  std::lock_guard<std::mutex> guard(mutex_);
  if (file_.is_open())
    file_ << event.to_json() << '\n' << std::flush;
  auto at = std::upper_bound(events_.begin(), events_.end(), event.time_ns,
                             [](int64_t t, const Event& e) { return t < e.time_ns; });
  events_.insert(at, std::move(event));
}

std::vector<Event> History::snapshot() const {
  std::lock_guard<std::mutex> guard(mutex_);
  return events_;
}

} // namespace gdl_chaos
