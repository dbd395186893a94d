# Installs this build into a scratch prefix and uses it as a user would:
#
# 1. `cmake --install` into WORK_DIR/prefix;
# 2. configures, builds and runs tests/downstream (find_package(pfor),
#    pfor::sdk, a kernel of its own; each installed header compiled alone)
#    against that prefix, and checks the program's exact results;
# 3. moves the prefix and runs the installed `pfor` from the new place on the
#    processes executor: the installed tree finds its library and pfor-helper
#    wherever it is.
#
# WORK_DIR is removed before and after, on failure too.
#
#   cmake -DBUILD_DIR=... -DSOURCE_DIR=tests/downstream -DWORK_DIR=...
#         -DGENERATOR=... [-DMAKE_PROGRAM=...] -DCXX_COMPILER=...
#         [-DBUILD_TYPE=...] [-DCXX_FLAGS=...] -P downstream_test.cmake
foreach(var BUILD_DIR SOURCE_DIR WORK_DIR GENERATOR CXX_COMPILER)
  if(NOT DEFINED ${var})
    message(FATAL_ERROR "downstream_test.cmake: pass -D${var}=...")
  endif()
endforeach()

set(prefix ${WORK_DIR}/prefix)
set(moved ${WORK_DIR}/moved)
set(build ${WORK_DIR}/build)

macro(fail message)
  file(REMOVE_RECURSE ${WORK_DIR})
  message(FATAL_ERROR "${message}")
endmacro()

# Runs a command; on failure, cleans up and shows what it printed.
function(step name)
  execute_process(COMMAND ${ARGN}
                  RESULT_VARIABLE result
                  OUTPUT_VARIABLE out
                  ERROR_VARIABLE err
                  TIMEOUT 240)
  if(NOT result EQUAL 0)
    fail("${name} failed (${result}):\n${out}\n${err}")
  endif()
  set(out "${out}" PARENT_SCOPE)
endfunction()

file(REMOVE_RECURSE ${WORK_DIR})
file(MAKE_DIRECTORY ${WORK_DIR})
string(TIMESTAMP start "%s")

step("cmake --install" ${CMAKE_COMMAND} --install ${BUILD_DIR} --prefix ${prefix})

set(configure_args
    -S ${SOURCE_DIR} -B ${build} -G ${GENERATOR}
    -DCMAKE_CXX_COMPILER=${CXX_COMPILER}
    -DCMAKE_PREFIX_PATH=${prefix}
    -DCMAKE_FIND_USE_PACKAGE_REGISTRY=OFF)
if(MAKE_PROGRAM)
  list(APPEND configure_args -DCMAKE_MAKE_PROGRAM=${MAKE_PROGRAM})
endif()
if(BUILD_TYPE)
  list(APPEND configure_args -DCMAKE_BUILD_TYPE=${BUILD_TYPE})
endif()
if(CXX_FLAGS)
  # Sanitizer builds: the program links the same runtime as libpfor.so.
  list(APPEND configure_args "-DCMAKE_CXX_FLAGS=${CXX_FLAGS}")
endif()
step("configuring tests/downstream" ${CMAKE_COMMAND} ${configure_args})
if(NOT out MATCHES "pfor [0-9.]+ from ${prefix}/")
  fail("tests/downstream did not find pfor in ${prefix}:\n${out}")
endif()
step("building tests/downstream" ${CMAKE_COMMAND} --build ${build})

step("running the downstream program"
     ${CMAKE_COMMAND} -E env --unset=PFOR_COORDINATOR ${build}/app)
# 78498 primes below 10^6; the sum of i^3 over [0, 10^4) is (10^4(10^4-1)/2)^2.
set(expected "count_primes: 78498\ndownstream_cubes: 2499500025000000 = 156187506250000 + 2343312518750000\n")
if(NOT out STREQUAL expected)
  fail("the downstream program printed\n${out}\ninstead of\n${expected}")
endif()

file(RENAME ${prefix} ${moved})
step("the moved installed pfor"
     ${CMAKE_COMMAND} -E env --unset=PFOR_COORDINATOR --unset=PFOR_HELPER
         --unset=LD_LIBRARY_PATH
     ${moved}/bin/pfor run count_primes --range 0:1e6 --executor processes
         --no-progress)
if(NOT out STREQUAL "78498\n")
  fail("the moved installed pfor printed\n${out}\ninstead of 78498")
endif()

file(REMOVE_RECURSE ${WORK_DIR})
string(TIMESTAMP end "%s")
math(EXPR seconds "${end} - ${start}")
message(STATUS "downstream project built and run against the installed "
               "tree in ${seconds} s")
