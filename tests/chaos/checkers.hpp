// Checkers over a chaos history. Pure functions: no processes, no sockets,
// no clocks, so each one is unit-tested on hand-made histories.
#pragma once

#include "fenced_register.hpp"
#include "history.hpp"

#include <chrono>
#include <string>
#include <vector>

namespace gdl_chaos {

struct CheckResult {
  std::string name;
  std::vector<std::string> violations;
  std::string note; // what was looked at, for the report
  bool ok() const { return violations.empty(); }
};

// A span in which one client was entitled to act on a lock: from an
// acquire's ok to the earliest of its release invoke, a lease-lost event, a
// refresh that did not succeed (at its invoke), or the lease's end by the
// client's own conservative clock. A refresh that succeeds extends the span;
// one that succeeds after the span ended opens a new one at its reply.
struct HoldSegment {
  std::string lock;
  std::string process;
  uint64_t token = 0;
  int64_t start_ns = 0;
  int64_t end_ns = 0;
};

std::vector<HoldSegment> hold_segments(const std::vector<Event>& history);

// (1) Per lock, the hold segments of different clients never overlap.
CheckResult check_mutual_exclusion(const std::vector<Event>& history);

// (2) Per lock, tokens of successful acquires are unique (one owner each),
// and a grant that completed before another was invoked has a smaller token.
CheckResult check_tokens(const std::vector<Event>& history);

// (3) The register never accepted a lower token after a higher one, every
// acknowledged write is in its final state, and no write made inside its
// client's hold segment was refused (that means a newer holder wrote while
// this one still trusted its lease).
CheckResult check_fenced_register(const std::vector<Event>& history,
                                  const std::vector<RegisterWrite>& log,
                                  const RegisterState& final_state);

// (4) No acknowledged change is lost: after a release of token t was
// acknowledged, no acquire invoked later returns t and no status shows t as
// the holder; after a grant of t was acknowledged, no status invoked later
// shows a fence below t.
CheckResult check_no_lost_updates(const std::vector<Event>& history);

// (6) After the last fault healed, each of `locks` was acquired (by anyone)
// within `bound`.
CheckResult check_liveness(const std::vector<Event>& history, const std::vector<std::string>& locks,
                           std::chrono::nanoseconds bound);

// The value a client writes to the register for its write operation.
std::string register_value(const std::string& process, uint64_t op_id);

} // namespace gdl_chaos
