#include "plugin_loader.h"

#include <dlfcn.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "pfor/kernel.h"
#include "pfor/params.h"
#include "pfor/value.h"

namespace pfor::worker {
namespace {

using ::testing::ElementsAre;

// Test plugins built by worker/plugins.cmake (absolute paths).
constexpr const char* kGood = PFOR_TEST_PLUGIN_GOOD;
constexpr const char* kFutureAbi = PFOR_TEST_PLUGIN_FUTURE_ABI;
constexpr const char* kOtherLayout = PFOR_TEST_PLUGIN_OTHER_LAYOUT;
constexpr const char* kDuplicate = PFOR_TEST_PLUGIN_DUPLICATE;
constexpr const char* kBadName = PFOR_TEST_PLUGIN_BAD_NAME;
constexpr const char* kEmpty = PFOR_TEST_PLUGIN_EMPTY;
constexpr const char* kNotAPlugin = PFOR_TEST_PLUGIN_NOT_A_PLUGIN;
constexpr const char* kWrongLibrary = PFOR_TEST_PLUGIN_WRONG_LIBRARY;

// A kernel of the host program, in its global registry.
PFOR_KERNEL({.name = "plugin_loader_test_host",
             .run = [](const ChunkContext&) -> absl::StatusOr<Value> {
               return int64_t{1};
             }});

std::vector<std::string> Names(const KernelRegistry& registry) {
  std::vector<std::string> names;
  for (const KernelDef* kernel : registry.List()) names.push_back(kernel->name);
  return names;
}

absl::StatusOr<Value> RunChunk(
    const KernelDef& kernel, int64_t begin, int64_t end, Reduction reduction,
    const std::map<std::string, ParamValue>& given = {}) {
  absl::StatusOr<Params> params =
      ValidateParams(kernel.name, kernel.params, given);
  if (!params.ok()) return params.status();
  return kernel.run({.begin = begin,
                     .end = end,
                     .job_begin = begin,
                     .job_end = end,
                     .reduction = reduction,
                     .params = &*params});
}

// A file in the test's temporary directory, removed at the end of the test.
class TempFile {
 public:
  TempFile(const std::string& name, const std::string& contents)
      : path_(absl::StrCat(testing::TempDir(), "pfor_plugin_loader_test_",
                           getpid(), "_", name)) {
    std::ofstream(path_) << contents;
  }
  ~TempFile() { std::filesystem::remove(path_); }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

TEST(PluginLoaderTest, AddsTheKernelsOfAGoodPlugin) {
  KernelRegistry registry;
  absl::StatusOr<LoadedPlugin> plugin = LoadPlugin(kGood, registry);
  ASSERT_TRUE(plugin.ok()) << plugin.status();
  EXPECT_EQ(plugin->path, kGood);
  EXPECT_EQ(plugin->name, "test_good");
  EXPECT_THAT(plugin->kernels,
              ElementsAre("plugin_square_sum", "plugin_scaled_sum"));
  EXPECT_THAT(Names(registry),
              ElementsAre("plugin_scaled_sum", "plugin_square_sum"));
  EXPECT_EQ(registry.Find("plugin_square_sum")->help,
            "Folds i*i over the chunk (test plugin).");
}

TEST(PluginLoaderTest, PluginKernelsRunAndGiveExactValues) {
  KernelRegistry registry;
  ASSERT_TRUE(LoadPlugin(kGood, registry).ok());
  const KernelDef* squares = registry.Find("plugin_square_sum");
  ASSERT_NE(squares, nullptr);
  // Sum of i*i for i in [0, 1000) is 999*1000*1999/6.
  absl::StatusOr<Value> sum = RunChunk(*squares, 0, 1000, Reduction::kSum);
  ASSERT_TRUE(sum.ok()) << sum.status();
  EXPECT_EQ(std::get<int64_t>(*sum), 332833500);
  EXPECT_EQ(std::get<int64_t>(*RunChunk(*squares, 10, 20, Reduction::kSum)),
            2185);
  EXPECT_EQ(std::get<int64_t>(*RunChunk(*squares, 0, 1000, Reduction::kCount)),
            999);
  EXPECT_EQ(std::get<int64_t>(*RunChunk(*squares, 0, 1000, Reduction::kMax)),
            998001);

  const KernelDef* scaled = registry.Find("plugin_scaled_sum");
  ASSERT_NE(scaled, nullptr);
  ASSERT_EQ(scaled->params.size(), 1u);
  EXPECT_EQ(scaled->params[0].name, "scale");
  // The default scale 0.5: 0.5 * (0 + 1 + ... + 9).
  absl::StatusOr<Value> half = RunChunk(*scaled, 0, 10, Reduction::kSum);
  ASSERT_TRUE(half.ok()) << half.status();
  ASSERT_TRUE(std::holds_alternative<ExactSum>(*half));
  EXPECT_EQ(FormatValue(*half), "22.5");
  // 0.1 * i is inexact per index; the exact sum still rounds once.
  absl::StatusOr<Value> tenth =
      RunChunk(*scaled, 0, 4, Reduction::kSum, {{"scale", 0.1}});
  ASSERT_TRUE(tenth.ok()) << tenth.status();
  ExactSum expected;
  for (int i = 0; i < 4; ++i) expected.Add(0.1 * i);
  EXPECT_EQ(std::get<ExactSum>(*tenth).Round(), expected.Round());
}

TEST(PluginLoaderTest, KeepsPluginKernelsOutOfTheHostsGlobalRegistry) {
  // This test exports its symbols (ENABLE_EXPORTS), so a plugin that bound
  // to the host's kernel API would register here at load time.
  ASSERT_NE(KernelRegistry::Global().Find("plugin_loader_test_host"), nullptr);
  ASSERT_NE(dlsym(RTLD_DEFAULT,
                  "_ZN4pfor8internal19RegisterKernelOrDieENS_9KernelDefE"),
            nullptr);
  KernelRegistry registry;
  ASSERT_TRUE(LoadPlugin(kGood, registry).ok());
  ASSERT_TRUE(LoadPlugin(kDuplicate, registry).status().code() ==
              absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(KernelRegistry::Global().Find("plugin_square_sum"), nullptr);
  EXPECT_EQ(KernelRegistry::Global().Find("plugin_fresh"), nullptr);
  EXPECT_EQ(KernelRegistry::Global().List().size(), 1u);
}

TEST(PluginLoaderTest, LoadsTheSamePluginIntoSeveralRegistries) {
  KernelRegistry first;
  KernelRegistry second;
  ASSERT_TRUE(LoadPlugin(kGood, first).ok());
  absl::StatusOr<LoadedPlugin> again = LoadPlugin(kGood, second);
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_THAT(Names(second),
              ElementsAre("plugin_scaled_sum", "plugin_square_sum"));
  EXPECT_EQ(std::get<int64_t>(*RunChunk(*second.Find("plugin_square_sum"), 1, 4,
                                        Reduction::kSum)),
            14);
}

TEST(PluginLoaderTest, RefusesToLoadAPluginTwiceIntoOneRegistry) {
  KernelRegistry registry;
  ASSERT_TRUE(LoadPlugin(kGood, registry).ok());
  absl::StatusOr<LoadedPlugin> again = LoadPlugin(kGood, registry);
  EXPECT_EQ(again.status().code(), absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(again.status().message(),
            absl::StrCat("plugin ", kGood,
                         " (test_good): kernel plugin_square_sum is already "
                         "registered; built-in kernels and every plugin share "
                         "one set of names: rename the kernel in the plugin, "
                         "or load each plugin once"));
  // The first load's kernels still run: its library was not unloaded.
  EXPECT_EQ(std::get<int64_t>(*RunChunk(*registry.Find("plugin_square_sum"), 1,
                                        4, Reduction::kSum)),
            14);
}

TEST(PluginLoaderTest, RefusesAKernelNameAlreadyTakenAndAddsNoneOfItsKernels) {
  KernelRegistry registry;
  ASSERT_TRUE(LoadPlugin(kGood, registry).ok());
  absl::StatusOr<LoadedPlugin> plugin = LoadPlugin(kDuplicate, registry);
  EXPECT_EQ(plugin.status().code(), absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(plugin.status().message(),
            absl::StrCat("plugin ", kDuplicate,
                         " (test_duplicate): kernel plugin_square_sum is "
                         "already registered; built-in kernels and every "
                         "plugin share one set of names: rename the kernel in "
                         "the plugin, or load each plugin once"));
  EXPECT_THAT(Names(registry),
              ElementsAre("plugin_scaled_sum", "plugin_square_sum"));
  EXPECT_EQ(std::get<int64_t>(*RunChunk(*registry.Find("plugin_square_sum"), 1,
                                        4, Reduction::kSum)),
            14);
}

TEST(PluginLoaderTest, RefusesANameTakenByABuiltInKernel) {
  KernelRegistry registry;
  ASSERT_TRUE(
      registry
          .Add({.name = "plugin_fresh",
                .run = [](const ChunkContext&) -> absl::StatusOr<Value> {
                  return int64_t{7};
                }})
          .ok());
  absl::StatusOr<LoadedPlugin> plugin = LoadPlugin(kDuplicate, registry);
  EXPECT_EQ(plugin.status().code(), absl::StatusCode::kAlreadyExists);
  EXPECT_THAT(
      std::string(plugin.status().message()),
      ::testing::HasSubstr("kernel plugin_fresh is already registered"));
  EXPECT_THAT(Names(registry), ElementsAre("plugin_fresh"));
}

TEST(PluginLoaderTest, KeepsWorkingAfterFailedLoads) {
  KernelRegistry registry;
  ASSERT_FALSE(LoadPlugin(kFutureAbi, registry).ok());
  ASSERT_FALSE(LoadPlugin(kEmpty, registry).ok());
  absl::StatusOr<LoadedPlugin> plugin = LoadPlugin(kDuplicate, registry);
  ASSERT_TRUE(plugin.ok()) << plugin.status();
  EXPECT_THAT(Names(registry),
              ElementsAre("plugin_fresh", "plugin_square_sum"));
  EXPECT_EQ(std::get<int64_t>(*RunChunk(*registry.Find("plugin_square_sum"), 0,
                                        1, Reduction::kSum)),
            -1);
}

TEST(PluginLoaderTest, RefusesAPluginBuiltAgainstAnotherKernelApi) {
  KernelRegistry registry;
  absl::StatusOr<LoadedPlugin> plugin = LoadPlugin(kFutureAbi, registry);
  EXPECT_EQ(plugin.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(plugin.status().message(),
            absl::StrCat("plugin ", kFutureAbi, ": built against kernel API ",
                         kKernelAbiVersion + 1, ", this worker has ",
                         kKernelAbiVersion,
                         "; rebuild the plugin against this pfor"));
  EXPECT_TRUE(registry.List().empty());
}

TEST(PluginLoaderTest, RefusesAPluginWhoseTypesHaveAnotherLayout) {
  KernelRegistry registry;
  absl::StatusOr<LoadedPlugin> plugin = LoadPlugin(kOtherLayout, registry);
  EXPECT_EQ(plugin.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(plugin.status().message(),
            absl::StrCat("plugin ", kOtherLayout, ": built against kernel API ",
                         kKernelAbiVersion,
                         " but with another layout of its types (another "
                         "compiler, standard library or pfor revision); "
                         "rebuild the plugin against this pfor with the "
                         "compiler that built this worker"));
  EXPECT_TRUE(registry.List().empty());
}

TEST(PluginLoaderTest, RefusesASharedLibraryThatIsNotAPlugin) {
  KernelRegistry registry;
  absl::StatusOr<LoadedPlugin> plugin = LoadPlugin(kNotAPlugin, registry);
  EXPECT_EQ(plugin.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(plugin.status().message(),
            absl::StrCat("plugin ", kNotAPlugin,
                         ": not a pfor plugin (it has no "
                         "pfor_plugin_abi_version symbol); write "
                         "PFOR_PLUGIN(\"name\") in one of its source files "
                         "and link it against pfor_plugin_api"));
}

TEST(PluginLoaderTest, RefusesAPluginLinkedAgainstTheProgramsKernelApi) {
  KernelRegistry registry;
  absl::StatusOr<LoadedPlugin> plugin = LoadPlugin(kWrongLibrary, registry);
  EXPECT_EQ(plugin.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(
      plugin.status().message(),
      absl::StrCat("plugin ", kWrongLibrary,
                   ": needs a symbol nothing provides (dlopen: ", kWrongLibrary,
                   ": undefined symbol: "
                   "_ZN4pfor8internal13PluginKernelsEv); link the "
                   "plugin against pfor_plugin_api (not "
                   "pfor_kernel_api) and every library it uses"));
  EXPECT_TRUE(registry.List().empty());
  EXPECT_EQ(KernelRegistry::Global().Find("plugin_square_sum"), nullptr);
}

TEST(PluginLoaderTest, RefusesAPluginWithoutKernels) {
  KernelRegistry registry;
  absl::StatusOr<LoadedPlugin> plugin = LoadPlugin(kEmpty, registry);
  EXPECT_EQ(plugin.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(plugin.status().message(),
            absl::StrCat("plugin ", kEmpty,
                         " (test_empty): registers no kernels; define them "
                         "with PFOR_KERNEL in the plugin's own source files "
                         "(objects of a static library it links are dropped "
                         "unless linked whole)"));
}

TEST(PluginLoaderTest, RefusesABadKernelName) {
  KernelRegistry registry;
  absl::StatusOr<LoadedPlugin> plugin = LoadPlugin(kBadName, registry);
  EXPECT_EQ(plugin.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(plugin.status().message(),
            absl::StrCat("plugin ", kBadName,
                         " (test_bad_name): kernel name 'Plugin-Kernel' is not "
                         "valid; use 1 to 64 lowercase letters, digits and "
                         "'_', starting with a letter; fix the kernel's "
                         "definition in the plugin"));
  EXPECT_TRUE(registry.List().empty());
}

TEST(PluginLoaderTest, ReportsAMissingFile) {
  KernelRegistry registry;
  const std::string path = "/nonexistent/pfor/libmissing.so";
  absl::StatusOr<LoadedPlugin> plugin = LoadPlugin(path, registry);
  EXPECT_EQ(plugin.status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(plugin.status().message(),
            "plugin /nonexistent/pfor/libmissing.so: no such file; pass the "
            "path of the plugin's .so file, such as build/libmine.so");
}

TEST(PluginLoaderTest, ReportsATextFileAsNotASharedLibrary) {
  KernelRegistry registry;
  TempFile text("notes.txt",
                "These are notes, not a shared library. They are long enough "
                "to fill an ELF header, so dlopen reads them as one.\n");
  absl::StatusOr<LoadedPlugin> plugin = LoadPlugin(text.path(), registry);
  EXPECT_EQ(plugin.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(plugin.status().message(),
            absl::StrCat("plugin ", text.path(),
                         ": not a shared library "
                         "(dlopen: ",
                         text.path(),
                         ": invalid ELF header); pass the .so file of a "
                         "plugin built with PFOR_PLUGIN"));
}

TEST(PluginLoaderTest, ReportsAnEmptyFileAsNotASharedLibrary) {
  KernelRegistry registry;
  TempFile empty("empty.so", "");
  absl::StatusOr<LoadedPlugin> plugin = LoadPlugin(empty.path(), registry);
  EXPECT_EQ(plugin.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(
      std::string(plugin.status().message()),
      ::testing::StartsWith(absl::StrCat("plugin ", empty.path(),
                                         ": not a shared library (dlopen: ")));
}

TEST(PluginLoaderTest, ReportsADirectory) {
  KernelRegistry registry;
  absl::StatusOr<LoadedPlugin> plugin = LoadPlugin("/", registry);
  EXPECT_EQ(plugin.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(plugin.status().message(),
            "plugin /: not a regular file; pass the path of the plugin's .so "
            "file");
}

TEST(PluginLoaderTest, ReportsAnEmptyPath) {
  KernelRegistry registry;
  EXPECT_EQ(LoadPlugin("", registry).status().message(),
            "plugin path is empty; pass the path of a plugin's .so file");
}

TEST(PluginLoaderTest, TakesARelativePathFromTheCurrentDirectory) {
  KernelRegistry registry;
  const std::string relative =
      std::filesystem::relative(kGood, std::filesystem::current_path());
  ASSERT_FALSE(relative.empty());
  ASSERT_NE(relative[0], '/');
  absl::StatusOr<LoadedPlugin> plugin = LoadPlugin(relative, registry);
  ASSERT_TRUE(plugin.ok()) << plugin.status();
  EXPECT_EQ(std::filesystem::path(plugin->path), std::filesystem::path(kGood));
}

TEST(PluginLoaderTest, NeverSearchesTheLibraryPath) {
  // dlopen("libc.so.6") would find the C library; a plugin path is a file.
  ASSERT_FALSE(std::filesystem::exists("libc.so.6"));
  KernelRegistry registry;
  EXPECT_EQ(LoadPlugin("libc.so.6", registry).status().code(),
            absl::StatusCode::kNotFound);
}

}  // namespace
}  // namespace pfor::worker
