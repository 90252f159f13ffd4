/**
 * The three-engine helper (engines.ts) itself, so that a browser test's
 * "no errors" means something: in Chromium, Firefox ESR and WebKit the
 * recorder sees console.error, an uncaught error, an unhandled rejection, a
 * failed script and an `atoll:hydration-error`; evaluate passes arguments,
 * awaits promises and reports a throw; real clicks and typing reach the page.
 * WebKit refuses a page that runs no recorder, and with `injectRecorder` the
 * proxy adds it (with the CSP nonce, standards mode kept, other responses and
 * the origin untouched).
 */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { gzipSync } from 'node:zlib';
import { ENGINE_LABEL, ENGINES, launch, PAGE_RECORDER } from './engines.ts';

const PAGE = (head: string) => `<!doctype html>
<html><head>${head}<title>engines</title></head>
<body>
<input id="field" aria-label="field">
<button id="button" style="width: 120px; height: 40px">button</button>
<script>
  window.clicks = 0;
  document.getElementById('button').addEventListener('click', () => window.clicks++);
  console.error('an error logged');
  setTimeout(() => { throw new Error('an uncaught error'); });
  Promise.reject(new Error('a rejection nobody handles'));
  document.body.dispatchEvent(new CustomEvent('atoll:hydration-error', { bubbles: true, detail: { error: new Error('a hydration error') } }));
</script>
<script src="/missing.js"></script>
</body></html>`;

describe('engines.ts: one interface to Chromium, Firefox ESR and WebKit', () => {
  let server: Server;
  let url: string;
  before(async () => {
    server = createServer((req, res) => {
      if (req.url === '/with-recorder') {
        res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
        res.end(PAGE(`<script>${PAGE_RECORDER}</script>`));
      } else if (req.url === '/bare') {
        res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'content-security-policy': "script-src 'nonce-n0nce' 'self'" });
        res.end(PAGE('').replace(/<script>/g, '<script nonce="n0nce">') + '<script>window.withoutNonce = true</script>');
      } else if (req.url === '/packed.js') {
        res.writeHead(200, { 'content-type': 'text/javascript', 'content-encoding': 'gzip' });
        res.end(gzipSync('window.packed = "unpacked by the browser";'));
      } else {
        res.writeHead(404, { 'content-type': 'text/plain' }).end('no');
      }
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => new Promise<void>((resolve) => server.close(() => resolve())));

  const expectErrors = (errors: string[]) => {
    const all = errors.join('\n');
    for (const wanted of [/console\.error an error logged/, /uncaught .*an uncaught error/, /unhandled rejection .*a rejection nobody handles/, /failed to load <script> .*\/missing\.js/, /atoll:hydration-error on <body>: .*a hydration error/]) {
      assert.match(all, wanted);
    }
  };

  for (const engine of ENGINES) {
    test(`${ENGINE_LABEL[engine]}: errors recorded, evaluate, click and type`, async () => {
      const browser = await launch(engine);
      try {
        const page = await browser.newPage();
        await page.goto(`${url}/with-recorder`);
        await page.evaluate(() => new Promise((resolve) => setTimeout(resolve, 100)));
        expectErrors(await page.errors());

        assert.equal(await page.evaluate((a: number, b: string) => Promise.resolve(`${a}:${b}`), 7, 'x'), '7:x');
        await assert.rejects(page.evaluate(() => Promise.reject(new Error('thrown in the page'))), /thrown in the page/);

        const at = await page.evaluate(() => {
          const r = document.getElementById('button')!.getBoundingClientRect();
          return { x: r.left + r.width / 2, y: r.top + r.height / 2 };
        });
        await page.click(at.x, at.y);
        assert.equal(await page.evaluate(() => (window as unknown as { clicks: number }).clicks), 1, 'one real click, one click event');
        await page.evaluate(() => document.getElementById('field')!.focus());
        await page.type('Ünïcode 1');
        assert.equal(await page.evaluate(() => (document.getElementById('field') as HTMLInputElement).value), 'Ünïcode 1');
      } finally {
        await browser.close();
      }
    });
  }

  test('WebKit: a page without the recorder is refused; injectRecorder adds it (CSP nonce, standards mode, origin and other responses untouched)', async () => {
    const plain = await launch('webkit');
    try {
      const page = await plain.newPage();
      await assert.rejects(page.goto(`${url}/bare`), /does not run the page recorder/);
    } finally {
      await plain.close();
    }
    const proxied = await launch('webkit', { injectRecorder: true });
    try {
      const page = await proxied.newPage();
      await page.goto(`${url}/bare`);
      await page.evaluate(() => new Promise((resolve) => setTimeout(resolve, 100)));
      expectErrors(await page.errors());
      const state = await page.evaluate(async () => {
        const s = document.createElement('script');
        s.src = '/packed.js';
        document.head.append(s);
        await new Promise((resolve) => (s.onload = resolve));
        const w = window as unknown as { packed?: string; withoutNonce?: boolean };
        return { mode: document.compatMode, origin: location.origin, packed: w.packed ?? null, withoutNonce: w.withoutNonce ?? null };
      });
      assert.deepEqual(state, { mode: 'CSS1Compat', origin: url, packed: 'unpacked by the browser', withoutNonce: null });
    } finally {
      await proxied.close();
    }
  });
});
