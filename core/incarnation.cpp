#include "core/incarnation.hpp"

#include <algorithm>
#include <sstream>

namespace godistlock::core {

uint64_t next_incarnation(uint64_t newest_known, uint32_t random) {
  return (((newest_known >> 32) + 1) << 32) | random;
}

IncarnationBook::Supersession IncarnationBook::supersede(const std::string& node,
                                                         uint64_t incarnation) {
  std::lock_guard<std::mutex> guard(mutex_);
  auto& current = current_[node];
  Supersession s;
  s.recorded = incarnation >= current;
  if (s.recorded)
    current = incarnation;
  s.current = current;
  s.highest_counter = highest_counter_;
  return s;
}

void IncarnationBook::learn(const std::map<std::string, uint64_t>& known) {
  std::lock_guard<std::mutex> guard(mutex_);
  for (auto& [node, incarnation] : known) {
    auto& current = current_[node];
    current = std::max(current, incarnation);
  }
}

void IncarnationBook::note(uint64_t counter) {
  std::lock_guard<std::mutex> guard(mutex_);
  highest_counter_ = std::max(highest_counter_, counter);
}

void IncarnationBook::note_accepted(uint64_t counter) {
  std::lock_guard<std::mutex> guard(mutex_);
  highest_counter_ = std::max(highest_counter_, counter);
  accepted_any_ = true;
}

bool IncarnationBook::accepted_any() const {
  std::lock_guard<std::mutex> guard(mutex_);
  return accepted_any_;
}

bool IncarnationBook::admit(const PromiseSet& promisers, uint64_t counter) {
  std::lock_guard<std::mutex> guard(mutex_);
  for (auto& voter : promisers) {
    auto it = current_.find(voter.node);
    if (it != current_.end() && voter.incarnation < it->second)
      return false;
  }
  // A newer incarnation than we know of is one whose rejoin we missed (it
  // needs only some peers' answers): from now on the older one is refused.
  // A node votes only once its rejoin is done, so this is its current one.
  for (auto& voter : promisers) {
    auto& current = current_[voter.node];
    current = std::max(current, voter.incarnation);
  }
  highest_counter_ = std::max(highest_counter_, counter);
  accepted_any_ = true;
  return true;
}

std::map<std::string, uint64_t> IncarnationBook::known() const {
  std::lock_guard<std::mutex> guard(mutex_);
  return current_;
}

uint64_t IncarnationBook::highest_counter() const {
  std::lock_guard<std::mutex> guard(mutex_);
  return highest_counter_;
}

std::string IncarnationBook::encode(const std::map<std::string, uint64_t>& known) {
  std::ostringstream out;
  for (auto& [node, incarnation] : known)
    out << incarnation << ' ' << node << '\n';
  return out.str();
}

std::optional<std::map<std::string, uint64_t>> IncarnationBook::parse(const std::string& text) {
  std::map<std::string, uint64_t> out;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty())
      continue;
    auto space = line.find(' ');
    if (space == std::string::npos || space == 0 || space + 1 >= line.size())
      return std::nullopt;
    auto digits = line.substr(0, space);
    if (!std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '9'; }) ||
        digits.size() > 20)
      return std::nullopt;
    try {
      out[line.substr(space + 1)] = std::stoull(digits);
    } catch (const std::exception&) {
      return std::nullopt;
    }
  }
  return out;
}

} // namespace godistlock::core
