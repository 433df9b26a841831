// Stream operators for the core types, so that failing BOOST_TEST
// comparisons print readable values, and small helpers shared by the
// change-function tests. Test-only.
#pragma once

#include "core/acceptor.hpp"
#include "core/change.hpp"
#include "core/round.hpp"

#include <boost/test/unit_test.hpp>

#include <optional>
#include <string>
#include <vector>
#include <ostream>
#include <utility>

namespace godistlock::core {

inline const char* outcome_name(Outcome o) {
  switch (o) {
  case Outcome::granted:
    return "granted";
  case Outcome::queued:
    return "queued";
  case Outcome::busy:
    return "busy";
  case Outcome::queue_full:
    return "queue_full";
  case Outcome::released:
    return "released";
  case Outcome::refreshed:
    return "refreshed";
  case Outcome::not_holder:
    return "not_holder";
  case Outcome::cancelled:
    return "cancelled";
  case Outcome::observed:
    return "observed";
  }
  return "?";
}

inline std::ostream& operator<<(std::ostream& os, Outcome o) {
  return os << outcome_name(o);
}

inline std::ostream& operator<<(std::ostream& os, const Ballot& b) {
  return os << to_string(b);
}

inline std::ostream& operator<<(std::ostream& os, const Epoch& e) {
  return os << "epoch{" << e.number << "@" << e.origin << "}";
}

inline std::ostream& operator<<(std::ostream& os, const LeaseOrigin& o) {
  return os << "origin{" << o.client << "," << o.request << "," << o.attempt << "}";
}

inline std::ostream& operator<<(std::ostream& os, const Holder& h) {
  return os << "holder{" << h.owner << ",token=" << h.token << ",lease=" << h.lease_ms << ","
            << h.origin << "}";
}

inline std::ostream& operator<<(std::ostream& os, const Waiter& w) {
  return os << "waiter{" << w.owner << ",ttl=" << w.ttl_ms << ",expires=" << w.expires_ms << "}";
}

inline std::ostream& operator<<(std::ostream& os, const FinishedRequest& f) {
  return os << "finished{" << f.owner << "," << f.last << "}";
}

inline std::ostream& operator<<(std::ostream& os, const LockState& s) {
  os << "state{fence=" << s.fence << "," << s.epoch << ",";
  if (s.holder)
    os << *s.holder << ",";
  if (s.reserved)
    os << "reserved=" << *s.reserved << ",";
  os << "queue=[";
  for (auto& w : s.queue)
    os << w << " ";
  os << "],finished=[";
  for (auto& f : s.finished)
    os << f << " ";
  return os << "],last_released=" << s.last_released << "}";
}

inline std::ostream& operator<<(std::ostream& os, const AcceptorRecord& r) {
  return os << "record{promised=" << r.promised << ",accepted=" << r.accepted << "," << r.value
            << "}";
}

inline std::ostream& operator<<(std::ostream& os, Round::Phase p) {
  switch (p) {
  case Round::Phase::preparing:
    return os << "preparing";
  case Round::Phase::accepting:
    return os << "accepting";
  case Round::Phase::decided:
    return os << "decided";
  case Round::Phase::failed:
    return os << "failed";
  }
  return os << "?";
}

// The owners in a lock's queue, front first (for comparisons with Names).
inline std::vector<std::string> queue_owners(const LockState& s) {
  std::vector<std::string> out;
  for (auto& w : s.queue)
    out.push_back(w.owner);
  return out;
}

using Names = std::vector<std::string>;

} // namespace godistlock::core

namespace boost::test_tools::tt_detail {

template <class T> struct print_log_value<std::optional<T>> {
  void operator()(std::ostream& os, const std::optional<T>& v) {
    if (v)
      print_log_value<T>()(os, *v);
    else
      os << "nullopt";
  }
};

template <class A, class B> struct print_log_value<std::pair<A, B>> {
  void operator()(std::ostream& os, const std::pair<A, B>& v) {
    os << "(";
    print_log_value<A>()(os, v.first);
    os << ", ";
    print_log_value<B>()(os, v.second);
    os << ")";
  }
};

template <> struct print_log_value<godistlock::core::Instant> {
  void operator()(std::ostream& os, const godistlock::core::Instant& t) {
    os << std::chrono::duration_cast<std::chrono::microseconds>(t.time_since_epoch()).count()
       << "us";
  }
};

} // namespace boost::test_tools::tt_detail
