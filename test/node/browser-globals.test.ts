/**
 * Element modules that touch browser globals when imported, and server-side
 * shims (`ssr.shims`, `elements.<tag>.shims`; docs/ssr-shims.md).
 *
 * The fixture test/fixtures/browser-globals has <bg-qr>, whose module
 * imports a CommonJS library reading `self` at import (as Shoelace's
 * <sl-qr-code> does through qr-creator), and <bg-media>, whose ES module
 * dependency reads `window`. Node 20 reports a throw in a CommonJS module
 * imported through ESM to the importer AND as an unhandled rejection
 * (nodejs/node#51603): without care, `atoll check` and `atoll serve` died with
 * a raw stack. They must report each module, exit 1, and never let Node see
 * an uncaught exception; with `ssr.shims` the elements render.
 *
 * Hostile modules (a throw of a string or a Proxy, process.exit, a top-level
 * await that never settles, shims that are missing or throw) are checked in
 * this process through loadSite: none may end or crash it.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { formatProblem, SiteError } from '../../ssr-server/errors.ts';
import { loadSite } from '../../ssr-server/site/load.ts';
import { fixture, layout, litElement, makeSite, repoRoot, runCli } from '../helpers.ts';

const FIXTURE = fixture('browser-globals');

/** What the process has before any shim is installed (this file's tests install them in-process). */
const ORIGINAL = {
  fetch: globalThis.fetch,
  EventTarget: globalThis.EventTarget,
  Event: globalThis.Event,
  CustomEvent: globalThis.CustomEvent,
  customElements: globalThis.customElements,
  atob: globalThis.atob,
};

/** The problems loadSite reports for a site, as `atoll check` prints them. */
async function problemsOf(root: string): Promise<string[]> {
  try {
    await loadSite({ root });
  } catch (e) {
    if (e instanceof SiteError) return e.problems.map(formatProblem);
    throw e;
  }
  return [];
}

/** No stack frames, no "uncaught", no Node crash banner. */
function assertNoCrash(output: string): void {
  assert.doesNotMatch(output, /^\s+at /m, `no stack trace:\n${output}`);
  assert.doesNotMatch(output, /uncaught|triggerUncaughtException|Node\.js v\d/i, `no uncaught exception:\n${output}`);
}

describe('atoll check and atoll serve: a module that reads browser globals at import', () => {
  test('check names each element and module, the global, and the shim option; exits 1 without a stack', async () => {
    const r = await runCli(['check', '--root', FIXTURE]);
    assert.equal(r.code, 1, r.stderr);
    assertNoCrash(r.stderr + r.stdout);
    const lines = r.stderr.trim().split('\n');
    assert.equal(lines.length, 3, r.stderr);
    assert.match(
      lines[0]!,
      /^test\/fixtures\/browser-globals\/elements\/bg-media\/index\.js: the element module threw while loading: ReferenceError: window is not defined \(element <bg-media>, module "\.\/elements\/bg-media\/index\.js"\), thrown at test\/fixtures\/browser-globals\/lib\/viewport\.mjs:3:\d+\. It reads the browser global "window", which Node does not have on the server; the "window" shim provides it: set "ssr": \{ "shims": true \} in atoll\.config \(see docs\/ssr-shims\.md\)$/,
    );
    assert.match(
      lines[1]!,
      /^test\/fixtures\/browser-globals\/elements\/bg-qr\/index\.js: the element module threw while loading: ReferenceError: self is not defined \(element <bg-qr>, module "\.\/elements\/bg-qr\/index\.js"\), thrown at test\/fixtures\/browser-globals\/lib\/qr-lib\.cjs:4:1\. It reads the browser global "self"/,
    );
    assert.equal(lines[2], 'atoll check: 2 problems found');
  });

  test('serve refuses to start with the same messages, and exits 1 without a stack', async () => {
    const r = await runCli(['serve', '--root', FIXTURE, '--port', '0', '--quiet']);
    assert.equal(r.code, 1, r.stderr);
    assertNoCrash(r.stderr + r.stdout);
    assert.match(r.stderr, /elements\/bg-qr\/index\.js: the element module threw while loading: ReferenceError: self is not defined \(element <bg-qr>/);
    assert.match(r.stderr, /elements\/bg-media\/index\.js: the element module threw while loading: ReferenceError: window is not defined \(element <bg-media>/);
    assert.match(r.stderr, /atoll serve: 2 problems found/);
    assert.doesNotMatch(r.stdout, /Atoll is serving/);
  });

  test('check passes with the documented shims (ssr.shims: true, and bg-media\'s own shim module)', async () => {
    const r = await runCli(['check', '--root', FIXTURE, '--config', 'shims.config.json']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'ok: 1 layout, 2 elements\n');
    assertNoCrash(r.stderr);
  });

  test('a module that starts work which fails unhandled (a fire-and-forget import, a timer that throws) is a start-up problem, not a crash', async () => {
    const root = makeSite({
      'layouts/index.html': layout('<x-late></x-late><x-timer></x-timer>'),
      // As Spectrum's focus-visible feature test does: on failure, import() a polyfill without handling its failure.
      'elements/x-late/index.ts': `${litElement('x-late')}\nimport('./polyfill.mjs');\n`,
      'elements/x-late/polyfill.mjs': "document.documentElement.classList.add('js-focus-visible');\n",
      'elements/x-timer/index.ts': `${litElement('x-timer')}\nsetTimeout(() => {\n  throw new RangeError('from a timer');\n}, 0);\n`,
    });
    for (const command of ['check', 'serve']) {
      const r = await runCli([command, '--root', root, ...(command === 'serve' ? ['--port', '0', '--quiet'] : [])]);
      assert.equal(r.code, 1, r.stderr);
      assertNoCrash(r.stderr + r.stdout);
      assert.match(
        r.stderr,
        /elements\/x-late\/polyfill\.mjs:1:1: while the site's modules were imported \(the last one started: <x-(late|timer)>\), a promise was rejected and nothing handled it: ReferenceError: document is not defined\. It reads the browser global "document"/,
      );
      assert.match(r.stderr, /elements\/x-timer\/index\.ts:\d+:\d+: while the site's modules were imported \(the last one started: <x-timer>\), a callback threw and nothing caught it: RangeError: from a timer\n/);
      assert.match(r.stderr, /atoll (check|serve): 2 problems found/);
    }
  });
});

describe('a built-in shim that cannot be installed', () => {
  test('a global made read-only by an earlier shim module: a problem at the built-in\'s config key, exit 1, no stack', async () => {
    const root = makeSite({
      'layouts/index.html': layout('<x-a></x-a>'),
      'atoll.config.json': '{ "ssr": { "shims": ["./shims/freeze.mjs", "window"] } }',
      'shims/freeze.mjs': "Object.defineProperty(globalThis, 'matchMedia', { value: undefined, configurable: false });\n",
      'elements/x-a/index.ts': litElement('x-a'),
    });
    const r = await runCli(['check', '--root', root]);
    assert.equal(r.code, 1, r.stderr);
    assertNoCrash(r.stderr);
    assert.equal(
      r.stderr,
      'atoll.config.json:1:44: ssr.shims[1]: the built-in "window" shim could not be installed: TypeError: Cannot redefine property: matchMedia\natoll check: 1 problem found\n',
    );
  });
});

describe('with ssr.shims, the elements render over real HTTP (two workers, each installs the shims)', () => {
  const copy = mkdtempSync(join(tmpdir(), 'atoll-browser-globals-'));
  cpSync(FIXTURE, copy, { recursive: true });
  after(() => rmSync(copy, { recursive: true, force: true }));

  test('atoll serve --workers 2 --config shims.config.json', { timeout: 180_000 }, async () => {
    const child = spawn(process.execPath, [join(repoRoot, 'bin', 'atoll.mjs'), 'serve', '--root', copy, '--config', 'shims.config.json', '--port', '0', '--workers', '2', '--quiet'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d));
    child.stderr.on('data', (d: Buffer) => (stderr += d));
    const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
    try {
      const url = await new Promise<string>((resolveUrl, reject) => {
        const timer = setInterval(() => {
          const m = /Atoll is serving .* at (http:\/\/127\.0\.0\.1:\d+)/.exec(stdout);
          if (m) {
            clearInterval(timer);
            resolveUrl(m[1]!);
          }
        }, 50);
        void exited.then((code) => {
          clearInterval(timer);
          reject(new Error(`serve exited with ${code}: ${stderr}`));
        });
      });
      // Several requests: the primary hands connections to both workers.
      for (let i = 0; i < 6; i++) {
        const res = await fetch(url + '/', { headers: { connection: 'close' } });
        assert.equal(res.status, 200);
        const html = await res.text();
        // "atoll" in hex by the CommonJS library that reads `self`.
        assert.match(html, /<bg-qr atoll-key="[0-9a-z]+" value="atoll"[^>]*><template shadowrootmode="open">.*<code class="qr"><!--lit-part-->61 74 6f 6c 6c<!--\/lit-part--><\/code>/s);
        // matchMedia from the "window" shim never matches; document.body is there (Spectrum's
        // :focus-visible test does not throw); the locale comes from bg-media's own shim module.
        assert.match(html, /<bg-media[^>]*><template shadowrootmode="open">.*narrow: <!--lit-part-->false<!--\/lit-part-->; focus-visible: <!--lit-part-->true<!--\/lit-part-->; locale: <!--lit-part-->en-GB<!--\/lit-part-->/s);
        assert.doesNotMatch(html, /atoll-fallback/);
      }
      assertNoCrash(stderr);
    } finally {
      child.kill('SIGTERM');
      await exited;
    }
  });
});

describe('hostile element and shim modules: problems, never a crash of this process', () => {
  test('a module that throws a string, a Proxy, a Proxy whose every trap throws', async () => {
    const trap = "() => { throw new Error('trap'); }";
    const root = makeSite({
      'layouts/index.html': layout('<x-str></x-str><x-proxy></x-proxy><x-traps></x-traps>'),
      'elements/x-str/index.ts': "throw 'not an error\\u0007 at all';\n",
      // Reads pass through to an Error; asking what it is (its prototype) throws.
      'elements/x-proxy/index.ts': `throw new Proxy(new Error('inside'), { getPrototypeOf: ${trap}, has: ${trap}, ownKeys: ${trap} });\n`,
      // Node itself reads the thrown value: what reaches Atoll is the trap's Error.
      'elements/x-traps/index.ts': `throw new Proxy({}, { get: ${trap}, getPrototypeOf: ${trap}, has: ${trap}, ownKeys: ${trap}, getOwnPropertyDescriptor: ${trap} });\n`,
    });
    const problems = await problemsOf(root);
    assert.deepEqual(problems.slice(0, 2), [
      `${join(root, 'elements/x-proxy/index.ts')}: the element module threw while loading: a Proxy object (not an Error) (element <x-proxy>, module "./elements/x-proxy/index.ts")`,
      `${join(root, 'elements/x-str/index.ts')}: the element module threw while loading: the string "not an error\\u0007 at all" (not an Error) (element <x-str>, module "./elements/x-str/index.ts")`,
    ]);
    assert.equal(problems.length, 3);
    assert.match(problems[2]!, /elements\/x-traps\/index\.ts(:\d+:\d+)?: the element module threw while loading: .*\(element <x-traps>, module "\.\/elements\/x-traps\/index\.ts"\)$/);
  });

  test('a module that calls process.exit while it is imported: refused and reported; process.exit works again afterwards', async () => {
    const exit = process.exit;
    const root = makeSite({
      'layouts/index.html': layout('<x-exit></x-exit>'),
      'elements/x-exit/index.ts': `${litElement('x-exit')}\nprocess.exit(3);\n`,
    });
    assert.deepEqual(await problemsOf(root), [
      `${join(root, 'elements/x-exit/index.ts')}: the element module (element <x-exit>, module "./elements/x-exit/index.ts") called process.exit(3) while it was imported: a module the server imports must not end the server's process (the call was refused)`,
    ]);
    assert.equal(process.exit, exit);
    assert.notEqual(process.exitCode, 3);
  });

  test('a module that swallows the refused process.exit is still reported; two sites loading at once leave process.exit as it was', async () => {
    const exit = process.exit;
    const sites = [0, 1].map((i) =>
      makeSite({
        'layouts/index.html': layout(`<x-sly${i}></x-sly${i}>`),
        [`elements/x-sly${i}/index.ts`]: `${litElement(`x-sly${i}`)}
try { process.exit(${i}); } catch {}
await new Promise((r) => setTimeout(r, ${30 * (2 - i)}));
`,
      }),
    );
    const [a, b] = await Promise.all(sites.map((root) => problemsOf(root)));
    assert.equal(a!.length, 1, a!.join('\n'));
    assert.equal(b!.length, 1, b!.join('\n'));
    assert.match(a![0]!, /\(element <x-sly0>, module "\.\/elements\/x-sly0\/index\.ts"\) called process\.exit\(\d\) while it was imported/);
    assert.match(b![0]!, /\(element <x-sly1>, module "\.\/elements\/x-sly1\/index\.ts"\) called process\.exit\(\d\) while it was imported/);
    assert.equal(process.exit, exit);
  });

  test('a module whose top-level await never settles: a start-up timeout (ssr.importTimeout)', async () => {
    const root = makeSite({
      'layouts/index.html': layout('<x-hang></x-hang><x-ok></x-ok>'),
      'atoll.config.json': '{ "ssr": { "importTimeout": "300ms" } }',
      'elements/x-hang/index.ts': `${litElement('x-hang')}\nawait new Promise(() => {});\n`,
      'elements/x-ok/index.ts': litElement('x-ok'),
    });
    const started = Date.now();
    assert.deepEqual(await problemsOf(root), [
      `${join(root, 'elements/x-hang/index.ts')}: the element module (element <x-hang>, module "./elements/x-hang/index.ts") did not finish importing within 300 ms (a top-level await that never settles?): the site cannot start; raise "ssr.importTimeout" if it is only slow`,
    ]);
    assert.ok(Date.now() - started < 5000);
  });

  test('a global that no built-in shim provides: the advice is a shim module of the site\'s own', async () => {
    const root = makeSite({
      'layouts/index.html': layout('<x-store></x-store>'),
      'atoll.config.json': '{ "ssr": { "shims": true } }',
      'elements/x-store/index.ts': `${litElement('x-store')}\nlocalStorage.getItem('k');\n`,
    });
    const [p, ...rest] = await problemsOf(root);
    assert.deepEqual(rest, []);
    assert.match(p!, /^.*elements\/x-store\/index\.ts:\d+:\d+: the element module threw while loading: ReferenceError: localStorage is not defined \(element <x-store>, module "\.\/elements\/x-store\/index\.ts"\)\. It reads the browser global "localStorage", which Node does not have on the server and Atoll's built-in shims do not provide: provide it with a shim module of your own in "ssr\.shims"/);
  });

  test('a member the shims do not have (window.scrollTo): the advice names the global and the member', async () => {
    const root = makeSite({
      'layouts/index.html': layout('<x-scroll></x-scroll>'),
      'atoll.config.json': '{ "ssr": { "shims": true } }',
      'elements/x-scroll/index.ts': `${litElement('x-scroll')}\nwindow.scrollTo(0, 0);\n`,
    });
    const problems = await problemsOf(root);
    assert.equal(problems.length, 1, problems.join('\n'));
    assert.match(problems[0]!, /the element module threw while loading: TypeError: window\.scrollTo is not a function \(element <x-scroll>, module "\.\/elements\/x-scroll\/index\.ts"\)\. On the server, "window" is a shim without "scrollTo": provide it with a shim module of your own in "ssr\.shims"/);
  });

  test('the built-in shims never replace what the process has (Node\'s fetch, EventTarget, Event; the customElements registry)', async () => {
    const root = makeSite({
      'layouts/index.html': layout('<x-keep></x-keep>'),
      'atoll.config.json': '{ "ssr": { "shims": ["window", "lit", "lit"] } }',
      'elements/x-keep/index.ts': litElement('x-keep'),
    });
    const site = await loadSite({ root });
    assert.deepEqual(site.warnings, []);
    const g = globalThis as unknown as Record<string, unknown>;
    for (const [name, value] of Object.entries(ORIGINAL)) assert.equal(g[name], value, name);
    assert.ok(ORIGINAL.customElements.get('x-keep'), 'the element is in the registry Atoll renders from');
    assert.equal(g.window, globalThis);
    assert.equal(g.self, globalThis);
    assert.equal(typeof g.HTMLElement, 'function');
    const doc = g.document as { body: { querySelector(s: string): unknown }; querySelectorAll(s: string): unknown[] };
    assert.equal(doc.body.querySelector(':focus-visible'), null);
    assert.deepEqual(doc.querySelectorAll('x'), []);
    assert.equal((g.matchMedia as (q: string) => { matches: boolean })('(min-width: 1px)').matches, false);
    let heard = 0;
    (g.addEventListener as EventTarget['addEventListener'])('x-ping', () => heard++);
    (g.dispatchEvent as EventTarget['dispatchEvent'])(new Event('x-ping'));
    assert.equal(heard, 1);
  });

  test('a shim module that does not exist, one that throws, one that hangs: problems at their config keys; no element module is imported', async () => {
    const root = makeSite({
      'layouts/index.html': layout('<x-a></x-a>'),
      'atoll.config.json': JSON.stringify({
        ssr: { shims: ['lit', './shims/missing.mjs', './shims/throws.mjs', './shims/hangs.mjs'], importTimeout: 300 },
        elements: { 'x-a': { shims: ['no-such-shim-package/install.js'] } },
      }, null, 2),
      'shims/throws.mjs': "throw new TypeError('the shim broke');\n",
      'shims/hangs.mjs': 'await new Promise(() => {});\n',
      'elements/x-a/index.ts': "globalThis.xAImported = true;\nthrow new Error('never imported');\n",
    });
    const problems = await problemsOf(root);
    assert.equal(problems.length, 4, problems.join('\n'));
    assert.match(problems[0]!, /^atoll\.config\.json:5:7: ssr\.shims\[1\]: cannot resolve the shim module "\.\/shims\/missing\.mjs" from .*: .*missing\.mjs does not exist$/);
    assert.match(problems[1]!, /^atoll\.config\.json:6:7: ssr\.shims\[2\]: the shim module threw while loading: TypeError: the shim broke \(module "\.\/shims\/throws\.mjs"\)$/);
    assert.match(problems[2]!, /^atoll\.config\.json:7:7: ssr\.shims\[3\]: the shim module \(module "\.\/shims\/hangs\.mjs"\) did not finish importing within 300 ms/);
    assert.match(problems[3]!, /^atoll\.config\.json:14:9: elements\.x-a\.shims\[0\]: cannot resolve the shim module "no-such-shim-package\/install\.js"/);
    assert.equal((globalThis as { xAImported?: boolean }).xAImported, undefined);
  });
});
