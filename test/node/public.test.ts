/**
 * A site's `public/` folder served at the root (assets/public.ts): types,
 * ETag/304, Range (206/416), HEAD, caching headers, precedence over page
 * routes, and hostile paths — over real HTTP on 127.0.0.1 (Node adapter)
 * and through the Fetch adapter.
 */
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { mkdirSync, readFileSync, renameSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { contentType, isHashedName, parseRange, PublicFiles } from '../../ssr-server/assets/public.ts';
import { layout, makeSite, repoRoot, serveSite, type TestServer } from '../helpers.ts';

const SECRET = 'TOP-SECRET-OUTSIDE-PUBLIC';
const BIG = Buffer.alloc(2 * 1024 * 1024 + 12345);
for (let i = 0; i < BIG.length; i++) BIG[i] = (i * 31 + (i >> 9)) & 0xff;

/** A raw request: the path goes to the server exactly as written (fetch would normalise `..`). */
function raw(url: string, path: string, method = 'GET', headers: Record<string, string> = {}): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: Buffer }> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const req = request({ host: hostname, port, path, method, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

function makePublicSite(): string {
  const root = makeSite({
    'layouts/index.html': layout('<p>THE-PAGE</p>'),
    'secret.txt': SECRET,
    'public/favicon.svg': '<svg xmlns="http://www.w3.org/2000/svg"/>',
    'public/robots.txt': 'User-agent: *\nAllow: /\n',
    'public/logo-3f9a1c2b.png': 'PNGDATA',
    'public/photo-20240101.jpg': 'JPEG',
    'public/sub/a b.txt': 'spaced',
    'public/sub/ünï.txt': 'unicode',
    ['public/sub/nfd-' + 'é'.normalize('NFD') + '.txt']: 'nfd',
    'public/.env': `SECRET=${SECRET}`,
    'public/.git/config': SECRET,
    'public/.well-known/security.txt': 'Contact: mailto:s@example.com\n',
    'public/_atoll/assets/evil.js': 'alert(1)',
    'public/data.json': '{"a":1}',
    'public/unknown.xyz': 'x',
  });
  writeFileSync(join(root, 'public/big.bin'), BIG);
  symlinkSync(join(root, 'secret.txt'), join(root, 'public/outside-link.txt'));
  symlinkSync('/etc', join(root, 'public/etc'));
  symlinkSync(join(root, 'public/robots.txt'), join(root, 'public/inside-link.txt'));
  symlinkSync(join(root, 'public/sub'), join(root, 'public/sub-link'));
  return root;
}

describe('public/ over HTTP (Node adapter)', () => {
  let root: string;
  let server: TestServer;
  before(async () => {
    root = makePublicSite();
    server = await serveSite({ root });
  });
  after(() => server.close());

  test('files at the root with their types, validators, caching and nosniff', async () => {
    const r = await server.get('/favicon.svg');
    assert.equal(r.status, 200);
    assert.equal(r.headers.get('content-type'), 'image/svg+xml');
    assert.match(r.headers.get('etag')!, /^"[0-9a-z]+-[0-9a-z]+"$/);
    assert.ok(r.headers.get('last-modified'));
    assert.equal(r.headers.get('accept-ranges'), 'bytes');
    assert.equal(r.headers.get('cache-control'), 'public, max-age=0, must-revalidate');
    assert.equal(r.headers.get('x-content-type-options'), 'nosniff');
    assert.equal(await r.text(), '<svg xmlns="http://www.w3.org/2000/svg"/>');
    const types: Record<string, string> = {
      '/robots.txt': 'text/plain; charset=utf-8',
      '/data.json': 'application/json; charset=utf-8',
      '/logo-3f9a1c2b.png': 'image/png',
      '/unknown.xyz': 'application/octet-stream',
      '/.well-known/security.txt': 'text/plain; charset=utf-8',
      '/sub/a%20b.txt': 'text/plain; charset=utf-8',
      '/sub/%C3%BCn%C3%AF.txt': 'text/plain; charset=utf-8',
      '/sub/nfd-%C3%A9.txt': 'text/plain; charset=utf-8',
      '/sub/nfd-e%CC%81.txt': 'text/plain; charset=utf-8',
      '/inside-link.txt': 'text/plain; charset=utf-8',
    };
    for (const [path, type] of Object.entries(types)) {
      const res = await server.get(path);
      assert.equal(res.status, 200, path);
      assert.equal(res.headers.get('content-type'), type, path);
      await res.arrayBuffer();
    }
    const hashed = await server.get('/logo-3f9a1c2b.png');
    assert.equal(hashed.headers.get('cache-control'), 'public, max-age=31536000, immutable');
    const dated = await server.get('/photo-20240101.jpg');
    assert.equal(dated.headers.get('cache-control'), 'public, max-age=0, must-revalidate', 'a date is not a content hash');
    assert.equal(await (await server.get('/inside-link.txt')).text(), 'User-agent: *\nAllow: /\n', 'a symlink inside public/ is followed');
  });

  test('ETag and Last-Modified give 304; a changed file gets a new ETag', async () => {
    const first = await server.get('/robots.txt');
    const etag = first.headers.get('etag')!;
    const lastModified = first.headers.get('last-modified')!;
    await first.text();
    for (const inm of [etag, `W/${etag}`, `"nope", ${etag}`, '*']) {
      const r = await server.get('/robots.txt', { headers: { 'if-none-match': inm } });
      assert.equal(r.status, 304, inm);
      assert.equal(r.headers.get('etag'), etag);
      assert.equal(await r.text(), '');
    }
    const other = await server.get('/robots.txt', { headers: { 'if-none-match': '"other"' } });
    assert.equal(other.status, 200);
    await other.text();
    const ims = await server.get('/robots.txt', { headers: { 'if-modified-since': lastModified } });
    assert.equal(ims.status, 304);
    const old = await server.get('/robots.txt', { headers: { 'if-modified-since': 'Thu, 01 Jan 1998 00:00:00 GMT' } });
    assert.equal(old.status, 200);
    await old.text();
    const bogus = await server.get('/robots.txt', { headers: { 'if-modified-since': 'not a date' } });
    assert.equal(bogus.status, 200);
    await bogus.text();

    writeFileSync(join(root, 'public/robots.txt'), 'User-agent: *\nDisallow: /admin\n');
    const changed = await server.get('/robots.txt', { headers: { 'if-none-match': etag } });
    assert.equal(changed.status, 200, 'the file changed: its old ETag no longer matches');
    assert.notEqual(changed.headers.get('etag'), etag);
    assert.equal(await changed.text(), 'User-agent: *\nDisallow: /admin\n');
    writeFileSync(join(root, 'public/robots.txt'), 'User-agent: *\nAllow: /\n');
  });

  test('Range: 206 for one range, 416 when unsatisfiable, whole file when malformed; If-Range', async () => {
    const size = BIG.length;
    const cases: Array<[string, number, [number, number] | undefined]> = [
      ['bytes=0-9', 206, [0, 9]],
      ['bytes=100-', 206, [100, size - 1]],
      ['bytes=-500', 206, [size - 500, size - 1]],
      ['bytes=-99999999999', 206, [0, size - 1]],
      ['bytes=10-99999999999999999999', 206, [10, size - 1]],
      [`bytes=${size - 1}-${size - 1}`, 206, [size - 1, size - 1]],
      ['bytes=65530-65600', 206, [65530, 65600]],
      [`bytes=${size}-`, 416, undefined],
      ['bytes=99999999999999999999999-', 416, undefined],
      ['bytes=-0', 416, undefined],
      ['bytes=9-2', 200, undefined],
      ['items=0-1', 200, undefined],
      ['bytes=0-1,5-6', 200, undefined],
      ['bytes=abc', 200, undefined],
      ['bytes=-', 200, undefined],
      [`bytes=0-${'9'.repeat(5000)}`, 200, undefined],
    ];
    for (const [range, status, span] of cases) {
      const r = await raw(server.url, '/big.bin', 'GET', { range });
      assert.equal(r.status, status, range.slice(0, 40));
      if (status === 206) {
        const [a, b] = span!;
        assert.equal(r.headers['content-range'], `bytes ${a}-${b}/${size}`, range);
        assert.equal(Number(r.headers['content-length']), b - a + 1);
        assert.ok(r.body.equals(BIG.subarray(a, b + 1)), `${range}: the right bytes`);
      } else if (status === 416) {
        assert.equal(r.headers['content-range'], `bytes */${size}`);
      } else {
        assert.equal(r.body.length, size, `${range.slice(0, 40)}: ignored, the whole file`);
      }
    }
    const etag = (await raw(server.url, '/big.bin', 'HEAD')).headers.etag as string;
    const matching = await raw(server.url, '/big.bin', 'GET', { range: 'bytes=0-3', 'if-range': etag });
    assert.equal(matching.status, 206);
    const stale = await raw(server.url, '/big.bin', 'GET', { range: 'bytes=0-3', 'if-range': '"old"' });
    assert.equal(stale.status, 200, 'If-Range with another ETag: the whole file');
    assert.equal(stale.body.length, size);
    const weak = await raw(server.url, '/big.bin', 'GET', { range: 'bytes=0-3', 'if-range': `W/${etag}` });
    assert.equal(weak.status, 200, 'a weak validator never satisfies If-Range');
  });

  test('a large file is streamed whole and never compressed (its length is known); HEAD has the headers and no body', async () => {
    const r = await raw(server.url, '/big.bin', 'GET', { 'accept-encoding': 'br, gzip' });
    assert.equal(r.status, 200);
    assert.equal(r.headers['content-encoding'], undefined);
    assert.equal(Number(r.headers['content-length']), BIG.length);
    assert.ok(r.body.equals(BIG));
    const head = await raw(server.url, '/big.bin', 'HEAD');
    assert.equal(head.status, 200);
    assert.equal(Number(head.headers['content-length']), BIG.length);
    assert.equal(head.body.length, 0);
    const small = await raw(server.url, '/favicon.svg', 'HEAD');
    assert.equal(small.headers['content-type'], 'image/svg+xml');
    assert.equal(small.body.length, 0);
  });

  test('a client that goes away mid-file leaves the server serving', async () => {
    const { hostname, port } = new URL(server.url);
    await new Promise<void>((resolve) => {
      const req = request({ host: hostname, port, path: '/big.bin' }, (res) => {
        res.once('data', () => {
          req.destroy();
          resolve();
        });
      });
      req.on('error', () => resolve());
      req.end();
    });
    const again = await raw(server.url, '/favicon.svg');
    assert.equal(again.status, 200);
  });

  test('hostile paths never reach a file outside public/, a dotfile or an out-of-public symlink', async () => {
    const paths = [
      '/../secret.txt',
      '/%2e%2e/secret.txt',
      '/%2E%2E%2Fsecret.txt',
      '/..%2fsecret.txt',
      '/sub/..%2f..%2fsecret.txt',
      '/sub/%2e%2e/%2e%2e/secret.txt',
      '/..\\secret.txt',
      '/sub\\..\\..\\secret.txt',
      '/%5c..%5csecret.txt',
      '/favicon.svg%00',
      '/favicon.svg%00.txt',
      '/%00',
      '/.env',
      '/%2eenv',
      '/.git/config',
      '/outside-link.txt',
      '/etc/passwd',
      '/etc/hostname',
      '/sub-link/a%20b.txt',
      '/%',
      '/%E0%A4%A',
      '//secret.txt',
      '/public/favicon.svg',
    ];
    for (const path of paths) {
      const r = await raw(server.url, path);
      const text = r.body.toString('latin1');
      assert.ok(!text.includes(SECRET), `${path} leaked the secret`);
      assert.ok(!text.includes('root:x:0'), `${path} leaked /etc/passwd`);
      assert.equal(r.headers['accept-ranges'], undefined, `${path} was answered from public/ (${r.status})`);
      assert.ok(r.status < 500, `${path}: ${r.status}`);
    }
  });

  test('precedence: a public file wins over the page route of its path, /_atoll/ stays Atoll\'s, folders are not files', async () => {
    const file = await server.get('/robots.txt');
    assert.equal(file.headers.get('content-type'), 'text/plain; charset=utf-8');
    assert.doesNotMatch(await file.text(), /THE-PAGE/);
    const page = await server.get('/robots');
    assert.match(await page.text(), /THE-PAGE/, 'no extension guessing: /robots is the page');
    const dir = await server.get('/sub');
    assert.match(await dir.text(), /THE-PAGE/, 'a folder is not served');
    const reserved = await server.get('/_atoll/assets/evil.js');
    assert.equal(reserved.status, 404);
    assert.doesNotMatch(await reserved.text(), /alert/);
    assert.ok(server.logs.some((l) => /_atoll/.test(String(l.file)) && /not served/.test(String(l.msg))), 'the skipped file was logged');
    assert.ok(server.logs.some((l) => /outside-link/.test(String(l.file))), 'the outside symlink was logged');
  });

  test('only GET and HEAD: other methods get 405 with Allow', async () => {
    for (const method of ['POST', 'PUT', 'DELETE']) {
      const r = await raw(server.url, '/favicon.svg', method);
      assert.equal(r.status, 405, method);
      assert.equal(r.headers.allow, 'GET, HEAD');
    }
  });

  test('a file replaced by a symlink (or removed) after start-up is not served', async () => {
    const victim = join(root, 'public/data.json');
    unlinkSync(victim);
    const gone = await server.get('/data.json');
    assert.equal(gone.status, 404);
    await gone.text();
    symlinkSync(join(root, 'secret.txt'), victim);
    const swapped = await server.get('/data.json');
    assert.equal(swapped.status, 404);
    assert.doesNotMatch(await swapped.text(), new RegExp(SECRET));
    unlinkSync(victim);
    mkdirSync(victim);
    const folder = await server.get('/data.json');
    assert.equal(folder.status, 404);
    await folder.text();
    renameSync(victim, `${victim}.dir`);
    writeFileSync(victim, '{"a":1}');
  });
});

describe('public/ through the Fetch adapter', () => {
  let root: string;
  let server: TestServer;
  before(async () => {
    root = makePublicSite();
    server = await serveSite({ root });
  });
  after(() => server.close());
  const get = (path: string, init: RequestInit = {}): Promise<Response> => server.atoll.fetch(new Request(`http://site.example${path}`, init));

  test('the same files, ranges, validators and refusals', async () => {
    const r = await get('/favicon.svg');
    assert.equal(r.status, 200);
    assert.equal(r.headers.get('content-type'), 'image/svg+xml');
    const etag = r.headers.get('etag')!;
    assert.equal(await r.text(), readFileSync(join(root, 'public/favicon.svg'), 'utf8'));
    assert.equal((await get('/favicon.svg', { headers: { 'if-none-match': etag } })).status, 304);
    const part = await get('/big.bin', { headers: { range: 'bytes=-5' } });
    assert.equal(part.status, 206);
    assert.ok(Buffer.from(await part.arrayBuffer()).equals(BIG.subarray(BIG.length - 5)));
    assert.equal((await get('/big.bin', { headers: { range: `bytes=${BIG.length}-` } })).status, 416);
    const whole = await get('/big.bin');
    assert.ok(Buffer.from(await whole.arrayBuffer()).equals(BIG), 'a streamed large file arrives whole');
    const head = await get('/big.bin', { method: 'HEAD' });
    assert.equal(head.headers.get('content-length'), String(BIG.length));
    assert.equal((await head.arrayBuffer()).byteLength, 0);
    for (const path of ['/.env', '/outside-link.txt', '/%2e%2e/secret.txt', '/etc/passwd', '/_atoll/assets/evil.js']) {
      const res = await get(path);
      const text = await res.text();
      assert.ok(!text.includes(SECRET) && !text.includes('root:x:0') && !text.includes('alert(1)'), path);
      assert.equal(res.headers.get('accept-ranges'), null, path);
    }
  });
});

describe('public/ helpers', () => {
  test('parseRange', () => {
    assert.deepEqual(parseRange('bytes=0-0', 10), [0, 0]);
    assert.deepEqual(parseRange('bytes=5-', 10), [5, 9]);
    assert.deepEqual(parseRange('bytes=-3', 10), [7, 9]);
    assert.deepEqual(parseRange('BYTES = 2 - 4', 10), [2, 4]);
    assert.equal(parseRange('bytes=10-', 10), 'unsatisfiable');
    assert.equal(parseRange('bytes=0-', 0), 'unsatisfiable');
    assert.equal(parseRange('bytes=-1', 0), 'unsatisfiable');
    assert.equal(parseRange('bytes=3-1', 10), undefined);
    assert.equal(parseRange('bytes=1-2,4-5', 10), undefined);
    assert.equal(parseRange('bytes=1.5-2', 10), undefined);
    assert.equal(parseRange('bytes=0x1-2', 10), undefined);
  });
  test('content types and hashed names', () => {
    assert.equal(contentType('a.SVG'), 'image/svg+xml');
    assert.equal(contentType('noext'), 'application/octet-stream');
    assert.equal(contentType('site.webmanifest'), 'application/manifest+json; charset=utf-8');
    assert.equal(isHashedName('app-5d41402abc4b.js'), true);
    assert.equal(isHashedName('app.5d41402a.css'), true);
    assert.equal(isHashedName('photo-20240101.jpg'), false);
    assert.equal(isHashedName('deadbeef-cafebabe.png'), false);
    assert.equal(isHashedName('my-background.png'), false);
  });
  test('the demo serves its favicon from public/ and its layout links it (no /favicon.ico 404 on every page)', () => {
    const demo = new PublicFiles(join(repoRoot, 'public'));
    assert.ok(demo.has('/favicon.svg'));
    assert.match(readFileSync(join(repoRoot, 'public/favicon.svg'), 'utf8'), /^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
    assert.match(readFileSync(join(repoRoot, 'layouts/index.html'), 'utf8'), /<link rel="icon" href="\/favicon\.svg" type="image\/svg\+xml">/);
  });
  test('a site without public/ serves its pages as before', async () => {
    const server = await serveSite({ root: makeSite({ 'layouts/index.html': layout('<p>PLAIN</p>') }) });
    try {
      const r = await server.get('/favicon.svg');
      assert.match(await r.text(), /PLAIN/);
    } finally {
      await server.close();
    }
  });
});
