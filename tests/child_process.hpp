// Test support: the tickforge binary as a child process with its output in files; waiting for a line it
// prints (readiness), for its exit (bounded), and signals.
#pragma once

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <utility>
#include <vector>

extern char** environ;

namespace tickforge::test {

inline std::string slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

/// The tickforge binary as a child process, stdout and stderr in files.
class Child {
 public:
  Child(const std::vector<std::string>& args, const std::string& out_path, const std::string& err_path)
      : out_(out_path), err_(err_path) {
    std::vector<std::string> argv_s = args;
    argv_s.insert(argv_s.begin(), TICKFORGE_BINARY);
    std::vector<char*> argv;
    for (auto& a : argv_s) {
      argv.push_back(a.data());
    }
    argv.push_back(nullptr);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 1, out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_addopen(&fa, 2, err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (posix_spawn(&pid_, TICKFORGE_BINARY, &fa, nullptr, argv.data(), environ) != 0) {
      pid_ = -1;
    }
    posix_spawn_file_actions_destroy(&fa);
  }
  ~Child() {
    if (pid_ > 0) {
      kill(pid_, SIGKILL);
      wait();
    }
  }
  Child(const Child&) = delete;
  Child& operator=(const Child&) = delete;
  void signal(int sig) const {
    if (pid_ > 0) {
      kill(pid_, sig);
    }
  }
  /// Exit code, or 128 + signal.
  int wait() {
    if (pid_ > 0) {
      int status = 0;
      waitpid(pid_, &status, 0);
      reaped(status);
    }
    return code_;
  }
  /// wait() for at most timeout_s: on timeout the child is killed (SIGKILL) and -1 returned, so a hang
  /// fails the test instead of stalling the suite.
  int wait_for_exit(int timeout_s) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(timeout_s);
    while (std::chrono::steady_clock::now() < deadline) {
      if (exited()) {
        return code_;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    kill(pid_, SIGKILL);
    wait();
    return -1;
  }
  /// Whether it has ended (reaps it; wait() then returns its code).
  bool exited() {
    int status = 0;
    if (pid_ > 0 && waitpid(pid_, &status, WNOHANG) == pid_) {
      reaped(status);
    }
    return pid_ <= 0;
  }
  [[nodiscard]] std::string err() const { return slurp(err_); }
  [[nodiscard]] std::string out() const { return slurp(out_); }
  /// Waits until stderr (stdout) contains `what` (true), or the child ends or the timeout passes (false).
  bool wait_for_err(const std::string& what, int timeout_s = 60) { return wait_for(err_, what, timeout_s); }
  bool wait_for_out(const std::string& what, int timeout_s = 60) { return wait_for(out_, what, timeout_s); }

 private:
  void reaped(int status) {
    pid_ = -1;
    code_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  }
  bool wait_for(const std::string& path, const std::string& what, int timeout_s) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(timeout_s);
    while (std::chrono::steady_clock::now() < deadline) {
      if (slurp(path).find(what) != std::string::npos) {
        return true;
      }
      if (exited()) {
        return slurp(path).find(what) != std::string::npos;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));  // a poll interval, not a wait for time
    }
    return false;
  }

  pid_t pid_ = -1;
  int code_ = -1;
  std::string out_, err_;
};

/// Runs the binary to completion; returns (exit code, stdout + stderr).
inline std::pair<int, std::string> run_binary(const std::vector<std::string>& args, const std::string& tag) {
  const std::string base =
      (std::filesystem::temp_directory_path() / ("tickforge_kt_" + std::to_string(getpid()) + "_" + tag))
          .string();
  Child c(args, base + ".out", base + ".err");
  const int rc = c.wait();
  return {rc, c.out() + c.err()};
}

}  // namespace tickforge::test
