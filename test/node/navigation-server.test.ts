/**
 * Client-side navigation, the server's side (SPEC 9b, issue 15;
 * ssr-server/render/navigation.ts): instance keys on every layout element's
 * host, the layout id, and navigation requests — kept instances are empty
 * placeholders whose work never starts (counted by the fixture's elements,
 * test/fixtures/navigation), another layout gets the reload answer at once,
 * hostile navigation headers never cost more than a normal page. Real HTTP
 * on 127.0.0.1 through the Node adapter.
 */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { connect } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { KEEP_ATTR, KEEP_HEADER, KEY_ATTR, MAX_KEEP, NAV_HEADER, NAV_RELOAD } from '../../islands/protocol.ts';
import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readManifest } from '../../ssr-server/build/manifest.ts';
import { formatProblem, ProblemList } from '../../ssr-server/errors.ts';
import { resolveConfigSources } from '../../ssr-server/site/config.ts';
import { buildIdentity, layoutId, parseKeep, shortHash } from '../../ssr-server/render/navigation.ts';
import { fixture, runCli, serveSite, type TestServer } from '../helpers.ts';

interface NavCounts {
  data: Record<string, number>;
  headers: Record<string, number>;
  render: Record<string, number>;
}
const counts = (): NavCounts => {
  const c = (globalThis as { __atollNavCounts?: NavCounts }).__atollNavCounts;
  return structuredClone(c ?? { data: {}, headers: {}, render: {} });
};
/** How many calls of each kind `name` had between two snapshots. */
const delta = (before: NavCounts, after: NavCounts, name: string): { data: number; headers: number; render: number } => ({
  data: (after.data[name] ?? 0) - (before.data[name] ?? 0),
  headers: (after.headers[name] ?? 0) - (before.headers[name] ?? 0),
  render: (after.render[name] ?? 0) - (before.render[name] ?? 0),
});

const root = fixture('navigation');

/** The `atoll-key` of each host of `tag` in `html`, in document order. */
function keysOf(html: string, tag: string): string[] {
  return [...html.matchAll(new RegExp(`<${tag} ${KEY_ATTR}="([^"]*)"`, 'g'))].map((m) => m[1]!);
}
const keyOf = (html: string, tag: string): string => {
  const keys = keysOf(html, tag);
  assert.equal(keys.length, 1, `one <${tag}> with a key in ${html.slice(0, 2000)}`);
  return keys[0]!;
};

/** The remote element's server: counts its fetches. */
let remoteHits = 0;
let remote: Server;
let server: TestServer;
let id: string;

before(async () => {
  remote = createServer((req, res) => {
    remoteHits++;
    res.writeHead(200, { 'content-type': 'text/html' });
    res.end('<nav-remote><template shadowrootmode="open"><p class="remote-markup">remote</p></template></nav-remote>');
  });
  await new Promise<void>((resolve) => remote.listen(0, '127.0.0.1', resolve));
  const port = (remote.address() as { port: number }).port;
  server = await serveSite({ root, config: { elements: { 'nav-remote': { url: `http://127.0.0.1:${port}/fragment` } } } });
  const site = server.atoll.site;
  id = layoutId(site, site.layouts.find((l) => l.prefix === '/')!.layout, '');
});
after(async () => {
  await server.close();
  await new Promise<void>((resolve) => remote.close(() => resolve()));
});

/** A page as text with its response. */
async function page(path: string, headers: Record<string, string> = {}): Promise<{ res: Response; html: string }> {
  const res = await server.get(path, { headers });
  return { res, html: await res.text() };
}
const navigate = (path: string, keep: readonly string[] = [], layout = id) => page(path, { [NAV_HEADER]: layout, [KEEP_HEADER]: keep.join(' ') });

describe('instance keys', () => {
  test('every layout element host carries a key; the same request gives the same keys', async () => {
    const a = (await page('/a')).html;
    for (const tag of ['nav-bar', 'nav-item', 'nav-footer']) assert.match(keyOf(a, tag), /^[0-9a-z]{1,16}$/);
    // Only on the host: the attribute goes right after the tag name, once.
    assert.equal((a.match(new RegExp(KEY_ATTR, 'g')) ?? []).length, 3);
    assert.match(a, new RegExp(`<nav-item ${KEY_ATTR}="[0-9a-z]+" label="a" defer-hydration>`));
    const again = (await page('/a')).html;
    assert.deepEqual(['nav-bar', 'nav-item', 'nav-footer'].map((t) => keyOf(again, t)), ['nav-bar', 'nav-item', 'nav-footer'].map((t) => keyOf(a, t)));
  });

  test('elements outside the routes keep their keys from page to page; a route element differs with its attributes', async () => {
    const a = (await page('/a')).html;
    const b = (await page('/b')).html;
    assert.equal(keyOf(a, 'nav-bar'), keyOf(b, 'nav-bar'));
    assert.equal(keyOf(a, 'nav-footer'), keyOf(b, 'nav-footer'));
    assert.notEqual(keyOf(a, 'nav-item'), keyOf(b, 'nav-item'), 'another route, another label');
    assert.notEqual(keyOf(a, 'nav-bar'), keyOf(a, 'nav-footer'));
  });

  test('interpolated attributes and route parameters are part of the key', async () => {
    const q1 = (await page('/q?x=1')).html;
    const q1b = (await page('/q?x=1&y=2')).html;
    const q2 = (await page('/q?x=2')).html;
    assert.equal(keyOf(q1, 'nav-item'), keyOf(q1b, 'nav-item'), 'a query value the element does not see changes nothing');
    assert.notEqual(keyOf(q1, 'nav-item'), keyOf(q2, 'nav-item'));
    // label="plain" on both, but data() sees ctx.params: another id is another instance.
    assert.notEqual(keyOf((await page('/p/1')).html, 'nav-item'), keyOf((await page('/p/2')).html, 'nav-item'));
    const i1 = (await page('/items/1')).html;
    const i2 = (await page('/items/2')).html;
    assert.notEqual(keysOf(i1, 'nav-item')[0], keysOf(i2, 'nav-item')[0]);
    assert.notEqual(keysOf(i1, 'nav-item')[1], keysOf(i2, 'nav-item')[1]);
    assert.equal(keyOf(i1, 'nav-bar'), keyOf(i2, 'nav-bar'));
  });

  test('a key covers what is nested: the nested keys and the routes that matched inside', async () => {
    const one = (await page('/nest/one')).html;
    const two = (await page('/nest/two')).html;
    const three = (await page('/nest/three')).html;
    const boxes = [one, two, three].map((h) => keyOf(h, 'nav-box'));
    assert.equal(new Set(boxes).size, 3, `three light DOMs, three keys: ${boxes}`);
    assert.equal(keyOf((await page('/nest/two')).html, 'nav-box'), boxes[1]);
    const in1 = (await page('/inner/1')).html;
    const in2 = (await page('/inner/2')).html;
    assert.notEqual(keyOf(in1, 'nav-box'), keyOf(in2, 'nav-box'), 'the nested item differs, so its box does');
  });

  test('fallbacks, client-only and remote hosts carry keys too', async () => {
    const fails = (await page('/fails')).html;
    assert.match(fails, new RegExp(`<nav-fail ${KEY_ATTR}="[0-9a-z]+" atoll-fallback="data"><p>fallback</p></nav-fail>`));
    const client = (await page('/client')).html;
    assert.match(client, new RegExp(`<nav-item ${KEY_ATTR}="[0-9a-z]+" label="c"></nav-item>`));
    const rem = (await page('/remote')).html;
    assert.match(rem, new RegExp(`<nav-remote ${KEY_ATTR}="[0-9a-z]+"><template shadowrootmode="open"><p class="remote-markup">`));
  });

  test('a fragment has no key (the page that embeds it keys its host) and ignores navigation headers', async () => {
    const variants: Array<Record<string, string>> = [{}, { [NAV_HEADER]: id, [KEEP_HEADER]: 'anything' }, { [NAV_HEADER]: 'junk' }];
    for (const headers of variants) {
      const res = await server.get('/_atoll/fragment/nav-item?label=f', { headers });
      const html = await res.text();
      assert.equal(res.status, 200);
      assert.match(html, /^<nav-item label="f"[^>]*><template shadowrootmode="open">/);
      assert.ok(!html.includes(KEY_ATTR) && !html.includes(KEEP_ATTR));
      assert.equal(res.headers.get(NAV_HEADER), null);
    }
  });

  test('render-cache hits get their key too, and the key is not in the cache key', async () => {
    const first = (await page('/cached')).html;
    const before = counts();
    const html = (await page('/cached')).html;
    const keys = keysOf(html, 'nav-item');
    assert.equal(keys.length, 2);
    assert.notEqual(keys[0], keys[1]);
    assert.deepEqual(keys, keysOf(first, 'nav-item'));
    assert.equal(delta(before, counts(), 'nav-item:c2').render, 0, 'both from the render cache');
    assert.equal(html.match(/item <!--lit-part-->c2/g)?.length, 2);
    assert.equal(html, first);
  });

  test('another process of the site in another folder (a worker, another host) gives the same keys', async () => {
    const copy = mkdtempSync(join(tmpdir(), 'atoll-nav-copy-'));
    cpSync(root, copy, { recursive: true });
    writeFileSync(join(copy, 'atoll.config.json'), JSON.stringify({ layouts: { '/': 'index.html', '/other': 'other.html' }, elements: { 'nav-remote': { url: 'http://127.0.0.1:9/fragment' } } }));
    try {
      for (const path of ['/a', '/inner/4']) {
        const r = await runCli(['render', path, '--root', copy], { cwd: tmpdir() });
        assert.equal(r.code, 0, r.stderr);
        const mine = (await page(path)).html;
        assert.deepEqual(keysOf(r.stdout, '[a-z-]+'), keysOf(mine, '[a-z-]+'), path);
        assert.equal(keysOf(mine, '[a-z-]+').length, path === '/a' ? 3 : 4);
      }
    } finally {
      rmSync(copy, { recursive: true, force: true });
    }
  });

  test('keys and ids are short [0-9a-z] hashes', () => {
    for (const s of ['', 'a', 'x'.repeat(10_000), '\u0000\uffff😀']) assert.match(shortHash(s), /^[0-9a-z]{1,16}$/);
    assert.notEqual(shortHash('a'), shortHash('b'));
    assert.match(id, /^[0-9a-z]{1,16}$/);
  });
});

describe('navigation requests', () => {
  test('kept navbar and footer: neither is rendered, their hooks do not run, none of their bytes are sent', async () => {
    const full = await page('/a');
    const bar = keyOf(full.html, 'nav-bar');
    const footer = keyOf(full.html, 'nav-footer');
    assert.equal(full.res.headers.get(NAV_HEADER), null, 'a full page is no navigation answer');
    assert.match(full.res.headers.get('cache-control') ?? '', /max-age=60/);
    const before = counts();
    const { res, html } = await navigate('/b', [bar, footer]);
    const after = counts();
    assert.equal(res.status, 200);
    assert.deepEqual(delta(before, after, 'nav-bar'), { data: 0, headers: 0, render: 0 });
    assert.deepEqual(delta(before, after, 'nav-footer'), { data: 0, headers: 0, render: 0 });
    assert.deepEqual(delta(before, after, 'nav-item:b'), { data: 1, headers: 0, render: 1 });
    assert.ok(html.includes(`<nav-bar ${KEEP_ATTR}="${bar}"></nav-bar>`), html);
    assert.ok(html.includes(`<nav-footer ${KEEP_ATTR}="${footer}"></nav-footer>`));
    for (const bytes of ['navbar-markup', 'the navbar', 'footer-markup', 'the footer', `${KEY_ATTR}="${bar}"`, `${KEY_ATTR}="${footer}"`]) {
      assert.ok(!html.includes(bytes), `no ${bytes} in the answer`);
    }
    assert.equal(html.match(/<nav-bar/g)?.length, 1);
    assert.match(html, /item <!--lit-part-->b/);
    assert.equal(res.headers.get(NAV_HEADER), id);
    assert.equal(res.headers.get('cache-control'), 'private, no-store');
    assert.match(res.headers.get('vary') ?? '', /atoll-navigation/);
    assert.match(res.headers.get('vary') ?? '', /atoll-keep/);
    assert.doesNotMatch(res.headers.get('vary') ?? '', /accept-language/i, "the kept navbar's headers() did not run");
    const timing = res.headers.get('server-timing') ?? '';
    assert.match(timing, /(^|, )kept;desc="2"/);
    assert.doesNotMatch(timing, /desc="nav-(bar|footer)"/, 'no data or render time of the kept ones');
  });

  test('a navigation that keeps nothing is the full page with the navigation headers', async () => {
    const before = counts();
    const { res, html } = await navigate('/b');
    assert.equal(delta(before, counts(), 'nav-bar').render, 1);
    assert.match(html, /navbar-markup/);
    assert.ok(!html.includes(KEEP_ATTR + '='));
    assert.equal(res.headers.get(NAV_HEADER), id);
    assert.equal(res.headers.get('cache-control'), 'private, no-store');
    assert.match(res.headers.get('vary') ?? '', /^accept-language, atoll-navigation, atoll-keep\b/i, "merged with the navbar's Vary");
  });

  test("a full page a cache may store varies on the navigation header (the browser's HTTP cache must not answer the router's fetch with it)", async () => {
    const { res } = await page('/b');
    assert.match(res.headers.get('cache-control') ?? '', /max-age=60/);
    assert.equal(res.headers.get(NAV_HEADER), null);
    assert.match(res.headers.get('vary') ?? '', /^accept-language, atoll-navigation\b/i, "merged with the navbar's Vary");
    assert.doesNotMatch(res.headers.get('vary') ?? '', /atoll-keep/);
  });

  test('a kept instance drops everything nested in it; a nested instance can be kept inside one that renders', async () => {
    const full = (await page('/inner/7')).html;
    const box = keyOf(full, 'nav-box');
    const item = keyOf(full, 'nav-item');
    let before = counts();
    let { html } = await navigate('/inner/7', [box]);
    let after = counts();
    assert.deepEqual(delta(before, after, 'nav-box'), { data: 0, headers: 0, render: 0 });
    assert.deepEqual(delta(before, after, 'nav-item:7'), { data: 0, headers: 0, render: 0 });
    assert.ok(html.includes(`<nav-box ${KEEP_ATTR}="${box}"></nav-box>`));
    assert.ok(!html.includes('<nav-item'));
    before = counts();
    ({ html } = await navigate('/inner/7', [item]));
    after = counts();
    assert.equal(delta(before, after, 'nav-box').render, 1);
    assert.equal(delta(before, after, 'nav-item:7').data, 0);
    assert.match(html, new RegExp(`<nav-box ${KEY_ATTR}="${box}" defer-hydration>.*<nav-item ${KEEP_ATTR}="${item}"></nav-item></nav-box>`, 's'));
  });

  test('primary elements and elements with a head() hook are never kept, nor what holds them', async () => {
    const items = (await page('/items/5')).html;
    const [primary, side] = keysOf(items, 'nav-item');
    let before = counts();
    let { html } = await navigate('/items/5', [primary!, side!]);
    let after = counts();
    assert.equal(delta(before, after, 'nav-item:5').render, 1, 'the primary renders');
    assert.equal(delta(before, after, 'nav-item:side').render, 0, 'the other one is kept');
    assert.match(html, new RegExp(`<nav-item ${KEY_ATTR}="${primary}" label="5"`));

    const inside = (await page('/primary-inside')).html;
    before = counts();
    ({ html } = await navigate('/primary-inside', [keyOf(inside, 'nav-box'), keyOf(inside, 'nav-item')]));
    after = counts();
    assert.equal(delta(before, after, 'nav-box').render, 1, 'a box holding a primary renders');
    assert.equal(delta(before, after, 'nav-item:p').render, 1);
    assert.ok(!html.includes(KEEP_ATTR + '='));

    const titled = (await page('/titled')).html;
    assert.match(titled, /<title>Titled<\/title>/);
    before = counts();
    ({ html } = await navigate('/titled', [keyOf(titled, 'nav-titled')]));
    assert.equal(delta(before, counts(), 'nav-titled').render, 1);
    assert.match(html, /<title>Titled<\/title>/);
  });

  test('a kept remote element is not fetched', async () => {
    const full = (await page('/remote')).html;
    const key = keyOf(full, 'nav-remote');
    const hits = remoteHits;
    const { html } = await navigate('/remote', [key]);
    assert.equal(remoteHits, hits);
    assert.ok(html.includes(`<nav-remote ${KEEP_ATTR}="${key}"></nav-remote>`));
    assert.ok(!html.includes('remote-markup') && !html.includes('remote fallback'));
  });

  test('another layout id (another layout, or another build) gets the reload answer, with nothing rendered', async () => {
    for (const [path, layout] of [
      ['/a', 'nope'],
      ['/a', layoutId(server.atoll.site, server.atoll.site.layouts[0]!.layout, 'another build')],
      ['/other/x', id],
    ] as const) {
      const before = counts();
      const { res, html } = await navigate(path, [], layout);
      assert.deepEqual(counts(), before, `${path}: no element did anything`);
      assert.equal(res.status, 200);
      assert.equal(html, '');
      assert.equal(res.headers.get(NAV_HEADER), NAV_RELOAD);
      assert.equal(res.headers.get('cache-control'), 'private, no-store');
      assert.match(res.headers.get('vary') ?? '', /atoll-navigation, atoll-keep/);
    }
    // The other layout's own id is accepted there.
    const other = (await page('/other/x')).html;
    const otherId = layoutId(server.atoll.site, server.atoll.site.layouts.find((l) => l.prefix === '/other')!.layout, '');
    assert.notEqual(otherId, id);
    const { res } = await navigate('/other/x', [keyOf(other, 'nav-bar')], otherId);
    assert.equal(res.headers.get(NAV_HEADER), otherId);
  });

  test('redirects answer as usual; a 404 is a navigation answer', async () => {
    const old = await navigate('/old');
    assert.equal(old.res.status, 301);
    assert.equal(old.res.headers.get('location'), '/a');
    const go = await navigate('/go');
    assert.equal(go.res.status, 302);
    assert.equal(go.res.headers.get('location'), '/b');
    const full = (await page('/a')).html;
    const before = counts();
    for (const path of ['/missing', '/nowhere']) {
      const { res, html } = await navigate(path, [keyOf(full, 'nav-bar')]);
      assert.equal(res.status, 404, path);
      assert.equal(res.headers.get(NAV_HEADER), id);
      assert.equal(res.headers.get('cache-control'), 'private, no-store');
      assert.ok(html.includes(`<nav-bar ${KEEP_ATTR}=`));
    }
    assert.equal(delta(before, counts(), 'nav-bar').render, 0);
    assert.match((await navigate('/nowhere')).html, /item <!--lit-part-->not-found/);
  });
});

describe('hostile navigation headers', () => {
  /** One raw HTTP/1.1 GET with exactly these header lines (bytes as given); the status and body. */
  function raw(path: string, lines: Buffer[]): Promise<{ status: number; head: string; body: string }> {
    const { port } = new URL(server.url);
    return new Promise((resolve, reject) => {
      const socket = connect(Number(port), '127.0.0.1');
      const chunks: Buffer[] = [];
      socket.on('data', (d) => chunks.push(d));
      socket.on('end', () => {
        const data = Buffer.concat(chunks);
        const split = data.indexOf('\r\n\r\n');
        const head = data.subarray(0, split).toString('latin1');
        let rest = data.subarray(split + 4);
        if (/transfer-encoding: chunked/i.test(head)) {
          const parts: Buffer[] = [];
          for (;;) {
            const eol = rest.indexOf('\r\n');
            const size = parseInt(rest.subarray(0, eol).toString('latin1'), 16);
            if (!(size > 0)) break;
            parts.push(rest.subarray(eol + 2, eol + 2 + size));
            rest = rest.subarray(eol + 2 + size + 2);
          }
          rest = Buffer.concat(parts);
        }
        const body = rest.toString('utf8');
        const text = head;
        resolve({ status: Number(text.slice(9, 12)), head, body });
      });
      socket.on('error', reject);
      socket.write(Buffer.concat([Buffer.from(`GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n`), ...lines.flatMap((l) => [l, Buffer.from('\r\n')]), Buffer.from('\r\n')]));
    });
  }
  const line = (name: string, value: string | Buffer): Buffer => Buffer.concat([Buffer.from(`${name}: `), typeof value === 'string' ? Buffer.from(value, 'latin1') : value]);

  test('junk keep lists are a normal navigation answer, never a 500', async () => {
    const full = (await page('/a')).html;
    const bar = keyOf(full, 'nav-bar');
    const cases: Array<[string, Buffer[]]> = [
      ['empty', [line(NAV_HEADER, id), line(KEEP_HEADER, '')]],
      ['10 KB of junk', [line(NAV_HEADER, id), line(KEEP_HEADER, '!'.repeat(10_240))]],
      ['one 10 KB token', [line(NAV_HEADER, id), line(KEEP_HEADER, 'a'.repeat(10_240))]],
      ['overlong keys', [line(NAV_HEADER, id), line(KEEP_HEADER, `${bar}0 ${'z'.repeat(17)} ${bar.toUpperCase()}`)]],
      ['unicode', [line(NAV_HEADER, id), line(KEEP_HEADER, Buffer.from('😀 ключ ｂａｒ \u00a0'))]],
      ['commas, tabs and many spaces', [line(NAV_HEADER, id), line(KEEP_HEADER, ' ,\t, ,, ')]],
      ['unicode layout id', [line(NAV_HEADER, Buffer.from(`${id}😀`))]],
      ['a 10 KB layout id', [line(NAV_HEADER, 'x'.repeat(10_240))]],
    ];
    for (const [name, lines] of cases) {
      const r = await raw('/a', lines);
      assert.equal(r.status, 200, name);
      if (/layout id/.test(name)) {
        assert.match(r.head, new RegExp(`${NAV_HEADER}: ${NAV_RELOAD}`), name);
        assert.equal(r.body, '', name);
      } else {
        assert.match(r.head, new RegExp(`${NAV_HEADER}: ${id}`), name);
        assert.match(r.body, /navbar-markup/, `${name}: nothing kept`);
      }
    }
    assert.ok(!server.logs.some((l) => l.level === 'error' && !/nav-fail/.test(JSON.stringify(l))), 'nothing went wrong');
  });

  test('a repeated keep header counts all its values; a repeated navigation header is another id', async () => {
    const full = (await page('/a')).html;
    const r = await raw('/b', [line(NAV_HEADER, id), line(KEEP_HEADER, keyOf(full, 'nav-bar')), line(KEEP_HEADER, keyOf(full, 'nav-footer'))]);
    assert.equal(r.status, 200);
    assert.ok(r.body.includes(`<nav-bar ${KEEP_ATTR}=`) && r.body.includes(`<nav-footer ${KEEP_ATTR}=`));
    const twice = await raw('/b', [line(NAV_HEADER, id), line(NAV_HEADER, id)]);
    assert.equal(twice.status, 200);
    assert.match(twice.head, new RegExp(`${NAV_HEADER}: ${NAV_RELOAD}`));
  });

  test(`only the first ${MAX_KEEP} keys are read`, async () => {
    const full = (await page('/a')).html;
    const bar = keyOf(full, 'nav-bar');
    const filler = Array.from({ length: MAX_KEEP }, (_, i) => shortHash(String(i)));
    const late = await raw('/b', [line(NAV_HEADER, id), line(KEEP_HEADER, [...filler, bar].join(' '))]);
    assert.equal(late.status, 200);
    assert.match(late.body, /navbar-markup/, `key ${MAX_KEEP + 1} is not read`);
    const early = await raw('/b', [line(NAV_HEADER, id), line(KEEP_HEADER, [...filler.slice(1), bar].join(' '))]);
    assert.ok(early.body.includes(`<nav-bar ${KEEP_ATTR}="${bar}">`), `key ${MAX_KEEP} is`);
  });

  test('control characters are refused by Node before Atoll; the server goes on', async () => {
    const r = await raw('/a', [line(KEEP_HEADER, 'a\u0000b')]);
    assert.equal(r.status, 400);
    assert.equal((await page('/a')).res.status, 200);
  });

  test('parseKeep: bounded, lenient, distinct', () => {
    assert.deepEqual([...parseKeep(null)], []);
    assert.deepEqual([...parseKeep('a b a, c\tD e_f ' + 'x'.repeat(17))], ['a', 'b', 'c']);
    const many = Array.from({ length: 1000 }, (_, i) => `k${i}`).join(' ');
    assert.equal(parseKeep(many).size, MAX_KEEP);
    const cut = parseKeep('k'.repeat(16) + ' ' + 'y'.repeat(100_000));
    assert.deepEqual([...cut], ['k'.repeat(16)]);
  });
});

describe('the Web fetch adapter and the config', () => {
  test('atoll.request() (the fetch adapter) answers navigations the same way', async () => {
    const full = await (await server.atoll.request('/a')).text();
    const bar = keyOf(full, 'nav-bar');
    const res = await server.atoll.request('/b', { headers: { [NAV_HEADER]: id, [KEEP_HEADER]: `${bar}, junk!` } });
    assert.equal(res.headers.get(NAV_HEADER), id);
    assert.equal(res.headers.get('cache-control'), 'private, no-store');
    const html = await res.text();
    assert.ok(html.includes(`<nav-bar ${KEEP_ATTR}="${bar}"></nav-bar>`));
    const reload = await server.atoll.request('/b', { headers: { [NAV_HEADER]: `${id}x` } });
    assert.equal(reload.headers.get(NAV_HEADER), NAV_RELOAD);
    assert.equal(await reload.text(), '');
  });

  test('navigation must be true or false', () => {
    const problems = new ProblemList();
    resolveConfigSources(undefined, { navigation: 'yes' }, problems);
    assert.deepEqual(problems.errors.map(formatProblem), ['(createAtoll config): navigation must be true or false, not "yes"']);
    const fine = new ProblemList();
    assert.equal(resolveConfigSources(undefined, { navigation: false }, fine).config.navigation, false);
    assert.deepEqual(fine.errors, []);
  });
});

describe('navigation: false', () => {
  let off: TestServer;
  before(async () => {
    off = await serveSite({ root, config: { navigation: false } });
  });
  after(() => off.close());

  test('no keys, and navigation headers are ignored', async () => {
    const full = await off.get('/a');
    const html = await full.text();
    assert.ok(!html.includes(KEY_ATTR), 'no keys');
    assert.match(html, /<nav-bar defer-hydration>/);
    const before = counts();
    for (const nav of [id, 'junk']) {
      const res = await off.get('/b', { headers: { [NAV_HEADER]: nav, [KEEP_HEADER]: 'anything' } });
      const body = await res.text();
      assert.equal(res.headers.get(NAV_HEADER), null);
      assert.match(body, /navbar-markup/);
      assert.ok(!body.includes(KEEP_ATTR));
      assert.match(res.headers.get('cache-control') ?? '', /max-age=60/);
      assert.doesNotMatch(res.headers.get('vary') ?? '', /atoll/, 'no navigation, nothing to vary on');
    }
    assert.equal(delta(before, counts(), 'nav-bar').render, 2);
  });
});

describe('with a client build', () => {
  let built: TestServer;
  let outDir: string;
  before(async () => {
    outDir = mkdtempSync(join(tmpdir(), 'atoll-nav-build-'));
    built = await serveSite({ root, client: { build: true, outDir } });
  });
  after(async () => {
    await built.close();
    rmSync(outDir, { recursive: true, force: true });
  });

  test("<atoll-head>'s import map carries the layout id of the layout and the build; a navigation with it is answered", async () => {
    const site = built.atoll.site;
    const manifest = readManifest(outDir);
    assert.ok(manifest !== undefined);
    const expected = layoutId(site, site.layouts.find((l) => l.prefix === '/')!.layout, buildIdentity(manifest));
    assert.notEqual(expected, id, 'the build is part of the id');
    for (const path of ['/a', '/b', '/a']) {
      const html = await (await built.get(path)).text();
      const scripts = html.match(/<script type="importmap"[^>]*>/g) ?? [];
      assert.equal(scripts.length, 1, path);
      assert.equal(scripts[0], `<script type="importmap" data-atoll data-atoll-layout="${expected}">`, path);
    }
    const other = await (await built.get('/other/x')).text();
    assert.doesNotMatch(other, new RegExp(`data-atoll-layout="${expected}"`), 'another layout, another id');
    assert.match(other, /data-atoll-layout="[0-9a-z]+"/);
    const full = await (await built.get('/a')).text();
    const nav = await built.get('/b', { headers: { [NAV_HEADER]: expected, [KEEP_HEADER]: keyOf(full, 'nav-bar') } });
    assert.equal(nav.headers.get(NAV_HEADER), expected);
    assert.match(await nav.text(), new RegExp(`<nav-bar ${KEEP_ATTR}=`));
    // The id of the same layout without this build (what a page from before a deploy sends): reload.
    const stale = await built.get('/b', { headers: { [NAV_HEADER]: id } });
    assert.equal(stale.headers.get(NAV_HEADER), NAV_RELOAD);
    assert.equal(await stale.text(), '');
  });

  test('a navigation answer sends no 103 Early Hints (browsers use them only for document loads)', async () => {
    const { port } = new URL(built.url);
    const raw = (headers: string): Promise<string> =>
      new Promise((resolve, reject) => {
        const socket = connect(Number(port), '127.0.0.1');
        let text = '';
        socket.on('data', (d) => (text += d.toString('latin1')));
        socket.on('end', () => resolve(text));
        socket.on('error', reject);
        socket.write(`GET /load HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n${headers}\r\n`);
      });
    const layout = (await (await built.get('/load')).text()).match(/data-atoll-layout="([0-9a-z]+)"/)![1]!;
    const full = await raw('');
    assert.match(full, /^HTTP\/1\.1 103 Early Hints\r\nlink: <[^>]*nav-item[^>]*>; rel=preload/i, 'a document load gets its hints');
    const nav = await raw(`${NAV_HEADER}: ${layout}\r\n`);
    assert.match(nav, /^HTTP\/1\.1 200 /);
    assert.ok(!nav.includes('103 Early Hints'));
    assert.match(nav, new RegExp(`${NAV_HEADER}: ${layout}`));
  });

  test('buildIdentity: the same manifest gives the same id, another manifest another', () => {
    const manifest = readManifest(outDir)!;
    assert.equal(buildIdentity(structuredClone(manifest)), buildIdentity(manifest));
    assert.notEqual(buildIdentity({ ...manifest, loader: 'loader-other.js' }), buildIdentity(manifest));
    assert.match(buildIdentity(manifest), /^[0-9a-z]{1,16}$/);
  });
});
