/**
 * `atoll export`: a small site (routes with and without parameters, a
 * redirect, public/, a paths() hook) and the demo, exported in-process and
 * through the CLI; hostile paths() results, failed pages and output folders
 * that must be refused. The temporary site's hooks read
 * `globalThis.__exportCase`, so one site (and one client build) serves
 * every case.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { mkdtempSync, rmSync } from 'node:fs';
import { exportSite, ExportError, EXPORT_MARKER, MAX_PATHS_PER_HOOK, refreshPage } from '../../ssr-server/export/export.ts';
import { silentLogger } from '../../ssr-server/log.ts';
import { makeSite, repoRoot, runCli } from '../helpers.ts';
import { products, categories } from '../../elements/_lib/catalog.ts';

const g = globalThis as { __exportCase?: string };

const LAYOUT = `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>t</title><atoll-head></atoll-head></head>
<body>
<atoll-redirect from="/old" to="/about" status="301"></atoll-redirect>
<atoll-route path="/about"><x-page label="about page"></x-page></atoll-route>
<atoll-route path="/items/:id"><x-item item="{params.id}" primary></x-item></atoll-route>
<atoll-route path="/docs"><atoll-route path="/intro"><x-page label="intro"></x-page></atoll-route><atoll-route default status="404"><p>no doc</p></atoll-route></atoll-route>
<atoll-route path="/files/*"><x-page label="files"></x-page></atoll-route>
<atoll-route default status="404"><p>nothing here</p></atoll-route>
</body>
</html>
`;

const element = (tag: string, prop: string) => `
import { LitElement, html } from 'lit';
class El extends LitElement {
  static properties = { ${prop}: {} };
  render() { return html\`<p class="content">${tag}: \${this.${prop}}</p>\`; }
}
customElements.define('${tag}', El);
`;

const ITEM_HOOKS = `
export function data(ctx) {
  if (globalThis.__exportCase === 'fail-primary') throw new Error('the item store is down');
  return {};
}
export function paths() {
  const c = globalThis.__exportCase;
  if (c === 'not-array') return { id: 'a' };
  if (c === 'slash') return [{ id: 'a/b' }];
  if (c === 'dotdot') return [{ id: '..' }];
  if (c === 'nul') return [{ id: 'a\\u0000b' }];
  if (c === 'number') return [{ id: 7 }];
  if (c === 'null-record') return [null];
  if (c === 'huge') return Array.from({ length: ${MAX_PATHS_PER_HOOK + 1} }, (_, i) => ({ id: 'i' + i }));
  if (c === 'throws') throw new Error('no catalogue');
  if (c === 'hangs') return new Promise(() => {});
  if (c === 'wide') return [Object.fromEntries(Array.from({ length: 1000 }, (_, i) => ['k' + i, 'v']))];
  return [{ id: 'alpha' }, { id: 'beta' }, { id: 'café au lait' }, { other: 'ignored' }];
}
`;

const PAGE_HOOKS = `
export function data() {
  if (globalThis.__exportCase === 'fail-element') throw new Error('page data failed');
  return {};
}
`;

let root: string;
const outs: string[] = [];
const newOut = (): string => {
  const dir = mkdtempSync(join(tmpdir(), 'atoll-export-out-'));
  outs.push(dir);
  return join(dir, 'out');
};

before(() => {
  root = makeSite({
    'layouts/index.html': LAYOUT,
    'elements/x-page/index.ts': element('x-page', 'label'),
    'elements/x-page/server.js': PAGE_HOOKS,
    'elements/x-item/index.ts': element('x-item', 'item'),
    'elements/x-item/server.js': ITEM_HOOKS,
    'public/favicon.svg': '<svg xmlns="http://www.w3.org/2000/svg"/>',
    'atoll.config.json': JSON.stringify({ publicOrigin: 'https://site.example' }),
  });
});
after(() => {
  delete g.__exportCase;
  rmSync(root, { recursive: true, force: true });
  for (const o of outs) rmSync(o, { recursive: true, force: true });
});

const read = (...parts: string[]): string => readFileSync(join(...parts), 'utf8');
/** A written page without Lit's comment markers. */
const page = (...parts: string[]): string => read(...parts).replace(/<!--[^]*?-->/g, '');

describe('atoll export of a small site', () => {
  test('every page with its own content, 404, assets, public/, sitemap, robots and redirects', async () => {
    delete g.__exportCase;
    const out = newOut();
    const result = await exportSite({ root, out, logger: silentLogger });
    assert.deepEqual(result.pages, ['/about', '/docs/intro', '/items/alpha', '/items/beta', '/items/caf%C3%A9%20au%20lait']);
    assert.match(page(out, 'about', 'index.html'), /x-page: about page/);
    assert.match(page(out, 'items', 'alpha', 'index.html'), /x-item: alpha/);
    assert.match(page(out, 'docs', 'intro', 'index.html'), /x-page: intro/);
    // A route holding routes whose own path is a 404 (its inner default route) is no page and no failure.
    assert.ok(!existsSync(join(out, 'docs', 'index.html')));
    assert.ok(result.notes.some((n) => n.startsWith('/docs (a route holding routes) answered 404')), result.notes.join('\n'));
    assert.match(page(out, 'items', 'beta', 'index.html'), /x-item: beta/);
    // The file has the decoded name: what a static server looks up for /items/caf%C3%A9%20au%20lait.
    assert.match(page(out, 'items', 'café au lait', 'index.html'), /x-item: café au lait/);
    assert.match(read(out, '404.html'), /nothing here/);
    assert.equal(read(out, 'favicon.svg'), '<svg xmlns="http://www.w3.org/2000/svg"/>');
    // The client build: every /_atoll/assets/ file a page refers to exists.
    const referenced = new Set([...read(out, 'items', 'alpha', 'index.html').matchAll(/\/_atoll\/assets\/([\w.-]+)/g)].map((m) => m[1]!));
    assert.ok(referenced.size > 0, 'the page refers to built assets');
    for (const name of referenced) assert.ok(existsSync(join(out, '_atoll', 'assets', name)), `${name} was copied`);
    // The sitemap lists exactly the pages, with absolute, encoded URLs.
    const locs = [...read(out, 'sitemap.xml').matchAll(/<loc>([^<]*)<\/loc>/g)].map((m) => m[1]);
    assert.deepEqual(locs, result.pages.map((p) => `https://site.example${p}`));
    assert.equal(read(out, 'robots.txt'), 'User-agent: *\nAllow: /\n\nSitemap: https://site.example/sitemap.xml\n');
    // Redirects: the map, JSON, and a meta-refresh page.
    assert.equal(read(out, '_redirects'), '/old /about 301\n');
    assert.deepEqual(JSON.parse(read(out, 'redirects.json')), [{ from: '/old', to: '/about', status: 301 }]);
    assert.match(read(out, 'old', 'index.html'), /<meta http-equiv="refresh" content="0; url=\/about">/);
    assert.ok(!locs.includes('https://site.example/old'), 'a redirect is no sitemap page');
    // The wildcard route cannot be listed: said, not guessed.
    assert.ok(result.notes.some((n) => /\/files\/\* .*layouts\/index\.html:\d+:\d+.* not exported/.test(n)), result.notes.join('\n'));
    assert.ok(existsSync(join(out, EXPORT_MARKER)));
  });

  test('the origin: --origin wins; without one there is no sitemap, and the result says so', async () => {
    const out = newOut();
    const withOrigin = await exportSite({ root, out, origin: 'http://other.example:8080', logger: silentLogger });
    assert.match(read(out, 'sitemap.xml'), /<loc>http:\/\/other\.example:8080\/about<\/loc>/);
    assert.equal(withOrigin.origin, 'http://other.example:8080');
    await assert.rejects(exportSite({ root, out: newOut(), origin: 'javascript:alert(1)', logger: silentLogger }), /must be an http\(s\) origin/);
    await assert.rejects(exportSite({ root, out: newOut(), origin: 'https://x.example/path', logger: silentLogger }), /with no path/);
    const bare = makeSite({
      'layouts/index.html': '<!doctype html><html lang="en"><head><title>b</title></head><body><p>plain</p></body></html>\n',
    });
    try {
      const out2 = newOut();
      const r = await exportSite({ root: bare, out: out2, logger: silentLogger });
      assert.deepEqual(r.pages, ['/']);
      assert.ok(!existsSync(join(out2, 'sitemap.xml')));
      assert.equal(read(out2, 'robots.txt'), 'User-agent: *\nAllow: /\n');
      assert.ok(r.notes.some((n) => /no sitemap\.xml.*publicOrigin.*--origin/.test(n)));
    } finally {
      rmSync(bare, { recursive: true, force: true });
    }
  });

  let hostileOut: string | undefined;
  for (const [name, expected] of [
    ['not-array', /<x-item>'s paths\(\).* must return an array of parameter records.*\{"id":"a"\}/],
    ['slash', /record 0, parameter "id" contains "\/"/],
    ['dotdot', /parameter "id" is "\.\."/],
    ['nul', /parameter "id" contains .*control character/],
    ['number', /parameter "id" is number, not a string/],
    ['null-record', /record 0 must be an object/],
    ['huge', new RegExp(`returned ${MAX_PATHS_PER_HOOK + 1} records; at most ${MAX_PATHS_PER_HOOK}`)],
    ['throws', /<x-item>'s paths\(\).* threw: no catalogue/],
    ['wide', /record 0 has 1000 keys; a record gives at most 32/],
    ['hangs', /<x-item>'s paths\(\).* did not answer within 300 ms/],
    ['fail-element', /the page \/about: <x-page> failed/],
    ['fail-primary', /the page \/items\/\w+ answered 5\d\d \(a server error\)/],
  ] as const) {
    test(`a hostile or failing case fails the export with a clear message: ${name}`, async () => {
      // An earlier export (one for all these cases) stays as it was when this one fails.
      delete g.__exportCase;
      if (hostileOut === undefined) {
        hostileOut = newOut();
        await exportSite({ root, out: hostileOut, logger: silentLogger });
      }
      const out = hostileOut;
      const before = readdirSync(out).sort();
      g.__exportCase = name;
      try {
        await assert.rejects(exportSite({ root, out, logger: silentLogger, pathsTimeoutMs: 300 }), (e: unknown) => {
          assert.ok(e instanceof ExportError, String(e));
          assert.match((e as Error).message, expected);
          return true;
        });
      } finally {
        delete g.__exportCase;
      }
      assert.deepEqual(readdirSync(out).sort(), before);
      assert.deepEqual(readdirSync(join(out, '..')), ['out'], 'no temporary folder is left behind');
    });
  }

  test('output folders that must be refused', async () => {
    const refuse = async (out: string, expected: RegExp) =>
      assert.rejects(exportSite({ root, out, logger: silentLogger }), (e: unknown) => e instanceof ExportError && expected.test((e as Error).message));
    await refuse(root, /it is the site folder or holds it/);
    await refuse(join(root, '..'), /it is the site folder or holds it/);
    await refuse(join(root, 'public', 'x'), /inside the site's public\/ folder/);
    await refuse(join(root, 'elements'), /inside the site's elements\/ folder/);
    await refuse(join(root, '.atoll', 'client'), /overlaps the client build folder/);
    await refuse('/', /file system root|holds it/);
    // Through a symbolic link: a link to the site is the site.
    const links = mkdtempSync(join(tmpdir(), 'atoll-export-link-'));
    outs.push(links);
    symlinkSync(root, join(links, 'site-link'));
    await refuse(join(links, 'site-link'), /it is the site folder or holds it/);
    await refuse(join(links, 'site-link', 'public', 'deeper', 'new'), /inside the site's public\/ folder/);
    const full = newOut();
    mkdirSync(full, { recursive: true });
    writeFileSync(join(full, 'precious.txt'), 'mine');
    await refuse(full, /not empty and holds no \.atoll-export marker/);
    assert.equal(read(full, 'precious.txt'), 'mine');
    // An earlier export is replaced, stale pages and all.
    const again = newOut();
    await exportSite({ root, out: again, logger: silentLogger });
    writeFileSync(join(again, 'stale.html'), 'old');
    await exportSite({ root, out: again, logger: silentLogger });
    assert.ok(!existsSync(join(again, 'stale.html')));
  });

  test('a route that would overwrite a file of the export is an error; public/ files of those names are kept', async () => {
    const clash = makeSite({
      'layouts/index.html': '<!doctype html><html lang="en"><head><title>c</title></head><body><atoll-route path="/sitemap.xml"><p>a page</p></atoll-route><atoll-route path="/a"><p>a</p></atoll-route></body></html>\n',
      'public/_redirects': '/x /a 301\n',
    });
    try {
      await assert.rejects(exportSite({ root: clash, out: newOut(), origin: 'https://c.example', logger: silentLogger }), /the page \/sitemap\.xml collides with the sitemap\.xml the export writes/);
      const out = newOut();
      const r = await exportSite({ root: clash, out, logger: silentLogger });
      assert.equal(read(out, '_redirects'), '/x /a 301\n');
      assert.ok(r.notes.includes('public/_redirects is kept; the export does not write its own'), r.notes.join('\n'));
    } finally {
      rmSync(clash, { recursive: true, force: true });
    }
  });

  test('a meta-refresh page escapes its target', () => {
    const page = refreshPage('/a"><script>alert(1)</script>');
    assert.ok(!page.includes('<script>'));
    assert.match(page, /content="0; url=\/a&quot;&gt;&lt;script&gt;/);
  });

  test('the CLI: atoll export --help, a refusal exits 1 with the message', async () => {
    const help = await runCli(['export', '--help']);
    assert.equal(help.code, 0);
    assert.match(help.stdout, /--out DIR/);
    assert.match(help.stdout, /--origin URL/);
    const refused = await runCli(['export', '--root', root, '--out', root, '--quiet']);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /^atoll export: refusing to export into .*: it is the site folder/m);
  });
});

describe('atoll export of the demo', () => {
  test('every product and category page with its own content; the sitemap lists exactly them', async () => {
    const out = newOut();
    const r = await runCli(['export', '--root', repoRoot, '--out', out, '--origin', 'https://shop.example', '--quiet'], { timeoutMs: 120_000 });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /exported \d+ pages, 1 redirect/);
    const decode = (s: string) => s.replace(/&#39;|&#x27;/g, "'").replace(/&quot;/g, '"').replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');
    for (const p of products) {
      const html = read(out, 'products', p.id, 'index.html');
      // Its own head: title, canonical URL on the export's origin, Product JSON-LD.
      assert.equal(decode(/<title>([^<]*)<\/title>/.exec(html)?.[1] ?? ''), `${p.name} — Atoll Shop`, `/products/${p.id}`);
      assert.equal(/<link rel="canonical" href="([^"]*)">/.exec(html)?.[1], `https://shop.example/products/${p.id}`);
      const ld = JSON.parse(/<script type="application\/ld\+json">([^]*?)<\/script>/.exec(html)?.[1] ?? 'null') as { '@type'?: string; name?: string } | null;
      assert.equal(ld?.['@type'], 'Product');
      assert.equal(ld?.name, p.name);
    }
    for (const c of categories) assert.ok(existsSync(join(out, 'category', c.slug, 'index.html')), `/category/${c.slug}`);
    const expected = ['/home', ...categories.map((c) => `/category/${c.slug}`), ...products.map((p) => `/products/${p.id}`)].map((p) => `https://shop.example${p}`).sort();
    const locs = [...read(out, 'sitemap.xml').matchAll(/<loc>([^<]*)<\/loc>/g)].map((m) => m[1]).sort();
    assert.deepEqual(locs, expected);
    assert.equal(read(out, '_redirects'), '/ /home 302\n');
    assert.match(read(out, 'index.html'), /url=\/home/);
    assert.ok(existsSync(join(out, '404.html')));
    assert.ok(existsSync(join(out, 'favicon.svg')));
  });
});

test('exportSite is on the package entry and loads the export only when called', async () => {
  const entry = await import('../../ssr-server/index.ts');
  assert.equal(typeof entry.exportSite, 'function');
  const dir = mkdtempSync(join(tmpdir(), 'atoll-export-entry-'));
  // The site folder itself as the output: refused by the same checks as the CLI's.
  await assert.rejects(entry.exportSite({ root: dir, out: dir }), (e: unknown) => e instanceof ExportError || (e as Error).name === 'SiteError');
});
