/**
 * `atoll init` as a new user meets it (issue 12: "`atoll init` output passes
 * its own tests"): the packed tarball installed into a fresh project, then
 * `node_modules/.bin/atoll init site`, and in `site` the two commands its
 * README gives (with the tarball, since Atoll is not on the registry yet:
 * `npm install <tarball> && npm install`). The site's `npm test` passes, its
 * files type-check under its own strict tsconfig, `npx atoll build` builds
 * it, and `atoll serve` answers its route and its element's module over
 * real HTTP.
 */
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, test } from 'node:test';
import { freshProject, packAtoll, REPO, sh, startServer, type ShResult } from './pack.ts';

/** What a command printed, both streams. */
const out = (r: ShResult): string => r.stdout + r.stderr;

describe('atoll init from the packed package', () => {
  let tarball: string;
  let site: string;
  const timings: Record<string, number> = {};

  before(async () => {
    const started = performance.now();
    tarball = await packAtoll();
    const project = await freshProject({ packageJson: { name: 'try-atoll', private: true } });
    timings.packAndFreshProject = performance.now() - started;
    const init = await sh(project, join(project, 'node_modules', '.bin', 'atoll'), ['init', 'site']);
    assert.equal(init.code, 0, out(init));
    assert.match(out(init), /cd site\n {2}npm install\n {2}npm run dev/);
    site = join(project, 'site');
  });

  test('the two set-up commands install it (the tarball first, as Atoll is not on the registry)', async () => {
    const pkg = JSON.parse(readFileSync(join(site, 'package.json'), 'utf8'));
    assert.match(pkg.dependencies['atoll-ssr'], /^\^\d+\.\d+\.\d+/);
    const withTarball = await sh(site, 'npm', ['install', '--no-audit', '--no-fund', '--loglevel=error', tarball]);
    assert.equal(withTarball.code, 0, out(withTarball));
    const install = await sh(site, 'npm', ['install', '--no-audit', '--no-fund', '--loglevel=error']);
    assert.equal(install.code, 0, out(install));
    timings.install = withTarball.ms + install.ms;
  });

  test('npm test passes (the element test through atoll-ssr/testing and happy-dom)', async () => {
    const r = await sh(site, 'npm', ['test']);
    assert.equal(r.code, 0, out(r));
    assert.match(out(r), /# pass 2\n# fail 0/);
    timings.test = r.ms;
  });

  test("its TypeScript passes a strict check under its own tsconfig (Atoll's published types included)", async () => {
    const r = await sh(site, process.execPath, [join(REPO, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.json']);
    assert.equal(r.code, 0, out(r));
    timings.typecheck = r.ms;
  });

  test('npm run dev serves it, and an edit to the element is in the next page without a restart', async () => {
    const file = join(site, 'elements', 'hello-world', 'index.ts');
    const original = readFileSync(file, 'utf8');
    const dev = await startServer(site, 'npm', ['run', 'dev', '--', '--port', '0', '--host', '127.0.0.1'], '/');
    try {
      const page = async (): Promise<string> => {
        const r = await fetch(`${dev.base}/`);
        const html = await r.text();
        assert.equal(r.status, 200, html);
        return html;
      };
      assert.match(await page(), /Hello, <!--lit-part-->world<!--\/lit-part-->!/);
      writeFileSync(file, original.replace('<h1>Hello, ', '<h1>Welcome, '));
      const edited = performance.now();
      let html = '';
      while (performance.now() - edited < 15_000) {
        html = await page();
        if (html.includes('Welcome, ')) break;
        await new Promise((r) => setTimeout(r, 50));
      }
      assert.match(html, /<h1>Welcome, <!--lit-part-->world/, `the edit never reached the page:\n${JSON.stringify(dev.output())}`);
      timings.devEditToPage = performance.now() - edited;
    } finally {
      await dev.stop();
      writeFileSync(file, original); // the next test builds the site as init wrote it
    }
  });

  test('npx atoll build, then atoll serve answers the route and the element module over HTTP', async () => {
    const build = await sh(site, 'npx', ['atoll', 'build']);
    assert.equal(build.code, 0, out(build));
    timings.build = build.ms;
    const server = await startServer(site, join(site, 'node_modules', '.bin', 'atoll'), ['serve', '--port', '0', '--host', '127.0.0.1', '--no-build']);
    const { base } = server;
    let stopped: ReturnType<typeof server.stop>;
    try {
      const page = await fetch(`${base}/`);
      const html = await page.text();
      assert.equal(page.status, 200, html);
      assert.match(html, /<hello-world atoll-key="[0-9a-z]+" name="world"[^>]*><template shadowrootmode="open">/);
      assert.match(html, /Hello, <!--lit-part-->world<!--\/lit-part-->!/);
      assert.match(html, /<!--lit-part-->Rendered on the server for \/, then/, 'the data() hook ran');
      const map = /<script type="importmap"[^>]*>(.*?)<\/script>/s.exec(html);
      assert.ok(map, 'the page has the import map');
      const moduleUrl = (JSON.parse(map[1]!) as { imports: Record<string, string> }).imports['@atoll/hello-world'];
      assert.ok(moduleUrl, 'hello-world is in the import map');
      const mod = await fetch(new URL(moduleUrl, base));
      assert.equal(mod.status, 200);
      assert.match(mod.headers.get('content-type') ?? '', /javascript/);
      assert.equal((await fetch(`${base}/nowhere`)).status, 404);
    } finally {
      stopped = server.stop();
    }
    const { code, signal } = await stopped;
    assert.equal(signal, null, server.output().stderr);
    assert.equal(code, 0, server.output().stderr);
    // What this suite spent where (shown by the spec reporter).
    console.log(`init suite timings (ms): ${JSON.stringify(Object.fromEntries(Object.entries(timings).map(([k, v]) => [k, Math.round(v)])))}`);
  });
});
