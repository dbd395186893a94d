#include "worker_registry.h"

#include <climits>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace pfor::coordinator {
namespace {

using ::testing::AllOf;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

KernelInfo Kernel(const std::string& name,
                  std::vector<ExecutorKind> executors = {
                      ExecutorKind::kThreads}) {
  KernelInfo kernel;
  kernel.name = name;
  kernel.executors = std::move(executors);
  return kernel;
}

Hello WithSlots(std::array<int32_t, kExecutorKinds> slots,
                std::vector<KernelInfo> kernels = {Kernel("ones")}) {
  Hello hello;
  hello.name = "w";
  hello.slots = slots;
  hello.kernels = std::move(kernels);
  return hello;
}

std::string Refusal(Hello hello) {
  WorkerRegistry registry;
  const absl::Status status =
      registry.Add(1, std::move(hello), "peer", absl::UnixEpoch()).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  return std::string(status.message());
}

TEST(WorkerRegistryTest, RefusesMalformedHellos) {
  EXPECT_THAT(Refusal(WithSlots({0, 0, 0})), HasSubstr("no slots"));
  EXPECT_THAT(Refusal(WithSlots({5000, 0, 0})), HasSubstr("at most 4096"));
  EXPECT_THAT(Refusal(WithSlots({-1, 2, 0})), HasSubstr("-1 slots"));
  EXPECT_THAT(Refusal(WithSlots({1, 0, 0}, {Kernel("a"), Kernel("a")})),
              HasSubstr("kernel a twice"));
  KernelInfo unnamed = Kernel("a");
  unnamed.params.push_back({});
  EXPECT_THAT(Refusal(WithSlots({1, 0, 0}, {unnamed})),
              HasSubstr("a parameter has no name"));
  KernelInfo twice = Kernel("a");
  twice.params = {{.name = "x"}, {.name = "x"}};
  EXPECT_THAT(Refusal(WithSlots({1, 0, 0}, {twice})),
              HasSubstr("parameter x is declared twice"));
  Hello long_name = WithSlots({1, 0, 0});
  long_name.name = std::string(300, 'n');
  EXPECT_THAT(Refusal(long_name), HasSubstr("too large"));
}

TEST(WorkerRegistryTest, RefusesAbsurdSlotCountsWithoutOverflowing) {
  EXPECT_THAT(Refusal(WithSlots({INT32_MAX, INT32_MAX, 0})),
              HasSubstr("2147483647 slots of one executor; at most 4096"));
  WorkerStatus listed;
  listed.slots = {INT32_MAX, INT32_MAX, 0};
  EXPECT_EQ(listed.total_slots(), 2 * int64_t{INT32_MAX});
}

TEST(WorkerRegistryTest, RefusesAnIdInUse) {
  WorkerRegistry registry;
  ASSERT_TRUE(
      registry.Add(1, WithSlots({1, 0, 0}), "p", absl::UnixEpoch()).ok());
  EXPECT_EQ(registry.Add(1, WithSlots({1, 0, 0}), "p", absl::UnixEpoch())
                .status()
                .code(),
            absl::StatusCode::kFailedPrecondition);
}

TEST(WorkerRegistryTest, CapsCreditsAndIgnoresThoseOfExecutorsWithoutSlots) {
  WorkerRegistry registry;
  ASSERT_TRUE(
      registry.Add(1, WithSlots({2, 0, 0}), "p", absl::UnixEpoch()).ok());
  ConnectedWorker& worker = *registry.Find(1);
  registry.Grant(worker, ExecutorKind::kProcesses, 5);
  EXPECT_FALSE(registry.HasCredit(worker, ExecutorKind::kProcesses));
  EXPECT_TRUE(registry.hungry().empty());
  registry.Grant(worker, ExecutorKind::kThreads, 100000);
  EXPECT_EQ(worker.credits[0], 257 * 2 + 64);
  EXPECT_THAT(registry.hungry(), ElementsAre(1));
  for (int i = 0; i < 257 * 2 + 64; ++i) {
    registry.Spend(worker, ExecutorKind::kThreads);
  }
  EXPECT_TRUE(registry.hungry().empty());
  registry.Grant(worker, ExecutorKind::kThreads, 1);
  registry.Drain(worker);
  EXPECT_TRUE(registry.hungry().empty());
  EXPECT_EQ(worker.credits[0], 0);
  registry.Grant(worker, ExecutorKind::kThreads, 1);
  EXPECT_FALSE(registry.HasCredit(worker, ExecutorKind::kThreads));
}

TEST(WorkerRegistryTest, CountsSlotsPerKernelAndExecutor) {
  WorkerRegistry registry;
  ASSERT_TRUE(
      registry
          .Add(1,
               WithSlots({2, 3, 0}, {Kernel("a", {ExecutorKind::kThreads,
                                                  ExecutorKind::kProcesses}),
                                     Kernel("b")}),
               "p", absl::UnixEpoch())
          .ok());
  ASSERT_TRUE(
      registry
          .Add(2, WithSlots({4, 0, 1}, {Kernel("a")}), "p", absl::UnixEpoch())
          .ok());
  ASSERT_EQ(registry.DeclarationsOf("a").size(), 1u);
  const KernelId a = registry.DeclarationsOf("a")[0];
  const KernelId b = registry.DeclarationsOf("b").at(0);
  EXPECT_TRUE(registry.DeclarationsOf("c").empty());
  EXPECT_EQ(registry.SlotsFor(ExecutorKind::kThreads, a), 6);
  EXPECT_EQ(registry.SlotsFor(ExecutorKind::kProcesses, a), 3);
  EXPECT_EQ(registry.SlotsFor(ExecutorKind::kThreads, b), 2);
  EXPECT_EQ(registry.SlotsFor(ExecutorKind::kCommand, a), 1);
  EXPECT_TRUE(registry.CanRun(*registry.Find(1), ExecutorKind::kProcesses, a));
  EXPECT_FALSE(registry.CanRun(*registry.Find(1), ExecutorKind::kProcesses, b));
  EXPECT_FALSE(registry.CanRun(*registry.Find(2), ExecutorKind::kThreads, b));
  EXPECT_TRUE(registry.CanRun(*registry.Find(2), ExecutorKind::kCommand, b));
  // A draining worker's slots no longer count; a departed one's neither.
  registry.Drain(*registry.Find(2));
  EXPECT_EQ(registry.SlotsFor(ExecutorKind::kThreads, a), 2);
  registry.Remove(2);
  EXPECT_EQ(registry.SlotsFor(ExecutorKind::kThreads, a), 2);
  registry.Remove(1);
  EXPECT_EQ(registry.SlotsFor(ExecutorKind::kThreads, a), 0);
  EXPECT_TRUE(registry.empty());
  EXPECT_TRUE(registry.DeclarationsOf("a").empty());
  EXPECT_EQ(registry.Declaration(a), nullptr);
}

TEST(WorkerRegistryTest, ExplainsWhyNoWorkerCanRunAJob) {
  WorkerRegistry registry;
  JobSpec spec;
  spec.kernel = "a";
  auto unrunnable = [&] {
    return registry.Unrunnable(spec, registry.DeclarationsOf(spec.kernel), "");
  };
  EXPECT_EQ(unrunnable(), "no worker is connected");
  ASSERT_TRUE(
      registry
          .Add(1, WithSlots({1, 0, 0}, {Kernel("b")}), "p", absl::UnixEpoch())
          .ok());
  EXPECT_THAT(unrunnable(), HasSubstr("offered: b"));
  spec.kernel = "b";
  EXPECT_EQ(unrunnable(), "");
  spec.executor = ExecutorKind::kProcesses;
  EXPECT_THAT(unrunnable(), HasSubstr("--processes N"));
  spec.executor = ExecutorKind::kCommand;
  EXPECT_THAT(unrunnable(), HasSubstr("--allow-commands"));
  spec.executor = ExecutorKind::kThreads;
  EXPECT_THAT(registry.Unrunnable(spec, {}, "kernel b has no parameter 'x'"),
              AllOf(HasSubstr("no connected worker's kernel b takes the job's "
                              "parameters"),
                    HasSubstr("no parameter 'x'")));
}

TEST(WorkerRegistryTest, KeepsEachWorkersOwnDeclarationOfAKernel) {
  WorkerRegistry registry;
  KernelInfo sleep = Kernel("sleep");
  sleep.params = {{.name = "us",
                   .type = ParamType::kInt,
                   .default_value = ParamValue(int64_t{1000})}};
  KernelInfo other = Kernel("sleep");  // no parameters at all
  KernelInfo reworded = sleep;
  reworded.help = "other words, same parameters";

  absl::StatusOr<std::vector<KernelId>> first =
      registry.Add(1, WithSlots({1, 0, 0}, {other}), "p", absl::UnixEpoch());
  ASSERT_TRUE(first.ok());
  ASSERT_EQ(first->size(), 1u);
  absl::StatusOr<std::vector<KernelId>> second =
      registry.Add(2, WithSlots({2, 0, 0}, {sleep}), "p", absl::UnixEpoch());
  ASSERT_TRUE(second.ok());
  ASSERT_EQ(second->size(), 1u);
  EXPECT_NE((*first)[0], (*second)[0]);
  // The same parameters are the same declaration, whatever the help says.
  absl::StatusOr<std::vector<KernelId>> third =
      registry.Add(3, WithSlots({4, 0, 0}, {reworded}), "p", absl::UnixEpoch());
  ASSERT_TRUE(third.ok());
  EXPECT_TRUE(third->empty());

  EXPECT_THAT(registry.DeclarationsOf("sleep"),
              ElementsAre((*first)[0], (*second)[0]));
  EXPECT_TRUE(registry.Declaration((*first)[0])->params.empty());
  EXPECT_EQ(registry.Declaration((*second)[0])->params.size(), 1u);
  EXPECT_EQ(registry.SlotsFor(ExecutorKind::kThreads, (*first)[0]), 1);
  EXPECT_EQ(registry.SlotsFor(ExecutorKind::kThreads, (*second)[0]), 6);
  EXPECT_FALSE(
      registry.CanRun(*registry.Find(1), ExecutorKind::kThreads, (*second)[0]));
  EXPECT_TRUE(
      registry.CanRun(*registry.Find(3), ExecutorKind::kThreads, (*second)[0]));
  // A declaration no worker announces any more is forgotten.
  registry.Remove(1);
  EXPECT_EQ(registry.Declaration((*first)[0]), nullptr);
  EXPECT_THAT(registry.DeclarationsOf("sleep"), ElementsAre((*second)[0]));
}

TEST(WorkerRegistryTest, RemembersTheNamesOfDepartedWorkers) {
  WorkerRegistry registry;
  Hello hello = WithSlots({1, 0, 0});
  hello.name = "host-1";
  ASSERT_TRUE(registry.Add(7, hello, "p", absl::UnixEpoch()).ok());
  EXPECT_EQ(registry.NameOf(7), "host-1");
  registry.Remove(7);
  EXPECT_EQ(registry.NameOf(7), "host-1");
  EXPECT_EQ(registry.NameOf(8), "worker 8");
  EXPECT_EQ(registry.NameOf(0), "");
}

}  // namespace
}  // namespace pfor::coordinator
