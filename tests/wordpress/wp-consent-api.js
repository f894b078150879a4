// The browser side of the WP Consent API plugin (wordpress.org/plugins/wp-consent-api), which
// is not packaged for Debian or npm, for the WordPress test: the same globals, cookies and
// event. wp_has_consent(category) reads the cookie wp_consent_<category>; under an opt-in
// consent type only 'allow' is consent. wp_set_consent(category, value) writes that cookie
// and fires `wp_listen_for_consent_change` on the document with event.detail mapping the
// category to 'allow' or 'deny'.
window.wp_consent_type = 'optin';
window.wp_has_consent = function (category) {
  var type = window.wp_consent_type;
  var prefix = 'wp_consent_' + category + '=';
  var value = '';
  document.cookie.split(';').forEach(function (c) {
    c = c.trim();
    if (c.indexOf(prefix) === 0) value = c.substring(prefix.length);
  });
  if (!type) return true;
  if (type.indexOf('optout') !== -1 && value === '') return true;
  return value === 'allow';
};
window.wp_set_consent = function (category, value) {
  if (value !== 'allow' && value !== 'deny') return;
  document.cookie = 'wp_consent_' + category + '=' + value + ';path=/';
  var detail = {};
  detail[category] = value;
  document.dispatchEvent(new CustomEvent('wp_listen_for_consent_change', { detail: detail }));
};
document.dispatchEvent(new CustomEvent('wp_consent_type_defined'));
