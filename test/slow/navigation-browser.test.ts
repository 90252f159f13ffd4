/**
 * Client-side navigation (issue 15, docs/navigation.md) through Atoll's real
 * Node server (`createAtoll` + `listen` on a built copy of the demo shop,
 * plus a second layout under `/other/`), in Chromium, Firefox ESR and
 * WebKit (test/slow/engines.ts; one server, one browser per engine):
 *
 * - a real click on a navbar link (inside the navbar's shadow root)
 *   navigates without a document load: no `load` event, a marker on
 *   `window` survives, the URL, title and content are the new page's;
 * - the navbar (a kept instance) is the same node with the same cart count
 *   after five navigations (links and the GET search form);
 * - back and forward restore the content and the scroll position;
 * - a link to another layout and one to another origin are document loads;
 * - a failing navigation (500 without the navigation header, a dropped
 *   connection) falls back to a document load of the URL;
 * - focus moves to the new content and the title is announced;
 * - a link hovered while a navigation loads is not prefetched with the keys
 *   of the page being left (its answer would not fit the new page).
 *
 * A small proxy in front of the server injects the failures (only for
 * navigation fetches: the document load that follows gets the server's
 * own answer).
 */
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, request as httpRequest, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { NAV_HEADER } from '../../islands/protocol.ts';
import { buildClient } from '../../ssr-server/build/build.ts';
import { createAtoll, listen, loadSite, memoryLogger, type RunningServer } from '../../ssr-server/index.ts';
import { repoRoot } from '../helpers.ts';
import { ENGINE_LABEL, ENGINES, launch, type EngineBrowser, type EnginePage } from './engines.ts';

const OTHER_LAYOUT = `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>Other layout</title><atoll-head></atoll-head></head>
<body><main><h1 id="other">Another layout</h1><shop-footer hydrate="none"></shop-footer></main></body>
</html>
`;

const RENDER_ONLY_ROUTE =
  '<atoll-route path="/render-only"><x-render-only defer-hydration><p id="ro">rendered by another team</p></x-render-only></atoll-route>' +
  // A page whose link prefetches when visible: a page swapped in is scanned for them.
  '<atoll-route path="/visible-link"><p><a id="vl" href="/category/garden" data-atoll-prefetch="visible">Garden</a></p></atoll-route>';

/**
 * Forwards to `target`, except navigation fetches of /fail/500 (a 500
 * without the header), /fail/static (a 200 page without it) and /fail/drop
 * (connection dropped).
 */
function faultProxy(target: string): Promise<{ server: Server; url: string; origin2: string }> {
  const t = new URL(target);
  const server = createServer((req, res) => {
    const nav = req.headers[NAV_HEADER] !== undefined;
    if (nav && req.url?.startsWith('/fail/500')) {
      res.writeHead(500, { 'content-type': 'text/html' }).end('<!doctype html><title>proxy error</title><p>Bad gateway');
      return;
    }
    if (nav && req.url?.startsWith('/fail/static')) {
      // A host that does not speak the protocol (a static export): a page, without the header.
      res.writeHead(200, { 'content-type': 'text/html' }).end('<!doctype html><title>static</title><p>static');
      return;
    }
    if (nav && req.url?.startsWith('/fail/drop')) {
      req.socket.destroy();
      return;
    }
    const upstream = httpRequest({ host: t.hostname, port: t.port, method: req.method, path: req.url, headers: req.headers }, (up) => {
      // `?slow=1` on a navigation fetch: a slow server, the answer starts after 2 s.
      const wait = nav && /[?&]slow=1(&|$)/.test(req.url ?? '') ? 2000 : 0;
      setTimeout(() => {
        res.writeHead(up.statusCode ?? 502, up.headers);
        up.pipe(res);
      }, wait);
    });
    upstream.on('error', () => res.destroy());
    req.pipe(upstream);
  });
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => {
      const port = (server.address() as { port: number }).port;
      resolve({ server, url: `http://127.0.0.1:${port}`, origin2: `http://localhost:${port}` });
    }),
  );
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Polls `fn` in the page (tolerating a document load in between) until it returns a truthy value. */
async function until<T>(page: EnginePage, what: string, fn: () => T, ms = 15_000): Promise<NonNullable<T>> {
  const deadline = Date.now() + ms;
  let last: unknown;
  for (;;) {
    try {
      const v = await page.evaluate(fn);
      if (v) return v as NonNullable<T>;
      last = v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what} (last: ${String(last)})`);
    await sleep(100);
  }
}

interface PageState {
  marker: boolean;
  path: string;
  title: string;
  loads: number;
  navs: number;
  ready: boolean;
}

/** Installed after each document load: a marker, a `load` counter, the navigations seen, the navbar node. */
const instrument = (): void => {
  const w = window as unknown as Record<string, unknown>;
  w.__marker = true;
  w.__loads = 0;
  w.__navs = [];
  addEventListener('load', () => (w.__loads as number)++);
  document.addEventListener('atoll:navigated', (e) => (w.__navs as unknown[]).push((e as CustomEvent).detail));
  w.__navbar = document.querySelector('shop-navbar');
};

const state = (): PageState => {
  const w = window as unknown as Record<string, unknown>;
  return {
    marker: w.__marker === true,
    path: location.pathname + location.search,
    title: document.title,
    loads: (w.__loads as number | undefined) ?? -1,
    navs: ((w.__navs as unknown[] | undefined) ?? []).length,
    ready: document.readyState === 'complete',
  };
};

/** Viewport coordinates of the first element matching `selector` inside `host`'s shadow root (or the document), scrolled into view. */
async function pointAt(page: EnginePage, host: string | null, selector: string): Promise<[number, number]> {
  return page.evaluate(
    (h: string | null, s: string) => {
      const root = h ? document.querySelector(h)!.shadowRoot! : document;
      const el = root.querySelector(s) as HTMLElement | null;
      if (!el) throw new Error(`no ${s} in ${h ?? 'the document'}`);
      el.scrollIntoView({ block: 'center' });
      const r = el.getBoundingClientRect();
      return [r.left + r.width / 2, r.top + r.height / 2] as [number, number];
    },
    host,
    selector,
  );
}

describe('client navigation through Atoll’s server, in real browsers', () => {
  let root: string;
  let running: RunningServer;
  let proxy: { server: Server; url: string; origin2: string };
  /** The same site with Atoll's default CSP (nonces and 'strict-dynamic'). */
  let strict: RunningServer;

  before(async () => {
    root = mkdtempSync(join(tmpdir(), 'atoll-nav-'));
    for (const dir of ['layouts', 'elements', 'public']) cpSync(join(repoRoot, dir), join(root, dir), { recursive: true });
    writeFileSync(join(root, 'layouts', 'other.html'), OTHER_LAYOUT);
    // A route with a render-only island (server markup with defer-hydration, no client module), as a remote element gives.
    const index = join(root, 'layouts', 'index.html');
    const layout = readFileSync(index, 'utf8');
    const at = layout.indexOf('<atoll-route default');
    assert.ok(at > 0, 'the demo layout has a default route');
    writeFileSync(index, layout.slice(0, at) + RENDER_ONLY_ROUTE + layout.slice(at));
    writeFileSync(join(root, 'atoll.config.json'), JSON.stringify({ layouts: { '/': 'index.html', '/other/': 'other.html' } }));
    writeFileSync(join(root, 'package.json'), '{ "private": true, "type": "module" }\n');
    await buildClient(await loadSite({ root }), { minify: false });
    running = await listen(await createAtoll({ root, logger: memoryLogger() }), { port: 0, host: '127.0.0.1' });
    proxy = await faultProxy(running.url);
    strict = await listen(await createAtoll({ root, logger: memoryLogger(), config: { csp: true } }), { port: 0, host: '127.0.0.1' });
  });
  after(async () => {
    proxy?.server.closeAllConnections();
    proxy?.server.close();
    await running?.close({ drainMs: 0 });
    await strict?.close({ drainMs: 0 });
    if (root) rmSync(root, { recursive: true, force: true });
  });

  for (const engine of ENGINES) {
    describe(ENGINE_LABEL[engine], () => {
      let browser: EngineBrowser;
      let page: EnginePage;
      /** Asks the page's router to navigate to `path` (as a link click would). */
      const routerNavigate = (path: string): Promise<void> =>
        page.evaluate((p: string) => (window as unknown as { atollRouter: { navigate(u: string): void } }).atollRouter.navigate(p), path);
      /** Loads `path` as a document, waits for the router, instruments the page. */
      const open = async (path: string): Promise<void> => {
        await page.goto(proxy.url + path);
        await until(page, 'the router', () => !!(window as unknown as { atollRouter?: unknown }).atollRouter);
        await page.evaluate(instrument);
      };
      /** Waits until the page has seen `n` client navigations since it was instrumented. */
      const navigated = async (n: number): Promise<PageState> => {
        const deadline = Date.now() + 15_000;
        for (;;) {
          const s = await page.evaluate(state);
          if (s.navs >= n) return s;
          if (Date.now() > deadline) assert.fail(`navigation #${n} did not happen (${JSON.stringify(s)})`);
          await sleep(50);
        }
      };
      /** Waits for a document load of `path`: the marker is gone, the page is complete. */
      const documentLoaded = async (path: string): Promise<PageState> => {
        const deadline = Date.now() + 15_000;
        for (;;) {
          let s: PageState | undefined;
          try {
            s = await page.evaluate(state);
          } catch {
            // the document is changing
          }
          if (s && !s.marker && s.path === path && s.ready) return s;
          if (Date.now() > deadline) assert.fail(`no document load of ${path} (${JSON.stringify(s)})`);
          await sleep(100);
        }
      };

      before(async () => {
        browser = await launch(engine, { injectRecorder: true });
        page = await browser.newPage();
      });
      after(async () => {
        await browser?.close();
      });

      test('a click on a link in the navbar’s shadow root navigates in the page: no load event, the same window', async () => {
        await open('/home');
        const [x, y] = await pointAt(page, 'shop-navbar', 'a[href="/category/kitchen"]');
        await page.click(x, y);
        const s = await navigated(1);
        assert.equal(s.marker, true, 'the window is the same (marker kept)');
        assert.equal(s.loads, 0, 'no load event');
        assert.equal(s.path, '/category/kitchen');
        assert.match(s.title, /Kitchen/);
        const detail = await page.evaluate(() => {
          const nav = (window as unknown as { __navs: Array<{ kept: string[]; status: number; url: string }> }).__navs[0]!;
          return { ...nav, navbarSame: document.querySelector('shop-navbar') === (window as unknown as { __navbar: Element }).__navbar, hero: !!document.querySelector('shop-hero'), list: document.querySelector('shop-product-list')?.getAttribute('category') };
        });
        assert.equal(detail.status, 200);
        assert.equal(detail.navbarSame, true);
        assert.equal(detail.kept.length, 2, 'the navbar and the footer are kept');
        assert.equal(detail.hero, false, 'the hero left');
        assert.equal(detail.list, 'kitchen');
        // The new page's island hydrates through the loader, by its strategy (visible: it is in view).
        const hydrated = await until(page, 'the new product list to hydrate', () => {
          const list = document.querySelector('shop-product-list');
          return list && !list.hasAttribute('defer-hydration') && (list as unknown as { hasUpdated?: boolean }).hasUpdated ? list.shadowRoot!.querySelectorAll('shop-product-card').length : 0;
        });
        assert.ok(hydrated > 0, 'the hydrated list shows its cards');
        assert.deepEqual(await page.errors(), []);
      });

      test('the cart count survives five navigations: the navbar is the same node', async () => {
        await open('/home');
        const [cx, cy] = await pointAt(page, 'shop-navbar', 'button.cart');
        await page.click(cx, cy);
        await until(page, 'the cart count to be 1', () => document.querySelector('shop-navbar')!.shadowRoot!.querySelector('.count')?.textContent?.trim() === '1');
        const hops: Array<[string, string | null]> = [
          ['a[href="/category/audio"]', '/category/audio'],
          ['a[href="/category/outdoors"]', '/category/outdoors'],
          ['a[href="/settings/profile"]', '/settings/profile'],
          ['a.brand', '/home'],
          ['a[href="/category/kitchen"]', '/category/kitchen'],
        ];
        for (const [i, [selector, path]] of hops.entries()) {
          const [x, y] = await pointAt(page, 'shop-navbar', selector);
          await page.click(x, y);
          const s = await navigated(i + 1);
          assert.equal(s.path, path);
          assert.equal(s.marker, true);
        }
        const after = await page.evaluate(() => ({
          same: document.querySelector('shop-navbar') === (window as unknown as { __navbar: Element }).__navbar,
          count: document.querySelector('shop-navbar')!.shadowRoot!.querySelector('.count')?.textContent?.trim(),
          loads: (window as unknown as { __loads: number }).__loads,
        }));
        assert.deepEqual(after, { same: true, count: '1', loads: 0 });
        // The GET search form (in the navbar's shadow root) navigates in the page too.
        const [ix, iy] = await pointAt(page, 'shop-navbar', 'input[name=q]');
        await page.click(ix, iy);
        await page.type('lamp');
        const [bx, by] = await pointAt(page, 'shop-navbar', 'form button[type=submit]');
        await page.click(bx, by);
        const s = await navigated(6);
        assert.equal(s.path, '/home?q=lamp');
        assert.equal(s.marker, true);
        assert.deepEqual(await page.errors(), []);
      });

      test('an island without a client module (render-only) in a page swapped in is left alone, not reported', async () => {
        await open('/home');
        await routerNavigate('/render-only');
        const s = await navigated(1);
        assert.equal(s.path, '/render-only');
        assert.equal(await page.evaluate(() => document.getElementById('ro')?.textContent), 'rendered by another team');
        await sleep(300);
        assert.deepEqual(await page.errors(), [], 'no "no client module" hydration error');
      });

      test('back and forward restore the content and the scroll position', async () => {
        await open('/home');
        const scrolled = await page.evaluate(() => {
          scrollTo(0, 700);
          return scrollY;
        });
        assert.ok(scrolled > 300, `the home page scrolls (${scrolled})`);
        await routerNavigate('/category/audio');
        let s = await navigated(1);
        assert.equal(s.path, '/category/audio');
        assert.equal(await page.evaluate(() => scrollY), 0, 'a new page starts at the top');
        await page.evaluate(() => history.back());
        s = await navigated(2);
        assert.equal(s.path, '/home');
        assert.equal(s.marker, true);
        assert.ok(await page.evaluate(() => !!document.querySelector('shop-hero')), 'the home page content is back');
        const y = await page.evaluate(() => scrollY);
        assert.ok(Math.abs(y - scrolled) <= 2, `the scroll position is restored (${y}, was ${scrolled})`);
        await page.evaluate(() => history.forward());
        s = await navigated(3);
        assert.equal(s.path, '/category/audio');
        assert.equal(await page.evaluate(() => document.querySelector('shop-product-list')?.getAttribute('category')), 'audio');
        assert.equal(s.loads, 0);
        assert.deepEqual(await page.errors(), []);
      });

      test('a link to another layout, and one to another origin, are document loads', async () => {
        await open('/home');
        const link = (href: string): Promise<void> =>
          page.evaluate((h: string) => {
            const a = document.createElement('a');
            a.href = h;
            a.id = 'test-link';
            a.textContent = 'go';
            a.style.cssText = 'position:fixed;top:200px;left:20px;z-index:99999;padding:10px;background:#fff';
            document.body.append(a);
          }, href);
        await link('/other/page');
        let [x, y] = await pointAt(page, null, '#test-link');
        await page.click(x, y);
        let s = await documentLoaded('/other/page');
        assert.equal(s.title, 'Other layout');
        await open('/home');
        await link(`${proxy.origin2}/category/audio`);
        [x, y] = await pointAt(page, null, '#test-link');
        await page.click(x, y);
        s = await documentLoaded('/category/audio');
        assert.equal(await page.evaluate(() => location.origin), proxy.origin2);
      });

      test('a failing navigation falls back to a document load: a 500 without the header, a dropped connection, a cancelled atoll:navigate, a host without navigation', async () => {
        for (const path of ['/fail/500', '/fail/drop']) {
          await open('/home');
          await routerNavigate(path);
          const s = await documentLoaded(path);
          assert.match(s.title, /not found|Atoll Shop/i, `the server's own page for ${path} (its 404)`);
        }
        // atoll:navigate cancelled: the browser loads the URL as a document.
        await open('/home');
        await page.evaluate(() => {
          document.addEventListener('atoll:navigate', (e) => e.preventDefault(), { once: true });
          (window as unknown as { atollRouter: { navigate(u: string): void } }).atollRouter.navigate('/category/audio');
        });
        await documentLoaded('/category/audio');
        // A successful answer without the header (a static host): a document load, and the
        // router stays off for this layout for the rest of the session (no double fetch per click).
        await open('/home');
        await routerNavigate('/fail/static');
        await documentLoaded('/fail/static');
        await page.goto(proxy.url + '/home');
        await sleep(1000);
        assert.equal(await page.evaluate(() => 'atollRouter' in window), false, 'the router is off for the session');
        // The failures the browser logged (a 500, an empty response) belong to this test: the next ones get a fresh page.
        await page.close();
        page = await browser.newPage();
      });

      test('a hover-prefetched link (focus counts as hover) is fetched once, before the click, and the click uses that answer, prepared before it: parsed, its modules preloaded', async () => {
        await open('/home');
        const target = '/category/outdoors';
        const preloads = (): string[] => [...document.head.querySelectorAll<HTMLLinkElement>('link[rel=modulepreload]')].map((l) => l.href);
        const before = await page.evaluate(preloads);
        await page.evaluate(() => {
          const a = document.querySelector('shop-navbar')!.shadowRoot!.querySelector('a[href="/category/outdoors"]') as HTMLAnchorElement;
          if (a.getAttribute('data-atoll-prefetch') !== 'hover') throw new Error('the demo navbar link has no data-atoll-prefetch="hover"');
          a.focus();
        });
        const prefetched = (): boolean =>
          performance.getEntriesByType('resource').filter((e) => new URL(e.name).pathname === '/category/outdoors' && (e as PerformanceResourceTiming).initiatorType === 'fetch').length === 1;
        await until(page, 'the prefetch', prefetched, 10_000).catch(async () => {
          assert.fail(`no prefetch request (${await page.evaluate(() => performance.getEntriesByType('resource').map((e) => e.name).join(' '))})`);
        });
        // Before the click: the category page's first-screen module (its product list) is preloaded.
        const list = await until(page, 'the prefetched page’s modulepreloads', () => {
          const now = [...document.head.querySelectorAll<HTMLLinkElement>('link[rel=modulepreload]')].map((l) => l.href);
          return now.find((h) => /shop-product-list/.test(h)) ?? false;
        });
        assert.ok(!before.includes(list as string), `/home itself does not preload ${list}`);
        const [x, y] = await pointAt(page, 'shop-navbar', `a[href="${target}"]`);
        await page.click(x, y);
        const s = await navigated(1);
        assert.equal(s.path, target);
        const used = await page.evaluate(() => {
          const d = (window as unknown as { __navs: Array<{ prefetched: boolean; parsedAhead: boolean }> }).__navs[0]!;
          return { prefetched: d.prefetched, parsedAhead: d.parsedAhead, requests: performance.getEntriesByType('resource').filter((e) => new URL(e.name).pathname === '/category/outdoors').length };
        });
        assert.deepEqual(used, { prefetched: true, parsedAhead: true, requests: 1 }, 'the prefetched answer is used as prepared, no second request');
        assert.deepEqual(await page.errors(), []);
      });

      test('a page swapped in is scanned for visible-prefetch links after its first frame: its link in view is prefetched', async () => {
        await open('/home');
        await routerNavigate('/visible-link');
        const s = await navigated(1);
        assert.equal(s.path, '/visible-link');
        await until(page, 'the visible link’s prefetch', () =>
          performance.getEntriesByType('resource').some((e) => new URL(e.name).pathname === '/category/garden' && (e as PerformanceResourceTiming).initiatorType === 'fetch'),
        );
        assert.deepEqual(await page.errors(), []);
      });

      test('a link with no prefetch attribute (intent, the default): the press starts the fetch, the click uses its answer — one request; data-atoll-prefetch="none" on an ancestor: the click fetches', async () => {
        await open('/home');
        const card = (n: number): Promise<[string, number, number]> =>
          page.evaluate((i: number) => {
            const list = document.querySelector('shop-product-list')!.shadowRoot!;
            const host = list.querySelectorAll('shop-product-card')[i]!;
            const a = host.shadowRoot!.querySelector('a[href^="/products/"]') as HTMLAnchorElement;
            if (a.hasAttribute('data-atoll-prefetch')) throw new Error('the demo card link is marked: it must use the default');
            a.scrollIntoView({ block: 'center' });
            const r = a.getBoundingClientRect();
            return [new URL(a.href).pathname, r.left + r.width / 2, r.top + r.height / 2] as [string, number, number];
          }, n);
        const requests = (path: string): Promise<number> =>
          page.evaluate((p: string) => performance.getEntriesByType('resource').filter((e) => new URL(e.name).pathname === p).length, path);
        const [target, x, y] = await card(0);
        assert.equal(await requests(target), 0);
        await page.click(x, y);
        let s = await navigated(1);
        assert.deepEqual([s.path, s.loads], [target, 0]);
        const first = await page.evaluate(() => (window as unknown as { __navs: Array<{ prefetched: boolean }> }).__navs[0]!.prefetched);
        assert.equal(first, true, 'the click took the answer the press had asked for');
        assert.equal(await requests(target), 1, 'one request for the page');
        // Back to /home, then a card inside an opted-out container: no prefetch, the click fetches.
        await page.evaluate(() => history.back());
        s = await navigated(2);
        assert.equal(s.path, '/home');
        await page.evaluate(() => document.querySelector('shop-product-list')!.setAttribute('data-atoll-prefetch', 'none'));
        const [other, x2, y2] = await card(1);
        await page.click(x2, y2);
        s = await navigated(3);
        assert.equal(s.path, other);
        const third = await page.evaluate(() => (window as unknown as { __navs: Array<{ prefetched: boolean }> }).__navs[2]!.prefetched);
        assert.equal(third, false, 'opted out: the click fetched');
        assert.equal(await requests(other), 1);
        assert.deepEqual(await page.errors(), []);
      });

      test('a link hovered while a slow navigation loads is not prefetched with the old page’s keys: clicked after the swap, it navigates in the page', async () => {
        await open('/home');
        await routerNavigate('/category/kitchen?slow=1');
        await sleep(400);
        // "Shop all" (/home) hovered (focus counts) while Kitchen loads: the page still shows /home's instances.
        await page.evaluate(() => (document.querySelector('shop-navbar')!.shadowRoot!.querySelector('a[href="/home"]') as HTMLElement).focus());
        let s = await navigated(1);
        assert.equal(s.path, '/category/kitchen?slow=1');
        const early = await page.evaluate(() => performance.getEntriesByType('resource').filter((e) => new URL(e.name).pathname === '/home').length);
        assert.equal(early, 0, 'no prefetch while the navigation ran');
        const [x, y] = await pointAt(page, 'shop-navbar', 'a[href="/home"]');
        await page.click(x, y);
        s = await navigated(2);
        assert.deepEqual([s.path, s.marker, s.loads], ['/home', true, 0], 'a client navigation, not a document load');
        assert.deepEqual(await page.errors(), []);
      });

      test("under a strict CSP ('strict-dynamic', nonces) the router loads, navigates and prefetches without a violation", async () => {
        await page.goto(strict.url + '/home');
        assert.match(await page.evaluate(() => (document.querySelector('script[type=importmap]') as HTMLScriptElement).nonce ?? ''), /.+/, 'the page is served with nonces');
        await until(page, 'the router (imported by the nonce’d loader)', () => !!(window as unknown as { atollRouter?: unknown }).atollRouter);
        await page.evaluate(instrument);
        await page.evaluate(() => {
          const w = window as unknown as { __violations: string[] };
          w.__violations = [];
          document.addEventListener('securitypolicyviolation', (e) => w.__violations.push(`${e.violatedDirective} ${e.blockedURI}`), true);
          // A document prefetch (speculation rules or <link rel=prefetch>), which the policy must allow too.
          const a = document.createElement('a');
          a.href = '/category/audio';
          a.setAttribute('data-atoll-reload', '');
          a.setAttribute('data-atoll-prefetch', 'hover');
          a.textContent = 'audio';
          document.body.append(a);
          a.dispatchEvent(new PointerEvent('pointerover', { bubbles: true, composed: true }));
        });
        const [x, y] = await pointAt(page, 'shop-navbar', 'a[href="/category/kitchen"]');
        await page.click(x, y);
        const s = await navigated(1);
        assert.equal(s.path, '/category/kitchen');
        assert.equal(s.marker, true);
        await sleep(300);
        assert.deepEqual(await page.evaluate(() => (window as unknown as { __violations: string[] }).__violations), []);
        assert.deepEqual(await page.errors(), []);
      });

      test('View Transitions are opt-in: only a page with <meta name="atoll-view-transition"> swaps inside one', async () => {
        await open('/home');
        const supported = await page.evaluate(() => {
          const d = document as Document & { startViewTransition?: (cb: () => void) => unknown };
          const w = window as unknown as { __vt: number };
          w.__vt = 0;
          if (typeof d.startViewTransition !== 'function') return false;
          const original = d.startViewTransition.bind(d);
          d.startViewTransition = (cb: () => void) => (w.__vt++, original(cb));
          return true;
        });
        await routerNavigate('/category/audio');
        await navigated(1);
        assert.equal(await page.evaluate(() => (window as unknown as { __vt: number }).__vt), 0, 'no transition without the meta');
        await page.evaluate(() => {
          const m = document.createElement('meta');
          m.name = 'atoll-view-transition';
          document.head.append(m);
        });
        await routerNavigate('/category/kitchen');
        const s = await navigated(2);
        assert.equal(s.path, '/category/kitchen');
        assert.equal(await page.evaluate(() => (window as unknown as { __vt: number }).__vt), supported ? 1 : 0, supported ? 'one transition with the meta' : 'no View Transitions in this engine');
        assert.deepEqual(await page.errors(), []);
      });

      test('focus moves to the new content and the new title is announced', async () => {
        await open('/home');
        const [x, y] = await pointAt(page, 'shop-navbar', 'a[href="/category/outdoors"]');
        await page.click(x, y);
        await navigated(1);
        const a11y = await until(page, 'the announcement', () => {
          const region = document.getElementById('atoll-route-announcer');
          if (!region || region.textContent !== document.title) return null;
          const f = document.activeElement!;
          return { focused: f.localName, tabindex: f.getAttribute('tabindex'), live: region.getAttribute('aria-live'), text: region.textContent, title: document.title };
        });
        assert.ok(['h1', 'main'].includes(a11y.focused), `focus on the new content (${a11y.focused})`);
        assert.equal(a11y.tabindex, '-1');
        assert.equal(a11y.live, 'assertive');
        assert.match(a11y.text, /Outdoors/);
        assert.deepEqual(await page.errors(), []);
      });
    });
  }
});
