/**
 * The server import map (docs/deploys.md): its format and checks with
 * messages at source:line:col and the key path, relative URLs, the
 * allowlist, the digest, and reading it from a file or from a CDN on
 * 127.0.0.1 that misbehaves (redirects elsewhere, huge or endless bodies,
 * no answer).
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { after, before, describe, test } from 'node:test';
import { ImportMapError, importMapDigest, MAX_MAP_ELEMENTS, parseImportMap, readImportMap } from '../../ssr-server/deploys/import-map.ts';
import { startCdn, type Cdn } from './deploys-cdn.ts';

const CDN = 'https://cdn.example';
const allow = [CDN];
const map = (elements: unknown): string => JSON.stringify({ elements }, null, 2);
const entry = (v: string): { server: string; client: string } => ({ server: `${CDN}/x-a/${v}/server.mjs`, client: `${CDN}/x-a/${v}/client.mjs` });

/** The message of what `fn` throws (it must throw an ImportMapError). */
function problem(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof ImportMapError, `an ImportMapError, not ${String(e)}`);
    return e.message;
  }
  assert.fail('it did not throw');
}

async function rejection(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof ImportMapError, `an ImportMapError, not ${String(e)}`);
    return e.message;
  }
  assert.fail('it did not reject');
}

describe('parseImportMap: the format', () => {
  test('a valid map: entries in order, URLs absolute, frozen, with the source and a digest', () => {
    const snap = parseImportMap(map({ 'x-a': entry('1'), 'y-b': { server: './y-b/server.mjs', client: 'y-b/client.mjs' } }), `${CDN}/maps/live.json`, { allow });
    assert.equal(snap.source, `${CDN}/maps/live.json`);
    assert.deepEqual(Object.keys(snap.map.elements), ['x-a', 'y-b']);
    assert.deepEqual(snap.map.elements['y-b'], { server: `${CDN}/maps/y-b/server.mjs`, client: `${CDN}/maps/y-b/client.mjs` });
    assert.match(snap.digest, /^[0-9a-f]{64}$/);
    assert.ok(Object.isFrozen(snap) && Object.isFrozen(snap.map.elements) && Object.isFrozen(snap.map.elements['x-a']));
  });

  test('relative URLs in a file map become file: URLs beside it (server), and a file map may name local files', () => {
    const snap = parseImportMap(map({ 'x-a': { server: './v1/server.mjs', client: `${CDN}/c.mjs` } }), '/srv/site/maps/live.json', { allow });
    assert.equal(snap.map.elements['x-a']!.server, 'file:///srv/site/maps/v1/server.mjs');
  });

  test('the digest is of the meaning: order, spacing and relative-vs-absolute writing do not change it; a URL does', () => {
    const a = parseImportMap(map({ 'x-a': entry('1'), 'y-b': entry('2') }), `${CDN}/m.json`, { allow });
    const b = parseImportMap(`{"elements":{"y-b":${JSON.stringify(entry('2'))},"x-a":{"server":"x-a/1/server.mjs","client":"/x-a/1/client.mjs"}}}`, `${CDN}/m.json`, { allow });
    assert.equal(a.digest, b.digest);
    assert.equal(importMapDigest(a.map), a.digest);
    const c = parseImportMap(map({ 'x-a': entry('1'), 'y-b': entry('3') }), `${CDN}/m.json`, { allow });
    assert.notEqual(a.digest, c.digest);
    assert.notEqual(parseImportMap(map({}), 'm.json').digest, a.digest);
  });

  test('a byte order mark is accepted, "$schema" ignored, an empty elements object is a map of nothing', () => {
    const snap = parseImportMap('\uFEFF{"$schema":"x","elements":{}}', 'm.json');
    assert.deepEqual(snap.map.elements, {});
  });
});

describe('parseImportMap: bad JSON names source:line:col', () => {
  const cases: Array<[string, string, RegExp]> = [
    ['trailing comma', '{\n  "elements": {},\n}', /^maps\/m\.json:3:1: the import map is not valid JSON: expected a key in double quotes, found "}" \(a comma before "}" is not JSON\)$/],
    ['unclosed string', '{\n  "elements": {\n    "x-a": "abc\n', /^maps\/m\.json:3:16: .*control character U\+000a inside a string: escape it/],
    ['single quotes', "{'elements': {}}", /^maps\/m\.json:1:2: .*expected a key in double quotes/],
    ['empty text', '', /^maps\/m\.json:1:1: .*the text is empty/],
    ['only spaces', '  \n ', /^maps\/m\.json:2:2: .*the text is empty/],
    ['garbage after', '{"elements":{}} x', /^maps\/m\.json:1:17: .*after the end of the JSON value/],
    ['a missing colon', '{"elements" {}}', /^maps\/m\.json:1:13: .*expected ":" after the key "elements"/],
    ['a bad escape', '{"elements":{"x-a":"\\x41"}}', /^maps\/m\.json:1:21: .*invalid escape/],
    ['NaN', '{"elements": NaN}', /^maps\/m\.json:1:14: .*expected a value, found "N"/],
    ['a comment', '{ // live\n "elements": {} }', /^maps\/m\.json:1:3: /],
    ['deep nesting', '['.repeat(100_000), /^maps\/m\.json:1:34: .*nested more than 32 levels/],
    ['a control character', '{"elements":{"x\u0001":1}}', /^maps\/m\.json:1:16: .*control character U\+0001 inside a string/],
    ['a tag written twice', '{\n "elements": {\n  "x-a": {},\n  "x-a": {}\n }\n}', /^maps\/m\.json:4:3: .*the key "x-a" is written twice in one object \(first at 3:3\)/],
  ];
  for (const [name, text, expected] of cases) {
    test(name, () => {
      const message = problem(() => parseImportMap(text, 'maps/m.json'));
      assert.match(message, expected);
    });
  }

  test('the error carries the line and column', () => {
    try {
      parseImportMap('{\n\n   ]', 'm.json');
      assert.fail('no throw');
    } catch (e) {
      assert.ok(e instanceof ImportMapError);
      assert.equal(e.source, 'm.json');
      assert.equal(e.line, 3);
      assert.equal(e.col, 4);
    }
  });
});

describe('parseImportMap: bad entries name the key path', () => {
  test('not an object, no elements, unknown keys', () => {
    assert.match(problem(() => parseImportMap('[]', 'm.json')), /^m\.json:1:1: \(the map\): must be an object such as .* not an array$/);
    assert.match(problem(() => parseImportMap('null', 'm.json')), /not null$/);
    assert.match(problem(() => parseImportMap('{"imports":{}}', 'm.json')), /m\.json:1:2: "imports": unknown key[^\n]*\nm\.json:1:1: \(the map\): has no "elements"|m\.json:1:1: \(the map\): has no "elements"/);
    assert.match(problem(() => parseImportMap('{"elements":[]}', 'm.json')), /^m\.json:1:13: elements: must be an object of tag/);
  });

  test('every problem of a map is listed, in text order', () => {
    const text = `{
  "elements": {
    "Shop-Cart": ${JSON.stringify(entry('1'))},
    "cart": ${JSON.stringify(entry('1'))},
    "font-face": ${JSON.stringify(entry('1'))},
    "x-b": { "server": 42, "client": "${CDN}/c.mjs", "hooks": "x" },
    "x-c": { "client": "${CDN}/c.mjs" },
    "x-d": "https://cdn.example/x-d.mjs"
  }
}`;
    const lines = problem(() => parseImportMap(text, 'm.json', { allow })).split('\n');
    assert.deepEqual(lines.slice(0, 3), [
      'm.json:3:5: elements["Shop-Cart"]: is not a tag name: custom element names are lower case: write "shop-cart"',
      'm.json:4:5: elements["cart"]: is not a custom element name: lower-case letters, digits, ".", "_" and "-", starting with a letter and with a "-" (e.g. "shop-cart")',
      'm.json:5:5: elements["font-face"]: is a name the HTML standard reserves: it cannot be a custom element',
    ]);
    assert.match(lines[3]!, /^m\.json:6:24: elements\.x-b\.server: must be a URL string, not a number$/);
    assert.match(lines[4]!, /^m\.json:6:\d+: elements\.x-b\.hooks: unknown key: an entry has only "server" and "client"$/);
    assert.match(lines[5]!, /^m\.json:7:12: elements\.x-c: has no "server" \(the server module, which defines the element and exports its hooks\)$/);
    assert.match(lines[6]!, /^m\.json:8:12: elements\.x-d: must be an object such as \{ "server": "<url>", "client": "<url>" \}, not the string/);
    assert.equal(lines.length, 7);
  });

  test('hostile tags never become keys: __proto__, constructor, a huge one', () => {
    const text = `{"elements":{"__proto__":${JSON.stringify(entry('1'))},"constructor":${JSON.stringify(entry('1'))},"${'a-'.repeat(200)}":${JSON.stringify(entry('1'))}}}`;
    const message = problem(() => parseImportMap(text, 'm.json', { allow }));
    assert.match(message, /elements\["__proto__"\]: is not a custom element name/);
    assert.match(message, /elements\["constructor"\]: is not a custom element name/);
    assert.match(message, /elements\["a-a-a-.*…"\]: is not a tag name: at most 100 characters/);
    assert.equal(({} as Record<string, unknown>).server, undefined);
  });

  test(`more than ${MAX_MAP_ELEMENTS} elements`, () => {
    const elements = Object.fromEntries(Array.from({ length: MAX_MAP_ELEMENTS + 1 }, (_, i) => [`x-${i}`, entry(String(i))]));
    assert.match(problem(() => parseImportMap(map(elements), 'm.json', { allow })), /elements: has 1001 entries: at most 1000/);
  });

  const urlCases: Array<[string, { server?: string; client?: string }, string, RegExp]> = [
    ['a javascript: server', { server: 'javascript:alert(1)' }, `${CDN}/m.json`, /elements\.x-a\.server: "javascript:alert\(1\)": javascript: URLs are not allowed: use file:, http: or https:/],
    ['a data: client', { client: 'data:text/javascript,alert(1)' }, `${CDN}/m.json`, /elements\.x-a\.client: "data:text\/javascript,alert\(1\)": data: URLs are not allowed: use http: or https:/],
    ['a blob: server', { server: 'blob:https://cdn.example/1' }, `${CDN}/m.json`, /blob: URLs are not allowed/],
    ['an ftp: server', { server: 'ftp://cdn.example/a.mjs' }, `${CDN}/m.json`, /ftp: URLs are not allowed/],
    ['a file: client', { client: 'file:///srv/c.mjs' }, '/srv/m.json', /elements\.x-a\.client: "file:\/\/\/srv\/c\.mjs" is a file: URL, which a browser cannot load/],
    ['a relative client in a file map', { client: './c.mjs' }, '/srv/m.json', /elements\.x-a\.client: "\.\/c\.mjs" is a file: URL, which a browser cannot load/],
    ['a file: server in a map from the network', { server: 'file:///etc/passwd' }, `${CDN}/m.json`, /elements\.x-a\.server: "file:\/\/\/etc\/passwd" is a file: URL in a map read over the network/],
    ['a file: server on another host', { server: 'file://fileserver/share/a.mjs' }, '/srv/m.json', /names a file on another host \("fileserver"\)/],
    ['an empty URL', { server: '' }, `${CDN}/m.json`, /elements\.x-a\.server: must be a URL, not an empty string/],
    ['a space', { server: `${CDN}/a b.mjs` }, `${CDN}/m.json`, /contains a space.*percent-encode it/],
    ['markup', { client: `${CDN}/"><script>alert(1)</script>.mjs` }, `${CDN}/m.json`, /elements\.x-a\.client: .*contains a space, control character, quote/],
    ['a very long URL', { server: `${CDN}/${'a'.repeat(3000)}` }, `${CDN}/m.json`, /is 3020 characters long: at most 2048/],
    ['credentials', { server: 'https://user:pw@cdn.example/a.mjs' }, `${CDN}/m.json`, /has a user name or password/],
    ['a fragment', { server: `${CDN}/a.mjs#x` }, `${CDN}/m.json`, /has a fragment/],
    ['a disallowed origin', { server: 'https://evil.example/a.mjs' }, `${CDN}/m.json`, /elements\.x-a\.server: the origin "https:\/\/evil\.example" is not in deploys\.allow \("https:\/\/cdn\.example"\)/],
    ['a disallowed client origin', { client: 'http://cdn.example/a.mjs' }, `${CDN}/m.json`, /elements\.x-a\.client: the origin "http:\/\/cdn\.example" is not in deploys\.allow/],
    ['a protocol-relative URL to elsewhere', { server: '//evil.example/a.mjs' }, `${CDN}/m.json`, /the origin "https:\/\/evil\.example" is not in deploys\.allow/],
    ['not a URL', { server: 'http://[::1' }, `${CDN}/m.json`, /"http:\/\/\[::1" is not a URL/],
  ];
  for (const [name, change, source, expected] of urlCases) {
    test(`refused: ${name}`, () => {
      const e = { ...entry('1'), ...change };
      assert.match(problem(() => parseImportMap(map({ 'x-a': e }), source, { allow })), expected);
    });
  }

  test('without an allowlist only the form is checked (a tool editing a map file)', () => {
    const snap = parseImportMap(map({ 'x-a': { server: 'https://anywhere.example/s.mjs', client: 'https://anywhere.example/c.mjs' } }), 'm.json');
    assert.equal(snap.map.elements['x-a']!.server, 'https://anywhere.example/s.mjs');
  });
});

describe('readImportMap', () => {
  let cdn: Cdn;
  let other: Cdn;
  let root: string;
  const good = (base: string): string => map({ 'x-a': { server: 'x-a/1/server.mjs', client: `${base}/x-a/1/client.mjs` } });

  before(async () => {
    other = await startCdn({ '/m.json': { body: good('http://elsewhere') } });
    cdn = await startCdn();
    const o = cdn.origin;
    cdn.routes.set('/maps/live.json', { body: good(o) });
    cdn.routes.set('/maps/latest.json', { redirect: '/maps/v2/map.json' });
    cdn.routes.set('/maps/v2/map.json', { body: map({ 'x-a': { server: 'server.mjs', client: 'client.mjs' } }) });
    cdn.routes.set('/maps/away.json', { redirect: `${other.origin}/m.json` });
    cdn.routes.set('/maps/loop.json', { redirect: '/maps/loop.json' });
    cdn.routes.set('/maps/missing.json', { body: 'gone', status: 404 });
    cdn.routes.set('/maps/broken.json', { body: '{"elements": {\n  "x-a": }' });
    const huge = ' '.repeat(2000) + good(o);
    cdn.routes.set('/maps/huge.json', { body: huge, headers: { 'content-length': String(Buffer.byteLength(huge)) } });
    cdn.routes.set('/maps/endless.json', { trickle: ' '.repeat(1000), everyMs: 1 });
    cdn.routes.set('/maps/hang.json', { hang: true });
    cdn.routes.set('/maps/slow-body.json', { trickle: ' ', everyMs: 50 });
    cdn.routes.set('/maps/binary.json', { body: Buffer.from([0x7b, 0xff, 0xfe, 0x7d]) });
    root = mkdtempSync(join(tmpdir(), 'atoll-import-map-'));
    mkdirSync(join(root, 'deploy'));
    writeFileSync(join(root, 'deploy', 'map.json'), map({ 'x-a': { server: './x-a/server.mjs', client: `${o}/c.mjs` } }));
    writeFileSync(join(root, 'deploy', 'big.json'), ' '.repeat(5000));
    writeFileSync(join(root, 'deploy', 'bad.json'), '{\n  "elements": {\n    "x-a": { "server": "javascript:alert(1)", "client": "' + o + '/c.mjs" }\n  }\n}');
  });
  after(async () => {
    await cdn.close();
    await other.close();
  });

  test('from a file relative to the site root: relative server URLs beside the file', async () => {
    const snap = await readImportMap('deploy/map.json', { allow: [cdn.origin], root });
    assert.equal(snap.source, 'deploy/map.json');
    assert.equal(snap.map.elements['x-a']!.server, pathToFileURL(join(root, 'deploy', 'x-a', 'server.mjs')).href);
  });

  test('file problems: missing, a folder, too large, a bad entry with line:col', async () => {
    assert.match(await rejection(readImportMap('deploy/none.json', { allow: [], root })), /^deploy\/none\.json: the import map does not exist/);
    assert.match(await rejection(readImportMap('deploy', { allow: [], root })), /^deploy: the import map is not a file/);
    assert.match(await rejection(readImportMap('deploy/big.json', { allow: [], root, maxBytes: 4096 })), /^deploy\/big\.json: the import map is 5000 bytes: more than the limit of 4096/);
    assert.match(await rejection(readImportMap('deploy/bad.json', { allow: [cdn.origin], root })), /^deploy\/bad\.json:3:24: elements\.x-a\.server: "javascript:alert\(1\)": javascript: URLs are not allowed/);
    assert.match(await rejection(readImportMap('ftp://x.example/m.json', { allow: [], root })), /must be a file path or an http\(s\) URL/);
  });

  test('from an allowed URL: relative URLs against the map URL', async () => {
    const snap = await readImportMap(`${cdn.origin}/maps/live.json`, { allow: [cdn.origin], root });
    assert.equal(snap.map.elements['x-a']!.server, `${cdn.origin}/maps/x-a/1/server.mjs`);
  });

  test('a redirect within allowed origins is followed; relative URLs resolve against where the map really is', async () => {
    const snap = await readImportMap(`${cdn.origin}/maps/latest.json`, { allow: [cdn.origin], root });
    assert.equal(snap.source, `${cdn.origin}/maps/latest.json`);
    assert.deepEqual(snap.map.elements['x-a'], { server: `${cdn.origin}/maps/v2/server.mjs`, client: `${cdn.origin}/maps/v2/client.mjs` });
  });

  test('a disallowed origin is never asked; a redirect to one is refused before it is followed', async () => {
    const before = other.hits.get('/m.json') ?? 0;
    assert.match(await rejection(readImportMap(`${other.origin}/m.json`, { allow: [cdn.origin], root })), new RegExp(`the origin "${other.origin}" is not in deploys\\.allow \\("${cdn.origin}"\\)`));
    assert.match(
      await rejection(readImportMap(`${cdn.origin}/maps/away.json`, { allow: [cdn.origin], root })),
      new RegExp(`a redirect led to "${other.origin}/m\\.json": the origin "${other.origin}" is not in deploys\\.allow`),
    );
    assert.equal(other.hits.get('/m.json') ?? 0, before, 'the other origin was never asked');
  });

  test('too many redirects, an error status, bad JSON from the network (with line:col), bytes that are not UTF-8', async () => {
    const opts = { allow: [cdn.origin], root };
    assert.match(await rejection(readImportMap(`${cdn.origin}/maps/loop.json`, opts)), /more than 5 redirects/);
    assert.match(await rejection(readImportMap(`${cdn.origin}/maps/missing.json`, opts)), /answered 404 Not Found/);
    assert.match(await rejection(readImportMap(`${cdn.origin}/maps/broken.json`, opts)), new RegExp(`^${cdn.origin}/maps/broken\\.json:2:10: the import map is not valid JSON: expected a value, found "}"`));
    assert.match(await rejection(readImportMap(`${cdn.origin}/maps/binary.json`, opts)), /is not UTF-8 text/);
  });

  test('too large: by Content-Length, and a body without one that goes on and on', async () => {
    const opts = { allow: [cdn.origin], root, maxBytes: 1024 };
    assert.match(await rejection(readImportMap(`${cdn.origin}/maps/huge.json`, opts)), /is \d+ bytes: more than the limit of 1024/);
    const started = Date.now();
    assert.match(await rejection(readImportMap(`${cdn.origin}/maps/endless.json`, opts)), /is more than the limit of 1024 bytes/);
    assert.ok(Date.now() - started < 5000);
  });

  test('slow: no answer, or a body that trickles, ends at the time limit', async () => {
    for (const path of ['/maps/hang.json', '/maps/slow-body.json']) {
      const started = Date.now();
      assert.match(await rejection(readImportMap(`${cdn.origin}${path}`, { allow: [cdn.origin], root, timeoutMs: 300 })), /did not answer completely within 300 ms/);
      const took = Date.now() - started;
      assert.ok(took >= 280 && took < 3000, `took ${took} ms`);
    }
  });

  test('a cancelled read says so', async () => {
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 50);
    assert.match(await rejection(readImportMap(`${cdn.origin}/maps/hang.json`, { allow: [cdn.origin], root, signal: controller.signal })), /was cancelled/);
  });
});
