#include <tickforge/symbol_table.hpp>

#include <gtest/gtest.h>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

using tickforge::kNoSymbol;
using tickforge::SymbolTable;

TEST(SymbolTable, ShouldAssignDenseIdsInRegistrationOrder) {
  SymbolTable t(10);
  EXPECT_EQ(t.intern("AAPL"), 0u);
  EXPECT_EQ(t.intern("MSFT"), 1u);
  EXPECT_EQ(t.intern("AAPL"), 0u);
  EXPECT_EQ(t.find("MSFT"), 1u);
  EXPECT_EQ(t.find("GOOG"), kNoSymbol);
  EXPECT_STREQ(t.name(1), "MSFT");
  EXPECT_EQ(t.size(), 2u);
}

TEST(SymbolTable, ShouldDistinguishPrefixesAndCase) {
  SymbolTable t(10);
  const auto a = t.intern("AA");
  const auto b = t.intern("AAP");
  const auto c = t.intern("aap");
  EXPECT_NE(a, b);
  EXPECT_NE(b, c);
  EXPECT_EQ(t.find("AAP"), b);
  EXPECT_EQ(t.find("AAPL"), kNoSymbol);
}

TEST(SymbolTable, ShouldRejectEmptyAndTooLongTickersWithReason) {
  SymbolTable t(4);
  SymbolTable::Reject why{};
  EXPECT_EQ(t.intern("", &why), kNoSymbol);
  EXPECT_EQ(why, SymbolTable::Reject::kEmpty);
  EXPECT_EQ(t.intern("ABCDEFGHIJKLMNOP", &why), kNoSymbol);  // 16 bytes
  EXPECT_EQ(why, SymbolTable::Reject::kTooLong);
  EXPECT_NE(t.intern("ABCDEFGHIJKLMNO", &why), kNoSymbol);  // 15 bytes: the limit
  EXPECT_EQ(why, SymbolTable::Reject::kNone);
}

TEST(SymbolTable, ShouldCountOverflowWhenFullAndKeepServingKnownTickers) {
  SymbolTable t(3);
  for (const char* s : {"A", "B", "C"}) {
    ASSERT_NE(t.intern(s), kNoSymbol);
  }
  SymbolTable::Reject why{};
  EXPECT_EQ(t.intern("D", &why), kNoSymbol);
  EXPECT_EQ(why, SymbolTable::Reject::kFull);
  EXPECT_EQ(t.intern("E"), kNoSymbol);
  EXPECT_EQ(t.overflow_count(), 2u);
  EXPECT_EQ(t.intern("B"), 1u);
}

TEST(SymbolTable, ShouldHoldOneHundredThousandTickers) {
  SymbolTable t(100'000);
  for (std::uint32_t i = 0; i < 100'000; ++i) {
    ASSERT_EQ(t.intern("T" + std::to_string(i)), i);
  }
  for (std::uint32_t i = 0; i < 100'000; i += 997) {
    ASSERT_EQ(t.find("T" + std::to_string(i)), i);
  }
  EXPECT_EQ(t.intern("ONE_MORE"), kNoSymbol);
}

TEST(SymbolTable, ShouldServeConcurrentReadersWhileWritersRegister) {
  SymbolTable t(20'000);
  constexpr int kWriters = 2;
  constexpr int kPerWriter = 5'000;
  std::atomic<bool> go{false};
  std::vector<std::thread> threads;
  std::atomic<int> mismatches{0};
  for (int w = 0; w < kWriters; ++w) {
    threads.emplace_back([&, w] {
      while (!go.load(std::memory_order_acquire)) {
      }
      for (int i = 0; i < kPerWriter; ++i) {
        // Both writers register the same names: each must get one id.
        const std::string name = "S" + std::to_string(i);
        const auto id = t.intern(name);
        if (id == kNoSymbol || std::string(t.name(id)) != name) {
          mismatches.fetch_add(1);
        }
      }
      (void)w;
    });
  }
  threads.emplace_back([&] {
    while (!go.load(std::memory_order_acquire)) {
    }
    for (int round = 0; round < 20; ++round) {
      for (int i = 0; i < kPerWriter; i += 7) {
        const std::string name = "S" + std::to_string(i);
        const auto id = t.find(name);
        if (id != kNoSymbol && std::string(t.name(id)) != name) {
          mismatches.fetch_add(1);
        }
      }
    }
  });
  go.store(true, std::memory_order_release);
  for (auto& th : threads) {
    th.join();
  }
  EXPECT_EQ(mismatches.load(), 0);
  EXPECT_EQ(t.size(), static_cast<std::uint32_t>(kPerWriter));
}
