// Recovery from a damaged journal: the bytes are the SQLite file of a
// coordinator's --state-dir. Opening and loading it must give the jobs or an
// error naming the file, never a crash. (Each input starts without a
// journal.sequence: the bytes alone decide.)
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "journal.h"
#include "sqlite_journal.h"

namespace {

const std::string& Directory() {
  static const std::string* directory = [] {
    std::string path =
        (std::filesystem::temp_directory_path() / "pfor-journal-fuzz-XXXXXX")
            .string();
    if (mkdtemp(path.data()) == nullptr) std::abort();
    std::atexit([] { std::filesystem::remove_all(Directory()); });
    return new std::string(path);
  }();
  return *directory;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string& directory = Directory();
  for (const char* stale :
       {"/journal.sqlite-wal", "/journal.sqlite-shm", "/journal.sequence"}) {
    std::filesystem::remove(directory + stale);
  }
  {
    std::ofstream file(directory + "/journal.sqlite",
                       std::ios::binary | std::ios::trunc);
    file.write(reinterpret_cast<const char*>(data),
               static_cast<std::streamsize>(size));
  }
  auto opened = pfor::coordinator::OpenSqliteJournal(
      {.directory = directory, .keep_jobs = 10});
  if (opened.ok()) (void)opened->journal->Load();
  return 0;
}
