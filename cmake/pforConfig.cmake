# The CMake package of pfor (installed, or in a build tree):
#
#   find_package(pfor CONFIG REQUIRED)
#   target_link_libraries(app PRIVATE pfor::sdk)          # programs: libpfor.so
#   target_link_libraries(mine PRIVATE pfor::plugin_api)  # MODULE plugins
#
# A program links pfor::sdk and nothing else of pfor; pfor::plugin_api is for
# kernel plugins only (docs/plugins.md). pfor::api (the headers) and
# pfor::common (a part of pfor::plugin_api) come with them.
include(CMakeFindDependencyMacro)

# What the public headers include.
find_dependency(Threads)
find_dependency(absl CONFIG)
# What plugins link besides pfor::plugin_api (muParser, for parameter
# expressions); programs using pfor::sdk do not need it.
find_package(muparser CONFIG QUIET)

include(${CMAKE_CURRENT_LIST_DIR}/pforTargets.cmake)
