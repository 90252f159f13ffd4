/**
 * Serving the client build and writing `<atoll-head>`: built files at
 * `/_atoll/assets/` with immutable caching, ETags, types and compression, and
 * no way out of the build folder; the head's import map, modulepreloads,
 * inline loader and CSP nonce; `atoll serve` building first when needed.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { brotliDecompressSync, gunzipSync } from 'node:zlib';
import { AssetStore } from '../../ssr-server/assets/store.ts';
import { prepareClient } from '../../ssr-server/build/client.ts';
import { readManifest, type ClientManifest } from '../../ssr-server/build/manifest.ts';
import { handle } from '../../ssr-server/handle.ts';
import { createAtoll, memoryLogger } from '../../ssr-server/index.ts';
import { layout, litElement, makeSite, repoRoot, serveSite, type TestServer } from '../helpers.ts';
import { parseDocument } from '../dom.ts';

const site = (p: string): Record<string, string> => ({
  'layouts/index.html': layout(`
<atoll-route path="/all">
  <${p}-visible></${p}-visible>
  <${p}-load hydrate="load"></${p}-load>
  <${p}-none hydrate="none"></${p}-none>
  <${p}-client ssr="none"></${p}-client>
</atoll-route>
<atoll-route path="/static"><p>no elements here</p></atoll-route>
<atoll-route path="/only-none"><${p}-none hydrate="none"></${p}-none></atoll-route>
<atoll-route path="/only-visible"><${p}-visible></${p}-visible></atoll-route>`).replace('</head>', '<atoll-head></atoll-head></head>'),
  'elements/_lib/shared.ts': `export const label = (s: string): string => '<' + s + '>';\n`,
  ...Object.fromEntries(
    ['visible', 'load', 'none', 'client'].map((k) => [
      `elements/${p}-${k}.ts`,
      `import { label } from './_lib/shared.js';\n${litElement(`${p}-${k}`, 'return html`<p>${label(this.localName)}</p>`;')}`,
    ]),
  ),
});

/** A raw GET (no URL normalization by the client), returning status and headers. */
function rawGet(base: string, path: string, headers: Record<string, string> = {}, method = 'GET'): Promise<{ status: number; headers: Record<string, unknown>; body: Buffer }> {
  const { hostname, port } = new URL(base);
  return new Promise((resolve, reject) => {
    const req = request({ host: hostname, port, path, headers, method, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks) }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('serving the client build', () => {
  let server: TestServer;
  let manifest: ClientManifest;
  let outDir: string;
  let entry: string;

  before(async () => {
    const root = makeSite(site('sv'));
    server = await serveSite({ root, client: { build: true } });
    outDir = join(root, '.atoll', 'client');
    manifest = readManifest(outDir)!;
    entry = (manifest.elements['sv-visible'] as { file: string }).file;
  });
  after(() => server.close());

  test('a hashed file: its type, immutable caching, an ETag, and the exact bytes', async () => {
    const res = await rawGet(server.url, `/_atoll/assets/${entry}`);
    assert.equal(res.status, 200);
    assert.equal(res.headers['content-type'], 'text/javascript; charset=utf-8');
    assert.equal(res.headers['cache-control'], 'public, max-age=31536000, immutable');
    assert.equal(res.headers['x-content-type-options'], 'nosniff');
    assert.match(String(res.headers.etag), /^"[\w-]+"$/);
    assert.equal(res.headers['content-encoding'], undefined);
    assert.deepEqual(res.body, readFileSync(join(outDir, entry)));
    const map = await rawGet(server.url, `/_atoll/assets/${entry}.map`);
    assert.equal(map.status, 200);
    assert.equal(map.headers['content-type'], 'application/json; charset=utf-8');
  });

  test('brotli and gzip when accepted, each with its own ETag; 304 for a matching If-None-Match', async () => {
    const original = readFileSync(join(outDir, entry));
    const br = await rawGet(server.url, `/_atoll/assets/${entry}`, { 'accept-encoding': 'gzip, deflate, br' });
    assert.equal(br.headers['content-encoding'], 'br');
    assert.equal(br.headers.vary, 'accept-encoding');
    assert.deepEqual(brotliDecompressSync(br.body), original);
    const gz = await rawGet(server.url, `/_atoll/assets/${entry}`, { 'accept-encoding': 'gzip, br;q=0' });
    assert.equal(gz.headers['content-encoding'], 'gzip');
    assert.deepEqual(gunzipSync(gz.body), original);
    assert.notEqual(gz.headers.etag, br.headers.etag);

    const again = await rawGet(server.url, `/_atoll/assets/${entry}`, { 'accept-encoding': 'br', 'if-none-match': String(br.headers.etag) });
    assert.equal(again.status, 304);
    assert.equal(again.body.length, 0);
  });

  test('a store made without precompressing (a deploys generation worker) encodes a file when first asked, the same bytes and validators', () => {
    const manifest = readManifest(outDir)!;
    const eager = new AssetStore(outDir, manifest);
    const lazy = new AssetStore(outDir, manifest, { precompress: false });
    for (const accept of ['br', 'gzip', 'identity']) {
      const a = eager.respond(entry, new Headers({ 'accept-encoding': accept }), 'r1');
      const b = lazy.respond(entry, new Headers({ 'accept-encoding': accept }), 'r2');
      const bytes = (r: typeof a): Uint8Array => (r.body.kind === 'bytes' ? r.body.data : new Uint8Array());
      assert.ok(bytes(a).length > 100, `${accept}: a body`);
      assert.deepEqual(Buffer.from(bytes(b)), Buffer.from(bytes(a)), accept);
      assert.equal(b.headers.get('etag'), a.headers.get('etag'), accept);
      assert.equal(b.headers.get('content-encoding'), a.headers.get('content-encoding'), accept);
    }
  });

  test('HEAD answers the headers without a body', async () => {
    const res = await rawGet(server.url, `/_atoll/assets/${entry}`, {}, 'HEAD');
    assert.equal(res.status, 200);
    assert.equal(res.headers['content-length'], String(readFileSync(join(outDir, entry)).length));
    assert.equal(res.headers['cache-control'], 'public, max-age=31536000, immutable');
    assert.equal(res.body.length, 0);
  });

  test('nothing outside the built files can be reached', async () => {
    const attempts = [
      '/_atoll/assets/manifest.json',
      '/_atoll/assets/importmap.json',
      '/_atoll/assets/',
      '/_atoll/assets/chunks/',
      '/_atoll/assets/..%2fmanifest.json',
      '/_atoll/assets/..%2F..%2F..%2Fpackage.json',
      '/_atoll/assets/%2e%2e/%2e%2e/layouts/index.html',
      '/_atoll/assets/../../layouts/index.html',
      '/_atoll/assets/chunks/../../../elements/sv-visible.ts',
      '/_atoll/assets/chunks%2f..%2f..%2fmanifest.json',
      `/_atoll/assets/${entry}%00`,
      `/_atoll/assets/${entry}/`,
      '/_atoll/assets//etc/passwd',
      '/_atoll/assets/%5c..%5cmanifest.json',
    ];
    for (const path of attempts) {
      const res = await rawGet(server.url, path);
      assert.ok(res.status === 404 || res.status === 400, `${path} → ${res.status}`);
      assert.doesNotMatch(res.body.toString(), /"files"|<atoll-route|customElements/, `${path} leaked a file`);
    }
  });

  test('the Web fetch handler serves the same bytes', async () => {
    const res = await server.atoll.fetch(new Request(`http://atoll.test/_atoll/assets/${entry}`));
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('cache-control'), 'public, max-age=31536000, immutable');
    assert.deepEqual(Buffer.from(await res.arrayBuffer()), readFileSync(join(outDir, entry)));
  });

  test('<atoll-head>: the import map of the page’s islands, modulepreload for hydrate="load" and the first screen’s visible islands, the inline loader', async () => {
    const html = await (await server.get('/all')).text();
    const doc = parseDocument(html);
    const map = JSON.parse(doc.querySelector('head script[type=importmap][data-atoll]')!.textContent!) as { imports: Record<string, string> };
    const url = (tag: string): string => `/_atoll/assets/${(manifest.elements[tag] as { file: string }).file}`;
    assert.deepEqual(map.imports, {
      '@atoll/sv-visible': url('sv-visible'),
      '@atoll/sv-load': url('sv-load'),
      '@atoll/sv-client': url('sv-client'),
      // The client router (docs/navigation.md): in every page served with navigation on.
      '@atoll/:router': `/_atoll/assets/${manifest.router}`,
    }, 'hydrate="none" has no module; the client-only element does');
    const load = manifest.elements['sv-load'] as { file: string; imports: string[] };
    // sv-visible is the first microfrontend (first screen, test/node/preload.test.ts); sv-client, fourth, is not.
    const visible = manifest.elements['sv-visible'] as { file: string; imports: string[] };
    const preloads = [...doc.querySelectorAll('link[rel=modulepreload]')].map((l) => l.getAttribute('href'));
    assert.deepEqual(preloads.sort(), [...new Set([load.file, ...load.imports, visible.file, ...visible.imports])].map((f) => `/_atoll/assets/${f}`).sort());
    const scripts = [...doc.querySelectorAll('head script:not([type])')];
    assert.equal(scripts.length, 1);
    assert.equal(scripts[0]!.textContent, readFileSync(join(outDir, manifest.loader), 'utf8'));
    const order = [...doc.head.children].map((e) => e.localName + (e.getAttribute('type') ? `[${e.getAttribute('type')}]` : ''));
    assert.ok(order.indexOf('script[importmap]') < order.indexOf('link') && order.indexOf('link') < order.lastIndexOf('script'), 'import map, then preloads, then the loader');
  });

  test('a page without elements gets no script; a page of hydrate="none" gets only the inline loader (the DSD polyfill path) and no import', async () => {
    const plain = parseDocument(await (await server.get('/static')).text());
    assert.equal(plain.querySelectorAll('script').length, 0);
    const none = parseDocument(await (await server.get('/only-none')).text());
    const map = JSON.parse(none.querySelector('script[type=importmap]')!.textContent!) as { imports: object };
    assert.deepEqual(map.imports, { '@atoll/:router': `/_atoll/assets/${manifest.router}` }, 'only the client router (navigation is on)');
    assert.equal(none.querySelectorAll('link[rel=modulepreload]').length, 0);
  });
});

describe('CSP nonce', () => {
  test('a fixed nonce, and a nonce per request, reach every inline script Atoll writes (escaped)', async () => {
    const root = makeSite(site('np'));
    const fixed = await createAtoll({ root, logger: memoryLogger(), client: { build: true, nonce: 'r4nd0m' } });
    const page = parseDocument((await fixed.render('/all')).html);
    const scripts = [...page.querySelectorAll('script:not([type="application/json"])')];
    assert.equal(scripts.length, 2, 'the import map and the loader');
    for (const s of scripts) assert.equal(s.getAttribute('nonce'), 'r4nd0m');

    const perRequest = await createAtoll({
      root,
      logger: memoryLogger(),
      client: { nonce: (request) => request.headers.get('x-csp-nonce') ?? undefined },
    });
    const html = (await perRequest.render('/all', { headers: { 'x-csp-nonce': 'abc"><script>x' } })).html;
    assert.doesNotMatch(html, /abc"><script>x/);
    for (const s of parseDocument(html).querySelectorAll('script:not([type="application/json"])')) {
      assert.equal(s.getAttribute('nonce'), 'abc"><script>x');
    }
    const without = parseDocument((await perRequest.render('/all')).html);
    for (const s of without.querySelectorAll('script')) assert.equal(s.hasAttribute('nonce'), false);
  });
});

describe('without a client build', () => {
  test('pages render without the loader, and start-up says how to build', async () => {
    const root = makeSite(site('nb'));
    const logger = memoryLogger();
    const atoll = await createAtoll({ root, logger });
    const page = await atoll.render('/all');
    assert.equal(page.status, 200);
    assert.doesNotMatch(page.html, /<script/);
    assert.ok(logger.lines.some((l) => l.level === 'warn' && /no client build/.test(String(l.msg)) && /atoll build/.test(String(l.msg))));
  });

  test('the base path prefixes asset URLs, and the 103 Early Hints links preload (as=script, crossorigin; never modulepreload) the modules of hydrate="load" islands', async () => {
    const root = makeSite(site('eh'));
    const logger = memoryLogger();
    const atoll = await createAtoll({ root, logger, client: { build: true, base: '/shop/' } });
    const manifest = readManifest(join(root, '.atoll', 'client'))!;
    const load = manifest.elements['eh-load'] as { file: string; imports: string[] };
    const html = (await atoll.render('/all')).html;
    assert.ok(html.includes(`"@atoll/eh-load":"/shop/_atoll/assets/${load.file}"`));

    const client = await prepareClient(atoll.site, { base: '/shop/' }, logger);
    let hints: readonly string[] = [];
    await handle({ site: atoll.site, logger, ...client }, {
      method: 'GET',
      target: '/all',
      headers: new Headers(),
      signal: new AbortController().signal,
      onEarlyHints: (links) => (hints = links),
    });
    assert.deepEqual([...hints].sort(), [load.file, ...load.imports].map((f) => `</shop/_atoll/assets/${f}>; rel=preload; as=script; crossorigin`).sort());
    // Not modulepreload: Firefox starts module loading on it before the page's import map
    // exists and then ignores the map, so no island hydrates (test/slow/early-hints-browser.test.ts).
    assert.ok(hints.every((l) => !/modulepreload/.test(l)));

    // A page whose islands all wait for a strategy sends no 103 (regression: every page did, which
    // Chromium ignores on HTTP/1.1 and simple clients such as autocannon take for the answer)...
    let sent = false;
    await handle({ site: atoll.site, logger, ...client }, {
      method: 'GET',
      target: '/only-visible',
      headers: new Headers(),
      signal: new AbortController().signal,
      onEarlyHints: () => (sent = true),
    });
    assert.equal(sent, false);
    // ...while its <atoll-head> preloads the module and chunks of the visible island on the first screen.
    const visible = manifest.elements['eh-visible'] as { file: string; imports: string[] };
    const onlyVisible = (await atoll.render('/only-visible')).html;
    assert.ok(visible.imports.length > 0);
    for (const f of visible.imports) assert.ok(onlyVisible.includes(`<link rel="modulepreload" href="/shop/_atoll/assets/${f}">`), f);
    // Its own module is marked for the loader to evaluate at once (a server-rendered island).
    assert.ok(onlyVisible.includes(`<link rel="modulepreload" href="/shop/_atoll/assets/${visible.file}" data-atoll-eager="eh-visible">`), visible.file);
  });
});

describe('atoll serve', () => {
  test('builds the client first when the build is missing, and not again when it is fresh', async () => {
    const root = makeSite(site('cl'));
    const serveOnce = (): Promise<{ stderr: string; page: string }> =>
      new Promise((resolve, reject) => {
        const child = spawn(process.execPath, [join(repoRoot, 'bin', 'atoll.mjs'), 'serve', '--root', root, '--port', '0'], {
          stdio: ['ignore', 'pipe', 'pipe'],
        });
        let stdout = '';
        let stderr = '';
        const timer = setTimeout(() => {
          child.kill('SIGKILL');
          reject(new Error(`serve did not start: ${stderr}`));
        }, 60_000);
        child.stderr.on('data', (d: Buffer) => (stderr += d));
        child.stdout.on('data', async (d: Buffer) => {
          stdout += d;
          const m = /at (http:\/\/\S+)/.exec(stdout);
          if (!m) return;
          clearTimeout(timer);
          try {
            const page = await (await fetch(`${m[1]}/all`)).text();
            const map = /"@atoll\/cl-visible":"([^"]+)"/.exec(page);
            assert.ok(map, 'the page has the import map');
            const asset = await fetch(m[1] + map[1]!);
            assert.equal(asset.status, 200);
            child.once('close', () => resolve({ stderr, page }));
            child.kill('SIGTERM');
          } catch (e) {
            child.kill('SIGKILL');
            reject(e);
          }
        });
      });
    const first = await serveOnce();
    assert.match(first.stderr, /"msg":"client build done".*"reason":"there is no client build yet"/);
    const second = await serveOnce();
    assert.doesNotMatch(second.stderr, /client build done/);
  });
});
