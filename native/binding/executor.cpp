#include "binding/executor.h"

namespace tft::binding {

Executor& Executor::instance() {
  // Never destroyed: the thread is detached so process exit never waits on a running job.
  static Executor* e = new Executor();
  return *e;
}

Executor::Executor() {
  std::thread([this] { loop(); }).detach();
}

void Executor::submit(std::function<void()> job) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    queue_.push_back(std::move(job));
  }
  cv_.notify_one();
}

void Executor::loop() {
  for (;;) {
    std::function<void()> job;
    {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait(lock, [this] { return !queue_.empty(); });
      job = std::move(queue_.front());
      queue_.pop_front();
    }
    job();  // jobs catch their own exceptions (see native_job.h)
  }
}

}  // namespace tft::binding
