// What callswap.wasm needs from the page, instead of Emscripten's glue (about 3 KB gzip that
// every page view downloads for code paths a page never takes: Node, workers, a file system,
// XHR fallbacks). The module imports two functions (abort, grow the memory) and exports the
// C ABI of wasm/bindings.cpp under minified names; those names are read from the glue of the
// same build when the SDK is bundled (scripts/bundle-sdk.mjs), so the two cannot drift.
// The module object has the shape core.js expects: `_cs_*`, `_malloc`, `_free`, and the
// HEAPU8 / HEAPU16 / HEAP32 views (fresh after the memory grew).

/* global CALLSWAP_WASM_NAMES, CALLSWAP_DECIDE_NAMES */
const BUNDLED_NAMES = typeof CALLSWAP_WASM_NAMES === 'object' ? CALLSWAP_WASM_NAMES : null;
/** The names of callswap-decide.wasm, the second module (same runtime, its own exports). */
export const DECIDE_NAMES = typeof CALLSWAP_DECIDE_NAMES === 'object' ? CALLSWAP_DECIDE_NAMES : null;

const PAGE = 65536;
const MAX_MEMORY = 2147483648; // Emscripten's default ceiling for a growable memory

/**
 * Instantiates the core. `instantiate(imports)` compiles and instantiates callswap.wasm with
 * those imports (resolving to {instance}); `names` maps the glue's names to the module's.
 * @returns {Promise<object>} the module object core.js works with
 */
export function instantiateCore(instantiate, names = BUNDLED_NAMES) {
  let memory = null;
  let u8 = null;
  let u16 = null;
  let i32 = null;
  const views = () => {
    if (u8 === null || u8.buffer !== memory.buffer) {
      u8 = new Uint8Array(memory.buffer);
      u16 = new Uint16Array(memory.buffer);
      i32 = new Int32Array(memory.buffer);
    }
  };
  const host = {
    [names.abort]: () => {
      throw new WebAssembly.RuntimeError('callswap.wasm aborted');
    },
    // Grows a fifth ahead, as Emscripten's glue does, so a large page does not grow the
    // memory on every allocation; the exact size if that much is not available.
    [names.resizeHeap]: (requested) => {
      requested >>>= 0;
      const size = memory.buffer.byteLength;
      for (const wanted of [Math.max(requested, size * 1.2), requested]) {
        const bytes = Math.min(MAX_MEMORY, Math.ceil(wanted / PAGE) * PAGE);
        if (bytes < requested) return 0;
        try {
          memory.grow((bytes - size) / PAGE);
          return 1;
        } catch {
          // not that much memory: try the exact size
        }
      }
      return 0;
    },
  };
  return instantiate({ [names.importModule]: host }).then(({ instance }) => {
    const exports = instance.exports;
    memory = exports[names.memory];
    const module = {
      get HEAPU8() {
        views();
        return u8;
      },
      get HEAPU16() {
        views();
        return u16;
      },
      get HEAP32() {
        views();
        return i32;
      },
    };
    for (const [name, exported] of Object.entries(names.exports)) {
      if (typeof exports[exported] !== 'function') throw new Error(`callswap.wasm does not export ${name}`);
      module[name] = exports[exported];
    }
    exports[names.constructors]();
    return module;
  });
}

/**
 * Reads the module's names from Emscripten's glue (the build's callswap.js): the import
 * module and its two functions, the memory, the static constructors and every `_` export.
 * Throws when the glue expects anything else, so a changed toolchain fails the build.
 */
export function wasmNamesFromGlue(glue) {
  const find = (pattern, what) => {
    const found = pattern.exec(glue);
    if (!found) throw new Error(`the Emscripten glue has no ${what}`);
    return found[1];
  };
  const library = find(/asmLibraryArg=\{([^}]*)\}/, 'import object');
  const imports = Object.fromEntries([...library.matchAll(/"(\w+)":(\w+)/g)].map((m) => [m[2], m[1]]));
  const expected = ['_abort', '_emscripten_resize_heap'];
  if (Object.keys(imports).sort().join() !== expected.join()) {
    throw new Error(`callswap.wasm imports ${Object.keys(imports).join(', ')}; wasm-runtime.js provides ${expected.join(', ')}`);
  }
  const exports = {};
  for (const m of glue.matchAll(/Module\["(_\w+)"\]=Module\["asm"\]\["(\w+)"\]/g)) {
    if (m[1] !== '___wasm_call_ctors') exports[m[1]] = m[2];
  }
  return {
    importModule: find(/info=\{"(\w+)":asmLibraryArg\}/, 'import module'),
    abort: imports._abort,
    resizeHeap: imports._emscripten_resize_heap,
    memory: find(/wasmMemory=Module\["asm"\]\["(\w+)"\]/, 'memory export'),
    constructors: find(/addOnInit\(Module\["asm"\]\["(\w+)"\]\)/, 'constructors export'),
    exports,
  };
}
