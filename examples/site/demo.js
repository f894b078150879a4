// The demo site's own code (not part of callswap): the cookie banner (vanilla-cookieconsent)
// and the demo toolbar that shows what callswap is doing and can simulate a call.
'use strict';

// 1. The consent banner. callswap reads the "analytics" category for the dynamic number and
// the "marketing" category for sending the ad click id to Google Ads (site-config.json).
CookieConsent.run({
  // The banner hides from automated browsers by default; the demo's browser tests click it.
  hideFromBots: false,
  categories: { necessary: { enabled: true, readOnly: true }, analytics: {}, marketing: {} },
  guiOptions: { consentModal: { layout: 'box', position: 'middle center' } }, // clear of the demo toolbar
  language: {
    default: 'de',
    translations: {
      de: {
        consentModal: {
          title: 'Darf eine Telefonnummer nur für Ihren Besuch reserviert werden?',
          description: 'Mit Ihrer Einwilligung zeigen wir Ihnen eine Telefonnummer, die nur während Ihres Besuchs gilt, '
            + 'damit wir einen Anruf der Werbung zuordnen können, über die Sie kamen. Dafür speichern wir ein Cookie. '
            + 'Ohne Einwilligung sehen Sie eine feste Nummer, und nichts wird gespeichert.',
          acceptAllBtn: 'Akzeptieren',
          acceptNecessaryBtn: 'Ablehnen',
          showPreferencesBtn: 'Einstellungen',
        },
        preferencesModal: {
          title: 'Datenschutz-Einstellungen',
          acceptAllBtn: 'Alle akzeptieren',
          acceptNecessaryBtn: 'Alle ablehnen',
          savePreferencesBtn: 'Speichern',
          sections: [
            { title: 'Notwendig', description: 'Speichert Ihre Auswahl.', linkedCategory: 'necessary' },
            { title: 'Anrufmessung (callswap)', description: 'Eine Telefonnummer nur für Ihren Besuch (Cookie „callswap“).',
              linkedCategory: 'analytics' },
            { title: 'Werbung (Google Ads)', description: 'Meldet Anrufe mit der Klick-ID Ihrer Anzeige an Google Ads.',
              linkedCategory: 'marketing' },
          ],
        },
      },
    },
  },
});

// 2. The demo toolbar. Everything it shows comes from window.callswap and is set as text.
(function demoBar() {
  const bar = document.createElement('div');
  bar.id = 'demo-bar';
  bar.setAttribute('data-callswap-noswap', ''); // it shows the numbers as they are
  const status = document.createElement('span');
  const call = document.createElement('button');
  call.type = 'button';
  call.id = 'simulate-call';
  call.textContent = 'Anruf simulieren';
  const settings = document.createElement('button');
  settings.type = 'button';
  settings.id = 'cookie-settings';
  settings.textContent = 'Cookie-Einstellungen';
  const result = document.createElement('span');
  result.id = 'call-result';
  bar.append(status, call, settings, result);
  document.body.append(bar);

  const show = () => {
    const state = window.callswap ? window.callswap.state() : { mode: 'loading' };
    const words = { static: 'feste Nummer der Quelle', requesting: 'fordert Nummer an …', dynamic: 'Nummer nur für diesen Besuch', off: 'aus', loading: 'lädt …' };
    status.replaceChildren();
    const mode = document.createElement('span');
    mode.className = 'mode';
    mode.id = 'demo-mode';
    mode.textContent = words[state.mode] || state.mode;
    status.append('callswap: ', mode, ` · Quelle: ${state.source || '–'} · Nummer: ${state.number || '–'}`);
  };
  document.addEventListener('callswap:mode', show);
  document.addEventListener('callswap:swap', show);
  show();

  settings.addEventListener('click', () => CookieConsent.showPreferences());
  call.addEventListener('click', async () => {
    const number = window.callswap?.state().number;
    if (!number) return;
    result.textContent = 'Anruf …';
    const answer = await fetch('/demo/call', { method: 'POST', headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ to: number }) }).then((r) => r.json());
    if (answer.error) {
      result.textContent = `Fehler: ${answer.error.message}`;
      return;
    }
    const how = answer.attribution === 'session' ? 'diesem Besuch' : `der Quelle ${answer.source || '–'}`;
    result.replaceChildren(`Anruf an ${number} erfasst, zugeordnet zu ${how}. `);
    const link = document.createElement('a');
    link.href = `${document.querySelector('script[data-site]').src.replace(/\/callswap\.js$/, '')}/admin`;
    link.target = '_blank';
    link.textContent = 'Bericht ansehen';
    // What Google Ads would fetch: the call is listed when the visit came with a click id and
    // consent to advertising (docs/conversions.md).
    const feed = document.createElement('a');
    feed.href = '/demo/google-ads.csv';
    feed.target = '_blank';
    feed.textContent = 'Google-Ads-Feed';
    result.append(link, ' · ', feed);
  });
})();
