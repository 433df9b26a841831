// The acceptor side of the lock actor: the peers' prepares and accepts,
// answered once what they changed is on disk.
#include "actors/lock_parts.hpp"
#include "messages/codec.hpp"

namespace godistlock::actors::lock {

namespace {

// What this node knows of every node's incarnation, sent with each vote:
// read after the vote was made, so a vote given after a rejoin was recorded
// here carries the new incarnation.
void attach_known(self_ptr self, wire::PeerResponse& out) {
  for (auto& [node, incarnation] : self->state.ctx->incarnations->known()) {
    auto& v = *out.add_known();
    v.set_node_id(node);
    v.set_incarnation(incarnation);
  }
}

} // namespace

core::Promise promise_from(const wire::PeerResponse& r) {
  core::Promise p;
  p.ok = r.ok();
  p.conflict = messages::from_proto(r.conflict());
  p.accepted = messages::from_proto(r.accepted());
  p.value = messages::from_proto(r.value());
  p.age_ms = r.age_ms();
  p.voter = core::Voter{r.from_id(), r.incarnation()};
  return p;
}

caf::result<messages::wire_peer_response> serve_peer(self_ptr self, const wire::PeerRequest& req) {
  auto& st = self->state;
  messages::wire_peer_response out;
  out.pb.set_from_id(st.ctx->node_id);
  auto now = core::Clock::now();
  bool changed = false;
  if (req.has_prepare()) {
    out.pb.set_phase(wire::PHASE_PREPARE);
    auto p = st.acceptor.prepare(messages::from_proto(req.prepare().ballot()), now);
    out.pb.set_ok(p.ok);
    messages::to_proto(p.conflict, *out.pb.mutable_conflict());
    messages::to_proto(p.accepted, *out.pb.mutable_accepted());
    messages::to_proto(p.value, *out.pb.mutable_value());
    out.pb.set_age_ms(p.age_ms);
    out.pb.set_incarnation(st.ctx->incarnation->load());
    if (p.ok)
      st.ctx->incarnations->note(req.prepare().ballot().counter());
    changed = p.ok && st.ctx->mutation != core::Mutation::skip_promise_fsync;
  } else if (req.has_accept()) {
    out.pb.set_phase(wire::PHASE_ACCEPT);
    auto& acc = req.accept();
    core::Accepted a;
    // Refused like a lost vote when the round counted a promise of a node
    // that has since come back without its data (notes 4.3).
    if (st.ctx->incarnations->admit(messages::from_proto(acc.promise_set()),
                                    acc.ballot().counter()))
      a = st.acceptor.accept(messages::from_proto(acc.ballot()), messages::from_proto(acc.value()),
                             messages::from_proto(acc.next_promise()), now);
    out.pb.set_ok(a.ok);
    out.pb.set_incarnation(st.ctx->incarnation->load());
    messages::to_proto(a.conflict, *out.pb.mutable_conflict());
    changed = a.ok;
  } else {
    out.pb.set_refused(wire::NOT_READY);
    return out;
  }
  attach_known(self, out.pb);
  // Persist before answering: a promise or vote that a crash could forget
  // must never have been seen.
  auto rp = self->make_response_promise<messages::wire_peer_response>();
  persist(self, changed, [rp, out]() mutable { rp.deliver(out); });
  if (changed && req.has_accept())
    settle_after(self);
  return rp;
}

} // namespace godistlock::actors::lock
