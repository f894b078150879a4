// NOT Cookiebot: a stand-in with the same documented globals and events, for local testing.
window.Cookiebot = { hasResponse: false, consent: { necessary: true, preferences: false, statistics: false, marketing: false, method: null } };
function cookiebotChoose(all) {
  window.Cookiebot.hasResponse = true;
  Object.assign(window.Cookiebot.consent, { preferences: all, statistics: all, marketing: all, method: 'explicit' });
  window.dispatchEvent(new Event(all ? 'CookiebotOnAccept' : 'CookiebotOnDecline'));
}
document.addEventListener('DOMContentLoaded', () => {
  document.getElementById('accept').addEventListener('click', () => cookiebotChoose(true));
  document.getElementById('reject').addEventListener('click', () => cookiebotChoose(false));
});
