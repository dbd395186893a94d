// Workers that declare a kernel of one name differently: each gets the job's
// definition made for its own declaration, and only workers whose
// declaration takes a job's parameters run its chunks.
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "scheduler.h"
#include "scheduler_harness.h"

namespace pfor::coordinator {
namespace {

using ::testing::HasSubstr;
using ::testing::SizeIs;

using SchedulerKernelsTest = SchedulerHarness;

// sleep as the built-in declares it: `us`, 1000 by default.
KernelInfo Sleep() {
  KernelInfo kernel = Kernel("sleep");
  kernel.params = {{.name = "us",
                    .type = ParamType::kInt,
                    .default_value = ParamValue(int64_t{1000})}};
  return kernel;
}

// sleep as another build (or a rogue peer) declares it: no parameters.
KernelInfo BareSleep() { return Kernel("sleep"); }

JobSpec SleepJob(std::map<std::string, ParamValue> params = {}) {
  JobSpec spec = Spec(0, 40, 1, "sleep");
  spec.params = std::move(params);
  return spec;
}

TEST_F(SchedulerKernelsTest, SendsEachWorkerTheDefinitionOfItsOwnDeclaration) {
  // The first worker to join declares sleep without `us`: a job checked
  // against its declaration alone has no `us`, which the real kernel reads.
  JoinDeclaring(1, {2, 0, 0}, {BareSleep()});
  JoinDeclaring(2, {2, 0, 0}, {Sleep()});
  Submit(SleepJob());
  int seen = 0;
  for (const Commands::Assign& assign : assignments_) {
    if (assign.definition == nullptr) continue;
    seen += 1;
    if (assign.worker == 2) {
      EXPECT_TRUE(assign.definition->params.Has("us"));
      EXPECT_EQ(assign.definition->params.Int("us"), 1000);
    } else {
      EXPECT_FALSE(assign.definition->params.Has("us"));
    }
  }
  EXPECT_EQ(seen, 2);
  RunAll();
}

TEST_F(SchedulerKernelsTest, RunsAJobOnlyOnWorkersWhoseKernelTakesItsParams) {
  JoinDeclaring(1, {4, 0, 0}, {BareSleep()});
  JoinDeclaring(2, {1, 0, 0}, {Sleep()});
  const JobStatus job = Submit(SleepJob({{"us", int64_t{5}}}));
  ASSERT_THAT(running_, SizeIs(1));
  while (!running_.empty()) {
    EXPECT_EQ(running_[0].worker, 2u);
    Complete(0);
  }
  EXPECT_EQ(IntResult(Get(job.id)), 40);
}

TEST_F(SchedulerKernelsTest, RefusesParametersNoConnectedDeclarationTakes) {
  JoinDeclaring(1, {1, 0, 0}, {BareSleep()});
  const absl::Status status = SubmitStatus(SleepJob({{"us", int64_t{5}}}));
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(status.message()), HasSubstr("no parameter 'us'"));
}

TEST_F(SchedulerKernelsTest, JobWaitsWhenOnlyRefusingDeclarationsRemain) {
  JoinDeclaring(1, {1, 0, 0}, {Sleep()});
  const JobStatus job = Submit(SleepJob({{"us", int64_t{5}}}));
  running_.clear();
  scheduler_.WorkerLost(1, "gone", now_);
  JoinDeclaring(2, {1, 0, 0}, {BareSleep()});
  EXPECT_TRUE(running_.empty());
  const JobStatus waiting = Get(job.id);
  EXPECT_FALSE(waiting.finished());
  EXPECT_THAT(waiting.waiting_reason,
              HasSubstr("no connected worker's kernel sleep takes the job's "
                        "parameters"));
  // A worker of the right declaration comes back: the job runs there.
  JoinDeclaring(3, {2, 0, 0}, {Sleep()});
  RunAll();
  EXPECT_EQ(IntResult(Get(job.id)), 40);
}

TEST_F(SchedulerKernelsTest,
       ChecksQueuedJobsAgainstEachDeclarationThatAppears) {
  const JobStatus job = Submit(SleepJob({{"us", int64_t{5}}}));
  JoinDeclaring(1, {1, 0, 0}, {Sleep()});
  JoinDeclaring(2, {1, 0, 0}, {BareSleep()});
  RunAll();
  const JobStatus done = Get(job.id);
  EXPECT_EQ(IntResult(done), 40);
  for (const Commands::Assign& assign : assignments_) {
    EXPECT_EQ(assign.worker, 1u);
  }
}

}  // namespace
}  // namespace pfor::coordinator
