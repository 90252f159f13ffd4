/**
 * The server side of embedding (SPEC 6): `/_atoll/embed.js` (the built embed
 * code with the site's element table), `/_atoll/element/<tag>.js` (a stable
 * URL re-exporting the current hashed entry), CORS on public code, and the
 * size of embed.js. Its behaviour in browsers: test/browser/embed.test.ts.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { gzipSync } from 'node:zlib';
import { readManifest } from '../../ssr-server/build/manifest.ts';
import { buildEmbed } from '../../ssr-server/embed/build.ts';
import { EMBED_PLACEHOLDER, embedTable, respondEmbed } from '../../ssr-server/embed/index.ts';
import type { Engine } from '../../ssr-server/handle.ts';
import { layout, litElement, makeSite, serveSite, type TestServer } from '../helpers.ts';

/** Budget of embed.js, minified and gzipped (level 9), table excluded. */
const BUDGET = 2560;

const site = (): Record<string, string> => ({
  'layouts/index.html': layout('<em-a></em-a><em-b></em-b>').replace('</head>', '<atoll-head></atoll-head></head>'),
  'elements/em-a.ts': litElement('em-a'),
  'elements/em-b.ts': litElement('em-b'),
  'atoll.config.json': JSON.stringify({
    elements: {
      'em-remote': { url: 'http://127.0.0.1:9/_atoll/fragment/em-remote', client: 'http://127.0.0.1:9/_atoll/element/em-remote.js' },
    },
  }),
});

describe('embed.js and the element modules', () => {
  let server: TestServer;

  before(async () => {
    server = await serveSite({ root: makeSite(site()), client: { build: true } });
  });
  after(() => server.close());

  test('embed.js is the built embed code with the element table, as public, short-cached JavaScript', async () => {
    const res = await server.get('/_atoll/embed.js', { headers: { origin: 'http://elsewhere.example' } });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-type'), 'text/javascript; charset=utf-8');
    assert.equal(res.headers.get('access-control-allow-origin'), '*');
    assert.equal(res.headers.get('cache-control'), 'public, max-age=60');
    assert.ok(res.headers.get('etag'));
    const code = await res.text();
    assert.ok(!code.includes(EMBED_PLACEHOLDER), 'the placeholder is replaced');
    assert.match(code, /import\.meta\.url/, 'URLs resolve against embed.js itself');
    const manifest = readManifest(`${server.atoll.site.root}/.atoll/client`)!;
    const table = embedTable(manifest, server.atoll.site.registry);
    assert.ok(code.includes(JSON.stringify(table)), 'the table is in embed.js');
    const a = manifest.elements['em-a'] as { file: string; imports: string[] };
    assert.deepEqual(table['em-a'], ['fragment/em-a', `assets/${a.file}`, ...a.imports.map((f) => `assets/${f}`)]);
    assert.deepEqual(table['em-remote'], ['http://127.0.0.1:9/_atoll/fragment/em-remote', 'http://127.0.0.1:9/_atoll/element/em-remote.js']);
  });

  test('embed.js: 304 for its ETag, gzip and brotli when accepted', async () => {
    const first = await server.get('/_atoll/embed.js', { headers: { 'accept-encoding': 'identity' } });
    const etag = first.headers.get('etag')!;
    const again = await server.get('/_atoll/embed.js', { headers: { 'accept-encoding': 'identity', 'if-none-match': etag } });
    assert.equal(again.status, 304);
    const { request } = await import('node:http');
    const encoding = await new Promise<string | undefined>((resolve, reject) => {
      const u = new URL(server.url + '/_atoll/embed.js');
      request({ host: u.hostname, port: u.port, path: u.pathname, headers: { 'accept-encoding': 'br' } }, (r) => {
        r.resume();
        resolve(r.headers['content-encoding']);
      }).on('error', reject).end();
    });
    assert.equal(encoding, 'br');
  });

  test('/_atoll/element/<tag>.js re-exports the current hashed entry, resolved against its own URL', async () => {
    const res = await server.get('/_atoll/element/em-a.js');
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('access-control-allow-origin'), '*');
    assert.equal(res.headers.get('cache-control'), 'public, max-age=60');
    const code = await res.text();
    const target = /export \* from "([^"]+)";/.exec(code)![1]!;
    assert.match(target, /^\.\.\/assets\/em-a-[\w-]+\.js$/);
    const absolute = new URL(target, server.url + '/_atoll/element/em-a.js');
    const entry = await server.get(absolute.pathname);
    assert.equal(entry.status, 200, `${absolute.pathname} is served`);
    assert.equal(entry.headers.get('access-control-allow-origin'), '*', 'built assets are public code too');
    const remote = await (await server.get('/_atoll/element/em-remote.js')).text();
    assert.match(remote, /export \* from "http:\/\/127\.0\.0\.1:9\/_atoll\/element\/em-remote\.js";/);
  });

  test('unknown elements and odd names are 404; other paths are not embed routes', async () => {
    for (const path of ['/_atoll/element/em-nope.js', '/_atoll/element/EM-A.js', '/_atoll/element/..%2fassets.js']) {
      const res = await server.get(path);
      assert.equal(res.status, 404, path);
      await res.arrayBuffer();
    }
    const engine = { assets: undefined } as unknown as Engine;
    const req = { method: 'GET', target: '/', headers: new Headers(), signal: new AbortController().signal };
    assert.equal(respondEmbed(engine, '/products/1', req, 'r'), undefined);
    assert.equal(respondEmbed(engine, '/_atoll/embed.js', req, 'r')?.status, 404, 'no build: 404, not a page');
  });
});

test('the element table skips elements with no client module and no remote URL', () => {
  const registry = new Map([
    ['x-a', { tag: 'x-a', kind: 'module' }],
    ['x-server-only', { tag: 'x-server-only', kind: 'module' }],
    ['x-remote', { tag: 'x-remote', kind: 'remote', url: 'https://r.example/_atoll/fragment/x-remote' }],
  ]) as unknown as Parameters<typeof embedTable>[1];
  const manifest = { elements: { 'x-a': { file: 'x-a-1.js', imports: ['chunks/lit-2.js'] } } } as unknown as Parameters<typeof embedTable>[0];
  assert.deepEqual(embedTable(manifest, registry), {
    'x-a': ['fragment/x-a', 'assets/x-a-1.js', 'assets/chunks/lit-2.js'],
    'x-remote': ['https://r.example/_atoll/fragment/x-remote', ''],
  });
});

test(`embed.js is at most ${BUDGET} bytes minified and gzipped`, async () => {
  const { code } = await buildEmbed();
  const gzip = gzipSync(code, { level: 9 }).length;
  process.stdout.write(`embed.js: ${code.length} B minified, ${gzip} B gzip (without the element table)\n`);
  assert.ok(gzip <= BUDGET, `embed.js is ${gzip} B gzipped; the budget is ${BUDGET} B`);
});
