// Types of the callswap browser SDK's ES module (the package entry, index.js).

export interface StartOptions {
  /** The site id, as in the site config on the callswap server. */
  site: string;
  /** The callswap server, e.g. "https://track.example.com" (default: the page's origin). */
  server?: string;
  /**
   * Where callswap.wasm from this package is served (a folder URL). Default: the server,
   * which serves it when its static_dir holds the same version's files.
   */
  assets?: string;
}

/** "loading" until the config and the module are in; "static" and "dynamic" numbers; "requesting" a dynamic one; "off": the page keeps its own numbers. */
export type Mode = 'loading' | 'static' | 'requesting' | 'dynamic' | 'off';

export interface State {
  mode: Mode;
  /** The marketing source of the visit (a source id of the site config). */
  source: string | null;
  /** The E.164 number shown, e.g. "+49301111115". */
  number: string | null;
  /** The session, in mode "dynamic" only. */
  session?: string;
  /** Why callswap is off ("could not load", "invalid site config", ...). */
  error?: string;
}

export declare const version: string;
/** Starts callswap on this page once; resolves when the page's numbers are swapped. */
export declare function start(options: StartOptions): Promise<State>;
/** Swaps the numbers under `root` (default: the page) and watches the page again; returns how many were swapped. */
export declare function swap(root?: Node): number;
/** Restores the page's own numbers exactly, and stops swapping until swap(). */
export declare function revert(): void;
/** What callswap shows now. Before start(): mode "off". */
export declare function state(): State;
/** Consent through the site's own banner: the site config's "manual" signal. */
export declare const consent: {
  grant(): void;
  deny(): void;
};

declare const callswap: {
  version: typeof version;
  start: typeof start;
  swap: typeof swap;
  revert: typeof revert;
  state: typeof state;
  consent: typeof consent;
};
export default callswap;
