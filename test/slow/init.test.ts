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
import { execFile, spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { freshProject, packAtoll, REPO } from './pack.ts';

const run = promisify(execFile);

/** The environment of a user's shell: none of this repository's npm or test-runner settings. */
function userEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (k === 'NODE_OPTIONS' || k === 'NODE_TEST_CONTEXT' || /^npm_/i.test(k)) continue;
    env[k] = v;
  }
  return { ...env, NO_COLOR: '1' };
}

/** Runs a command; resolves with its exit code and output (never rejects on a non-zero exit). */
async function sh(cwd: string, command: string, args: string[], timeoutMs = 90_000): Promise<{ code: number; out: string; ms: number }> {
  const started = performance.now();
  try {
    const { stdout, stderr } = await run(command, args, { cwd, timeout: timeoutMs, maxBuffer: 64 << 20, env: userEnv() });
    return { code: 0, out: stdout + stderr, ms: performance.now() - started };
  } catch (e) {
    const err = e as { code?: number | string; stdout?: string; stderr?: string };
    return { code: typeof err.code === 'number' ? err.code : -1, out: (err.stdout ?? '') + (err.stderr ?? String(e)), ms: performance.now() - started };
  }
}

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
    assert.equal(init.code, 0, init.out);
    assert.match(init.out, /cd site\n {2}npm install\n {2}npm run dev/);
    site = join(project, 'site');
  });

  test('the two set-up commands install it (the tarball first, as Atoll is not on the registry)', async () => {
    const pkg = JSON.parse(readFileSync(join(site, 'package.json'), 'utf8'));
    assert.match(pkg.dependencies['atoll-ssr'], /^\^\d+\.\d+\.\d+/);
    const withTarball = await sh(site, 'npm', ['install', '--no-audit', '--no-fund', '--loglevel=error', tarball]);
    assert.equal(withTarball.code, 0, withTarball.out);
    const install = await sh(site, 'npm', ['install', '--no-audit', '--no-fund', '--loglevel=error']);
    assert.equal(install.code, 0, install.out);
    timings.install = withTarball.ms + install.ms;
  });

  test('npm test passes (the element test through atoll-ssr/testing and happy-dom)', async () => {
    const r = await sh(site, 'npm', ['test']);
    assert.equal(r.code, 0, r.out);
    assert.match(r.out, /# pass 2\n# fail 0/);
    timings.test = r.ms;
  });

  test("its TypeScript passes a strict check under its own tsconfig (Atoll's published types included)", async () => {
    const r = await sh(site, process.execPath, [join(REPO, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.json']);
    assert.equal(r.code, 0, r.out);
    timings.typecheck = r.ms;
  });

  test('npm run dev serves it, and an edit to the element is in the next page without a restart', async () => {
    const child = spawn('npm', ['run', 'dev', '--', '--port', '0', '--host', '127.0.0.1'], { cwd: site, env: userEnv(), stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d));
    child.stderr.on('data', (d: Buffer) => (out += d));
    const exited = new Promise<void>((res) => child.on('exit', () => res()));
    const file = join(site, 'elements', 'hello-world', 'index.ts');
    const original = readFileSync(file, 'utf8');
    try {
      const base = await new Promise<string>((res, rej) => {
        const timer = setTimeout(() => rej(new Error(`atoll dev did not start in 60 s:\n${out}`)), 60_000);
        const look = (): void => {
          const m = /http:\/\/127\.0\.0\.1:\d+/.exec(out);
          if (m) {
            clearTimeout(timer);
            res(m[0]);
          }
        };
        child.stdout.on('data', look);
        child.stderr.on('data', look);
        void exited.then(() => rej(new Error(`atoll dev exited:\n${out}`)));
      });
      const page = async (): Promise<string> => {
        for (let i = 0; i < 300; i++) {
          const r = await fetch(`${base}/`).catch(() => undefined);
          if (r?.status === 200) return r.text();
          await r?.text();
          await new Promise((r) => setTimeout(r, 100));
        }
        throw new Error(`atoll dev never answered / with 200:\n${out}`);
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
      assert.match(html, /<h1>Welcome, <!--lit-part-->world/, `the edit never reached the page:\n${out}`);
      timings.devEditToPage = performance.now() - edited;
    } finally {
      // npm run starts atoll in its own process: stop the whole group.
      try {
        process.kill(-child.pid!, 'SIGTERM');
      } catch {}
      writeFileSync(file, original); // the next test builds the site as init wrote it
    }
    await exited;
  });

  test('npx atoll build, then atoll serve answers the route and the element module over HTTP', async () => {
    const build = await sh(site, 'npx', ['atoll', 'build']);
    assert.equal(build.code, 0, build.out);
    timings.build = build.ms;
    const child = spawn(join(site, 'node_modules', '.bin', 'atoll'), ['serve', '--port', '0', '--host', '127.0.0.1', '--no-build'], {
      cwd: site,
      env: userEnv(),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d));
    child.stderr.on('data', (d: Buffer) => (stderr += d));
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((res) => child.on('exit', (code, signal) => res({ code, signal })));
    try {
      const base = await new Promise<string>((res, rej) => {
        const timer = setTimeout(() => rej(new Error(`serve did not start in 30 s:\n${stdout}\n${stderr}`)), 30_000);
        const look = (): void => {
          const m = /http:\/\/127\.0\.0\.1:\d+/.exec(stdout + stderr);
          if (m) {
            clearTimeout(timer);
            res(m[0]);
          }
        };
        child.stdout.on('data', look);
        child.stderr.on('data', look);
        void exited.then(() => rej(new Error(`serve exited:\n${stdout}\n${stderr}`)));
      });
      for (let i = 0; i < 150; i++) {
        const health = await fetch(`${base}/_atoll/health`).catch(() => undefined);
        if (health?.status === 200) break;
        await new Promise((r) => setTimeout(r, 200));
      }
      const page = await fetch(`${base}/`);
      const html = await page.text();
      assert.equal(page.status, 200, html);
      assert.match(html, /<hello-world name="world"[^>]*><template shadowrootmode="open">/);
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
      child.kill('SIGTERM');
    }
    const { code, signal } = await exited;
    assert.equal(signal, null, stderr);
    assert.equal(code, 0, stderr);
    // What this suite spent where (shown by the spec reporter).
    console.log(`init suite timings (ms): ${JSON.stringify(Object.fromEntries(Object.entries(timings).map(([k, v]) => [k, Math.round(v)])))}`);
  });
});
