/**
 * Prefetch (docs/navigation.md, "Prefetch"): when to fetch a link's page
 * before the click. `data-atoll-prefetch` on the `<a>` or an ancestor
 * (across shadow roots), else `<meta name="atoll-prefetch" content>` in the
 * page, else `intent`:
 * - `intent` (the default): the pointer rests on the link for
 *   {@link INTENT_DELAY} ms, or presses it (`pointerdown`: a mouse button, a
 *   pen or a finger touching it) — the time between a press and its click,
 *   and most of the time a pointer rests on a link before the click, is
 *   then spent fetching. Only for links the router will follow, never under
 *   Save-Data;
 * - `hover`: the pointer moves over it, or keyboard focus reaches it;
 * - `visible`: it enters the viewport;
 * - `none` (or `false`, or a value not listed): never.
 *
 * A link the router will handle is prefetched with the navigation fetch
 * itself (the keys kept as of now): the response waits in
 * {@link PrefetchCache}, is used by one click on the same URL within
 * {@link PREFETCH_TTL} ms, and every navigation empties the cache when it
 * starts and again when it settles (what was kept has changed); no prefetch
 * starts while a navigation runs. A link it will not handle (RELOAD_ATTR,
 * another origin, a `target`) and explicitly marked `hover` or `visible`
 * gets a document prefetch: a Speculation Rules `prefetch` where the browser
 * has them, `<link rel="prefetch">` otherwise.
 */
import { HYDRATED_EVENT, PREFETCH_ATTR } from './protocol.ts';
import { anchorOf, closestWith, hashOnly, inSite, optedOut, selfTarget } from './router-links.ts';

/** How long a prefetched navigation answer may be used, in milliseconds. */
export const PREFETCH_TTL = 30_000;

/** How long the pointer rests on an `intent` link before its page is fetched, in milliseconds. */
export const INTENT_DELAY = 80;

/** At most this many answers wait at once; a new one pushes out (and aborts) the oldest. */
export const PREFETCH_MAX = 8;

/** When a link's page is prefetched (see the module comment). */
export type PrefetchWhen = 'intent' | 'hover' | 'visible' | 'none';

interface Entry {
  response: Promise<Response>;
  expires: number;
  controller: AbortController;
  /** The cache's generation when it was asked. */
  generation: number;
}

/**
 * Prefetched navigation answers by URL (without the hash): each used at most
 * once, and only in the page generation they were asked in. A navigation is
 * bracketed by {@link begin} and {@link settle}: each empties the cache (the
 * keys a waiting answer was asked with are those of the page being left),
 * and no prefetch starts in between (its keys would be stale by the swap).
 */
export class PrefetchCache {
  private readonly entries = new Map<string, Entry>();
  /**
   * What happens to an answer when it arrives, while it waits for its click:
   * its body is read (through a clone), so that it is complete when the click
   * comes. An answer asked for a likely click (see {@link add}) is given to
   * `prepare` instead, when there is one: the router reads and parses the new
   * page and preloads its modules, so that the click only swaps — main-thread
   * work and module fetches not spent on every link merely scrolled past. A
   * rejection is the prefetch's failure (the entry is dropped).
   */
  constructor(private readonly prepare?: (response: Response) => Promise<unknown>) {}
  /** Bumped when a navigation starts and when it settles. */
  private generation = 0;
  /** A navigation is running (between {@link begin} and its {@link settle}). */
  private navigating = false;

  /**
   * A navigation starts (after it took its answer): every waiting answer is
   * dropped and aborted, and prefetches are refused until {@link settle}
   * with the number returned.
   */
  begin(): number {
    this.clear();
    this.navigating = true;
    return ++this.generation;
  }

  /**
   * The navigation `generation` is over (swapped, failed or aborted): the
   * cache is emptied again and prefetches start again, with the new page's
   * keys. Does nothing when a later navigation has begun since.
   */
  settle(generation: number): void {
    if (generation !== this.generation) return;
    this.clear();
    this.navigating = false;
    this.generation++;
  }

  /**
   * Starts `fetchPage(url, signal)` unless a fresh answer for `url` is waiting
   * already, or a navigation is running. `likely`: the user points at the link
   * (a rest, a press, hover, focus) or a script asked — its answer is prepared
   * on arrival; false for a link that only came into view.
   */
  add(url: string, fetchPage: (url: string, signal: AbortSignal) => Promise<Response>, likely = true): void {
    if (this.navigating) return;
    const key = url.split('#')[0]!;
    const known = this.entries.get(key);
    if (known !== undefined && known.expires > Date.now()) return;
    if (known !== undefined) {
      known.controller.abort();
      this.entries.delete(key);
    }
    for (const [k, e] of this.entries) {
      if (this.entries.size < PREFETCH_MAX) break;
      e.controller.abort();
      this.entries.delete(k);
    }
    const controller = new AbortController();
    const response = fetchPage(key, controller.signal);
    // The answer is made ready now (see the constructor); an unused failure must not
    // surface as an unhandled rejection.
    const prepare = likely ? this.prepare : undefined;
    response.then((r) => (prepare ? prepare(r) : r.clone().text())).catch(() => this.entries.get(key)?.response === response && this.entries.delete(key));
    this.entries.set(key, { response, expires: Date.now() + PREFETCH_TTL, controller, generation: this.generation });
  }

  /** The waiting answer for `url`, removed from the cache; undefined when there is none or it expired. */
  take(url: string): Promise<Response> | undefined {
    const key = url.split('#')[0]!;
    const entry = this.entries.get(key);
    this.entries.delete(key);
    if (entry === undefined) return undefined;
    if (entry.expires <= Date.now() || entry.generation !== this.generation) {
      entry.controller.abort();
      return undefined;
    }
    return entry.response;
  }

  /** Forgets (and aborts) every waiting answer: after a navigation, the keys they were asked with are stale. */
  clear(): void {
    for (const e of this.entries.values()) e.controller.abort();
    this.entries.clear();
  }

  get size(): number {
    return this.entries.size;
  }
}

/** What the prefetcher needs from the router. */
export interface PrefetchHost {
  cache: PrefetchCache;
  /** The navigation fetch, with the keys kept as of now. */
  fetchPage(url: string, signal: AbortSignal): Promise<Response>;
  /** The nonce of the page's scripts (for speculation rules). */
  nonce: string;
}

/** The links already given a document prefetch (by URL). */
const documentPrefetched = new Set<string>();

function documentPrefetch(doc: Document, url: string, nonce: string): void {
  if (documentPrefetched.has(url)) return;
  documentPrefetched.add(url);
  if (typeof HTMLScriptElement.supports === 'function' && HTMLScriptElement.supports('speculationrules')) {
    const s = doc.createElement('script');
    s.type = 'speculationrules';
    if (nonce) s.nonce = nonce;
    s.textContent = JSON.stringify({ prefetch: [{ source: 'list', urls: [url] }] });
    doc.head.append(s);
  } else {
    const l = doc.createElement('link');
    l.rel = 'prefetch';
    l.href = url;
    doc.head.append(l);
  }
}

/** The strategies a page can name; anything else means `none`. */
const WHENS: ReadonlySet<string> = new Set(['intent', 'hover', 'visible', 'none']);

const parseWhen = (value: string): PrefetchWhen => {
  const v = value.trim().toLowerCase();
  return WHENS.has(v) ? (v as PrefetchWhen) : 'none';
};

/**
 * When `a`'s page is prefetched: PREFETCH_ATTR on `a` or its nearest
 * ancestor that has one (across shadow roots, along `path` when given),
 * else the page's `<meta name="atoll-prefetch">`, else `intent`.
 */
export function prefetchWhen(doc: Document, a: Element, path?: readonly EventTarget[], page = pageWhen(doc)): PrefetchWhen {
  const marked = closestWith(a, PREFETCH_ATTR, path);
  return marked !== undefined ? parseWhen(marked.getAttribute(PREFETCH_ATTR)!) : page;
}

/** The page's own default: `<meta name="atoll-prefetch" content>`, else `intent`. */
function pageWhen(doc: Document): PrefetchWhen {
  const meta = doc.querySelector<HTMLMetaElement>('meta[name="atoll-prefetch"]');
  return meta !== null ? parseWhen(meta.content) : 'intent';
}

/** True when the user asked the browser to save data (`Save-Data`): no prefetch the page did not ask for by name. */
function savingData(): boolean {
  return (navigator as Navigator & { connection?: { saveData?: boolean } }).connection?.saveData === true;
}

/**
 * Prefetches `a`'s page the way it will be followed (see the module
 * comment); `implicit` (the `intent` default): only a page the router will
 * follow, never a document prefetch; `likely` as in {@link PrefetchCache.add}.
 */
export function prefetchLink(host: PrefetchHost, doc: Document, a: HTMLAnchorElement, path?: readonly EventTarget[], implicit = false, likely = true): void {
  let url: URL;
  try {
    url = new URL(a.href);
  } catch {
    return;
  }
  if (!/^https?:$/.test(url.protocol) || hashOnly(url, doc.location)) return;
  if (selfTarget(a) && !optedOut(a, path) && inSite(url, doc.location)) host.cache.add(url.href, host.fetchPage, likely);
  else if (!implicit) documentPrefetch(doc, url.href, host.nonce);
}

/**
 * Every link in `root` and the open shadow roots inside it whose strategy is
 * `visible`. `inherited`: the strategy `root`'s links get when nothing in it
 * is marked (the page's for the document, the host's for a shadow root) — a
 * root with neither is passed over without asking each of its links.
 */
function visibleLinks(doc: Document, root: ParentNode, page: PrefetchWhen, inherited: PrefetchWhen, out: HTMLAnchorElement[] = []): HTMLAnchorElement[] {
  const marked = inherited === 'visible' || root.querySelector(`[${PREFETCH_ATTR}]`) !== null;
  for (const el of root.querySelectorAll('*')) {
    if (marked && el instanceof HTMLAnchorElement && el.hasAttribute('href') && prefetchWhen(doc, el, undefined, page) === 'visible') out.push(el);
    if (el.shadowRoot) visibleLinks(doc, el.shadowRoot, page, prefetchWhen(doc, el, undefined, page), out);
  }
  return out;
}

/**
 * Installs the prefetch listeners — all on `document`, passive, and
 * composed events, so links in open shadow roots count: `pointerover`
 * (`hover` at once; `intent` after INTENT_DELAY ms, cancelled when the
 * pointer moves to something else or leaves the page), `pointerdown`
 * (`intent` and `hover` at once), `focusin` (`hover`) — and returns
 * `scan()`, which watches the `visible` links of the page with an
 * IntersectionObserver: called at start and after each navigation. An
 * island that hydrates (a client-only one renders then) has its links
 * looked at again: those it rendered are watched too.
 */
export function installPrefetch(host: PrefetchHost, doc: Document): () => void {
  /** The `intent` link the pointer rests on, and its timer. */
  let resting: { a: HTMLAnchorElement; timer: ReturnType<typeof setTimeout> } | undefined;
  const stopResting = (): void => {
    if (resting !== undefined) clearTimeout(resting.timer);
    resting = undefined;
  };
  const onOver = (e: Event): void => {
    const path = e.composedPath();
    const a = anchorOf(path);
    if (a === resting?.a) return;
    stopResting();
    if (a === undefined) return;
    const when = prefetchWhen(doc, a, path);
    if (when === 'hover') prefetchLink(host, doc, a, path);
    else if (when === 'intent' && !savingData()) {
      const timer = setTimeout(() => {
        if (resting?.timer === timer) resting = undefined;
        prefetchLink(host, doc, a, path, true);
      }, INTENT_DELAY);
      resting = { a, timer };
    }
  };
  const onDown = (e: PointerEvent): void => {
    if (e.button !== 0 || e.ctrlKey || e.metaKey || e.shiftKey || e.altKey) return;
    const path = e.composedPath();
    const a = anchorOf(path);
    if (a === undefined) return;
    const when = prefetchWhen(doc, a, path);
    if (when === 'hover' || (when === 'intent' && !savingData())) {
      if (a === resting?.a) stopResting();
      prefetchLink(host, doc, a, path, when === 'intent');
    }
  };
  const onFocus = (e: Event): void => {
    const path = e.composedPath();
    const a = anchorOf(path);
    if (a !== undefined && prefetchWhen(doc, a, path) === 'hover') prefetchLink(host, doc, a, path);
  };
  doc.addEventListener('pointerover', onOver, { passive: true });
  doc.addEventListener('pointerout', (e) => (e as PointerEvent).relatedTarget === null && stopResting(), { passive: true });
  doc.addEventListener('pointerdown', onDown, { passive: true });
  doc.addEventListener('focusin', onFocus, { passive: true });
  const io =
    typeof IntersectionObserver === 'function'
      ? new IntersectionObserver((entries) => {
          for (const e of entries) {
            if (!e.isIntersecting) continue;
            io!.unobserve(e.target);
            prefetchLink(host, doc, e.target as HTMLAnchorElement, undefined, false, false);
          }
        })
      : undefined;
  if (io !== undefined) {
    doc.addEventListener(HYDRATED_EVENT, (e) => {
      const el = e.target;
      if (!(el instanceof Element)) return;
      // In a task of its own: the walk (the island's whole tree) stays out of the hydration's.
      setTimeout(() => {
        const page = pageWhen(doc);
        // The island's own strategy applies inside it (its light DOM and its shadow root).
        const inherited = prefetchWhen(doc, el, undefined, page);
        const found = visibleLinks(doc, el, page, inherited);
        if (el.shadowRoot) visibleLinks(doc, el.shadowRoot, page, inherited, found);
        for (const a of found) io.observe(a);
      });
    });
  }
  return () => {
    io?.disconnect();
    const page = pageWhen(doc);
    for (const a of visibleLinks(doc, doc, page, page)) io?.observe(a);
  };
}
