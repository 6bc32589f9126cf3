// The one thread that runs every asynchronous native job, in submission order.
//
// Why not libuv's pool: each job parallelises internally over libtorch's OpenMP threads, and OpenMP keeps
// one team of threads per calling thread. Jobs spread over libuv's four pool threads meant four teams
// spinning against each other on the same cores (measured: 2x slower, erratic), and long jobs held pool
// threads that Node's fs and dns need. One executor thread gives one team, FIFO order, and leaves libuv free.
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>

namespace tft::binding {

class Executor {
 public:
  static Executor& instance();
  void submit(std::function<void()> job);

 private:
  Executor();
  void loop();

  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> queue_;
};

}  // namespace tft::binding
