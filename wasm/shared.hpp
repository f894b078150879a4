#pragma once
// What both wasm modules (bindings.cpp, decide.cpp) hand to JavaScript the same way.

#include <callswap/compact.hpp>
#include <callswap/config.hpp>
#include <memory>
#include <string>
#include <vector>

namespace callswap::wasm {

// Objects handed to JS as small integers: handle h is slots[h - 1].
template <class T>
class Registry {
 public:
  int add(std::unique_ptr<T> item) {
    for (std::size_t i = 0; i < slots_.size(); ++i) {
      if (!slots_[i]) {
        slots_[i] = std::move(item);
        return static_cast<int>(i + 1);
      }
    }
    slots_.push_back(std::move(item));
    return static_cast<int>(slots_.size());
  }
  T* get(int handle) {
    if (handle <= 0 || static_cast<std::size_t>(handle) > slots_.size()) return nullptr;
    return slots_[static_cast<std::size_t>(handle) - 1].get();
  }
  void remove(int handle) {
    if (get(handle)) slots_[static_cast<std::size_t>(handle) - 1].reset();
  }

 private:
  std::vector<std::unique_ptr<T>> slots_;
};

// Why the last call failed (cs_last_error), valid until the next call.
inline std::string g_last_error;

// The site configs a module holds (each module its own), read from the compact form by
// `read` (the whole, or without consent): a handle > 0, or 0 when it is not a compact config.
inline Registry<SiteConfig> g_sites;
inline int load_site(const char* compact, std::optional<SiteConfig> (*read)(std::string_view)) {
  auto config = read(compact);
  if (!config) {
    g_last_error = "not a compact site config";
    return 0;
  }
  return g_sites.add(std::make_unique<SiteConfig>(std::move(*config)));
}

}  // namespace callswap::wasm
