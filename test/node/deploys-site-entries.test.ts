/**
 * Independent deploys, the site side (docs/deploys.md): a server import map's
 * elements as `elements` config entries (`elementsConfig`) load an element
 * from a file outside the site with the hooks that same file exports, never
 * rebuild the client or make its build stale, map `@atoll/<tag>` to the
 * entry's client URL in the page's import map, and key the element's
 * renderings by its version.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { readManifest, staleReason, withClientUrls, type ClientManifest } from '../../ssr-server/build/manifest.ts';
import { buildIdentity } from '../../ssr-server/render/navigation.ts';
import { elementsConfig, entryVersion } from '../../ssr-server/deploys/site-entries.ts';
import type { ServerImportMap } from '../../ssr-server/deploys/types.ts';
import { createAtoll, LruStore, memoryLogger, type Atoll, type CacheEntry, type RenderCacheStore } from '../../ssr-server/index.ts';
import type { ElementDefinition } from '../../ssr-server/site/registry.ts';
import { layout, litElement, makeSite } from '../helpers.ts';

const CLIENT_URL = 'https://cdn.example/dse-ver/1/client.mjs';
const SERVER_URL = 'https://cdn.example/dse-ver/1/server.mjs';

/** An element module as `atoll build --element` makes it: the element and its hooks in one file, bare imports left as they are. */
const serverModule = `
import { LitElement, html } from 'lit';
import { httpStatus } from 'atoll-ssr';
export const attributes = ['sku'];
export async function data(ctx) { return { v: 'one', sku: ctx.attributes.sku ?? '-', ok: typeof httpStatus === 'function' }; }
export function head() { return { title: 'From the map' }; }
class Ver extends LitElement {
  static properties = { v: {}, sku: {}, ok: {} };
  render() { return html\`<p>version \${this.v} of \${this.sku} \${this.ok}</p>\`; }
}
customElements.define('dse-ver', Ver);
`;

/** A store that remembers every key it was asked to write. */
function recording(): RenderCacheStore & { keys: string[] } {
  const inner = new LruStore({ maxEntries: 100 });
  const keys: string[] = [];
  return {
    keys,
    get: (key: string) => inner.get(key),
    set: (key: string, entry: CacheEntry) => {
      keys.push(key);
      inner.set(key, entry);
    },
  } as RenderCacheStore & { keys: string[] };
}

describe('map entries as elements config', () => {
  let root: string;
  let moduleFile: string;
  let built: ClientManifest;
  let manifestText: string;
  let manifestMtime: number;
  let atoll: Atoll;
  const logger = memoryLogger();
  const store = recording();
  const map: ServerImportMap = { elements: { 'dse-ver': { server: SERVER_URL, client: CLIENT_URL } } };

  before(async () => {
    root = makeSite({
      'layouts/index.html': layout('<dse-local></dse-local>\n<dse-ver primary sku="a1" cache="60s"></dse-ver>').replace('</head>', '<atoll-head></atoll-head></head>'),
      'elements/dse-local.ts': litElement('dse-local'),
    });
    // The client build of the site without any map element.
    const first = await createAtoll({ root, client: { build: true }, logger: memoryLogger() });
    assert.equal(first.site.registry.has('dse-ver'), false);
    const outDir = join(root, '.atoll', 'client');
    built = readManifest(outDir)!;
    manifestText = readFileSync(join(outDir, 'manifest.json'), 'utf8');
    manifestMtime = statSync(join(outDir, 'manifest.json')).mtimeMs;
    // The server module outside the site (where the module cache or a file: map puts it).
    const elsewhere = mkdtempSync(join(tmpdir(), 'atoll-deploy-module-'));
    moduleFile = join(elsewhere, 'server.mjs');
    writeFileSync(moduleFile, serverModule);
    atoll = await createAtoll({
      root,
      config: { elements: elementsConfig(map, { 'dse-ver': moduleFile }) },
      client: { build: 'if-stale' },
      cache: store,
      logger,
    });
  });
  after(() => atoll?.cache.close?.());

  test('elementsConfig: module and server are the prepared file, client the URL, version a digest of the server URL', () => {
    const entries = elementsConfig(map, { 'dse-ver': moduleFile });
    assert.deepEqual(entries, { 'dse-ver': { module: moduleFile, server: moduleFile, client: CLIENT_URL, version: entryVersion(SERVER_URL) } });
    assert.notEqual(entryVersion(SERVER_URL), entryVersion(SERVER_URL.replace('/1/', '/2/')));
    assert.throws(() => elementsConfig(map, {}), /<dse-ver> has no prepared server module/);
    assert.throws(() => elementsConfig(map, { 'dse-ver': 'relative.mjs' }), /<dse-ver> has no prepared server module/);
  });

  test('the element loads from the file outside the site, with the hooks that file exports', async () => {
    const def = atoll.site.registry.get('dse-ver')!;
    assert.equal(def.kind, 'module');
    assert.equal(typeof def.hooks.data, 'function');
    assert.equal(typeof def.hooks.head, 'function');
    assert.deepEqual(def.hooks.attributes, ['sku']);
    const res = await atoll.request('/');
    assert.equal(res.status, 200);
    const html = await res.text();
    // data() ran (bare `lit` and `atoll-ssr` resolved from outside the site) and the head() hook titled the page.
    assert.match(html, /version <!--lit-part-->one<!--\/lit-part--> of <!--lit-part-->a1<!--\/lit-part--> <!--lit-part-->true/);
    assert.match(html, /<title>From the map<\/title>/);
  });

  test('no rebuild and no stale build because of the map entries', () => {
    const outDir = join(root, '.atoll', 'client');
    assert.deepEqual(logger.lines.filter((l) => /build/.test(String(l.msg))), [], 'nothing was built or reported stale');
    assert.equal(readFileSync(join(outDir, 'manifest.json'), 'utf8'), manifestText);
    assert.equal(statSync(join(outDir, 'manifest.json')).mtimeMs, manifestMtime);
    assert.equal(staleReason(built, atoll.site.registry, outDir, root), undefined);
    // Another version of the same element: still fresh.
    const next = new Map(atoll.site.registry);
    next.set('dse-ver', { ...atoll.site.registry.get('dse-ver')!, moduleUrl: 'file:///srv/cache/other.mjs', client: 'https://cdn.example/dse-ver/2/client.mjs' });
    assert.equal(staleReason(built, next, outDir, root), undefined);
  });

  test("a map entry that replaces one of the site's own elements does not make the build stale either", () => {
    const outDir = join(root, '.atoll', 'client');
    const next = new Map<string, ElementDefinition>(atoll.site.registry);
    next.set('dse-local', { ...atoll.site.registry.get('dse-local')!, moduleUrl: 'file:///srv/cache/local-v2.mjs', client: 'https://cdn.example/dse-local/2/client.mjs' });
    assert.equal(staleReason(built, next, outDir, root), undefined);
    assert.deepEqual(withClientUrls(built, next).elements['dse-local'], { url: 'https://cdn.example/dse-local/2/client.mjs' });
    // Without the map the site's own element is built again: a removed or added built element still makes it stale.
    const without = new Map(next);
    without.delete('dse-local');
    assert.equal(staleReason(built, new Map([...without, ['dse-new', { ...atoll.site.registry.get('dse-local')!, tag: 'dse-new' }]]), outDir, root), 'the element registry changed');
  });

  test("the page's import map sends @atoll/<tag> to the entry's client URL (and the built element to its file)", async () => {
    const html = await (await atoll.request('/')).text();
    const json = /<script type="importmap"[^>]*>(.*?)<\/script>/s.exec(html)?.[1];
    assert.ok(json, 'the page has an import map');
    const imports = (JSON.parse(json) as { imports: Record<string, string> }).imports;
    assert.equal(imports['@atoll/dse-ver'], CLIENT_URL);
    assert.match(imports['@atoll/dse-local'] ?? '', /^\/_atoll\/assets\/.+\.js$/);
    // The built manifest itself is untouched; withClientUrls is the same object when nothing differs.
    assert.equal(built.elements['dse-ver'], undefined);
    const withUrl = withClientUrls(built, atoll.site.registry);
    assert.equal(withClientUrls(withUrl, atoll.site.registry), withUrl);
    // The layout id (client navigation) changes with the map: a navigation across versions becomes a document load.
    const layoutId = /data-atoll-layout="([^"]+)"/.exec(html)?.[1];
    const first = await createAtoll({ root, logger: memoryLogger() });
    const plain = await (await first.request('/')).text();
    assert.notEqual(/data-atoll-layout="([^"]+)"/.exec(plain)?.[1], layoutId);
    assert.notEqual(buildIdentity(withUrl), buildIdentity(built));
  });

  test("the element's renderings are keyed with its version", async () => {
    await (await atoll.request('/')).text();
    const keys = store.keys.filter((k) => k.startsWith('dse-ver'));
    assert.ok(keys.length > 0, 'the element was cached');
    assert.ok(keys.every((k) => k.startsWith(`dse-ver@${entryVersion(SERVER_URL)}\u0000`)), JSON.stringify(keys));
  });
});
