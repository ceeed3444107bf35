// tickforge — the one interface of every feed handler, and what a feed reports.
//
// A feed is an agent (engine/agent.hpp) that turns one input into Ticks on its own FeedPort. The pipeline
// (app/pipeline.hpp) makes it from a FeedSpec through the feed registry (app/feed_registry.cpp: one line
// per kind), attaches the port it opened for it, runs it on an AgentRunner ("tf-feed-N"), asks it to stop
// and reads its report. One virtual do_work() per duty cycle; inside a duty cycle a feed publishes
// several ticks with plain calls, and FeedPort::publish() is inline.
//
// Thread contract: construct, attach(), notices() on the owning thread; do_work()/done()/on_close() on
// the feed's thread; request_stop() from any thread; finish() on the owning thread after the feed's thread
// has ended; report() from any thread once the feed's thread has ended (and, when reports_after_finish(),
// once finish() has returned).
#pragma once

#include <atomic>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include <tickforge/engine.hpp>

#include "agent.hpp"

namespace tickforge {

/// One feed's figures, for the summary (text and JSON) and the C API's feed_rejected.
struct FeedReport {
  std::string label;             ///< "csv AAPL.csv (1000 rows)", "kafka ticks (group tickforge)"
  std::uint64_t published = 0;   ///< ticks its port accepted (filled by the pipeline from the port)
  std::uint64_t rejected = 0;    ///< input refused, every reason: the sum of `rejects` (filled by the pipeline)
  /// The input refused by reason, every reason the feed knows, zeros included (filled by the pipeline
  /// from Feed::rejects(), live while the feed runs: /metrics).
  std::vector<std::pair<std::string, std::uint64_t>> rejects;
  /// Every figure of the feed by name, in order: the JSON summary writes these.
  std::vector<std::pair<std::string, std::uint64_t>> counts;
  /// The same figures as the text summary prints them, one line each.
  std::vector<std::string> lines;
  std::string ended_early;       ///< why it ended before its input did, if it did
};

class Feed : public Agent {
 public:
  /// The port the pipeline opened for this feed; before the feed's thread starts.
  void attach(FeedPort& port) noexcept { port_ = &port; }
  /// Ends the feed soon (any thread): done() turns true within one duty cycle, and a feed waiting for
  /// a paced tick's time stops waiting within 10 ms.
  void request_stop() noexcept { stop_.store(true, std::memory_order_relaxed); }
  /// The port is closed once the feed's thread has run its last duty cycle: the shards may finish.
  void on_close() noexcept override {
    if (port_ != nullptr) {
      port_->close();
    }
  }

  [[nodiscard]] virtual std::string label() const = 0;
  /// Lines worth showing before the run starts (rows a CSV load skipped, …).
  [[nodiscard]] virtual std::vector<std::string> notices() const { return {}; }
  /// After the engine and the outputs have stopped: last work that needs them stopped (Kafka: the final
  /// offset commit). Owning thread.
  virtual void finish() noexcept {}
  /// Whether finish() still changes the figures report() gives (then they are read only after it).
  [[nodiscard]] virtual bool reports_after_finish() const noexcept { return false; }
  /// The feed's own figures (published, rejects and rejected are filled by the caller).
  virtual void report(FeedReport& out) const = 0;
  /// Any thread, at any time (also while the feed runs, unlike report()): the input refused so far by
  /// reason, appended to `out` for every reason the feed knows, zeros included, so that a scrape sees
  /// the same series every time. Figures counted as the feed runs are single-writer relaxed atomics;
  /// figures fixed when the feed was made are read as they are. A feed that refuses nothing adds none.
  virtual void rejects(std::vector<std::pair<std::string, std::uint64_t>>& out) const { (void)out; }

 protected:
  [[nodiscard]] FeedPort& port() const noexcept { return *port_; }
  [[nodiscard]] FeedPort* port_if_attached() const noexcept { return port_; }
  /// Relaxed: the flag carries no data; a feed sees it at its next check.
  [[nodiscard]] bool stop_requested() const noexcept { return stop_.load(std::memory_order_relaxed); }

 private:
  FeedPort* port_ = nullptr;
  std::atomic<bool> stop_{false};
};

}  // namespace tickforge
