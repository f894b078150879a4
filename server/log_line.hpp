#pragma once
// The server's one log-line shape: a JSON object per line with "ts", "level" and "msg" first,
// then the line's own fields. What goes into a field is never a caller's number, a session
// id or an address (tests/privacy/log_scan.sh reads every line the test runs write): config
// ids, counts, status codes and error texts only.

#include <callswap/millis.hpp>
#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>

#include "json_text.hpp"

namespace callswap::server {

enum class LogLevel { info, warning, error };

using LogFields = std::initializer_list<std::pair<std::string_view, Json>>;

inline std::string log_line(Millis ts, LogLevel level, std::string_view msg,
                            LogFields fields = {}) {
  Json line = Json::object();
  line["ts"] = ts;
  line["level"] = level == LogLevel::info      ? "info"
                  : level == LogLevel::warning ? "warning"
                                               : "error";
  line["msg"] = msg;
  for (const auto& [key, value] : fields) line[std::string(key)] = value;
  return dump_json(line);
}

}  // namespace callswap::server
