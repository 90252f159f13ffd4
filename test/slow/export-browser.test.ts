/**
 * The exported demo works from a plain static file server: `atoll export`,
 * then a `node:http` server written here (no Atoll: files, `index.html` for
 * folders, `404.html`), then a product page in Chromium — its island
 * hydrates (a real click on "Add to cart" changes the page) with no page or
 * console errors and no failed request.
 */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { extname, join, relative, isAbsolute } from 'node:path';
import { after, before, test } from 'node:test';
import { repoRoot, runCli } from '../helpers.ts';
import { launch, type EngineBrowser } from './engines.ts';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.json': 'application/json',
  '.map': 'application/json',
  '.xml': 'application/xml',
  '.txt': 'text/plain; charset=utf-8',
};

/** The simplest static server: a file, a folder's index.html, else 404.html. */
function staticServer(dir: string, requests: string[]): Server {
  return createServer((req, res) => {
    let path: string;
    try {
      path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    } catch {
      res.writeHead(400).end();
      return;
    }
    requests.push(`${req.url}`);
    let file = join(dir, path);
    const rel = relative(dir, file);
    if (rel.startsWith('..') || isAbsolute(rel)) {
      res.writeHead(403).end();
      return;
    }
    try {
      if (statSync(file).isDirectory()) file = join(file, 'index.html');
      const body = readFileSync(file);
      res.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream' }).end(body);
    } catch {
      res.writeHead(404, { 'content-type': TYPES['.html'] }).end(readFileSync(join(dir, '404.html')));
      requests.push(`404 ${req.url}`);
    }
  });
}

let out: string;
let server: Server;
let base: string;
let browser: EngineBrowser;
const requests: string[] = [];

before(async () => {
  out = mkdtempSync(join(tmpdir(), 'atoll-export-browser-'));
  const exported = await runCli(['export', '--root', repoRoot, '--out', join(out, 'site'), '--quiet'], { timeoutMs: 120_000 });
  assert.equal(exported.code, 0, exported.stderr);
  server = staticServer(join(out, 'site'), requests);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  assert.ok(address !== null && typeof address === 'object');
  base = `http://127.0.0.1:${address.port}`;
  browser = await launch('chromium');
});

after(async () => {
  await browser?.close();
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  rmSync(out, { recursive: true, force: true });
});

test('an exported product page hydrates from a plain static server', { timeout: 60_000 }, async () => {
  const page = await browser.newPage();
  try {
    const status = await page.goto(`${base}/products/stoneware-mug`);
    assert.equal(status, 200);
    // The island hydrates (visible: it is on the first screen); then a real click on its button.
    const hydrated = await page.evaluate(async () => {
      const host = document.querySelector('shop-product');
      for (let i = 0; i < 200 && (!host || host.hasAttribute('defer-hydration') || !customElements.get('shop-product')); i++) await new Promise((r) => setTimeout(r, 50));
      return host !== null && !host.hasAttribute('defer-hydration') && customElements.get('shop-product') !== undefined;
    });
    assert.ok(hydrated, '<shop-product> hydrated');
    const where = await page.evaluate(() => {
      const host = document.querySelector('shop-product');
      const button = host?.shadowRoot?.querySelector('button');
      if (!button) return null;
      button.scrollIntoView({ block: 'center', behavior: 'instant' });
      const r = button.getBoundingClientRect();
      return { x: r.x + r.width / 2, y: r.y + r.height / 2, title: host!.shadowRoot!.querySelector('h1')?.textContent ?? '' };
    });
    assert.ok(where !== null, 'the product page has its server-rendered Add to cart button');
    assert.match(where.title, /mug/i);
    await page.click(where.x, where.y);
    const state = await page.evaluate(async () => {
      const host = document.querySelector('shop-product')!;
      for (let i = 0; i < 100; i++) {
        const note = host.shadowRoot?.querySelector('.note')?.textContent ?? '';
        if (/Added to your cart/.test(note)) break;
        await new Promise((r) => setTimeout(r, 50));
      }
      return {
        defined: customElements.get('shop-product') !== undefined,
        deferred: host.hasAttribute('defer-hydration'),
        note: host.shadowRoot?.querySelector('.note')?.textContent?.trim() ?? '',
      };
    });
    assert.deepEqual(state, { defined: true, deferred: false, note: 'Added to your cart.' });
    assert.deepEqual(await page.errors(), []);
    assert.deepEqual(requests.filter((r) => r.startsWith('404 ')), [], 'every request the page made found its file');
    assert.ok(requests.some((r) => r.startsWith('/_atoll/assets/')), 'the page loaded the copied client build');
  } finally {
    await page.close();
  }
});
