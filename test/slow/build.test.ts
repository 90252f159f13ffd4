/**
 * `atoll build`: one ES module per element, one shared copy of Lit with its
 * hydrate support evaluated first, content-hashed names, a manifest with
 * sizes, the import map — and nothing of the server in browser bundles.
 * Each case builds a throw-away site into its own temporary folder.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { gzipSync } from 'node:zlib';
import { buildClient } from '../../ssr-server/build/build.ts';
import { readManifest, staleReason, type ClientManifest } from '../../ssr-server/build/manifest.ts';
import { loadSite } from '../../ssr-server/site/load.ts';
import { layout, litElement, makeSite, runCli } from '../helpers.ts';

const files = (dir: string): string[] => {
  const out: string[] = [];
  const walk = (d: string, prefix: string): void => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      if (e.isDirectory()) walk(join(d, e.name), `${prefix}${e.name}/`);
      else out.push(prefix + e.name);
    }
  };
  walk(dir, '');
  return out.sort();
};

const scriptsOf = (outDir: string, manifest: ClientManifest): string =>
  Object.keys(manifest.files)
    .filter((f) => f.endsWith('.js'))
    .map((f) => readFileSync(join(outDir, f), 'utf8'))
    .join('\n');

/** Two elements `<p>-a` and `<p>-b` sharing a helper, the first with server hooks. */
const twoElements = (p = 'x'): Record<string, string> => ({
  'layouts/index.html': layout(`<${p}-a></${p}-a><${p}-b hydrate="load"></${p}-b>`),
  'elements/_lib/shared.ts': `export const shout = (s: string): string => s.toUpperCase() + '!';\n`,
  [`elements/${p}-a/index.ts`]: `
import { LitElement, html } from 'lit';
import { property } from 'lit/decorators.js';
import { shout } from '../_lib/shared.js';
export class XA extends LitElement {
  @property() accessor name = 'a';
  override render() { return html\`<p>\${shout(this.name)}</p>\`; }
}
customElements.define('${p}-a', XA);
`,
  [`elements/${p}-a/server.ts`]: `export async function data() { return { name: 'SERVER_ONLY_SECRET_' + 'VALUE' }; }\nexport const marker = 'SERVER_ONLY_MARKER';\n`,
  [`elements/${p}-b.ts`]: `
import { LitElement, html } from 'lit';
import { shout } from './_lib/shared.js';
customElements.define('${p}-b', class extends LitElement { render() { return html\`<b>\${shout('b')}</b>\`; } });
`,
});

describe('atoll build', () => {
  test('one hashed entry per element, shared chunks, one Lit with the hydrate support first, and a manifest with true sizes', async () => {
    const root = makeSite(twoElements());
    const site = await loadSite({ root });
    const { outDir, manifest } = await buildClient(site);
    assert.equal(outDir, join(root, '.atoll', 'client'));

    assert.deepEqual(Object.keys(manifest.elements).sort(), ['x-a', 'x-b']);
    for (const tag of ['x-a', 'x-b']) {
      const entry = manifest.elements[tag]!;
      assert.ok('file' in entry);
      assert.match(entry.file, new RegExp(`^${tag}-[\\w-]{8}\\.js$`), 'content-hashed entry name');
    }
    const litChunks = Object.keys(manifest.files).filter((f) => /^chunks\/lit-[\w-]{8}\.js$/.test(f));
    assert.equal(litChunks.length, 1, 'one Lit chunk');
    const lit = readFileSync(join(outDir, litChunks[0]!), 'utf8');
    const installs = lit.indexOf('litElementHydrateSupport=');
    const used = lit.indexOf('litElementHydrateSupport?.(');
    assert.ok(installs >= 0 && used > installs, 'the hydrate support is installed before LitElement asks for it');
    const all = scriptsOf(outDir, manifest);
    assert.equal(all.split('litElementHydrateSupport?.(').length - 1, 1, 'exactly one copy of LitElement');
    for (const tag of ['x-a', 'x-b']) {
      const entry = manifest.elements[tag] as { file: string; imports: string[] };
      assert.ok(entry.imports.includes(litChunks[0]!), `${tag} imports the Lit chunk`);
      const firstImport = /^import(?:\{[^}]*\}from)?"\.\/([^"]+)"/.exec(readFileSync(join(outDir, entry.file), 'utf8'))?.[1];
      assert.equal(firstImport, litChunks[0], `${tag} evaluates Lit (with its hydrate support) first`);
    }
    assert.equal(all.split('toUpperCase()+"!"').length - 1, 1, 'the shared helper is in one shared chunk');

    for (const [name, f] of Object.entries(manifest.files)) {
      const bytes = readFileSync(join(outDir, name));
      assert.equal(f.bytes, bytes.length, `${name} raw size`);
      assert.equal(f.gzip, gzipSync(bytes, { level: 9 }).length, `${name} gzip size`);
    }
    assert.deepEqual(files(outDir), [...Object.keys(manifest.files), 'importmap.json', 'manifest.json'].sort());
    const importMap = JSON.parse(readFileSync(join(outDir, 'importmap.json'), 'utf8')) as { imports: Record<string, string> };
    assert.deepEqual(importMap.imports, {
      '@atoll/x-a': `/_atoll/assets/${(manifest.elements['x-a'] as { file: string }).file}`,
      '@atoll/x-b': `/_atoll/assets/${(manifest.elements['x-b'] as { file: string }).file}`,
    });
  });

  test('server hooks never reach the browser: not bundled, and importing them is a build error', async () => {
    const root = makeSite(twoElements('h'));
    const { outDir, manifest } = await buildClient(await loadSite({ root }));
    const all = scriptsOf(outDir, manifest);
    assert.doesNotMatch(all, /SERVER_ONLY/);

    const leaky = makeSite({
      'layouts/index.html': layout('<x-leak></x-leak>'),
      'elements/x-leak/index.ts': `import { marker } from './server.js';\n${litElement('x-leak', 'return html`<p>${marker}</p>`;')}`,
      'elements/x-leak/server.ts': `export const marker = 'SERVER_ONLY';\nexport async function data() { return {}; }\n`,
    });
    await assert.rejects(buildClient(await loadSite({ root: leaky })), /server\.ts holds server hooks \(data, headers\) and must never reach the browser/);
  });

  test('a Node built-in in an element is a build error that says what to do', async () => {
    const root = makeSite({
      'layouts/index.html': layout('<x-fs></x-fs>'),
      'elements/x-fs.ts': `import { readFileSync } from 'node:fs';\nexport const r = readFileSync;\n${litElement('x-fs')}`,
    });
    await assert.rejects(buildClient(await loadSite({ root })), /imports "node:fs", a Node built-in: browser bundles cannot include it/);
  });

  test('an absolute client URL is used as is, not built', async () => {
    const root = makeSite({
      'layouts/index.html': layout('<x-cdn></x-cdn>'),
      'elements/x-cdn.ts': litElement('x-cdn'),
      'atoll.config.json': JSON.stringify({ elements: { 'x-cdn': { client: 'https://cdn.example/x-cdn/1.0.0/index.js' } } }),
    });
    const { manifest } = await buildClient(await loadSite({ root }));
    assert.deepEqual(manifest.elements['x-cdn'], { url: 'https://cdn.example/x-cdn/1.0.0/index.js' });
  });

  test('staleness: fresh after a build; stale when a source changes or an element is added; a rebuild prunes old files', async () => {
    const root = makeSite(twoElements('s'));
    let site = await loadSite({ root });
    const first = await buildClient(site);
    assert.equal(staleReason(readManifest(first.outDir), site.registry, first.outDir), undefined);

    const shared = join(root, 'elements/_lib/shared.ts');
    writeFileSync(shared, `export const shout = (s: string): string => s.toUpperCase() + '?';\n`);
    utimesSync(shared, new Date(), new Date(Date.now() + 5000));
    assert.equal(staleReason(readManifest(first.outDir), site.registry, first.outDir), 'a source file changed');

    const second = await buildClient(site);
    assert.equal(staleReason(readManifest(second.outDir), site.registry, second.outDir), undefined);
    const gone = Object.keys(first.manifest.files).filter((f) => !(f in second.manifest.files));
    assert.ok(gone.length > 0, 'the change produced new hashes');
    for (const f of gone) assert.equal(existsSync(join(root, '.atoll/client', f)), false, `${f} was pruned`);

    writeFileSync(join(root, 'elements/x-c.ts'), litElement('x-c'));
    site = await loadSite({ root });
    assert.equal(staleReason(readManifest(second.outDir), site.registry, second.outDir), 'the element registry changed');
    assert.equal(staleReason(undefined, site.registry, second.outDir), 'there is no client build yet');
  });

  test('`atoll build --root` writes the build and prints every file with its sizes', async () => {
    const root = makeSite(twoElements('c'));
    const out = join(root, 'dist-client');
    const { code, stdout, stderr } = await runCli(['build', '--root', root, '--out', out], { timeoutMs: 60_000 });
    assert.equal(code, 0, stderr);
    assert.match(stdout, /^file +raw +gzip$/m);
    assert.match(stdout, /^c-a-[\w-]{8}\.js +\d+\.\d KB +\d+\.\d KB$/m);
    assert.match(stdout, /^chunks\/lit-[\w-]{8}\.js +\d+\.\d KB/m);
    assert.match(stdout, /built 2 elements into .*dist-client in \d+ ms/);
    assert.ok(readManifest(out) !== undefined);
  });
});
