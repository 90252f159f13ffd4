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
 * `lit-element-hydrate-support` before Lit), set the properties serialized by
 * the server's `data()` hook, remove `defer-hydration`, wait for the first
 * update and dispatch `atoll:hydrated` — or a cancelable
 * `atoll:hydration-error` that is logged unless cancelled. An island added
 * after the page was parsed whose tag has no client module in the import
 * map gets that error at once (with the reason); one in the parsed page does
 * not (a render-only element, left out of the map by the server).
 *
 * Islands inside another island's shadow root are hydrated by their host
 * (Lit removes their `defer-hydration` while it hydrates), so parents always
 * come first; the host's module imports theirs, as Lit elements do.
 */
import { attachShadowRoots, nativeDSD } from './dsd.ts';
import { strategies } from './strategies.ts';

/** What `atoll:hydrated` carries. */
export interface HydratedDetail {
  /** The strategy that fired (`visible`, `load`, …). */
  strategy: string;
  /** `performance.now()` when the strategy fired. */
  start: number;
  /** Milliseconds from the strategy firing to the end of the first update. */
  duration: number;
}

/** What `atoll:hydration-error` carries. */
export interface HydrationErrorDetail {
  /** The strategy that fired. */
  strategy: string;
  /** What went wrong: the import's rejection, or what hydration threw. */
  error: unknown;
}

const DEFER = 'defer-hydration';
const PREFIX = '@atoll/';
const doc = document;

function run(): void {
  // `<atoll-head>` writes the import map (`data-atoll`) with the loader, always.
  const imports: Record<string, string> = JSON.parse(doc.querySelector('script[data-atoll]')!.textContent!).imports;
  const known = (tag: string): boolean => PREFIX + tag in imports;

  const fire = (el: Element, type: string, detail: HydratedDetail | HydrationErrorDetail, cancelable?: boolean): boolean =>
    el.dispatchEvent(new CustomEvent('atoll:' + type, { bubbles: true, cancelable, detail }));

  async function hydrate(el: Element, strategy: string, release?: void | (() => void)): Promise<void> {
    const start = performance.now();
    const tag = el.localName;
    try {
      if (!known(tag)) throw Error('no client module for <' + tag + "> in this page's import map");
      await import(PREFIX + tag);
      if (!customElements.get(tag)) throw Error('undefined <' + tag + '>');
      const props = el.querySelector(':scope>script[data-atoll-props]');
      if (props) {
        // devalue's parse, installed by every Atoll element module (build/plugins.ts); no room for it here.
        Object.assign(el, (self as unknown as { atollDecode(text: string): unknown }).atollDecode(props.textContent!));
        props.remove();
      }
      el.removeAttribute(DEFER);
      await (el as Element & { updateComplete?: Promise<unknown> }).updateComplete;
      release?.();
      fire(el, 'hydrated', { strategy, start, duration: performance.now() - start });
    } catch (error) {
      release?.();
      if (fire(el, 'hydration-error', { strategy, error }, true)) console.error(error);
    }
  }

  const started = new WeakSet<Element>();
  /**
   * Set once the parsed page's islands are all started: an island added
   * after that (by a script: innerHTML, another element's render) whose tag
   * is not in the import map is reported. One in the page itself is not:
   * the server left it out of the map on purpose (`hydrate="none"` is
   * skipped anyway; a render-only remote element).
   */
  let late: unknown;
  function start(el: Element): void {
    if (!nativeDSD) attachShadowRoots(el);
    const [, name, arg] = /([^:]*):?(.*)/.exec(el.getAttribute('hydrate') || 'visible')!;
    if (name === 'none') return;
    if (!known(el.localName)) late && hydrate(el, name!);
    else (strategies[name!] ?? strategies.visible!)(el, arg!).then((release) => hydrate(el, name!, release));
  }

  /** True once the parser has gone past `node`'s end tag. */
  const closed = (node: Node | null): boolean => {
    for (; node; node = node.parentNode) if (node.nextSibling) return true;
    return doc.readyState !== 'loading';
  };

  let waiting: Element[] = [];
  const add = (node: Node): void => {
    if (node.nodeType !== 1) return;
    for (const el of [node as Element, ...(node as Element).querySelectorAll('*')]) {
      if (!started.has(el) && (el.hasAttribute(DEFER) || el.hasAttribute('hydrate') || known(el.localName))) {
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
  doc.addEventListener('DOMContentLoaded', () => {
    add(doc.documentElement);
    flush();
    late = 1;
    if (!nativeDSD) attachShadowRoots(doc);
  });
}

run();
