// The core seen from JavaScript: one call into wasm per job, results read straight from
// wasm memory. Used by the SDK and by the Node tests of the wasm build. `module` is what
// the Emscripten factory (createCallswapModule, createCallswapDecideModule) or
// wasm-runtime.js resolves to.

const MATCH_FIELDS = 7; // start, end, target, kind, form, extension_end, national_start
const EDIT_FIELDS = 4; // start, end, text offset, text length
const KINDS = ['text', 'tel'];
const FORMS = ['international', 'international_idd', 'national'];

function readCString(module, pointer) {
  const bytes = module.HEAPU8;
  let end = pointer;
  while (bytes[end] !== 0) end++;
  return new TextDecoder().decode(bytes.subarray(pointer, end));
}

// Copies a JS string into wasm memory as a NUL-terminated UTF-8 string; the caller frees it.
function allocCString(module, text) {
  const encoded = new TextEncoder().encode(text);
  const pointer = module._malloc(encoded.length + 1);
  module.HEAPU8.set(encoded, pointer);
  module.HEAPU8[pointer + encoded.length] = 0;
  return pointer;
}

// Copies UTF-16 code units into wasm memory, so offsets stay JS indices: a JS string's, or
// a Uint16Array's (the swap writes the page's text straight into one, see swap.js).
function withUtf16(module, text, use) {
  const length = text.length;
  const pointer = module._malloc(Math.max(1, length) * 2);
  try {
    const units = module.HEAPU16; // read after malloc: memory may have grown
    const base = pointer >> 1;
    if (typeof text === 'string') for (let i = 0; i < length; i++) units[base + i] = text.charCodeAt(i);
    else units.set(text, base);
    return use(pointer, length);
  } finally {
    module._free(pointer);
  }
}

/**
 * Creates a matcher for the site's numbers.
 * @param {object} module the resolved wasm module
 * @param {{country: string, targets: string[]}} options default country (ISO) and E.164 targets
 * @returns {{find(text: string): object[], setReplacement(index: number, e164: string|null): void,
 *            planEdits(text: string|Uint16Array): {start: number, end: number, text: string}[], destroy(): void}}
 * @throws {Error} with the core's reason when the country or a target is invalid
 */
export function createMatcher(module, { country, targets }) {
  const region = allocCString(module, country);
  const list = allocCString(module, targets.join(','));
  const handle = module._cs_matcher_create(region, list);
  module._free(region);
  module._free(list);
  if (handle === 0) throw new Error(readCString(module, module._cs_last_error()));
  return wrapMatcher(module, handle, targets);
}

function wrapMatcher(module, handle, targets) {
  return {
    find(text) {
      const count = withUtf16(module, text, (p, n) => module._cs_find_utf16(handle, p, n));
      const table = module._cs_match_table(handle) >> 2;
      const matches = [];
      for (let i = 0; i < count; i++) {
        const f = module.HEAP32.subarray(table + i * MATCH_FIELDS, table + (i + 1) * MATCH_FIELDS);
        matches.push({
          start: f[0],
          end: f[1],
          target: targets[f[2]],
          kind: KINDS[f[3]],
          form: FORMS[f[4]],
          extensionEnd: f[5],
        });
      }
      return matches;
    },
    setReplacement(index, e164) {
      const number = allocCString(module, e164 || '');
      const ok = module._cs_set_replacement(handle, index, number);
      module._free(number);
      if (!ok) throw new Error(readCString(module, module._cs_last_error()));
    },
    planEdits(text) {
      const count = withUtf16(module, text, (p, n) => module._cs_plan_edits_utf16(handle, p, n));
      const table = module._cs_edit_table(handle) >> 2;
      const chars = module._cs_edit_text(handle) >> 1;
      const edits = [];
      for (let i = 0; i < count; i++) {
        const f = module.HEAP32.subarray(table + i * EDIT_FIELDS, table + (i + 1) * EDIT_FIELDS);
        const units = module.HEAPU16.subarray(chars + f[2], chars + f[2] + f[3]);
        edits.push({ start: f[0], end: f[1], text: String.fromCharCode.apply(null, units) });
      }
      return edits;
    },
    destroy() {
      module._cs_matcher_destroy(handle);
    },
  };
}

// Calls an export that takes C strings and answers a JSON C string.
function callJson(module, fn, ...args) {
  const pointers = args.map((a) => (typeof a === 'string' ? allocCString(module, a) : a));
  try {
    return JSON.parse(readCString(module, fn(...pointers)));
  } finally {
    for (let i = 0; i < args.length; i++) if (typeof args[i] === 'string') module._free(pointers[i]);
  }
}

// A compact string (include/callswap/compact.hpp): its length in UTF-8 bytes, ':', itself.
const encoder = new TextEncoder();
const compactText = (text) => `${encoder.encode(text).length}:${text}`;
const CAMPAIGN = ['utm_source', 'utm_medium', 'utm_campaign', 'utm_term', 'utm_content', 'click_id', 'click_id_value'];

// Reads the compact tokens callswap.wasm answers with (NUL-terminated in its memory): each
// number as a number, each string as a string; next() takes one, list() a counted list.
function readAnswer(module, pointer) {
  if (!pointer) throw new Error('no such site');
  const bytes = module.HEAPU8;
  const tokens = [];
  for (let i = pointer; ;) {
    let value = 0;
    const start = i;
    while (bytes[i] >= 48 && bytes[i] <= 57) value = value * 10 + bytes[i++] - 48;
    if (i === start) break;
    if (bytes[i++] === 44) tokens.push(value); // ','
    else {
      tokens.push(new TextDecoder().decode(bytes.subarray(i, i + value)));
      i += value;
    }
  }
  let at = 0;
  const next = () => tokens[at++];
  return { next, list: () => Array.from({ length: next() }, next) };
}

/** An earlier touch {source, campaign} in the compact form cs_site_attribute reads. */
export function compactTouch({ source, campaign = {} }) {
  return [source, ...CAMPAIGN.map((name) => campaign[name])].map((v) => compactText(v || '')).join('');
}

// callswap.wasm calls that take C strings (or handles) and answer compact tokens.
function callCompact(module, fn, ...args) {
  const pointers = args.map((a) => (typeof a === 'string' ? allocCString(module, a) : a));
  try {
    return readAnswer(module, fn(...pointers));
  } finally {
    for (let i = 0; i < args.length; i++) if (typeof args[i] === 'string') module._free(pointers[i]);
  }
}

/**
 * Loads a compact site config (validated already: by the server, or by compactConfig) into
 * callswap.wasm: what the first swap needs.
 * @param {object} module the resolved callswap.wasm module
 * @param {string} compact the config in compact form
 * @returns {{matcher(): object, attribute(url: string, referrer: string, earlier?: object): object,
 *            settings(): object, isNumber(e164: string): boolean, destroy(): void}}
 * @throws {Error} when the text is not a compact config of this build's version
 */
export function loadSite(module, compact) {
  const text = allocCString(module, compact);
  const site = module._cs_site_load(text);
  module._free(text);
  if (site === 0) throw new Error(readCString(module, module._cs_last_error()));
  // The same names as the config's, defaults applied, so JavaScript never repeats a default.
  const settings = () => {
    const { next, list } = callCompact(module, module._cs_site_settings, site);
    const out = { site: next(), target_numbers: list(), storage: next(), cookie_domain: next(),
      request_timeout_ms: next(), noswap_attribute: next(), pools: next() === 1 };
    out.targets = out.target_numbers.length;
    return out;
  };
  return {
    matcher() {
      return wrapMatcher(module, module._cs_site_matcher(site), settings().target_numbers);
    },
    /** {source (null: none), reason, campaign (only what was present), kept_earlier_touch, static, pool} */
    attribute(url, referrer, earlier) {
      const { next } = callCompact(module, module._cs_site_attribute, site, url, referrer || '', earlier ? compactTouch(earlier) : '');
      const out = { reason: next(), kept_earlier_touch: next() === 1, static: next(), pool: next(), source: next() || null, campaign: {} };
      for (const name of CAMPAIGN) {
        const value = next();
        if (value) out.campaign[name] = value;
      }
      return out;
    },
    isNumber(e164) {
      const text = allocCString(module, e164);
      const valid = module._cs_is_e164(text) === 1;
      module._free(text);
      return valid;
    },
    settings,
    destroy() {
      module._cs_site_destroy(site);
    },
  };
}

/**
 * Validates a site config (an inline one or a file's) with the full loader of
 * callswap-decide.wasm, and answers its compact form for loadSite.
 * @param {object} module the resolved callswap-decide.wasm module
 * @param {object|string} config the site config (object or JSON text)
 * @returns {string} the compact form
 * @throws {Error} whose `errors` lists "path: reason" for every problem (code invalid_config,
 *   the site owner's problem of problems.js)
 */
export function compactConfig(module, config) {
  const text = allocCString(module, typeof config === 'string' ? config : JSON.stringify(config));
  const compact = module._cs_site_compact(text);
  module._free(text);
  if (compact === 0) {
    const errors = JSON.parse(readCString(module, module._cs_last_error()));
    const error = new Error(`invalid site config: ${errors.join('; ')}`);
    Object.assign(error, { errors, code: 'invalid_config', details: { errors } });
    throw error;
  }
  return readCString(module, compact);
}

/**
 * The decisions only a source with a pool needs, from callswap-decide.wasm: consent and the
 * session machine.
 * @param {object} module the resolved callswap-decide.wasm module
 * @param {string} compact the config in compact form
 * @returns {{settings(): {signals: string[], wp_consent_categories: string[]},
 *            consent(signals: object): object, session(source: string): object, destroy(): void}}
 */
export function loadDecisions(module, compact) {
  const text = allocCString(module, compact);
  const site = module._cs_site_load(text);
  module._free(text);
  if (site === 0) throw new Error(readCString(module, module._cs_last_error()));
  return {
    /** What the consent adapters read: the platforms and the WP Consent API categories. */
    settings() {
      return callJson(module, module._cs_site_consent_settings, site);
    },
    consent(signals) {
      return callJson(module, module._cs_site_consent, site, JSON.stringify(signals));
    },
    session(source) {
      const name = allocCString(module, source);
      const handle = module._cs_session_create(site, name);
      module._free(name);
      return {
        handle(event) {
          const answer = callJson(module, module._cs_session_handle, handle, JSON.stringify(event));
          if (answer.error) throw new Error(answer.error);
          return answer;
        },
        destroy() {
          module._cs_session_destroy(handle);
        },
      };
    },
    destroy() {
      module._cs_site_destroy(site);
    },
  };
}
