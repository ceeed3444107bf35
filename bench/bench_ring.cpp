// tickforge benchmarks — SPSC transfer between two pinned threads: our ring beside the peers.
//
// Peers, all from Debian packages and all used through their fastest SPSC-capable API:
//   moodycamel::ReaderWriterQueue (try_enqueue / try_dequeue; no batch API)
//   moodycamel::ConcurrentQueue   (explicit producer token, try_dequeue_from_producer; bulk forms)
//   boost::lockfree::spsc_queue   (compile-time capacity; push/pop of one item or of an array)
// Every queue gets the same capacity (kCapacity slots), the same items, the same spin (pause) on
// full/empty, the same two CPUs. The consumer checks every sequence number, so a queue that loses,
// duplicates or reorders an item fails the run (exit code 1), not just looks fast.
//
// Benchmarks (times are wall-clock, taken only while both threads run):
//   Throughput/<item>/single/<queue>  one push per item, one pop per item
//   Throughput/<item>/single_spin/<queue>  the same, retrying at once after a failed poll (no `pause`)
//   (every throughput run also reports its failed polls per item: empty_polls_per_item, full_polls_per_item)
//   Throughput/<item>/batch/<queue>   producer pushes arrays of kBatch, consumer drains up to 256 at a time
//                                     (ours: consume() in place; peers: pop into a buffer)
//   PingPong/<item>/<queue>           A sends one item, B echoes it back through a second queue;
//                                     rtt_ns = one round trip
// Items: U64 (8 bytes) and Tick (the engine's tick: 48 bytes of fields padded to one 64-byte line).
#include <boost/lockfree/spsc_queue.hpp>
#include <concurrentqueue/concurrentqueue.h>
#include <readerwriterqueue/readerwriterqueue.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <thread>

#include <tickforge/spsc_ring.hpp>
#include <tickforge/tick.hpp>

#include "bench_common.hpp"

namespace {

using tickforge::cpu_relax;
using tickforge::Tick;

constexpr std::size_t kCapacity = 8192;
constexpr std::size_t kBatch = 64;       // producer batch
constexpr std::size_t kDrainMax = 256;  // consumer batch (same as the engine's shard loop)

// ---- items ----------------------------------------------------------------------------------------
template <typename T>
T make_item(std::uint64_t i);
template <>
std::uint64_t make_item<std::uint64_t>(std::uint64_t i) {
  return i;
}
template <>
Tick make_item<Tick>(std::uint64_t i) {
  return Tick{static_cast<std::uint32_t>(i & 1023), 0, 100.0 + static_cast<double>(i & 7), 1.0,
              static_cast<std::int64_t>(i), i, 0};
}
inline std::uint64_t seq_of(std::uint64_t v) { return v; }
inline std::uint64_t seq_of(const Tick& t) { return t.seq; }

// ---- queue adapters: push/pop one, push_n/pop_n many -----------------------------------------------
template <typename T>
struct Ours {
  static constexpr bool kHasBatch = true;
  tickforge::SpscRing<T> q{kCapacity};
  bool push(const T& v) { return q.try_push(v); }
  bool pop(T& v) { return q.try_pop(v); }
  std::size_t push_n(const T* v, std::size_t n) { return q.try_push_n(v, n); }
  template <typename F>
  std::size_t pop_n(F&& f) {
    return q.consume(f, kDrainMax);
  }
};

template <typename T>
struct Rwq {
  static constexpr bool kHasBatch = false;
  moodycamel::ReaderWriterQueue<T> q{kCapacity};
  bool push(const T& v) { return q.try_enqueue(v); }
  bool pop(T& v) { return q.try_dequeue(v); }
  std::size_t push_n(const T*, std::size_t) { return 0; }
  template <typename F>
  std::size_t pop_n(F&&) {
    return 0;
  }
};

template <typename T>
struct Cq {
  static constexpr bool kHasBatch = true;
  moodycamel::ConcurrentQueue<T> q{kCapacity};
  moodycamel::ProducerToken tok{q};
  T buf[kDrainMax];
  bool push(const T& v) { return q.try_enqueue(tok, v); }
  bool pop(T& v) { return q.try_dequeue_from_producer(tok, v); }
  std::size_t push_n(const T* v, std::size_t n) { return q.try_enqueue_bulk(tok, v, n) ? n : 0; }
  template <typename F>
  std::size_t pop_n(F&& f) {
    const std::size_t k = q.try_dequeue_bulk_from_producer(tok, buf, kDrainMax);
    for (std::size_t i = 0; i < k; ++i) {
      f(static_cast<const T&>(buf[i]));
    }
    return k;
  }
};

template <typename T>
struct Boost {
  static constexpr bool kHasBatch = true;
  boost::lockfree::spsc_queue<T, boost::lockfree::capacity<kCapacity>> q;
  T buf[kDrainMax];
  bool push(const T& v) { return q.push(v); }
  bool pop(T& v) { return q.pop(v); }
  std::size_t push_n(const T* v, std::size_t n) { return q.push(v, n); }
  template <typename F>
  std::size_t pop_n(F&& f) {
    const std::size_t k = q.pop(buf, kDrainMax);
    for (std::size_t i = 0; i < k; ++i) {
      f(static_cast<const T&>(buf[i]));
    }
    return k;
  }
};

// Both threads pin, then meet here, so the clock starts with both running.
struct Gate {
  std::atomic<int> arrived{0};
  void meet() {
    arrived.fetch_add(1, std::memory_order_acq_rel);  // release our set-up; acquire the partner's
    while (arrived.load(std::memory_order_acquire) < 2) {
      cpu_relax();
    }
  }
};

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

// How a side waits after a failed poll (a full or an empty queue): kPause is the engine's own cpu_relax()
// (x86 `pause`: a few cycles on AMD Zen, ~140 on Intel since Skylake, so a failed poll costs very
// different times on the two families); kSpin retries at once. The failed polls are counted either way:
// a single-item run with many failed polls per item measures the waiting as much as the queue.
enum class Wait { kPause, kSpin };

inline void wait_once(Wait w) noexcept {
  if (w == Wait::kPause) {
    cpu_relax();
  } else {
    std::atomic_signal_fence(std::memory_order_seq_cst);  // a compiler barrier: re-read the queue
  }
}

template <template <typename> class Q, typename T>
void throughput(benchmark::State& st, bool batch, Wait wait = Wait::kPause) {
  const std::uint64_t n = tfbench::options().quick ? 50'000 : 5'000'000;
  bool ok = true;
  std::uint64_t full_polls = 0;   // producer: pushes refused (queue full); read after the join
  std::uint64_t empty_polls = 0;  // consumer: pops that found nothing
  for (auto _ : st) {
    auto q = std::make_unique<Q<T>>();
    Gate gate;
    std::thread producer([&] {
      tfbench::pin(tfbench::options().cpu_a);
      gate.meet();
      std::uint64_t full = 0;
      if (!batch) {
        for (std::uint64_t i = 0; i < n; ++i) {
          const T v = make_item<T>(i);
          while (!q->push(v)) {
            ++full;
            wait_once(wait);
          }
        }
        full_polls += full;  // the consumer reads it after join(): the join orders it
        return;
      }
      T buf[kBatch];
      for (std::uint64_t i = 0; i < n;) {
        const std::size_t k = n - i < kBatch ? static_cast<std::size_t>(n - i) : kBatch;
        for (std::size_t j = 0; j < k; ++j) {
          buf[j] = make_item<T>(i + j);
        }
        for (std::size_t sent = 0; sent < k;) {
          const std::size_t m = q->push_n(buf + sent, k - sent);
          if (m == 0) {
            ++full;
            wait_once(wait);
          }
          sent += m;
        }
        i += k;
      }
      full_polls += full;
    });
    tfbench::pin(tfbench::options().cpu_b);
    gate.meet();
    const auto t0 = std::chrono::steady_clock::now();
    std::uint64_t expect = 0;
    if (!batch) {
      T v;
      while (expect < n) {
        if (q->pop(v)) {
          ok = ok && seq_of(v) == expect;
          ++expect;
        } else {
          ++empty_polls;
          wait_once(wait);
        }
      }
    } else {
      auto check = [&](const T& v) {
        ok = ok && seq_of(v) == expect;
        ++expect;
      };
      while (expect < n) {
        if (q->pop_n(check) == 0) {
          ++empty_polls;
          wait_once(wait);
        }
      }
    }
    st.SetIterationTime(seconds_since(t0));
    producer.join();
  }
  if (!ok) {
    tfbench::fail(st, "items lost, duplicated or reordered");
  }
  st.SetItemsProcessed(static_cast<std::int64_t>(st.iterations() * n));
  const double items = static_cast<double>(st.iterations()) * static_cast<double>(n);
  st.counters["empty_polls_per_item"] = static_cast<double>(empty_polls) / items;
  st.counters["full_polls_per_item"] = static_cast<double>(full_polls) / items;
}

template <template <typename> class Q, typename T>
void ping_pong(benchmark::State& st) {
  const std::uint64_t n = tfbench::options().quick ? 5'000 : 300'000;
  bool ok = true;
  double rtt_ns_sum = 0;
  for (auto _ : st) {
    auto there = std::make_unique<Q<T>>();
    auto back = std::make_unique<Q<T>>();
    Gate gate;
    std::thread echo([&] {
      tfbench::pin(tfbench::options().cpu_a);
      gate.meet();
      T v;
      for (std::uint64_t i = 0; i < n; ++i) {
        while (!there->pop(v)) {
          cpu_relax();
        }
        while (!back->push(v)) {
          cpu_relax();
        }
      }
    });
    tfbench::pin(tfbench::options().cpu_b);
    gate.meet();
    const auto t0 = std::chrono::steady_clock::now();
    T r;
    for (std::uint64_t i = 0; i < n; ++i) {
      const T v = make_item<T>(i);
      while (!there->push(v)) {
        cpu_relax();
      }
      while (!back->pop(r)) {
        cpu_relax();
      }
      ok = ok && seq_of(r) == i;
    }
    const double s = seconds_since(t0);
    st.SetIterationTime(s);
    rtt_ns_sum += s * 1e9 / static_cast<double>(n);
    echo.join();
  }
  if (!ok) {
    tfbench::fail(st, "echo returned the wrong item");
  }
  st.SetItemsProcessed(static_cast<std::int64_t>(st.iterations() * n));
  st.counters["rtt_ns"] = benchmark::Counter(rtt_ns_sum, benchmark::Counter::kAvgIterations);
}

template <template <typename> class Q, typename T>
void register_queue(const std::string& queue, const std::string& item) {
  using tfbench::tune;
  tune(benchmark::RegisterBenchmark(("Throughput/" + item + "/single/" + queue).c_str(),
                                    [](benchmark::State& st) { throughput<Q, T>(st, false); }))
      ->UseManualTime()
      ->Unit(benchmark::kMillisecond);
  tune(benchmark::RegisterBenchmark(("Throughput/" + item + "/single_spin/" + queue).c_str(),
                                    [](benchmark::State& st) { throughput<Q, T>(st, false, Wait::kSpin); }))
      ->UseManualTime()
      ->Unit(benchmark::kMillisecond);
  if (Q<T>::kHasBatch) {
    tune(benchmark::RegisterBenchmark(("Throughput/" + item + "/batch/" + queue).c_str(),
                                      [](benchmark::State& st) { throughput<Q, T>(st, true); }))
        ->UseManualTime()
        ->Unit(benchmark::kMillisecond);
  }
  tune(benchmark::RegisterBenchmark(("PingPong/" + item + "/" + queue).c_str(),
                                    [](benchmark::State& st) { ping_pong<Q, T>(st); }))
      ->UseManualTime()
      ->Unit(benchmark::kMillisecond);
}

template <typename T>
void register_item(const std::string& item) {
  register_queue<Ours, T>("tickforge", item);
  register_queue<Boost, T>("boost_spsc", item);
  register_queue<Rwq, T>("moodycamel_rwq", item);
  register_queue<Cq, T>("moodycamel_cq", item);
}

void register_all() {
  register_item<std::uint64_t>("U64");
  register_item<Tick>("Tick");
}

}  // namespace

int main(int argc, char** argv) { return tfbench::run_main(argc, argv, register_all); }
