/**
 * The deploy side of independent deploys (issue 16, docs/deploys.md), in
 * child processes of bin/atoll.mjs as a team's CI would run them:
 *
 * - `atoll build --element <tag>`: server.mjs is one ES module that defines
 *   the element and exports its hooks, with packages (lit, atoll-ssr) left
 *   as bare imports and site code bundled in — it loads and defines the tag
 *   in a fresh Node; client.mjs has no import left and evaluates the hydrate
 *   support before Lit; the same source gives the same version; a version
 *   folder is never overwritten with other code; bad input is refused with
 *   a message that says what to do.
 * - `atoll import-map set|remove`: creates, edits and keeps the order of a
 *   map; refuses what the server would refuse; leaves a broken map alone;
 *   concurrent writers all land and a reader never sees half a map.
 * - examples/independent-deploys/demo.mjs: two deploys under load, served
 *   by `atoll serve` with the deploys runtime — no failed request, the new
 *   versions on pages within a poll interval.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { parseAst } from 'rollup/parseAst';
import { layout, makeSite, repoRoot, runCli } from '../helpers.ts';
import { freePort } from '../free-port.ts';
import { launch, type EngineBrowser } from './engines.ts';

const GREET = `import { LitElement, html } from 'lit';
import { label } from './label.js';

export class XGreet extends LitElement {
  static override properties = { name: {}, greeting: { attribute: false } };
  declare name: string;
  declare greeting: string;
  constructor() {
    super();
    this.name = 'world';
    this.greeting = label;
  }
  override render() {
    return html\`<p>\${this.greeting}, \${this.name}!</p>\`;
  }
}
customElements.define('x-greet', XGreet);
`;
const HOOKS = `import { notFound } from 'atoll-ssr';
import { label } from './label.js';

export const attributes = ['name'];
export function data(ctx: { attributes: Record<string, string> }) {
  if (ctx.attributes.name === 'nobody') notFound();
  return { greeting: label.toUpperCase() };
}
export function head() {
  return { title: 'Greeting' };
}
`;

/** A site with the element to build, one whose module throws on import, and a remote one. */
function greetSite(labelText = 'Hello'): string {
  return makeSite({
    'layouts/index.html': layout('<x-greet name="a"></x-greet>\n<x-broken></x-broken>'),
    'elements/x-greet/index.ts': GREET,
    'elements/x-greet/server.ts': HOOKS,
    'elements/x-greet/label.ts': `export const label: string = ${JSON.stringify(labelText)};\n`,
    'elements/x-broken/index.ts': `throw new Error('x-broken throws on import');\n`,
    'atoll.config.json': JSON.stringify({ elements: { 'x-remote': { url: 'http://127.0.0.1:9/fragment' } } }),
  });
}

const outDirs: string[] = [];
const freshDir = (prefix: string): string => {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  outDirs.push(dir);
  return dir;
};
after(() => {
  for (const d of outDirs) rmSync(d, { recursive: true, force: true });
});

/** The one version folder of `tag` under `out`. */
const versionsOf = (out: string, tag: string): string[] => (existsSync(join(out, tag)) ? readdirSync(join(out, tag)).filter((n) => !n.startsWith('.')) : []);

describe('atoll build --element', () => {
  const site = greetSite();
  const out = freshDir('atoll-element-out-');

  test('server.mjs: one module that defines the element and exports its hooks, packages left as imports', { timeout: 60_000 }, async () => {
    const r = await runCli(['build', '--root', site, '--element', 'x-greet', '--out', out, '--base-url', 'https://cdn.example/elements/'], { timeoutMs: 60_000 });
    assert.equal(r.code, 0, r.stderr);
    const [version] = versionsOf(out, 'x-greet');
    assert.match(version!, /^[0-9a-f]{12}$/, 'a content hash');
    assert.match(r.stdout, new RegExp(`built <x-greet> version ${version}`));
    const dir = join(out, 'x-greet', version!);
    assert.deepEqual(readdirSync(dir).sort(), ['client.mjs', 'entry.json', 'server.mjs']);
    assert.deepEqual(JSON.parse(readFileSync(join(dir, 'entry.json'), 'utf8')), {
      tag: 'x-greet',
      version,
      server: `https://cdn.example/elements/x-greet/${version}/server.mjs`,
      client: `https://cdn.example/elements/x-greet/${version}/client.mjs`,
    });

    const server = readFileSync(join(dir, 'server.mjs'), 'utf8');
    assert.deepEqual(moduleSources(server).sort(), ['atoll-ssr', 'lit'], 'packages stay bare imports (the serving site resolves them), and nothing relative is left: site code is bundled');
    assert.match(server, /const label = "Hello"/, 'the relative TypeScript import is bundled and compiled');
    assert.match(server, /^export \{ attributes, data, head \};$/m, 'the hooks re-exported');
    assert.doesNotMatch(server, /x-broken/, 'another element stays out');

    // It really is a module a server can load: in a fresh Node, from inside
    // the checkout (lit from its node_modules, atoll-ssr by self-reference).
    const scratch = join(repoRoot, '.scratch');
    mkdirSync(scratch, { recursive: true });
    const place = mkdtempSync(join(scratch, 'deploy-tools-'));
    outDirs.push(place);
    cpSync(join(dir, 'server.mjs'), join(place, 'server.mjs'));
    const probe = await node(
      ['--import', 'tsx', '--conditions', 'atoll-source', '--input-type=module', '-e',
        `const m = await import(${JSON.stringify(join(place, 'server.mjs'))});
         console.log(JSON.stringify({ exports: Object.keys(m).sort(), defined: customElements.get('x-greet')?.name, data: await m.data({ attributes: {} }), attributes: m.attributes }));`],
    );
    assert.equal(probe.code, 0, probe.stderr);
    assert.deepEqual(JSON.parse(probe.stdout), { exports: ['attributes', 'data', 'head'], defined: 'XGreet', data: { greeting: 'HELLO' }, attributes: ['name'] });

    const client = readFileSync(join(dir, 'client.mjs'), 'utf8');
    assert.deepEqual(moduleSources(client), [], 'client.mjs imports nothing: Lit and all are inside');
    assert.ok(!client.includes('\n//# sourceMappingURL'), 'no map reference to a file that is not uploaded');
    assert.ok(client.length < 60_000 && !/\n\s{2,}\S/.test(client.slice(0, 2000)), 'minified');
    const hydrate = client.indexOf('litElementHydrateSupport=');
    const litElement = client.indexOf('litElementVersions');
    assert.ok(hydrate > 0 && litElement > hydrate, 'the hydrate support is evaluated before LitElement');
    assert.ok(client.includes('customElements.define("x-greet"'), 'the element');
    assert.match(client, /export\s*\{\s*\w+ as atollDecode\s*\}/, 'the props decoder, as the client build\'s entries export it');
    assert.doesNotMatch(client, /HELLO|toUpperCase\(\)\s*\}|atoll-ssr|notFound/, 'no server hooks in the browser module');
  });

  test('the same source gives the same version; other code a new one; a given version is never overwritten', { timeout: 90_000 }, async () => {
    const again = await runCli(['build', '--root', site, '--element', 'x-greet', '--out', out, '--base-url', 'https://cdn.example/elements'], { timeoutMs: 60_000 });
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stdout, /^unchanged <x-greet> version [0-9a-f]{12}/);
    assert.equal(versionsOf(out, 'x-greet').length, 1, 'same source, same version folder');

    const other = greetSite('Bonjour');
    const changed = await runCli(['build', '--root', other, '--element', 'x-greet', '--out', out], { timeoutMs: 60_000 });
    assert.equal(changed.code, 0, changed.stderr);
    assert.equal(versionsOf(out, 'x-greet').length, 2, 'other code, another version');
    const newest = /version ([0-9a-f]{12})/.exec(changed.stdout)![1]!;
    // Without --base-url the URLs are relative: the import map resolves them against its own URL.
    assert.equal(JSON.parse(readFileSync(join(out, 'x-greet', newest, 'entry.json'), 'utf8')).server, `./x-greet/${newest}/server.mjs`);

    const named = await runCli(['build', '--root', site, '--element', 'x-greet', '--out', out, '--version', '1.0.0'], { timeoutMs: 60_000 });
    assert.equal(named.code, 0, named.stderr);
    assert.ok(existsSync(join(out, 'x-greet', '1.0.0', 'server.mjs')));
    const before = readFileSync(join(out, 'x-greet', '1.0.0', 'server.mjs'), 'utf8');
    const clash = await runCli(['build', '--root', other, '--element', 'x-greet', '--out', out, '--version', '1.0.0'], { timeoutMs: 60_000 });
    assert.equal(clash.code, 1);
    assert.match(clash.stderr, /already holds a different build under this version: versions are immutable/);
    assert.equal(readFileSync(join(out, 'x-greet', '1.0.0', 'server.mjs'), 'utf8'), before, 'the uploaded version is untouched');
    assert.deepEqual(readdirSync(join(out, 'x-greet')).filter((n) => n.startsWith('.')), [], 'no temporary folder left');
  });

  test('refusals say what to do', { timeout: 90_000 }, async () => {
    // (Every refused --version and --base-url form: test/node/deploy-tools.test.ts; here, that the command says them.)
    const cases: Array<[string[], RegExp, number]> = [
      [['--element', 'x-nope'], /the site has no element <x-nope>; its elements: x-broken, x-greet/, 1],
      [['--element', 'x-remote'], /<x-remote> is a remote element \(its markup comes from http:\/\/127\.0\.0\.1:9\/fragment\)/, 1],
      [['--element', 'x-greet', '--version', '../up'], /--version "\.\.\/up": use 1-64 letters, digits/, 1],
      [['--element', 'x-greet', '--base-url', 'https://cdn.example/a b'], /--base-url "https:\/\/cdn\.example\/a b": a space is not allowed/, 1],
      [['--version', '2'], /--version and --base-url go with --element TAG/, 2],
      // --out is a file (the last --out wins): the build's folder cannot be made.
      [['--element', 'x-greet', '--out', join(site, 'atoll.config.json')], /cannot write .*atoll\.config\.json\/x-greet\/[0-9a-f]{12} \(.*\): ENOTDIR — give --out a folder you can write to/, 1],
    ];
    const results = await Promise.all(cases.map(([args]) => runCli(['build', '--root', site, '--out', out, ...args], { timeoutMs: 60_000 })));
    results.forEach((r, i) => {
      const [args, expected, code] = cases[i]!;
      assert.equal(r.code, code, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, expected, args.join(' '));
      assert.doesNotMatch(r.stderr, /\n\s+at /, `${args.join(' ')}: a message, not a stack`);
    });

    // A compile error points at the file, line and column; a Node built-in in the browser module is named.
    const broken = greetSite();
    writeFileSync(join(broken, 'elements/x-greet/label.ts'), 'export const label: string = ;\n');
    const syntax = await runCli(['build', '--root', broken, '--element', 'x-greet', '--out', freshDir('atoll-element-bad-')], { timeoutMs: 60_000 });
    assert.equal(syntax.code, 1);
    assert.match(syntax.stderr, /elements\/x-greet\/label\.ts:1:30: Unexpected ";"/);
    writeFileSync(join(broken, 'elements/x-greet/label.ts'), "import { hostname } from 'node:os';\nexport const label = hostname();\n");
    const builtin = await runCli(['build', '--root', broken, '--element', 'x-greet', '--out', freshDir('atoll-element-bad-')], { timeoutMs: 60_000 });
    assert.equal(builtin.code, 1);
    assert.match(builtin.stderr, /label\.ts imports "node:os", a Node built-in: browser bundles cannot include it/);
  });
});

describe('atoll import-map set and remove', () => {
  const dir = freshDir('atoll-map-');
  const map = join(dir, 'importmap.json');
  const im = (...args: string[]) => runCli(['import-map', ...args, '--map', map]);
  const url = (tag: string, v: string, which: string) => `https://cdn.example/${tag}/${v}/${which}.mjs`;

  test('creates the map, adds, replaces in place, removes; 2-space JSON in the file\'s order', { timeout: 60_000 }, async () => {
    const a = await im('set', 'team-a', '--server', url('team-a', '1', 'server'), '--client', url('team-a', '1', 'client'));
    assert.equal(a.code, 0, a.stderr);
    assert.match(a.stdout, /^added <team-a> in /);
    const b = await im('set', 'team-b', '--server', './team-b/1/server.mjs', '--client', './team-b/1/client.mjs');
    assert.equal(b.code, 0, b.stderr);
    const a2 = await im('set', 'team-a', '--server', url('team-a', '2', 'server'), '--client', url('team-a', '2', 'client'));
    assert.equal(a2.code, 0, a2.stderr);
    assert.match(a2.stdout, /set <team-a>[\s\S]*\(was server https:\/\/cdn\.example\/team-a\/1\/server\.mjs/);
    assert.equal(
      readFileSync(map, 'utf8'),
      JSON.stringify({ elements: { 'team-a': { server: url('team-a', '2', 'server'), client: url('team-a', '2', 'client') }, 'team-b': { server: './team-b/1/server.mjs', client: './team-b/1/client.mjs' } } }, null, 2) + '\n',
      'team-a replaced where it was, team-b after it',
    );
    const same = await im('set', 'team-a', '--server', url('team-a', '2', 'server'), '--client', url('team-a', '2', 'client'));
    assert.equal(same.code, 0);
    assert.match(same.stdout, /unchanged/);
    const removed = await im('remove', 'team-a');
    assert.equal(removed.code, 0, removed.stderr);
    assert.deepEqual(Object.keys(JSON.parse(readFileSync(map, 'utf8')).elements), ['team-b']);
    const missing = await im('remove', 'team-a');
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /has no <team-a> \(its elements: team-b\)/);
    assert.deepEqual(readdirSync(dir).sort(), ['importmap.json'], 'no temporary or lock file left');
  });

  test('--entry takes what atoll build --element wrote, for its own tag only', { timeout: 30_000 }, async () => {
    const entry = join(dir, 'entry.json');
    writeFileSync(entry, JSON.stringify({ tag: 'team-c', version: 'abc', server: './team-c/abc/server.mjs', client: './team-c/abc/client.mjs' }));
    const ok = await im('set', 'team-c', '--entry', entry);
    assert.equal(ok.code, 0, ok.stderr);
    assert.equal(JSON.parse(readFileSync(map, 'utf8')).elements['team-c'].client, './team-c/abc/client.mjs');
    const [wrong, both] = await Promise.all([
      im('set', 'team-d', '--entry', entry),
      im('set', 'team-c', '--entry', entry, '--server', 'https://x.example/s.mjs'),
    ]);
    assert.equal(wrong.code, 1);
    assert.match(wrong.stderr, /is the build of <team-c>, not <team-d>/);
    assert.equal(both.code, 2);
    assert.match(both.stderr, /give --entry, or --server and --client, not both/);
  });

  test('what the server would refuse is never written; a broken map is left as it is', { timeout: 60_000 }, async () => {
    const before = readFileSync(map, 'utf8');
    const cases: Array<[string[], RegExp, number]> = [
      [['set', 'team-e', '--server', 'https://cdn.example/s.mjs', '--client', 'file:///srv/c.mjs'], /elements\.team-e\.client: "file:\/\/\/srv\/c\.mjs" is a file: URL, which a browser cannot load/, 1],
      [['set', 'team-e', '--server', 'https://cdn.example/s.mjs', '--client', 'https://cdn.example/c .mjs'], /--client "https:\/\/cdn\.example\/c \.mjs": a space is not allowed/, 1],
      [['set', 'team-e', '--server', 'data:text/javascript,1', '--client', 'https://cdn.example/c.mjs'], /--server "data:text\/javascript,1": "data:" URLs cannot hold modules/, 1],
      [['set', 'Team-E', '--server', 'https://cdn.example/s.mjs', '--client', 'https://cdn.example/c.mjs'], /"Team-E" is not a custom element name/, 1],
      [['set', 'team-e', '--server', 'https://cdn.example/s.mjs'], /set needs --server URL and --client URL/, 2],
      [['move', 'team-e'], /unknown action "move"/, 2],
    ];
    const results = await Promise.all(cases.map(([args]) => im(...args)));
    results.forEach((r, i) => {
      const [args, expected, code] = cases[i]!;
      assert.equal(r.code, code, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, expected, args.join(' '));
    });
    assert.equal(readFileSync(map, 'utf8'), before, 'the map is untouched');

    const broken = join(dir, 'broken.json');
    const text = '{\n  "elements": {\n    "team-a": { "server": "https://cdn.example/s.mjs" }\n  }\n}\n';
    writeFileSync(broken, text);
    const r = await runCli(['import-map', 'set', 'team-b', '--server', 'https://cdn.example/b.mjs', '--client', 'https://cdn.example/c.mjs', '--map', broken]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /broken\.json:3:15: elements\.team-a: has no "client"/);
    assert.match(r.stderr, /nothing was written; fix it first/);
    assert.equal(readFileSync(broken, 'utf8'), text);
  });

  test('a lock left by a writer that died is taken over; a file too big to be a map is refused', { timeout: 30_000 }, async () => {
    const folder = freshDir('atoll-map-lock-');
    const target = join(folder, 'importmap.json');
    // A dead writer's lock: a process id that is not running on this host.
    writeFileSync(join(folder, '.importmap.json.lock'), `999999999 ${hostname()} ${Date.now()}\n`);
    const huge = join(folder, 'huge.json');
    writeFileSync(huge, '{"elements":{}}' + ' '.repeat(5 * 1024 * 1024));
    const [taken, big] = await Promise.all([
      runCli(['import-map', 'set', 'team-a', '--server', url('team-a', '1', 'server'), '--client', url('team-a', '1', 'client'), '--map', target]),
      runCli(['import-map', 'set', 'team-a', '--server', url('team-a', '1', 'server'), '--client', url('team-a', '1', 'client'), '--map', huge]),
    ]);
    assert.equal(taken.code, 0, taken.stderr);
    assert.deepEqual(readdirSync(folder).sort(), ['huge.json', 'importmap.json'], 'the stale lock is gone with ours');
    assert.equal(big.code, 1);
    assert.match(big.stderr, /huge\.json is \d+ bytes: more than an import map should be/);
  });

  test('concurrent writers all land, and a reader never sees half a map', { timeout: 60_000 }, async () => {
    const shared = join(freshDir('atoll-map-race-'), 'importmap.json');
    const tags = Array.from({ length: 6 }, (_, i) => `team-${String.fromCharCode(97 + i)}`);
    let reads = 0;
    let torn = 0;
    let reading = true;
    const reader = (async () => {
      while (reading) {
        try {
          JSON.parse(readFileSync(shared, 'utf8'));
          reads++;
        } catch (e) {
          if ((e as NodeJS.ErrnoException).code !== 'ENOENT') torn++;
        }
        await new Promise((r) => setImmediate(r));
      }
    })();
    const results = await Promise.all(
      tags.map((tag) => runCli(['import-map', 'set', tag, '--server', url(tag, '1', 'server'), '--client', url(tag, '1', 'client'), '--map', shared], { timeoutMs: 45_000 })),
    );
    reading = false;
    await reader;
    results.forEach((r, i) => assert.equal(r.code, 0, `${tags[i]}: ${r.stderr}`));
    assert.equal(torn, 0, `every read of the map parsed (${reads} reads)`);
    const final = JSON.parse(readFileSync(shared, 'utf8')) as { elements: Record<string, { server: string }> };
    assert.deepEqual(Object.keys(final.elements).sort(), tags, 'no writer lost another\'s entry');
    assert.deepEqual(readdirSync(join(shared, '..')), ['importmap.json'], 'no lock or temporary file left');
  });
});

/** Every module specifier a module imports or re-exports from (static and dynamic), parsed. */
function moduleSources(code: string): string[] {
  const found: string[] = [];
  const walk = (node: unknown): void => {
    if (Array.isArray(node)) return node.forEach(walk);
    if (typeof node !== 'object' || node === null) return;
    const n = node as { type?: string; source?: { value?: unknown } | null };
    if (/^(ImportDeclaration|ExportAllDeclaration|ExportNamedDeclaration|ImportExpression)$/.test(n.type ?? '') && n.source != null) {
      found.push(typeof n.source.value === 'string' ? n.source.value : '(computed)');
    }
    for (const value of Object.values(node)) if (typeof value === 'object') walk(value);
  };
  walk(parseAst(code));
  return found;
}

/** Runs `node` with `args` in the checkout; resolves with its exit code and output. */
function node(args: string[], env: Record<string, string> = {}, timeoutMs = 60_000): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolvePromise) => {
    const child = spawn(process.execPath, args, { cwd: repoRoot, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d));
    child.stderr.on('data', (d: Buffer) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolvePromise({ code, stdout, stderr });
    });
  });
}

test('a version built by atoll build --element hydrates in Chromium beside the site\'s own elements', { timeout: 90_000 }, async () => {
  const example = join(repoRoot, 'examples', 'independent-deploys');
  const cdnDir = freshDir('atoll-example-cdn-');
  const [cdnPort, port] = [await freePort(), await freePort()];
  const children: ChildProcess[] = [];
  const start = (args: string[], env: Record<string, string>, ready: RegExp): Promise<ChildProcess> =>
    new Promise((resolvePromise, reject) => {
      const child = spawn(process.execPath, args, { cwd: repoRoot, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
      children.push(child);
      let out = '';
      const onData = (d: Buffer): void => {
        out += d;
        if (ready.test(out)) resolvePromise(child);
      };
      child.stdout!.on('data', onData);
      child.stderr!.on('data', onData);
      child.on('exit', (code) => reject(new Error(`${args.join(' ')} exited (${code}): ${out}`)));
    });
  let browser: EngineBrowser | undefined;
  try {
    await start([join(example, 'cdn.mjs'), '--dir', cdnDir, '--port', String(cdnPort), '--quiet'], {}, /CDN: serving/);
    const deployed = await node([join(example, 'deploy.mjs'), 'browser-check'], { CDN_DIR: cdnDir });
    assert.equal(deployed.code, 0, deployed.stdout + deployed.stderr);
    const version = /as version ([0-9a-f]{12})/.exec(deployed.stdout)![1]!;
    await start([join(repoRoot, 'bin', 'atoll.mjs'), 'serve', '--root', example, '--port', String(port)], { CDN_URL: `http://127.0.0.1:${cdnPort}` }, /Atoll is serving/);
    browser = await launch('chromium');
    const page = await browser.newPage();
    assert.equal(await page.goto(`http://127.0.0.1:${port}/`), 200);
    const state = await page.evaluate(async () => {
      const el = document.querySelector('team-greeting')!;
      const text = (): string => el.shadowRoot!.querySelector('p')!.textContent!.replace(/\s+/g, ' ').trim();
      const rendered = text();
      // Hydrated: the button works (a click before hydration does nothing).
      for (let i = 0; i < 100 && !text().includes('clicked 1'); i++) {
        if (!el.hasAttribute('defer-hydration') && customElements.get('team-greeting') !== undefined) el.shadowRoot!.querySelector('button')!.click();
        await new Promise((r) => setTimeout(r, 50));
      }
      const map = JSON.parse(document.querySelector('script[type="importmap"]')!.textContent!) as { imports: Record<string, string> };
      return {
        rendered,
        after: text(),
        client: map.imports['@atoll/team-greeting'],
        header: customElements.get('site-header') !== undefined && document.querySelector('site-header')!.shadowRoot !== null,
      };
    });
    assert.equal(state.rendered, 'Hello from release browser-check, visitor! (release browser-check) clicked 0', 'server-rendered with its data() hook');
    assert.equal(state.after, 'Hello from release browser-check, visitor! (release browser-check) clicked 1', 'hydrated by its client.mjs: the click counts');
    assert.equal(state.client, `http://127.0.0.1:${cdnPort}/team-greeting/${version}/client.mjs`);
    assert.ok(state.header, 'the site\'s own element is defined too (two copies of Lit on one page)');
    assert.deepEqual(await page.errors(), [], 'no error in the page (no hydration mismatch)');
  } finally {
    await browser?.close();
    for (const c of children) c.kill('SIGTERM');
    await Promise.all(children.map((c) => (c.exitCode !== null ? undefined : new Promise((r) => c.once('exit', r)))));
  }
});

test('examples/independent-deploys: two deploys under load, no failed request, each live within a poll interval', { timeout: 110_000 }, async () => {
  const [cdnPort, port] = [await freePort(), await freePort()];
  const r = await node([join(repoRoot, 'examples', 'independent-deploys', 'demo.mjs')], { CDN_PORT: String(cdnPort), PORT: String(port) }, 100_000);
  const out = r.stdout + r.stderr;
  assert.equal(r.code, 0, out);
  assert.match(out, /deployed <team-greeting> release v1/);
  assert.match(out, / 0 failed; latency/);
  assert.match(out, /release v2: \d+ pages/);
  assert.match(out, /release v3: \d+ pages/);
  assert.match(out, /every page imported the client module of the release its server HTML came from/);
  // pollInterval is 1 s; then the new generation loads and is probed in a worker, on a machine that also runs the load and the build: seconds, not more.
  for (const release of ['v2', 'v3']) {
    const ms = Number(new RegExp(`${release}: on pages (\\d+) ms after its import map was written`).exec(out)?.[1]);
    assert.ok(ms >= 0 && ms < 8000, `${release} live after ${ms} ms\n${out}`);
  }
});
