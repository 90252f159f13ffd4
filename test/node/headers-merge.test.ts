/**
 * The default header merge (SPEC 4), one case per rule.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { mergeCacheControl, mergeHeaders, type HeaderPart } from '../../ssr-server/render/headers.ts';

const part = (source: string, headers: HeadersInit, primary = false): HeaderPart => ({ source, primary, headers: new Headers(headers) });
const layout = (headers: HeadersInit = {}): HeaderPart => part('layout', { 'content-type': 'text/html; charset=utf-8', ...Object.fromEntries(new Headers(headers)) });

describe('Cache-Control: the most restrictive wins', () => {
  const cases: Array<[string, string[], string | undefined]> = [
    ['no-store beats everything', ['public, max-age=600', 'no-store', 'private'], 'no-store'],
    ['private beats public', ['public, max-age=600', 'private, max-age=60'], 'private, max-age=60'],
    ['the shortest max-age', ['max-age=600', 'max-age=30', 'max-age=120'], 'max-age=30'],
    ['public only when every part says so', ['public, max-age=600', 'max-age=60'], 'max-age=60'],
    ['public kept when all say it', ['public, max-age=600', 'public, max-age=60'], 'public, max-age=60'],
    ['s-maxage: shortest shared lifetime, max-age standing in', ['s-maxage=300, max-age=60', 'max-age=100'], 'max-age=60, s-maxage=100'],
    ['private drops s-maxage', ['s-maxage=300', 'private, max-age=10'], 'private, max-age=10'],
    ['no-cache is kept', ['no-cache', 'max-age=60'], 'no-cache, max-age=60'],
    ['must-revalidate is kept', ['max-age=60, must-revalidate', 'max-age=30'], 'max-age=30, must-revalidate'],
    ['nothing to merge', [], undefined],
  ];
  for (const [name, values, expected] of cases) {
    test(name, () => assert.equal(mergeCacheControl(values), expected));
  }
  test('a cap lowers lifetimes but never adds a claim', () => {
    assert.equal(mergeCacheControl(['max-age=600, s-maxage=900'], 42.9), 'max-age=42, s-maxage=42');
    assert.equal(mergeCacheControl(['private'], 10), 'private');
  });
});

describe('mergeHeaders', () => {
  test('Vary: union, de-duplicated without regard to case', () => {
    const h = mergeHeaders([layout({ vary: 'Accept-Encoding' }), part('a-b', { vary: 'accept-encoding, Cookie' }), part('c-d', { vary: 'Cookie, Accept-Language' })]);
    assert.equal(h.get('vary'), 'Accept-Encoding, Cookie, Accept-Language');
  });

  test('Vary: * absorbs the rest', () => {
    assert.equal(mergeHeaders([layout({ vary: 'Cookie' }), part('a-b', { vary: '*' })]).get('vary'), '*');
  });

  test('Link: union of links, de-duplicated, commas inside URLs kept', () => {
    const h = mergeHeaders([
      layout({ link: '</a.js>; rel=modulepreload' }),
      part('a-b', { link: '</a.js>; rel=modulepreload, </b,c.css>; rel=preload; as=style' }),
    ]);
    assert.equal(h.get('link'), '</a.js>; rel=modulepreload, </b,c.css>; rel=preload; as=style');
  });

  test('Set-Cookie: all kept in order, the last one per name wins', () => {
    const a = new Headers();
    a.append('set-cookie', 'sid=1; Path=/');
    a.append('set-cookie', 'theme=dark');
    const b = new Headers();
    b.append('set-cookie', 'sid=2; Path=/');
    const h = mergeHeaders([layout(), { source: 'a-b', primary: false, headers: a }, { source: 'c-d', primary: false, headers: b }]);
    assert.deepEqual(h.getSetCookie(), ['theme=dark', 'sid=2; Path=/']);
  });

  test('Server-Timing: concatenated', () => {
    const h = mergeHeaders([layout({ 'server-timing': 'edge;dur=1' }), part('a-b', { 'server-timing': 'db;dur=5' }), part('c-d', { 'server-timing': 'api;dur=7' })]);
    assert.equal(h.get('server-timing'), 'edge;dur=1, db;dur=5, api;dur=7');
  });

  test('Content-Security-Policy: only the layout\'s', () => {
    const h = mergeHeaders([layout({ 'content-security-policy': "default-src 'self'" }), part('a-b', { 'content-security-policy': '*' }, true)]);
    assert.equal(h.get('content-security-policy'), "default-src 'self'");
  });

  test('hop-by-hop and framing headers from elements are dropped', () => {
    const h = mergeHeaders([
      layout(),
      part('a-b', { connection: 'close', 'transfer-encoding': 'chunked', 'content-length': '12', 'keep-alive': 'timeout=1', trailer: 'x', upgrade: 'h2c', 'content-type': 'text/plain' }, true),
    ]);
    for (const name of ['connection', 'transfer-encoding', 'content-length', 'keep-alive', 'trailer', 'upgrade']) assert.equal(h.get(name), null, name);
    assert.equal(h.get('content-type'), 'text/html; charset=utf-8');
  });

  test('other headers: primary wins, then the layout, then document order', () => {
    const h = mergeHeaders([
      layout({ 'x-a': 'layout', 'x-b': 'layout' }),
      part('first-el', { 'x-a': 'first', 'x-b': 'first', 'x-c': 'first' }),
      part('second-el', { 'x-c': 'second', 'x-d': 'second' }),
      part('primary-el', { 'x-a': 'primary' }, true),
    ]);
    assert.equal(h.get('x-a'), 'primary');
    assert.equal(h.get('x-b'), 'layout');
    assert.equal(h.get('x-c'), 'first');
    assert.equal(h.get('x-d'), 'second');
  });
});
