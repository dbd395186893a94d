// The driver of the fuzz targets in a normal build (without libFuzzer):
// runs LLVMFuzzerTestOneInput on every file of the corpus directories given,
// then on `-runs=N` (default 300) mutations of each, made by a fixed
// pseudo-random sequence so that a failure replays. Bounded in count, so it
// suits ctest; clang's libFuzzer (-DPFOR_FUZZ=ON) searches far longer.
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

namespace {

// xorshift64*: the same mutations on every run.
class Random {
 public:
  explicit Random(uint64_t seed) : state_(seed | 1) {}
  uint64_t Next() {
    state_ ^= state_ >> 12;
    state_ ^= state_ << 25;
    state_ ^= state_ >> 27;
    return state_ * 0x2545F4914F6CDD1DULL;
  }
  size_t Below(size_t n) { return n == 0 ? 0 : Next() % n; }

 private:
  uint64_t state_;
};

// One to four edits of the kinds that break parsers: flipped bits, bytes
// set to boundary values, bytes inserted and removed, a run repeated, the
// end cut off.
std::string Mutate(std::string input, Random& random) {
  static constexpr uint8_t kBoundaries[] = {0x00, 0x01, 0x7f, 0x80, 0xff};
  const int edits = 1 + static_cast<int>(random.Below(4));
  for (int i = 0; i < edits; ++i) {
    const size_t at = random.Below(input.size() + 1);
    switch (random.Below(6)) {
      case 0:
        if (!input.empty()) input[at % input.size()] ^= 1 << random.Below(8);
        break;
      case 1:
        if (!input.empty()) {
          input[at % input.size()] = static_cast<char>(
              kBoundaries[random.Below(std::size(kBoundaries))]);
        }
        break;
      case 2:
        input.insert(at, 1, static_cast<char>(random.Next()));
        break;
      case 3:
        if (!input.empty()) input.erase(at % input.size(), 1);
        break;
      case 4: {
        const size_t length = random.Below(16) + 1;
        if (at < input.size()) input.insert(at, input.substr(at, length));
        break;
      }
      default:
        input.resize(at);
    }
  }
  return input;
}

void RunOne(const std::string& input) {
  LLVMFuzzerTestOneInput(reinterpret_cast<const uint8_t*>(input.data()),
                         input.size());
}

}  // namespace

int main(int argc, char** argv) {
  long runs = 300;
  std::vector<std::filesystem::path> files;
  for (int i = 1; i < argc; ++i) {
    if (std::strncmp(argv[i], "-runs=", 6) == 0) {
      runs = std::strtol(argv[i] + 6, nullptr, 10);
      continue;
    }
    const std::filesystem::path path(argv[i]);
    if (std::filesystem::is_directory(path)) {
      for (const auto& entry : std::filesystem::directory_iterator(path)) {
        if (entry.is_regular_file()) files.push_back(entry.path());
      }
    } else {
      files.push_back(path);
    }
  }
  if (files.empty()) {
    std::fprintf(stderr, "usage: %s [-runs=N] CORPUS_DIR_OR_FILE...\n",
                 argv[0]);
    return 2;
  }
  std::sort(files.begin(), files.end());
  long executions = 0;
  for (size_t f = 0; f < files.size(); ++f) {
    std::ifstream in(files[f], std::ios::binary);
    const std::string seed{std::istreambuf_iterator<char>(in), {}};
    RunOne(seed);
    Random random(0x9E3779B97F4A7C15ULL * (f + 1));
    for (long r = 0; r < runs; ++r) RunOne(Mutate(seed, random));
    executions += runs + 1;
  }
  std::printf("%ld inputs from %zu seeds ran without a crash\n", executions,
              files.size());
  return 0;
}
