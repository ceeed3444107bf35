// Test support: a single-threaded shard harness and exact references computed independently of the
// engine (long double, two passes over the whole window).
#pragma once

#include <cmath>
#include <cstdint>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <tickforge/config.hpp>
#include <tickforge/records.hpp>
#include <tickforge/symbol_table.hpp>

#include "shard_core.hpp"

namespace tickforge::test {

inline std::string data_path(const std::string& name) { return std::string(TICKFORGE_TEST_DATA_DIR) + "/" + name; }

/// Runs ticks through one ShardCore in the calling thread and records metrics and alerts.
struct Harness {
  explicit Harness(EngineConfig c = {}) : cfg(std::move(c)), symbols(cfg.max_tickers), core(cfg, cfg.max_tickers, 0, ShardIndex{1}, symbols) {
    core.add_alert_callback(
        [](void* u, const Alert* a) { static_cast<Harness*>(u)->alerts.push_back(*a); }, this);
    core.set_update_callback(
        [](void* u, const Tick*, const TickMetrics* m) { static_cast<Harness*>(u)->metrics.push_back(*m); }, this);
  }
  SymbolId id(const char* ticker) { return symbols.intern(ticker); }
  void tick(SymbolId s, double price, double volume = 100, std::int64_t event_ns = 0) {
    Tick t{};
    t.symbol = s;
    t.price = price;
    t.volume = volume;
    t.event_ns = event_ns;
    t.seq = seq++;
    core.on_tick(t);
  }
  EngineConfig cfg;
  SymbolTable symbols;
  ShardCore core;
  std::vector<Alert> alerts;
  std::vector<TickMetrics> metrics;
  std::uint64_t seq = 0;
};

struct Exact {
  long double mean;
  long double var;  // with the requested ddof
};

/// Exact-enough reference: long double (64-bit mantissa) two-pass over x[end-n, end).
inline Exact exact_window(const std::vector<double>& x, std::size_t end, std::size_t n, unsigned ddof) {
  long double s = 0;
  for (std::size_t i = end - n; i < end; ++i) {
    s += x[i];
  }
  const long double mean = s / n;
  long double q = 0;
  long double d = 0;
  for (std::size_t i = end - n; i < end; ++i) {
    const long double e = x[i] - mean;
    q += e * e;
    d += e;
  }
  return {mean + d / n, n > ddof ? (q - d * d / n) / (n - ddof) : NAN};
}

/// |got - want| relative to |want|, or absolute against `floor` when want is (near) zero.
inline double rel_err(double got, long double want, long double floor = 0) {
  const long double scale = std::fabs(want) > floor ? std::fabs(want) : (floor > 0 ? floor : 1);
  return static_cast<double>(std::fabs(static_cast<long double>(got) - want) / scale);
}

/// A CSV file as rows of cells (no quoting: for our own reference data only).
inline std::vector<std::vector<std::string>> read_plain_csv(const std::string& path) {
  std::ifstream in(path);
  std::vector<std::vector<std::string>> rows;
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty() && line.back() == '\r') {
      line.pop_back();
    }
    std::vector<std::string> cells;
    std::stringstream ss(line);
    std::string cell;
    while (std::getline(ss, cell, ',')) {
      cells.push_back(cell);
    }
    if (!line.empty() && line.back() == ',') {
      cells.emplace_back();
    }
    rows.push_back(std::move(cells));
  }
  return rows;
}

}  // namespace tickforge::test
