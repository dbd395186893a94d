#include "follower.h"

#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace pfor::internal {
namespace {

using ::testing::HasSubstr;

// A coordinator that never answers by itself: the test delivers events.
class QuietSession final : public Session {
 public:
  explicit QuietSession(SessionHandler* handler) : handler_(handler) {}
  void Submit(uint64_t, std::shared_ptr<const JobSpec>, bool) override {}
  void Follow(uint64_t, absl::Duration) override {}
  void Close() override { handler_->OnClosed(absl::CancelledError("closed")); }

 private:
  SessionHandler* handler_;
};

class QuietCalls final : public CoordinatorCalls {
 public:
  absl::StatusOr<JobStatus> Submit(const JobSpec&) override {
    return absl::UnimplementedError("");
  }
  absl::StatusOr<JobStatus> Get(uint64_t, bool, TaskPage) override {
    return absl::UnimplementedError("");
  }
  absl::StatusOr<JobStatus> Cancel(uint64_t, bool) override {
    return absl::UnimplementedError("");
  }
  absl::StatusOr<std::vector<JobStatus>> ListJobs(int) override {
    return absl::UnimplementedError("");
  }
  absl::StatusOr<std::vector<WorkerStatus>> ListWorkers() override {
    return absl::UnimplementedError("");
  }
  absl::StatusOr<std::vector<KernelInfo>> ListKernels() override {
    return absl::UnimplementedError("");
  }
  std::shared_ptr<Session> OpenSession(SessionHandler* handler) override {
    return std::make_shared<QuietSession>(handler);
  }
};

struct Heard {
  std::mutex mu;
  std::condition_variable changed;
  std::vector<absl::StatusOr<JobEvent>> events;  // guarded by mu
};

JobEvent Running(uint64_t job, absl::Time submitted) {
  auto status = std::make_shared<JobStatus>();
  status->id = job;
  status->state = JobState::kRunning;
  status->submit_time = submitted;
  JobEvent event;
  event.job = job;
  event.state = JobState::kRunning;
  event.status = std::move(status);
  return event;
}

TEST(FollowerTest, RefusesAnotherJobGivenTheSameId) {
  QuietCalls calls;
  Follower follower(calls, "coord:1", absl::Seconds(30), absl::Seconds(5));
  auto heard = std::make_shared<Heard>();
  const absl::Time submitted = absl::FromUnixSeconds(1'750'000'000);
  follower.Follow(
      7,
      [heard](const absl::StatusOr<JobEvent>& event) {
        std::lock_guard lock(heard->mu);
        heard->events.push_back(event);
      },
      absl::ZeroDuration(), submitted);
  // The job itself first, then (after the coordinator lost its state)
  // another job with the same id.
  follower.OnEvents({Running(7, submitted)});
  follower.OnEvents({Running(7, submitted + absl::Seconds(90))});
  follower.OnEvents({Running(7, submitted + absl::Seconds(91))});
  std::lock_guard lock(heard->mu);
  ASSERT_EQ(heard->events.size(), 2u);
  EXPECT_TRUE(heard->events[0].ok());
  EXPECT_EQ(heard->events[1].status().code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(std::string(heard->events[1].status().message()),
              HasSubstr("job 7 on the coordinator is not the job this "
                        "client submitted"));
}

TEST(FollowerTest, FollowsByIdAloneWhenTheSubmitTimeIsUnknown) {
  QuietCalls calls;
  Follower follower(calls, "coord:1", absl::Seconds(30), absl::Seconds(5));
  auto heard = std::make_shared<Heard>();
  follower.Follow(7, [heard](const absl::StatusOr<JobEvent>& event) {
    std::lock_guard lock(heard->mu);
    heard->events.push_back(event);
  });
  follower.OnEvents({Running(7, absl::FromUnixSeconds(5))});
  std::lock_guard lock(heard->mu);
  ASSERT_EQ(heard->events.size(), 1u);
  EXPECT_TRUE(heard->events[0].ok());
}

TEST(FollowerTest, GivesUpOnACoordinatorThatNeverAnswers) {
  QuietCalls calls;
  Follower follower(calls, "coord:1", absl::Milliseconds(200),
                    absl::Seconds(5));
  auto heard = std::make_shared<Heard>();
  follower.Follow(7, [heard](const absl::StatusOr<JobEvent>& event) {
    std::lock_guard lock(heard->mu);
    heard->events.push_back(event);
    heard->changed.notify_all();
  });
  // The session opened, and nothing ever comes on it.
  std::unique_lock lock(heard->mu);
  ASSERT_TRUE(heard->changed.wait_for(lock, std::chrono::seconds(30), [&] {
    return !heard->events.empty();
  })) << "still waiting for a coordinator that never answers";
  ASSERT_EQ(heard->events.size(), 1u);
  EXPECT_EQ(heard->events[0].status().code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(std::string(heard->events[0].status().message()),
              HasSubstr("cannot reach the coordinator at coord:1; no answer "
                        "for 200ms while following jobs"));
}

}  // namespace
}  // namespace pfor::internal
