/**
 * A relocatable build (build/manifest.ts, cli.ts): `atoll build` in one
 * folder, the site copied (with .atoll/client) to another, and `atoll serve
 * --no-build` there answers with exactly that build and never rebuilds;
 * the copy is fresh (contents, not paths or mtimes, are fingerprinted) and
 * stale once an element changes. `build --out` → `serve --out`, the
 * config's outDir, and a missing build with --no-build.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { readManifest, staleReason } from '../../ssr-server/build/manifest.ts';
import { loadSite } from '../../ssr-server/site/load.ts';
import { layout, litElement, makeSite, repoRoot, runCli } from '../helpers.ts';

const siteFiles = (): Record<string, string> => ({
  'layouts/index.html': layout('<reloc-card hydrate="load"></reloc-card>').replace('</head>', '<atoll-head></atoll-head></head>'),
  'elements/reloc-card.ts': litElement('reloc-card', 'return html`<p>card v1</p>`;'),
});

/** `atoll serve` in a child process; resolves once it prints its URL. */
async function serve(args: string[]): Promise<{ url: string; child: ChildProcess; output: () => string; stop: () => Promise<void> }> {
  const child = spawn(process.execPath, [join(repoRoot, 'bin', 'atoll.mjs'), 'serve', '--port', '0', ...args], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d));
  child.stderr!.on('data', (d: Buffer) => (out += d));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`serve did not start: ${out}`)), 60_000);
    child.stdout!.on('data', () => {
      const m = /Atoll is serving .* at (http:\/\/\S+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]!);
      }
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`serve exited with ${code}: ${out}`));
    });
  });
  return {
    url,
    child,
    output: () => out,
    stop: async () => {
      child.removeAllListeners('exit');
      child.kill('SIGTERM');
      await new Promise((r) => child.once('close', r));
    },
  };
}

/** The page's built element module URL, fetched: it must be in `outDir`'s manifest. */
async function assertServesBuild(url: string, outDir: string): Promise<void> {
  const manifest = readManifest(outDir)!;
  const entry = manifest.elements['reloc-card'] as { file: string };
  const html = await (await fetch(url + '/')).text();
  assert.match(html, /card v1/);
  assert.ok(html.includes(`/_atoll/assets/${entry.file}`), 'the page names the built module');
  const asset = await fetch(`${url}/_atoll/assets/${entry.file}`);
  assert.equal(asset.status, 200);
  assert.equal(await asset.text(), readFileSync(join(outDir, entry.file), 'utf8'));
}

describe('a relocatable build', () => {
  test('build in A, copy the site to B: fresh there, serve --no-build answers with that build and does not rebuild; stale after an element change', { timeout: 180_000 }, async () => {
    const a = makeSite(siteFiles());
    const built = await runCli(['build', '--root', a], { timeoutMs: 120_000 });
    assert.equal(built.code, 0, built.stderr);
    const manifestA = readFileSync(join(a, '.atoll/client/manifest.json'), 'utf8');
    assert.ok(!manifestA.includes(a), 'the manifest holds no absolute path of the site');

    const b = join(mkdtempSync(join(tmpdir(), 'atoll-moved-')), 'site');
    cpSync(a, b, { recursive: true }); // new mtimes: only contents count
    const outB = join(b, '.atoll/client');
    const siteB = await loadSite({ root: b });
    assert.equal(staleReason(readManifest(outB), siteB.registry, outB, b), undefined, 'the copy is fresh');
    const before = statSync(join(outB, 'manifest.json')).mtimeMs;

    const noBuild = await serve(['--root', b, '--no-build']);
    try {
      await assertServesBuild(noBuild.url, outB);
      assert.doesNotMatch(noBuild.output(), /client build done|stale/);
    } finally {
      await noBuild.stop();
    }
    // The default (build when stale) does not rebuild a fresh copy either.
    const ifStale = await serve(['--root', b]);
    try {
      await assertServesBuild(ifStale.url, outB);
      assert.doesNotMatch(ifStale.output(), /client build done/);
    } finally {
      await ifStale.stop();
    }
    assert.equal(statSync(join(outB, 'manifest.json')).mtimeMs, before, 'the build in B was not rewritten');
    assert.equal(readFileSync(join(outB, 'manifest.json'), 'utf8'), manifestA);

    writeFileSync(join(b, 'elements/reloc-card.ts'), litElement('reloc-card', 'return html`<p>card v2</p>`;'));
    assert.equal(staleReason(readManifest(outB), siteB.registry, outB, b), 'a source file changed');
    const stale = await serve(['--root', b, '--no-build']);
    try {
      const html = await (await fetch(stale.url + '/')).text();
      assert.match(html, /card v2/, 'the server renders the new source');
      assert.match(stale.output(), /the client build is stale/);
      assert.doesNotMatch(stale.output(), /client build done/, '--no-build never builds');
    } finally {
      await stale.stop();
    }
  });

  test('build --out DIR is served with serve --out DIR; the config\'s outDir serves both; a missing build with --no-build is an error', { timeout: 180_000 }, async () => {
    const root = makeSite(siteFiles());
    const out = join(mkdtempSync(join(tmpdir(), 'atoll-out-')), 'client');
    const built = await runCli(['build', '--root', root, '--out', out], { timeoutMs: 120_000 });
    assert.equal(built.code, 0, built.stderr);
    const missing = await runCli(['serve', '--root', root, '--no-build', '--port', '0']);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /--no-build, but there is no client build in .*\.atoll\/client: run atoll build/);
    const s = await serve(['--root', root, '--out', out, '--no-build']);
    try {
      await assertServesBuild(s.url, out);
    } finally {
      await s.stop();
    }

    const configured = makeSite({ ...siteFiles(), 'atoll.config.json': '{ "outDir": "dist/client" }' });
    const b2 = await runCli(['build', '--root', configured], { timeoutMs: 120_000 });
    assert.equal(b2.code, 0, b2.stderr);
    assert.ok(readManifest(join(configured, 'dist/client')) !== undefined, 'built into the config\'s outDir');
    const s2 = await serve(['--root', configured, '--no-build']);
    try {
      await assertServesBuild(s2.url, join(configured, 'dist/client'));
    } finally {
      await s2.stop();
    }
  });
});
