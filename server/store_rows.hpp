#pragma once
// The columns each store selects for a session, a call and a delivery, and how a row of them
// becomes the struct: written once for both backends. A backend passes its own row type,
// which reads column i as text, integer or flag and says whether it is NULL.

#include "store.hpp"

namespace callswap::server {

// The columns read_session reads, in its order (NULLs read as empty text, but released_at).
inline constexpr const char* kSessionColumns =
    "id, site, pool, number, source, campaign_json, landing_path, created_at, last_activity, "
    "released_at, restricted, coalesce(click_id_type, ''), coalesce(click_id, ''), "
    "coalesce(click_id_consent, ''), coalesce(ga_client_id, ''), coalesce(ga_consent, '')";

// The columns read_call reads, in its order.
inline constexpr const char* kCallColumns =
    "provider_call_id, site, called_number, status, duration_seconds, started_at, "
    "coalesce(session_id, ''), coalesce(source, ''), attribution, campaign_json, "
    "coalesce(caller_key_id, ''), coalesce(caller_ciphertext, ''), coalesce(caller_hash, ''), "
    "restricted, classification";

// The same columns of `calls c` in a join with `sessions s`, followed by what the
// conversion feeds need of the session (read by read_clicked_call).
inline constexpr const char* kClickedCallColumns =
    "c.provider_call_id, c.site, c.called_number, c.status, c.duration_seconds, c.started_at, "
    "coalesce(c.session_id, ''), coalesce(c.source, ''), c.attribution, c.campaign_json, "
    "coalesce(c.caller_key_id, ''), coalesce(c.caller_ciphertext, ''), "
    "coalesce(c.caller_hash, ''), c.restricted, c.classification, s.pool, s.click_id_type, "
    "s.click_id";

// The columns read_delivery reads, in its order.
inline constexpr const char* kDeliveryColumns =
    "id, site, destination, event, idempotency_key, body, coalesce(call_id, ''), "
    "coalesce(session_id, ''), created_at, next_attempt_at, attempts, state, last_error, "
    "finished_at";

template <class Row>
SessionRow read_session(const Row& r) {
  SessionRow s{r.text(0),  r.text(1),    r.text(2),    r.text(3),    r.text(4),  r.text(5),
               r.text(6),  r.integer(7), r.integer(8), std::nullopt, r.flag(10), r.text(11),
               r.text(12), r.text(13),   r.text(14),   r.text(15)};
  if (!r.is_null(9)) s.released_at = r.integer(9);
  return s;
}

template <class Row>
CallRow read_call(const Row& r) {
  return CallRow{r.text(0),    r.text(1),  r.text(2),  r.text(3),  static_cast<int>(r.integer(4)),
                 r.integer(5), r.text(6),  r.text(7),  r.text(8),  r.text(9),
                 r.text(10),   r.text(11), r.text(12), r.flag(13), r.text(14)};
}

template <class Row>
ClickedCall read_clicked_call(const Row& r) {
  return ClickedCall{read_call(r), r.text(15), r.text(16), r.text(17)};
}

template <class Row>
Delivery read_delivery(const Row& r) {
  return Delivery{r.integer(0),
                  r.text(1),
                  r.text(2),
                  r.text(3),
                  r.text(4),
                  r.text(5),
                  r.text(6),
                  r.text(7),
                  r.integer(8),
                  r.integer(9),
                  static_cast<int>(r.integer(10)),
                  r.text(11),
                  r.text(12),
                  r.integer(13)};
}

}  // namespace callswap::server
