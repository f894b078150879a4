#pragma once
// The record of processing activities (GDPR Art. 30) for the configured sites, as Markdown.
// Written from the operator config alone, so it says what this server is set up to do and is
// never stale: regenerate it after each config change. No I/O: the command line prints it and
// the admin API can serve it.

#include <string>

#include "operator_config.hpp"

namespace callswap::server {

std::string privacy_record_markdown(const OperatorConfig& config);

}  // namespace callswap::server
