# Runs an example and checks both its exit status and its output:
#
#   cmake -DPROGRAM=path -DEXPECTED_FILE=path -P run_example.cmake
#
# EXPECTED_FILE holds a regular expression the whole standard output must
# contain. (ctest's PASS_REGULAR_EXPRESSION alone would ignore the exit
# status.)
cmake_minimum_required(VERSION 3.25)
file(READ ${EXPECTED_FILE} expected)
execute_process(COMMAND ${PROGRAM}
                RESULT_VARIABLE result
                OUTPUT_VARIABLE out
                ERROR_VARIABLE err
                TIMEOUT 110)
if(NOT result EQUAL 0)
  message(FATAL_ERROR "${PROGRAM} exited with ${result}\n${out}\n${err}")
endif()
if(NOT out MATCHES "${expected}")
  message(FATAL_ERROR
      "${PROGRAM} printed:\n${out}\nwhich does not match:\n${expected}\n${err}")
endif()
message(STATUS "${out}")
