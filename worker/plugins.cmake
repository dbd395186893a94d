# Kernel plugins: the loader behind `pfor-worker --plugin` and its tests.
# Included from worker/CMakeLists.txt; paths are relative to this file.
add_library(pfor_plugin_loader STATIC
    ${CMAKE_CURRENT_LIST_DIR}/src/plugin_loader.cc)
target_link_libraries(pfor_plugin_loader
    PUBLIC pfor_kernel_api absl::status absl::statusor
    PRIVATE absl::strings ${CMAKE_DL_LIBS})

if(BUILD_TESTING)
  # One small plugin per outcome the loader must report.
  set(pfor_test_plugins good future_abi other_layout duplicate bad_name empty)
  foreach(plugin IN LISTS pfor_test_plugins)
    add_library(pfor_test_plugin_${plugin} MODULE
        ${CMAKE_CURRENT_LIST_DIR}/src/test_plugins/${plugin}_plugin.cc)
    target_link_libraries(pfor_test_plugin_${plugin} PRIVATE pfor::plugin_api)
  endforeach()
  add_library(pfor_test_plugin_not_a_plugin MODULE
      ${CMAKE_CURRENT_LIST_DIR}/src/test_plugins/not_a_plugin.cc)
  # The good plugin linked against the programs' kernel API by mistake.
  add_library(pfor_test_plugin_wrong_library MODULE
      ${CMAKE_CURRENT_LIST_DIR}/src/test_plugins/good_plugin.cc)
  target_link_libraries(pfor_test_plugin_wrong_library PRIVATE pfor_kernel_api)
  list(APPEND pfor_test_plugins not_a_plugin wrong_library)

  pfor_test(plugin_loader_test
    SOURCES ${CMAKE_CURRENT_LIST_DIR}/src/plugin_loader_test.cc
    LIBS pfor_plugin_loader ${CMAKE_DL_LIBS})
  # Exports every symbol of the test, as a host linked with -rdynamic would:
  # plugins must still bind to their own kernel API, not to the host's.
  set_target_properties(plugin_loader_test PROPERTIES ENABLE_EXPORTS ON)
  foreach(plugin IN LISTS pfor_test_plugins)
    string(TOUPPER ${plugin} pfor_test_plugin_macro)
    target_compile_definitions(plugin_loader_test PRIVATE
        PFOR_TEST_PLUGIN_${pfor_test_plugin_macro}="$<TARGET_FILE:pfor_test_plugin_${plugin}>")
    add_dependencies(plugin_loader_test pfor_test_plugin_${plugin})
  endforeach()
endif()
