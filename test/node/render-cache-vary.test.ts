/**
 * `cacheVary` (docs/caching.md): an element whose output is `private` only
 * because of a request header or a cookie is render-cached once per variant
 * when its registry entry names what it varies on; two variants never see
 * each other's markup; without `cacheVary` nothing changes (private output
 * is never cached); `no-store` and `Set-Cookie` output never are. Hostile
 * request values keep the key bounded; a bad `cacheVary` is a start-up
 * error at its file:line:col.
 *
 * The element's markup depends on the request only through state its
 * `data()` hook sets outside its props (as a context from an ancestor
 * would): so only the variant part of the key keeps variants apart.
 */
import assert from 'node:assert/strict';
import { before, beforeEach, describe, test } from 'node:test';
import { LitElementRenderer } from '@lit-labs/ssr';
import type { RenderInfo } from '@lit-labs/ssr/lib/render-value.js';
import { createAtoll, silentLogger, type Atoll, type AtollConfig } from '../../ssr-server/index.ts';
import { SiteError } from '../../ssr-server/errors.ts';
import { cacheKey, cacheVariant, LruStore, MAX_VARIANT_CHARS, type CacheEntry } from '../../ssr-server/render/cache.ts';
import { layout, makeSite } from '../helpers.ts';

/** Counts shadow renders per tag (the technique of bench/servers/atoll.ts). */
const renders = new Map<string, number>();
class CountingRenderer extends LitElementRenderer {
  override renderShadow(renderInfo: RenderInfo) {
    const tag = this.tagName;
    renders.set(tag, (renders.get(tag) ?? 0) + 1);
    return super.renderShadow(renderInfo);
  }
}
const count = (tag: string): number => renders.get(tag) ?? 0;

/** An element that shows the request's language and currency cookie, with the given response headers. */
const variantElement = (tag: string, headers: string): Record<string, string> => ({
  [`elements/${tag}/index.ts`]: `
import { LitElement, html } from 'lit';
import { seen } from './state.ts';
class El extends LitElement {
  render() { return html\`<p>lang=\${seen.lang} currency=\${seen.currency}</p>\`; }
}
customElements.define('${tag}', El);
`,
  [`elements/${tag}/state.ts`]: `export const seen = { lang: '', currency: '' };\n`,
  [`elements/${tag}/server.ts`]: `
import { seen } from './state.ts';
export function data(ctx) {
  seen.lang = ctx.headers.get('accept-language') ?? '(none)';
  const m = /(?:^|;\\s*)currency=([^;]*)/.exec(ctx.headers.get('cookie') ?? '');
  seen.currency = m === null ? '(none)' : m[1] || '(empty)';
  return {};
}
export function headers() { return ${headers}; }
`,
});

const SITE: Record<string, string> = {
  'layouts/index.html': layout(`
<atoll-route path="/vary"><v-private></v-private></atoll-route>
<atoll-route path="/plain"><v-unvaried></v-unvaried></atoll-route>
<atoll-route path="/nostore"><v-nostore></v-nostore></atoll-route>
<atoll-route path="/cookie"><v-setcookie></v-setcookie></atoll-route>
<atoll-route path="/public"><v-public></v-public></atoll-route>`),
  ...variantElement('v-private', `{ 'cache-control': 'private, max-age=60' }`),
  ...variantElement('v-unvaried', `{ 'cache-control': 'private, max-age=60' }`),
  ...variantElement('v-nostore', `{ 'cache-control': 'no-store' }`),
  ...variantElement('v-setcookie', `{ 'set-cookie': 'seen=1; Path=/' }`),
  ...variantElement('v-public', `{ 'cache-control': 'public, max-age=60' }`),
};

const CONFIG: AtollConfig = {
  requestHeaders: ['accept-language', 'cookie'],
  renderers: [CountingRenderer],
  elements: {
    'v-private': { cache: '60s', cacheVary: ['accept-language', 'cookie:currency'] },
    'v-unvaried': { cache: '60s' },
    'v-nostore': { cache: '60s', cacheVary: ['cookie:currency'] },
    'v-setcookie': { cache: '60s', cacheVary: ['cookie:currency'] },
    'v-public': { cache: '60s', cacheVary: ['accept-language'] },
  },
};

/** The element's markup on a page. */
async function shown(atoll: Atoll, path: string, headers: Record<string, string>): Promise<string> {
  const res = await atoll.request(path, { headers });
  const html = await res.text();
  const m = /<p>(lang=[^<]*)<\/p>/.exec(html.replace(/<!--[^>]*-->/g, ''));
  assert.ok(m, `no element markup in ${html.slice(0, 300)}`);
  return m[1]!;
}

describe('cacheVary: private output cached per variant', () => {
  let atoll: Atoll;
  const keys: string[] = [];
  const store = new LruStore();
  before(async () => {
    atoll = await createAtoll({
      root: makeSite(SITE),
      logger: silentLogger,
      config: CONFIG,
      cache: { get: (k) => store.get(k), set: (k: string, e: CacheEntry) => (keys.push(k), store.set(k, e)) },
    });
  });
  beforeEach(() => {
    renders.clear();
    keys.length = 0;
  });

  test('renders once per variant, and each variant sees only its own markup', async () => {
    const en = { 'accept-language': 'en', cookie: 'sid=1; currency=EUR' };
    assert.equal(await shown(atoll, '/vary', en), 'lang=en currency=EUR');
    assert.equal(await shown(atoll, '/vary', { ...en, cookie: 'sid=2; currency=EUR' }), 'lang=en currency=EUR', 'another session, same variant');
    assert.equal(count('v-private'), 1, 'the second request was a cache hit');
    assert.equal(await shown(atoll, '/vary', { 'accept-language': 'fr', cookie: 'currency=EUR' }), 'lang=fr currency=EUR');
    assert.equal(await shown(atoll, '/vary', { 'accept-language': 'en', cookie: 'currency=USD' }), 'lang=en currency=USD');
    assert.equal(count('v-private'), 3);
    // Back to the first variant: its own markup, from the cache.
    assert.equal(await shown(atoll, '/vary', en), 'lang=en currency=EUR');
    assert.equal(await shown(atoll, '/vary', { 'accept-language': 'fr', cookie: 'currency=EUR' }), 'lang=fr currency=EUR');
    assert.equal(count('v-private'), 3);
  });

  test('an absent header or cookie is another variant than an empty one', async () => {
    assert.equal(await shown(atoll, '/vary', { 'accept-language': 'de', cookie: 'currency=' }), 'lang=de currency=(empty)');
    assert.equal(await shown(atoll, '/vary', { 'accept-language': 'de', cookie: 'other=1' }), 'lang=de currency=(none)');
    assert.equal(await shown(atoll, '/vary', { 'accept-language': 'de' }), 'lang=de currency=(none)');
    assert.equal(count('v-private'), 3, 'no Cookie header and a Cookie without the cookie are both "absent", but not "empty"');
    assert.equal(await shown(atoll, '/vary', { cookie: 'currency=CHF' }), 'lang=(none) currency=CHF');
    assert.equal(await shown(atoll, '/vary', { 'accept-language': '', cookie: 'currency=CHF' }), 'lang= currency=CHF');
    assert.equal(count('v-private'), 5);
  });

  test('without cacheVary, private output is never cached (as before)', async () => {
    const h = { 'accept-language': 'en', cookie: 'currency=EUR' };
    for (let i = 0; i < 3; i++) assert.equal(await shown(atoll, '/plain', h), 'lang=en currency=EUR');
    assert.equal(count('v-unvaried'), 3);
    assert.deepEqual(keys.filter((k) => k.startsWith('v-unvaried')), []);
  });

  test('no-store and Set-Cookie output are never cached, even with cacheVary', async () => {
    const h = { cookie: 'currency=EUR' };
    for (let i = 0; i < 2; i++) {
      await shown(atoll, '/nostore', h);
      await shown(atoll, '/cookie', h);
    }
    assert.equal(count('v-nostore'), 2);
    assert.equal(count('v-setcookie'), 2);
    assert.equal(keys.length, 0);
  });

  test('public output with cacheVary is cached per variant too', async () => {
    assert.equal(await shown(atoll, '/public', { 'accept-language': 'en' }), 'lang=en currency=(none)');
    assert.equal(await shown(atoll, '/public', { 'accept-language': 'fr' }), 'lang=fr currency=(none)');
    assert.equal(await shown(atoll, '/public', { 'accept-language': 'en' }), 'lang=en currency=(none)');
    assert.equal(count('v-public'), 2);
  });

  test('a huge cookie and thousands of cookies keep the key bounded, and still tell variants apart', async () => {
    const huge = 'x'.repeat(1024 * 1024);
    const a = { 'accept-language': 'en', cookie: `currency=${huge}A` };
    const b = { 'accept-language': 'en', cookie: `currency=${huge}B` };
    await shown(atoll, '/vary', a);
    await shown(atoll, '/vary', b);
    await shown(atoll, '/vary', a);
    assert.equal(count('v-private'), 2, 'two variants, the third request a hit');
    const many = Array.from({ length: 10_000 }, (_, i) => `c${i}=${i}`).join('; ');
    assert.equal(await shown(atoll, '/vary', { 'accept-language': 'en', cookie: `${many}; currency=JPY` }), 'lang=en currency=JPY');
    assert.equal(await shown(atoll, '/vary', { 'accept-language': 'en', cookie: `currency=JPY; ${many}` }), 'lang=en currency=JPY');
    assert.equal(count('v-private'), 3, 'the other cookies are not part of the variant');
    assert.ok(keys.length >= 3);
    for (const k of keys) assert.ok(k.length <= 200, `a key of ${k.length} characters`);
  });

  test('two Cookie lines joined with a comma still keep variants apart', async () => {
    // Headers joins repeated Cookie lines with ", "; a cookie after the comma is still seen.
    assert.equal(await shown(atoll, '/vary', { 'accept-language': 'it', cookie: 'a=1, currency=EUR' }), 'lang=it currency=(none)');
    renders.clear();
    const v1 = cacheVariant(['cookie:currency'], new Headers({ cookie: 'a=1, currency=EUR' }));
    const v2 = cacheVariant(['cookie:currency'], new Headers({ cookie: 'a=1, currency=USD' }));
    assert.notEqual(v1, v2);
  });
});

describe('cacheVariant', () => {
  const h = (init: Record<string, string>) => new Headers(init);
  test('values in the list order; absent differs from empty; other headers and cookies do not count', () => {
    assert.notEqual(cacheVariant(['accept-language'], h({})), cacheVariant(['accept-language'], h({ 'accept-language': '' })));
    assert.notEqual(cacheVariant(['cookie:c'], h({})), cacheVariant(['cookie:c'], h({ cookie: 'c=' })));
    assert.equal(cacheVariant(['cookie:c'], h({ cookie: 'a=1; c=2' })), cacheVariant(['cookie:c'], h({ cookie: 'c=2; b=3' })));
    assert.equal(cacheVariant(['accept-language'], h({ 'accept-language': 'en', 'user-agent': 'x' })), cacheVariant(['accept-language'], h({ 'accept-language': 'en' })));
    assert.notEqual(cacheVariant(['a-b', 'c-d'], h({ 'a-b': '1' })), cacheVariant(['a-b', 'c-d'], h({ 'c-d': '1' })));
  });

  test('a cookie given twice counts with both values', () => {
    assert.notEqual(cacheVariant(['cookie:c'], h({ cookie: 'c=1; c=2' })), cacheVariant(['cookie:c'], h({ cookie: 'c=1; c=3' })));
  });

  test('long variants are a fixed-size hash; short ones are kept as they are', () => {
    const short = cacheVariant(['accept-language'], h({ 'accept-language': 'en' }));
    assert.ok(short.length <= MAX_VARIANT_CHARS + 1 && short.startsWith('v'));
    const long1 = cacheVariant(['accept-language'], h({ 'accept-language': 'x'.repeat(100_000) + '1' }));
    const long2 = cacheVariant(['accept-language'], h({ 'accept-language': 'x'.repeat(100_000) + '2' }));
    assert.ok(long1.startsWith('h') && long1.length === 44, long1);
    assert.notEqual(long1, long2);
  });

  test('a key with a variant never equals one without', () => {
    assert.notEqual(cacheKey('x-a', [], undefined, cacheVariant([], h({}))), cacheKey('x-a', [], undefined));
    assert.equal(cacheKey('x-a', [['a', '1']], 'd'), 'x-a\u0000[["a","1"]]\u0000d', 'keys without cacheVary are what they were');
  });
});

describe('cacheVary in the config', () => {
  // Element definitions are process-wide: each site here defines its own tag.
  let n = 0;
  async function problems(config: string): Promise<string> {
    const tag = `v-cfg${++n}`;
    const root = makeSite({ 'layouts/index.html': layout('<p>x</p>'), 'atoll.config.json': config.replaceAll('v-private', tag), ...variantElement(tag, '{}') });
    try {
      await createAtoll({ root, logger: silentLogger });
    } catch (e) {
      assert.ok(e instanceof SiteError, String(e));
      return e.message;
    }
    assert.fail('the site started');
  }

  test('a header the elements do not see is a start-up error at its line and column', async () => {
    const msg = await problems('{\n  "elements": {\n    "v-private": { "cacheVary": ["accept-language", "x-secret"] }\n  }\n}\n');
    assert.match(msg, /atoll\.config\.json:3:50: elements\.v-cfg\d+\.cacheVary\[1\]: elements do not see the request header "x-secret": add "x-secret" to requestHeaders/);
  });

  test('a cookie needs the cookie header among requestHeaders', async () => {
    const msg = await problems('{\n  "elements": { "v-private": { "cacheVary": ["cookie:currency"] } }\n}\n');
    assert.match(msg, /atoll\.config\.json:2:43: .*the cookie "currency" \(of the "cookie" header\): add "cookie" to requestHeaders/);
    // With it allowed, the site starts (names are matched in lower case).
    const root = makeSite({ 'layouts/index.html': layout('<p>x</p>'), ...variantElement('v-cfg-ok', '{}') });
    const ok = await createAtoll({ root, logger: silentLogger, config: { requestHeaders: ['Cookie', 'Accept-Language'], elements: { 'v-cfg-ok': { cacheVary: ['Cookie:currency', 'ACCEPT-LANGUAGE'] } } } });
    assert.deepEqual(ok.site.registry.get('v-cfg-ok')?.cacheVary, ['cookie:currency', 'accept-language']);
  });

  test('CR/LF, spaces, empty and duplicate entries, too many, and remote elements are refused', async () => {
    const cases: Array<[unknown, RegExp]> = [
      [['accept-language\r\nx-evil: 1'], /is neither a request header name nor "cookie:<name>"/],
      [['cookie:na me'], /is not a cookie name/],
      [['cookie:'], /is not a cookie name/],
      [[''], /is neither a request header name/],
      [['accept-language', 'Accept-Language'], /names the same header or cookie twice/],
      [Array.from({ length: 17 }, (_, i) => `x-h${i}`), /must have at most 16 entries/],
      ['accept-language', /must be an array/],
      [[42], /must be a request header name or "cookie:<name>", not 42/],
    ];
    for (const [cacheVary, expected] of cases) {
      const msg = await problems(JSON.stringify({ requestHeaders: ['accept-language'], elements: { 'v-private': { cacheVary } } }));
      assert.match(msg, expected, JSON.stringify(cacheVary));
    }
    const remote = await problems(JSON.stringify({ elements: { 'v-remote': { url: 'http://127.0.0.1:9/f', cacheVary: [] } } }));
    assert.match(remote, /"cacheVary" is for the render cache, which only module elements use/);
  });
});
