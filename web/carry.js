// Carrying the visit's source to the next pages of the same site without storing anything:
// same-site links are decorated with the source id when they are followed, and the next page
// reads it back from its own URL. The source id is the same for every visitor of a campaign,
// so the URL carries nothing about the visitor (docs/privacy.md). Opt-in: data-carry-source="link".

/** The query parameter that carries the source id. */
export const CARRY_PARAM = 'callswap_source';

const SOURCE_ID = /^[A-Za-z0-9_.-]{1,64}$/;

/** The source id a previous page of the site carried in `href`, or ''. No DOM (tested under Node). */
export function carriedSource(href) {
  const value = new URL(href).searchParams.get(CARRY_PARAM) || '';
  return SOURCE_ID.test(value) ? value : '';
}

/**
 * `href` with the source id added, or null when the link leaves the site (another host), is
 * not http(s), already carries it, or the source id is not a plain id. No DOM.
 */
export function decorate(href, pageHref, source) {
  if (!SOURCE_ID.test(source)) return null;
  let url;
  try {
    url = new URL(href, pageHref);
  } catch {
    return null;
  }
  const page = new URL(pageHref);
  if (url.host !== page.host || (url.protocol !== 'https:' && url.protocol !== 'http:')) return null;
  if (url.searchParams.get(CARRY_PARAM) === source) return null;
  url.searchParams.set(CARRY_PARAM, source);
  return url.href;
}

/**
 * Decorates a same-site link at the moment it is followed (click, middle click, keyboard,
 * context menu),
 * so the page's markup stays untouched and no walk over the links is needed.
 * `source()` answers the source to carry now ('' for none).
 */
export function carryOnLinks(document, source) {
  const follow = (event) => {
    const current = source();
    const link = current && event.target?.closest?.('a[href]');
    if (!link) return;
    const href = decorate(link.getAttribute('href'), document.baseURI, current);
    if (href) link.setAttribute('href', href);
  };
  // The context menu too: "open in new tab" follows the link without a click event.
  for (const name of ['click', 'auxclick', 'contextmenu']) document.addEventListener(name, follow, true);
}
