#pragma once
// The server's one log-line shape: a JSON object per line with "ts", "level" and "msg" first,
// then the line's own fields. What goes into a field is never a caller's number, a session
// id or an address (tests/privacy/log_scan.sh reads every line the test runs write): config
// ids, counts, status codes and error texts only.

#include <callswap/json.hpp>
#include <callswap/millis.hpp>
#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>

namespace callswap::server {

enum class LogLevel { info, warning, error };

using LogFields = std::initializer_list<std::pair<std::string_view, json::Value>>;

inline std::string log_line(Millis ts, LogLevel level, std::string_view msg,
                            LogFields fields = {}) {
  json::Object line;
  line.set("ts", static_cast<double>(ts));
  line.set("level", level == LogLevel::info      ? "info"
                    : level == LogLevel::warning ? "warning"
                                                 : "error");
  line.set("msg", std::string(msg));
  for (const auto& [key, value] : fields) line.set(std::string(key), value);
  return json::Value(std::move(line)).dump();
}

}  // namespace callswap::server
