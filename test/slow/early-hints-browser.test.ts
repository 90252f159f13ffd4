/**
 * 103 Early Hints met in real browsers, through Atoll's own Node server
 * (`createAtoll` + `listen` on a built copy of the demo shop; web-test-runner
 * never sends a 103, so the browser suites could not see this).
 *
 * Regression: the 103 carried `rel=modulepreload` links. Firefox acts on a
 * 103 over HTTP/1.1 and starts loading those modules before the page — and
 * its `<script type="importmap">` — exists; it then ignores the import map,
 * so every `@atoll/<tag>` import failed ("bare specifier … not remapped")
 * and no island hydrated. The 103 now carries `rel=preload; as=script;
 * crossorigin`, which fetches without starting module loading.
 *
 * Checked here: a raw request sees the 103 and its links; in Firefox (Early
 * Hints explicitly on), WebKit (through engines.ts's recorder proxy, which
 * relays the 103) and Chromium the `hydrate="load"` island on
 * `/settings/profile` hydrates with no `atoll:hydration-error`. Chromium
 * ignores a 103 on HTTP/1.1, so it also loads the page through an HTTP/2 TLS
 * proxy that relays the 103 the way a CDN does: there it uses the hinted
 * responses (CDP `fromEarlyHints`) and Atoll's server is asked for the
 * island's module and each of its chunks exactly once (counted server-side).
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash, X509Certificate } from 'node:crypto';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { createSecureServer, type Http2SecureServer, type IncomingHttpHeaders as Http2Headers } from 'node:http2';
import { connect, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import puppeteer, { type Browser, type Page } from 'puppeteer-core';
import { buildClient } from '../../ssr-server/build/build.ts';
import { readManifest } from '../../ssr-server/build/manifest.ts';
import { createAtoll, listen, loadSite, memoryLogger, type RunningServer } from '../../ssr-server/index.ts';
import { repoRoot } from '../helpers.ts';
import { CHROMIUM_ARGS, launch } from './engines.ts';

const chromium = (args: string[] = []): Promise<Browser> =>
  puppeteer.launch({ executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium', headless: true, args: [...CHROMIUM_ARGS, ...args] });
const firefox = (): Promise<Browser> =>
  puppeteer.launch({
    browser: 'firefox',
    executablePath: process.env.FIREFOX_PATH ?? '/usr/bin/firefox-esr',
    headless: true,
    // On explicitly: the bug only shows when Firefox acts on the 103.
    extraPrefsFirefox: { 'network.early-hints.enabled': true },
  });

const PAGE = '/settings/profile';
/** How long the HTTP/2 relay holds a page back after relaying its 103. */
const RELAY_THINK_MS = 250;

/** Installed before any of the page's own code runs. */
const RECORDER = `
window.__eh = { hydrated: [], errors: [] };
document.addEventListener('atoll:hydrated', (e) => window.__eh.hydrated.push(e.target.localName), true);
document.addEventListener('atoll:hydration-error', (e) => {
  window.__eh.errors.push(e.target.localName + ': ' + String(e.detail && e.detail.error));
  e.preventDefault();
}, true);
`;

interface Recorded {
  hydrated: string[];
  errors: string[];
}

/** Waits until `shop-settings` has hydrated, a hydration error, or the deadline. */
async function settled(page: Page): Promise<Recorded & { deferred: boolean }> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const r = await page.evaluate(() => ({
      ...(window as unknown as { __eh: Recorded }).__eh,
      deferred: document.querySelector('shop-settings')?.hasAttribute('defer-hydration') ?? true,
    }));
    if (r.hydrated.includes('shop-settings') || r.errors.length > 0 || Date.now() > deadline) return r;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

async function loadAndCheck(browser: Browser, url: string): Promise<Page> {
  const page = await browser.newPage();
  await page.evaluateOnNewDocument(RECORDER);
  const response = await page.goto(url, { waitUntil: 'load' });
  assert.equal(response?.status(), 200);
  const r = await settled(page);
  assert.deepEqual(r.errors, [], 'no atoll:hydration-error');
  assert.ok(r.hydrated.includes('shop-settings'), `atoll:hydrated fired for shop-settings (hydrated: ${r.hydrated.join(', ')})`);
  assert.equal(r.deferred, false, 'defer-hydration is gone');
  return page;
}

/** One raw HTTP/1.1 request: everything the server wrote, as text. */
function rawGet(url: string, path: string): Promise<string> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname, () => {
      socket.write(`GET ${path} HTTP/1.1\r\nHost: ${hostname}:${port}\r\nAccept: text/html\r\nConnection: close\r\n\r\n`);
    });
    let text = '';
    socket.setEncoding('latin1');
    socket.on('data', (d: string) => (text += d));
    socket.on('end', () => resolve(text));
    socket.on('error', reject);
  });
}

/** A self-signed certificate for 127.0.0.1 and the base64 SHA-256 of its public key (for Chromium's allow list). */
function certificate(dir: string): { key: Buffer; cert: Buffer; spki: string } {
  const key = join(dir, 'key.pem');
  const cert = join(dir, 'cert.pem');
  execFileSync('openssl', [
    'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '2',
    '-keyout', key, '-out', cert, '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1',
  ], { stdio: 'ignore' });
  const der = new X509Certificate(readFileSync(cert)).publicKey.export({ type: 'spki', format: 'der' });
  return { key: readFileSync(key), cert: readFileSync(cert), spki: createHash('sha256').update(der).digest('base64') };
}

const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'transfer-encoding', 'upgrade', 'proxy-connection', 'te', 'host']);

/**
 * An HTTP/2 TLS front for Atoll's HTTP/1.1 server, relaying 103s like a CDN
 * does (Chromium acts on a 103 only over HTTP/2 or later).
 */
async function http2Relay(origin: string, tls: { key: Buffer; cert: Buffer }): Promise<{ server: Http2SecureServer; url: string }> {
  const target = new URL(origin);
  const server = createSecureServer(tls, (req, res) => {
    const headers: Record<string, string | string[]> = {};
    for (const [name, value] of Object.entries(req.headers as Http2Headers)) {
      if (!name.startsWith(':') && !HOP_BY_HOP.has(name) && value !== undefined) headers[name] = value;
    }
    const upstream = httpRequest({ host: target.hostname, port: target.port, method: req.method, path: req.url, headers: { ...headers, host: target.host } });
    let hinted = false;
    upstream.on('information', (info) => {
      // Node joins the 103's Link lines into one value; its writeEarlyHints wants them one by one.
      if (info.statusCode === 103 && info.headers.link !== undefined) {
        hinted = true;
        res.writeEarlyHints({ link: String(info.headers.link).split(/,\s*(?=<)/) });
      }
    });
    upstream.on('response', (up) => {
      const out: IncomingHttpHeaders = {};
      for (const [name, value] of Object.entries(up.headers)) if (!HOP_BY_HOP.has(name)) out[name] = value;
      // After a 103, the page follows RELAY_THINK_MS later, as from an origin
      // that is still working (what Early Hints are for). On loopback the
      // page otherwise arrives in the same instant as the 103, and whether
      // Chromium's hinted fetches or the page's own modulepreloads go first
      // is a race (CI saw a page-made fetch once): the test would measure
      // scheduling, not whether the hints are usable.
      setTimeout(() => {
        res.writeHead(up.statusCode!, out as Record<string, string | string[]>);
        up.pipe(res);
      }, hinted ? RELAY_THINK_MS : 0);
    });
    upstream.on('error', () => res.destroy());
    req.pipe(upstream);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, url: `https://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

describe('103 Early Hints from Atoll’s Node server, in real browsers', () => {
  let root: string;
  let running: RunningServer;
  let relay: { server: Http2SecureServer; url: string };
  let spki: string;
  /** The island's module and the chunks it imports: what the 103 hints. */
  let hinted: string[];
  const requests = new Map<string, number>();

  before(async () => {
    root = mkdtempSync(join(tmpdir(), 'atoll-early-hints-'));
    for (const dir of ['layouts', 'elements']) cpSync(join(repoRoot, dir), join(root, dir), { recursive: true });
    writeFileSync(join(root, 'package.json'), '{ "private": true, "type": "module" }\n');
    await buildClient(await loadSite({ root }), { minify: false });
    const entry = readManifest(join(root, '.atoll', 'client'))!.elements['shop-settings'] as { file: string; imports: string[] };
    hinted = [entry.file, ...entry.imports].map((f) => `/_atoll/assets/${f}`);
    running = await listen(await createAtoll({ root, logger: memoryLogger() }), { port: 0, host: '127.0.0.1' });
    running.server.on('request', (req: { url?: string }) => requests.set(req.url!, (requests.get(req.url!) ?? 0) + 1));
    const tls = certificate(root);
    spki = tls.spki;
    relay = await http2Relay(running.url, tls);
  });
  after(async () => {
    relay?.server.close();
    await running?.close({ drainMs: 0 });
    if (root) rmSync(root, { recursive: true, force: true });
  });

  test('the page gets a 103 whose links preload the island’s module and chunks, none a modulepreload', async () => {
    const raw = await rawGet(running.url, PAGE);
    const early = /^HTTP\/1\.1 103 [^\r]*\r\n((?:[^\r]+\r\n)*)\r\n/.exec(raw);
    assert.ok(early, `a 103 came first: ${raw.slice(0, 200)}`);
    assert.match(raw.slice(early[0].length), /^HTTP\/1\.1 200 /, 'then the page');
    const links = early[1]!.split('\r\n').filter((l) => /^link:/i.test(l)).flatMap((l) => l.slice(5).split(/,(?=\s*<)/)).map((l) => l.trim());
    assert.deepEqual(links.map((l) => /^<([^>]+)>/.exec(l)?.[1]).sort(), [...hinted].sort());
    for (const link of links) assert.match(link, /^<[^>]+>; rel=preload; as=script; crossorigin$/);
  });

  test('Firefox (Early Hints on): the hydrate="load" island hydrates', async () => {
    const browser = await firefox();
    try {
      await loadAndCheck(browser, running.url + PAGE);
    } finally {
      await browser.close();
    }
  });

  test('WebKit (its proxy relays the 103): the hydrate="load" island hydrates with no error, each file requested once', async () => {
    // WebKit's driver has no hook for a script before the page's own, so
    // engines.ts loads it through a proxy that adds the error recorder to
    // the HTML and passes the 103 on (writeEarlyHints).
    const browser = await launch('webkit', { injectRecorder: true });
    try {
      requests.clear();
      const page = await browser.newPage();
      await page.goto(running.url + PAGE);
      const deadline = Date.now() + 10_000;
      let state = { defined: false, deferred: true, updated: false };
      while (Date.now() < deadline) {
        state = await page.evaluate(() => {
          const el = document.querySelector('shop-settings') as (Element & { hasUpdated?: boolean }) | null;
          return { defined: customElements.get('shop-settings') !== undefined, deferred: el?.hasAttribute('defer-hydration') ?? true, updated: el?.hasUpdated === true };
        });
        if (state.defined && !state.deferred && state.updated) break;
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      assert.deepEqual(await page.errors(), [], 'no error or atoll:hydration-error in the page');
      assert.deepEqual(state, { defined: true, deferred: false, updated: true }, 'shop-settings is defined and hydrated');
      for (const path of hinted) assert.equal(requests.get(path), 1, `${path} requested once from the server`);
    } finally {
      await browser.close();
    }
  });

  test('Chromium over HTTP/1.1 (where it ignores a 103): the island hydrates, each file requested once', async () => {
    const browser = await chromium();
    try {
      requests.clear();
      await loadAndCheck(browser, running.url + PAGE);
      for (const path of hinted) assert.equal(requests.get(path), 1, `${path} requested once from the server`);
    } finally {
      await browser.close();
    }
  });

  test('Chromium over HTTP/2: the island hydrates from the hinted responses, each file requested once', async () => {
    // Chromium does not act on every 103 here: in about one load of three (seen
    // at 743d280 and after, with the relay's think time) it starts no hinted
    // fetch at all and the page's module loader fetches the files itself —
    // once, so nothing is wrong but the hints went unused. Each load must
    // hydrate with every file requested once; at most three fresh browsers
    // load the page until one shows the module loader taking the 103's
    // responses, which must happen.
    const used: boolean[] = [];
    for (let attempt = 0; attempt < 3 && !used.includes(true); attempt++) {
      const browser = await chromium([`--ignore-certificate-errors-spki-list=${spki}`]);
      try {
        requests.clear();
        const fromHints = new Map<string, boolean>();
        const watched = await browser.newPage();
        const cdp = await watched.createCDPSession();
        await cdp.send('Network.enable');
        cdp.on('Network.responseReceived', (e) => {
          const path = new URL(e.response.url).pathname;
          if (hinted.includes(path)) fromHints.set(path, e.response.fromEarlyHints === true);
        });
        await watched.evaluateOnNewDocument(RECORDER);
        const response = await watched.goto(relay.url + PAGE, { waitUntil: 'load' });
        assert.equal(response?.status(), 200);
        assert.equal(response?.headers()['content-type']?.startsWith('text/html'), true);
        const r = await settled(watched);
        assert.deepEqual(r.errors, [], 'no atoll:hydration-error');
        assert.ok(r.hydrated.includes('shop-settings'), `hydrated: ${r.hydrated.join(', ')}`);
        assert.equal(r.deferred, false);
        assert.equal(requests.get(PAGE), 1);
        for (const path of hinted) assert.equal(requests.get(path), 1, `${path} requested once from the server`);
        used.push(hinted.every((path) => fromHints.get(path) === true));
      } finally {
        await browser.close();
      }
    }
    assert.ok(used.includes(true), `the module loader used the 103's responses in none of ${used.length} loads`);
  });
});
