/**
 * A strict CSP met in real browsers: the demo shop served by `atoll serve
 * --csp` (Atoll's own Node server, default policy: scripts only by nonce and
 * `'strict-dynamic'`, inline styles only by nonce or hash), loaded in
 * Chromium (CDP) and Firefox ESR (WebDriver BiDi) through puppeteer-core.
 * The `hydrate="load"` island hydrates, the layout's `<style>` and the
 * declarative shadow roots' `<style>`s apply, an element rendered on the
 * client gets its styles through `adoptedStyleSheets`, and the browser
 * reports no CSP violation — collected from the first byte by a listener
 * installed before the document exists, and from the console. A nonce-less
 * style added at the end must be reported, so the collector is proven to work.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { cpSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import puppeteer, { type Browser, type Page } from 'puppeteer-core';
import { buildClient } from '../../ssr-server/build/build.ts';
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
    // Early Hints on (Firefox acts on a 103 over HTTP/1.1): the 103's preloads are
    // fetched before the page and its policy exist, and must not break hydration.
    launch: () =>
      puppeteer.launch({
        browser: 'firefox',
        executablePath: process.env.FIREFOX_PATH ?? '/usr/bin/firefox-esr',
        headless: true,
        extraPrefsFirefox: { 'network.early-hints.enabled': true },
      }),
  },
];

/** Installed before any of the page's own code runs: records violations and hydration from the first byte. */
const RECORDER = `
window.__csp = { violations: [], hydrated: [], errors: [] };
document.addEventListener('securitypolicyviolation', (e) => {
  window.__csp.violations.push(e.violatedDirective + ' blocked ' + (e.blockedURI || '(inline)') + ' ' + (e.sample || ''));
}, true);
document.addEventListener('atoll:hydrated', (e) => window.__csp.hydrated.push(e.target.localName), true);
document.addEventListener('atoll:hydration-error', (e) => window.__csp.errors.push(e.target.localName + ': ' + String(e.detail && e.detail.error)), true);
`;

interface Recorded {
  violations: string[];
  hydrated: string[];
  errors: string[];
}

const recorded = (page: Page): Promise<Recorded> => page.evaluate(() => (window as unknown as { __csp: Recorded }).__csp);

/** Waits until `tag` has hydrated (or a hydration error or the deadline). */
async function hydratedTag(page: Page, tag: string): Promise<Recorded> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const r = await recorded(page);
    assert.ok(r, 'the recorder was installed before the page ran');
    if (r.hydrated.includes(tag) || r.errors.length > 0 || Date.now() > deadline) return r;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** `atoll serve --csp` on a copy of the demo shop (its own build folder, no other test's). */
async function serveDemo(): Promise<{ url: string; child: ChildProcess; root: string }> {
  const root = mkdtempSync(join(tmpdir(), 'atoll-csp-demo-'));
  for (const dir of ['layouts', 'elements']) cpSync(join(repoRoot, dir), join(root, dir), { recursive: true });
  writeFileSync(join(root, 'package.json'), '{ "private": true, "type": "module" }\n');
  // Built here without minifying the element bundles (seconds faster; CSP does not care):
  // `atoll serve` then finds the build fresh and serves it as it is.
  await buildClient(await loadSite({ root }), { minify: false });
  const child = spawn(process.execPath, [join(repoRoot, 'bin', 'atoll.mjs'), 'serve', '--csp', '--root', root, '--port', '0', '--quiet'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let err = '';
  child.stderr!.on('data', (d: Buffer) => (err += d));
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d: Buffer) => {
      out += d;
      const m = /at (http:\/\/\S+)/.exec(out);
      if (m) resolve(m[1]!);
    });
    child.on('exit', (code) => reject(new Error(`atoll serve exited with ${code}: ${err}`)));
  });
  return { url, child, root };
}

/**
 * A policy without `'strict-dynamic'` and without `'self'`: every script fetch
 * must carry the nonce itself, so a modulepreload `<link>` without it is
 * blocked (Chromium reports it) — the links' nonce is what keeps this clean.
 */
const NONCE_ONLY = "script-src 'nonce-{nonce}'; style-src 'self' 'nonce-{nonce}'; style-src-attr 'unsafe-inline'; object-src 'none'; base-uri 'none'";

describe('a strict CSP from atoll serve --csp, in real browsers', () => {
  let server: { url: string; child: ChildProcess; root: string };
  let nonceOnly: RunningServer;
  before(async () => {
    server = await serveDemo();
    // The same site and build, served in this process with a custom policy.
    const atoll = await createAtoll({ root: server.root, logger: memoryLogger(), config: { csp: { policy: NONCE_ONLY } } });
    nonceOnly = await listen(atoll, { port: 0 });
  });
  after(async () => {
    server?.child.kill('SIGTERM');
    await nonceOnly?.close();
  });

  test('the policy is the default one, with a nonce', async () => {
    const res = await fetch(server.url + '/settings/');
    const policy = res.headers.get('content-security-policy') ?? '';
    assert.match(policy, /^script-src 'nonce-[A-Za-z0-9+/]{22,}={0,2}' 'strict-dynamic'; style-src 'self' 'nonce-/);
    await res.arrayBuffer();
  });

  for (const engine of engines) {
    test(`${engine.name}: the hydrate="load" island hydrates, styles apply, zero CSP violations`, async () => {
      const browser = await engine.launch();
      try {
        const page = await browser.newPage();
        const consoleCsp: string[] = [];
        page.on('console', (m) => {
          if (/content.security.policy|refused to/i.test(m.text())) consoleCsp.push(`${m.type()}: ${m.text()}`);
        });
        await page.evaluateOnNewDocument(RECORDER);

        const response = await page.goto(server.url + '/settings/', { waitUntil: 'load' });
        assert.equal(response?.status(), 200);
        assert.match(response?.headers()['content-security-policy'] ?? '', /'strict-dynamic'/);
        const r = await hydratedTag(page, 'shop-settings');
        assert.deepEqual(r.errors, [], 'no hydration error');
        assert.ok(r.hydrated.includes('shop-settings'), `hydrated: ${r.hydrated.join(', ')}`);

        const state = await page.evaluate(async () => {
          const island = document.querySelector('shop-settings')!;
          const section = island.shadowRoot?.querySelector('section');
          // An element rendered on the client: Lit adopts its styles as constructable stylesheets.
          const fresh = document.createElement('shop-settings') as HTMLElement & { updateComplete: Promise<unknown> };
          document.body.append(fresh);
          await fresh.updateComplete;
          const freshSection = fresh.shadowRoot!.querySelector('section');
          const out = {
            deferred: island.hasAttribute('defer-hydration'),
            shadowStyles: island.shadowRoot?.querySelectorAll('style').length ?? 0,
            islandMaxWidth: section ? getComputedStyle(section).maxWidth : 'no section',
            layoutBodyDisplay: getComputedStyle(document.body).display,
            freshAdopted: fresh.shadowRoot!.adoptedStyleSheets.length,
            freshStyleElements: fresh.shadowRoot!.querySelectorAll('style').length,
            freshMaxWidth: freshSection ? getComputedStyle(freshSection).maxWidth : 'no section',
          };
          fresh.remove();
          return out;
        });
        assert.equal(state.deferred, false, 'defer-hydration is gone');
        assert.equal(state.shadowStyles, 1, 'the server’s <style> is still in the shadow root after hydration');
        assert.notEqual(state.islandMaxWidth, 'none', 'the shadow root’s <style> applies (section { max-width: 40rem })');
        assert.equal(state.layoutBodyDisplay, 'grid', 'the layout’s <style> applies (body { display: grid })');
        assert.ok(state.freshAdopted > 0, 'a client-rendered element adopts constructable stylesheets');
        assert.equal(state.freshStyleElements, 0);
        assert.equal(state.freshMaxWidth, state.islandMaxWidth, 'and they apply');

        // The home page: visible islands, nested elements, style attributes from Lit templates.
        await page.goto(server.url + '/home', { waitUntil: 'load' });
        const home = await hydratedTag(page, 'shop-navbar');
        assert.deepEqual(home.errors, []);
        assert.ok(home.hydrated.includes('shop-navbar'), `hydrated on /home: ${home.hydrated.join(', ')}`);

        // A nonce-only policy (no 'strict-dynamic', no 'self').
        await page.goto(nonceOnly.url + '/settings/', { waitUntil: 'load' });
        const strict = await hydratedTag(page, 'shop-settings');
        assert.deepEqual(strict.errors, []);
        assert.ok(strict.hydrated.includes('shop-settings'), `hydrated under ${NONCE_ONLY}`);

        assert.deepEqual(r.violations, [], 'no CSP violation on /settings/');
        assert.deepEqual(home.violations, [], 'no CSP violation on /home');
        assert.deepEqual(strict.violations, [], 'no CSP violation with the nonce-only policy');
        assert.deepEqual(consoleCsp, [], 'no CSP message in the console');

        // Without constructable stylesheets (Safari before 16.4), Lit creates <style> elements
        // for client-rendered elements and gives them `litNonce`, which the head sets.
        await page.evaluateOnNewDocument('delete Document.prototype.adoptedStyleSheets; delete ShadowRoot.prototype.adoptedStyleSheets; delete CSSStyleSheet.prototype.replace;');
        const noAdopt = await page.goto(server.url + '/settings/', { waitUntil: 'load' });
        const headerNonce = /'nonce-([^']+)'/.exec(noAdopt?.headers()['content-security-policy'] ?? '')?.[1];
        const old = await hydratedTag(page, 'shop-settings');
        assert.ok(old.hydrated.includes('shop-settings'), `hydrated without adoptedStyleSheets: ${old.errors.join('; ')}`);
        const fallback = await page.evaluate(async () => {
          const fresh = document.createElement('shop-settings') as HTMLElement & { updateComplete: Promise<unknown> };
          document.body.append(fresh);
          await fresh.updateComplete;
          const section = fresh.shadowRoot!.querySelector('section');
          const styles = [...fresh.shadowRoot!.querySelectorAll('style')];
          return {
            litNonce: (window as unknown as { litNonce?: string }).litNonce,
            styles: styles.length,
            nonces: styles.map((st) => st.nonce),
            maxWidth: section ? getComputedStyle(section).maxWidth : 'no section',
          };
        });
        assert.ok(headerNonce);
        assert.equal(fallback.litNonce, headerNonce, 'litNonce is the request’s nonce');
        assert.ok(fallback.styles > 0, 'Lit fell back to <style> elements');
        assert.ok(fallback.nonces.every((n) => n === headerNonce), 'each carries the nonce');
        assert.equal(fallback.maxWidth, state.islandMaxWidth, 'and they apply');
        assert.deepEqual(old.violations, [], 'no CSP violation without constructable stylesheets');

        // The collector works: a style without the nonce is reported.
        const control = await page.evaluate(async () => {
          const s = document.createElement('style');
          s.textContent = 'p { color: red }';
          document.head.append(s);
          await new Promise((resolve) => setTimeout(resolve, 100));
          return (window as unknown as { __csp: Recorded }).__csp.violations;
        });
        assert.equal(control.length, 1, `a nonce-less style is reported: ${control.join('; ')}`);
        assert.match(control[0]!, /^style-src/);
      } finally {
        await browser.close();
      }
    });
  }
});
