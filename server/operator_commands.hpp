#pragma once
// What `callswap-server check` and `callswap-server keygen` print: an operator's dry run of a
// config, and fresh keys in the form the config reads them.

#include <memory>
#include <string>

#include "operator_config.hpp"
#include "store.hpp"

namespace callswap::server {

/// A summary of what a server with this config would serve, for a human to read.
std::string describe_operator_config(const OperatorConfig& config);

/// Fresh secrets from the operating system's generator: the lines for the server's
/// environment, the admin key to hand out, and the config fields that refer to them.
/// `key_id` names the caller-number key (rotation needs a new id each time).
std::string fresh_keys(const std::string& key_id);

/// The store the config names: its PostgreSQL database (`store: "postgresql://…"`), else its
/// SQLite file. Creates or migrates the schema; throws with the reason when it cannot.
std::unique_ptr<Store> open_configured_store(const OperatorConfig& config);

}  // namespace callswap::server
