// Checker (7): waiters are served. Kept apart from checkers.cpp: it reads
// the history as intervals (who waits, who holds) rather than as pairs.
#include "checkers.hpp"

#include <algorithm>
#include <map>
#include <sstream>

namespace gdl_chaos {

namespace {

using Span = std::pair<int64_t, int64_t>;

// Sorted, with spans that overlap or lie closer than `join` merged.
std::vector<Span> merged(std::vector<Span> spans, int64_t join) {
  std::sort(spans.begin(), spans.end());
  std::vector<Span> out;
  for (auto& s : spans) {
    if (!out.empty() && s.first <= out.back().second + join)
      out.back().second = std::max(out.back().second, s.second);
    else
      out.push_back(s);
  }
  return out;
}

// `from` minus the (merged) `holes`.
std::vector<Span> minus(const std::vector<Span>& from, const std::vector<Span>& holes) {
  std::vector<Span> out;
  for (auto [a, b] : from) {
    for (auto& [x, y] : holes) {
      if (y <= a || x >= b)
        continue;
      if (x > a)
        out.emplace_back(a, x);
      a = std::max(a, y);
      if (a >= b)
        break;
    }
    if (a < b)
      out.emplace_back(a, b);
  }
  return out;
}

std::string ms_text(int64_t ns) {
  std::ostringstream s;
  s << ns / 1'000'000 << " ms";
  return s.str();
}

} // namespace

CheckResult
check_waiters_served(const std::vector<Event>& history,
                     const std::function<std::chrono::nanoseconds(const std::string&)>& bound,
                     std::chrono::nanoseconds grace) {
  CheckResult r;
  r.name = "waiters-served";
  r.kind = "liveness";
  auto events = history;
  std::stable_sort(events.begin(), events.end(),
                   [](const Event& a, const Event& b) { return a.time_ns < b.time_ns; });
  if (events.empty()) {
    r.note = "empty history";
    r.checked = 0;
    return r;
  }
  const int64_t end = events.back().time_ns;
  // Who waits: each waiting acquire from its invoke to its completion (or
  // the end); a client asking again right after its wait ended is still
  // waiting, so spans closer than 250 ms join.
  std::map<std::string, std::vector<Span>> waiting;
  std::map<std::pair<std::string, uint64_t>, std::pair<std::string, int64_t>> open;
  for (auto& e : events) {
    if (e.op != Op::acquire)
      continue;
    if (e.type == EventType::invoke) {
      open[{e.process, e.op_id}] = {e.lock, e.time_ns};
    } else if (e.type == EventType::ok || e.type == EventType::fail ||
               e.type == EventType::unknown) {
      auto it = open.find({e.process, e.op_id});
      if (it == open.end())
        continue;
      waiting[it->second.first].emplace_back(it->second.second, e.time_ns);
      open.erase(it);
    }
  }
  for (auto& [key, start] : open)
    waiting[start.first].emplace_back(start.second, end);
  // Who holds, as its client saw it.
  std::map<std::string, std::vector<Span>> holding;
  for (auto& s : hold_segments(events))
    holding[s.lock].emplace_back(s.start_ns, s.end_ns);
  // Faults, and the time after each in which leftovers of it may still
  // block a lock (a grant or a reservation to a client that left).
  std::vector<Span> excused;
  for (auto& [a, b] : fault_spans(events))
    excused.emplace_back(a, b + grace.count());
  excused = merged(excused, 0);

  size_t gaps = 0;
  int64_t longest = 0;
  for (auto& [lock, spans] : waiting) {
    auto idle = minus(merged(spans, 250'000'000), merged(holding[lock], 0));
    auto limit = bound(lock).count();
    for (auto& [a, b] : idle) {
      bool under_fault = std::any_of(excused.begin(), excused.end(),
                                     [&](const Span& f) { return f.first < b && f.second > a; });
      if (under_fault)
        continue;
      ++gaps;
      longest = std::max(longest, b - a);
      if (b - a > limit)
        r.violations.push_back("lock " + lock + ": clients waited " + ms_text(b - a) +
                               " with nobody holding it (bound " + ms_text(limit) + "), from +" +
                               ms_text(a - events.front().time_ns));
    }
  }
  r.checked = gaps;
  r.note = "spans with waiters and no holder away from faults; longest " + ms_text(longest);
  return r;
}

} // namespace gdl_chaos
