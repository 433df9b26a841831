#include "checkers.hpp"

#include <algorithm>
#include <map>
#include <set>
#include <sstream>
#include <tuple>

namespace gdl_chaos {

namespace {

std::vector<Event> time_ordered(const std::vector<Event>& history) {
  auto events = history;
  std::stable_sort(events.begin(), events.end(),
                   [](const Event& a, const Event& b) { return a.time_ns < b.time_ns; });
  return events;
}

bool is_acquire(Op op) {
  return op == Op::acquire || op == Op::try_acquire;
}

using OpKey = std::pair<std::string, uint64_t>; // process, op id

// Invoke time of every operation, by (process, op id).
std::map<OpKey, int64_t> invoke_times(const std::vector<Event>& events) {
  std::map<OpKey, int64_t> out;
  for (auto& e : events)
    if (e.type == EventType::invoke)
      out.emplace(OpKey{e.process, e.op_id}, e.time_ns);
  return out;
}

std::string ms(int64_t ns) {
  std::ostringstream s;
  s.setf(std::ios::fixed);
  s.precision(3);
  s << static_cast<double>(ns) / 1e6 << " ms";
  return s.str();
}

struct Grant {
  std::string process;
  uint64_t token = 0;
  int64_t invoked_ns = 0;
  int64_t ok_ns = 0;
};

// Successful acquires per lock, in completion order.
std::map<std::string, std::vector<Grant>> grants_by_lock(const std::vector<Event>& events) {
  auto invoked = invoke_times(events);
  std::map<std::string, std::vector<Grant>> out;
  for (auto& e : events) {
    if (e.type != EventType::ok || !is_acquire(e.op))
      continue;
    auto it = invoked.find({e.process, e.op_id});
    int64_t invoked_ns = it == invoked.end() ? e.time_ns : it->second;
    out[e.lock].push_back(Grant{e.process, e.token, invoked_ns, e.time_ns});
  }
  return out;
}

} // namespace

// Every fault as [start, stop]: a fault-start paired with the next
// fault-stop of the same kind by the same process (the nemesis, or a client
// that paused itself); one never stopped lasts to the end. Time ordered.
std::vector<std::pair<int64_t, int64_t>> fault_spans(const std::vector<Event>& events) {
  std::vector<std::pair<int64_t, int64_t>> out;
  for (size_t k = 0; k < events.size(); ++k) {
    auto& s = events[k];
    if (s.type != EventType::fault_start)
      continue;
    int64_t stop = events.back().time_ns;
    for (size_t m = k + 1; m < events.size(); ++m)
      if (events[m].type == EventType::fault_stop && events[m].fault == s.fault &&
          events[m].process == s.process) {
        stop = events[m].time_ns;
        break;
      }
    out.emplace_back(s.time_ns, stop);
  }
  return out;
}

std::string register_value(const std::string& process, uint64_t op_id) {
  return process + "#" + std::to_string(op_id);
}

std::vector<HoldSegment> hold_segments(const std::vector<Event>& history) {
  auto events = time_ordered(history);
  auto invoked = invoke_times(events);
  struct Open {
    HoldSegment segment;
    int64_t trusted_until = 0;
  };
  std::map<std::pair<std::string, std::string>, Open> open; // (process, lock)
  std::vector<HoldSegment> out;
  auto close = [&](const std::pair<std::string, std::string>& key, int64_t at) {
    auto it = open.find(key);
    if (it == open.end())
      return;
    auto segment = it->second.segment;
    segment.end_ns = std::min(at, it->second.trusted_until);
    if (segment.end_ns > segment.start_ns)
      out.push_back(segment);
    open.erase(it);
  };
  for (auto& e : events) {
    std::pair<std::string, std::string> key{e.process, e.lock};
    if (e.type == EventType::ok && is_acquire(e.op)) {
      close(key, e.time_ns);
      Open o;
      o.segment = HoldSegment{e.lock, e.process, e.token, e.time_ns, 0};
      o.trusted_until = e.trusted_until_ns;
      open[key] = o;
    } else if (e.type == EventType::ok && e.op == Op::refresh) {
      auto it = open.find(key);
      if (it == open.end() || it->second.segment.token != e.token)
        continue;
      if (e.time_ns <= it->second.trusted_until) {
        it->second.trusted_until = std::max(it->second.trusted_until, e.trusted_until_ns);
      } else {
        // The lease had lapsed by the client's clock; trust starts again at the reply.
        auto token = it->second.segment.token;
        close(key, e.time_ns);
        Open o;
        o.segment = HoldSegment{e.lock, e.process, token, e.time_ns, 0};
        o.trusted_until = e.trusted_until_ns;
        open[key] = o;
      }
    } else if ((e.type == EventType::fail || e.type == EventType::unknown) && e.op == Op::refresh) {
      auto it = invoked.find({e.process, e.op_id});
      close(key, it == invoked.end() ? e.time_ns : it->second);
    } else if (e.type == EventType::invoke && e.op == Op::release) {
      close(key, e.time_ns);
    } else if (e.type == EventType::lease_lost) {
      close(key, e.time_ns);
    }
  }
  while (!open.empty()) {
    auto key = open.begin()->first;
    close(key, open.begin()->second.trusted_until);
  }
  return out;
}

CheckResult check_mutual_exclusion(const std::vector<Event>& history) {
  CheckResult r;
  r.name = "mutual-exclusion";
  auto segments = hold_segments(history);
  std::map<std::string, std::vector<HoldSegment>> by_lock;
  for (auto& s : segments)
    by_lock[s.lock].push_back(s);
  for (auto& [lock, list] : by_lock) {
    std::sort(list.begin(), list.end(),
              [](const HoldSegment& a, const HoldSegment& b) { return a.start_ns < b.start_ns; });
    const HoldSegment* latest = nullptr; // the segment that ends last so far
    for (auto& s : list) {
      if (latest && s.start_ns < latest->end_ns && s.process != latest->process) {
        std::ostringstream m;
        m << "lock " << lock << ": " << s.process << " (token " << s.token
          << ") held it from t=" << s.start_ns << " while " << latest->process << " (token "
          << latest->token << ") still trusted its lease until t=" << latest->end_ns << " (overlap "
          << ms(std::min(latest->end_ns, s.end_ns) - s.start_ns) << ")";
        r.violations.push_back(m.str());
      }
      if (!latest || s.end_ns > latest->end_ns)
        latest = &s;
    }
  }
  r.note = std::to_string(segments.size()) + " hold segments on " + std::to_string(by_lock.size()) +
           " locks";
  return r;
}

CheckResult check_tokens(const std::vector<Event>& history) {
  CheckResult r;
  r.name = "tokens";
  auto events = time_ordered(history);
  size_t count = 0;
  for (auto& [lock, grants] : grants_by_lock(events)) {
    count += grants.size();
    std::map<uint64_t, std::string> owner_of;
    for (auto& g : grants) {
      auto [it, fresh] = owner_of.emplace(g.token, g.process);
      if (!fresh && it->second != g.process)
        r.violations.push_back("lock " + lock + ": token " + std::to_string(g.token) +
                               " granted to " + it->second + " and to " + g.process);
    }
    // grants are in completion order; best[i] is the highest token among the
    // first i+1 of them (with its owner).
    std::vector<std::pair<uint64_t, std::string>> best;
    for (auto& g : grants) {
      if (best.empty() || g.token > best.back().first)
        best.emplace_back(g.token, g.process);
      else
        best.push_back(best.back());
    }
    for (auto& g : grants) {
      // Grants that completed before g was invoked.
      auto done = std::lower_bound(grants.begin(), grants.end(), g.invoked_ns,
                                   [](const Grant& a, int64_t t) { return a.ok_ns < t; }) -
                  grants.begin();
      if (done == 0)
        continue;
      auto& [token, process] = best[static_cast<size_t>(done - 1)];
      bool reacquire = token == g.token && process == g.process;
      if (token >= g.token && !reacquire)
        r.violations.push_back("lock " + lock + ": " + g.process + " was granted token " +
                               std::to_string(g.token) + " after token " + std::to_string(token) +
                               " (" + process + ") had already been granted");
    }
  }
  r.note = std::to_string(count) + " successful acquires";
  return r;
}

CheckResult check_fenced_register(const std::vector<Event>& history,
                                  const std::vector<RegisterWrite>& log,
                                  const RegisterState& final_state) {
  CheckResult r;
  r.name = "fenced-register";
  std::map<std::string, uint64_t> highest;
  auto ordered = log;
  std::sort(ordered.begin(), ordered.end(),
            [](const RegisterWrite& a, const RegisterWrite& b) { return a.seq < b.seq; });
  size_t refused = 0;
  for (auto& w : ordered) {
    auto& h = highest[w.lock];
    if (w.accepted && w.token < h)
      r.violations.push_back("lock " + w.lock + ": the register accepted token " +
                             std::to_string(w.token) + " after token " + std::to_string(h));
    if (!w.accepted && w.token >= h)
      r.violations.push_back("lock " + w.lock + ": the register refused token " +
                             std::to_string(w.token) + ", which was current");
    if (w.accepted)
      h = std::max(h, w.token);
    else
      ++refused;
  }
  auto events = time_ordered(history);
  size_t acknowledged = 0;
  for (auto& e : events) {
    if (e.op != Op::write || e.type != EventType::ok)
      continue;
    ++acknowledged;
    auto value = register_value(e.process, e.op_id);
    auto it = final_state.find(e.lock);
    if (it == final_state.end() ||
        std::find(it->second.begin(), it->second.end(), value) == it->second.end())
      r.violations.push_back("lock " + e.lock + ": acknowledged write " + value +
                             " is missing from the register's final state");
  }
  // A refused write made while its client trusted its lease: a newer holder
  // had already written, so two clients trusted the lock at once.
  auto segments = hold_segments(events);
  std::map<std::pair<std::string, std::string>, std::vector<HoldSegment>> by_holder;
  for (auto& s : segments)
    by_holder[{s.process, s.lock}].push_back(s);
  auto invoked = invoke_times(events);
  for (auto& e : events) {
    if (e.op != Op::write || e.type != EventType::fail)
      continue;
    auto at = invoked.find({e.process, e.op_id});
    if (at == invoked.end())
      continue;
    for (auto& s : by_holder[{e.process, e.lock}])
      if (s.token == e.token && s.start_ns <= at->second && at->second < s.end_ns)
        r.violations.push_back("lock " + e.lock + ": " + e.process + "'s write with token " +
                               std::to_string(e.token) +
                               " was refused while it still trusted its lease");
  }
  r.note = std::to_string(ordered.size()) + " writes at the register, " + std::to_string(refused) +
           " refused; " + std::to_string(acknowledged) + " acknowledged";
  return r;
}

CheckResult check_no_lost_updates(const std::vector<Event>& history) {
  CheckResult r;
  r.name = "no-lost-updates";
  auto events = time_ordered(history);
  auto invoked = invoke_times(events);
  auto invoke_of = [&](const Event& e) {
    auto it = invoked.find({e.process, e.op_id});
    return it == invoked.end() ? e.time_ns : it->second;
  };
  // Per lock: acknowledged releases (token, time) and grants (token, time).
  std::map<std::string, std::vector<std::pair<uint64_t, int64_t>>> releases, grants;
  size_t reads = 0;
  for (auto& e : events) {
    if (e.type != EventType::ok)
      continue;
    if (e.op == Op::release) {
      releases[e.lock].emplace_back(e.token, e.time_ns);
    } else if (is_acquire(e.op)) {
      int64_t start = invoke_of(e);
      for (auto& [token, at] : releases[e.lock])
        if (token == e.token && at < start)
          r.violations.push_back("lock " + e.lock + ": " + e.process + " acquired token " +
                                 std::to_string(token) + " after the release of token " +
                                 std::to_string(token) + " was acknowledged");
      grants[e.lock].emplace_back(e.token, e.time_ns);
    } else if (e.op == Op::status) {
      ++reads;
      int64_t start = invoke_of(e);
      for (auto& [token, at] : grants[e.lock])
        if (at < start && e.fence < token)
          r.violations.push_back("lock " + e.lock + ": status shows fence " +
                                 std::to_string(e.fence) + " after token " + std::to_string(token) +
                                 " was granted");
      for (auto& [token, at] : releases[e.lock])
        if (at < start && e.holder_token == token)
          r.violations.push_back("lock " + e.lock + ": status shows token " +
                                 std::to_string(token) +
                                 " as the holder after its release was acknowledged");
    }
  }
  r.note = std::to_string(reads) + " status reads checked";
  return r;
}

CheckResult check_fifo(const std::vector<Event>& history, std::chrono::nanoseconds lease,
                       std::chrono::nanoseconds grace) {
  CheckResult r;
  r.name = "fifo";
  r.kind = "fairness";
  auto events = time_ordered(history);
  auto faults = fault_spans(events);
  auto invoked = invoke_times(events);
  // Each waiting acquire's queued reports: (time, position), in time order.
  std::map<OpKey, std::vector<std::pair<int64_t, uint64_t>>> queued;
  for (auto& e : events)
    if (e.type == EventType::queued && e.op == Op::acquire)
      queued[{e.process, e.op_id}].emplace_back(e.time_ns, e.position);

  struct Waiting {
    std::string process;
    uint64_t op_id = 0;
    uint64_t token = 0;
    int64_t invoked_ns = 0;
    int64_t ok_ns = 0;
    int64_t queued_ns = -1;  // the first queued report that counts; -1: none
    uint64_t position = 0;   // ...and its position
    bool maybe_held = false; // may have held the lock since a failed acquire
  };
  std::map<std::string, std::vector<Waiting>> by_lock;
  size_t waiting = 0, with_queue = 0;
  // Per (process, lock): when its latest acquire that did not succeed ended.
  std::map<std::pair<std::string, std::string>, int64_t> failed_at;
  for (auto& e : events) {
    // After an acquire that failed, or a release whose outcome is unknown,
    // the owner may hold the lock unawares: its next acquire can get that
    // grant back without queueing.
    if ((is_acquire(e.op) && (e.type == EventType::fail || e.type == EventType::unknown)) ||
        (e.op == Op::release && e.type == EventType::unknown))
      failed_at[{e.process, e.lock}] = e.time_ns;
    if (e.type != EventType::ok || !is_acquire(e.op))
      continue;
    auto failed = failed_at.find({e.process, e.lock});
    auto at = invoked.find({e.process, e.op_id});
    int64_t invoked_ns = at == invoked.end() ? e.time_ns : at->second;
    bool failed_lately =
        failed != failed_at.end() && invoked_ns - failed->second < 2 * lease.count();
    if (failed != failed_at.end())
      failed_at.erase(failed);
    if (e.op != Op::acquire)
      continue;
    ++waiting;
    Waiting w;
    w.process = e.process;
    w.op_id = e.op_id;
    w.token = e.token;
    w.ok_ns = e.time_ns;
    w.invoked_ns = invoked_ns;
    uint64_t previous = 0;
    for (auto& [t, position] : queued[{e.process, e.op_id}]) {
      if (position == 0) { // not said: the place may be gone
        w.queued_ns = -1;
      } else if (w.queued_ns < 0 || position > previous) { // (re-)entered the queue
        w.queued_ns = t;
        w.position = position;
      }
      previous = position;
    }
    if (w.queued_ns >= 0)
      ++with_queue;
    w.maybe_held = failed_lately && queued[{e.process, e.op_id}].empty();
    by_lock[e.lock].push_back(w);
  }

  auto near_fault = [&](int64_t from, int64_t to) {
    for (auto& [start, stop] : faults)
      if (start < to && from < stop + grace.count())
        return true;
    return false;
  };
  size_t checked = 0, left_out = 0, unaware = 0;
  for (auto& [lock, list] : by_lock) {
    std::sort(list.begin(), list.end(),
              [](const Waiting& a, const Waiting& b) { return a.invoked_ns < b.invoked_ns; });
    for (auto& x : list) {
      if (x.queued_ns < 0)
        continue;
      // Acquires invoked after x was queued and before x's ok.
      auto y = std::upper_bound(list.begin(), list.end(), x.queued_ns,
                                [](int64_t t, const Waiting& w) { return t < w.invoked_ns; });
      for (; y != list.end() && y->invoked_ns < x.ok_ns; ++y) {
        if (y->process == x.process)
          continue;
        if (y->maybe_held) {
          ++unaware;
          continue;
        }
        if (near_fault(x.invoked_ns, std::max(x.ok_ns, y->ok_ns))) {
          ++left_out;
          continue;
        }
        ++checked;
        if (x.token >= y->token) {
          std::ostringstream m;
          m << "lock " << lock << ": " << x.process << " (acquire " << x.op_id
            << ") was queued at position " << x.position << " at t=" << x.queued_ns << ", before "
            << y->process << " (acquire " << y->op_id << ") was invoked at t=" << y->invoked_ns
            << ", but got token " << x.token << " after its token " << y->token;
          r.violations.push_back(m.str());
        }
      }
    }
  }
  r.checked = checked;
  r.note = std::to_string(checked) + " pairs of waiting acquires checked, " +
           std::to_string(left_out) + " left out near faults, " + std::to_string(unaware) +
           " after a failed acquire; " + std::to_string(with_queue) + " of " +
           std::to_string(waiting) + " successful waiting acquires were queued";
  return r;
}

CheckResult check_liveness(const std::vector<Event>& history, const std::vector<std::string>& locks,
                           std::chrono::nanoseconds bound) {
  CheckResult r;
  r.name = "liveness";
  r.kind = "liveness";
  auto events = time_ordered(history);
  if (events.empty()) {
    r.note = "empty history";
    return r;
  }
  int64_t healed = events.front().time_ns;
  for (auto& e : events)
    if (e.type == EventType::fault_stop)
      healed = std::max(healed, e.time_ns);
  int64_t longest = 0;
  for (auto& lock : locks) {
    const Event* first = nullptr;
    for (auto& e : events)
      if (e.type == EventType::ok && is_acquire(e.op) && e.lock == lock && e.time_ns >= healed) {
        first = &e;
        break;
      }
    if (!first) {
      r.violations.push_back("lock " + lock + ": not acquired by anyone after the last heal");
      continue;
    }
    int64_t delay = first->time_ns - healed;
    longest = std::max(longest, delay);
    if (delay > bound.count())
      r.violations.push_back("lock " + lock + ": first acquired " + ms(delay) +
                             " after the last heal (bound " + ms(bound.count()) + ")");
  }
  r.note = std::to_string(locks.size()) + " locks; longest wait after the last heal " +
           ms(longest) + " (bound " + ms(bound.count()) + ")";
  return r;
}

} // namespace gdl_chaos
