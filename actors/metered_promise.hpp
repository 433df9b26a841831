// The response promise of a client request in a lock actor: delivers like
// CAF's and counts the answer in the node's metrics (kind, result, and for
// a grant, how long its attempt waited at this node).
#pragma once

#include "actors/node_metrics.hpp"
#include "core/time.hpp"
#include "messages/wire.hpp"

#include <caf/all.hpp>

#include <memory>

namespace godistlock::actors {

class MeteredPromise {
public:
  MeteredPromise() = default;
  MeteredPromise(caf::typed_response_promise<messages::wire_response> promise,
                 std::shared_ptr<NodeMetrics> metrics, const wire::Request& request)
      : promise_(std::move(promise)), metrics_(std::move(metrics)), kind_(request_kind(request)),
        arrived_(core::Clock::now()) {}

  void deliver(messages::wire_response response) {
    if (metrics_)
      metrics_->answered(kind_, response.pb, arrived_);
    promise_.deliver(std::move(response));
  }
  // For the handler's return value (CAF sends nothing for a promise).
  const caf::typed_response_promise<messages::wire_response>& caf_promise() const {
    return promise_;
  }

private:
  caf::typed_response_promise<messages::wire_response> promise_;
  std::shared_ptr<NodeMetrics> metrics_;
  const char* kind_ = "unknown";
  core::Instant arrived_;
};

} // namespace godistlock::actors
