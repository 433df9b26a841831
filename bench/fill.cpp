#include "bench/fill.hpp"

#include "client/client.hpp"
#include "core/limits.hpp"
#include "messages/codec.hpp"

#include <atomic>
#include <chrono>
#include <mutex>
#include <thread>

namespace godistlock::bench {

using namespace std::chrono;

FillResult fill_locks(caf::actor_system& sys, const std::vector<node_actor>& nodes, size_t count,
                      size_t threads, size_t window) {
  FillResult total;
  std::mutex mutex;
  auto started = steady_clock::now();
  std::vector<std::thread> workers;
  for (size_t t = 0; t < threads; ++t)
    workers.emplace_back([&, t] {
      FillResult mine;
      // Plain sends, whose answers come back as ordinary messages: a
      // blocking actor's request() leaves its timeout message behind in the
      // mailbox for every call, and each receive then scans all of them.
      caf::scoped_actor self{sys};
      auto node = nodes[t % nodes.size()];
      auto client_id = client::random_client_id(); // random, so records have the real size
      auto owner = "worker-" + std::to_string(t);
      for (size_t next = t; next < count;) {
        size_t sent = 0;
        for (; sent < window && next < count; ++sent, next += threads) {
          messages::wire_request req;
          req.pb.set_client_id(client_id);
          req.pb.set_request_id(next + 1);
          auto& acquire = *req.pb.mutable_acquire();
          acquire.set_name("orders/" + std::to_string(next));
          acquire.set_owner(owner);
          acquire.set_ttl_ms(core::max_ttl_ms);
          self->send(node, std::move(req));
        }
        bool timed_out = false;
        for (size_t answered = 0; answered < sent && !timed_out; ++answered)
          self->receive(
              [&](messages::wire_response& r) {
                if (r.pb.code() == wire::OK) {
                  ++mine.granted;
                } else {
                  if (mine.refused++ == 0)
                    mine.first_refusal = wire::Code_Name(r.pb.code()) + ": " + r.pb.message();
                }
              },
              [&](caf::error& e) {
                if (mine.refused++ == 0)
                  mine.first_refusal = sys.render(e);
              },
              caf::after(seconds(30)) >>
                  [&] {
                    mine.lost += sent - answered;
                    timed_out = true;
                  });
        if (timed_out)
          break;
      }
      std::lock_guard<std::mutex> guard(mutex);
      total.granted += mine.granted;
      total.refused += mine.refused;
      total.lost += mine.lost;
      if (total.first_refusal.empty())
        total.first_refusal = mine.first_refusal;
    });
  for (auto& w : workers)
    w.join();
  total.seconds = duration<double>(steady_clock::now() - started).count();
  return total;
}

} // namespace godistlock::bench
