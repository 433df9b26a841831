#include "fenced_register.hpp"

namespace gdl_chaos {

bool FencedRegister::write(const std::string& lock, uint64_t token, const std::string& value) {
  std::lock_guard<std::mutex> guard(mutex_);
  RegisterWrite w;
  w.seq = log_.size() + 1;
  w.lock = lock;
  w.token = token;
  w.value = value;
  auto& highest = highest_[lock];
  w.highest_before = highest;
  w.accepted = token >= highest;
  if (w.accepted) {
    highest = token;
    state_[lock].push_back(value);
    ++accepted_;
  }
  log_.push_back(w);
  return w.accepted;
}

std::vector<RegisterWrite> FencedRegister::log() const {
  std::lock_guard<std::mutex> guard(mutex_);
  return log_;
}

RegisterState FencedRegister::state() const {
  std::lock_guard<std::mutex> guard(mutex_);
  return state_;
}

size_t FencedRegister::accepted() const {
  std::lock_guard<std::mutex> guard(mutex_);
  return accepted_;
}

size_t FencedRegister::rejected() const {
  std::lock_guard<std::mutex> guard(mutex_);
  return log_.size() - accepted_;
}

} // namespace gdl_chaos
