#include "batch_stop.h"

#include <utility>

#include "follower.h"

namespace pfor::internal {

void StopJobsOnFailure(Client& client, BatchCore& results,
                       std::vector<std::shared_ptr<FutureCore>> jobs) {
  Follower& follower = FollowerOf(client);
  results.SetOnFailure([&follower, jobs = std::move(jobs)] {
    follower.Post([jobs] {
      for (const auto& job : jobs) job->Cancel(/*running_too=*/true);
    });
  });
}

}  // namespace pfor::internal
