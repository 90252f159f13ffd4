/**
 * `atoll init [dir]` (issue 12 item 8): what it writes, that the site passes
 * `atoll check`, renders its route through the public in-process entry and
 * passes its own element test (run from this checkout, with the packages
 * linked as an install would place them), and what it refuses: a folder
 * that is not empty, a file, hostile paths and names.
 * (test/slow/init.test.ts does the same from the packed tarball with npm.)
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import ts from 'typescript';
import { createAtoll, silentLogger } from '../../ssr-server/index.ts';
import { packageNameFor, runInit } from '../../ssr-server/init/command.ts';
import { repoRoot, runCli } from '../helpers.ts';

const own = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { version: string };
/** npm's rule for a new package name (validate-npm-package-name, without scopes). */
const VALID_NAME = /^[a-z0-9~-][a-z0-9._~-]*$/;

const temp = (): string => mkdtempSync(join(tmpdir(), 'atoll-init-'));

/** runInit with its output captured. */
async function init(dir: string, cwd: string): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const code = await runInit({ dir, cwd, stdout: (t) => (stdout += t), stderr: (t) => (stderr += t) });
  return { code, stdout, stderr };
}

/** Every file under `dir`, relative, sorted. */
function files(dir: string, prefix = ''): string[] {
  return readdirSync(dir, { withFileTypes: true })
    .flatMap((e) => (e.isDirectory() ? files(join(dir, e.name), `${prefix}${e.name}/`) : [`${prefix}${e.name}`]))
    .sort();
}

const EXPECTED = [
  '.gitignore',
  'README.md',
  'elements/hello-world/index.ts',
  'elements/hello-world/server.ts',
  'layouts/index.html',
  'package.json',
  'test/hello-world.test.ts',
  'tsconfig.json',
];

describe('atoll init', () => {
  const cwd = temp();

  test('writes a minimal site: package.json, one element with its data() hook, one route, a test, tsconfig, .gitignore, README', async () => {
    const r = await init('my-site', cwd);
    assert.equal(r.code, 0, r.stderr);
    const site = join(cwd, 'my-site');
    assert.deepEqual(files(site), EXPECTED);
    const pkg = JSON.parse(readFileSync(join(site, 'package.json'), 'utf8'));
    assert.equal(pkg.name, 'my-site');
    assert.equal(pkg.type, 'module');
    assert.deepEqual(Object.keys(pkg.dependencies).sort(), ['atoll-ssr', 'lit']);
    assert.equal(pkg.dependencies['atoll-ssr'], `^${own.version}`, "Atoll's own version");
    assert.match(pkg.dependencies.lit, /^\^3\.\d+\.\d+$/);
    assert.match(pkg.devDependencies['happy-dom'], /^\^\d+\.\d+\.\d+$/, 'renderToDocument needs happy-dom');
    assert.equal(pkg.scripts.start, 'atoll serve');
    assert.equal(pkg.scripts.dev, 'atoll dev');
    assert.equal(pkg.scripts.build, 'atoll build');
    assert.match(pkg.scripts.test, /--test test\/\*\.test\.ts$/);
    const tsconfig = ts.parseConfigFileTextToJson('tsconfig.json', readFileSync(join(site, 'tsconfig.json'), 'utf8'));
    assert.equal(tsconfig.error, undefined, 'tsconfig.json parses (with its comment)');
    assert.equal(tsconfig.config.compilerOptions.strict, true);
    assert.match(readFileSync(join(site, '.gitignore'), 'utf8'), /^node_modules\/$[\s\S]*^\.atoll\/$/m);
    const readme = readFileSync(join(site, 'README.md'), 'utf8');
    assert.match(readme, /```sh\nnpm install\nnpm run dev\n```/, 'the two commands');
    assert.match(readFileSync(join(site, 'layouts/index.html'), 'utf8'), /<atoll-route path="\/">[\s\S]*<hello-world [^>]*hydrate="load"><\/hello-world>/);
    assert.match(readFileSync(join(site, 'test/hello-world.test.ts'), 'utf8'), /from 'atoll-ssr\/testing'/);
    assert.match(r.stdout, /cd my-site\n {2}npm install\n {2}npm run dev/);
  });

  test('the site passes atoll check and renders its route through atoll.request (from this checkout)', async () => {
    const site = join(cwd, 'my-site');
    const check = await runCli(['check', '--root', site]);
    assert.equal(check.code, 0, check.stderr + check.stdout);
    const atoll = await createAtoll({ root: site, logger: silentLogger });
    const res = await atoll.request('/');
    assert.equal(res.status, 200);
    const html = await res.text();
    assert.match(html, /<title>my-site<\/title>/);
    assert.match(html, /<h1>Hello, (<!--[^>]*-->)*world(<!--[^>]*-->)*!<\/h1>/);
    assert.match(html, /Rendered on the server for (<!--[^>]*-->)*\//, 'the data() hook ran');
    const one = await (await atoll.renderMarkup({ tag: 'hello-world', attributes: { name: 'Ada' }, data: { message: 'given' } })).text();
    assert.match(one, /Hello, (<!--[^>]*-->)*Ada/);
    assert.equal((await atoll.request('/nowhere')).status, 404);
  });

  test("the site's own element test passes (packages linked from this checkout, as an install places them)", async () => {
    const site = join(cwd, 'my-site');
    mkdirSync(join(site, 'node_modules'));
    symlinkSync(repoRoot, join(site, 'node_modules', 'atoll-ssr'), 'dir');
    for (const p of ['lit', 'happy-dom', 'tsx']) symlinkSync(join(repoRoot, 'node_modules', p), join(site, 'node_modules', p), 'dir');
    // The checkout's sources, as this repository's own .npmrc runs them.
    const { NODE_TEST_CONTEXT: _, ...env } = process.env;
    const child = spawn(process.execPath, ['--conditions=atoll-source', '--import', 'tsx', '--test', 'test/hello-world.test.ts'], { cwd: site, env });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d));
    child.stderr.on('data', (d: Buffer) => (output += d));
    const code = await new Promise<number | null>((resolveCode) => child.on('close', resolveCode));
    assert.equal(code, 0, output);
    assert.match(output, /# pass 2\n# fail 0/);
  });

  test('the command line runs it (atoll init <dir>), and a second run refuses the folder it made', async () => {
    const dir = temp();
    const first = await runCli(['init', 'cli-site'], { cwd: dir });
    assert.equal(first.code, 0, first.stderr);
    assert.deepEqual(files(join(dir, 'cli-site')), EXPECTED);
    const again = await runCli(['init', 'cli-site'], { cwd: dir });
    assert.equal(again.code, 1);
    assert.match(again.stderr, /cli-site is not empty \(\.gitignore, README\.md, elements, layouts, package\.json, … \(7 entries\)\)/);
  });

  test('refuses a folder that is not empty, a file, and a path under a file — writing nothing', async () => {
    const dir = temp();
    mkdirSync(join(dir, 'full'));
    writeFileSync(join(dir, 'full', 'notes.txt'), 'mine');
    const full = await init('full', dir);
    assert.equal(full.code, 1);
    assert.match(full.stderr, /full is not empty \(notes\.txt\)/);
    assert.deepEqual(files(join(dir, 'full')), ['notes.txt']);
    writeFileSync(join(dir, 'a-file'), 'x');
    const file = await init('a-file', dir);
    assert.equal(file.code, 1);
    assert.match(file.stderr, /a-file exists and is not a folder/);
    const under = await init('a-file/site', dir);
    assert.equal(under.code, 1);
    assert.match(under.stderr, /a parent of it is a file/);
    assert.equal(readFileSync(join(dir, 'a-file'), 'utf8'), 'x');
    assert.deepEqual(files(dir), ['a-file', 'full/notes.txt']);
    // The current folder when it has anything in it.
    const here = await init('.', join(dir, 'full'));
    assert.equal(here.code, 1);
    assert.equal((await init('', join(dir, 'full'))).code, 1, 'an empty argument is the current folder');
  });

  test('fills an empty folder or one with only .git, the current one included', async () => {
    const dir = temp();
    mkdirSync(join(dir, '.git'));
    const r = await init('.', dir);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(files(dir).filter((f) => !f.startsWith('.git/')), EXPECTED);
    assert.doesNotMatch(r.stdout, /\bcd\b/, 'no cd into the folder you are in');
    assert.equal(JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')).name, packageNameFor(dir.split('/').at(-1)!));
  });

  test('paths with .. resolve before anything is checked; the name comes from the real folder', async () => {
    const dir = temp();
    mkdirSync(join(dir, 'work'));
    const r = await init('x/../../Other Place', join(dir, 'work'));
    assert.equal(r.code, 0, r.stderr);
    assert.ok(existsSync(join(dir, 'Other Place', 'package.json')), 'written where the path leads');
    assert.ok(!existsSync(join(dir, 'work', 'x')), 'no folder on the way is made');
    assert.equal(JSON.parse(readFileSync(join(dir, 'Other Place', 'package.json'), 'utf8')).name, 'other-place');
    assert.match(r.stdout, new RegExp(`cd '${dir.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}/Other Place'`), 'outside the current folder: an absolute, quoted cd');
    // `..` of a folder that holds the current one is not empty.
    const up = await init('..', join(dir, 'work'));
    assert.equal(up.code, 1);
    assert.match(up.stderr, /is not empty/);
  });

  test('hostile folder names: control characters never reach the terminal raw, NUL is refused, names stay valid', async () => {
    const dir = temp();
    const r = await init('evil\x1b[2J\nname', dir);
    assert.equal(r.code, 0, r.stderr);
    assert.doesNotMatch(r.stdout, /\x1b/);
    assert.match(r.stdout, /evil\\x1b\[2J\\x0aname/);
    const pkg = JSON.parse(readFileSync(join(dir, 'evil\x1b[2J\nname', 'package.json'), 'utf8'));
    assert.equal(pkg.name, 'evil-2j-name');
    const nul = await init('a\0b', dir);
    assert.equal(nul.code, 1);
    assert.match(nul.stderr, /NUL/);
  });

  test('a valid npm package name is derived from any folder name', () => {
    const cases: Array<[string, string]> = [
      ['My Site!', 'my-site'],
      ['.hidden', 'hidden'],
      ['_private', 'private'],
      ['--x--', 'x'],
      ['___', 'atoll-site'],
      ['日本語', 'atoll-site'],
      ['Ünïcödé Shop', 'unicode-shop'],
      ['http', 'http-site'],
      ['fs', 'fs-site'],
      ['node_modules', 'node_modules-site'],
      ['favicon.ico', 'favicon.ico-site'],
      ['a.b_c~d', 'a.b_c~d'],
      ['x'.repeat(300), 'x'.repeat(214)],
      [`${'y'.repeat(213)}.z`, 'y'.repeat(213)],
      ['@scope/name', 'scope-name'],
      ['CON', 'con'],
    ];
    for (const [folder, name] of cases) {
      const got = packageNameFor(folder);
      assert.equal(got, name, folder);
      assert.match(got, VALID_NAME, folder);
      assert.ok(got.length <= 214, folder);
    }
  });
});
