/**
 * Server-side shims (`ssr.shims`, `elements.<tag>.shims`; docs/ssr-shims.md):
 * globals that browser code expects, installed once per process before any
 * element module is imported.
 *
 * - `"lit"`: Lit's server DOM shim (`@lit-labs/ssr-dom-shim`, as
 *   `@lit-labs/ssr/lib/install-global-dom-shim.js` installs it): `HTMLElement`,
 *   `Element`, `Node`, `document`, `CSSStyleSheet`, `ShadowRoot`, the
 *   observers, a `location` of `http://localhost/` and a
 *   `requestAnimationFrame` whose callbacks never run. Unlike Lit's installer
 *   it never replaces what the process has: Node's `fetch`, `EventTarget`,
 *   `Event`, and the `customElements` registry Atoll renders from stay.
 * - `"window"`: `window` and `self` are the global object (as in a browser),
 *   which gets `addEventListener`/`removeEventListener`/`dispatchEvent`, a
 *   `matchMedia` that never matches, a `getComputedStyle` with no values,
 *   and (Node 20 has none) a `navigator`; the document (the "lit" shim's)
 *   gets an empty `documentElement`, `head` and `body`, and queries that
 *   find nothing.
 * - any other entry: a module (a path relative to the site, or a package
 *   specifier) imported for its side effects, in the order given.
 *
 * Globals are process-wide: the site's shims and every element's are
 * installed together, in config order, before the first element module is
 * imported, and stay for the life of the process.
 */
import * as domShim from '@lit-labs/ssr-dom-shim';
import type { ProblemList } from '../errors.ts';
import { BUILTIN_SHIMS, DEFAULT_IMPORT_TIMEOUT, formatConfigPath, type ConfigLocator, type ConfigPath, type ResolvedConfig } from './config.ts';
import { describeThrown, importFailureMessage, importGuarded, resolveModule, withStartupGuard } from './registry.ts';

type Globals = Record<string, unknown>;
const g = globalThis as unknown as Globals;

/** Sets `name` on the global object unless it is already there; true when it was set. */
function provide(name: string, value: unknown): boolean {
  if (name in g && g[name] !== undefined) return false;
  Object.defineProperty(g, name, { value, writable: true, configurable: true, enumerable: false });
  return true;
}

/** Installs Lit's server DOM shim without replacing anything the process has; returns the names set. */
export function installLitShim(): string[] {
  const set: string[] = [];
  const classes: Array<[string, unknown]> = [
    ['HTMLElement', domShim.HTMLElement],
    ['Element', domShim.Element],
    ['Node', domShim.Node],
    ['Document', domShim.Document],
    ['document', domShim.document],
    ['ShadowRoot', domShim.ShadowRoot],
    ['HTMLSlotElement', domShim.HTMLSlotElement],
    ['ElementInternals', domShim.ElementInternals],
    ['CSSStyleSheet', domShim.CSSStyleSheet],
    ['CSSRule', domShim.CSSRule],
    ['CSSRuleList', domShim.CSSRuleList],
    ['StyleSheet', domShim.StyleSheet],
    ['MediaList', domShim.MediaList],
    ['CustomElementRegistry', domShim.CustomElementRegistry],
    ['customElements', domShim.customElements],
    ['Window', domShim.Window],
    ['IntersectionObserver', domShim.IntersectionObserver],
    ['MutationObserver', domShim.MutationObserver],
    ['ResizeObserver', domShim.ResizeObserver],
    ['Event', domShim.Event],
    ['CustomEvent', domShim.CustomEvent],
    ['EventTarget', domShim.EventTarget],
    // As Lit's shim: a placeholder, not the request's URL.
    ['location', new URL('http://localhost/')],
    // As Lit's shim: nothing animates on the server; callbacks never run.
    ['requestAnimationFrame', () => 0],
    ['cancelAnimationFrame', () => undefined],
  ];
  for (const [name, value] of classes) if (provide(name, value)) set.push(name);
  return set;
}

/** A `MediaQueryList` that never matches (the server has no viewport). */
function mediaQueryList(query: unknown): object {
  return {
    matches: false,
    media: String(query),
    onchange: null,
    addListener() {},
    removeListener() {},
    addEventListener() {},
    removeEventListener() {},
    dispatchEvent: () => false,
  };
}

/** Makes `window` and `self` the global object, with what browser code reads from them at import; returns the names set. */
export function installWindowShim(): string[] {
  const set: string[] = [];
  const events = new EventTarget();
  const entries: Array<[string, unknown]> = [
    ['window', globalThis],
    ['self', globalThis],
    ['addEventListener', events.addEventListener.bind(events)],
    ['removeEventListener', events.removeEventListener.bind(events)],
    ['dispatchEvent', events.dispatchEvent.bind(events)],
    ['matchMedia', mediaQueryList],
    ['getComputedStyle', () => ({ getPropertyValue: () => '' })],
    ['navigator', { userAgent: `Node.js/${process.versions.node} (Atoll server rendering)`, language: 'en', languages: ['en'], platform: '', maxTouchPoints: 0, onLine: true }],
  ];
  for (const [name, value] of entries) if (provide(name, value)) set.push(name);
  // An empty document (when there is one: the "lit" shim's), as browser code
  // finds it while it loads: <html>, <head> and <body> exist and a query
  // finds nothing. (Spectrum's `document.body.querySelector(':focus-visible')`
  // test would otherwise throw and import a polyfill that needs a real DOM.)
  const doc = g.document as Globals | undefined;
  if (doc !== undefined && doc !== null && typeof doc === 'object') {
    const Element = g.HTMLElement as (new () => object) | undefined;
    const empty = (): object => Object.assign(Element === undefined ? {} : new Element(), emptyQueries());
    const added: Array<[string, () => unknown]> = [
      ['documentElement', empty],
      ['head', empty],
      ['body', empty],
      ['querySelector', () => () => null],
      ['querySelectorAll', () => () => []],
      ['getElementById', () => () => null],
      ['getElementsByTagName', () => () => []],
    ];
    for (const [name, make] of added) {
      if (doc[name] !== undefined) continue;
      Object.defineProperty(doc, name, { value: make(), writable: true, configurable: true });
      set.push(`document.${name}`);
    }
  }
  return set;
}

/** Queries on an empty element: nothing is found. */
function emptyQueries(): Globals {
  return { querySelector: () => null, querySelectorAll: () => [], getElementsByTagName: () => [], getElementsByClassName: () => [] };
}

const BUILTIN_INSTALLERS: Record<(typeof BUILTIN_SHIMS)[number], () => string[]> = { lit: installLitShim, window: installWindowShim };

/** Shims installed in this process: built-in names and module URLs. */
const installedShims = new Set<string>();

/** One shim as configured: the entry, and where it is written. */
interface ShimEntry {
  entry: string;
  path: ConfigPath;
}

/** The site's shims then each element's, in config order, each once. */
export function configuredShims(config: ResolvedConfig): ShimEntry[] {
  const out: ShimEntry[] = [];
  (config.ssr?.shims ?? []).forEach((entry, i) => out.push({ entry, path: ['ssr', 'shims', i] }));
  for (const [tag, el] of Object.entries(config.elements ?? {})) {
    (el.shims ?? []).forEach((entry, i) => out.push({ entry, path: ['elements', tag, 'shims', i] }));
  }
  return out;
}

/**
 * Installs the configured shims (see the module comment). Returns the built-in
 * names and module specifiers installed, and whether all of them were;
 * a shim that cannot be resolved, throws, ends the process or hangs is a
 * problem at its config key.
 */
export async function installShims(
  root: string,
  config: ResolvedConfig,
  locate: ConfigLocator,
  problems: ProblemList,
): Promise<{ ok: boolean; installed: string[] }> {
  const entries = configuredShims(config);
  if (entries.length === 0) return { ok: true, installed: [] };
  const timeoutMs = config.ssr?.importTimeout ?? DEFAULT_IMPORT_TIMEOUT;
  const installed: string[] = [];
  const before = problems.errors.length;
  await withStartupGuard(async () => {
    const seen = new Set<string>();
    for (const { entry, path } of entries) {
      const builtin = (BUILTIN_SHIMS as readonly string[]).includes(entry) ? (entry as (typeof BUILTIN_SHIMS)[number]) : undefined;
      if (builtin !== undefined) {
        if (seen.has(builtin)) continue;
        seen.add(builtin);
        if (!installedShims.has(builtin)) {
          try {
            BUILTIN_INSTALLERS[builtin]();
          } catch (e) {
            // A global that something made read-only, say.
            problems.error(locate(path, 'value'), `${formatConfigPath(path)}: the built-in "${builtin}" shim could not be installed: ${describeThrown(e)}`);
            continue;
          }
          installedShims.add(builtin);
        }
        installed.push(builtin);
        continue;
      }
      let url: string;
      try {
        url = resolveModule(root, entry);
      } catch (e) {
        problems.error(locate(path, 'value'), `${formatConfigPath(path)}: cannot resolve the shim module "${entry}" from ${root}: ${(e as Error).message}`);
        continue;
      }
      if (seen.has(url)) continue;
      seen.add(url);
      const result = await importGuarded(url, `the shim ${entry}`, timeoutMs);
      if (!result.ok) {
        problems.error(locate(path, 'value'), `${formatConfigPath(path)}: ${importFailureMessage('the shim module', result, { module: entry, moduleUrl: url, shims: [], timeoutMs })}`);
        continue;
      }
      installedShims.add(url);
      installed.push(entry);
    }
  }, problems);
  return { ok: problems.errors.length === before, installed };
}
