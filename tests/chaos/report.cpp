#include "report.hpp"

#include "checkers.hpp"

#include <algorithm>
#include <cmath>
#include <iomanip>
#include <map>
#include <sstream>

namespace gdl_chaos {

namespace {

bool is_client_op(Op op) {
  return op != Op::none && op != Op::write;
}

bool is_completion(EventType t) {
  return t == EventType::ok || t == EventType::fail || t == EventType::unknown;
}

std::string fixed(double v, int digits = 1) {
  std::ostringstream s;
  s << std::fixed << std::setprecision(digits) << v;
  return s.str();
}

} // namespace

Percentiles percentiles(std::vector<double> values) {
  Percentiles p;
  p.count = values.size();
  if (values.empty())
    return p;
  std::sort(values.begin(), values.end());
  auto rank = [&](double q) {
    auto i = static_cast<size_t>(std::ceil(q * static_cast<double>(values.size())));
    return values[std::min(values.size() - 1, i == 0 ? 0 : i - 1)];
  };
  p.p50_ms = rank(0.5);
  p.p90_ms = rank(0.9);
  p.p99_ms = rank(0.99);
  p.max_ms = values.back();
  return p;
}

Report make_report(const std::vector<Event>& history, std::vector<CheckResult> checks,
                   RunInfo info) {
  Report r;
  r.info = std::move(info);
  r.checks = std::move(checks);
  auto events = history;
  std::stable_sort(events.begin(), events.end(),
                   [](const Event& a, const Event& b) { return a.time_ns < b.time_ns; });
  int64_t origin = events.empty() ? 0 : events.front().time_ns;

  std::vector<int64_t> ok_times; // successful client operations
  std::map<std::pair<std::string, uint64_t>, int64_t> invoked;
  for (auto& e : events) {
    if (e.type == EventType::invoke)
      invoked[{e.process, e.op_id}] = e.time_ns;
    if (is_completion(e.type) && e.op != Op::none)
      ++r.ops[to_string(e.op)][to_string(e.type)];
    if (e.type == EventType::ok && is_client_op(e.op))
      ok_times.push_back(e.time_ns);
    if (e.type == EventType::fault_start)
      ++r.faults[e.fault];
  }

  auto spans = fault_spans(events);
  size_t span = 0;
  for (auto& s : events) {
    if (s.type != EventType::fault_start)
      continue;
    int64_t stop = spans[span++].second;
    FaultWindow w;
    w.kind = s.fault;
    w.detail = s.detail;
    w.start_s = static_cast<double>(s.time_ns - origin) / 1e9;
    w.length_s = static_cast<double>(stop - s.time_ns) / 1e9;
    auto first_after = [&](int64_t t) {
      auto it = std::lower_bound(ok_times.begin(), ok_times.end(), t);
      return it == ok_times.end() ? -1.0 : static_cast<double>(*it - t) / 1e6;
    };
    w.start_to_first_ok_ms = first_after(s.time_ns);
    w.heal_to_first_ok_ms = first_after(stop);
    r.windows.push_back(w);
  }
  for (size_t k = 1; k < ok_times.size(); ++k)
    r.longest_gap_ms =
        std::max(r.longest_gap_ms, static_cast<double>(ok_times[k] - ok_times[k - 1]) / 1e6);

  // Latency of successful operations that do not wait on purpose.
  std::map<std::string, std::vector<double>> healthy, faulty;
  for (auto& e : events) {
    if (e.type != EventType::ok || !is_client_op(e.op) || e.op == Op::acquire)
      continue;
    auto it = invoked.find({e.process, e.op_id});
    if (it == invoked.end())
      continue;
    double ms = static_cast<double>(e.time_ns - it->second) / 1e6;
    bool under_fault = false;
    for (auto& [a, b] : spans)
      if (it->second >= a && it->second <= b)
        under_fault = true;
    (under_fault ? faulty : healthy)[to_string(e.op)].push_back(ms);
  }
  for (auto& [op, v] : healthy)
    r.healthy[op] = percentiles(v);
  for (auto& [op, v] : faulty)
    r.faulty[op] = percentiles(v);
  return r;
}

bool Report::ok() const {
  for (auto& c : checks)
    if (!c.ok())
      return false;
  return true;
}

std::string Report::text() const {
  std::ostringstream s;
  s << "== godistlock-chaos report ==\n"
    << "seed " << info.seed << ", " << info.nodes << " nodes, " << info.clients << " clients, "
    << fixed(info.duration_s) << " s, lease " << info.lease_ms << " ms, faults "
    << (info.faults.empty() ? "none" : info.faults)
    << (info.mutation.empty() ? "" : ", MUTATION " + info.mutation) << "\n"
    << "history: " << info.history_path
    << (info.history_kept ? "" : " (deleted after a pass; --keep-history DIR keeps it)") << "\n";
  for (auto& n : info.notes)
    s << "note: " << n << "\n";
  s << "\noperations (ok / fail / unknown):\n";
  for (auto& [op, outcomes] : ops) {
    auto get = [&](const char* k) {
      auto it = outcomes.find(k);
      return it == outcomes.end() ? size_t{0} : it->second;
    };
    s << "  " << std::left << std::setw(8) << op << " " << get("ok") << " / " << get("fail")
      << " / " << get("unknown") << "\n";
  }
  s << "  register: " << info.register_accepted << " writes accepted, " << info.register_rejected
    << " refused\n";
  s << "\nfaults:";
  if (faults.empty())
    s << " none";
  for (auto& [kind, n] : faults)
    s << " " << kind << "=" << n;
  s << "\n";
  for (auto& w : windows)
    s << "  +" << fixed(w.start_s) << " s " << w.kind << " (" << fixed(w.length_s)
      << " s): " << w.detail << "; first ok after start "
      << (w.start_to_first_ok_ms < 0 ? std::string("none") : fixed(w.start_to_first_ok_ms) + " ms")
      << ", after heal "
      << (w.heal_to_first_ok_ms < 0 ? std::string("none") : fixed(w.heal_to_first_ok_ms) + " ms")
      << "\n";
  s << "  longest time without any successful operation: " << fixed(longest_gap_ms) << " ms\n";
  s << "\nlatency of successful ops, ms (p50 / p90 / p99 / max, count):\n";
  for (auto* table : {&healthy, &faulty}) {
    s << (table == &healthy ? "  healthy:\n" : "  under a fault:\n");
    for (auto& [op, p] : *table)
      s << "    " << std::left << std::setw(8) << op << " " << fixed(p.p50_ms) << " / "
        << fixed(p.p90_ms) << " / " << fixed(p.p99_ms) << " / " << fixed(p.max_ms) << " ("
        << p.count << ")\n";
  }
  s << "\ncheckers:\n";
  for (auto& c : checks) {
    s << "  " << std::left << std::setw(18) << c.name << " " << c.violations.size()
      << " violations";
    if (c.checked)
      s << " in " << *c.checked << " checked";
    s << " (" << c.note << ")\n";
    size_t shown = 0;
    for (auto& v : c.violations) {
      if (++shown > 10) {
        s << "    ... " << c.violations.size() - 10 << " more\n";
        break;
      }
      s << "    " << v << "\n";
    }
  }
  std::map<std::string, size_t> by_kind{{"safety", 0}, {"liveness", 0}, {"fairness", 0}};
  for (auto& c : checks)
    by_kind[c.kind] += c.violations.size();
  s << "\nviolations:";
  for (auto& [kind, n] : by_kind)
    s << " " << kind << " " << n;
  s << "\n";
  s << "result: " << (ok() ? "PASS" : "FAIL (violations found)") << "\n";
  return s.str();
}

std::string Report::json() const {
  std::ostringstream s;
  s << "{\"seed\":" << info.seed << ",\"nodes\":" << info.nodes << ",\"clients\":" << info.clients
    << ",\"duration_s\":" << fixed(info.duration_s) << ",\"lease_ms\":" << info.lease_ms
    << ",\"faults_enabled\":\"" << json_escape(info.faults) << "\",\"mutation\":\""
    << json_escape(info.mutation) << "\",\"history\":\"" << json_escape(info.history_path)
    << "\",\"notes\":[";
  for (size_t k = 0; k < info.notes.size(); ++k)
    s << (k ? "," : "") << "\"" << json_escape(info.notes[k]) << "\"";
  s << "],\"ops\":{";
  bool first = true;
  for (auto& [op, outcomes] : ops) {
    s << (first ? "" : ",") << "\"" << op << "\":{";
    first = false;
    bool inner = true;
    for (auto& [o, n] : outcomes) {
      s << (inner ? "" : ",") << "\"" << o << "\":" << n;
      inner = false;
    }
    s << "}";
  }
  s << "},\"register\":{\"accepted\":" << info.register_accepted
    << ",\"refused\":" << info.register_rejected << "},\"faults\":{";
  first = true;
  for (auto& [kind, n] : faults) {
    s << (first ? "" : ",") << "\"" << json_escape(kind) << "\":" << n;
    first = false;
  }
  s << "},\"windows\":[";
  for (size_t k = 0; k < windows.size(); ++k) {
    auto& w = windows[k];
    s << (k ? "," : "") << "{\"kind\":\"" << json_escape(w.kind) << "\",\"detail\":\""
      << json_escape(w.detail) << "\",\"start_s\":" << fixed(w.start_s, 3)
      << ",\"length_s\":" << fixed(w.length_s, 3)
      << ",\"start_to_first_ok_ms\":" << fixed(w.start_to_first_ok_ms)
      << ",\"heal_to_first_ok_ms\":" << fixed(w.heal_to_first_ok_ms) << "}";
  }
  s << "],\"longest_gap_ms\":" << fixed(longest_gap_ms) << ",\"latency_ms\":{";
  bool first_table = true;
  for (auto* table : {&healthy, &faulty}) {
    s << (first_table ? "" : ",") << "\"" << (table == &healthy ? "healthy" : "under_fault")
      << "\":{";
    first_table = false;
    first = true;
    for (auto& [op, p] : *table) {
      s << (first ? "" : ",") << "\"" << op << "\":{\"count\":" << p.count
        << ",\"p50\":" << fixed(p.p50_ms, 2) << ",\"p90\":" << fixed(p.p90_ms, 2)
        << ",\"p99\":" << fixed(p.p99_ms, 2) << ",\"max\":" << fixed(p.max_ms, 2) << "}";
      first = false;
    }
    s << "}";
  }
  s << "},\"checkers\":{";
  for (size_t k = 0; k < checks.size(); ++k) {
    auto& c = checks[k];
    s << (k ? "," : "") << "\"" << c.name << "\":{\"kind\":\"" << c.kind
      << "\",\"violations\":" << c.violations.size();
    if (c.checked)
      s << ",\"checked\":" << *c.checked;
    s << ",\"note\":\"" << json_escape(c.note) << "\",\"first\":[";
    for (size_t m = 0; m < std::min<size_t>(c.violations.size(), 20); ++m)
      s << (m ? "," : "") << "\"" << json_escape(c.violations[m]) << "\"";
    s << "]}";
  }
  s << "},\"pass\":" << (ok() ? "true" : "false") << "}";
  return s.str();
}

} // namespace gdl_chaos
