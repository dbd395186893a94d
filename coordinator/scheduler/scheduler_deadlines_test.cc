// Hung and hostile workers (attempt deadlines, backups of overdue chunks,
// quarantine) and fair shares between submitters.
#include <climits>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "scheduler.h"
#include "scheduler_harness.h"

namespace pfor::coordinator {
namespace {

class DeadlinesTest : public SchedulerHarness {
 protected:
  DeadlinesTest() : SchedulerHarness({.quarantine_time = absl::Seconds(10)}) {}

  // Takes worker `id`'s running attempts out of running_: it never answers.
  std::vector<Running> Hang(WorkerId id) {
    std::vector<Running> hung;
    std::erase_if(running_, [&](const Running& run) {
      if (run.worker != id) return false;
      hung.push_back(run);
      return true;
    });
    return hung;
  }

  // Finishes the honest workers' attempts one at a time, 10 ms each, with
  // a tick every 100 ms, for `time` or until none is running.
  void RunFor(absl::Duration time) {
    const absl::Time until = now_ + time;
    int done = 0;
    while (now_ < until && !running_.empty()) {
      now_ += absl::Milliseconds(10);
      scheduler_.WorkerSeen(1, now_);
      Complete(0, absl::Milliseconds(10));
      if (++done % 10 == 0) {
        scheduler_.Tick(now_);
        Collect();
      }
    }
  }

  bool Quarantined(WorkerId id) {
    for (const WorkerStatus& worker : scheduler_.ListWorkers(now_)) {
      if (worker.id == id) return worker.quarantined;
    }
    ADD_FAILURE() << "no worker " << id;
    return false;
  }
};

TEST_F(DeadlinesTest, BacksUpAnOverdueChunkLongBeforeTheJobsEnd) {
  Join(1, 1);  // takes a chunk and never answers
  Join(2, 1);
  const JobStatus job = Submit(Spec(0, 100'000, 10));
  const std::vector<Running> hung = Hang(1);
  ASSERT_EQ(hung.size(), 1u);
  // Chunks take 10 ms: 3 s later the hung one is overdue (3 times its
  // expected time, and at least 2 s) with most of the job still to cut.
  RunFor(absl::Seconds(3));
  const auto backup = std::find_if(assignments_.begin(), assignments_.end(),
                                   [&](const Commands::Assign& assign) {
                                     return assign.chunk.attempt.begin ==
                                                hung[0].attempt.begin &&
                                            assign.chunk.attempt.attempt == 2;
                                   });
  ASSERT_NE(backup, assignments_.end()) << "no backup of the hung chunk";
  EXPECT_EQ(backup->worker, 2u);
  EXPECT_LT(Get(job.id).progress.chunks_done, 1000);
  RunFor(absl::Minutes(5));
  ASSERT_EQ(Get(job.id).state, JobState::kSucceeded);
  // The hung copy was cancelled; its late answer counts nothing twice.
  EXPECT_THAT(cancelled_, ::testing::Contains(hung[0].attempt));
  scheduler_.ChunkFinished(
      1, Succeeded(hung[0].attempt, Value(int64_t{10}), absl::Seconds(9)),
      now_);
  const JobStatus done = Get(job.id);
  EXPECT_EQ(IntResult(done), 100'000);
  EXPECT_EQ(done.progress.chunks_done, 10'000);
  EXPECT_EQ(scheduler_.counters().attempts_overdue, 1);
}

TEST_F(DeadlinesTest, QuarantinesAWorkerWhoseAttemptsKeepTimingOut) {
  Join(1, 4);  // takes four chunks and never answers
  Join(2, 1);
  const JobStatus job = Submit(Spec(0, 1'000'000, 10));
  ASSERT_EQ(Hang(1).size(), 4u);
  RunFor(absl::Seconds(3));
  EXPECT_TRUE(Quarantined(1));
  EXPECT_FALSE(Quarantined(2));
  const absl::Time seen_quarantined = now_;
  // It asks for more and gets nothing while quarantined.
  scheduler_.CreditsGranted(1, ExecutorKind::kThreads, 4, now_);
  const size_t before = assignments_.size();
  RunFor(absl::Seconds(5));
  for (size_t i = before; i < assignments_.size(); ++i) {
    EXPECT_EQ(assignments_[i].worker, 2u) << "a quarantined worker got work";
  }
  // After quarantine_time (10 s) it is let back, and gets chunks again.
  for (int i = 0; i < 100 && Quarantined(1); ++i) {
    RunFor(absl::Milliseconds(100));
  }
  EXPECT_FALSE(Quarantined(1));
  EXPECT_LE(now_ - seen_quarantined, absl::Seconds(10));
  EXPECT_TRUE(std::any_of(running_.begin(), running_.end(),
                          [](const Running& run) { return run.worker == 1; }));
  // One more timeout and it is out again at once...
  Hang(1);
  RunFor(absl::Seconds(3));
  EXPECT_TRUE(Quarantined(1));
  EXPECT_EQ(Get(job.id).state, JobState::kRunning);
}

TEST_F(DeadlinesTest, AWorkerFinishingAnAttemptLeavesQuarantine) {
  Join(1, 4);
  Join(2, 1);
  Submit(Spec(0, 1'000'000, 10));
  const std::vector<Running> hung = Hang(1);
  // Its last attempt is not backed up yet when it answers: worker 2 has
  // one slot, and backups go oldest first.
  for (int i = 0; i < 100 && !Quarantined(1); ++i) {
    RunFor(absl::Milliseconds(100));
  }
  ASSERT_TRUE(Quarantined(1));
  scheduler_.ChunkFinished(
      1,
      Succeeded(hung.back().attempt,
                Value(hung.back().end - hung.back().attempt.begin),
                absl::Seconds(3)),
      now_);
  EXPECT_FALSE(Quarantined(1));
}

TEST_F(DeadlinesTest, NeverQuarantinesTheLastWorkerServing) {
  Join(1, 4);
  Submit(Spec(0, 1'000'000, 10));
  // Its chunks take 10 s while the first ones took 10 ms: the work got
  // slower, nobody to blame.
  Complete(0, absl::Milliseconds(10));
  now_ += absl::Seconds(10);
  scheduler_.WorkerSeen(1, now_);
  scheduler_.Tick(now_);
  Collect();
  EXPECT_FALSE(Quarantined(1));
}

class FairShareTest : public SchedulerHarness {
 protected:
  FairShareTest()
      : SchedulerHarness(
            {.max_active_jobs = 20'000, .max_active_jobs_per_token = 20'000}) {}

  JobId SubmitBy(const std::string& submitter, const std::string& token = "") {
    JobSpec spec = Spec(0, 1);
    spec.submitted_by = token;
    absl::StatusOr<JobStatus> job =
        scheduler_.SubmitJob(Share(std::move(spec)), now_, submitter);
    EXPECT_TRUE(job.ok()) << job.status();
    return job.ok() ? job->id : 0;
  }

  // How many chunks were handed out before the first of `job`'s, finishing
  // one running chunk at a time.
  int DispatchesBefore(JobId job) {
    for (int dispatched = 0; dispatched < 100; ++dispatched) {
      if (assignments_[dispatched].chunk.attempt.job == job) return dispatched;
      if (static_cast<size_t>(dispatched) + 1 == assignments_.size()) {
        Complete(0);
      }
    }
    return 100;
  }
};

TEST_F(FairShareTest, AFloodFromOneClientDoesNotStarveTheNextClient) {
  Join(1, 4);
  for (int i = 0; i < 10'000; ++i) SubmitBy("client a");
  const JobId other = SubmitBy("client b");
  Collect();
  // Four of a's chunks hold the slots; b's goes out with the next one.
  EXPECT_LE(DispatchesBefore(other), 4);
}

TEST_F(FairShareTest, SharesByTokenWhenNoSubmitterIsNamed) {
  Join(1, 2);
  for (int i = 0; i < 1000; ++i) SubmitBy("", "alice");
  const JobId other = SubmitBy("", "bob");
  Collect();
  EXPECT_LE(DispatchesBefore(other), 2);
}

}  // namespace
}  // namespace pfor::coordinator
