/**
 * First-screen preloads in real browsers, through Atoll's own Node server
 * (`createAtoll` + `listen` on a built copy of the demo shop), in Chromium
 * (CDP) and Firefox ESR (WebDriver BiDi) on a phone-sized viewport, where
 * `/home` shows the navbar and the hero and the product list starts below:
 *
 * - `<atoll-head>` modulepreloads the navbar's and the hero's modules and
 *   chunks, not the product list's (test/node/preload.test.ts has the rule);
 * - the inline loader hydrates both, and every file is requested from the
 *   server exactly once: the `import('@atoll/<tag>')` through the import map
 *   reuses the modulepreloaded module (a second request would mean the
 *   preload was wasted bytes in that engine);
 * - the product list's module is requested only when it is scrolled into
 *   view, and then it hydrates.
 */
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import puppeteer, { type Browser, type Page } from 'puppeteer-core';
import { buildClient } from '../../ssr-server/build/build.ts';
import { readManifest, type ClientManifest } from '../../ssr-server/build/manifest.ts';
import { createAtoll, listen, loadSite, memoryLogger, type RunningServer } from '../../ssr-server/index.ts';
import { repoRoot } from '../helpers.ts';
import { CHROMIUM_ARGS } from './engines.ts';

const engines: ReadonlyArray<{ name: string; launch: () => Promise<Browser> }> = [
  {
    name: 'Chromium',
    launch: () => puppeteer.launch({ executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium', headless: true, args: CHROMIUM_ARGS }),
  },
  {
    name: 'Firefox',
    launch: () => puppeteer.launch({ browser: 'firefox', executablePath: process.env.FIREFOX_PATH ?? '/usr/bin/firefox-esr', headless: true }),
  },
];

const PAGE = '/home';
const PHONE = { width: 412, height: 823 };
const FIRST_SCREEN = ['shop-navbar', 'shop-hero'];

/** Installed before any of the page's own code runs. */
const RECORDER = `
window.__pl = { hydrated: [], errors: [] };
document.addEventListener('atoll:hydrated', (e) => window.__pl.hydrated.push(e.target.localName), true);
document.addEventListener('atoll:hydration-error', (e) => window.__pl.errors.push(e.target.localName + ': ' + String(e.detail && e.detail.error)), true);
`;

interface Recorded {
  hydrated: string[];
  errors: string[];
}

async function until(page: Page, what: string, done: (r: Recorded) => boolean): Promise<Recorded> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    const r = await page.evaluate(() => (window as unknown as { __pl: Recorded }).__pl);
    if (done(r) || r.errors.length > 0) return r;
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what} (hydrated: ${r.hydrated.join(', ')})`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe('first-screen preloads through Atoll’s Node server, in real browsers', () => {
  let root: string;
  let running: RunningServer;
  let manifest: ClientManifest;
  const requests = new Map<string, number>();
  const filesOf = (tag: string): string[] => {
    const entry = manifest.elements[tag] as { file: string; imports: string[] };
    return [entry.file, ...entry.imports].map((f) => `/_atoll/assets/${f}`);
  };
  const moduleOf = (tag: string): string => filesOf(tag)[0]!;

  before(async () => {
    root = mkdtempSync(join(tmpdir(), 'atoll-preload-'));
    for (const dir of ['layouts', 'elements']) cpSync(join(repoRoot, dir), join(root, dir), { recursive: true });
    writeFileSync(join(root, 'package.json'), '{ "private": true, "type": "module" }\n');
    await buildClient(await loadSite({ root }), { minify: false });
    manifest = readManifest(join(root, '.atoll', 'client'))!;
    running = await listen(await createAtoll({ root, logger: memoryLogger() }), { port: 0, host: '127.0.0.1' });
    running.server.on('request', (req: { url?: string }) => requests.set(req.url!, (requests.get(req.url!) ?? 0) + 1));
  });
  after(async () => {
    await running?.close({ drainMs: 0 });
    if (root) rmSync(root, { recursive: true, force: true });
  });

  for (const engine of engines) {
    test(`${engine.name}: the first screen's islands hydrate from their preloads (each file fetched once); the list's module waits for the scroll`, async () => {
      const browser = await engine.launch();
      try {
        requests.clear();
        const page = await browser.newPage();
        await page.setViewport(PHONE);
        await page.evaluateOnNewDocument(RECORDER);
        const response = await page.goto(running.url + PAGE, { waitUntil: 'load' });
        assert.equal(response?.status(), 200);

        const preloads = await page.evaluate(() => [...document.querySelectorAll('link[rel=modulepreload]')].map((l) => new URL((l as HTMLLinkElement).href).pathname));
        const expected = [...new Set(FIRST_SCREEN.flatMap(filesOf))].sort();
        assert.deepEqual([...preloads].sort(), expected, 'the navbar’s and the hero’s modules and chunks, nothing else');
        assert.ok(!preloads.includes(moduleOf('shop-product-list')));

        const first = await until(page, 'the first screen to hydrate', (r) => FIRST_SCREEN.every((t) => r.hydrated.includes(t)));
        assert.deepEqual(first.errors, [], 'no atoll:hydration-error');
        // Let anything else the page would fetch without a scroll arrive.
        await new Promise((resolve) => setTimeout(resolve, 500));
        for (const path of expected) assert.equal(requests.get(path), 1, `${path} requested once from the server`);
        assert.equal(requests.get(moduleOf('shop-product-list')), undefined, 'the product list (below the fold) is not fetched yet');
        assert.ok(!first.hydrated.includes('shop-product-list'));

        await page.evaluate(() => document.querySelector('shop-product-list')!.scrollIntoView());
        const scrolled = await until(page, 'the product list to hydrate', (r) => r.hydrated.includes('shop-product-list'));
        assert.deepEqual(scrolled.errors, []);
        assert.equal(requests.get(moduleOf('shop-product-list')), 1);
        for (const path of expected) assert.equal(requests.get(path), 1, `${path} still requested once`);
      } finally {
        await browser.close();
      }
    });
  }
});
