/**
 * Prefetch (docs/navigation.md, "Prefetch"): `data-atoll-prefetch` on an
 * `<a>` says when to fetch its page before the click — `hover` (pointer
 * over it, or keyboard focus on it), `visible` (it enters the viewport),
 * `none` (never; the default).
 *
 * A link the router will handle is prefetched with the navigation fetch
 * itself (the keys kept as of now): the response waits in
 * {@link PrefetchCache}, is used by one click on the same URL within
 * {@link PREFETCH_TTL} ms, and every navigation empties the cache when it
 * starts and again when it settles (what was kept has changed); no prefetch
 * starts while a navigation runs. A link it will not handle (RELOAD_ATTR, another origin,
 * a `target`) gets a document prefetch: a Speculation Rules `prefetch` where
 * the browser has them, `<link rel="prefetch">` otherwise.
 */
import { PREFETCH_ATTR } from './protocol.ts';
import { anchorOf, hashOnly, inSite, optedOut, selfTarget } from './router-links.ts';

/** How long a prefetched navigation answer may be used, in milliseconds. */
export const PREFETCH_TTL = 30_000;

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

  /** Starts `fetchPage(url, signal)` unless a fresh answer for `url` is waiting already, or a navigation is running. */
  add(url: string, fetchPage: (url: string, signal: AbortSignal) => Promise<Response>): void {
    if (this.navigating) return;
    const key = url.split('#')[0]!;
    const known = this.entries.get(key);
    if (known !== undefined && known.expires > Date.now()) return;
    const controller = new AbortController();
    const response = fetchPage(key, controller.signal);
    // The body is read (through a clone) now: the answer is complete when the click comes.
    // An unused failure must not surface as an unhandled rejection.
    response.then((r) => r.clone().text()).catch(() => this.entries.get(key)?.response === response && this.entries.delete(key));
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

/** Prefetches `a`'s page the way it will be followed (see the module comment). */
export function prefetchLink(host: PrefetchHost, doc: Document, a: HTMLAnchorElement, path?: readonly EventTarget[]): void {
  let url: URL;
  try {
    url = new URL(a.href);
  } catch {
    return;
  }
  if (!/^https?:$/.test(url.protocol) || hashOnly(url, doc.location)) return;
  if (selfTarget(a) && !optedOut(a, path) && inSite(url, doc.location)) host.cache.add(url.href, host.fetchPage);
  else documentPrefetch(doc, url.href, host.nonce);
}

/** Every `[data-atoll-prefetch]` link in `root` and the open shadow roots inside it. */
function prefetchLinks(root: ParentNode, out: HTMLAnchorElement[] = []): HTMLAnchorElement[] {
  for (const el of root.querySelectorAll('*')) {
    if (el instanceof HTMLAnchorElement && el.hasAttribute(PREFETCH_ATTR)) out.push(el);
    if (el.shadowRoot) prefetchLinks(el.shadowRoot, out);
  }
  return out;
}

/**
 * Installs the prefetch listeners: `pointerover` and `focusin` (both
 * composed, so links in open shadow roots count) for `hover`, and returns
 * `scan()`, which watches the `visible` links of the page with an
 * IntersectionObserver — called at start and after each navigation.
 */
export function installPrefetch(host: PrefetchHost, doc: Document): () => void {
  const onHover = (e: Event): void => {
    const path = e.composedPath();
    const a = anchorOf(path);
    if (a !== undefined && a.getAttribute(PREFETCH_ATTR) === 'hover') prefetchLink(host, doc, a, path);
  };
  doc.addEventListener('pointerover', onHover, { passive: true });
  doc.addEventListener('focusin', onHover, { passive: true });
  const io =
    typeof IntersectionObserver === 'function'
      ? new IntersectionObserver((entries) => {
          for (const e of entries) {
            if (!e.isIntersecting) continue;
            io!.unobserve(e.target);
            prefetchLink(host, doc, e.target as HTMLAnchorElement);
          }
        })
      : undefined;
  return () => {
    io?.disconnect();
    for (const a of prefetchLinks(doc)) if (a.getAttribute(PREFETCH_ATTR) === 'visible') io?.observe(a);
  };
}
