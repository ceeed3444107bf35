// tickforge benchmarks — shared main(): `--quick` mode, pinning, failure accounting.
//
// Every benchmark binary accepts the Google Benchmark flags plus:
//   --quick        a few milliseconds per benchmark, one repetition: the test command runs this so the
//                  benchmarks never rot (their results are checked, their times are not)
//   --cpus=A,B     the two CPUs that two-thread benchmarks pin to (default 0,1)
// Without --quick, each benchmark runs kRepetitions times and only the aggregates (mean, median,
// stddev, cv) are reported; add --benchmark_format=json or --benchmark_out=F for JSON.
#pragma once

#include <benchmark/benchmark.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include <tickforge/engine.hpp>

namespace tfbench {

inline constexpr int kRepetitions = 7;

struct Options {
  bool quick = false;
  int cpu_a = 0;  // producer / echo side
  int cpu_b = 1;  // consumer / initiator side (the benchmark's own thread)
};

inline Options& options() {
  static Options o;
  return o;
}

/// Set when a benchmark found a wrong result (lost, duplicated or reordered item, bad parse, …):
/// main() then exits non-zero so the quick run in the test command fails.
inline std::atomic<int>& failures() {
  static std::atomic<int> n{0};
  return n;
}

inline void fail(benchmark::State& st, const char* why) {
  failures().fetch_add(1, std::memory_order_relaxed);
  st.SkipWithError(why);
}

/// Pins the calling thread; returns false (benchmark runs unpinned) when the CPU is unusable.
inline bool pin(int cpu) { return cpu >= 0 && tickforge::pin_current_thread(cpu, nullptr); }

/// Applies repetition / quick settings to one registered benchmark.
inline benchmark::internal::Benchmark* tune(benchmark::internal::Benchmark* b) {
  if (options().quick) {
    return b->Repetitions(1)->MinTime(0.001);
  }
  return b->Repetitions(kRepetitions)->ReportAggregatesOnly(true);
}

/// Removes our flags from argv, then hands the rest to Google Benchmark.
inline int run_main(int argc, char** argv, void (*register_all)()) {
  std::vector<char*> rest;
  for (int i = 0; i < argc; ++i) {
    const char* a = argv[i];
    if (std::strcmp(a, "--quick") == 0) {
      options().quick = true;
    } else if (std::strncmp(a, "--cpus=", 7) == 0) {
      if (std::sscanf(a + 7, "%d,%d", &options().cpu_a, &options().cpu_b) != 2) {
        std::fprintf(stderr, "bad --cpus: want --cpus=A,B\n");
        return 2;
      }
    } else {
      rest.push_back(argv[i]);
    }
  }
  int n = static_cast<int>(rest.size());
  rest.push_back(nullptr);
  benchmark::Initialize(&n, rest.data());
  if (benchmark::ReportUnrecognizedArguments(n, rest.data())) {
    return 2;
  }
  register_all();
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  if (failures().load() != 0) {
    std::fprintf(stderr, "%d benchmark(s) produced wrong results\n", failures().load());
    return 1;
  }
  return 0;
}

}  // namespace tfbench
