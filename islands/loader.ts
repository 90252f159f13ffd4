/**
 * Atoll's island loader: the inline script that `<atoll-head>` writes into
 * every page (built by `atoll build` into one small IIFE).
 *
 * It finds the page's islands while the page streams in — every element with
 * `defer-hydration` (server-rendered) and every element whose tag is in
 * Atoll's import map (client-only `ssr="none"` elements and elements that
 * failed on the server) — waits until the parser has passed an island's end
 * tag, then runs the island's strategy (`hydrate` attribute; see
 * `strategies.ts`). When it fires: import the element's module through the
 * import map (`@atoll/<tag>`; every element bundle evaluates
 * `lit-element-hydrate-support` before Lit), set the properties serialized by
 * the server's `data()` hook, remove `defer-hydration`, wait for the first
 * update and dispatch `atoll:hydrated` — or a cancelable
 * `atoll:hydration-error` that is logged unless cancelled.
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
  const mapScript = doc.querySelector('script[type=importmap][data-atoll]');
  const imports: Record<string, string> = (mapScript && JSON.parse(mapScript.textContent!).imports) || {};
  const known = (tag: string): boolean => PREFIX + tag in imports;

  const fire = (el: Element, type: string, detail: HydratedDetail | HydrationErrorDetail, cancelable?: boolean): boolean =>
    el.dispatchEvent(new CustomEvent('atoll:' + type, { bubbles: true, cancelable, detail }));

  async function hydrate(el: Element, strategy: string, release: void | (() => void)): Promise<void> {
    const start = performance.now();
    const tag = el.localName;
    try {
      await import(PREFIX + tag);
      if (!customElements.get(tag)) throw Error('undefined <' + tag + '>');
      const props = el.querySelector(':scope > script[data-atoll-props]');
      if (props) {
        Object.assign(el, JSON.parse(props.textContent!));
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
  function start(el: Element): void {
    if (!nativeDSD) attachShadowRoots(el);
    const [, name, arg] = /([^:]*):?(.*)/.exec(el.getAttribute('hydrate') || 'visible')!;
    if (name === 'none' || !known(el.localName)) return;
    (strategies[name!] ?? strategies.visible!)(el, arg!).then((release) => hydrate(el, name!, release));
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
      if (!started.has(el) && (el.hasAttribute(DEFER) || known(el.localName))) {
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
  if (window.MutationObserver) {
    new MutationObserver((records) => {
      for (const r of records) r.addedNodes.forEach(add);
      flush();
    }).observe(doc, { childList: true, subtree: true });
  }
  doc.addEventListener('DOMContentLoaded', () => {
    add(doc.documentElement);
    flush();
    if (!nativeDSD) attachShadowRoots(doc);
  });
}

if (window.customElements) run();
