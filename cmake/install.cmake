# What `cmake --install build [--prefix DIR]` installs, and the CMake package
# that lets other projects use it:
#
#   find_package(pfor CONFIG REQUIRED)
#   target_link_libraries(app PRIVATE pfor::sdk)          # programs
#   target_link_libraries(mine PRIVATE pfor::plugin_api)  # MODULE plugins
#
# Every DESTINATION is relative, so --prefix moves all of it, and the
# installed tree finds its own parts ($ORIGIN in RPATH, the helper beside the
# library): it still works after being moved as a whole.
include(CMakePackageConfigHelpers)

set(PFOR_INSTALL_CMAKEDIR ${CMAKE_INSTALL_LIBDIR}/cmake/pfor)

# The public headers, and nothing else: the vocabulary, the kernel API and
# the client side (pfor_api's headers, without the in-tree helpers of
# pfor/common/ and the built-ins' registration).
foreach(dir common/include/pfor kernels/include/pfor sdk/include/pfor)
  install(DIRECTORY ${PROJECT_SOURCE_DIR}/${dir}
          DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}
          COMPONENT dev
          FILES_MATCHING PATTERN "*.h"
          PATTERN "common" EXCLUDE
          PATTERN "builtin_kernels.h" EXCLUDE)
endforeach()

# The command line links libpfor.so from the installed lib directory.
file(RELATIVE_PATH pfor_libdir_from_bindir
     ${CMAKE_INSTALL_FULL_BINDIR} ${CMAKE_INSTALL_FULL_LIBDIR})
set_target_properties(pfor PROPERTIES
    INSTALL_RPATH "$ORIGIN/${pfor_libdir_from_bindir}")
install(TARGETS pfor pfor-coordinator pfor-worker pfor-helper
        RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR} COMPONENT bin)

# libpfor.so with its versioned names, and the plugin API (pfor_common is
# what it is made of; plugins link both whole into themselves).
install(TARGETS pfor_api pfor_sdk pfor_plugin_api pfor_common
        EXPORT pforTargets
        LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR} COMPONENT lib
                NAMELINK_COMPONENT dev
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR} COMPONENT dev)
install(EXPORT pforTargets
        NAMESPACE pfor::
        DESTINATION ${PFOR_INSTALL_CMAKEDIR}
        COMPONENT dev)

configure_file(${CMAKE_CURRENT_LIST_DIR}/pforConfig.cmake
               ${PROJECT_BINARY_DIR}/pforConfig.cmake COPYONLY)
write_basic_package_version_file(
    ${PROJECT_BINARY_DIR}/pforConfigVersion.cmake
    COMPATIBILITY SameMajorVersion)
install(FILES ${PROJECT_BINARY_DIR}/pforConfig.cmake
              ${PROJECT_BINARY_DIR}/pforConfigVersion.cmake
        DESTINATION ${PFOR_INSTALL_CMAKEDIR}
        COMPONENT dev)

# The same package in the build tree: -Dpfor_DIR=/path/to/pfor/build uses
# this build's libraries and the headers of its source tree, no install
# needed.
export(EXPORT pforTargets
       NAMESPACE pfor::
       FILE ${PROJECT_BINARY_DIR}/pforTargets.cmake)
