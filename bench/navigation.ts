/**
 * `npm run bench:nav`: what client-side navigation (issue 15, SPEC 9b) buys
 * over a document load. The demo shop (the repository root) is served by
 * `atoll serve` and driven in Debian's Chromium (puppeteer-core, CDP) on the
 * islands bench's slow-mobile profile. From a warm `/home` (assets in the
 * HTTP cache, `/home`'s visible islands hydrated, the network idle), a link is
 * clicked — a product card in the list (`/products/<id>`, another card each
 * time: product pages are cacheable for a minute, and a cached document is
 * not what a click on a new product costs) and a category in the navbar
 * (`/category/<slug>`) — in four modes:
 *
 * - **reload** — a full document load: the clicked `<a>` gets
 *   `data-atoll-reload` (RELOAD_ATTR), the router's per-link opt-out, so the
 *   page, its scripts and the server are the same as in the other modes;
 * - **client** — the router navigates in the page, the link as the demo has
 *   it: prefetch by its strategy (the card: `intent`, the default; the
 *   navbar link: `hover`);
 * - **none** — the router navigates in the page, the link gets
 *   `data-atoll-prefetch="none"`: no prefetch at all;
 * - **prefetch** — the link gets `data-atoll-prefetch="hover"`, the pointer
 *   rests on it until the answer to the prefetch has arrived (its headers on
 *   CDP's Network domain, then {@link DWELL_MS} for the body), then
 *   it is clicked: the most a prefetch can give.
 *
 * The pointer model (the same in every mode but `prefetch`'s wait): the
 * pointer moves onto the link, rests `--rest` ms (default
 * {@link REST_DEFAULT}), presses the button for `--press` ms (default
 * {@link PRESS_DEFAULT}) and releases it — the click. `--rest 0` is a tap
 * with no hover (what a touch screen gives). In `reload` and `none` a
 * request for the target before the click is reported as a problem.
 *
 * Metrics, each from the click's time in the old document
 * (`performance.timeOrigin + event.timeStamp` of the trusted click, kept in
 * `sessionStorage` across the document load):
 *
 * - **click → content**: reload — the new document's first contentful paint
 *   (`timeOrigin + startTime`, epoch ms); client modes — the new primary
 *   content in the DOM (the route's main element with its own text in its
 *   shadow root, e.g. the product's `<h1>`; found by a MutationObserver and a
 *   check every animation frame), then two `requestAnimationFrame`s (the
 *   frame that contains it has been painted). The same DOM + 2 rAF time is
 *   also measured for the reload ("content, same method"): FCP can be the
 *   navbar alone, streamed before the main content;
 * - **click → islands hydrated**: every island of the new page that is in
 *   its first viewport (found once per route by loading the page directly:
 *   light-DOM custom elements intersecting the viewport, not
 *   `hydrate="none"`) is live: new ones fired `atoll:hydrated` after the
 *   click; one kept from the old page (the same node: the navbar) counts as
 *   live already. So the reload also waits for the navbar's re-hydration,
 *   which is what a document load costs;
 * - **bytes**: CDP `Network.loadingFinished` `encodedDataLength` (on-the-wire
 *   bytes, headers included) of every request from the hover (prefetch) or
 *   the click until the islands hydrated and the network was idle 500 ms:
 *   documents, navigation answers, scripts, everything; cached answers count
 *   0 and are not counted as requests;
 * - **navbar kept**: the `<shop-navbar>` node and `window` are the same
 *   objects after the navigation, and its cart count (set to 3 before the
 *   click) is still 3. Asserted: a client mode whose click reloaded the
 *   document fails the run (exit 1) — when that happens on the first client
 *   click, the router is missing and the client modes are skipped with a
 *   message saying so.
 *
 * Throttling is CDP's, on the measured navigation only (the `/home` load
 * before it runs unthrottled): `Emulation.setCPUThrottlingRate` (4×) and
 * `Network.emulateNetworkConditions` (150 ms latency per request, 1.6 Mbps
 * down, 750 kbps up — request-level shaping, not packet-level).
 *
 * Runs are interleaved: after one unrecorded warm-up round of every route
 * and mode, run i measures every route in every mode (order rotated per
 * run), each in a new tab of one browser context (one shared HTTP cache).
 *
 * Options:
 *   --runs N          measured runs per route and mode (default 7)
 *   --modes LIST      reload,client,none,prefetch (default all four)
 *   --rest MS         how long the pointer rests on the link before the press (default 300; 0: a tap)
 *   --press MS        how long the button is held down (default 100)
 *   --routes LIST     product,category (default both)
 *   --category SLUG   the navbar category clicked (default kitchen)
 *   --profile NAME    slow-mobile (default) or desktop
 *   --engine E        source (default: bin/atoll.mjs runs the checkout's .ts) or compiled (dist/, built first)
 *   --json FILE       also write every sample as JSON
 *   --write-docs      replace the results in docs/benchmarks.md (between the bench:nav results markers)
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { Browser, BrowserContext, CDPSession, ElementHandle, Page } from 'puppeteer-core';
import { KEY_ATTR, LAYOUT_ATTR, NAV_HEADER, NAVIGATED_EVENT, PREFETCH_ATTR, RELOAD_ATTR } from '../islands/protocol.ts';
import { startAtollServe, type AtollServe } from './lib/atoll-serve.ts';
import { launchChromium, PROFILES, type DeviceProfile } from './lib/browser.ts';
import { REPO_ROOT } from './lib/page.ts';
import { commandLine, positiveInteger } from './lib/args.ts';
import { summarize, type Summary } from './lib/stats.ts';

const USAGE =
  'usage: npm run bench:nav -- [--runs N] [--modes reload,client,none,prefetch] [--rest MS] [--press MS] [--routes product,category] [--category SLUG] [--profile slow-mobile|desktop] [--engine source|compiled] [--json FILE] [--write-docs]';
const { values } = parseArgs({
  options: {
    runs: { type: 'string' },
    modes: { type: 'string' },
    rest: { type: 'string' },
    press: { type: 'string' },
    routes: { type: 'string' },
    category: { type: 'string' },
    profile: { type: 'string' },
    engine: { type: 'string' },
    json: { type: 'string' },
    'write-docs': { type: 'boolean' },
    help: { type: 'boolean' },
  },
});
const fail = commandLine('bench:nav', USAGE, values.help);

const RUNS = positiveInteger(values.runs, 7, '--runs', fail);
const profile: DeviceProfile = PROFILES[values.profile ?? 'slow-mobile'] ?? fail(`unknown profile ${values.profile}`);
const engine = (values.engine ?? 'source') as 'source' | 'compiled';
if (engine !== 'source' && engine !== 'compiled') fail(`--engine is source or compiled, got ${values.engine}`);

type Mode = 'reload' | 'client' | 'none' | 'prefetch';
const MODE_LABEL: Record<Mode, string> = {
  reload: 'full reload (`data-atoll-reload` on the link)',
  client: 'client navigation, the link as the demo has it (prefetch by its strategy)',
  none: 'client navigation, no prefetch (`data-atoll-prefetch="none"`)',
  prefetch: 'client navigation, prefetched on hover and waited for',
};
const modes = (values.modes ?? 'reload,client,none,prefetch').split(',').map((m) => m.trim()) as Mode[];
for (const m of modes) if (!(m in MODE_LABEL)) fail(`unknown mode ${m}`);
if (new Set(modes).size !== modes.length) fail('a mode is listed twice');

const CATEGORY = values.category ?? 'kitchen';
if (!/^[a-z0-9-]+$/.test(CATEGORY)) fail('--category is a slug ([a-z0-9-])');

/**
 * A link on /home and the page it leads to, for one key (a product id, a
 * category slug). The new page's primary content is `host`'s `inner` element
 * (in its shadow root) showing the clicked link's own text (the product's
 * name, the category's).
 */
interface Target {
  /** Puppeteer selector of the `<a>` on /home (`>>>` crosses shadow roots). */
  link: string;
  path: string;
  host: string;
}
interface Route {
  name: string;
  label: string;
  /** Scroll the link to the middle of the viewport before measuring (a card below the hero). */
  scroll: boolean;
  inner: string;
  target(key: string): Target;
}
const ROUTES: Record<string, Route> = {
  // A product page may be cached for a minute (elements/shop-product/server.ts): each measurement clicks
  // another card, so no target document is ever in the HTTP cache — a first visit of the product, from a warm /home.
  product: {
    name: 'product',
    label: 'a product card in /home’s list → `/products/<id>` (another card each time)',
    scroll: true,
    inner: 'h1',
    target: (id) => ({
      link: `shop-product-list >>> shop-product-card[product-id="${id}"] >>> a[href="/products/${id}"]`,
      path: `/products/${id}`,
      host: `shop-product[product-id="${id}"]`,
    }),
  },
  category: {
    name: 'category',
    label: `a category in the navbar → \`/category/${CATEGORY}\``,
    scroll: false,
    inner: 'h2',
    target: (slug) => ({ link: `shop-navbar >>> a[href="/category/${slug}"]`, path: `/category/${slug}`, host: `shop-product-list[category="${slug}"]` }),
  },
};
const routes = (values.routes ?? 'product,category').split(',').map((r) => ROUTES[r.trim()] ?? fail(`unknown route ${r}`));

const HOME = '/home';
/**
 * How long the pointer rests on the link before the click: in the prefetch
 * mode after the answer's headers arrived, for its body (see
 * NetLog.responded); in the others from the hover.
 */
const DWELL_MS = 1000;
/** The pointer model's defaults (see the module comment). */
const REST_DEFAULT = 300;
const PRESS_DEFAULT = 100;
const nonNegative = (v: string | undefined, dflt: number, name: string): number => {
  if (v === undefined) return dflt;
  const n = Number(v);
  return Number.isInteger(n) && n >= 0 && n <= 10_000 ? n : fail(`${name} is a whole number of ms from 0 to 10000, got ${v}`);
};
const REST_MS = nonNegative(values.rest, REST_DEFAULT, '--rest');
const PRESS_MS = nonNegative(values.press, PRESS_DEFAULT, '--press');
const log = (line = ''): void => void process.stdout.write(line + '\n');
const note = (line: string): void => void process.stderr.write(line + '\n');
const load = (): string => loadavg().map((l) => l.toFixed(2)).join(' ');
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

// ── in the page ─────────────────────────────────────────────────────────
// Strings, not functions: tsx's transform would wrap named functions in a
// `__name` helper that the page does not have.

/** Installed in every document before its own scripts. */
const RECORDER = `(() => {
  if (window.__nav) return;
  const now = () => performance.timeOrigin + performance.now();
  const N = window.__nav = { found: NaN, painted: NaN, navigated: NaN, detail: null, errors: [], watching: false };
  addEventListener('click', (e) => {
    if (!e.isTrusted) return;
    const t = performance.timeOrigin + e.timeStamp;
    try { sessionStorage.setItem('__navClick', String(t)); } catch {}
  }, true);
  addEventListener('atoll:hydrated', (e) => {
    const el = e.composedPath()[0];
    if (el && el.__navHydratedAt === undefined) el.__navHydratedAt = now();
  }, true);
  addEventListener('atoll:hydration-error', (e) => N.errors.push((e.composedPath()[0] || {}).localName + ': ' + String(e.detail && e.detail.error)), true);
  addEventListener('error', (e) => { if (e.message) N.errors.push('error: ' + e.message); });
  addEventListener('unhandledrejection', (e) => N.errors.push('unhandled rejection: ' + String(e.reason)));
  document.addEventListener(${JSON.stringify(NAVIGATED_EVENT)}, (e) => {
    N.navigated = now();
    const d = e.detail || {};
    const at = (t) => (typeof t === 'number' ? performance.timeOrigin + t : null);
    N.detail = { url: String(d.url), kept: Array.isArray(d.kept) ? d.kept.length : d.kept, start: at(d.start), responded: at(d.responded), swapped: at(d.swapped), prefetched: d.prefetched, parsedAhead: d.parsedAhead, status: d.status, length: d.length };
  });
  N.watch = (spec) => {
    if (N.watching) return;
    N.watching = true;
    const check = () => {
      const host = document.querySelector(spec.host);
      const el = host && host.shadowRoot && host.shadowRoot.querySelector(spec.inner);
      return !!el && el.textContent.trim() === spec.text;
    };
    const mo = new MutationObserver(() => { if (check()) hit(); });
    const hit = () => {
      if (!Number.isNaN(N.found)) return;
      N.found = now();
      mo.disconnect();
      requestAnimationFrame(() => requestAnimationFrame(() => { N.painted = now(); }));
    };
    mo.observe(document, { childList: true, subtree: true });
    const tick = () => {
      if (!Number.isNaN(N.found)) return;
      if (check()) hit(); else requestAnimationFrame(tick);
    };
    tick();
  };
  try {
    const w = sessionStorage.getItem('__navWatch');
    if (w) N.watch(JSON.parse(w));
  } catch {}
})();`;

/**
 * ms of fixed work: run unthrottled in the old document and throttled in
 * the new one, it shows the new document was throttled too. Native work
 * (JSON.stringify), so that the JIT's state — cold in a new document —
 * does not change its time the way a JavaScript loop's changes.
 */
const CPU_PROBE = `(() => { const t = performance.now(); const a = new Array(20000).fill({ a: 1, b: 'xy' }); let n = 0; for (let i = 0; i < 4; i++) n += JSON.stringify(a).length; return performance.now() - t + n * 0; })()`;

/** The light-DOM islands intersecting the viewport that hydrate by themselves (not none/interaction/media). */
const VIEWPORT_ISLANDS = `(() => {
  const out = [];
  for (const el of document.body.querySelectorAll('*')) {
    if (!el.localName.includes('-') || el.localName.startsWith('atoll-')) continue;
    const h = el.getAttribute('hydrate') || 'visible';
    if (h === 'none' || h === 'interaction' || h.startsWith('media')) continue;
    const r = el.getBoundingClientRect();
    if (r.bottom > 0 && r.top < innerHeight && r.width > 0) out.push(el);
  }
  return out;
})()`;

/** True once every island in the viewport has hydrated (or an error happened). */
const SETTLED = `(() => {
  const N = window.__nav;
  if (!N) return false;
  if (N.errors.length > 0) return 'errors: ' + N.errors.join('; ');
  return ${VIEWPORT_ISLANDS}.every((el) => el.__navHydratedAt !== undefined);
})()`;

// ── a measurement ───────────────────────────────────────────────────────

interface Sample {
  route: string;
  /** The page navigated to. */
  path: string;
  mode: Mode;
  run: number;
  /** click → content painted: reload = the new document's FCP, client modes = content in the DOM + 2 rAF. */
  content: number;
  /** click → content in the DOM + 2 rAF, in every mode. */
  contentDom: number;
  /** click → content in the DOM (before the 2 rAF). */
  contentFound: number;
  /** click → the new document's FCP (reload), NaN otherwise. */
  fcp: number;
  /** click → every first-viewport island of the new page live. */
  hydrated: number;
  /** click → NAVIGATED_EVENT (client modes; NaN when the router fires none). */
  navigated: number;
  /** From NAVIGATED_EVENT's detail, click → the router's start, the answer's headers, the swap (NaN without the event). */
  routerStart: number;
  responded: number;
  swapped: number;
  /** Instances the router kept. */
  kept: number;
  /** Fixed work's time in the page after the navigation (throttled) ÷ in the page before (unthrottled). */
  slowdown: number;
  /** Bytes on the wire from the hover/click until idle, and network requests. */
  bytes: number;
  requests: number;
  /** Of them: the requests for the target URL (document, navigation answer, prefetch) and their bytes. */
  targetBytes: number;
  targetRequests: number;
  /** Target requests made after the click (a used prefetch makes none). */
  targetAfterClick: number;
  /** Target requests answered from the HTTP cache (a document load of a page visited before). */
  targetCached: number;
  /** Whether the target requests carried the navigation header (a router fetch). */
  navHeader: boolean;
  /** Every request from the hover/click on: path, bytes or `cached` (for the JSON). */
  log: string[];
  /** Hover → prefetch finished (prefetch mode). */
  prefetchMs: number;
  /** The router took a prefetched answer (its NAVIGATED_EVENT detail). */
  prefetchUsed: boolean;
  /** That answer had been read and parsed before the click (its detail's `parsedAhead`). */
  parsedAhead: boolean;
  sameWindow: boolean;
  navbarKept: boolean;
  cartKept: boolean;
  problems: string[];
}

/** Every request of one tab, from CDP's Network domain. */
class NetLog {
  private requests = new Map<string, { url: string; at: number; cached: boolean; bytes: number; responded: boolean; done: boolean; navHeader: boolean; afterClick: boolean }>();
  private clicked = false;
  private waiters: Array<() => void> = [];

  constructor(cdp: CDPSession) {
    cdp.on('Network.requestWillBeSent', (e) => {
      const headers = Object.keys(e.request.headers ?? {}).map((h) => h.toLowerCase());
      const prev = this.requests.get(e.requestId);
      // A redirect reuses the request id: keep the first entry's bytes, note the new URL.
      this.requests.set(e.requestId, {
        url: e.request.url,
        at: Date.now(),
        cached: false,
        bytes: prev?.bytes ?? 0,
        responded: false,
        done: false,
        navHeader: headers.includes(NAV_HEADER),
        afterClick: this.clicked,
      });
    });
    cdp.on('Network.requestWillBeSentExtraInfo', (e) => {
      const r = this.requests.get(e.requestId);
      if (r && Object.keys(e.headers ?? {}).some((h) => h.toLowerCase() === NAV_HEADER)) r.navHeader = true;
    });
    cdp.on('Network.requestServedFromCache', (e) => {
      const r = this.requests.get(e.requestId);
      if (r) r.cached = true;
    });
    cdp.on('Network.responseReceived', (e) => {
      const r = this.requests.get(e.requestId);
      if (!r) return;
      if (e.response.fromDiskCache || e.response.fromPrefetchCache || e.response.fromServiceWorker) r.cached = true;
      r.responded = true;
      for (const w of this.waiters.splice(0)) w();
    });
    const finish = (id: string, bytes: number): void => {
      const r = this.requests.get(id);
      if (!r) return;
      r.bytes = bytes;
      r.done = true;
      for (const w of this.waiters.splice(0)) w();
    };
    cdp.on('Network.loadingFinished', (e) => finish(e.requestId, e.encodedDataLength));
    cdp.on('Network.loadingFailed', (e) => finish(e.requestId, 0));
  }

  reset(): void {
    this.requests.clear();
    this.clicked = false;
  }

  click(): void {
    this.clicked = true;
  }

  private targets(path: string): Array<{ url: string; cached: boolean; bytes: number; responded: boolean; done: boolean; navHeader: boolean; afterClick: boolean }> {
    return [...this.requests.values()].filter((r) => {
      try {
        return new URL(r.url).pathname === path;
      } catch {
        return false;
      }
    });
  }

  /** Any request for `path` so far (e.g. a prefetch before the click). */
  requested(path: string): boolean {
    return this.targets(path).length > 0;
  }

  /**
   * Resolves when the answer to a request for `path` has arrived (its
   * headers: CDP reports a fetch's load finished only once the page has
   * read its body, which a router may leave unread until the click);
   * rejects after `timeout` ms.
   */
  async responded(path: string, timeout: number): Promise<void> {
    const deadline = Date.now() + timeout;
    while (!this.targets(path).some((r) => r.responded || r.done)) {
      const left = deadline - Date.now();
      if (left <= 0) {
        throw new Error(this.requested(path) ? `the prefetch of ${path} got no answer within ${timeout} ms` : `hovering the link started no request for ${path} within ${timeout} ms (no hover prefetch?)`);
      }
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  totals(path: string): Pick<Sample, 'bytes' | 'requests' | 'targetBytes' | 'targetRequests' | 'targetAfterClick' | 'targetCached' | 'navHeader' | 'log'> {
    let bytes = 0;
    let requests = 0;
    const log: string[] = [];
    for (const r of this.requests.values()) {
      log.push(`${r.afterClick ? 'after' : 'before'} click: ${r.url.replace(/^https?:\/\/[^/]+/, '')} ${r.cached ? 'cached' : `${r.bytes} B`}${r.navHeader ? ' (navigation header)' : ''}`);
      if (r.cached) continue;
      bytes += r.bytes;
      requests++;
    }
    const all = this.targets(path);
    const t = all.filter((r) => !r.cached);
    return {
      log,
      targetCached: all.length - t.length,
      bytes,
      requests,
      targetBytes: t.reduce((s, r) => s + r.bytes, 0),
      targetRequests: t.length,
      targetAfterClick: t.filter((r) => r.afterClick).length,
      navHeader: t.some((r) => r.navHeader),
    };
  }
}

async function throttle(cdp: CDPSession, on: boolean): Promise<void> {
  await cdp.send('Emulation.setCPUThrottlingRate', { rate: on ? profile.cpu : 1 });
  if (profile.network) {
    await cdp.send('Network.emulateNetworkConditions', on ? { offline: false, ...profile.network } : { offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: -1 });
  }
}

const isContextLoss = (e: unknown): boolean => /context was destroyed|Cannot find context|detached|navigat|Target closed|Session closed|not attached/i.test(String((e as Error)?.message ?? e));

/** Evaluates `expression` until it is truthy, across document loads; returns its value. */
async function until<T>(page: Page, expression: string, timeout: number, what: string): Promise<T> {
  const deadline = Date.now() + timeout;
  let last: unknown;
  for (;;) {
    try {
      last = await page.evaluate(expression);
      if (last) return last as T;
    } catch (e) {
      if (!isContextLoss(e)) throw e;
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeout} ms waiting for ${what}${last ? ` (last: ${JSON.stringify(last)})` : ''}`);
    await sleep(100);
  }
}

/** Waits until the page's islands in the viewport hydrated and the network is idle. */
async function settle(page: Page, what: string): Promise<void> {
  const r = await until<true | string>(page, SETTLED, 30_000, `${what}: the islands in the viewport to hydrate`);
  if (typeof r === 'string') throw new Error(`${what}: ${r}`);
  await page.waitForNetworkIdle({ idleTime: 500, timeout: 30_000 });
}

/** Thrown when a client mode's click loaded a new document. */
class NoClientNavigation extends Error {}

interface RouteInfo {
  /** The probed page and the text of its primary content. */
  path: string;
  text: string;
  /** Tags of the islands in the new page's first viewport. */
  islands: string[];
}

/**
 * Loads one of the route's pages directly (unthrottled, a key no measurement
 * clicks): the islands in its first viewport and its primary content's text.
 * Also puts the route's modules into the HTTP cache.
 */
async function probe(context: BrowserContext, base: string, route: Route, key: string): Promise<RouteInfo> {
  const target = route.target(key);
  const page = await context.newPage();
  try {
    await page.setViewport(profile.viewport);
    await page.evaluateOnNewDocument(RECORDER);
    const res = await page.goto(base + target.path, { waitUntil: 'load' });
    if (res?.status() !== 200) throw new Error(`${target.path} answered ${res?.status()}`);
    await settle(page, target.path);
    const info = (await page.evaluate(`(() => {
      const host = document.querySelector(${JSON.stringify(target.host)});
      const el = host && host.shadowRoot && host.shadowRoot.querySelector(${JSON.stringify(route.inner)});
      return { text: el ? el.textContent.trim() : '', islands: [...new Set(${VIEWPORT_ISLANDS}.map((e) => e.localName))] };
    })()`)) as Omit<RouteInfo, 'path'>;
    if (info.text === '') throw new Error(`${target.path} has no ${target.host} with a <${route.inner}> in its shadow root`);
    return { path: target.path, ...info };
  } finally {
    await page.close();
  }
}

/** What /home offers: the server's navigation markers (shown in the report) and the product cards of its list, in order. */
async function homeInfo(context: BrowserContext, base: string): Promise<{ layout: boolean; keys: boolean; viewTransitions: boolean; products: string[] }> {
  const page = await context.newPage();
  try {
    await page.goto(base + HOME, { waitUntil: 'load' });
    return (await page.evaluate(`(() => {
      const list = document.querySelector('shop-product-list');
      const cards = list && list.shadowRoot ? [...list.shadowRoot.querySelectorAll('shop-product-card[product-id]')] : [];
      return {
        layout: !!document.querySelector('script[${LAYOUT_ATTR}]'),
        keys: !!document.querySelector('[${KEY_ATTR}]'),
        viewTransitions: !!document.querySelector('meta[name="atoll-view-transition"]'),
        products: cards.map((c) => c.getAttribute('product-id')),
      };
    })()`)) as { layout: boolean; keys: boolean; viewTransitions: boolean; products: string[] };
  } finally {
    await page.close();
  }
}

async function measure(context: BrowserContext, base: string, route: Route, target: Target, info: RouteInfo, mode: Mode, run: number): Promise<Sample> {
  const page = await context.newPage();
  const problems: string[] = [];
  try {
    const cdp = await page.createCDPSession();
    await page.setViewport(profile.viewport);
    await cdp.send('Network.enable');
    await throttle(cdp, false);
    const net = new NetLog(cdp);
    await page.evaluateOnNewDocument(RECORDER);
    await page.goto(base + HOME, { waitUntil: 'load' });
    const link = (await page.waitForSelector(target.link, { timeout: 15_000 })) as ElementHandle<HTMLAnchorElement> | null;
    if (!link) throw new Error(`no link ${target.link} on ${HOME}`);
    if (route.scroll) await link.evaluate((a) => a.scrollIntoView({ block: 'center' }));
    await settle(page, HOME);

    // The old page: marks to recognize its window and navbar afterwards, a cart count, what to watch for, the link's mode.
    const token = `${mode}-${run}-${Math.random().toString(36).slice(2)}`;
    const text = await link.evaluate((a) => (a.textContent ?? '').trim());
    const watch = { host: target.host, inner: route.inner, text };
    const attrs: Record<string, string> =
      mode === 'prefetch' ? { [PREFETCH_ATTR]: 'hover' } : mode === 'none' ? { [PREFETCH_ATTR]: 'none' } : mode === 'reload' ? { [PREFETCH_ATTR]: 'none', [RELOAD_ATTR]: '' } : {};
    await page.evaluate(`(() => {
      const token = ${JSON.stringify(token)};
      window.__navToken = token;
      for (const el of document.body.querySelectorAll('*')) if (el.localName.includes('-')) el.__navOld = token;
      const nav = document.querySelector('shop-navbar');
      if (nav) { nav.__navToken = token; nav.cartCount = 3; }
      sessionStorage.removeItem('__navClick');
      sessionStorage.setItem('__navWatch', ${JSON.stringify(JSON.stringify(watch))});
      window.__nav.watch(${JSON.stringify(watch)});
    })()`);
    await link.evaluate((a, given: Record<string, string>) => {
      for (const [k, v] of Object.entries(given)) a.setAttribute(k, v);
    }, attrs);
    // Let the cart count render before the throttled part starts.
    await page.evaluate('new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)))');

    const cpuBefore = Math.min((await page.evaluate(CPU_PROBE)) as number, (await page.evaluate(CPU_PROBE)) as number);
    await throttle(cdp, true);
    net.reset();
    // The pointer model: onto the link, rest, press, release (the click); in the prefetch mode the
    // rest lasts until the prefetch's answer is in.
    let prefetchMs = NaN;
    const t0 = Date.now();
    await link.hover();
    if (mode === 'prefetch') {
      await net.responded(target.path, 15_000);
      prefetchMs = Date.now() - t0;
      // The body after the headers: a navigation answer of under 10 KB takes ~50 ms at 1.6 Mbps; a second is plenty.
      await sleep(DWELL_MS);
    } else await sleep(REST_MS);
    await page.mouse.down();
    await sleep(PRESS_MS);
    // Checked at the release: a request during the rest or the press counts (the press starts the `intent` fetch).
    if ((mode === 'reload' || mode === 'none') && net.requested(target.path)) problems.push(`${target.path} was requested before the click (a prefetch in a mode without one)`);
    net.click();
    await page.mouse.up();

    const done = await until<{ hydrated: number } | { error: string }>(
      page,
      `(() => {
        const N = window.__nav;
        if (!N) return null;
        if (N.errors.length > 0) return { error: N.errors.join('; ') };
        if (Number.isNaN(N.painted)) return null;
        let last = NaN;
        for (const tag of ${JSON.stringify(info.islands)}) {
          const els = document.querySelectorAll(tag);
          if (els.length === 0) return null;
          for (const el of els) {
            if (el.__navOld === window.__navToken && window.__navToken !== undefined) continue;
            if (el.__navHydratedAt === undefined) return null;
            last = Number.isNaN(last) ? el.__navHydratedAt : Math.max(last, el.__navHydratedAt);
          }
        }
        return { hydrated: last };
      })()`,
      30_000,
      `${target.path} (${mode}): its content painted and its islands (${info.islands.join(', ')}) hydrated`,
    );
    if ('error' in done) problems.push(done.error);
    await page.waitForNetworkIdle({ idleTime: 500, timeout: 30_000 });
    const cpuAfter = (await page.evaluate(CPU_PROBE)) as number;
    const r = await page.evaluate(`(() => {
      const N = window.__nav;
      const click = Number(sessionStorage.getItem('__navClick'));
      const paint = performance.getEntriesByName('first-contentful-paint')[0];
      const nav = document.querySelector('shop-navbar');
      const token = ${JSON.stringify(token)};
      return {
        click,
        found: N.found,
        painted: N.painted,
        navigated: N.navigated,
        timeOrigin: performance.timeOrigin,
        fcp: paint ? performance.timeOrigin + paint.startTime : NaN,
        sameWindow: window.__navToken === token,
        navbarKept: !!nav && nav.__navToken === token,
        cart: nav ? nav.cartCount : undefined,
        path: location.pathname,
        errors: N.errors,
        detail: N.detail,
      };
    })()`) as {
      click: number; found: number; painted: number; navigated: number; timeOrigin: number; fcp: number; sameWindow: boolean; navbarKept: boolean; cart: unknown; path: string; errors: string[];
      detail: { start: number | null; responded: number | null; swapped: number | null; kept: unknown; prefetched: unknown; parsedAhead: unknown; length: unknown } | null;
    };
    await throttle(cdp, false).catch(() => {});
    // NaN crosses CDP as null.
    const num = (x: unknown): number => (typeof x === 'number' && Number.isFinite(x) ? x : NaN);
    for (const k of ['click', 'found', 'painted', 'navigated', 'timeOrigin', 'fcp'] as const) r[k] = num(r[k]);

    if (!Number.isFinite(r.click) || r.click <= 0) throw new Error('the click was not recorded in the page');
    if (r.path !== target.path) problems.push(`ended on ${r.path}, not ${target.path}`);
    const newDocument = r.timeOrigin > r.click - 50;
    if (mode === 'reload') {
      if (r.sameWindow || !newDocument) problems.push('the reload mode did not load a new document (the router took a data-atoll-reload link)');
    } else if (!r.sameWindow || newDocument) {
      throw new NoClientNavigation(
        `the ${mode} click on ${target.link} loaded a new document instead of navigating in the page: no client router in this build (islands/router.ts not in the page's runtime, or navigation is off for the demo)`,
      );
    } else {
      if (!r.navbarKept) problems.push('the navbar is not the same node after the navigation');
      if (r.cart !== 3) problems.push(`the cart count is ${String(r.cart)} after the navigation, not 3`);
    }
    const totals = net.totals(target.path);
    // The fixed work, unthrottled before and throttled after: about the profile's factor, in the new document too.
    const slowdown = cpuAfter / cpuBefore;
    if (profile.cpu > 1 && slowdown < profile.cpu / 2) problems.push(`the page after the navigation did fixed work only ${slowdown.toFixed(1)}× slower than before (CPU throttling ${profile.cpu}× not applied?)`);
    if (totals.targetCached > 0) problems.push(`${target.path} came from the HTTP cache`);
    if (mode === 'prefetch' && totals.targetAfterClick > 0) problems.push(`the click fetched ${target.path} again (the prefetched answer was not used)`);
    const contentDom = r.painted - r.click;
    const fcp = mode === 'reload' ? r.fcp - r.click : NaN;
    return {
      route: route.name,
      path: target.path,
      mode,
      run,
      content: mode === 'reload' ? fcp : contentDom,
      contentDom,
      contentFound: r.found - r.click,
      fcp,
      hydrated: done && 'hydrated' in done ? done.hydrated - r.click : NaN,
      navigated: r.navigated - r.click,
      routerStart: num(r.detail?.start) - r.click,
      responded: num(r.detail?.responded) - r.click,
      swapped: num(r.detail?.swapped) - r.click,
      kept: typeof r.detail?.kept === 'number' ? r.detail.kept : NaN,
      slowdown,
      ...totals,
      prefetchMs,
      prefetchUsed: r.detail?.prefetched === true,
      parsedAhead: r.detail?.parsedAhead === true,
      sameWindow: r.sameWindow,
      navbarKept: r.navbarKept,
      cartKept: r.cart === 3,
      problems: [...problems, ...r.errors.filter((e) => !problems.includes(e))],
    };
  } finally {
    await page.close().catch(() => {});
  }
}

// ── run ─────────────────────────────────────────────────────────────────
function gitLine(): string {
  try {
    const git = (...args: string[]): string => execFileSync('git', args, { cwd: REPO_ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    const dirty = git('status', '--porcelain', '--', 'ssr-server', 'islands', 'elements', 'layouts', 'bench') !== '';
    return `commit ${git('rev-parse', '--short', 'HEAD')}${dirty ? ' + uncommitted changes' : ''}`;
  } catch {
    return 'commit unknown';
  }
}

const started = new Date();
const loadBefore = load();
const outDir = mkdtempSync(join(tmpdir(), 'atoll-bench-nav-'));
let server: AtollServe | undefined;
let browser: Browser | undefined;
const samples: Sample[] = [];
const failures: string[] = [];
const infos: Record<string, RouteInfo> = {};
let clientMissing: string | undefined;
/** Whether a client navigation has worked in this run, and how many client clicks loaded a document after that. */
let clientWorked = false;
let fellBack = 0;
let support = { layout: false, keys: false, viewTransitions: false, products: [] as string[] };
let chromium = '';

let cleaned = false;
async function cleanUp(): Promise<void> {
  if (cleaned) return;
  cleaned = true;
  await browser?.close().catch(() => {});
  await server?.stop().catch(() => {});
  rmSync(outDir, { recursive: true, force: true });
}
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => void cleanUp().finally(() => process.exit(130)));

try {
  if (engine === 'compiled') {
    note('building the compiled engine (npm run build:package)');
    execFileSync('npm', ['run', '--silent', 'build:package'], { cwd: REPO_ROOT, stdio: ['ignore', 'ignore', 'inherit'] });
  }
  note(`starting atoll serve (${engine}) on the demo, client build in ${outDir}`);
  server = await startAtollServe({ root: REPO_ROOT, outDir, engine });
  browser = await launchChromium();
  chromium = (await browser.version()).replace(/^\D+/, '');
  const context = await browser.createBrowserContext();
  support = await homeInfo(context, server.url);
  // The product cards to click, one per measurement (the last card is the probe's); the category is always the same.
  const products = support.products.slice(0, -1);
  const needed = (RUNS + 1) * modes.length;
  if (routes.some((r) => r.name === 'product')) {
    if (support.products.length < 2) throw new Error(`${HOME}'s list has ${support.products.length} product cards`);
    if (products.length < needed) note(`WARNING: ${needed} product measurements but ${products.length} cards: some product pages are clicked twice (and may come from the HTTP cache)`);
  }
  const keysOf = (route: Route): string[] => (route.name === 'product' ? products : [CATEGORY]);
  const probeKey = (route: Route): string => (route.name === 'product' ? support.products.at(-1)! : CATEGORY);
  for (const route of routes) infos[route.name] = await probe(context, server.url, route, probeKey(route));

  log(`Navigation bench: the demo shop through atoll serve (${engine}), ${profile.label}`);
  log(`${RUNS} runs per route and mode after one warm-up round, interleaved; Chromium ${chromium}; ${gitLine()}; ${cpus().length} CPUs, load average ${loadBefore} at start`);
  log(`the page offers: layout id (${LAYOUT_ATTR}) ${support.layout ? 'yes' : 'NO'}, instance keys (${KEY_ATTR}) ${support.keys ? 'yes' : 'NO'}; View Transitions ${support.viewTransitions ? 'on' : 'off'}`);
  for (const route of routes) {
    const info = infos[route.name]!;
    log(`${route.name}: ${route.label}; first-viewport islands of ${info.path}: ${info.islands.join(', ')}; content: ${route.target(probeKey(route)).host}'s <${route.inner}> “${info.text}”`);
  }
  if (loadavg()[0]! > cpus().length / 2) log(`WARNING: the machine is busy (load average ${loadBefore}): absolute times are inflated; compare the ratios`);

  const used = new Map<string, number>();
  for (let run = -1; run < RUNS; run++) {
    for (const route of routes) {
      const order = modes.map((_, i) => modes[(i + Math.max(run, 0)) % modes.length]!);
      for (const mode of order) {
        if (mode !== 'reload' && clientMissing !== undefined) continue;
        const keys = keysOf(route);
        const n = used.get(route.name) ?? 0;
        used.set(route.name, n + 1);
        const target = route.target(keys[n % keys.length]!);
        try {
          const s = await measure(context, server.url, route, target, infos[route.name]!, mode, run);
          if (run >= 0) samples.push(s);
          if (mode !== 'reload') clientWorked = true;
          for (const p of s.problems) failures.push(`${route.name} ${mode} ${run < 0 ? 'warm-up' : `run ${run + 1}`}: ${p}`);
        } catch (e) {
          if (e instanceof NoClientNavigation && !clientWorked) {
            clientMissing = e.message;
            note(`  ${e.message}\n  the client modes are skipped.`);
            continue;
          }
          // After client navigations that worked, a document load is the router falling back: a failure of the run.
          if (e instanceof NoClientNavigation) fellBack++;
          failures.push(`${route.name} ${mode} ${run < 0 ? 'warm-up' : `run ${run + 1}`}: ${String((e as Error)?.message ?? e).split('\n')[0]}`);
          if (!browser.connected) throw e;
        }
      }
    }
    note(`  ${run < 0 ? 'warm-up' : `run ${run + 1}/${RUNS}`} done (load average ${load()})`);
  }
} finally {
  await cleanUp();
}

// ── report ──────────────────────────────────────────────────────────────
const loadAfter = load();
const ms = (s: Summary): string => (s.n === 0 ? '–' : `${Math.round(s.median)} (${Math.round(s.min)}–${Math.round(s.max)})`);
const ratio = (a: Summary, b: Summary): string => (a.n === 0 || b.n === 0 ? '–' : `${(a.median / b.median).toFixed(2)}×`);
const kb = (n: number): string => (n / 1024).toFixed(1);
const of = (route: string, mode: Mode, metric: keyof Sample): Summary =>
  summarize(samples.filter((s) => s.route === route && s.mode === mode).map((s) => s[metric] as number));

const out: string[] = [];
out.push(
  `Run ${started.toISOString().slice(0, 16).replace('T', ' ')} UTC (${gitLine()}): Chromium ${chromium}, ${cpus().length} × ${(cpus()[0]?.model ?? '?').trim()}, ` +
    `load average ${loadBefore} before and ${loadAfter} after. The demo shop through \`atoll serve\` (${engine} engine) on 127.0.0.1, ${profile.label} ` +
    `(CDP: Emulation.setCPUThrottlingRate, Network.emulateNetworkConditions; on the measured navigation only); from a warm \`/home\`, ` +
    `${RUNS} runs per cell after one warm-up round, interleaved; median (min–max) in ms from the click. ` +
    `The pointer ${REST_MS === 0 ? 'taps: it moves onto the link and presses it at once (no hover, as on a touch screen)' : `moves onto the link and rests ${REST_MS} ms`}, holds the button ${PRESS_MS} ms and releases it (the click)` +
    `${modes.includes('prefetch') ? `; in the prefetch mode it rests until the prefetch's answer is in, plus ${DWELL_MS} ms` : ''}. ` +
    `The demo's pages ${support.viewTransitions ? 'opt in to View Transitions (the router swaps inside one)' : 'do not opt in to View Transitions (the router swaps without one)'}.`,
  '',
  `Command: \`npm run bench:nav -- --runs ${RUNS}${values.modes ? ` --modes ${values.modes}` : ''}${values.routes ? ` --routes ${values.routes}` : ''}${values.profile ? ` --profile ${values.profile}` : ''}${values.engine ? ` --engine ${values.engine}` : ''}${values.rest !== undefined ? ` --rest ${REST_MS}` : ''}${values.press !== undefined ? ` --press ${PRESS_MS}` : ''}\``,
);
if (clientMissing !== undefined) out.push('', `**Client modes not measured**: ${clientMissing}.`);
for (const route of routes) {
  const info = infos[route.name];
  const reload = (m: keyof Sample): Summary => of(route.name, 'reload', m);
  out.push(
    '',
    `#### ${route.label}`,
    '',
    `Islands in the new page’s first viewport (${info ? `\`${info.path}\` loaded directly` : '?'}): ${info ? info.islands.map((t) => `\`${t}\``).join(', ') : '?'}; content: the \`<${route.inner}>\` in the main element’s shadow root showing the link’s text.`,
    '',
    '| mode | click → content painted | ÷ reload | content, same method (DOM + 2 rAF) | click → islands hydrated | ÷ reload | KB transferred (requests) | of it: the page / answer KB | navbar kept |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
  );
  for (const mode of modes) {
    const list = samples.filter((s) => s.route === route.name && s.mode === mode);
    const n = list.length;
    const missing = n < RUNS ? ` (${n}/${RUNS} runs)` : '';
    const content = of(route.name, mode, 'content');
    const hydrated = of(route.name, mode, 'hydrated');
    const kept = mode === 'reload' ? 'no (reload)' : `${list.filter((s) => s.navbarKept && s.cartKept && s.sameWindow).length}/${n}`;
    const label = mode === 'reload' ? `${MODE_LABEL[mode]}: FCP of the new document` : `${MODE_LABEL[mode]}: content in the DOM + 2 rAF`;
    out.push(
      `| ${label}${missing} | ${ms(content)} | ${mode === 'reload' ? '' : ratio(content, reload('content'))} | ${ms(of(route.name, mode, 'contentDom'))} | ${ms(hydrated)} | ${mode === 'reload' ? '' : ratio(hydrated, reload('hydrated'))} | ` +
        `${n ? `${kb(of(route.name, mode, 'bytes').median)} (${of(route.name, mode, 'requests').median})` : '–'} | ${n ? kb(of(route.name, mode, 'targetBytes').median) : '–'} | ${n ? kept : '–'} |`,
    );
  }
  for (const mode of modes) {
    if (mode === 'reload' || of(route.name, mode, 'swapped').n === 0) continue;
    const m = (k: keyof Sample): string => Math.round(of(route.name, mode, k).median).toString();
    out.push(
      '',
      `${MODE_LABEL[mode]}, from its \`${NAVIGATED_EVENT}\` detail (medians, ms after the click): the router started at ${m('routerStart')}, had the answer’s headers at ${m('responded')}, ` +
        `swapped the page in at ${m('swapped')}, fired the event at ${m('navigated')}; the new content was in the DOM at ${m('contentFound')} and painted at ${m('contentDom')}; instances kept: ${m('kept')}; ` +
        `the answer was a prefetched one in ${samples.filter((s) => s.route === route.name && s.mode === mode && s.prefetchUsed).length} of ${samples.filter((s) => s.route === route.name && s.mode === mode).length} navigations, ` +
        `read and parsed before the click in ${samples.filter((s) => s.route === route.name && s.mode === mode && s.parsedAhead).length}.`,
    );
  }
  const slow = modes.filter((m) => of(route.name, m, 'slowdown').n > 0).map((m) => `${m} ${of(route.name, m, 'slowdown').median.toFixed(1)}×`);
  if (slow.length > 0) out.push('', `Throttling check — fixed work (JSON.stringify) in the page after the navigation ÷ the same work unthrottled before it (median): ${slow.join(', ')}.`);
  const client = of(route.name, 'client', 'content');
  const full = reload('content');
  if (client.n > 0 && full.n > 0) {
    const r = client.median / full.median;
    const none = of(route.name, 'none', 'content');
    const without = none.n > 0 ? `; without any prefetch (\`none\`) ${(none.median / full.median).toFixed(2)}×` : '';
    out.push('', `Issue 15’s target (client click → content ≤ 0.5 × the full reload’s), the link as the demo has it: ${r.toFixed(2)}× — ${r <= 0.5 ? 'met' : 'NOT met'}${without}.`);
  }
}
if (failures.length > 0) {
  out.push('', 'Problems during the run:');
  for (const f of [...new Set(failures)].slice(0, 12)) out.push(`- ${f}`);
  if (failures.length > 12) out.push(`- … ${failures.length} in all`);
}
const markdown = out.join('\n');
log();
log(markdown);

if (values.json) writeFileSync(values.json, JSON.stringify({ started, profile, runs: RUNS, modes, routes, infos, support, chromium, engine, loadBefore, loadAfter, clientMissing, samples, failures }, null, 2) + '\n');
if (values['write-docs']) writeDocs(markdown);

// Fail loudly: a mode without samples, a client mode that reloaded, a navbar that did not survive.
const empty = routes.some((r) => modes.some((m) => !samples.some((s) => s.route === r.name && s.mode === m)));
const broken = samples.some((s) => s.mode !== 'reload' && !(s.navbarKept && s.cartKept && s.sameWindow));
process.exitCode = empty || broken || fellBack > 0 || clientMissing !== undefined ? 1 : 0;

function writeDocs(markdown: string): void {
  const file = join(REPO_ROOT, 'docs', 'benchmarks.md');
  const BEGIN = '<!-- bench:nav:results:begin (written by `npm run bench:nav -- --write-docs`) -->';
  const END = '<!-- bench:nav:results:end -->';
  let text = existsSync(file) ? readFileSync(file, 'utf8') : '# Benchmarks\n';
  const block = `${BEGIN}\n${markdown}\n${END}`;
  const begin = text.indexOf(BEGIN);
  const end = text.indexOf(END);
  if (begin >= 0 && end > begin) text = text.slice(0, begin) + block + text.slice(end + END.length);
  else text = `${text.trimEnd()}\n\n${block}\n`;
  writeFileSync(file, text);
  log(`\nwrote the results into ${file}`);
}

