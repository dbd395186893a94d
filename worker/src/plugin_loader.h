// Kernel plugins: shared libraries whose kernels a worker serves beside its
// built-in ones (`pfor-worker --plugin path/libmine.so`, repeatable).
//
// A plugin is a MODULE library linked against pfor_plugin_api, with one
// PFOR_PLUGIN("name") and ordinary PFOR_KERNEL definitions (pfor/kernel.h,
// docs/plugins.md). Loading it checks the kernel API it was built against
// before anything of it is used, then adds its kernels to a registry.
#ifndef PFOR_WORKER_PLUGIN_LOADER_H_
#define PFOR_WORKER_PLUGIN_LOADER_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "pfor/kernel.h"

namespace pfor::worker {

struct LoadedPlugin {
  // The absolute path it was loaded from.
  std::string path;
  // As given to PFOR_PLUGIN.
  std::string name;
  // The kernels it added, in the order the plugin defined them.
  std::vector<std::string> kernels;
};

// Loads the plugin at `path` and adds all of its kernels to `registry`, or
// none of them. A relative path is taken from the current directory; the
// library search path is never searched. Errors are one line that names the
// file and says what to do:
//   NOT_FOUND            no such file;
//   INVALID_ARGUMENT     not a regular file, not a loadable shared library
//                        (with dlopen's reason), not a pfor plugin (no
//                        PFOR_PLUGIN), no kernels, a bad kernel definition;
//   FAILED_PRECONDITION  built against another kernel API version, or with
//                        another layout of its types (compiler, library);
//   ALREADY_EXISTS       a kernel name the registry already has, or one the
//                        plugin defines twice.
// A loaded plugin stays loaded for the life of the process, since its code
// backs the kernels; one that fails is unloaded again. Loading the same file
// again maps it once and adds its kernels to another registry (into the same
// registry it fails with ALREADY_EXISTS).
//
// Runs the plugin's static initializers, so call it at start-up, before the
// registry serves kernels. Thread-safe; blocks on file I/O.
absl::StatusOr<LoadedPlugin> LoadPlugin(const std::string& path,
                                        KernelRegistry& registry);

}  // namespace pfor::worker

#endif  // PFOR_WORKER_PLUGIN_LOADER_H_
