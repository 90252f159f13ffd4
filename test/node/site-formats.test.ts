/**
 * How Atoll loads site code of every layout users make (issue 12 item 2,
 * docs/site-formats.md): the format rules (extension, package type, the
 * file's own syntax), TypeScript compiled with the nearest tsconfig.json
 * (`extends` followed) on the server and in the client build alike, relative
 * `./x.js` → `./x.ts`, real CommonJS files, and `atoll-ssr` resolving to this
 * very engine. The browser side of the same sites is test/slow/site-formats.test.ts.
 */
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, test } from 'node:test';
import * as engine from '../../ssr-server/index.ts';
import { loadSite } from '../../ssr-server/site/load.ts';
import { engineLocation, installResolveHooks } from '../../ssr-server/site/install-hooks.ts';
import { isSiteFile, nearestTsconfig, packageType, siteCandidates, siteFormat, compileSiteFile } from '../../ssr-server/site/resolve-hooks.mjs';
import { siteResolution } from '../../ssr-server/build/plugins.ts';
import { makeSite, repoRoot } from '../helpers.ts';

const LEGACY_TSCONFIG = JSON.stringify({ compilerOptions: { experimentalDecorators: true, useDefineForClassFields: false } });

/** A counter element in the given decorator style. */
const counter = (tag: string, style: 'legacy' | 'standard'): string => `import { LitElement, html } from 'lit';
import { customElement, property } from 'lit/decorators.js';
@customElement('${tag}')
export class Counter extends LitElement {
  @property({ type: Number }) ${style === 'standard' ? 'accessor ' : ''}count = 0;
  render() { return html\`<button @click=\${() => this.count++}>count \${this.count}</button>\`; }
}
`;

describe('the format rules', () => {
  test('extension first, then "type": "module", then the file\'s own syntax, then the package type', () => {
    const root = makeSite({
      'module/package.json': JSON.stringify({ type: 'module' }),
      'commonjs/package.json': JSON.stringify({ type: 'commonjs' }),
      'none/package.json': JSON.stringify({ name: 'x' }),
      'broken/package.json': '{ not json',
    });
    const at = (dir: string, name: string): string => join(root, dir, name);
    assert.equal(packageType(join(root, 'module')), 'module');
    assert.equal(packageType(join(root, 'commonjs', 'deep', 'er')), 'commonjs');
    assert.equal(packageType(join(root, 'none')), 'none');
    assert.equal(packageType(join(root, 'broken')), 'none');
    for (const dir of ['module', 'commonjs', 'none']) {
      assert.equal(siteFormat(at(dir, 'a.mts'), 'cjs'), 'module', `${dir}: .mts is always an ES module`);
      assert.equal(siteFormat(at(dir, 'a.mjs'), undefined), 'module');
      assert.equal(siteFormat(at(dir, 'a.cts'), 'esm'), 'commonjs', `${dir}: .cts is always CommonJS`);
      assert.equal(siteFormat(at(dir, 'a.cjs'), undefined), 'commonjs');
      assert.equal(siteFormat(at(dir, 'a.ts'), 'esm'), 'module', `${dir}: import/export syntax makes an ES module`);
      assert.equal(siteFormat(at(dir, 'a.js'), 'esm'), 'module');
    }
    assert.equal(siteFormat(at('module', 'a.ts'), 'cjs'), 'module', 'type: module decides, as in Node');
    assert.equal(siteFormat(at('commonjs', 'a.ts'), 'cjs'), 'commonjs');
    assert.equal(siteFormat(at('none', 'a.js'), 'cjs'), 'commonjs');
    assert.equal(siteFormat(at('commonjs', 'a.js'), undefined), 'commonjs', 'neither syntax: the package type');
    assert.equal(siteFormat(at('none', 'a.js'), undefined), 'module', 'neither syntax, no type: an ES module');
  });

  test('what counts as site code: not node_modules, not the engine, only script files', () => {
    const { engineDirs } = engineLocation();
    assert.equal(isSiteFile('/srv/site/elements/a.ts', engineDirs), true);
    assert.equal(isSiteFile('file:///srv/site/elements/a.js?v=2', engineDirs), true);
    assert.equal(isSiteFile('/srv/site/node_modules/lib/a.ts', engineDirs), false);
    assert.equal(isSiteFile('/srv/site/layouts/index.html', engineDirs), false);
    assert.equal(isSiteFile(join(repoRoot, 'ssr-server', 'index.ts'), engineDirs), false);
    assert.equal(isSiteFile(join(repoRoot, 'elements', 'shop-hero', 'index.ts'), engineDirs), true, 'the demo site in the checkout is site code');
  });

  test('relative specifiers: ./x.js finds ./x.ts, ./x finds ./x.ts, ./x.js, ./x/index.ts …', () => {
    assert.deepEqual(siteCandidates('./util.js'), ['./util.ts']);
    assert.deepEqual(siteCandidates('../a/b.mjs?x=1'), ['../a/b.mts?x=1']);
    assert.deepEqual(siteCandidates('./c.cjs'), ['./c.cts']);
    assert.deepEqual(siteCandidates('./style.css'), []);
    const bare = siteCandidates('./lib');
    assert.deepEqual(bare.slice(0, 2), ['./lib.ts', './lib.js']);
    assert.ok(bare.includes('./lib/index.ts') && bare.includes('./lib/index.js'));
  });

  test('the nearest tsconfig.json is the one that applies', () => {
    const root = makeSite({ 'tsconfig.json': '{}', 'pkg/tsconfig.json': '{}', 'pkg/src/a.ts': '' });
    assert.equal(nearestTsconfig(join(root, 'pkg', 'src', 'a.ts')), join(root, 'pkg', 'tsconfig.json'));
    assert.equal(nearestTsconfig(join(root, 'b.ts')), join(root, 'tsconfig.json'));
  });
});

describe('the running engine', () => {
  test('from the checkout: the .ts entries; from a compiled dist/: the .js beside the hooks', () => {
    const here = engineLocation();
    assert.equal(here.entries['atoll-ssr'], pathToFileURL(join(repoRoot, 'ssr-server', 'index.ts')).href);
    assert.equal(here.entries['atoll-ssr/testing'], pathToFileURL(join(repoRoot, 'testing', 'index.ts')).href);
    assert.equal(here.packageJson, pathToFileURL(join(repoRoot, 'package.json')).href);

    const pkg = makeSite({ 'package.json': JSON.stringify({ name: 'atoll-ssr', type: 'module' }), 'dist/ssr-server/site/install-hooks.js': '' });
    const dist = engineLocation(pathToFileURL(join(pkg, 'dist', 'ssr-server', 'site', 'install-hooks.js')).href);
    assert.equal(dist.entries['atoll-ssr'], pathToFileURL(join(pkg, 'dist', 'ssr-server', 'index.js')).href);
    assert.equal(dist.entries['atoll-ssr/testing/browser'], pathToFileURL(join(pkg, 'dist', 'testing', 'browser.js')).href);
    assert.equal(dist.packageJson, pathToFileURL(join(pkg, 'package.json')).href, 'the package root, not dist/');
    assert.ok(dist.engineDirs.includes(pathToFileURL(join(pkg, 'dist')).href + '/'));

    // With an exports map: its conditions pick the file (atoll-source from the checkout, import from dist/).
    const exportsMap = {
      '.': { 'atoll-source': './ssr-server/index.ts', types: './dist/ssr-server/index.d.ts', import: './dist/ssr-server/index.js' },
      './schema.json': './schema/atoll.config.schema.json',
      './internal/*': './dist/internal/*.js',
    };
    const both = makeSite({ 'package.json': JSON.stringify({ name: 'atoll-ssr', exports: exportsMap }) });
    const fromDist = engineLocation(pathToFileURL(join(both, 'dist', 'ssr-server', 'site', 'install-hooks.js')).href);
    assert.equal(fromDist.entries['atoll-ssr'], pathToFileURL(join(both, 'dist', 'ssr-server', 'index.js')).href);
    assert.equal(fromDist.entries['atoll-ssr/schema.json'], pathToFileURL(join(both, 'schema', 'atoll.config.schema.json')).href);
    assert.equal(Object.keys(fromDist.entries).some((k) => k.includes('*')), false, 'patterns are not entries');
    const fromSource = engineLocation(pathToFileURL(join(both, 'ssr-server', 'site', 'install-hooks.ts')).href);
    assert.equal(fromSource.entries['atoll-ssr'], pathToFileURL(join(both, 'ssr-server', 'index.ts')).href);
  });

  test('site code importing atoll-ssr gets this engine\'s module instances; an unknown subpath is a clear error', async () => {
    installResolveHooks();
    const root = makeSite({
      'package.json': JSON.stringify({ type: 'commonjs' }),
      'probe.ts': `import { notFound, HttpSignal } from 'atoll-ssr';\nexport { notFound, HttpSignal };\nexport const signal = notFound();\n`,
      'bad.ts': `import { x } from 'atoll-ssr/internal/thing';\nexport { x };\n`,
    });
    const probe = (await import(pathToFileURL(join(root, 'probe.ts')).href)) as { notFound: unknown; HttpSignal: unknown; signal: unknown };
    assert.equal(probe.notFound, engine.notFound);
    assert.equal(probe.HttpSignal, engine.HttpSignal);
    assert.ok(probe.signal instanceof engine.HttpSignal);
    await assert.rejects(import(pathToFileURL(join(root, 'bad.ts')).href), /"atoll-ssr\/internal\/thing" is not an entry of atoll-ssr \(its entries: atoll-ssr, atoll-ssr\/testing/);
  });
});

describe('the hooks alone, as a compiled engine runs them (no tsx in the process)', () => {
  test('site TypeScript with the site\'s tsconfig, ./x.js → x.ts, extensionless imports, atoll-ssr entries and the dependency fallback', async () => {
    const { spawnSync } = await import('node:child_process');
    const root = makeSite({
      'package.json': JSON.stringify({ name: 's', type: 'commonjs' }),
      // useDefineForClassFields: false assigns field initializers, so a setter of the base class runs.
      'tsconfig.json': JSON.stringify({ extends: './base.json' }),
      'base.json': LEGACY_TSCONFIG,
      'engine/index.js': 'export const engine = "stub engine";\n',
      'main.ts': [
        "import { engine } from 'atoll-ssr';",
        "import { parse } from 'devalue';",
        "import { twice } from './util.js';",
        "import { three } from './lib';",
        'const seen: string[] = [];',
        'const mark = (_target: object, key: string): void => { seen.push(key); };',
        'class Base { set value(v: number) { seen.push(`set ${v}`); } }',
        'class Child extends Base { @mark value = twice(three); }',
        'new Child();',
        'export const result = { engine, seen, parsed: parse(\'[1]\'), meta: typeof import.meta.url };',
        '',
      ].join('\n'),
      'util.ts': 'export const twice = (n: number): number => n * 2;\n',
      'lib/index.ts': 'export const three: number = 3;\n',
    });
    const hooks = pathToFileURL(join(repoRoot, 'ssr-server', 'site', 'resolve-hooks.mjs')).href;
    const data = { atollParent: pathToFileURL(join(repoRoot, 'package.json')).href, entries: { 'atoll-ssr': pathToFileURL(join(root, 'engine', 'index.js')).href }, engineDirs: [] };
    const script = `import { register } from 'node:module';
register(${JSON.stringify(hooks)}, { data: ${JSON.stringify(data)} });
const { result } = await import(${JSON.stringify(pathToFileURL(join(root, 'main.ts')).href)});
console.log(JSON.stringify(result));`;
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { cwd: '/', encoding: 'utf8', timeout: 30_000 });
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(JSON.parse(r.stdout), { engine: 'stub engine', seen: ['value', 'set 6'], parsed: 1, meta: 'string' });
  });
});

describe('sites of every layout load', () => {
  for (const type of ['commonjs', 'module', undefined] as const) {
    for (const style of ['legacy', 'standard'] as const) {
      test(`type ${type ?? '(none)'}, TypeScript with ${style} decorators, hooks importing atoll-ssr`, async () => {
        const tag = `f-${style}-${type ?? 'none'}`;
        const root = makeSite({
          'package.json': JSON.stringify(type === undefined ? { name: 's' } : { name: 's', type }),
          ...(style === 'legacy' ? { 'tsconfig.json': JSON.stringify({ extends: './config/base.json' }), 'config/base.json': LEGACY_TSCONFIG } : {}),
          [`elements/${tag}/index.ts`]: counter(tag, style),
          [`elements/${tag}/server.ts`]: `import { notFound } from 'atoll-ssr';\nimport { start } from './start.js';\nexport function data(ctx: { query: URLSearchParams }) { if (ctx.query.has('x')) throw notFound(); return { count: start }; }\n`,
          [`elements/${tag}/start.ts`]: 'export const start: number = 7;\n',
          'layouts/index.html': `<!doctype html><html><head><title>t</title></head><body><${tag}></${tag}></body></html>`,
        });
        const atoll = await engine.createAtoll({ root });
        const page = await atoll.render('/');
        assert.match(page.html, new RegExp(`<${tag}[^>]*><template shadowrootmode="open">.*count <!--lit-part-->7<!--/lit-part-->`, 's'));
      });
    }
  }

  for (const name of ['atoll.config.ts', 'atoll.config.mjs'] as const) {
    test(`type commonjs: ${name} with import/export syntax and a type from atoll-ssr`, async () => {
      const tag = name.endsWith('.ts') ? 'conf-ts' : 'conf-mjs';
      const config = name.endsWith('.ts')
        ? `import type { AtollConfig } from 'atoll-ssr';\nconst config: AtollConfig = { elements: { '${tag}': { module: './lib/${tag}.ts' } } };\nexport default config;\n`
        : `export default { elements: { '${tag}': { module: './lib/${tag}.ts' } } };\n`;
      const root = makeSite({
        'package.json': JSON.stringify({ name: 's', type: 'commonjs' }),
        [name]: config,
        [`lib/${tag}.ts`]: counter(tag, 'standard'),
        'layouts/index.html': `<!doctype html><html><head><title>t</title></head><body><${tag}></${tag}></body></html>`,
      });
      const site = await loadSite({ root });
      assert.equal(site.registry.get(tag)?.moduleSource, `./lib/${tag}.ts`, 'the config module was read');
    });
  }

  test('real CommonJS: .cjs hooks, CommonJS .js and .ts in a commonjs package, require() of Lit and of a .cts', async () => {
    const root = makeSite({
      'package.json': JSON.stringify({ name: 's', type: 'commonjs' }),
      'tsconfig.json': LEGACY_TSCONFIG,
      'elements/cjs-js/index.js': `const { LitElement, html } = require('lit');\nclass CjsJs extends LitElement { render() { return html\`<p>cjs js</p>\`; } }\ncustomElements.define('cjs-js', CjsJs);\nmodule.exports = { CjsJs };\n`,
      'elements/cjs-js/server.js': `const helper = require('./helper.cts');\nfunction data() { return { from: helper.name }; }\nmodule.exports = { data };\n`,
      'elements/cjs-js/helper.cts': `const name: string = 'helper';\nexport = { name };\n`,
      'elements/cjs-ts/index.ts': `const { LitElement, html } = require('lit');\nclass CjsTs extends LitElement { render() { return html\`<p>cjs ts</p>\`; } }\ncustomElements.define('cjs-ts', CjsTs);\n`,
      'elements/cjs-ts/server.ts': `const { start } = require('./util');\nexports.data = (): Record<string, unknown> => ({ start });\n`,
      'elements/cjs-ts/util.ts': `exports.start = 3 as number;\n`,
      'layouts/index.html': '<!doctype html><html><head><title>t</title></head><body><cjs-js></cjs-js><cjs-ts></cjs-ts></body></html>',
    });
    const site = await loadSite({ root });
    assert.deepEqual(await site.registry.get('cjs-js')!.hooks.data!({} as never), { from: 'helper' });
    assert.deepEqual(await site.registry.get('cjs-ts')!.hooks.data!({} as never), { start: 3 });
    const page = await (await engine.createAtoll({ root })).render('/');
    assert.match(page.html, /<p>cjs js<\/p>/);
    assert.match(page.html, /<p>cjs ts<\/p>/);
  });

  test('no package.json type: a CommonJS server.js works, an ES module element beside it too', async () => {
    const root = makeSite({
      'package.json': JSON.stringify({ name: 's' }),
      'elements/mixed-one/index.js': `import { LitElement, html } from 'lit';\ncustomElements.define('mixed-one', class extends LitElement { static properties = { n: {} }; render() { return html\`<p>n=\${this.n}</p>\`; } });\n`,
      'elements/mixed-one/server.js': `module.exports.data = () => ({ n: 'from-cjs' });\n`,
      'layouts/index.html': '<!doctype html><html><head><title>t</title></head><body><mixed-one></mixed-one></body></html>',
    });
    const page = await (await engine.createAtoll({ root })).render('/');
    assert.match(page.html, /n=<!--lit-part-->from-cjs/);
  });
});

describe('the client build compiles site TypeScript as the server does', () => {
  const transform = async (root: string, file: string): Promise<string> => {
    const plugin = siteResolution({ atollRoot: repoRoot, serverHooks: new Set() });
    const hook = plugin.transform as (this: unknown, code: string, id: string) => Promise<{ code: string } | null>;
    const { readFileSync } = await import('node:fs');
    const out = await hook.call({ error: (m: string) => assert.fail(m) }, readFileSync(join(root, file), 'utf8'), join(root, file));
    return out!.code;
  };

  test('legacy decorators through extends: TypeScript\'s __decorate form, fields left to the decorators', async () => {
    const root = makeSite({ 'tsconfig.json': JSON.stringify({ extends: './base.json' }), 'base.json': LEGACY_TSCONFIG, 'el.ts': counter('x-l', 'legacy') });
    const code = await transform(root, 'el.ts');
    assert.match(code, /__decorateClass\(\[\s*property\(/);
    assert.doesNotMatch(code, /__decorateElement|accessor /);
    const server = await compileSiteFile(join(root, 'el.ts'), counter('x-l', 'legacy'), { target: 'es2022' });
    assert.equal(server.code, code, 'the same compiler, the same output');
  });

  test('standard decorators (no tsconfig flag): lowered TC39 decorators', async () => {
    const root = makeSite({ 'tsconfig.json': '{}', 'el.ts': counter('x-s', 'standard') });
    assert.match(await transform(root, 'el.ts'), /__decorateElement/);
  });

  test('a tsconfig whose extends is missing fails the build naming the file', async () => {
    const root = makeSite({ 'tsconfig.json': JSON.stringify({ extends: './nope.json' }), 'el.ts': 'export const x = 1;\n' });
    const plugin = siteResolution({ atollRoot: repoRoot, serverHooks: new Set() });
    const hook = plugin.transform as (this: unknown, code: string, id: string) => Promise<unknown>;
    await assert.rejects(
      hook.call({ error: (m: string) => { throw new Error(m); } }, 'export const x = 1;\n', join(root, 'el.ts')),
      /nope\.json/,
    );
  });
});

describe('errors point into the site\'s source', () => {
  /** Writes a site into a fresh folder and runs `atoll check` on it from / (a child process, as a user would). */
  const check = async (files: Record<string, string>): Promise<{ dir: string; status: number | null; out: string }> => {
    const { spawnSync } = await import('node:child_process');
    const dir = join(tmpdir(), `atoll-format-err-${process.pid}-${Math.random().toString(36).slice(2)}`);
    for (const [path, text] of Object.entries(files)) {
      mkdirSync(join(dir, path, '..'), { recursive: true });
      writeFileSync(join(dir, path), text);
    }
    const r = spawnSync(process.execPath, [join(repoRoot, 'bin', 'atoll.mjs'), 'check', '--root', dir], { cwd: '/', encoding: 'utf8', timeout: 60_000 });
    return { dir, status: r.status, out: `${r.stdout}${r.stderr}` };
  };
  const layout = (tag: string): string => `<!doctype html><html><head><title>t</title></head><body><${tag}></${tag}></body></html>`;

  test('a throw at import time in a legacy-decorator TypeScript element: atoll check names its file:line:col', async () => {
    // Decorators move code around in the compiled output: the throw's
    // compiled line is not line 11.
    const source = [
      "import { LitElement, html } from 'lit';",
      "import { customElement, property, state } from 'lit/decorators.js';",
      '',
      "@customElement('bad-one')",
      'export class BadOne extends LitElement {',
      '  @property({ type: Number }) count: number = 0;',
      '  @state() private open = false;',
      '  render() { return html`<p>${this.count} ${this.open}</p>`; }',
      '}',
      'const settings: { strict: boolean } = { strict: true };',
      "if (settings.strict) throw new TypeError('bad-one cannot start');",
      '',
    ].join('\n');
    const { dir, status, out } = await check({
      'package.json': JSON.stringify({ name: 'e', type: 'commonjs' }),
      'tsconfig.json': LEGACY_TSCONFIG,
      'layouts/index.html': layout('bad-one'),
      'elements/bad-one/index.ts': source,
    });
    assert.equal(status, 1, out);
    const col = source.split('\n')[10]!.indexOf('new TypeError') + 1;
    // Shown relative to the working directory (here /).
    const file = relative('/', join(dir, 'elements', 'bad-one', 'index.ts'));
    assert.ok(out.includes(`${file}:11:${col}: the element module threw while loading: TypeError: bad-one cannot start`), `expected ${file}:11:${col} in:\n${out}`);
  });

  test('legacy decorator code without the tsconfig flag: the error names the decorated field, not esbuild\'s helpers', async () => {
    const source = counter('no-flag', 'legacy');
    const { dir, status, out } = await check({
      'package.json': JSON.stringify({ name: 'e', type: 'module' }),
      'layouts/index.html': layout('no-flag'),
      'elements/no-flag/index.ts': source,
    });
    assert.equal(status, 1, out);
    const line = source.split('\n').findIndex((l) => l.includes('@property')) + 1;
    const col = source.split('\n')[line - 1]!.indexOf('count') + 1;
    const file = relative('/', join(dir, 'elements', 'no-flag', 'index.ts'));
    assert.ok(out.includes(`${file}:${line}:${col}: the element module threw while loading: Unsupported decorator location: field`), `expected ${file}:${line}:${col} in:\n${out}`);
  });

  test('a syntax error in site TypeScript names file:line:col', async () => {
    const { dir, status, out } = await check({
      'package.json': JSON.stringify({ name: 'e' }),
      'layouts/index.html': layout('syn-err'),
      'elements/syn-err/index.ts': "import { LitElement } from 'lit';\nconst x: number = ;\ncustomElements.define('syn-err', class extends LitElement {});\n",
    });
    assert.equal(status, 1, out);
    assert.ok(out.includes(`${relative('/', join(dir, 'elements', 'syn-err', 'index.ts'))}:2:`), out);
  });
});
