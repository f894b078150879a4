#pragma once
// Data-subject rights (GDPR Art. 15 to 18 and 20): find what is held about a
// caller or about a visit's session, hand it over as JSON, erase it, restrict it, or
// rectify a call. One implementation behind both the admin API (/v1/admin/subjects/...)
// and `callswap-server subject ...`; every action leaves an audit entry without personal data.

#include <functional>
#include <string>
#include <string_view>

#include "caller_vault.hpp"
#include "json_text.hpp"
#include "store.hpp"

namespace callswap::server {

/// A request that cannot be carried out: the HTTP status, a stable code and the reason.
struct SubjectError {
  int status = 400;
  std::string code;
  std::string message;
};

struct SubjectOutcome {
  int status = 200;
  Json body;
};

class Subjects {
 public:
  /// What the server must do beyond the store: give back the pool's number of a session
  /// that still holds one, and tell which sources a site has (for rectification).
  struct Hooks {
    std::function<void(const SessionRow&)> release_number;
    std::function<bool(const std::string& site, const std::string& source)> source_exists;
  };
  Subjects(Store& store, const CallerVault* vault, Hooks hooks, std::function<Millis()> clock);

  /// Who asks, and what they may see.
  struct Requester {
    std::string actor;          ///< goes to the audit log: an admin key's id, or "cli"
    bool full_numbers = false;  ///< callers' numbers in clear; otherwise masked
  };

  /// Carries out `action` ("access", "erase", "restrict", "unrestrict", "rectify") for the
  /// subject the request names ({"caller": "+49..."} or {"session": "<id>"}; rectify takes
  /// {"call": "<provider id>", "source"?, "classification"?}).
  [[nodiscard]] SubjectOutcome handle(std::string_view action, const Json& request,
                                      const Requester& requester);

  static constexpr std::string_view kActions[] = {"access", "erase", "restrict", "unrestrict",
                                                  "rectify"};

 private:
  struct Found {
    std::string by;           // "caller" or "session"
    std::string caller_hash;  // when found by caller
    std::vector<SessionRow> sessions;
    std::vector<CallRow> calls;
  };
  [[nodiscard]] SubjectOutcome find(const Json& request, Found& found) const;
  [[nodiscard]] Json describe(const Found& found, bool full_numbers) const;
  SubjectOutcome rectify(const Json& request, const Requester& requester);
  void audit(const std::string& actor, std::string_view action, const std::string& site,
             Json detail);

  Store& store_;
  const CallerVault* vault_;
  Hooks hooks_;
  std::function<Millis()> clock_;
};

/// The error body every endpoint uses: {"error": {"code", "message"}}.
Json error_body(std::string_view code, std::string_view message);

}  // namespace callswap::server
