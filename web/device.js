// Everything the SDK reads from or writes to the visitor's device: one cookie or one
// localStorage entry named "callswap", and only once the core allows storing (consent).
// docs/privacy.md lists each read and write by consent state; keep it in step with this file.

const NAME = 'callswap';
const COOKIE = /(?:^|;\s*)callswap=([^;]*)/;

/**
 * @param {Window} window
 * @param {{storage: 'cookie'|'localStorage', cookie_domain: string}} settings from the core
 */
export function createDevice(window, settings) {
  const document = window.document;
  const cookieAttributes = (maxAge) => {
    const domain = settings.cookie_domain ? `; domain=${settings.cookie_domain}` : '';
    const secure = window.location.protocol === 'https:' ? '; secure' : '';
    return `; path=/; max-age=${maxAge}; samesite=lax${domain}${secure}`;
  };
  return {
    /** What an earlier page kept ({session, touch}), or null. Called only with consent. */
    read() {
      try {
        let text = '';
        if (settings.storage === 'cookie') {
          const match = document.cookie.match(COOKIE);
          text = match ? decodeURIComponent(match[1]) : '';
        } else {
          text = window.localStorage.getItem(NAME) || '';
        }
        const value = text ? JSON.parse(text) : null;
        return value && typeof value === 'object' ? value : null;
      } catch {
        return null;
      }
    },
    /** Keeps the session and touch until the session expires. Called only with consent. */
    write(value) {
      try {
        const text = JSON.stringify(value);
        if (settings.storage === 'cookie') {
          const maxAge = Math.max(1, Math.ceil((value.session.expires_at - Date.now()) / 1000));
          document.cookie = `${NAME}=${encodeURIComponent(text)}${cookieAttributes(maxAge)}`;
        } else {
          window.localStorage.setItem(NAME, text);
        }
      } catch {
        // Storage blocked: the number still shows on this page, just not on the next.
      }
    },
    /**
     * Deletes what the SDK may have written. It reads first (document.cookie, and
     * localStorage.getItem) so that nothing is written when there is nothing to delete.
     */
    erase() {
      try {
        if (COOKIE.test(document.cookie)) document.cookie = `${NAME}=${cookieAttributes(0)}`;
      } catch {
        // cookies blocked
      }
      try {
        if (window.localStorage && window.localStorage.getItem(NAME) !== null) window.localStorage.removeItem(NAME);
      } catch {
        // storage blocked
      }
    },
  };
}
