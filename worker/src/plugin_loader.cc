#include "plugin_loader.h"

#include <dlfcn.h>

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <system_error>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace pfor::worker {
namespace {

// The entry points PFOR_PLUGIN defines (pfor/kernel.h). Only the version is
// read before the version is known to match, and it is a plain C int.
using AbiVersionFn = int (*)();
using AbiLayoutFn = uint64_t (*)();
using NameFn = const char* (*)();
using KernelsFn = const std::vector<KernelDef>* (*)();

// Unloads the library unless released.
class LibraryHandle {
 public:
  explicit LibraryHandle(void* handle) : handle_(handle) {}
  LibraryHandle(const LibraryHandle&) = delete;
  LibraryHandle& operator=(const LibraryHandle&) = delete;
  ~LibraryHandle() {
    if (handle_ != nullptr) dlclose(handle_);
  }

  template <typename Fn>
  Fn Symbol(const char* name) const {
    return reinterpret_cast<Fn>(dlsym(handle_, name));
  }
  bool loaded() const { return handle_ != nullptr; }
  void Release() { handle_ = nullptr; }

 private:
  void* handle_;
};

std::string OneLine(std::string text) {
  std::replace(text.begin(), text.end(), '\n', ' ');
  return text;
}

// Why dlopen failed, and what to do about it.
absl::Status LoadError(const std::string& where) {
  const char* reason = dlerror();
  const std::string text = OneLine(reason != nullptr ? reason : "no reason");
  if (absl::StrContains(text, "invalid ELF header") ||
      absl::StrContains(text, "file too short")) {
    return absl::InvalidArgumentError(absl::StrCat(
        where, ": not a shared library (dlopen: ", text,
        "); pass the .so file of a plugin built with PFOR_PLUGIN"));
  }
  if (absl::StrContains(text, "undefined symbol")) {
    return absl::InvalidArgumentError(absl::StrCat(
        where, ": needs a symbol nothing provides (dlopen: ", text,
        "); link the plugin against pfor_plugin_api (not pfor_kernel_api) "
        "and every library it uses"));
  }
  return absl::InvalidArgumentError(absl::StrCat(
      where, ": cannot be loaded (dlopen: ", text,
      "); pass a readable shared library built for this machine with "
      "PFOR_PLUGIN"));
}

absl::Status MissingEntryPoint(const std::string& where, const char* symbol) {
  return absl::InvalidArgumentError(
      absl::StrCat(where, ": incomplete pfor plugin (no ", symbol,
                   " symbol); define its entry points with PFOR_PLUGIN, not "
                   "by hand"));
}

}  // namespace

absl::StatusOr<LoadedPlugin> LoadPlugin(const std::string& path,
                                        KernelRegistry& registry) {
  if (path.empty()) {
    return absl::InvalidArgumentError(
        "plugin path is empty; pass the path of a plugin's .so file");
  }
  const std::string where = absl::StrCat("plugin ", path);
  std::error_code error;
  const std::filesystem::path absolute = std::filesystem::absolute(path, error);
  if (error) {
    return absl::InvalidArgumentError(
        absl::StrCat(where, ": cannot resolve the path (", error.message(),
                     "); pass an absolute path"));
  }
  const std::filesystem::file_status status =
      std::filesystem::status(absolute, error);
  if (status.type() == std::filesystem::file_type::not_found) {
    return absl::NotFoundError(absl::StrCat(
        where,
        ": no such file; pass the path of the plugin's .so file, such "
        "as build/libmine.so"));
  }
  if (error) {
    return absl::InvalidArgumentError(
        absl::StrCat(where, ": cannot read it (", error.message(),
                     "); check the path and its permissions"));
  }
  if (!std::filesystem::is_regular_file(status)) {
    return absl::InvalidArgumentError(absl::StrCat(
        where, ": not a regular file; pass the path of the plugin's .so file"));
  }

  // RTLD_LOCAL: a plugin's symbols never resolve another plugin's references.
  // Its static initializers run here; in a plugin they only collect kernel
  // definitions (pfor_plugin_api), so nothing of it touches this process
  // before its version is checked.
  LibraryHandle library(dlopen(absolute.c_str(), RTLD_NOW | RTLD_LOCAL));
  if (!library.loaded()) return LoadError(where);

  const auto abi_version =
      library.Symbol<AbiVersionFn>("pfor_plugin_abi_version");
  if (abi_version == nullptr) {
    return absl::InvalidArgumentError(absl::StrCat(
        where,
        ": not a pfor plugin (it has no pfor_plugin_abi_version symbol); "
        "write PFOR_PLUGIN(\"name\") in one of its source files and link it "
        "against pfor_plugin_api"));
  }
  const int version = abi_version();
  if (version != kKernelAbiVersion) {
    return absl::FailedPreconditionError(absl::StrCat(
        where, ": built against kernel API ", version, ", this worker has ",
        kKernelAbiVersion, "; rebuild the plugin against this pfor"));
  }
  const auto abi_layout = library.Symbol<AbiLayoutFn>("pfor_plugin_abi_layout");
  if (abi_layout == nullptr) {
    return MissingEntryPoint(where, "pfor_plugin_abi_layout");
  }
  if (abi_layout() != internal::KernelAbiLayout()) {
    return absl::FailedPreconditionError(absl::StrCat(
        where, ": built against kernel API ", version,
        " but with another layout of its types (another compiler, standard "
        "library or pfor revision); rebuild the plugin against this pfor "
        "with the compiler that built this worker"));
  }
  const auto name_fn = library.Symbol<NameFn>("pfor_plugin_name");
  if (name_fn == nullptr) return MissingEntryPoint(where, "pfor_plugin_name");
  const auto kernels_fn = library.Symbol<KernelsFn>("pfor_plugin_kernels");
  if (kernels_fn == nullptr) {
    return MissingEntryPoint(where, "pfor_plugin_kernels");
  }

  LoadedPlugin loaded;
  loaded.path = absolute.string();
  const char* name = name_fn();
  loaded.name = OneLine(name != nullptr ? name : "");
  const std::string named = absl::StrCat(where, " (", loaded.name, ")");
  const std::vector<KernelDef>* kernels = kernels_fn();
  if (kernels == nullptr || kernels->empty()) {
    return absl::InvalidArgumentError(absl::StrCat(
        named,
        ": registers no kernels; define them with PFOR_KERNEL in the "
        "plugin's own source files (objects of a static library it links "
        "are dropped unless linked whole)"));
  }
  for (const KernelDef& kernel : *kernels)
    loaded.kernels.push_back(kernel.name);
  // Copies: the plugin's own list dies with it, the registry's copies are
  // backed by its code, which stays loaded once this succeeds. On failure
  // the copies are gone before the library is unloaded.
  const absl::Status added =
      registry.AddAll(std::vector<KernelDef>(kernels->begin(), kernels->end()));
  if (!added.ok()) {
    const char* fix =
        added.code() == absl::StatusCode::kAlreadyExists
            ? "built-in kernels and every plugin share one set of names: "
              "rename the kernel in the plugin, or load each plugin once"
            : "fix the kernel's definition in the plugin";
    return absl::Status(added.code(),
                        absl::StrCat(named, ": ", added.message(), "; ", fix));
  }
  library.Release();
  return loaded;
}

}  // namespace pfor::worker
