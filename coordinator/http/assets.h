// The dashboard's page (assets/dashboard.html: markup, style and script in
// one file, no build step, nothing fetched from elsewhere), compiled into
// the binary by CMake.
#ifndef PFOR_COORDINATOR_HTTP_ASSETS_H_
#define PFOR_COORDINATOR_HTTP_ASSETS_H_

namespace pfor::coordinator {

extern const char kDashboardHtml[];

}  // namespace pfor::coordinator

#endif  // PFOR_COORDINATOR_HTTP_ASSETS_H_
