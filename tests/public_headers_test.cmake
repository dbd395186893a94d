# The installed headers (what cmake/install.cmake installs from
# common/include/pfor, kernels/include/pfor and sdk/include/pfor) include
# only the standard library, Abseil and each other: no gRPC, no generated
# protobuf code, no in-tree header of the project.
#
#   cmake -DSOURCE_DIR=. -P public_headers_test.cmake
cmake_minimum_required(VERSION 3.25)
set(public)
foreach(dir common/include/pfor kernels/include/pfor sdk/include/pfor)
  file(GLOB found ${SOURCE_DIR}/${dir}/*.h)
  list(APPEND public ${found})
endforeach()
list(FILTER public EXCLUDE REGEX "/builtin_kernels\\.h$")
set(headers ${public})
set(public_names)
foreach(header IN LISTS public)
  cmake_path(GET header FILENAME name)
  list(APPEND public_names ${name})
endforeach()
if(NOT headers)
  message(FATAL_ERROR "no public headers under ${SOURCE_DIR}")
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
           CMAKE_MATCH_1 IN_LIST public_names)
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
      "the installed pfor/*.h only; move the dependency into a .cc file or "
      "an in-tree header")
endif()
list(LENGTH headers count)
message(STATUS "${count} public headers include only public headers")
