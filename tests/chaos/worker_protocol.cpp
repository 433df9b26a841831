#include "worker_protocol.hpp"

#include <cmath>
#include <cstdio>
#include <sstream>

namespace gdl_chaos {

namespace {

int hex_digit(char c) {
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  return -1;
}

std::optional<uint64_t> to_u64(const std::string& text) {
  if (text.empty() || text.size() > 20)
    return std::nullopt;
  uint64_t v = 0;
  for (char c : text) {
    if (c < '0' || c > '9')
      return std::nullopt;
    auto next = v * 10 + static_cast<uint64_t>(c - '0');
    if (next / 10 != v)
      return std::nullopt;
    v = next;
  }
  return v;
}

std::optional<int64_t> to_i64(const std::string& text) {
  bool negative = !text.empty() && text[0] == '-';
  auto v = to_u64(negative ? text.substr(1) : text);
  if (!v || *v > static_cast<uint64_t>(INT64_MAX))
    return std::nullopt;
  return negative ? -static_cast<int64_t>(*v) : static_cast<int64_t>(*v);
}

// Reads field `key` into `out` if present; false if present but malformed.
bool read_u64(const LineMessage& m, const char* key, uint64_t& out) {
  auto it = m.fields.find(key);
  if (it == m.fields.end())
    return true;
  auto v = to_u64(it->second);
  if (!v)
    return false;
  out = *v;
  return true;
}

bool read_i64(const LineMessage& m, const char* key, int64_t& out) {
  auto it = m.fields.find(key);
  if (it == m.fields.end())
    return true;
  auto v = to_i64(it->second);
  if (!v)
    return false;
  out = *v;
  return true;
}

void read_text(const LineMessage& m, const char* key, std::string& out) {
  auto it = m.fields.find(key);
  if (it != m.fields.end())
    out = it->second;
}

} // namespace

std::string percent_encode(const std::string& text) {
  std::string out;
  for (unsigned char c : text) {
    if (c == '%' || c == '=' || c <= 0x20 || c == 0x7f) {
      char buf[4];
      std::snprintf(buf, sizeof buf, "%%%02X", c);
      out += buf;
    } else {
      out += static_cast<char>(c);
    }
  }
  return out;
}

std::optional<std::string> percent_decode(const std::string& text) {
  std::string out;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '%') {
      out += text[i];
      continue;
    }
    if (i + 2 >= text.size())
      return std::nullopt;
    int hi = hex_digit(text[i + 1]);
    int lo = hex_digit(text[i + 2]);
    if (hi < 0 || lo < 0)
      return std::nullopt;
    out += static_cast<char>(hi * 16 + lo);
    i += 2;
  }
  return out;
}

std::string encode_line(const LineMessage& message) {
  std::string out = percent_encode(message.kind);
  for (auto& [key, value] : message.fields)
    out += " " + percent_encode(key) + "=" + percent_encode(value);
  return out;
}

std::optional<LineMessage> parse_line(const std::string& line) {
  std::istringstream in(line);
  std::string word;
  LineMessage m;
  if (!(in >> word))
    return std::nullopt;
  auto kind = percent_decode(word);
  if (!kind)
    return std::nullopt;
  m.kind = *kind;
  while (in >> word) {
    auto eq = word.find('=');
    if (eq == std::string::npos || eq == 0)
      return std::nullopt;
    auto key = percent_decode(word.substr(0, eq));
    auto value = percent_decode(word.substr(eq + 1));
    if (!key || !value)
      return std::nullopt;
    m.fields[*key] = *value;
  }
  return m;
}

std::optional<EventType> event_type_from_string(const std::string& text) {
  for (auto t : {EventType::invoke, EventType::ok, EventType::fail, EventType::unknown,
                 EventType::fault_start, EventType::fault_stop, EventType::cs_enter,
                 EventType::cs_exit, EventType::lease_lost, EventType::queued, EventType::info})
    if (text == to_string(t))
      return t;
  return std::nullopt;
}

std::optional<Op> op_from_string(const std::string& text) {
  for (auto op :
       {Op::none, Op::acquire, Op::try_acquire, Op::release, Op::refresh, Op::status, Op::write})
    if (text == to_string(op))
      return op;
  return std::nullopt;
}

std::string encode_event(const Event& e) {
  LineMessage m;
  m.kind = "event";
  auto& f = m.fields;
  f["t"] = std::to_string(e.time_ns);
  f["type"] = to_string(e.type);
  f["proc"] = e.process;
  if (e.op != Op::none)
    f["op"] = to_string(e.op);
  if (e.op_id)
    f["id"] = std::to_string(e.op_id);
  if (!e.lock.empty())
    f["lock"] = e.lock;
  if (e.token)
    f["token"] = std::to_string(e.token);
  if (!e.server.empty())
    f["server"] = e.server;
  if (e.trusted_until_ns)
    f["trusted_until"] = std::to_string(e.trusted_until_ns);
  if (e.fence)
    f["fence"] = std::to_string(e.fence);
  if (e.holder_token)
    f["holder_token"] = std::to_string(e.holder_token);
  if (e.position)
    f["position"] = std::to_string(e.position);
  if (!e.fault.empty())
    f["fault"] = e.fault;
  if (!e.detail.empty())
    f["detail"] = e.detail;
  return encode_line(m);
}

std::optional<Event> decode_event(const LineMessage& m) {
  if (m.kind != "event")
    return std::nullopt;
  Event e;
  auto t = m.fields.find("t");
  auto type = m.fields.find("type");
  auto proc = m.fields.find("proc");
  if (t == m.fields.end() || type == m.fields.end() || proc == m.fields.end() ||
      proc->second.empty())
    return std::nullopt;
  auto time = to_i64(t->second);
  auto event_type = event_type_from_string(type->second);
  if (!time || !event_type)
    return std::nullopt;
  e.time_ns = *time;
  e.type = *event_type;
  e.process = proc->second;
  if (auto op = m.fields.find("op"); op != m.fields.end()) {
    auto parsed = op_from_string(op->second);
    if (!parsed)
      return std::nullopt;
    e.op = *parsed;
  }
  if (!read_u64(m, "id", e.op_id) || !read_u64(m, "token", e.token) ||
      !read_i64(m, "trusted_until", e.trusted_until_ns) || !read_u64(m, "fence", e.fence) ||
      !read_u64(m, "holder_token", e.holder_token) || !read_u64(m, "position", e.position))
    return std::nullopt;
  read_text(m, "lock", e.lock);
  read_text(m, "server", e.server);
  read_text(m, "fault", e.fault);
  read_text(m, "detail", e.detail);
  return e;
}

std::string encode_write_request(const WriteRequest& r) {
  LineMessage m;
  m.kind = "write";
  m.fields["id"] = std::to_string(r.id);
  m.fields["lock"] = r.lock;
  m.fields["token"] = std::to_string(r.token);
  m.fields["value"] = r.value;
  if (!r.detail.empty())
    m.fields["detail"] = r.detail;
  return encode_line(m);
}

std::optional<WriteRequest> decode_write_request(const LineMessage& m) {
  if (m.kind != "write" || !m.fields.count("id") || !m.fields.count("lock") ||
      !m.fields.count("token"))
    return std::nullopt;
  WriteRequest r;
  if (!read_u64(m, "id", r.id) || !read_u64(m, "token", r.token))
    return std::nullopt;
  read_text(m, "lock", r.lock);
  read_text(m, "value", r.value);
  read_text(m, "detail", r.detail);
  if (r.lock.empty())
    return std::nullopt;
  return r;
}

std::string encode_write_reply(const WriteReply& r) {
  LineMessage m;
  m.kind = "written";
  m.fields["id"] = std::to_string(r.id);
  m.fields["accepted"] = r.accepted ? "1" : "0";
  return encode_line(m);
}

std::optional<WriteReply> decode_write_reply(const LineMessage& m) {
  if (m.kind != "written" || !m.fields.count("id"))
    return std::nullopt;
  WriteReply r;
  if (!read_u64(m, "id", r.id))
    return std::nullopt;
  auto accepted = m.fields.find("accepted");
  if (accepted == m.fields.end() || (accepted->second != "0" && accepted->second != "1"))
    return std::nullopt;
  r.accepted = accepted->second == "1";
  return r;
}

int64_t real_deadline(int64_t skewed_deadline, int64_t skewed_now, int64_t real_now, double rate) {
  if (rate == 1.0)
    return real_now + (skewed_deadline - skewed_now);
  auto left = static_cast<double>(skewed_deadline - skewed_now) / rate;
  return real_now + static_cast<int64_t>(std::floor(left));
}

} // namespace gdl_chaos
