/**
 * Atoll's island loader: the inline script that `<atoll-head>` writes into
 * every page (built by `atoll build` into one small IIFE).
 *
 * It finds the page's islands while the page streams in — every element with
 * `defer-hydration` (server-rendered) and every element whose tag is in
 * Atoll's import map (client-only `ssr="none"` elements and elements that
 * failed on the server) — and, added later, elements with a `hydrate`
 * attribute; waits until the parser has passed an island's end
 * tag, then runs the island's strategy (`hydrate` attribute; see
 * `strategies.ts`). When it fires: import the element's module through the
 * import map (`@atoll/<tag>`; every element bundle evaluates
 * `lit-element-hydrate-support` before Lit; one import per tag and page, so
 * the error an island reports never depends on a second `import()` of a
 * module that threw — WebKit resolves that one), set the properties
 * serialized by the server's `data()` hook, remove `defer-hydration`, wait
 * for the first update and dispatch `atoll:hydrated` — or a cancelable
 * `atoll:hydration-error` that is logged unless cancelled. An island added
 * after the page was parsed whose tag has no client module in the import
 * map gets that error at once (with the reason); one in the parsed page does
 * not (a render-only element, left out of the map by the server).
 *
 * An island nested in the light DOM of another island that has yet to
 * hydrate joins that island's group: it hydrates when the outermost one's
 * strategy fires, together with it (see `hydrate.ts`), whatever its own
 * strategy — except `hydrate="none"`, which stays out (and an island with
 * `none` groups nothing). Input inside an island is held until it has
 * hydrated (`replay.ts`).
 *
 * A `visible` island whose module the page modulepreloads (the server's
 * first-screen guess) starts at once, and groups whose strategies fire
 * together hydrate in one task (`together`; docs/islands.md, "The first
 * screen hydrates at once, in one task"). The modules `<atoll-head>` marks
 * `data-atoll-eager` (those of server-rendered islands that hydrate at once)
 * are imported when the loader starts, so they are evaluated while the page
 * streams and such an island hydrates in the microtasks after the parser
 * passes its end tag, not after the page's first frame.
 *
 * Islands inside another island's shadow root are hydrated by their host
 * (Lit removes their `defer-hydration` while it hydrates), so parents always
 * come first; the host's module imports theirs, as Lit elements do.
 */
import { attachShadowRoots, nativeDSD } from './dsd.ts';
import { hydrate, report } from './hydrate.ts';
import { DEFER_HYDRATION, EAGER, HYDRATE, IMPORT_MAP_SELECTOR, parseHydrate, PROPS_SELECTOR, SPECIFIER_PREFIX } from './protocol.ts';
import { hold } from './replay.ts';
import type { LoaderHooks } from './router.ts';
import { ROUTER_SPECIFIER } from './router-protocol.ts';
import { strategies } from './strategies.ts';

export type { HydratedDetail, HydrationErrorDetail } from './hydrate.ts';

const doc = document;
/** How long, at most, a group whose modules are in waits for the others of its batch (see `together`). */
const BATCH_WAIT = 50;

function run(): void {
  // `<atoll-head>` writes the import map (`data-atoll`) with the loader, always.
  // The table `known` and `load` read: the import map's entries, and those
  // the client router adds from the pages it swaps in (`@atoll/<tag>` → URL;
  // an import map cannot change once modules loaded, so modules are imported
  // by URL — the same module as through the map).
  const imports: Record<string, string> = JSON.parse(doc.querySelector(IMPORT_MAP_SELECTOR)!.textContent!).imports;
  const known = (tag: string): boolean => SPECIFIER_PREFIX + tag in imports;
  // The modules `<atoll-head>` modulepreloads (as written, before the loader): the first screen's and `load` islands'.
  const first = new Set([...doc.querySelectorAll('link[rel=modulepreload]')].map((l) => l.getAttribute('href')));
  /**
   * The first import of each tag's module: its promise, kept (and so its
   * rejection), by specifier — a bare tag such as `constructor` (a hand-written
   * eager link) would find an Object member, not a promise, and stop the loader.
   */
  const modules: Record<string, Promise<unknown>> = {};
  const load = (tag: string, specifier = SPECIFIER_PREFIX + tag): Promise<unknown> => (modules[specifier] ||= import(imports[specifier]!));
  // The modules `<atoll-head>` marks eager (`data-atoll-eager="<tag>"`: server-rendered first-screen and
  // `load` islands) are evaluated now, while the page streams, not after its first frame (docs/islands.md).
  for (const l of doc.querySelectorAll('link[' + EAGER + ']')) load(l.getAttribute(EAGER)!).catch(() => {});
  const props = (el: Element): unknown => {
    const script = el.querySelector(PROPS_SELECTOR);
    if (script) {
      script.remove();
      // devalue's parse, installed by every Atoll element module (build/plugins.ts); no room for it here.
      return (self as unknown as { atollDecode(text: string): unknown }).atollDecode(script.textContent!);
    }
  };

  /** Islands started or grouped: never started again. */
  const started = new WeakSet<Element>();
  /** Islands whose group's strategy has fired (or that failed at once). */
  const fired = new WeakSet<Element>();
  /** True for an island that will hydrate and has not yet: it groups the islands in its light DOM. */
  const pending = (el: Element): boolean => known(el.localName) && parseHydrate(el.getAttribute(HYDRATE))[0] !== 'none' && !fired.has(el);
  /**
   * Set once the parsed page's islands are all started: an island added
   * after that (by a script: innerHTML, another element's render) whose tag
   * is not in the import map is reported. One in the page itself is not:
   * the server left it out of the map on purpose (`hydrate="none"` is
   * skipped anyway; a render-only remote element).
   */
  let late: unknown;
  function start(el: Element): void {
    if (fired.has(el)) return;
    if (!nativeDSD) attachShadowRoots(el);
    const [name, arg] = parseHydrate(el.getAttribute(HYDRATE));
    if (name === 'none') return;
    if (!known(el.localName)) {
      if (late) report(el, name, Error('no client module for <' + el.localName + "> in this page's import map"));
      return;
    }
    // Inside an island that will hydrate: it hydrates this one with it.
    for (let a = el.parentElement; a; a = a.parentElement) if (pending(a)) return;
    const held = hold(el, name === 'media');
    // A `visible` island of the server's first-screen guess (its module is modulepreloaded) starts at once.
    const strategy = name === 'visible' && first.has(imports[SPECIFIER_PREFIX + el.localName]!) ? 'load' : name;
    Promise.race([(strategies[strategy] ?? strategies.visible!)(el, arg), held[0]]).then(() => {
      held[1]();
      const group = [el, ...el.querySelectorAll('*')].filter(pending);
      for (const m of group) started.add(m), fired.add(m);
      const gate = together(Promise.all(group.map((m) => load(m.localName).catch(() => {}))));
      hydrate(group, name, (m) => load(m.localName).then((v) => gate.then(() => v)), props, held);
    });
  }

  /**
   * Groups whose strategies fire while an earlier group's modules are still
   * coming in hydrate together, in one task once all their modules are in —
   * one style and layout pass instead of one per group — but no group waits
   * more than `BATCH_WAIT` ms after the first group's modules are in.
   */
  let batch: Promise<unknown>[] | 0 = 0;
  let gate: Promise<unknown>;
  const together = (modules: Promise<unknown>): Promise<unknown> => {
    if (!batch) {
      const b: Promise<unknown>[] = (batch = []);
      const all = (): Promise<unknown> => {
        const n = b.length;
        return Promise.all(b).then(() => b.length > n && all());
      };
      gate = Promise.race([all(), modules.then(() => new Promise((r) => setTimeout(r, BATCH_WAIT)))]).then(() => (batch = 0));
    }
    batch.push(modules);
    return gate;
  };

  /** True once the parser has gone past `node`'s end tag. */
  const closed = (node: Node | null): boolean => {
    for (; node; node = node.parentNode) if (node.nextSibling) return true;
    return doc.readyState !== 'loading';
  };

  let waiting: Element[] = [];
  const add = (node: Node): void => {
    if (node.nodeType !== 1) return;
    for (const el of [node as Element, ...(node as Element).querySelectorAll('*')]) {
      if (!started.has(el) && (el.hasAttribute(DEFER_HYDRATION) || el.hasAttribute(HYDRATE) || known(el.localName))) {
        started.add(el);
        waiting.push(el);
      }
    }
  };
  const flush = (): void => {
    waiting = waiting.filter((el) => (closed(el) ? (start(el), false) : true));
  };

  add(doc.documentElement);
  flush();
  // Every browser that runs this ES2020 script has MutationObserver (and custom elements).
  new MutationObserver((records) => {
    for (const r of records) r.addedNodes.forEach(add);
    flush();
  }).observe(doc, { childList: true, subtree: true });
  // (`DOMContentLoaded` bubbles from the document to the window.)
  addEventListener('DOMContentLoaded', () => {
    add(doc.documentElement);
    flush();
    late = 1;
    if (!nativeDSD) attachShadowRoots(doc);
  });
  // The client router (docs/navigation.md), in pages served with navigation
  // on: imported at the `load` event (it is needed at the first click, and
  // must not compete with the first screen's modules; not at idle, whose
  // page-wide wait the strategies share), through this nonce'd
  // script (`'strict-dynamic'`). It extends `imports`, and calls the second
  // hook with each node it inserts: its islands start at once (before the
  // MutationObserver's callback), and one whose tag has no module is not
  // reported (a new page's render-only element is left out of its map on
  // purpose, as in a parsed page).
  const router = imports[ROUTER_SPECIFIER];
  if (router) {
    addEventListener('load', () =>
      import(router).then((m: { start: (...hooks: LoaderHooks) => void }) =>
        m.start(imports, (node) => {
          late = 0;
          add(node);
          flush();
          late = 1;
        }),
      ),
    );
  }
}

run();
