// The page side of swapping: walk the DOM once, hand all its text to the core in one
// buffer, apply the edits that come back, and remember each one so revert() restores the
// page exactly. Nothing here decides what a number is or how it is written: the core does.
// Only text node values and tel: hrefs are ever changed, and only with strings the core
// formatted from validated E.164 numbers, so nothing can become markup.

// Elements whose text flows into their neighbours' (a number may be split across them).
// localName, not nodeName: nodeName upper-cases on every read.
const INLINE_TAGS = new Set(['a', 'abbr', 'b', 'bdi', 'bdo', 'cite', 'code', 'data', 'dfn', 'em', 'font', 'i',
  'kbd', 'label', 'mark', 'nobr', 'q', 's', 'samp', 'small', 'span', 'strong', 'sub', 'sup', 'time', 'u', 'var']);
// Elements whose text is not page copy, or belongs to the visitor.
const SKIPPED_TAGS = new Set(['script', 'style', 'textarea', 'input', 'select', 'option', 'noscript', 'template',
  'iframe', 'object', 'canvas']);

const SHOW_ELEMENT_AND_TEXT = 0x1 | 0x4; // NodeFilter.SHOW_ELEMENT | NodeFilter.SHOW_TEXT

/**
 * Swaps a matcher's numbers in DOM subtrees and keeps the undo log.
 * @param {object} matcher from core.js (planEdits)
 * @param {string} noswapAttribute elements carrying it, and their subtrees, are left alone
 */
export function createSwapper(matcher, noswapAttribute) {
  // node → {original, written, attribute?}: the value before our first edit and after our last.
  const log = new Map();
  let shadowRootSeen = () => {};
  // Open shadow roots: every element is asked for one only where the page may have made one
  // unseen (a sweep: the first walk, and subtrees the page adds); other walks enter the
  // hosts already known, because reading element.shadowRoot is a third of a walk's cost.
  const shadowHosts = new WeakSet();
  let knownHosts = 0;
  let sweep = true;
  let lastTimings = { walk: 0, match: 0, apply: 0 };

  // Editable text belongs to the visitor. The attribute, not isContentEditable: that one
  // forces a style recalculation. Elements opted out by attribute are found with one native
  // query per walked root, so the walk itself reads no attributes.
  const optedOutSelector = `[${noswapAttribute}],[contenteditable]:not([contenteditable="false" i])`;
  let optedOut = new Set();
  function skipped(element) {
    return SKIPPED_TAGS.has(element.localName) || optedOut.has(element);
  }

  // The nearest ancestor that is not inline: text nodes under the same one are joined.
  // Consecutive text nodes mostly share a parent, so the last answer is kept.
  let lastParent = null;
  let lastBlock = null;
  function blockOf(node) {
    const parent = node.parentNode;
    if (parent === lastParent) return lastBlock;
    let element = parent;
    while (element && element.nodeType === 1 && INLINE_TAGS.has(element.localName)) element = element.parentNode;
    lastParent = parent;
    lastBlock = element;
    return element;
  }

  // Whether `node` sits in a subtree the swap must leave alone (for roots handed in later).
  function insideSkipped(node) {
    const element = node.nodeType === 1 ? node : node.parentNode;
    if (!element || element.nodeType !== 1) return false;
    for (let e = element; e && e.nodeType === 1; e = e.parentNode) if (SKIPPED_TAGS.has(e.localName)) return true;
    return element.closest(optedOutSelector) !== null;
  }

  // Collects the text of `roots` into one buffer. Each segment maps a buffer range to a
  // text node or a tel: href; '\n' (which always ends a number) separates what does not flow.
  function collect(roots) {
    const parts = [];
    const segments = [];
    let length = 0;
    let previousBlock = null;
    let broken = true;
    const add = (node, attribute, text) => {
      segments.push({ node, attribute, start: length, end: length + text.length });
      parts.push(text);
      length += text.length;
    };
    const separate = () => {
      parts.push('\n');
      length += 1;
    };
    const walk = (root) => {
      optedOut = root.nodeType === 3 ? new Set() : new Set(root.querySelectorAll(optedOutSelector));
      const walker = root.ownerDocument ? root.ownerDocument.createTreeWalker(root, SHOW_ELEMENT_AND_TEXT)
        : root.createTreeWalker(root, SHOW_ELEMENT_AND_TEXT);
      let node = root.nodeType === 3 ? root : walker.nextNode();
      while (node) {
        if (node.nodeType === 3) {
          const block = blockOf(node);
          if (broken || block !== previousBlock) separate();
          add(node, null, node.nodeValue);
          previousBlock = block;
          broken = false;
          node = walker.nextNode();
          continue;
        }
        if (skipped(node)) {
          broken = true;
          node = nextOutside(walker);
          continue;
        }
        if (!INLINE_TAGS.has(node.localName)) broken = true;
        if (node.localName === 'a') {
          const href = node.getAttribute('href');
          if (href && /^\s*tel:/i.test(href)) {
            separate();
            add(node, 'href', href);
            separate();
          }
        }
        const shadow = sweep || (knownHosts > 0 && shadowHosts.has(node)) ? node.shadowRoot : null;
        if (shadow) {
          if (!shadowHosts.has(node)) {
            shadowHosts.add(node);
            knownHosts++;
          }
          shadowRootSeen(shadow);
          broken = true;
          const outer = optedOut;
          walk(shadow);
          optedOut = outer;
          broken = true;
        }
        node = walker.nextNode();
      }
    };
    for (const root of roots) {
      broken = true;
      if (root.nodeType === 3 ? !insideSkipped(root.parentNode || root) : !insideSkipped(root)) walk(root);
    }
    lastParent = null;
    return { text: parts.join(''), segments };
  }

  // The next node after the current one's subtree.
  function nextOutside(walker) {
    for (;;) {
      const sibling = walker.nextSibling();
      if (sibling) return sibling;
      if (!walker.parentNode()) return null;
    }
  }

  function write(segment, value) {
    const { node, attribute } = segment;
    const current = attribute ? node.getAttribute(attribute) : node.nodeValue;
    if (current === value) return false;
    const entry = log.get(node);
    if (!entry) log.set(node, { original: current, written: value, attribute });
    else entry.written = value;
    if (attribute) node.setAttribute(attribute, value);
    else node.nodeValue = value;
    return true;
  }

  // Applies one edit over the segments it covers. The replacement is shared out in the
  // proportions of the original text, so `<span>030</span> 1234567` keeps its markup.
  // Returns whether anything changed (an edit can rewrite a number as it already stands).
  function applyEdit(edit, segments, first) {
    let changed = false;
    let remaining = edit.text;
    let index = first;
    while (index < segments.length && segments[index].start < edit.end) {
      const segment = segments[index];
      const from = Math.max(edit.start, segment.start);
      const to = Math.min(edit.end, segment.end);
      const isLast = index + 1 >= segments.length || segments[index + 1].start >= edit.end;
      const share = isLast ? remaining : remaining.slice(0, to - from);
      remaining = remaining.slice(share.length);
      const value = segment.attribute ? segment.node.getAttribute(segment.attribute) : segment.node.nodeValue;
      changed = write(segment, value.slice(0, from - segment.start) + share + value.slice(to - segment.start)) || changed;
      index++;
    }
    return changed;
  }

  function segmentAt(segments, offset) {
    let low = 0;
    let high = segments.length - 1;
    while (low < high) {
      const middle = (low + high + 1) >> 1;
      if (segments[middle].start <= offset) low = middle;
      else high = middle - 1;
    }
    return low;
  }

  return {
    /**
     * Swaps the numbers under `roots` (nodes or shadow roots). Returns how many changed.
     * `sweepShadowRoots: false` enters only the shadow roots already known.
     */
    swap(roots, { sweepShadowRoots = true } = {}) {
      sweep = sweepShadowRoots;
      const started = performance.now();
      const { text, segments } = collect(roots);
      const walked = performance.now();
      const edits = segments.length === 0 ? [] : matcher.planEdits(text);
      const matched = performance.now();
      let changed = 0;
      // Backwards, so the offsets of earlier edits in the same node stay valid.
      for (let i = edits.length - 1; i >= 0; i--) {
        if (applyEdit(edits[i], segments, segmentAt(segments, edits[i].start))) changed++;
      }
      lastTimings = { walk: walked - started, match: matched - walked, apply: performance.now() - matched };
      return changed;
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
      if (shadowHosts.has(host)) return;
      shadowHosts.add(host);
      knownHosts++;
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
  } catch (error) {
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
