#include "actors/storage_actor.hpp"

#include <chrono>
#include <cstdlib>
#include <iostream>

namespace godistlock::actors {

namespace {

using self_ptr = storage_actor::stateful_pointer<storage_state>;

// A failed write or sync leaves the disk in an unknown state; answering
// anyway could lose an acknowledged grant, so the node stops at once.
[[noreturn]] void die(const std::exception& e) {
  std::cerr << "godistlock-node: FATAL storage failure: " << e.what()
            << "; stopping without answering pending requests" << std::endl;
  std::_Exit(70);
}

// Folds the rotated log into the snapshot on its own thread, so that
// commits go on meanwhile (with a million locks a merge takes seconds),
// then answers with the snapshot's size and exits. It holds the Wal, and so
// the data dir's lock, until the merge is done: a node that stops meanwhile
// must not let another process open the dir while the snapshot is written.
caf::behavior compactor(caf::event_based_actor* self, core::Wal::Compaction job,
                        std::shared_ptr<core::Wal> dir_lock) {
  return {
      [=](atoms::compact) {
        uint64_t snapshot_bytes = 0;
        try {
          snapshot_bytes = core::Wal::merge_rotated(job);
        } catch (const std::exception& e) {
          die(e);
        }
        (void)dir_lock; // captured, so it lives as long as this actor
        self->quit();
        return snapshot_bytes;
      },
  };
}

void start_compaction(self_ptr self) {
  auto job = self->state.wal->rotate();
  auto worker = self->home_system().spawn<caf::detached>(compactor, job, self->state.wal);
  self->request(worker, caf::infinite, atoms::compact::value)
      .then([=](uint64_t snapshot_bytes) { self->state.wal->compaction_done(snapshot_bytes); },
            [=](caf::error& e) {
              die(std::runtime_error("compaction: " + self->home_system().render(e)));
            });
}

void flush(self_ptr self) {
  auto& st = self->state;
  st.flush_scheduled = false;
  try {
    auto records_before = st.wal->records_committed();
    auto started = std::chrono::steady_clock::now();
    st.wal->commit();
    if (st.metrics)
      st.metrics->wal_synced(
          std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count(),
          st.wal->records_committed() - records_before);
    st.counters->wal_commits = st.wal->commits();
    st.counters->wal_records = st.wal->records_committed();
    if (st.wal->wants_compaction())
      start_compaction(self);
  } catch (const std::exception& e) {
    die(e);
  }
  auto waiting = std::move(st.waiting);
  st.waiting.clear();
  for (auto& rp : waiting)
    rp.deliver(atoms::done::value);
}

} // namespace

storage_actor::behavior_type storage_actor_impl(storage_actor::stateful_pointer<storage_state> self,
                                                std::shared_ptr<core::Wal> wal,
                                                std::shared_ptr<NodeCounters> counters,
                                                std::shared_ptr<NodeMetrics> metrics) {
  self->state.wal = std::move(wal);
  self->state.counters = std::move(counters);
  self->state.metrics = std::move(metrics);
  return {
      [=](atoms::persist, std::vector<std::string>& keys,
          std::vector<std::string>& values) -> caf::result<atoms::done> {
        auto& st = self->state;
        for (size_t i = 0; i < keys.size() && i < values.size(); ++i)
          st.wal->append(keys[i], values[i]);
        st.waiting.push_back(self->make_response_promise<atoms::done>());
        // The flush message queues behind every persist already waiting in the
        // mailbox, so one sync covers all of them.
        if (!st.flush_scheduled) {
          st.flush_scheduled = true;
          self->send(self, atoms::flush::value);
        }
        return st.waiting.back();
      },
      [=](atoms::flush) { flush(self); },
      [=](atoms::put_meta, const std::string& name, const std::string& contents) {
        try {
          self->state.wal->write_meta(name, contents);
        } catch (const std::exception& e) {
          die(e);
        }
        return atoms::done::value;
      },
      [=](atoms::drop_meta, const std::string& name) {
        try {
          self->state.wal->remove_meta(name);
        } catch (const std::exception& e) {
          die(e);
        }
        return atoms::done::value;
      },
  };
}

} // namespace godistlock::actors
