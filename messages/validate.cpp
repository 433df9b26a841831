#include "messages/validate.hpp"

#include "core/limits.hpp"

namespace godistlock::messages {

namespace {

constexpr size_t max_client_id_bytes = 128;

std::string check_token(uint64_t token) {
  return token == 0 ? "token must be a positive integer" : "";
}

} // namespace

const std::string& lock_name(const wire::Request& req) {
  static const std::string none;
  switch (req.op_case()) {
  case wire::Request::kAcquire:
    return req.acquire().name();
  case wire::Request::kRelease:
    return req.release().name();
  case wire::Request::kRefresh:
    return req.refresh().name();
  case wire::Request::kStatus:
    return req.status().name();
  case wire::Request::kCheck:
    return req.check().name();
  case wire::Request::kCancel:
    return req.cancel().name();
  default:
    return none;
  }
}

std::string validate(const wire::Request& req) {
  if (req.client_id().empty() || req.client_id().size() > max_client_id_bytes)
    return "client id must be 1-128 bytes";
  if (req.op_case() == wire::Request::OP_NOT_SET)
    return "unknown or missing operation";
  if (req.has_stats())
    return {};
  if (auto e = core::check_name(lock_name(req)); !e.empty())
    return e;
  std::string e;
  switch (req.op_case()) {
  case wire::Request::kAcquire:
    if (e = core::check_owner(req.acquire().owner()); e.empty())
      if (e = core::check_ttl_ms(req.acquire().ttl_ms()); e.empty())
        e = core::check_wait_ms(req.acquire().wait_ms());
    return e;
  case wire::Request::kRelease:
    return check_token(req.release().token());
  case wire::Request::kRefresh:
    if (e = check_token(req.refresh().token()); e.empty())
      e = core::check_ttl_ms(req.refresh().ttl_ms());
    return e;
  case wire::Request::kCheck:
    return check_token(req.check().token());
  case wire::Request::kCancel:
    return core::check_owner(req.cancel().owner());
  default:
    return {};
  }
}

} // namespace godistlock::messages
