/**
 * The module cache of independent deploys (docs/deploys.md, "Loading
 * modules"): server modules from a CDN on 127.0.0.1 downloaded once per URL
 * (on disk and in memory, atomically, one download for concurrent asks),
 * `file:` modules used in place, disallowed origins and redirects refused,
 * size and time limits, single-file modules only — and a downloaded module
 * that imports `lit`, `atoll-ssr` and a package only the site has renders
 * through the engine.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { after, before, describe, test } from 'node:test';
import { cacheFile, DEFAULT_CACHE_DIR, ModulePrepareError, prepareModules, type PrepareOptions } from '../../ssr-server/deploys/module-cache.ts';
import { elementsConfig } from '../../ssr-server/deploys/site-entries.ts';
import type { ServerImportMap } from '../../ssr-server/deploys/types.ts';
import { createAtoll, memoryLogger } from '../../ssr-server/index.ts';
import { layout, makeSite } from '../helpers.ts';
import { startCdn, type Cdn } from './deploys-cdn.ts';

const MODULE = "import { LitElement, html } from 'lit';\nexport const version = 1;\n";

function one(tag: string, server: string, client = 'https://cdn.example/c.mjs'): ServerImportMap {
  return { elements: { [tag]: { server, client } } };
}

async function refusal(p: Promise<unknown>): Promise<ModulePrepareError> {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof ModulePrepareError, `a ModulePrepareError, not ${String(e)}`);
    return e;
  }
  assert.fail('it did not reject');
}

describe('prepareModules', () => {
  let cdn: Cdn;
  let other: Cdn;
  let dir: string;
  let n = 0;
  /** A fresh cache folder per test. */
  const options = (extra: Partial<PrepareOptions> = {}): PrepareOptions => ({ cacheDir: join(dir, `cache-${n++}`), allow: [cdn.origin], ...extra });

  before(async () => {
    cdn = await startCdn({
      '/a/1/server.mjs': { body: MODULE },
      '/slow/server.mjs': { body: MODULE, delayMs: 150 },
      '/big/server.mjs': { body: `export const x = "${'x'.repeat(5000)}";\n` },
      '/endless/server.mjs': { trickle: '/* padding */\n', everyMs: 1 },
      '/hang/server.mjs': { hang: true },
      '/trickle/server.mjs': { trickle: '//.\n', everyMs: 20, total: 40 },
      '/relative/server.mjs': { body: "import { LitElement } from 'lit';\nimport { helper } from './helper.js';\nexport { helper };\n" },
      '/dynamic/server.mjs': { body: "export const load = () => import('../shared/x.js');\n" },
      '/syntax/server.mjs': { body: 'export const = 1;\n' },
      '/binary/server.mjs': { body: Buffer.from([0xff, 0xfe, 0x00, 0x01]) },
      '/missing/server.mjs': { body: 'nope', status: 404 },
    });
    other = await startCdn({ '/evil.mjs': { body: 'export const evil = true;\n' } });
    cdn.routes.set('/away/server.mjs', { redirect: `${other.origin}/evil.mjs` });
    cdn.routes.set('/moved/server.mjs', { redirect: '/a/1/server.mjs', status: 301 });
    dir = mkdtempSync(join(tmpdir(), 'atoll-module-cache-'));
  });
  after(async () => {
    await cdn.close();
    await other.close();
  });

  test('an allowed http module is downloaded once into <cacheDir>/<sha256(url)>.mjs, and asked again from memory', async () => {
    const o = options();
    const url = `${cdn.origin}/a/1/server.mjs`;
    const hits = cdn.hits.get('/a/1/server.mjs') ?? 0;
    const prepared = await prepareModules(one('x-a', url), o);
    assert.equal(prepared['x-a'], cacheFile(o.cacheDir, url));
    assert.match(prepared['x-a']!, /[/\\][0-9a-f]{64}\.mjs$/);
    assert.equal(readFileSync(prepared['x-a']!, 'utf8'), MODULE);
    assert.ok(Object.isFrozen(prepared));
    await prepareModules(one('x-a', url), o);
    await prepareModules(one('x-other', url), o);
    assert.equal(cdn.hits.get('/a/1/server.mjs'), hits + 1, 'one download');
    assert.deepEqual(readdirSync(o.cacheDir), [prepared['x-a']!.split(/[/\\]/).pop()], 'no temporary file is left');
  });

  test('a file already in the cache is never fetched again (the next process, or a file another one wrote)', async () => {
    const o = options();
    const url = `${cdn.origin}/never/asked.mjs`;
    mkdirSync(o.cacheDir, { recursive: true });
    writeFileSync(cacheFile(o.cacheDir, url), 'export const cached = 1;\n');
    const prepared = await prepareModules(one('x-a', url), o);
    assert.equal(readFileSync(prepared['x-a']!, 'utf8'), 'export const cached = 1;\n');
    assert.equal(cdn.hits.get('/never/asked.mjs'), undefined);
  });

  test('a cache file removed by hand is downloaded again at the next prepare', async () => {
    const o = options();
    const url = `${cdn.origin}/a/1/server.mjs`;
    const first = (await prepareModules(one('x-a', url), o))['x-a']!;
    const hits = cdn.hits.get('/a/1/server.mjs');
    rmSync(first);
    const again = (await prepareModules(one('x-a', url), o))['x-a']!;
    assert.equal(again, first);
    assert.equal(readFileSync(again, 'utf8'), MODULE);
    assert.equal(cdn.hits.get('/a/1/server.mjs'), hits! + 1);
  });

  test('concurrent prepares of one URL share one download', async () => {
    const o = options();
    const url = `${cdn.origin}/slow/server.mjs`;
    const results = await Promise.all(Array.from({ length: 20 }, (_, i) => prepareModules({ elements: { [`x-${i}`]: { server: url, client: 'https://cdn.example/c.mjs' } } }, o)));
    assert.equal(cdn.hits.get('/slow/server.mjs'), 1);
    assert.equal(new Set(results.map((r) => Object.values(r)[0])).size, 1);
  });

  test('the cache file appears whole or not at all (written beside it, then renamed)', async () => {
    const o = options();
    const url = `${cdn.origin}/trickle/server.mjs`;
    const file = cacheFile(o.cacheDir, url);
    const pending = prepareModules(one('x-a', url), o);
    for (let i = 0; i < 5; i++) {
      await new Promise((r) => setTimeout(r, 20));
      if (existsSync(file)) assert.equal(readFileSync(file, 'utf8').length, 40, 'never a partial file');
    }
    await pending;
    assert.equal(readFileSync(file, 'utf8'), '//.\n'.repeat(10));
  });

  test('a redirect within an allowed origin is followed', async () => {
    const prepared = await prepareModules(one('x-a', `${cdn.origin}/moved/server.mjs`), options());
    assert.equal(readFileSync(prepared['x-a']!, 'utf8'), MODULE);
  });

  test('file: modules are used where they are, and must exist', async () => {
    const file = join(dir, 'local.mjs');
    writeFileSync(file, MODULE);
    assert.deepEqual({ ...(await prepareModules(one('x-a', pathToFileURL(file).href), options())) }, { 'x-a': file });
    const missing = await refusal(prepareModules(one('x-b', pathToFileURL(join(dir, 'none.mjs')).href), options()));
    assert.equal(missing.tag, 'x-b');
    assert.match(missing.message, /^<x-b>'s server module file:\/\/.*none\.mjs: the file does not exist$/);
    assert.match((await refusal(prepareModules(one('x-c', pathToFileURL(dir).href), options()))).message, /is not a file$/);
  });

  test('a disallowed origin is refused without a request, naming the origin and deploys.allow', async () => {
    const e = await refusal(prepareModules(one('x-a', `${other.origin}/evil.mjs`), options()));
    assert.equal(e.message, `<x-a>'s server module ${other.origin}/evil.mjs: the origin "${other.origin}" is not in deploys.allow ("${cdn.origin}"): add it there to load modules from it`);
    const none = await refusal(prepareModules(one('x-a', `${cdn.origin}/a/1/server.mjs`), options({ allow: [] })));
    assert.match(none.message, /is not in deploys\.allow \(empty\)/);
    assert.equal(other.hits.get('/evil.mjs'), undefined);
  });

  test('a redirect to a disallowed origin is refused before it is followed, and nothing is cached', async () => {
    const o = options();
    const e = await refusal(prepareModules(one('x-a', `${cdn.origin}/away/server.mjs`), o));
    assert.match(e.message, new RegExp(`a redirect led to "${other.origin}/evil\\.mjs": the origin "${other.origin}" is not in deploys\\.allow`));
    assert.equal(other.hits.get('/evil.mjs'), undefined);
    assert.equal(existsSync(o.cacheDir), false);
  });

  test('other schemes are refused', async () => {
    for (const url of ['javascript:alert(1)', 'data:text/javascript,export%20default%201', 'ftp://cdn.example/a.mjs']) {
      assert.match((await refusal(prepareModules(one('x-a', url), options()))).message, /URLs are not allowed: use file:, http: or https:/);
    }
  });

  test('too large: refused, nothing left in the cache folder', async () => {
    const o = options({ maxBytes: 1024 });
    assert.match((await refusal(prepareModules(one('x-a', `${cdn.origin}/big/server.mjs`), o))).message, /more than the limit of 1024 bytes/);
    assert.match((await refusal(prepareModules(one('x-a', `${cdn.origin}/endless/server.mjs`), o))).message, /more than the limit of 1024 bytes/);
    assert.deepEqual(existsSync(o.cacheDir) ? readdirSync(o.cacheDir) : [], []);
  });

  test('slow: a host that does not answer in time is a failure, and a failure is not remembered', async () => {
    const o = options({ timeoutMs: 200 });
    const started = Date.now();
    assert.match((await refusal(prepareModules(one('x-a', `${cdn.origin}/hang/server.mjs`), o))).message, /did not answer completely within 200 ms/);
    assert.ok(Date.now() - started < 3000);
    // The host recovers: the next prepare downloads it.
    cdn.routes.set('/hang/server.mjs', { body: MODULE });
    const prepared = await prepareModules(one('x-a', `${cdn.origin}/hang/server.mjs`), o);
    assert.equal(readFileSync(prepared['x-a']!, 'utf8'), MODULE);
  });

  test('an error status, bytes that are not text, a syntax error (with its position)', async () => {
    assert.match((await refusal(prepareModules(one('x-a', `${cdn.origin}/missing/server.mjs`), options()))).message, /answered 404/);
    assert.match((await refusal(prepareModules(one('x-a', `${cdn.origin}/binary/server.mjs`), options()))).message, /not UTF-8 text/);
    assert.match(
      (await refusal(prepareModules(one('x-a', `${cdn.origin}/syntax/server.mjs`), options()))).message,
      new RegExp(`it is not a JavaScript module: ${cdn.origin}/syntax/server\\.mjs:1:14: Expected identifier but found "="`),
    );
  });

  test('a relative import (static or dynamic) is refused with its position: a server module is one file', async () => {
    const e = await refusal(prepareModules(one('x-a', `${cdn.origin}/relative/server.mjs`), options()));
    assert.match(e.message, new RegExp(`it imports "\\./helper\\.js" \\(${cdn.origin}/relative/server\\.mjs:2:24\\) by a relative path.*atoll build --element <tag>`));
    assert.match((await refusal(prepareModules(one('x-a', `${cdn.origin}/dynamic/server.mjs`), options()))).message, /it imports "\.\.\/shared\/x\.js"/);
  });

  test('one bad module fails the prepare; the good ones of the map stay cached', async () => {
    const o = options();
    const map: ServerImportMap = {
      elements: {
        'x-good': { server: `${cdn.origin}/a/1/server.mjs`, client: 'https://cdn.example/c.mjs' },
        'x-bad': { server: `${other.origin}/evil.mjs`, client: 'https://cdn.example/c.mjs' },
      },
    };
    assert.equal((await refusal(prepareModules(map, o))).tag, 'x-bad');
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(existsSync(cacheFile(o.cacheDir, `${cdn.origin}/a/1/server.mjs`)), true);
  });
});

describe('a downloaded module in the site', () => {
  let cdn: Cdn;
  after(() => cdn?.close());

  test("renders through the engine: bare imports (lit, atoll-ssr, a package only the site has) resolve from the site's cache folder", async () => {
    const root = makeSite({
      'layouts/index.html': layout('<dmc-card primary></dmc-card>').replace('</head>', '<atoll-head></atoll-head></head>'),
      'node_modules/site-only-pkg/package.json': JSON.stringify({ name: 'site-only-pkg', version: '1.0.0', type: 'module', exports: './index.js' }),
      'node_modules/site-only-pkg/index.js': "export const greeting = 'from the site';\n",
    });
    cdn = await startCdn({
      '/dmc-card/7/server.mjs': {
        body: `import { LitElement, html } from 'lit';
import { notFound } from 'atoll-ssr';
import { greeting } from 'site-only-pkg';
export async function data() { return { greeting, signals: typeof notFound }; }
class Card extends LitElement {
  static properties = { greeting: {}, signals: {} };
  render() { return html\`<p>v7 \${this.greeting} \${this.signals}</p>\`; }
}
customElements.define('dmc-card', Card);
`,
      },
    });
    const map: ServerImportMap = { elements: { 'dmc-card': { server: `${cdn.origin}/dmc-card/7/server.mjs`, client: `${cdn.origin}/dmc-card/7/client.mjs` } } };
    const modules = await prepareModules(map, { cacheDir: join(root, DEFAULT_CACHE_DIR), allow: [cdn.origin] });
    assert.ok(modules['dmc-card']!.startsWith(join(root, '.atoll', 'deploys')));
    const atoll = await createAtoll({ root, config: { elements: elementsConfig(map, modules) }, logger: memoryLogger() });
    const res = await atoll.request('/');
    assert.equal(res.status, 200);
    const html = await res.text();
    assert.match(html, /v7 <!--lit-part-->from the site<!--\/lit-part--> <!--lit-part-->function<!--\/lit-part-->/);
  });
});
