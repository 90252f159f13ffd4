/**
 * The document head from elements' `head()` hooks (SPEC 9a, docs/seo.md):
 * the merge rule, escaping of hostile values, failing hooks, and the layout's
 * title and metas becoming the merge's defaults.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { compileLayout } from '../../ssr-server/layout/compile.ts';
import type { HeadOp } from '../../ssr-server/layout/ops.ts';
import { headSources, MAX_HEAD_STRING, mergeHead, NO_ORIGIN, type HeadElement, type HeadSource, type LayoutTitle } from '../../ssr-server/render/document-head.ts';
import { layout, litElement, makeSite, serveSite, type TestServer } from '../helpers.ts';
import { parseDocument } from '../dom.ts';

const BASE = 'https://shop.example/products/x?q=1';
const src = (tag: string, value: unknown, primary = false): HeadSource => ({ tag, primary, call: () => value });
function merge(sources: HeadSource[], title?: LayoutTitle): { html: string; logs: Array<Record<string, unknown>> } {
  const logs: Array<Record<string, unknown>> = [];
  const html = mergeHead(sources, title, BASE, (fields, message) => logs.push({ ...fields, message }));
  return { html, logs };
}
const doc = (headHtml: string): Document => parseDocument(`<!doctype html><html><head>${headHtml}</head><body></body></html>`);

describe('head merge rule', () => {
  test('one title: the first contribution, through the layout template; else the layout title', () => {
    const layoutTitle = { text: 'Shop', template: '%s — Shop' };
    const { html } = merge([src('a', { title: 'Mug' }), src('b', { title: 'Other' })], layoutTitle);
    assert.equal(doc(html).querySelectorAll('title').length, 1);
    assert.equal(doc(html).title, 'Mug — Shop');
    assert.equal(doc(merge([src('a', {})], layoutTitle).html).title, 'Shop', 'the layout title is the default');
    assert.equal(doc(merge([src('a', { title: 'Mug' })], { text: 'Shop', template: undefined }).html).title, 'Mug', 'no template: the title as given');
    assert.equal(doc(merge([src('a', { title: '$& %s $1' })], layoutTitle).html).title, '$& %s $1 — Shop', 'replacement patterns in a title are text');
    assert.equal(merge([], undefined).html, '', 'nothing at all: nothing');
  });

  test('headSources: primaries first, then document order; pending and failed data left out', () => {
    const el = (tag: string, primary: boolean, line: number, col: number, data: HeadElement['data'] = undefined): HeadElement => ({
      tag, primary, line, col, data, hook: () => ({ title: tag }), context: () => ({}) as never,
    });
    const order = headSources([el('late', false, 9, 1), el('nested', false, 3, 5), el('p2', true, 8, 1), el('p1', true, 2, 1), el('wait', false, 1, 1, 'pending'), el('bad', true, 1, 1, 'failed')]).map((s) => s.tag);
    assert.deepEqual(order, ['p1', 'p2', 'nested', 'late']);
  });

  test('description, robots and metas de-duplicated by name/property (first wins), in order; one canonical', () => {
    const { html } = merge([
      src('p', { description: 'first', canonical: '/products/mug', meta: [{ property: 'og:title', content: 'A' }, { name: 'twitter:card', content: 'summary' }] }, true),
      src('q', { description: 'second', robots: 'noindex', canonical: '/other', meta: [{ property: 'OG:TITLE', content: 'B' }, { property: 'og:type', content: 'product' }] }),
    ], { text: 'S', template: undefined, metas: [{ attr: 'name', key: 'description', content: 'layout default' }, { attr: 'name', key: 'author', content: 'x' }] });
    const d = doc(html);
    const metas = [...d.querySelectorAll('meta')].map((m) => `${m.getAttribute('name') ?? m.getAttribute('property')}=${m.getAttribute('content')}`);
    assert.deepEqual(metas, ['description=first', 'og:title=A', 'twitter:card=summary', 'robots=noindex', 'og:type=product', 'author=x']);
    const canon = d.querySelectorAll('link[rel=canonical]');
    assert.equal(canon.length, 1);
    assert.equal(canon[0]!.getAttribute('href'), 'https://shop.example/products/mug', 'relative URLs resolve against the base');
  });

  test('alternates de-duplicated by hreflang; JSON-LD objects all kept, in order', () => {
    const { html } = merge([
      src('a', { alternates: [{ hreflang: 'de', href: '/de/x' }, { hreflang: 'bad lang', href: '/y' }], jsonLd: { '@type': 'Product', name: 'A' } }),
      src('b', { alternates: [{ hreflang: 'DE', href: '/de/z' }, { hreflang: 'fr', href: 'javascript:alert(1)' }], jsonLd: [{ '@type': 'BreadcrumbList' }, { '@type': 'Organization' }] }),
    ]);
    const d = doc(html);
    assert.deepEqual([...d.querySelectorAll('link[rel=alternate]')].map((l) => l.getAttribute('href')), ['https://shop.example/de/x']);
    assert.deepEqual([...d.querySelectorAll('script[type="application/ld+json"]')].map((s) => JSON.parse(s.textContent!)['@type']), ['Product', 'BreadcrumbList', 'Organization']);
  });
});

describe('head escaping of hostile values', () => {
  const evil = `"'><script>alert(1)</script><!-- & \u2028\u2029`;
  test('every field is escaped for its context and reads back as given', () => {
    const { html } = merge([src('x', {
      title: evil, description: evil, robots: evil, canonical: `/p?a=${encodeURIComponent(evil)}`,
      meta: [{ name: evil, content: evil }, { property: 'og:title', content: evil }],
      alternates: [{ hreflang: 'en', href: `/e?"><x` }],
      jsonLd: { name: evil, nested: [{ v: '</script><script>alert(2)</script>' }] },
    })], { text: 'S', template: '%s | S' });
    assert.doesNotMatch(html, /<script>alert/, 'no live script tag');
    assert.equal((html.match(/<script/g) ?? []).length, 1, 'only the JSON-LD script');
    assert.doesNotMatch(html, /<!--/);
    const ldText = html.slice(html.indexOf('<script type="application/ld+json">'));
    assert.doesNotMatch(ldText, /[\u2028\u2029]/, 'U+2028/2029 are escapes in the JSON-LD');
    assert.match(ldText, /\\u2028\\u2029/);
    const d = doc(html);
    assert.ok(d.title.startsWith(`"'><script>alert(1)</script><!-- &`), d.title);
    assert.equal(d.querySelector('meta[name=description]')!.getAttribute('content'), evil);
    assert.equal(d.querySelector('meta[property="og:title"]')!.getAttribute('content'), evil);
    assert.equal([...d.querySelectorAll('meta')].find((m) => m.getAttribute('name') === evil.trim().toLowerCase())?.getAttribute('content'), evil, 'a hostile meta name stays an attribute value');
    const ld = JSON.parse(d.querySelector('script[type="application/ld+json"]')!.textContent!);
    assert.equal(ld.name, evil, 'the JSON-LD reads back exactly');
    assert.equal(ld.nested[0].v, '</script><script>alert(2)</script>');
    assert.equal(d.querySelector('link[rel=alternate]')!.getAttribute('href'), 'https://shop.example/e?%22%3E%3Cx');
  });

  test('control characters are removed and huge strings bounded', () => {
    const { html } = merge([src('x', { title: 'a\u0000b\u0007c\n\td', description: 'x'.repeat(1_000_000) + '\ud83d\ude00' })]);
    const d = doc(html);
    assert.equal(d.title, 'abc d');
    assert.equal(d.querySelector('meta[name=description]')!.getAttribute('content')!.length, MAX_HEAD_STRING);
    assert.ok(html.length < 3 * MAX_HEAD_STRING, `${html.length} bytes`);
  });

  test('without publicOrigin, relative URLs stay paths (never made from Host); absolute ones stay absolute', () => {
    const html = mergeHead([src('x', { canonical: 'a?b#c', meta: [{ property: 'og:image', content: 'https://cdn.example/i.png' }, { property: 'og:url', content: '/u' }] })], undefined, `${NO_ORIGIN}/dir/page`, () => {});
    const d = doc(html);
    assert.equal(d.querySelector('link[rel=canonical]')!.getAttribute('href'), '/dir/a?b#c');
    assert.equal(d.querySelector('meta[property="og:image"]')!.getAttribute('content'), 'https://cdn.example/i.png');
    assert.equal(d.querySelector('meta[property="og:url"]')!.getAttribute('content'), '/u');
  });

  test('javascript: and junk URLs are dropped from canonical and og:image', () => {
    const { html } = merge([src('x', { canonical: 'javascript:alert(1)', meta: [{ property: 'og:image', content: 'data:text/html,x' }] }), src('y', { canonical: 'http://[bad' })]);
    assert.doesNotMatch(html, /canonical|og:image|javascript/);
  });
});

describe('failing head() hooks fail softly', () => {
  const hostile: Array<[string, () => unknown]> = [
    ['throws', () => { throw new Error('boom'); }],
    ['throws a non-error with a toString trap', () => { throw { toString() { throw new Error('trap'); } }; }],
    ['returns a string', () => '<title>x</title>'],
    ['returns an array', () => [{ title: 'x' }]],
    ['returns a Promise', () => Promise.resolve({ title: 'x' })],
    ['returns a rejecting Promise', () => Promise.reject(new Error('late'))],
    ['has a throwing getter', () => ({ description: 'half', get title(): string { throw new Error('getter'); } })],
    ['returns a Proxy that throws', () => new Proxy({}, { get() { throw new Error('proxy'); } })],
  ];
  for (const [name, call] of hostile) {
    test(`a hook that ${name}: its contribution is dropped with a log line, the others stay`, () => {
      const { html, logs } = merge([{ tag: 'bad-el', primary: true, call }, src('good-el', { title: 'Good', description: 'kept' })], { text: 'S', template: undefined });
      const d = doc(html);
      assert.equal(d.title, 'Good');
      assert.equal(d.querySelector('meta[name=description]')!.getAttribute('content'), 'kept', 'nothing of the bad one, not even half');
      assert.equal(logs.length, 1);
      assert.equal(logs[0]!.element, 'bad-el');
      assert.match(String(logs[0]!.message), /head\(\) failed/);
    });
  }

  test('non-string fields, objects with toString traps, NaN: ignored field by field', () => {
    const trap = { toString() { throw new Error('trap'); } };
    const { html, logs } = merge([src('x', { title: trap, description: 42, robots: Symbol('r'), canonical: trap, meta: [{ name: trap, content: 'x' }, { name: 'n', content: NaN }, null, 'str'] })]);
    assert.equal(logs.length, 0);
    assert.equal(html, '<meta name="description" content="42">');
  });

  test('JSON-LD with a cycle, a BigInt, a class instance or a huge body is dropped alone', () => {
    const cyclic: Record<string, unknown> = { '@type': 'Thing' };
    cyclic.self = cyclic;
    const { html, logs } = merge([src('x', { jsonLd: [cyclic, { n: 10n }, new Date(0) as never, { big: 'x'.repeat(70_000), more: 'y'.repeat(70_000) }, { '@type': 'Kept', f: () => 1, u: undefined, inf: Infinity }] })]);
    assert.equal(logs.length, 0);
    const scripts = [...doc(html).querySelectorAll('script')].map((s) => JSON.parse(s.textContent!));
    assert.deepEqual(scripts, [{ '@type': 'Kept', inf: null }]);
  });

  test('a __proto__ key in JSON-LD stays a key', () => {
    const { html } = merge([src('x', { jsonLd: JSON.parse('{"__proto__": {"polluted": true}, "a": 1}') })]);
    assert.equal(html, '<script type="application/ld+json">{"__proto__":{"polluted":true},"a":1}</script>');
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
  });
});

describe('the layout title and metas', () => {
  const compile = (source: string) => {
    const problems = { error() {}, warn() {} } as never;
    return compileLayout({ file: 'l.html', source, isElement: () => false, problems });
  };
  test('the <title> before <atoll-head> is taken out (with its template) and overridable metas become defaults', () => {
    const l = compile('<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width"><title data-atoll-template="%s &amp; Co">A &amp; B</title><meta name="description" content="Default &quot;d&quot;"><meta property="og:site_name" content="S"><atoll-head></atoll-head></head><body></body></html>');
    const head = l.ops.find((o) => o.kind === 'head') as HeadOp;
    assert.deepEqual(head.title, { text: 'A & B', template: '%s & Co', metas: [{ attr: 'name', key: 'description', content: 'Default "d"' }, { attr: 'property', key: 'og:site_name', content: 'S' }] });
    const text = l.ops.filter((o) => o.kind === 'text').map((o) => o.html).join('');
    assert.doesNotMatch(text, /<title|name="description"|og:site_name/);
    assert.match(text, /name="viewport"/, 'other metas stay where they are');
  });
  test('a layout without <atoll-head> keeps its title as it is', () => {
    const l = compile('<!doctype html><html lang="en"><head><title>T</title></head><body></body></html>');
    assert.match(l.ops.map((o) => (o.kind === 'text' ? o.html : '')).join(''), /<title>T<\/title>/);
  });
});

describe('head() in a served site', () => {
  let server: TestServer;
  before(async () => {
    const root = makeSite({
      'layouts/index.html': layout('<x-main primary></x-main><x-side></x-side><x-slow></x-slow><x-bad></x-bad>')
        .replace('<title>t</title>', '<title data-atoll-template="%s · Site">Site</title><meta name="description" content="Site default"><atoll-head></atoll-head>'),
      'elements/x-main/index.ts': litElement('x-main'),
      'elements/x-main/server.ts': `export const data = async () => { await new Promise((r) => setTimeout(r, 30)); return { name: 'Main' }; };
export const head = (ctx, data) => ({ title: data.name, canonical: ctx.url.pathname });`,
      'elements/x-side/index.ts': litElement('x-side'),
      'elements/x-side/server.ts': `export const head = () => ({ title: 'Side', description: 'from the side', meta: [{ property: 'og:type', content: 'website' }] });`,
      'elements/x-slow/index.ts': litElement('x-slow'),
      'elements/x-slow/server.ts': `export const data = async () => { await new Promise((r) => setTimeout(r, 400)); return {}; };
export const head = () => ({ robots: 'noindex' });`,
      'elements/x-bad/index.ts': litElement('x-bad'),
      'elements/x-bad/server.ts': `export const head = () => { throw new Error('head exploded'); };`,
    });
    server = await serveSite({ root });
  });
  after(() => server?.close());

  test('the primary decides the title; settled non-primaries add metas; a pending one waits for nobody; a throwing one is logged', async () => {
    const res = await server.get('/page?x=1');
    assert.equal(res.status, 200);
    const html = await res.text();
    const d = parseDocument(html);
    assert.equal(d.querySelectorAll('title').length, 1);
    assert.equal(d.title, 'Main · Site');
    assert.equal(d.querySelector('meta[name=description]')!.getAttribute('content'), 'from the side', 'an element description beats the layout default');
    assert.equal(d.querySelectorAll('meta[name=description]').length, 1);
    assert.equal(d.querySelector('meta[property="og:type"]')!.getAttribute('content'), 'website');
    assert.equal(d.querySelector('meta[name=robots]'), null, 'x-slow had not settled when the head was written');
    assert.equal(d.querySelector('link[rel=canonical]')!.getAttribute('href'), '/page', 'without publicOrigin: a path, never a URL made from Host');
    assert.ok(d.querySelector('x-bad'), 'the element whose head() threw still renders');
    assert.ok(html.indexOf('<title>') < html.indexOf('<body'), 'the title is in the head');
    assert.ok(server.logs.some((l) => l.element === 'x-bad' && /head\(\) failed/.test(String(l.msg ?? l.message))), JSON.stringify(server.logs.slice(-3)));
  });
});
