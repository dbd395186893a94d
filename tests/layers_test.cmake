# The layers the folder tree promises, checked on every include: a part that
# reaches into a layer below the one it may use fails here, with the rule it
# broke.
#
#   cmake -DSOURCE_DIR=. -P layers_test.cmake

cmake_minimum_required(VERSION 3.25)

# Each rule: the files it covers (globs relative to SOURCE_DIR, separated by
# commas), the
# includes they must not have (a regular expression), and why.
set(rules
  "coordinator/scheduler/*"
  "grpcpp/|pfor/v1/|google/protobuf|pfor/common/(wire|wire_job|wire_link|rpc|clock|http_server)|absl/time/clock\\.h|absl/synchronization|sqlite3\\.h|httplib\\.h|<thread>|<mutex>"
  "the scheduler core makes decisions only: plain C++ types, no wire, no clock, no disk, no threads, no HTTP"

  "coordinator/http/*"
  "grpcpp/|pfor/v1/|google/protobuf|pfor/common/(wire|wire_job|wire_link|rpc)|\"scheduler\\.h\"|\"scheduler_host\\.h\"|\"journal"
  "the dashboard reads the cluster through ClusterView only: no gRPC, no scheduler"

  "coordinator/journal/*"
  "grpcpp/|\\.grpc\\.pb\\.h|pfor/common/rpc\\.h"
  "the journal does not speak gRPC"

  "coordinator/journal/journal.*,coordinator/journal/journal_state.h"
  "pfor/v1/|google/protobuf|pfor/common/wire"
  "journal entries are plain C++: the scheduler emits them without the wire"

  "kernels/*"
  "grpcpp/|pfor/v1/|pfor/common/(wire|rpc)\\.h"
  "kernels see the kernel API and the vocabulary, never the wire"

  "common/include/pfor/*.h,common/src/exact_sum*,common/src/value*,common/src/params*,common/src/expression*"
  "grpcpp/|pfor/v1/|google/protobuf"
  "the vocabulary stands alone: no protobuf, no gRPC"

  "common/include/pfor/common/wire*.h,common/src/wire*"
  "grpcpp/|\\.grpc\\.pb\\.h"
  "the codecs need protobuf, not gRPC"

  "sdk/include/pfor/*"
  "grpcpp/|pfor/v1/|google/protobuf|pfor/common/"
  "the SDK's installed headers show no wire and no in-tree helper"

  "coordinator/include/*,worker/include/*"
  "grpcpp/|pfor/v1/|google/protobuf|pfor/common/(wire|wire_job|wire_link|rpc|merging_stream)\\.h"
  "the parts' public headers show no wire: the embedded cluster joins them in C++"

  "common/include/pfor/common/link.h,common/include/pfor/common/session.h,common/include/pfor/common/clock.h,common/include/pfor/common/backoff.h,common/src/link*,common/src/job*,common/src/clock*,common/src/backoff*"
  "grpcpp/|pfor/v1/|google/protobuf"
  "the link and session types are plain C++: the in-process path never touches the wire"

  "sdk/*,worker/*"
  "coordinator/(scheduler|journal|service)/|\"scheduler\\.h\"|\"journal\\.h\""
  "the SDK and the worker use the coordinator only through its public header"

  "coordinator/*,sdk/*"
  "worker/src/|\"slot_pool\\.h\"|\"engine\\.h\"|\"grpc_link\\.h\""
  "the coordinator and the SDK use the worker only through its public header"
)

get_filename_component(SOURCE_DIR "${SOURCE_DIR}" ABSOLUTE)
set(problems)
list(LENGTH rules count)
math(EXPR last "${count} - 1")
set(checked 0)
foreach(i RANGE 0 ${last} 3)
  math(EXPR j "${i} + 1")
  math(EXPR k "${i} + 2")
  list(GET rules ${i} globs)
  list(GET rules ${j} forbidden)
  list(GET rules ${k} why)
  string(REPLACE "," ";" globs "${globs}")
  set(files)
  foreach(glob IN LISTS globs)
    # "dir/*" covers the folder and its subfolders; other globs one folder.
    if(glob MATCHES "/\\*$")
      file(GLOB_RECURSE found ${SOURCE_DIR}/${glob})
    else()
      file(GLOB found ${SOURCE_DIR}/${glob})
    endif()
    list(APPEND files ${found})
  endforeach()
  list(FILTER files INCLUDE REGEX "\\.(h|cc)$")
  if(NOT files)
    message(FATAL_ERROR "rule '${why}' covers no file: ${globs}")
  endif()
  foreach(file IN LISTS files)
    math(EXPR checked "${checked} + 1")
    file(STRINGS ${file} includes REGEX "^[ \t]*#[ \t]*include")
    foreach(line IN LISTS includes)
      if(line MATCHES "${forbidden}")
        file(RELATIVE_PATH shown ${SOURCE_DIR} ${file})
        list(APPEND problems "${shown}: ${line}\n    (${why})")
      endif()
    endforeach()
  endforeach()
endforeach()
if(problems)
  list(JOIN problems "\n  " problems)
  message(FATAL_ERROR "includes that cross a layer:\n  ${problems}")
endif()
message(STATUS "${checked} files checked against the layers")
