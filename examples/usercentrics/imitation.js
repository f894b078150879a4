// NOT Usercentrics: a stand-in with the same documented UC_UI calls and event, for local testing.
const ucState = { chosen: false, callswap: false };
window.UC_UI = {
  isInitialized: () => true,
  isConsentRequired: () => !ucState.chosen,
  getServicesBaseInfo: () => Promise.resolve([{ id: 'svc-callswap', name: 'callswap', categorySlug: 'marketing',
    consent: { status: ucState.callswap } }]),
};
function ucChoose(granted) {
  Object.assign(ucState, { chosen: true, callswap: granted });
  window.dispatchEvent(new CustomEvent('ucEvent', { detail: { event: 'consent_status', type: 'explicit', callswap: granted } }));
}
document.addEventListener('DOMContentLoaded', () => {
  document.getElementById('accept').addEventListener('click', () => ucChoose(true));
  document.getElementById('reject').addEventListener('click', () => ucChoose(false));
});
