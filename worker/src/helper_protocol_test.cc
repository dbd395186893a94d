#include "helper_protocol.h"

#include <string>

#include "gtest/gtest.h"
#include "pfor/v1/helper.pb.h"

namespace pfor::worker {
namespace {

v1::HelperRequest Request(int64_t begin, const std::string& kernel) {
  v1::HelperRequest request;
  request.set_job_id(7);
  request.set_begin(begin);
  request.set_end(begin + 10);
  request.mutable_job()->set_kernel(kernel);
  return request;
}

TEST(HelperProtocolTest, CutsFramesHoweverTheBytesArrive) {
  std::string stream;
  AppendFrame(Request(1, "count_primes"), stream);
  AppendFrame(Request(2, std::string(300, 'k')), stream);  // a two-byte size
  AppendFrame(v1::HelperRequest(), stream);                // an empty message
  for (size_t step : {size_t{1}, size_t{3}, stream.size()}) {
    SCOPED_TRACE(step);
    FrameReader reader;
    std::vector<v1::HelperRequest> got;
    for (size_t at = 0; at < stream.size(); at += step) {
      reader.Append(stream.data() + at, std::min(step, stream.size() - at));
      v1::HelperRequest request;
      while (true) {
        absl::StatusOr<bool> next = reader.Next(request);
        ASSERT_TRUE(next.ok()) << next.status();
        if (!*next) break;
        got.push_back(request);
      }
    }
    ASSERT_EQ(got.size(), 3u);
    EXPECT_EQ(got[0].begin(), 1);
    EXPECT_EQ(got[0].job().kernel(), "count_primes");
    EXPECT_EQ(got[1].job().kernel(), std::string(300, 'k'));
    EXPECT_EQ(got[2].begin(), 0);
    EXPECT_EQ(reader.buffered(), 0u);
  }
}

TEST(HelperProtocolTest, RefusesOversizedAndMalformedFrames) {
  FrameReader huge;
  const std::string size = "\xff\xff\xff\xff\x0f";  // 2^32 - 1 bytes
  huge.Append(size.data(), size.size());
  v1::HelperResponse response;
  EXPECT_EQ(huge.Next(response).status().code(), absl::StatusCode::kDataLoss);

  FrameReader garbage;
  const std::string frame = "\x03\xff\xff\xff";  // a truncated varint field
  garbage.Append(frame.data(), frame.size());
  EXPECT_EQ(garbage.Next(response).status().code(),
            absl::StatusCode::kDataLoss);
}

}  // namespace
}  // namespace pfor::worker
