// The line protocol between the harness and a client worker process
// (godistlock-chaos --client-worker). One message per line: a kind, then
// space-separated key=value fields whose values are percent-encoded, so
// that any text fits on one line.
//   worker -> harness:  event t=... type=ok proc=w1-1 op=acquire id=3 ...
//                       write id=7 lock=hot-0 token=5 value=w1-1#7
//   (the harness logs a write's invoke and outcome itself, around the
//   register's write: a write takes effect when it reaches the register,
//   however long the worker was stopped after it decided to write)
//   harness -> worker:  written id=7 accepted=1
// Pure functions, unit-tested in tests/chaos/tests/worker_protocol_test.cpp.
#pragma once

#include "history.hpp"

#include <cstdint>
#include <map>
#include <optional>
#include <string>

namespace gdl_chaos {

struct LineMessage {
  std::string kind;
  std::map<std::string, std::string> fields;
};

// Percent-encodes '%', '=', whitespace and control bytes.
std::string percent_encode(const std::string& text);
// nullopt on a malformed escape.
std::optional<std::string> percent_decode(const std::string& text);

// No trailing newline.
std::string encode_line(const LineMessage& message);
// nullopt if the line is empty or a field is malformed.
std::optional<LineMessage> parse_line(const std::string& line);

std::optional<EventType> event_type_from_string(const std::string& text);
std::optional<Op> op_from_string(const std::string& text);

// Every field of the event, time included.
std::string encode_event(const Event& event);
// nullopt unless `message` is a well-formed "event".
std::optional<Event> decode_event(const LineMessage& message);

struct WriteRequest {
  uint64_t id = 0; // the worker's op id of the write
  std::string lock;
  uint64_t token = 0;
  std::string value;
  std::string detail; // for the history's invoke event
};
std::string encode_write_request(const WriteRequest& request);
std::optional<WriteRequest> decode_write_request(const LineMessage& message);

struct WriteReply {
  uint64_t id = 0;
  bool accepted = false;
};
std::string encode_write_reply(const WriteReply& reply);
std::optional<WriteReply> decode_write_reply(const LineMessage& message);

// A deadline on a clock that runs at `rate` times real time, expressed in
// real time: real_now + (deadline - skewed_now) / rate, where skewed_now and
// real_now were read at (about) the same instant. Read real_now first: a
// later skewed_now only makes the result earlier, never later.
int64_t real_deadline(int64_t skewed_deadline, int64_t skewed_now, int64_t real_now, double rate);

} // namespace gdl_chaos
