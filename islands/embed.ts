/**
 * `embed.js`: Atoll's elements on pages that Atoll did not render (SPEC 6).
 *
 * A page anywhere includes one module script from an Atoll server:
 *
 * ```html
 * <script type="module" src="https://recs.example/_atoll/embed.js"></script>
 * <recs-list category="books"><p>Loading recommendations…</p></recs-list>
 * ```
 *
 * The server answers this module with its element table filled in (see
 * `ssr-server/embed/`). Every tag of that table on the page, now or added
 * later, is then brought to life when it becomes visible (its `hydrate`
 * attribute, as in layouts; `load` starts at once):
 *
 * 1. unless it already has a shadow root (a server-side include of the
 *    fragment) or says `ssr="none"`: fetch its fragment from the same
 *    server (`/_atoll/fragment/<tag>?<attributes>`), parse it with its
 *    declarative shadow root (`setHTMLUnsafe`, or `innerHTML` and the DSD
 *    polyfill), and move that shadow root's nodes into the
 *    page's element — its own light-DOM children stay, slotted;
 * 2. when its hydration strategy fires: import its client module by absolute
 *    URL (each entry runs `lit-element-hydrate-support` before Lit), set the
 *    server's data as properties, remove `defer-hydration` — Lit hydrates
 *    the shadow root, or renders on the client when there is none
 *    (client-only elements).
 *
 * Until then every such element carries `defer-hydration`, so a module loaded
 * for one element never renders another one client-side before its fragment
 * arrives. Input inside such an element is held until it is alive and then
 * replayed, as by the island loader (`replay.ts`; one hydrate step for both,
 * `hydrate.ts`). Events are those of the island loader: `atoll:hydrated` (server
 * markup hydrated, or a client-only element rendered) and the cancelable
 * `atoll:hydration-error` (logged with `console.error` unless cancelled).
 *
 * A fragment that cannot be used — refused by the server's CORS allowlist or
 * unreachable (fetch rejects), non-2xx, or a body without the element's shadow
 * root — is an `atoll:hydration-error` whose error names the fragment URL.
 * The element is then rendered client-side at once, whatever its strategy
 * (there is no server markup to wait with, and a strategy such as
 * `interaction` or `media` would leave the page's placeholder up), from its
 * attributes; it gets no `atoll:hydrated`, having hydrated nothing. If its
 * module fails too, that is a second `atoll:hydration-error`, and the page's
 * own children of the tag stay as the fallback. With `hydrate="none"` (no
 * JavaScript) or no client module, the fallback stays after the error.
 */
import { attachShadowRoots, nativeDSD } from './dsd.ts';
import { hydrate, report } from './hydrate.ts';
import { DEFER_HYDRATION, HYDRATE, parseHydrate, PROPS_SELECTOR, SSR } from './protocol.ts';
import { hold } from './replay.ts';
import { strategies } from './strategies.ts';

/**
 * The server's element table: tag → `[fragment URL, client module URL,
 * …static imports to preload]`, each relative to `embed.js` (or absolute).
 * An empty module URL means "render only".
 */
export type EmbedTable = Record<string, string[]>;

/** Replaced by the server with the site's {@link EmbedTable}. */
declare const __ATOLL_EMBED__: EmbedTable;

/** Host-page and Atoll-reserved attributes: not sent to the fragment endpoint. */
const LOCAL = RegExp(`^(id|class|style|slot|${HYDRATE}|${SSR}|timeout|primary|cache|${DEFER_HYDRATION})$`);

/** Brings the elements of `table` to life on this page; `base` resolves its URLs. */
function embed(table: EmbedTable, base: string): void {
  const doc = document;
  const tags = Object.keys(table);
  if (!tags.length || !window.customElements) return;
  const selector = tags.join();
  const url = (u: string): string => new URL(u, base).href;
  const data = new WeakMap<Element, string>();
  const seen = new WeakSet<Element>();
  const preloaded = new Set<string>();
  /** The first import of each module URL, kept with its rejection (WebKit resolves a second import of a module that threw). */
  const modules: Record<string, Promise<unknown>> = {};

  /**
   * Parses fragment HTML into its host element, declarative shadow root
   * attached, comments kept (Lit's hydration markers). Not with
   * `Document.parseHTMLUnsafe(html)`: Chromium 156 drops every comment there.
   * The element stays disconnected, so nothing in it upgrades.
   */
  const parse = (html: string): Element | null => {
    const box = doc.createElement('div') as HTMLDivElement & { setHTMLUnsafe?: (html: string) => void };
    if (box.setHTMLUnsafe) box.setHTMLUnsafe(html);
    else {
      box.innerHTML = html;
      attachShadowRoots(box);
    }
    return box.firstElementChild;
  };

  /**
   * Fetches `el`'s fragment and moves its shadow root and data into `el`;
   * `el` is left untouched when any step fails (the error names the URL).
   */
  async function render(el: Element, fragment: string): Promise<void> {
    const query = new URLSearchParams();
    for (const a of el.attributes) if (!LOCAL.test(a.name)) query.append(a.name, a.value);
    const src = url(fragment) + (query + '' ? '?' + query : '');
    try {
      const response = await fetch(src);
      if (!response.ok) throw Error('status ' + response.status);
      const got = parse(await response.text());
      const shadow = got?.shadowRoot;
      if (got?.localName !== el.localName || !shadow) throw Error('no <' + el.localName + '> with a shadow root');
      const props = got.querySelector(PROPS_SELECTOR);
      // Decoded once the element's module (which installs the decoder) has loaded.
      if (props) data.set(el, props.textContent);
      for (const a of got.attributes) if (!el.hasAttribute(a.name)) el.setAttribute(a.name, a.value);
      el.attachShadow({ mode: shadow.mode, delegatesFocus: shadow.delegatesFocus }).append(...shadow.childNodes);
    } catch (error) {
      // fetch rejects with a TypeError when CORS refuses the page's origin or the server is unreachable.
      const why = error instanceof TypeError ? ' (CORS refused this origin, or unreachable)' : '';
      throw Error('fragment ' + src + ' failed: ' + error + why, { cause: error });
    }
  }

  /** `el`'s server data: from its fragment, or the page's own props script (consumed). */
  const props = (el: Element): unknown => {
    const script = el.querySelector(PROPS_SELECTOR);
    script?.remove();
    const text = data.get(el) ?? script?.textContent;
    // devalue's parse, installed by every Atoll element module (build/plugins.ts).
    return text && (self as unknown as { atollDecode(text: string): unknown }).atollDecode(text);
  };

  function start(el: Element): void {
    const tag = el.localName;
    // Already alive: upgraded by a module the page loaded itself.
    if (seen.has(el) || (customElements.get(tag) && !el.hasAttribute(DEFER_HYDRATION))) return;
    seen.add(el);
    el.setAttribute(DEFER_HYDRATION, '');
    if (!nativeDSD) attachShadowRoots(el);
    const [fragment, module, ...imports] = table[tag]!;
    const [name, arg] = parseHydrate(el.getAttribute(HYDRATE));
    const js = name !== 'none' && module;
    // Input inside it is held until it is alive (a `media` one: once its query matches).
    const held = js ? hold(el, name === 'media') : undefined;
    // The strategy to wait for once rendered: none when hydration follows rendering at once.
    const later = name === 'visible' || name === 'load' ? undefined : strategies[name] ?? strategies.visible;
    (name === 'load' ? strategies.load! : strategies.visible!)(el, '').then(async () => {
      // Fetch the module while the fragment comes, when it is needed right after it.
      if (js && !later) {
        for (const m of [module, ...imports]) {
          if (preloaded.has(m)) continue;
          preloaded.add(m);
          const link = doc.createElement('link');
          link.rel = 'modulepreload';
          link.href = url(m);
          doc.head.append(link);
        }
      }
      let lost = false;
      if (!el.shadowRoot && el.getAttribute(SSR) !== 'none') {
        try {
          await render(el, fragment!);
        } catch (error) {
          lost = true;
          report(el, name, error);
        }
      }
      // No fragment: render now, from the attributes (nothing to hydrate later).
      if (!js) return;
      const load = (): Promise<unknown> => (modules[module] ||= import(url(module)));
      const wait = !lost && later ? Promise.race([later(el, arg), held![0]]) : strategies.load!(el, arg);
      wait.then(() => {
        held![1]();
        hydrate([el], name, load, props, held!, lost);
      });
    });
  }

  const scan = (node: Node): void => {
    if (node.nodeType !== 1) return;
    const el = node as Element;
    if (el.matches(selector)) start(el);
    el.querySelectorAll(selector).forEach(start);
  };
  const go = (): void => {
    scan(doc.documentElement);
    new MutationObserver((records) => records.forEach((r) => r.addedNodes.forEach(scan))).observe(doc, {
      childList: true,
      subtree: true,
    });
  };
  if (doc.readyState === 'loading') doc.addEventListener('DOMContentLoaded', go);
  else go();
}

embed(__ATOLL_EMBED__, import.meta.url);
