/**
 * The public in-process entry the testing kit is built on (issue 12 item 7):
 * `atoll.request()` (a page by path, URL or Request, like Hono's
 * `app.request()`) and `atoll.renderMarkup()` (layout markup or one element
 * with data), with the engine's own ways of writing the island loader
 * (inline, inert, none) and a first script — through the same engine as
 * `atoll serve`, client build included.
 */
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { createAtoll, memoryLogger, SiteError, type Atoll } from '../../ssr-server/index.ts';
import { INERT_LOADER_TYPE } from '../../islands/protocol.ts';
import { makeSite } from '../helpers.ts';
import { parseDocument } from '../dom.ts';

const element = (tag: string): string => `
import { LitElement, html } from 'lit';
class El extends LitElement {
  static properties = { name: {}, items: { attribute: false } };
  constructor() { super(); this.name = 'nobody'; this.items = []; }
  render() { return html\`<h2>\${this.name}</h2><ul>\${this.items.map((i) => html\`<li>\${i}</li>\`)}</ul>\`; }
}
customElements.define('${tag}', El);
`;

const files = {
  'layouts/index.html': `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>t</title><atoll-head></atoll-head></head>
<body>
<atoll-route path="/greet/:who"><e-greet name="{params.who}" hydrate="load"></e-greet></atoll-route>
<atoll-route path="/bare"><p id="bare">no elements</p></atoll-route>
</body>
</html>
`,
  'elements/e-greet/index.ts': element('e-greet'),
  'elements/e-greet/server.ts': `import { notFound, redirect } from 'atoll-ssr';
export function data(ctx) {
  if (ctx.attributes.mode === 'missing') throw notFound();
  if (ctx.attributes.mode === 'away') throw redirect('/elsewhere');
  return { items: ['hook:' + ctx.url.pathname + ctx.url.search] };
}`,
  'elements/e-other/index.ts': element('e-other'),
};

/** The scripts of `<atoll-head>`'s output, in order, as [type, text]. */
const scripts = (html: string): Array<[string | null, string]> =>
  [...parseDocument(html).querySelectorAll('head script')].map((s) => [s.getAttribute('type'), s.textContent ?? '']);

describe('atoll.request and atoll.renderMarkup', () => {
  const root = makeSite(files);
  const logs = memoryLogger();
  let atoll: Atoll;
  let unbuilt: Atoll;
  let loader = '';

  before(async () => {
    atoll = await createAtoll({ root, logger: logs, client: { build: 'if-stale' } });
    // The same site with no client build at all (another folder for the build).
    unbuilt = await createAtoll({ root, logger: memoryLogger(), client: { build: false, outDir: `${root}/no-build-here` } });
    const page = await atoll.request('/greet/Ada');
    loader = scripts(await page.text()).at(-1)![1];
    assert.ok(loader.length > 1000, 'the inline loader is the last script of a page');
  });

  test('request() answers a path like the fetch handler does, and takes URLs, Requests and init', async () => {
    const viaPath = await atoll.request('/greet/Ada', { headers: { 'x-request-id': 'same' } });
    const viaFetch = await atoll.fetch(new Request('http://localhost/greet/Ada', { headers: { 'x-request-id': 'same' } }));
    assert.equal(viaPath.status, 200);
    assert.equal(await viaPath.text(), await viaFetch.text());
    assert.equal(viaPath.headers.get('x-request-id'), 'same');
    assert.equal((await atoll.request('greet/Bo')).status, 200, 'a path without its slash');
    assert.match(await (await atoll.request(new URL('http://example.test/greet/Cy?x=1'))).text(), /hook:\/greet\/Cy\?x=1/);
    assert.equal((await atoll.request(new Request('http://localhost/greet/Di'), { method: 'POST', body: 'x' })).status, 405);
    assert.equal((await atoll.request('/greet/Ed', { method: 'HEAD' })).status, 200);
    assert.equal((await atoll.request('//evil.test/x')).status, 404, 'a path that looks like another host stays a path');
    const asset = parseDocument(await (await atoll.request('/greet/Fi')).text()).querySelector('link[rel=modulepreload]')!.getAttribute('href')!;
    const js = await atoll.request(asset);
    assert.equal(js.status, 200, 'built files come through the same entry');
    assert.match(js.headers.get('content-type')!, /javascript/);
  });

  test('the loader is written inline (default), inert, or not at all; the import map stays', async () => {
    const inline = scripts(await (await atoll.request('/greet/Ada', undefined, { loader: 'inline' })).text());
    assert.deepEqual(inline.map(([t]) => t), ['importmap', null]);
    const inert = scripts(await (await atoll.request('/greet/Ada', undefined, { loader: 'inert' })).text());
    assert.deepEqual(inert.map(([t]) => t), ['importmap', INERT_LOADER_TYPE]);
    assert.equal(inert[1]![1], loader, 'the inert copy is the loader itself');
    const none = scripts(await (await atoll.request('/greet/Ada', undefined, { loader: 'none' })).text());
    assert.deepEqual(none.map(([t]) => t), ['importmap']);
    const markup = scripts(await (await atoll.renderMarkup({ tag: 'e-greet', attributes: { hydrate: 'load' } }, { loader: 'inert' })).text());
    assert.deepEqual(markup.map(([t]) => t), ['importmap', INERT_LOADER_TYPE]);
  });

  test('headScript runs first in <atoll-head> (with the page nonce under CSP), even with no client build', async () => {
    const first = 'window.__first = 1;';
    const page = scripts(await (await atoll.request('/greet/Ada', undefined, { headScript: first })).text());
    assert.deepEqual(page[0], [null, first]);
    assert.equal(page.length, 3);
    const bare = scripts(await (await atoll.request('/bare', undefined, { headScript: first })).text());
    assert.deepEqual(bare, [[null, first]], 'a page with nothing to hydrate gets only the script');
    const noBuild = scripts(await (await unbuilt.request('/greet/Ada', undefined, { headScript: first })).text());
    assert.deepEqual(noBuild, [[null, first]]);
    const csp = await createAtoll({ root, config: { csp: true }, logger: memoryLogger(), client: { build: false } });
    const res = await csp.request('/greet/Ada', undefined, { headScript: first });
    const nonce = /'nonce-([^']+)'/.exec(res.headers.get('content-security-policy')!)![1];
    const doc = parseDocument(await res.text());
    assert.equal(doc.querySelector('head script')!.getAttribute('nonce'), nonce);
  });

  test('hostile render options are refused before anything renders', async () => {
    await assert.rejects(atoll.request('/bare', undefined, { headScript: 'x = "</script><script>alert(1)//"' }), /may not contain/);
    await assert.rejects(atoll.request('/bare', undefined, { headScript: '<!-- <script>' }), /may not contain/);
    await assert.rejects(atoll.request('/bare', undefined, { headScript: 42 as unknown as string }), /must be a string/);
    await assert.rejects(atoll.request('/bare', undefined, { loader: 'eval' as 'none' }), /loader must be/);
    await assert.rejects(atoll.renderMarkup({ html: '<p></p>' }, { loader: 'x' as 'none' }), /loader must be/);
  });

  test('renderMarkup renders markup with the data() hook, or with data given in its place', async () => {
    const hooked = parseDocument(await (await atoll.renderMarkup({ html: '<section><e-greet name="Ada"></e-greet></section>', url: '/at?q=1' })).text());
    assert.equal(hooked.title, 'Atoll');
    const greet = hooked.querySelector('section > e-greet')!;
    assert.match(greet.innerHTML, /<h2>(<!--[^>]*-->)*Ada/);
    assert.match(greet.innerHTML, /hook:\/at\?q=1/, 'the hook sees the url given');
    const given = await atoll.renderMarkup({ html: '<e-greet name="Bo"></e-greet><e-other></e-other>', data: { 'e-greet': { items: ['given'] } }, title: 'T <x>', lang: 'fr' });
    const html = await given.text();
    assert.equal(given.status, 200);
    assert.doesNotMatch(html, /hook:/, 'the hook did not run');
    assert.match(html, /<li>(<!--[^>]*-->)*given/);
    assert.match(html, /<title>T &lt;x&gt;<\/title>/);
    assert.match(html, /<html lang="fr">/);
    // The real hook is back for the next render: the data only replaced it for one.
    assert.match(await (await atoll.renderMarkup({ tag: 'e-greet' })).text(), /hook:\//);
  });

  test('renderMarkup renders one element by tag, escaping its attributes', async () => {
    const res = await atoll.renderMarkup({ tag: 'e-greet', attributes: { name: 'a"<b>&', hidden: true, inert: false }, data: { items: [1, 2] } });
    const el = parseDocument(await res.text()).querySelector('e-greet')!;
    assert.equal(el.getAttribute('name'), 'a"<b>&');
    assert.equal(el.hasAttribute('hidden'), true);
    assert.equal(el.hasAttribute('inert'), false);
    assert.equal(el.querySelectorAll(':scope > script[data-atoll-props]').length, 1, 'its data is serialized for hydration');
  });

  test('a primary element decides the status: notFound() and redirect() come out as a page would', async () => {
    const missing = await atoll.renderMarkup({ tag: 'e-greet', attributes: { primary: true, mode: 'missing' } });
    assert.equal(missing.status, 404);
    const away = await atoll.renderMarkup({ tag: 'e-greet', attributes: { primary: true, mode: 'away' } });
    assert.equal(away.status, 302);
    assert.equal(away.headers.get('location'), '/elsewhere');
  });

  test('renderMarkup refuses hostile input with a clear error', async () => {
    await assert.rejects(atoll.renderMarkup({ tag: 'e-greet onclick="alert(1)"' }), /is not a custom element name/);
    await assert.rejects(atoll.renderMarkup({ tag: 'e-greet', attributes: { 'a b': 'x' } }), /is not an attribute name/);
    await assert.rejects(atoll.renderMarkup({ tag: 'e-greet', attributes: { 'x"><script>': 'x' } }), /is not an attribute name/);
    await assert.rejects(atoll.renderMarkup({ tag: 'e-greet', attributes: { name: 5 as unknown as string } }), /must be a string or a boolean/);
    await assert.rejects(atoll.renderMarkup({ html: '<p></p>', data: { 'e-nope': {} } }), /not an element of the site/);
    await assert.rejects(atoll.renderMarkup({ html: '<p></p>', data: JSON.parse('{"__proto__": {"x": 1}}') }), /not an element of the site/);
    await assert.rejects(atoll.renderMarkup({ html: '<p></p>', data: { 'e-greet': [1] as unknown as Record<string, unknown> } }), /must be an object/);
    await assert.rejects(atoll.renderMarkup({ html: 7 as unknown as string }), /html must be a string/);
    await assert.rejects(atoll.renderMarkup(null as never), /give \{ html \} or \{ tag \}/);
    for (const url of ['//evil.test/', 'http://evil.test/', 'x']) {
      await assert.rejects(atoll.renderMarkup({ html: '<p></p>', url }), /url must be a path/, url);
    }
  });

  test('markup problems point at line:col in the caller\'s markup; warnings are errors only when strict', async () => {
    const err = await atoll.renderMarkup({ html: '<p>one</p>\n  <atoll-bogus></atoll-bogus>' }).then(
      () => assert.fail('resolved'),
      (e: unknown) => e,
    );
    assert.ok(err instanceof SiteError);
    assert.equal(err.problems[0]!.file, '(markup)');
    assert.equal(err.problems[0]!.line, 2);
    assert.equal(err.problems[0]!.col, 3);
    const loose = await atoll.renderMarkup({ html: '<e-typo></e-typo>', headers: { 'x-request-id': 'loose-1' } });
    assert.equal(loose.status, 200);
    assert.ok(logs.lines.some((l) => l.level === 'warn' && l.requestId === 'loose-1' && /<e-typo> is not in the element registry/.test(String(l.msg))));
    await assert.rejects(atoll.renderMarkup({ html: '\n<e-typo></e-typo>' }, { strict: true }), /\(markup\):2:1: <e-typo> is not in the element registry/);
  });
});
