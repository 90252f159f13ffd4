/**
 * Atoll as a user gets it (issue 12 item 1): `npm pack`, then the tarball and
 * `lit` installed with `--omit=dev` into a new project made the way
 * `npm init -y` makes one with npm 11 (`"type": "commonjs"`), holding a small
 * TypeScript site (a Lit element with standard decorators, a `data()` hook
 * importing from 'atoll-ssr', a layout). The installed `atoll` command
 * checks, builds, serves (real HTTP) and renders it; plain Node imports the
 * package (ESM and require); a strict TypeScript check (no skipLibCheck)
 * of a file using the public types passes. Nothing else is installed.
 */
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, renameSync, statSync, writeFileSync, mkdirSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { before, describe, test } from 'node:test';
import { bundleScript } from '../../ssr-server/build/script.ts';
import { freshProject, packAtollInfo, REPO, sh, startServer, type PackedAtoll } from './pack.ts';

/** The site: one Lit element (standard decorators, `accessor`) with server hooks, one layout. */
const SITE: Record<string, string> = {
  'layouts/index.html': `<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>Packed Atoll</title>
  <atoll-head></atoll-head>
</head>
<body>
  <hello-card name="packed" primary hydrate="load"></hello-card>
</body>
</html>
`,
  'elements/hello-card/index.ts': `import { LitElement, css, html } from 'lit';
import { customElement, property } from 'lit/decorators.js';

@customElement('hello-card')
export class HelloCard extends LitElement {
  static styles = css\`p { color: rebeccapurple; }\`;
  @property() accessor name = 'world';
  @property({ type: Number }) accessor count = 0;
  render() {
    return html\`<p>Hello, \${this.name}! <button @click=\${() => this.count++}>\${this.count}</button></p>\`;
  }
}
`,
  // notFound() must throw the engine's own HttpSignal: the same module instance as the running Atoll.
  'elements/hello-card/server.ts': `import { notFound, type ElementContext } from 'atoll-ssr';

export function data(ctx: ElementContext): { count: number } {
  if (ctx.query.get('card') === 'missing') throw notFound('no such card');
  return { count: 41 };
}
`,
  'tsconfig.json': JSON.stringify({ compilerOptions: { target: 'ES2022', module: 'nodenext', strict: true } }, null, 2),
  // Plain Node, no loader: the package's ES modules and its programmatic API.
  'render.mjs': `import { createAtoll, silentLogger } from 'atoll-ssr';
const atoll = await createAtoll({ root: process.cwd(), logger: silentLogger });
for (const path of ['/', '/?card=missing']) {
  const page = await atoll.render(path);
  console.log(JSON.stringify({ path, status: page.status, dsd: /<hello-card[^>]*><template shadowrootmode="open">/.test(page.html) }));
}
`,
  // A strict consumer: the options of TypeScript 5.9's \`tsc --init\`, but with the libraries' .d.ts checked too.
  'types-check/tsconfig.json': JSON.stringify(
    {
      compilerOptions: {
        module: 'nodenext',
        moduleResolution: 'nodenext',
        target: 'esnext',
        types: [],
        noEmit: true,
        strict: true,
        skipLibCheck: false,
        noUncheckedIndexedAccess: true,
        exactOptionalPropertyTypes: true,
        verbatimModuleSyntax: true,
        isolatedModules: true,
        noUncheckedSideEffectImports: true,
        moduleDetection: 'force',
      },
      files: ['use.mts'],
    },
    null,
    2,
  ),
  'types-check/use.mts': `import { createAtoll, listen, notFound, type Atoll, type AtollConfig, type ElementContext, type ServerHooks } from 'atoll-ssr';

export function data(ctx: ElementContext): { id: string } {
  const id = ctx.params['id'] ?? ctx.query.get('id');
  if (id === null) throw notFound('no id');
  return { id };
}

export const hooks: ServerHooks = { data };
export const config: AtollConfig = {};

export async function start(root: string): Promise<string> {
  const atoll: Atoll = await createAtoll({ root });
  const page = await atoll.render('/');
  const status: number = page.status;
  const running = await listen(atoll, { port: 0, host: '127.0.0.1' });
  await running.close();
  return \`\${running.url} \${status}\`;
}
`,
};

/** The files of `dir`, relative, recursively. */
function walk(dir: string, base = dir): string[] {
  return readdirSync(dir).flatMap((name) => {
    const full = join(dir, name);
    return statSync(full).isDirectory() ? walk(full, base) : [relative(base, full).split('\\').join('/')];
  });
}

describe('the packed package, installed with --omit=dev into an `npm init -y` project', () => {
  let pack: PackedAtoll;
  let project: string;
  let atollBin: string;
  let installMs = 0;

  before(async () => {
    pack = await packAtollInfo();
    const started = performance.now();
    // What `npm init -y` writes with npm 11.
    project = await freshProject({
      packageJson: { name: 'site', version: '1.0.0', main: 'index.js', scripts: { test: 'echo "Error: no test specified" && exit 1' }, keywords: [], author: '', license: 'ISC', type: 'commonjs', description: '' },
      extra: ['lit@3.3.3'],
      omitDev: true,
    });
    installMs = performance.now() - started;
    for (const [path, content] of Object.entries(SITE)) {
      mkdirSync(dirname(join(project, path)), { recursive: true });
      writeFileSync(join(project, path), content);
    }
    atollBin = join(project, 'node_modules', '.bin', 'atoll');
    process.stdout.write(
      `npm pack: ${(pack.size / 1024).toFixed(0)} KB tarball, ${pack.files.length} files, ${(pack.unpackedSize / 1024).toFixed(0)} KB unpacked, ` +
        `${(pack.ms / 1000).toFixed(1)} s (prepack build included); npm install --omit=dev: ${(installMs / 1000).toFixed(1)} s\n`,
    );
  });

  test('the installed package is compiled JavaScript with types and maps, the files read at run time, and nothing else', () => {
    const pkgDir = join(project, 'node_modules', 'atoll-ssr');
    const files = walk(pkgDir);
    const ts = files.filter((f) => /\.[cm]?tsx?$/.test(f) && !/\.d\.[cm]?ts$/.test(f));
    assert.deepEqual(ts, [], 'no TypeScript source ships (only .d.ts)');
    const top = new Set(files.map((f) => f.split('/')[0]!));
    for (const entry of top) assert.ok(['package.json', 'README.md', 'LICENSE', 'bin', 'dist', 'schema'].includes(entry), `unexpected ${entry} in the package`);
    assert.deepEqual(files.filter((f) => /(^|\/)(test|tests|fixtures|bench|examples)\//.test(f)), [], 'no tests, fixtures or benchmarks');
    for (const f of files.filter((f) => f.endsWith('.js') && f.startsWith('dist/') && !f.startsWith('dist/browser/'))) {
      assert.ok(files.includes(`${f}.map`), `${f} has a source map`);
      assert.ok(files.includes(f.replace(/\.js$/, '.d.ts')), `${f} has its .d.ts`);
    }
    // The browser scripts, prebuilt by rollup.config.mjs, and the module hooks (plain JavaScript).
    for (const f of ['dist/browser/loader.iife.js', 'dist/browser/embed.es.js', 'dist/browser/router.es.js', 'dist/ssr-server/site/resolve-hooks.mjs', 'bin/atoll.mjs']) {
      assert.ok(files.includes(f), `${f} ships`);
    }
    // Every file a compiled module finds next to itself with new URL('…', import.meta.url) is there.
    for (const f of files.filter((f) => /^dist\/.*\.m?js$/.test(f))) {
      const code = readFileSync(join(pkgDir, f), 'utf8');
      for (const m of code.matchAll(/new URL\(\s*(['"`])(\.{1,2}\/[^'"`$]*)\1\s*,\s*import\.meta\.url\s*\)/g)) {
        assert.ok(existsSync(join(pkgDir, dirname(f), m[2]!)), `${f} reads ${m[2]}, which is not in the package`);
      }
    }
    // Every export target (but the checkout's "atoll-source") exists.
    const manifest = JSON.parse(readFileSync(join(pkgDir, 'package.json'), 'utf8')) as { exports: Record<string, string | Record<string, string>> };
    for (const [subpath, target] of Object.entries(manifest.exports)) {
      const targets = typeof target === 'string' ? { default: target } : target;
      for (const [condition, path] of Object.entries(targets)) {
        if (condition === 'atoll-source') continue;
        assert.ok(existsSync(join(pkgDir, path)), `exports["${subpath}"].${condition}: ${path} is missing`);
      }
    }
    // The run time needs nothing of the devDependencies; the testing kit's peers are optional and not installed.
    for (const dev of ['typescript', 'happy-dom', '@web/test-runner', 'puppeteer-core']) {
      assert.ok(!existsSync(join(project, 'node_modules', dev)), `${dev} was installed`);
    }
  });

  test('atoll check', async () => {
    const r = await sh(project, atollBin, ['check']);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /ok: 1 layout, 1 element/);
  });

  test('atoll build: the element bundle, and the prebuilt loader, embed.js and router as the checkout builds them', async () => {
    const r = await sh(project, atollBin, ['build']);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    const out = join(project, '.atoll', 'client');
    const manifest = JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8')) as {
      loader: string;
      embed: string;
      router: string;
      elements: Record<string, { file?: string }>;
      inputs: { files: string[] };
    };
    assert.ok(manifest.elements['hello-card']?.file, 'hello-card is built');
    // The files the build records for staleness exist (else every build of an installed Atoll has "missing" inputs).
    const pkgDir = join(project, 'node_modules', 'atoll-ssr');
    for (const key of manifest.inputs.files) {
      const atoll = /^atoll:(.*)$/.exec(key);
      const found = atoll ? existsSync(join(pkgDir, atoll[1]!)) || existsSync(join(pkgDir, 'dist', atoll[1]!)) : existsSync(join(project, key));
      assert.ok(found, `the build's input ${key} does not exist`);
    }
    const [loader, embed, router] = await Promise.all([
      bundleScript(join(REPO, 'islands', 'loader.ts'), 'iife'),
      bundleScript(join(REPO, 'islands', 'embed.ts'), 'es'),
      bundleScript(join(REPO, 'islands', 'router.ts'), 'es'),
    ]);
    assert.equal(readFileSync(join(out, manifest.loader), 'utf8'), loader.code, 'the installed loader is the one the checkout builds');
    assert.equal(readFileSync(join(out, manifest.embed), 'utf8'), embed.code, 'the installed embed.js is the one the checkout builds');
    assert.ok(manifest.router, 'the build has the client router');
    assert.equal(readFileSync(join(out, manifest.router), 'utf8'), router.code, 'the installed router is the one the checkout builds');
  });

  test('atoll serve: a real HTTP request gets the server-rendered element and its module; SIGTERM ends it cleanly', async () => {
    const server = await startServer(project, atollBin, ['serve', '--port', '0', '--host', '127.0.0.1']);
    const { base } = server;
    let stopped: ReturnType<typeof server.stop>;
    try {
      const page = await fetch(`${base}/`);
      const html = await page.text();
      assert.equal(page.status, 200, html);
      assert.match(html, /<hello-card atoll-key="[0-9a-z]+" name="packed"[^>]*><template shadowrootmode="open"><style>p \{ color: rebeccapurple; \}<\/style>/);
      assert.match(html, /Hello, <!--lit-part-->packed<!--\/lit-part-->!/);
      assert.match(html, /<!--lit-part-->41<!--\/lit-part-->/, 'the data() hook ran');
      const map = /<script type="importmap"[^>]*>(.*?)<\/script>/s.exec(html);
      assert.ok(map, 'the page has the import map');
      const moduleUrl = (JSON.parse(map[1]!) as { imports: Record<string, string> }).imports['@atoll/hello-card'];
      assert.ok(moduleUrl, 'hello-card is in the import map');
      const mod = await fetch(new URL(moduleUrl, base));
      assert.equal(mod.status, 200);
      assert.match(mod.headers.get('content-type') ?? '', /javascript/);
      assert.match(await mod.text(), /hello-card/);
      // The site's notFound() from 'atoll-ssr' is the engine's own signal: a 404, not a failed element.
      const missing = await fetch(`${base}/?card=missing`);
      await missing.text();
      assert.equal(missing.status, 404);
    } finally {
      stopped = server.stop();
    }
    const { code, signal } = await stopped;
    const { stderr } = server.output();
    assert.equal(signal, null, `serve ended by ${signal}:\n${stderr}`);
    assert.equal(code, 0, stderr);
    assert.doesNotMatch(stderr, /"level":"(error|fatal)"/, stderr);
  });

  test('atoll serve with a server import map: the installed engine renders the map\'s element in a generation worker and swaps to a new version without a restart', async () => {
    const site = join(project, 'deploys-site');
    const team = (v: number): string =>
      `import { LitElement, html } from 'lit';\ncustomElements.define('team-x', class extends LitElement { render() { return html\`<p>team version ${v}</p>\`; } });\n`;
    const map = (v: number): string =>
      JSON.stringify({ elements: { 'team-x': { server: `./team/v${v}.mjs`, client: `http://127.0.0.1:9/team-x/${v}/client.mjs` } } });
    mkdirSync(join(site, 'layouts'), { recursive: true });
    mkdirSync(join(site, 'team'), { recursive: true });
    writeFileSync(join(site, 'package.json'), '{ "type": "module" }\n');
    writeFileSync(join(site, 'layouts', 'index.html'), '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>d</title><atoll-head></atoll-head></head><body><team-x></team-x></body></html>\n');
    writeFileSync(join(site, 'team', 'v1.mjs'), team(1));
    writeFileSync(join(site, 'team', 'v2.mjs'), team(2));
    writeFileSync(join(site, 'map.json'), map(1));
    writeFileSync(join(site, 'atoll.config.json'), JSON.stringify({ deploys: { importMap: './map.json', allow: ['http://127.0.0.1:9'], pollInterval: '1s' } }));
    const server = await startServer(site, atollBin, ['serve', '--port', '0', '--host', '127.0.0.1']);
    let stopped: ReturnType<typeof server.stop>;
    try {
      const html = async (): Promise<string> => (await fetch(`${server.base}/`)).text();
      const first = await html();
      assert.match(first, /team version <!--lit-part-->1|team version 1/, first);
      assert.match(first, /"@atoll\/team-x":"http:\/\/127\.0\.0\.1:9\/team-x\/1\/client\.mjs"/, 'the browser import map names version 1');
      writeFileSync(join(site, 'map.json.tmp'), map(2));
      renameSync(join(site, 'map.json.tmp'), join(site, 'map.json'));
      let page = await html();
      for (let waited = 0; !page.includes('team version 2') && waited < 30_000; waited += 200) {
        await new Promise((r) => setTimeout(r, 200));
        page = await html();
      }
      assert.match(page, /team version 2/, `version 2 within a poll and a worker's start:\n${server.output().stderr}`);
      assert.match(page, /"@atoll\/team-x":"http:\/\/127\.0\.0\.1:9\/team-x\/2\/client\.mjs"/);
    } finally {
      stopped = server.stop();
    }
    const { code } = await stopped;
    const { stderr } = server.output();
    assert.equal(code, 0, stderr);
    assert.doesNotMatch(stderr, /"level":"(error|fatal)"/, stderr);
    assert.match(stderr, /deploys: a new generation serves/);
  });

  test('atoll render /', async () => {
    const r = await sh(project, atollBin, ['render', '/']);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /<hello-card atoll-key="[0-9a-z]+" name="packed"[^>]*><template shadowrootmode="open">/);
  });

  test('plain Node: import() from node -e, an ES module file, and require()', async () => {
    const script = `import('atoll-ssr').then(async (m) => {
      const atoll = await m.createAtoll({ root: process.cwd(), logger: m.silentLogger });
      const page = await atoll.render('/');
      console.log(JSON.stringify({ status: page.status, dsd: page.html.includes('<template shadowrootmode="open">') }));
    })`;
    const inline = await sh(project, process.execPath, ['-e', script]);
    assert.equal(inline.code, 0, inline.stderr);
    assert.deepEqual(JSON.parse(inline.stdout), { status: 200, dsd: true });

    const file = await sh(project, process.execPath, ['render.mjs']);
    assert.equal(file.code, 0, file.stderr);
    assert.deepEqual(
      file.stdout.trim().split('\n').map((l) => JSON.parse(l) as unknown),
      [
        { path: '/', status: 200, dsd: true },
        { path: '/?card=missing', status: 404, dsd: false },
      ],
    );

    // The project is CommonJS: require() of the ES module package (Node >= 20.19).
    const required = await sh(project, process.execPath, ['-e', `const m = require('atoll-ssr'); console.log(typeof m.createAtoll, typeof m.notFound)`]);
    assert.equal(required.code, 0, required.stderr);
    assert.equal(required.stdout.trim(), 'function function');
  });

  test('a strict TypeScript check (no skipLibCheck, `"types": []`) of a file using the public types', async () => {
    const tsc = join(REPO, 'node_modules', 'typescript', 'bin', 'tsc');
    const r = await sh(join(project, 'types-check'), process.execPath, [tsc, '-p', '.'], 120_000);
    assert.equal(r.code, 0, r.stdout + r.stderr);
  });
});
