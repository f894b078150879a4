// NOT OneTrust: a stand-in with the same documented globals and event, for local testing.
window.OnetrustActiveGroups = ',C0001,';
window.OneTrust = { closed: false, IsAlertBoxClosed() { return this.closed; } };
function otChoose(groups) {
  window.OneTrust.closed = true;
  window.OnetrustActiveGroups = groups;
  window.dispatchEvent(new CustomEvent('OneTrustGroupsUpdated', { detail: groups.split(',').filter(Boolean) }));
}
document.addEventListener('DOMContentLoaded', () => {
  document.getElementById('accept').addEventListener('click', () => otChoose(',C0001,C0002,C0003,C0004,'));
  document.getElementById('reject').addEventListener('click', () => otChoose(',C0001,'));
});
