// A build without libpq: a config naming PostgreSQL is refused with the reason, not ignored.

#include <stdexcept>

#include "copy_store.hpp"
#include "store.hpp"

namespace callswap::server {

std::unique_ptr<Store> open_postgres_store(const std::string&, const std::string&) {
  throw std::runtime_error(
      "this callswap-server was built without PostgreSQL support (CALLSWAP_POSTGRESQL=OFF): "
      "install libpq-dev and rebuild");
}

std::vector<CopiedTable> copy_store(const std::string&, const std::string&, const std::string&) {
  throw std::runtime_error(
      "this callswap-server was built without PostgreSQL support (CALLSWAP_POSTGRESQL=OFF): "
      "install libpq-dev and rebuild");
}

int postgres_schema_version() {
  return 0;
}

}  // namespace callswap::server
