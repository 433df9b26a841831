// Checkers over a chaos history. Pure functions: no processes, no sockets,
// no clocks, so each one is unit-tested on hand-made histories.
#pragma once

#include "fenced_register.hpp"
#include "history.hpp"

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace gdl_chaos {

struct CheckResult {
  std::string name;
  std::vector<std::string> violations;
  std::string note; // what was looked at, for the report
  // How many cases were compared (fifo: pairs), so that a vacuous pass shows.
  std::optional<size_t> checked;
  // "safety", "liveness" or "fairness": the report counts violations per kind.
  std::string kind = "safety";
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

// (5) Waiters are served in order: for waiting acquires X and Y of one lock
// by different clients that both succeeded, if X was told it was queued
// before Y was invoked (and before X's ok), X's token is smaller. Only X's
// queued events since its position last went up (or was not said) count: a
// rise means X lost its place and queued again. Pairs whose span (X's
// invoke to the later ok) comes within `grace` after a fault (of the
// nemesis or a client-pause) are left out: faults may legitimately cost a
// waiter its place (an unclaimed reservation lapses after 2 s). Y invoked
// after X's ok is check (2)'s case. Also left out: a Y never queued whose
// previous acquire of the lock failed less than 2 leases before: its owner
// may have been granted the lock unawares then (a grant racing the end of
// the wait) and now got that grant's token back.
CheckResult check_fifo(const std::vector<Event>& history,
                       std::chrono::nanoseconds lease = std::chrono::milliseconds(2000),
                       std::chrono::nanoseconds grace = std::chrono::milliseconds(2500));

// (6) After the last fault healed, each of `locks` was acquired (by anyone)
// within `bound`.
CheckResult check_liveness(const std::vector<Event>& history, const std::vector<std::string>& locks,
                           std::chrono::nanoseconds bound);

// (7) Waiters are served: per lock, no span in which some client was in a
// waiting acquire and nobody held the lock (by its client's view) lasts
// longer than `bound(lock)` (a grant to a client that left lapses within one
// lease, a reservation within 2 s). Spans that touch a fault, or the
// `grace` after one, are left out. A liveness check.
CheckResult
check_waiters_served(const std::vector<Event>& history,
                     const std::function<std::chrono::nanoseconds(const std::string&)>& bound,
                     std::chrono::nanoseconds grace);

// The value a client writes to the register for its write operation.
std::string register_value(const std::string& process, uint64_t op_id);

// Every fault as [start, stop]: a fault-start paired with the next
// fault-stop of the same kind by the same process (faults of one kind by
// one process never overlap); one never stopped lasts to the end. In the
// order of their starts.
std::vector<std::pair<int64_t, int64_t>> fault_spans(const std::vector<Event>& events);

} // namespace gdl_chaos
