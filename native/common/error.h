// The one exception type native code throws; addon.cc turns it into a JS Error.
#pragma once
#include <sstream>
#include <stdexcept>
#include <string>

namespace ar {

struct Error : std::runtime_error {
  using std::runtime_error::runtime_error;
};

template <typename... Args>
[[noreturn]] void fail(const Args&... parts) {
  std::ostringstream s;
  (s << ... << parts);
  throw Error(s.str());
}

}  // namespace ar
