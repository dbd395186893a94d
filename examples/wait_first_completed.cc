// concurrent.futures.wait(FIRST_COMPLETED): a slow job and a quick one are
// submitted together; the program takes the first result and stops the job
// still running (terminate(): cancel(), as Python's, only takes jobs that
// have not started).
#include <cstdio>

#include "pfor/executor.h"

int main() {
  absl::StatusOr<std::unique_ptr<pfor::Client>> client =
      pfor::Client::Connect({});
  if (!client.ok()) {
    std::fprintf(stderr, "%s\n", client.status().ToString().c_str());
    return 1;
  }
  pfor::Executor executor(**client);
  std::vector<pfor::Future<int64_t>> futures = {
      // 100 s of sleeping (1 ms per index)...
      executor.submit<int64_t>("sleep", {0, 100'000}, {{"us", int64_t{1000}}}),
      // ...and the primes below 1000.
      executor.submit<int64_t>("count_primes", {0, 1000})};
  pfor::DoneAndNotDone<int64_t> first =
      pfor::wait(futures, pfor::ReturnWhen::kFirstCompleted);
  for (const pfor::Future<int64_t>& done : first.done) {
    absl::StatusOr<int64_t> value = done.result();
    if (!value.ok()) {
      std::fprintf(stderr, "%s\n", value.status().ToString().c_str());
      return 1;
    }
    std::printf("first done: job %llu, value %lld\n",
                static_cast<unsigned long long>(done.job_id()),
                static_cast<long long>(*value));
  }
  int cancelled = 0;
  for (const pfor::Future<int64_t>& slow : first.not_done) {
    cancelled += slow.terminate();
  }
  std::printf("cancelled: %d\n", cancelled);
  return 0;
}
