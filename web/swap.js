// The page side of swapping: walk the page's text, hand the text that may hold a number to
// the core in one buffer, apply the edits that come back, and remember each one so revert()
// restores the page exactly. Nothing here decides what a number is or how it is written: the
// core does. Only text node values and tel: hrefs are ever changed, and only with strings the
// core formatted from validated E.164 numbers, so nothing can become markup.

// Elements whose text flows into their neighbours' (a number may be split across them).
// localName, not nodeName: nodeName upper-cases on every read.
const INLINE_TAGS = new Set(['a', 'abbr', 'b', 'bdi', 'bdo', 'cite', 'code', 'data', 'dfn', 'em', 'font', 'i',
  'kbd', 'label', 'mark', 'nobr', 'q', 's', 'samp', 'small', 'span', 'strong', 'sub', 'sup', 'time', 'u', 'var']);
// Elements whose text is not page copy, or belongs to the visitor.
const SKIPPED_TAGS = new Set(['script', 'style', 'textarea', 'input', 'select', 'option', 'noscript', 'template',
  'iframe', 'object', 'canvas']);

const SHOW_ELEMENT = 0x1; // NodeFilter.SHOW_ELEMENT
const SHOW_TEXT = 0x4; // NodeFilter.SHOW_TEXT
// The core's numbers are written with ASCII digits: text without one cannot hold a number.
const DIGIT = /[0-9]/;
const TEL_HREF = /^\s*tel:/i;
// Whether what ends `before` and what starts `after` can be read together: a number running
// across (a digit, then at most four separators, at the end of `before`), or a number at the
// very start of `after` whose left neighbours the core reads (it looks two characters back:
// a letter, a digit or `,:-/` there makes the number part of something else). Otherwise the
// two are cut by '\n' without asking the DOM whether they flow into each other.
const NUMBER_TAIL = /[0-9][^0-9\p{L}]{0,4}$/u;
const NUMBER_HEAD = /^[0-9+(]|^[,:/\-\u2010-\u2015\u2212][0-9+(]/;
const touches = (before, after) => NUMBER_TAIL.test(before.slice(-5)) || NUMBER_HEAD.test(after);

const isInline = (node) => node.nodeType === 1 && INLINE_TAGS.has(node.localName);

// Whether the text of `to` continues the text of `from` (which precedes it in the same tree)
// with only inline elements between: then a number may run across both. A line break, a
// block or any other text in between ends it.
function flowsInto(from, to) {
  let node = from;
  for (;;) {
    while (!node.nextSibling) {
      node = node.parentNode;
      if (!node || !isInline(node)) return false;
    }
    node = node.nextSibling;
    for (;;) {
      if (node === to) return true;
      if (node.nodeType === 3 || (node.nodeType === 1 && !isInline(node))) return false;
      if (!node.firstChild) break;
      node = node.firstChild;
    }
  }
}

/**
 * Swaps a matcher's numbers in DOM subtrees and keeps the undo log.
 * @param {object} matcher from core.js (planEdits)
 * @param {string} noswapAttribute elements carrying it, and their subtrees, are left alone
 */
export function createSwapper(matcher, noswapAttribute) {
  // node → {original, written, attribute?}: the value before our first edit and after our last.
  const log = new Map();
  let shadowRootSeen = () => {};
  // Hosts of the open shadow roots found so far (a sweep, or the attachShadow hook): a walk
  // enters the ones inside the root it walks. Finding them means asking every element for
  // its shadowRoot, so only a sweep does that (see swap()).
  const shadowHosts = new Set();
  let lastTimings = { walk: 0, match: 0, apply: 0 };

  // Editable text belongs to the visitor. The attribute, not isContentEditable: that one
  // forces a style recalculation.
  const skippedSelector = `${[...SKIPPED_TAGS].join(',')},[${noswapAttribute}],[contenteditable]:not([contenteditable="false" i])`;

  // Finding the skipped subtrees and the links must not cost a pass over every element:
  // elements by tag name come from the browser's cached collections (a shadow root has none:
  // one query there), the attributes from one query with a simple selector (an `i` flag or
  // a `:not()` makes it several times slower).
  const tagSelector = [...SKIPPED_TAGS].join(',');
  const attributeSelector = `[${noswapAttribute}],[contenteditable]`;
  const isSkipped = (element) => SKIPPED_TAGS.has(element.localName) || element.hasAttribute(noswapAttribute) ||
    (element.hasAttribute('contenteditable') && element.getAttribute('contenteditable').toLowerCase() !== 'false');
  const documentOrder = (a, b) => (a.compareDocumentPosition(b) & 4 ? -1 : 1); // 4: b follows a

  // Whether `node` sits in a subtree the swap must leave alone (for roots handed in, hosts, links).
  function insideSkipped(node) {
    const element = node.nodeType === 1 ? node : node.parentNode;
    return !!element && element.nodeType === 1 && element.closest(skippedSelector) !== null;
  }

  // The skipped subtrees under `root` as [first text node, last text node] pairs in document
  // order (nested ones fall inside their outer one), and the links that may be tel: links.
  // The walk jumps over each skipped subtree when it reaches its first text node, so it reads
  // no element on its way.
  function scan(root) {
    const skipped = [];
    let links;
    if (typeof root.getElementsByTagName === 'function') {
      for (const tag of SKIPPED_TAGS) {
        const found = root.getElementsByTagName(tag);
        for (let i = 0; i < found.length; i++) skipped.push(found[i]);
      }
      links = root.getElementsByTagName('a');
    } else {
      skipped.push(...root.querySelectorAll(tagSelector));
      links = root.querySelectorAll('a');
    }
    for (const element of root.querySelectorAll(attributeSelector)) if (isSkipped(element)) skipped.push(element);
    if (skipped.length > 1) skipped.sort(documentOrder);
    const ranges = [];
    const outers = [];
    let outer = null;
    for (const element of skipped) {
      if (outer?.contains(element)) continue;
      outer = element;
      outers.push(element);
      const texts = element.ownerDocument.createTreeWalker(element, SHOW_TEXT);
      const first = texts.nextNode();
      if (!first) continue;
      let last = element;
      while (last.lastChild) last = last.lastChild;
      if (last.nodeType !== 3) {
        texts.currentNode = last;
        last = texts.previousNode();
      }
      ranges.push(first, last);
    }
    const tel = [];
    const inSkipped = (link) => outers.some((element) => element.contains(link));
    const consider = (link) => {
      const href = link.getAttribute('href');
      if (href !== null && TEL_HREF.test(href) && !inSkipped(link)) tel.push(link);
    };
    if (root.nodeType === 1 && root.localName === 'a') consider(root);
    for (let i = 0; i < links.length; i++) consider(links[i]);
    return { ranges, links: tel };
  }

  // Finds the open shadow roots under `root` by asking every element (a sweep).
  function findShadowHosts(root) {
    const document = root.ownerDocument || root;
    const elements = document.createTreeWalker(root, SHOW_ELEMENT);
    const found = [];
    for (let element = root.nodeType === 1 ? root : elements.nextNode(); element; element = elements.nextNode()) {
      const shadow = element.shadowRoot;
      if (shadow && !shadowHosts.has(element)) {
        shadowHosts.add(element);
        found.push(shadow, ...findShadowHosts(shadow));
      }
    }
    return found;
  }

  // Collects the text of `roots` that may hold a number into one buffer, as parallel arrays
  // (no object per text node). A text node goes in when it holds a digit, and so does the
  // text right before and after such a node when it flows into it (the core judges a number
  // by its neighbours: a letter glued to it makes it something else); '\n' (which always ends
  // a number) separates what does not flow. tel: hrefs follow, each on its own.
  function collect(roots) {
    // The text goes straight into UTF-16 units: keeping the page's strings alive until the
    // wasm call would make the garbage collector copy all of them.
    let units = new Uint16Array(4096);
    const nodes = [];
    const starts = [];
    const ends = [];
    const isHref = [];
    let length = 0;
    const reserve = (count) => {
      if (length + count <= units.length) return;
      const grown = new Uint16Array(Math.max(units.length * 2, length + count));
      grown.set(units.subarray(0, length));
      units = grown;
    };
    const separate = () => {
      reserve(1);
      units[length++] = 10; // '\n'
    };
    const push = (node, value, joined, href) => {
      if (!joined) separate();
      reserve(value.length);
      nodes.push(node);
      starts.push(length);
      for (let i = 0; i < value.length; i++) units[length + i] = value.charCodeAt(i);
      length += value.length;
      ends.push(length);
      isHref.push(href);
    };

    const walk = (root) => {
      if (root.nodeType === 3) {
        if (DIGIT.test(root.nodeValue)) push(root, root.nodeValue, false, false);
        return;
      }
      const document = root.ownerDocument || root;
      const { ranges: skips, links } = scan(root);
      let skip = 0;
      const texts = document.createTreeWalker(root, SHOW_TEXT);
      let last = null; // the last node pushed while its text may still flow on
      let lastValue = '';
      let pending = null; // the text node just before, not pushed
      let trailing = false; // the node just pushed holds a digit: the next one may be its context
      // Whether `node` (value `value`) continues the text pushed last.
      const joins = (node, value) => last !== null && touches(lastValue, value) && flowsInto(last, node);
      for (let node = texts.nextNode(); node; node = texts.nextNode()) {
        if (node === skips[skip]) {
          texts.currentNode = skips[skip + 1];
          skip += 2;
          last = pending = null;
          trailing = false;
          continue;
        }
        const value = node.nodeValue;
        if (DIGIT.test(value)) {
          if (pending && NUMBER_HEAD.test(value) && flowsInto(pending, node)) {
            const context = pending.nodeValue;
            push(pending, context, joins(pending, context), false);
            last = pending;
            lastValue = context;
          }
          push(node, value, joins(node, value), false);
          last = node;
          lastValue = value;
          pending = null;
          trailing = true;
        } else if (trailing && joins(node, value)) {
          push(node, value, true, false);
          last = node;
          lastValue = value;
          trailing = false;
        } else {
          pending = node;
          trailing = false;
        }
      }
      for (const link of links) {
        push(link, link.getAttribute('href'), false, true);
        separate();
      }
      // The open shadow roots known inside this root (contains() stops at a shadow boundary,
      // so each host is entered from the tree it belongs to).
      for (const host of shadowHosts) {
        if (!host.isConnected) shadowHosts.delete(host);
        else if (host.shadowRoot && root.contains(host) && !insideSkipped(host)) {
          shadowRootSeen(host.shadowRoot);
          walk(host.shadowRoot);
        }
      }
    };
    for (const root of roots) {
      if (!insideSkipped(root.nodeType === 3 ? root.parentNode || root : root)) walk(root);
    }
    return { text: units.subarray(0, length), nodes, starts, ends, isHref };
  }

  function write(node, href, value) {
    const current = href ? node.getAttribute('href') : node.nodeValue;
    if (current === value) return false;
    const entry = log.get(node);
    if (!entry) log.set(node, { original: current, written: value, attribute: href ? 'href' : null });
    else entry.written = value;
    if (href) node.setAttribute('href', value);
    else node.nodeValue = value;
    return true;
  }

  // Applies one edit over the segments it covers. The replacement is shared out in the
  // proportions of the original text, so `<span>030</span> 1234567` keeps its markup.
  // Returns whether anything changed (an edit can rewrite a number as it already stands).
  function applyEdit(edit, segments, first) {
    const { nodes, starts, ends, isHref } = segments;
    let changed = false;
    let remaining = edit.text;
    let index = first;
    while (index < nodes.length && starts[index] < edit.end) {
      const from = Math.max(edit.start, starts[index]);
      const to = Math.min(edit.end, ends[index]);
      const isLast = index + 1 >= nodes.length || starts[index + 1] >= edit.end;
      const share = isLast ? remaining : remaining.slice(0, to - from);
      remaining = remaining.slice(share.length);
      const node = nodes[index];
      const value = isHref[index] ? node.getAttribute('href') : node.nodeValue;
      changed = write(node, isHref[index], value.slice(0, from - starts[index]) + share + value.slice(to - starts[index])) || changed;
      index++;
    }
    return changed;
  }

  function segmentAt(starts, offset) {
    let low = 0;
    let high = starts.length - 1;
    while (low < high) {
      const middle = (low + high + 1) >> 1;
      if (starts[middle] <= offset) low = middle;
      else high = middle - 1;
    }
    return low;
  }

  return {
    /**
     * Swaps the numbers under `roots` (nodes or shadow roots). Returns how many changed.
     * `sweepShadowRoots: false` enters only the shadow roots already known (see sweep()).
     */
    swap(roots, { sweepShadowRoots = true } = {}) {
      const started = performance.now();
      if (sweepShadowRoots) for (const root of roots) if (root.nodeType !== 3) findShadowHosts(root);
      const segments = collect(roots);
      const walked = performance.now();
      const edits = segments.nodes.length === 0 ? [] : matcher.planEdits(segments.text);
      const matched = performance.now();
      let changed = 0;
      // Backwards, so the offsets of earlier edits in the same node stay valid.
      for (let i = edits.length - 1; i >= 0; i--) {
        if (applyEdit(edits[i], segments, segmentAt(segments.starts, edits[i].start))) changed++;
      }
      lastTimings = { walk: walked - started, match: matched - walked, apply: performance.now() - matched };
      return changed;
    },
    /** Finds the open shadow roots under `root` not known yet (every element asked) and returns them. */
    sweep(root) {
      return findShadowHosts(root);
    },
    /** Puts back every value the swap changed, unless the page has changed it since. */
    revert() {
      for (const [node, entry] of log) {
        if (entry.attribute) {
          if (node.getAttribute(entry.attribute) === entry.written) node.setAttribute(entry.attribute, entry.original);
        } else if (node.nodeValue === entry.written) {
          node.nodeValue = entry.original;
        }
      }
      log.clear();
    },
    /** The page changed `node` itself: its new value is now the original. */
    forget(node) {
      const entry = log.get(node);
      if (!entry) return false;
      const current = entry.attribute ? node.getAttribute(entry.attribute) : node.nodeValue;
      if (current === entry.written) return false; // our own write
      log.delete(node);
      return true;
    },
    /** A shadow root attached to `host` after the walks began (the attachShadow hook). */
    noteShadowHost(host) {
      shadowHosts.add(host);
    },
    /** Called with every open shadow root the walk enters (to observe it). */
    onShadowRoot(callback) {
      shadowRootSeen = callback;
    },
    get editedNodes() {
      return log.size;
    },
    /** How long the last swap spent walking, matching and applying (ms; for the benchmark). */
    get timings() {
      return lastTimings;
    },
  };
}

/**
 * Hides the elements matching `selector` until release() or `timeoutMs`, whichever is first,
 * so the original number never flashes. A constructed style sheet: nothing is added to the
 * markup, and an invalid selector only means no hiding.
 */
export function hideUntilSwapped(document, selector, timeoutMs) {
  const noop = { release() {} };
  if (!selector || typeof CSSStyleSheet !== 'function' || !('adoptedStyleSheets' in document)) return noop;
  let sheet;
  try {
    document.querySelector(selector); // throws for an invalid selector
    sheet = new CSSStyleSheet();
    sheet.insertRule(`${selector}{visibility:hidden!important}`); // exactly one rule, or it throws
  } catch {
    return noop;
  }
  document.adoptedStyleSheets = [...document.adoptedStyleSheets, sheet];
  const release = () => {
    clearTimeout(timer);
    document.adoptedStyleSheets = document.adoptedStyleSheets.filter((s) => s !== sheet);
  };
  const timer = setTimeout(release, timeoutMs);
  return { release };
}
