/**
 * The default header merge (SPEC 4), one case per rule; the plain-data form
 * (`HeaderList`) against `Headers`; and the merge on plain data against the
 * merge as it was written on `Headers` (kept below as the reference), on
 * thousands of generated pages: the same headers, values, order and wire
 * lines.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { checkHeaders, HeaderList } from '../../ssr-server/header-values.ts';
import { mergeCacheControl, mergeHeaders, mergeLists, type HeaderPart } from '../../ssr-server/render/headers.ts';
import { seeded } from '../helpers.ts';

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

describe('HeaderList: plain data that reads like Headers', () => {
  test('names are lower case, a second value is joined, cookies stay apart, iteration is by name', () => {
    const l = new HeaderList();
    l.append('X-B', '1');
    l.append('x-b', '2');
    l.append('Set-Cookie', 'a=1');
    l.append('set-cookie', 'b=2');
    l.set('A-First', 'z');
    const h = new Headers();
    h.append('X-B', '1');
    h.append('x-b', '2');
    h.append('Set-Cookie', 'a=1');
    h.append('set-cookie', 'b=2');
    h.set('A-First', 'z');
    assert.equal(l.get('X-b'), h.get('X-b'));
    assert.equal(l.get('set-cookie'), h.get('set-cookie'));
    assert.deepEqual(l.getSetCookie(), h.getSetCookie());
    assert.deepEqual([...l], [...h]);
    assert.deepEqual([...l.toHeaders()], [...h]);
    assert.deepEqual(l.toNodeArray(), ['a-first', 'z', 'x-b', '1, 2', 'set-cookie', 'a=1', 'set-cookie', 'b=2']);
    l.set('set-cookie', 'c=3');
    h.set('set-cookie', 'c=3');
    assert.deepEqual(l.getSetCookie(), h.getSetCookie());
    l.delete('X-B');
    h.delete('X-B');
    assert.deepEqual([...l], [...h]);
    assert.equal(l.has('x-b'), false);
    assert.equal(l.bytes(), 'a-first'.length + 1 + 4 + 14 + 3);
  });

  test('a value joined with an empty one reads the same from toHeaders()', () => {
    for (const values of [['a', ''], ['a', '', ''], ['', 'b'], ['a, b', ''], ['', '']]) {
      const l = new HeaderList();
      const h = new Headers();
      for (const v of values) {
        l.append('x-j', v);
        h.append('x-j', v);
      }
      assert.equal(l.get('x-j'), h.get('x-j'), JSON.stringify(values));
      assert.equal(l.toHeaders().get('x-j'), h.get('x-j'), JSON.stringify(values));
    }
  });

  test('a clone changes apart from the original (the layout\'s list is shared by every request)', () => {
    const shared = checkHeaders({ 'x-frame-options': 'DENY' }).headers;
    const copy = shared.clone();
    copy.set('x-request-id', 'r1');
    assert.equal(shared.has('x-request-id'), false);
  });

  test('checkHeaders gives a HeaderList with the same entries Headers would hold', () => {
    const input = [['X-A', '1'], ['x-a', '2'], ['Set-Cookie', 's=1'], ['set-cookie', 't=2'], ['Vary', 'Cookie']] as Array<[string, string]>;
    const { headers, issues } = checkHeaders(input);
    assert.deepEqual(issues, []);
    assert.deepEqual([...headers], [...new Headers(input)]);
  });
});

// ---------------------------------------------------------------------------
// The reference: the merge as it was written on Headers, before it moved to plain data.
// ---------------------------------------------------------------------------

const DROPPED = new Set(['connection', 'transfer-encoding', 'content-length', 'keep-alive', 'trailer', 'upgrade', 'proxy-connection', 'te', 'content-type', 'content-encoding', 'content-security-policy', 'content-security-policy-report-only']);
const SPECIAL = new Set(['cache-control', 'vary', 'link', 'set-cookie', 'server-timing']);
function referenceCacheControl(values: readonly string[], capSeconds?: number): string | undefined {
  if (values.length === 0) return undefined;
  const all = values.map((value) => {
    const d = new Map<string, string | true>();
    for (const part of value.split(',')) {
      const [rawName, ...rest] = part.trim().split('=');
      if (!rawName) continue;
      d.set(rawName.trim().toLowerCase(), rest.length > 0 ? rest.join('=').trim().replace(/^"|"$/g, '') : true);
    }
    return d;
  });
  const seconds = (v: string | true | undefined): number | undefined => {
    if (v === undefined || v === true) return undefined;
    const n = Number(v);
    return Number.isFinite(n) && n >= 0 ? Math.floor(n) : undefined;
  };
  if (all.some((d) => d.has('no-store'))) return 'no-store';
  const isPrivate = all.some((d) => d.has('private'));
  const out: string[] = [isPrivate ? 'private' : '', all.some((d) => d.has('no-cache')) ? 'no-cache' : ''];
  if (!isPrivate && all.every((d) => d.has('public'))) out[0] = 'public';
  let maxAge: number | undefined;
  let sMaxAge: number | undefined;
  const anyShared = all.some((d) => d.has('s-maxage'));
  for (const d of all) {
    const m = seconds(d.get('max-age'));
    if (m !== undefined) maxAge = maxAge === undefined ? m : Math.min(maxAge, m);
    if (anyShared && !isPrivate) {
      const x = seconds(d.get('s-maxage')) ?? m;
      if (x !== undefined) sMaxAge = sMaxAge === undefined ? x : Math.min(sMaxAge, x);
    }
  }
  if (capSeconds !== undefined) {
    const cap = Math.max(0, Math.floor(capSeconds));
    if (maxAge !== undefined) maxAge = Math.min(maxAge, cap);
    if (sMaxAge !== undefined) sMaxAge = Math.min(sMaxAge, cap);
  }
  if (maxAge !== undefined) out.push(`max-age=${maxAge}`);
  if (sMaxAge !== undefined) out.push(`s-maxage=${sMaxAge}`);
  for (const flag of ['must-revalidate', 'proxy-revalidate', 'no-transform']) if (all.some((d) => d.has(flag))) out.push(flag);
  const r = out.filter(Boolean).join(', ');
  return r === '' ? undefined : r;
}
function referenceMerge(parts: readonly HeaderPart[], cap?: number): Headers {
  const out = new Headers();
  const layoutPart = parts.find((p) => p.source === 'layout');
  const clean = (p: HeaderPart): Headers => {
    if (p.source === 'layout') return p.headers;
    const h = new Headers();
    p.headers.forEach((v, k) => {
      if (!DROPPED.has(k) && k !== 'set-cookie') h.set(k, v);
    });
    for (const c of p.headers.getSetCookie()) h.append('set-cookie', c);
    return h;
  };
  const cleaned = parts.map((p) => ({ part: p, headers: clean(p) }));
  const order = [...cleaned.filter((c) => c.part.primary), ...cleaned.filter((c) => c.part === layoutPart), ...cleaned.filter((c) => !c.part.primary && c.part !== layoutPart)];
  for (const { headers } of order) headers.forEach((v, k) => {
    if (!SPECIAL.has(k) && !out.has(k)) out.set(k, v);
  });
  const merged = referenceCacheControl(cleaned.map((c) => c.headers.get('cache-control')).filter((v): v is string => v !== null), cap);
  if (merged !== undefined) out.set('cache-control', merged);
  const vary = new Map<string, string>();
  for (const { headers } of cleaned) for (const v of (headers.get('vary') ?? '').split(',')) {
    const t = v.trim();
    if (t !== '' && !vary.has(t.toLowerCase())) vary.set(t.toLowerCase(), t);
  }
  if (vary.has('*')) out.set('vary', '*');
  else if (vary.size > 0) out.set('vary', [...vary.values()].join(', '));
  const links: string[] = [];
  for (const { headers } of cleaned) for (const l of (headers.get('link') ?? '').split(/,\s*(?=<)/).map((x) => x.trim()).filter(Boolean)) if (!links.includes(l)) links.push(l);
  if (links.length > 0) out.set('link', links.join(', '));
  const name = (c: string): string => c.slice(0, Math.max(0, c.indexOf('='))).trim();
  const cookies = cleaned.flatMap((c) => c.headers.getSetCookie());
  cookies.forEach((c, i) => {
    if (!cookies.slice(i + 1).some((later) => name(later) === name(c))) out.append('set-cookie', c);
  });
  const timing = cleaned.map((c) => c.headers.get('server-timing')).filter((v): v is string => v !== null && v !== '');
  if (timing.length > 0) out.set('server-timing', timing.join(', '));
  return out;
}
/** `writeHead`'s lines as the Node adapter wrote them from Headers: by name, every Set-Cookie last. */
function referenceNodeLines(h: Headers): string[] {
  const out: string[] = [];
  h.forEach((v, k) => {
    if (k !== 'set-cookie') out.push(k, v);
  });
  for (const c of h.getSetCookie()) out.push('set-cookie', c);
  return out;
}

describe('a page whose only part is the layout', () => {
  test('the kept merge gets each request\'s cap, and a page that changes its headers changes no later page', () => {
    const layoutList = checkHeaders({ 'content-type': 'text/html; charset=utf-8', 'cache-control': 'public,max-age=600,s-maxage=900', vary: 'Cookie, cookie' }).headers;
    const parts = [{ source: 'layout', primary: false, headers: layoutList }];
    const a = mergeLists(parts, 30);
    assert.equal(a.get('cache-control'), 'public, max-age=30, s-maxage=30');
    assert.equal(a.get('vary'), 'Cookie');
    a.set('x-request-id', 'one');
    a.set('cache-control', 'no-store');
    const b = mergeLists(parts, 5.5);
    assert.equal(b.get('cache-control'), 'public, max-age=5, s-maxage=5');
    assert.equal(b.has('x-request-id'), false);
    assert.equal(mergeLists(parts).get('cache-control'), 'public, max-age=600, s-maxage=900');
    assert.equal(layoutList.get('cache-control'), 'public,max-age=600,s-maxage=900', 'the shared list is never changed');
    for (const cap of [undefined, 0, 7, 10_000]) assert.deepEqual([...mergeLists(parts, cap)], [...referenceMerge([{ source: 'layout', primary: false, headers: layoutList.toHeaders() }], cap)]);
  });
});

describe('the merge on plain data is the merge on Headers', () => {
  const pick = <T>(r: () => number, xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
  const VALUES: Record<string, string[]> = {
    'cache-control': ['public, max-age=60', 'private', 'no-store', 'max-age=30, s-maxage=90', 'public,max-age=5,must-revalidate', 's-maxage=x', 'no-cache', 'PUBLIC, Max-Age="20"', 'proxy-revalidate, no-transform', 'max-age=-1'],
    vary: ['Cookie', 'accept-language, Cookie', '*', 'Accept-Encoding', 'X-A,,x-a'],
    link: ['</a.js>; rel=modulepreload', '</b,c.css>; rel=preload; as=style, </a.js>; rel=modulepreload', '<https://x.example/y>; rel=preconnect'],
    'set-cookie': ['sid=1; Path=/', 'sid=2', 'theme=dark', 'spaced = 1', 'noequals', '=empty-name'],
    'server-timing': ['db;dur=5', 'edge;dur=1, cache;desc=hit', ''],
    'x-a': ['1', '2', ''],
    'X-Frame-Options': ['DENY', 'SAMEORIGIN'],
    'content-type': ['text/plain', 'text/html; charset=utf-8'],
    'content-security-policy': ["default-src 'self'"],
    'content-length': ['12'],
    connection: ['close'],
    'x-b': ['b'],
  };
  const NAMES = Object.keys(VALUES);
  const randomHeaders = (r: () => number): Array<[string, string]> => {
    const n = Math.floor(r() * 6);
    const out: Array<[string, string]> = [];
    for (let i = 0; i < n; i++) {
      const name = pick(r, NAMES);
      out.push([r() < 0.2 ? name.toUpperCase() : name, pick(r, VALUES[name]!)]);
    }
    return out;
  };

  test('5,000 generated pages: same names, values, order and wire lines', () => {
    const r = seeded(14);
    for (let round = 0; round < 5000; round++) {
      // What hooks return (raw entries), checked into a HeaderList as the engine does; the reference read them into Headers.
      const raw: Array<{ source: string; primary: boolean; entries: Array<[string, string]> }> = [
        { source: 'layout', primary: false, entries: [['content-type', 'text/html; charset=utf-8'], ...randomHeaders(r)] },
      ];
      const n = Math.floor(r() * 6);
      for (let i = 0; i < n; i++) raw.push({ source: `el-${i}`, primary: r() < 0.25, entries: randomHeaders(r) });
      const parts: HeaderPart[] = raw.map((p) => ({ source: p.source, primary: p.primary, headers: new Headers(p.entries) }));
      const cap = r() < 0.3 ? Math.floor(r() * 100) : undefined;
      const expected = referenceMerge(parts, cap);
      const lists = raw.map((p) => ({ source: p.source, primary: p.primary, headers: checkHeaders(p.entries).headers }));
      const got = mergeLists(lists, cap);
      const context = JSON.stringify({ raw, cap });
      assert.deepEqual([...got], [...expected], context);
      assert.deepEqual(got.getSetCookie(), expected.getSetCookie(), context);
      assert.deepEqual(got.toNodeArray(), referenceNodeLines(expected), context);
      assert.deepEqual([...mergeHeaders(parts, cap)], [...expected], context);
      // What an operator's mergeHeaders gets: the Headers the engine used to hold.
      lists.forEach((l, i) => assert.deepEqual([...l.headers.toHeaders()], [...parts[i]!.headers], context));
    }
  });
});
