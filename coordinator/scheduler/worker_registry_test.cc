#include "worker_registry.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace pfor::coordinator {
namespace {

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
      registry.Add(1, std::move(hello), "peer", absl::UnixEpoch());
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

TEST(WorkerRegistryTest, RefusesAnIdInUse) {
  WorkerRegistry registry;
  ASSERT_TRUE(
      registry.Add(1, WithSlots({1, 0, 0}), "p", absl::UnixEpoch()).ok());
  EXPECT_EQ(
      registry.Add(1, WithSlots({1, 0, 0}), "p", absl::UnixEpoch()).code(),
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
  const KernelId a = *registry.KernelIdOf("a");
  const KernelId b = *registry.KernelIdOf("b");
  EXPECT_FALSE(registry.KernelIdOf("c").has_value());
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
  EXPECT_EQ(registry.FindKernel("a"), nullptr);
}

TEST(WorkerRegistryTest, ExplainsWhyNoWorkerCanRunAJob) {
  WorkerRegistry registry;
  JobSpec spec;
  spec.kernel = "a";
  EXPECT_EQ(registry.Unrunnable(spec), "no worker is connected");
  ASSERT_TRUE(
      registry
          .Add(1, WithSlots({1, 0, 0}, {Kernel("b")}), "p", absl::UnixEpoch())
          .ok());
  EXPECT_THAT(registry.Unrunnable(spec), HasSubstr("offered: b"));
  spec.kernel = "b";
  EXPECT_EQ(registry.Unrunnable(spec), "");
  spec.executor = ExecutorKind::kProcesses;
  EXPECT_THAT(registry.Unrunnable(spec), HasSubstr("--processes N"));
  spec.executor = ExecutorKind::kCommand;
  EXPECT_THAT(registry.Unrunnable(spec), HasSubstr("--allow-commands"));
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
