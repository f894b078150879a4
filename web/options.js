// What the site owner said on the script tag: the site id (data-site, or ?site= in the script
// URL), the server (data-server, or the script's origin), a config URL (data-config) and the
// opt-in to carry the source across pages (data-carry-source). No DOM here (tested under Node).

/**
 * @param {string} scriptSrc the script's absolute URL
 * @param {(name: string) => string} attribute reads data-<name> from the script tag ('' when absent)
 * @param {object|undefined} inlineConfig window.callswapConfig
 */
export function readOptions(scriptSrc, attribute, inlineConfig) {
  const scriptUrl = new URL(scriptSrc);
  const inline = inlineConfig && typeof inlineConfig === 'object' ? inlineConfig : null;
  return {
    scriptUrl,
    siteId: attribute('site') || scriptUrl.searchParams.get('site') || (inline && typeof inline.site === 'string' ? inline.site : ''),
    serverUrl: (attribute('server') || scriptUrl.origin).replace(/\/+$/, ''),
    configUrl: attribute('config'),
    carrySource: attribute('carry-source') === 'link',
    inlineConfig: inline,
  };
}
