#include "messages/codec.hpp"

namespace godistlock::messages {

void to_proto(const core::Ballot& in, wire::Ballot& out) {
  out.set_counter(in.counter);
  out.set_node(in.node);
  out.set_nonce(in.nonce);
}

core::Ballot from_proto(const wire::Ballot& in) {
  return core::Ballot{in.counter(), in.node(), in.nonce()};
}

namespace {

void to_proto(const core::Waiter& in, wire::Waiter& out) {
  out.set_owner(in.owner);
  out.set_ttl_ms(in.ttl_ms);
  out.set_expires_ms(in.expires_ms);
}

void to_proto(const core::LeaseOrigin& in, wire::LeaseOrigin& out) {
  out.set_client_id(in.client);
  out.set_request_id(in.request);
  out.set_attempt(in.attempt);
}

core::LeaseOrigin from_proto(const wire::LeaseOrigin& in) {
  return core::LeaseOrigin{in.client_id(), in.request_id(), in.attempt()};
}

core::Waiter from_proto(const wire::Waiter& in) {
  return core::Waiter{in.owner(), in.ttl_ms(), in.expires_ms()};
}

} // namespace

void to_proto(const core::LockState& in, wire::LockState& out) {
  out.set_fence(in.fence);
  out.set_epoch(in.epoch.number);
  if (!in.epoch.origin.is_zero())
    to_proto(in.epoch.origin, *out.mutable_epoch_origin());
  if (in.holder) {
    auto& h = *out.mutable_holder();
    h.set_owner(in.holder->owner);
    h.set_token(in.holder->token);
    h.set_lease_ms(in.holder->lease_ms);
    to_proto(in.holder->origin, *h.mutable_origin());
    for (auto& e : in.holder->earlier)
      to_proto(e, *h.add_earlier());
  }
  if (in.reserved)
    to_proto(*in.reserved, *out.mutable_reserved());
  for (auto& w : in.queue)
    to_proto(w, *out.add_queue());
  out.set_last_released(in.last_released);
  for (auto& f : in.finished) {
    auto& pb = *out.add_finished();
    if (f.owner != f.last.client) // the usual owner, the client id, is not written twice
      pb.set_owner(f.owner);
    to_proto(f.last, *pb.mutable_last());
  }
}

core::LockState from_proto(const wire::LockState& in) {
  core::LockState out;
  out.fence = in.fence();
  out.epoch.number = in.epoch();
  out.epoch.origin = from_proto(in.epoch_origin());
  if (in.has_holder()) {
    auto& h = in.holder();
    out.holder = core::Holder{h.owner(), h.token(), h.lease_ms(), from_proto(h.origin())};
    // A peer never sends more; the cap keeps a damaged record bounded.
    auto n = std::min<size_t>(static_cast<size_t>(h.earlier_size()), core::max_earlier_origins);
    for (int i = h.earlier_size() - static_cast<int>(n); i < h.earlier_size(); ++i)
      out.holder->earlier.push_back(from_proto(h.earlier(i)));
  }
  if (in.has_reserved())
    out.reserved = from_proto(in.reserved());
  for (auto& w : in.queue())
    out.queue.push_back(from_proto(w));
  out.last_released = in.last_released();
  // As with `earlier`: a damaged record cannot make it grow without bound.
  auto n = std::min<size_t>(static_cast<size_t>(in.finished_size()), core::max_finished_requests);
  for (int i = in.finished_size() - static_cast<int>(n); i < in.finished_size(); ++i) {
    auto& f = in.finished(i);
    auto last = from_proto(f.last());
    // Owners are never empty (core::check_owner): empty means "the client id".
    out.finished.push_back(
        core::FinishedRequest{f.owner().empty() ? last.client : f.owner(), last});
  }
  return out;
}

void to_proto(const core::PromiseSet& in,
              google::protobuf::RepeatedPtrField<wire::PromiseVoter>& out) {
  for (auto& voter : in) {
    auto& v = *out.Add();
    v.set_node_id(voter.node);
    v.set_incarnation(voter.incarnation);
  }
}

core::PromiseSet from_proto(const google::protobuf::RepeatedPtrField<wire::PromiseVoter>& in) {
  core::PromiseSet out;
  for (auto& v : in)
    out.push_back(core::Voter{v.node_id(), v.incarnation()});
  return out;
}

std::string encode_record(const core::AcceptorRecord& record) {
  wire::AcceptorRecord pb;
  to_proto(record.promised, *pb.mutable_promised());
  to_proto(record.accepted, *pb.mutable_accepted());
  to_proto(record.value, *pb.mutable_value());
  return pb.SerializeAsString();
}

namespace {
constexpr uint32_t promised_elided = 1;
constexpr uint32_t origin_elided = 2;
constexpr uint32_t lease_client_elided = 4; // holder.origin.client_id == holder.owner
} // namespace

std::string encode_resting(const core::AcceptorRecord& record) {
  wire::AcceptorRecord pb;
  uint32_t elided = 0;
  if (record.promised == record.accepted)
    elided |= promised_elided;
  else
    to_proto(record.promised, *pb.mutable_promised());
  to_proto(record.accepted, *pb.mutable_accepted());
  to_proto(record.value, *pb.mutable_value());
  if (record.value.epoch.origin == record.accepted) {
    elided |= origin_elided;
    pb.mutable_value()->clear_epoch_origin();
  }
  if (record.value.holder && record.value.holder->origin.client == record.value.holder->owner) {
    elided |= lease_client_elided;
    pb.mutable_value()->mutable_holder()->mutable_origin()->clear_client_id();
  }
  pb.set_elided(elided);
  return pb.SerializeAsString();
}

std::optional<core::AcceptorRecord> decode_resting(std::string_view bytes) {
  auto record = decode_record(bytes);
  wire::AcceptorRecord pb;
  if (!record || !pb.ParseFromArray(bytes.data(), static_cast<int>(bytes.size())))
    return std::nullopt;
  if (pb.elided() & promised_elided)
    record->promised = record->accepted;
  if (pb.elided() & origin_elided)
    record->value.epoch.origin = record->accepted;
  if ((pb.elided() & lease_client_elided) && record->value.holder)
    record->value.holder->origin.client = record->value.holder->owner;
  return record;
}

std::optional<core::AcceptorRecord> decode_record(std::string_view bytes) {
  wire::AcceptorRecord pb;
  if (!pb.ParseFromArray(bytes.data(), static_cast<int>(bytes.size())))
    return std::nullopt;
  return core::AcceptorRecord{from_proto(pb.promised()), from_proto(pb.accepted()),
                              from_proto(pb.value())};
}

} // namespace godistlock::messages
