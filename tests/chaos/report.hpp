// The end-of-run report: operations by type and outcome, faults by kind,
// violations per checker, unavailability windows and latency percentiles
// (healthy vs under a fault), as text and as JSON.
#pragma once

#include "checkers.hpp"
#include "history.hpp"

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace gdl_chaos {

struct RunInfo {
  uint64_t seed = 0;
  size_t nodes = 0;
  size_t clients = 0;
  double duration_s = 0;
  std::string faults; // as given
  std::string mutation;
  int64_t lease_ms = 0;
  std::string history_path;
  bool history_kept = false; // false: deleted if the run passes
  std::vector<std::string> notes;
  size_t register_accepted = 0;
  size_t register_rejected = 0;
};

struct Percentiles {
  size_t count = 0;
  double p50_ms = 0, p90_ms = 0, p99_ms = 0, max_ms = 0;
};

struct FaultWindow {
  std::string kind;
  std::string detail;
  double start_s = 0;               // since the history began
  double length_s = 0;              // fault start to heal
  double start_to_first_ok_ms = -1; // -1: no ok after it
  double heal_to_first_ok_ms = -1;
};

struct Report {
  RunInfo info;
  std::map<std::string, std::map<std::string, size_t>> ops; // op -> outcome -> count
  std::map<std::string, size_t> faults;
  std::vector<CheckResult> checks;
  std::vector<FaultWindow> windows;
  double longest_gap_ms = 0; // longest time without any successful operation
  std::map<std::string, Percentiles> healthy, faulty; // by op
  bool ok() const;
  std::string text() const;
  std::string json() const;
};

Report make_report(const std::vector<Event>& history, std::vector<CheckResult> checks,
                   RunInfo info);

// Nearest-rank percentiles of `values` (milliseconds).
Percentiles percentiles(std::vector<double> values);

} // namespace gdl_chaos
