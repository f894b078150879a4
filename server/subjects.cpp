#include "subjects.hpp"

#include <algorithm>
#include <callswap/phone_number.hpp>

#include "requests.hpp"

namespace callswap::server {

Json error_body(std::string_view code, std::string_view message) {
  Json error = Json::object();
  error["code"] = code;
  error["message"] = message;
  Json body = Json::object();
  body["error"] = std::move(error);
  return body;
}

namespace {

SubjectOutcome failure(int status, std::string_view code, std::string_view message) {
  return {status, error_body(code, message)};
}

// A classification is a short word a report can group by.
bool is_classification(const std::string& text) {
  return !text.empty() && text.size() <= 32 && std::all_of(text.begin(), text.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
  });
}

Json parsed_or_empty(const std::string& text) {
  auto value = parse_json(text);
  return value ? *value : Json::object();
}

Json optional_time(const std::optional<Millis>& at) {
  return at ? Json(*at) : Json(nullptr);
}

}  // namespace

Subjects::Subjects(Store& store, const CallerVault* vault, Hooks hooks,
                   std::function<Millis()> clock)
    : store_(store), vault_(vault), hooks_(std::move(hooks)), clock_(std::move(clock)) {}

SubjectOutcome Subjects::find(const Json& request, Found& found) const {
  if (!request.is_object()) return failure(400, "invalid_body", "the body must be a JSON object");
  const Json* caller = member(request, "caller");
  const Json* session = member(request, "session");
  for (const auto& [key, value] : request.items()) {
    if (key != "caller" && key != "session")
      return failure(400, "invalid_body", "unknown field \"" + key + "\"");
  }
  if ((caller != nullptr) == (session != nullptr)) {
    return failure(400, "invalid_body",
                   "name the subject by exactly one of caller (E.164) or session (id)");
  }
  if (caller) {
    if (!caller->is_string())
      return failure(400, "invalid_body", "caller: must be an E.164 number");
    auto number = parse_e164(caller->get<std::string>());
    if (!number) return failure(400, "invalid_body", "caller: " + number.error().message);
    if (!vault_) {
      return failure(
          409, "callers_not_kept",
          "no caller_numbers keys are configured, so no call can be found by its caller");
    }
    found.by = "caller";
    found.caller_hash = vault_->hash(number->e164());
    found.calls = store_.calls_by_caller(found.caller_hash);
    for (const CallRow& call : found.calls) {
      if (call.session_id.empty()) continue;
      const bool seen = std::any_of(found.sessions.begin(), found.sessions.end(),
                                    [&](const SessionRow& s) { return s.id == call.session_id; });
      if (!seen) {
        if (auto row = store_.find_session(call.session_id)) found.sessions.push_back(*row);
      }
    }
  } else {
    if (!session->is_string() || !is_session_id(session->get<std::string>())) {
      return failure(400, "invalid_body", "session: must be a session id (32 hex digits)");
    }
    found.by = "session";
    if (auto row = store_.find_session(session->get<std::string>())) found.sessions.push_back(*row);
    found.calls = store_.calls_by_session(session->get<std::string>());
  }
  if (found.sessions.empty() && found.calls.empty()) {
    return failure(404, "unknown_subject", "nothing is stored about this subject");
  }
  return {200, {}};
}

// Everything held about the subject, for access and portability (Art. 15 and 20).
Json Subjects::describe(const Found& found, bool full_numbers) const {
  Json sessions = Json::array();
  for (const SessionRow& s : found.sessions) {
    Json o = Json::object();
    o["session"] = s.id;
    o["site"] = s.site;
    o["source"] = s.source;
    o["campaign"] = parsed_or_empty(s.campaign_json);
    o["landing_path"] = s.landing_path;
    o["tracking_number"] = s.number;
    o["created_at"] = s.created_at;
    o["last_activity"] = s.last_activity;
    o["released_at"] = optional_time(s.released_at);
    o["restricted"] = s.restricted;
    sessions.push_back(std::move(o));
  }
  Json calls = Json::array();
  for (const CallRow& c : found.calls) {
    Json o = Json::object();
    o["call"] = c.provider_call_id;
    o["site"] = c.site;
    o["called_number"] = c.called_number;
    std::optional<std::string> caller;
    if (vault_ && !c.caller_ciphertext.empty())
      caller = vault_->open(SealedCaller{c.caller_key_id, c.caller_ciphertext});
    o["caller"] =
        !caller ? Json(nullptr) : Json(full_numbers ? *caller : CallerVault::mask(*caller));
    o["caller_masked"] = caller.has_value() && !full_numbers;
    o["caller_kept"] = !c.caller_ciphertext.empty();
    o["status"] = c.status;
    o["duration_seconds"] = c.duration_seconds;
    o["started_at"] = c.started_at;
    o["session"] = c.session_id.empty() ? Json(nullptr) : Json(c.session_id);
    o["source"] = c.source;
    o["attribution"] = c.attribution;
    o["campaign"] = parsed_or_empty(c.campaign_json);
    o["classification"] = c.classification;
    o["restricted"] = c.restricted;
    calls.push_back(std::move(o));
  }
  Json out = Json::object();
  out["found_by"] = found.by;
  out["generated_at"] = clock_();
  out["sessions"] = std::move(sessions);
  out["calls"] = std::move(calls);
  return out;
}

void Subjects::audit(const std::string& actor, std::string_view action, const std::string& site,
                     Json detail) {
  store_.append_audit(
      AuditEntry{clock_(), actor, "subject." + std::string(action), site, dump_json(detail)});
}

SubjectOutcome Subjects::rectify(const Json& request, const Requester& requester) {
  if (!request.is_object()) return failure(400, "invalid_body", "the body must be a JSON object");
  for (const auto& [key, value] : request.items()) {
    if (key != "call" && key != "source" && key != "classification") {
      return failure(400, "invalid_body", "unknown field \"" + key + "\"");
    }
  }
  const Json* call_id = member(request, "call");
  if (!call_id || !call_id->is_string() || call_id->get<std::string>().empty() ||
      call_id->get<std::string>().size() > 128) {
    return failure(400, "invalid_body", "call: the provider's call id is required");
  }
  const Json* source = member(request, "source");
  const Json* classification = member(request, "classification");
  if (!source && !classification)
    return failure(400, "invalid_body", "give source, classification or both");
  const auto call = store_.find_call(call_id->get<std::string>());
  if (!call) return failure(404, "unknown_subject", "no such call");
  std::string new_source = call->source;
  std::string new_classification = call->classification;
  Json fields = Json::array();
  if (source) {
    if (!source->is_string() || !hooks_.source_exists(call->site, source->get<std::string>())) {
      return failure(400, "invalid_body", "source: not a source of the call's site");
    }
    new_source = source->get<std::string>();
    fields.emplace_back("source");
  }
  if (classification) {
    if (!classification->is_string() || !is_classification(classification->get<std::string>())) {
      return failure(400, "invalid_body",
                     "classification: a word of a-z, 0-9, '-' and '_', at most 32 characters");
    }
    new_classification = classification->get<std::string>();
    fields.emplace_back("classification");
  }
  store_.rectify_call(call->provider_call_id, new_source, new_classification);
  Json detail = Json::object();
  detail["fields"] = std::move(fields);
  audit(requester.actor, "rectify", call->site, std::move(detail));
  Found found{"call", {}, {}, {*store_.find_call(call->provider_call_id)}};
  return {200, describe(found, requester.full_numbers)};
}

SubjectOutcome Subjects::handle(std::string_view action, const Json& request,
                                const Requester& requester) {
  if (std::find(std::begin(kActions), std::end(kActions), action) == std::end(kActions)) {
    return failure(404, "unknown_action",
                   "subject actions: access, erase, restrict, unrestrict, rectify");
  }
  if (action == "rectify") return rectify(request, requester);
  Found found;
  if (SubjectOutcome located = find(request, found); located.status != 200) return located;
  const std::string site =
      !found.calls.empty() ? found.calls.front().site : found.sessions.front().site;
  Json detail = Json::object();
  detail["found_by"] = found.by;
  detail["sessions"] = found.sessions.size();
  detail["calls"] = found.calls.size();

  if (action == "access") {
    audit(requester.actor, action, site, std::move(detail));
    return {200, describe(found, requester.full_numbers)};
  }
  if (action == "erase") {
    Store::Erasure erasure;
    erasure.at = clock_();
    erasure.caller_hash = found.caller_hash;
    for (const CallRow& call : found.calls) {
      erasure.call_ids.push_back(call.provider_call_id);
      erasure.tombstones.push_back({erased_call_key(vault_, call.provider_call_id), call.site});
    }
    for (const SessionRow& session : found.sessions) {
      if (!session.released_at) hooks_.release_number(session);
      erasure.session_ids.push_back(session.id);
    }
    // Audited first: the erasure's durable commit then makes the audit entry durable too.
    audit(requester.actor, action, site, std::move(detail));
    store_.erase(erasure).get();
    Json out = Json::object();
    out["erased_sessions"] = found.sessions.size();
    out["erased_calls"] = found.calls.size();
    return {200, out};
  }
  Store::Restriction restriction;
  restriction.restricted = action == "restrict";
  restriction.at = clock_();
  restriction.caller_hash = found.caller_hash;
  for (const CallRow& call : found.calls) restriction.call_ids.push_back(call.provider_call_id);
  for (const SessionRow& session : found.sessions) restriction.session_ids.push_back(session.id);
  audit(requester.actor, action, site, std::move(detail));
  store_.restrict(restriction);
  Json out = Json::object();
  out["restricted"] = restriction.restricted;
  out["sessions"] = found.sessions.size();
  out["calls"] = found.calls.size();
  return {200, out};
}

}  // namespace callswap::server
