# The installed headers (sdk/include/pfor/*.h) include only the standard
# library, Abseil and each other: no gRPC, no generated protobuf code, no
# private header of the project.
#
#   cmake -DHEADER_DIR=sdk/include/pfor -P public_headers_test.cmake
file(GLOB headers ${HEADER_DIR}/*.h)
if(NOT headers)
  message(FATAL_ERROR "no headers in ${HEADER_DIR}")
endif()
set(problems)
foreach(header IN LISTS headers)
  cmake_path(GET header FILENAME name)
  file(STRINGS ${header} includes REGEX "^[ \t]*#[ \t]*include")
  foreach(line IN LISTS includes)
    if(line MATCHES "#[ \t]*include[ \t]*<([^/>]+)>")
      continue()  # the standard library
    elseif(line MATCHES "#[ \t]*include[ \t]*\"absl/[^\"]+\\.h\"")
      continue()
    elseif(line MATCHES "#[ \t]*include[ \t]*\"pfor/([^/\"]+)\"" AND
           EXISTS ${HEADER_DIR}/${CMAKE_MATCH_1})
      continue()  # another public header
    endif()
    list(APPEND problems "${name}: ${line}")
  endforeach()
endforeach()
if(problems)
  list(JOIN problems "\n  " problems)
  message(FATAL_ERROR
      "public headers include what users do not get:\n  ${problems}\n"
      "public headers may include the standard library, Abseil and "
      "pfor/*.h from sdk/include/pfor/ only; move the dependency into a "
      ".cc file or a private header")
endif()
list(LENGTH headers count)
message(STATUS "${count} public headers include only public headers")
