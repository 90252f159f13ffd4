/**
 * The command line's surface (cli.ts): --version/-v, help per command
 * (`atoll serve --help`, `atoll help serve`), unknown options and arguments
 * named in a clear error, --config relative to the working directory, and
 * the `dev` and `init` commands wired to their modules.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { layout, makeSite, repoRoot, runCli } from '../helpers.ts';

const version = (JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { version: string }).version;

describe('atoll --version and help', () => {
  test('--version, -v and `<command> --version` print the package and its version', async () => {
    for (const args of [['--version'], ['-v'], ['serve', '--version']]) {
      const r = await runCli(args);
      assert.equal(r.code, 0, args.join(' '));
      assert.equal(r.stdout, `atoll-ssr ${version}\n`, args.join(' '));
    }
  });

  test('--help lists every command; help per command, two ways, with that command\'s options only', async () => {
    const all = await runCli(['--help']);
    assert.equal(all.code, 0);
    for (const c of ['serve', 'dev', 'build', 'check', 'render', 'init', 'help']) assert.match(all.stdout, new RegExp(`^  ${c} `, 'm'), c);
    const a = await runCli(['serve', '--help']);
    const b = await runCli(['help', 'serve']);
    assert.equal(a.code, 0);
    assert.equal(a.stdout, b.stdout);
    assert.match(a.stdout, /^Usage: atoll serve/);
    for (const o of ['--no-build', '--out DIR', '--workers', '--config FILE', '--port']) assert.ok(a.stdout.includes(o), o);
    const build = await runCli(['help', 'build']);
    assert.ok(!build.stdout.includes('--port'), 'build has no --port');
    const init = await runCli(['init', '-h']);
    assert.match(init.stdout, /^Usage: atoll init \[dir\]/);
    const unknown = await runCli(['help', 'deploy']);
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /unknown command "deploy"/);
    const none = await runCli([]);
    assert.equal(none.code, 2);
    assert.match(none.stderr, /Usage: atoll <command>/);
  });

  test('an unknown option, a missing value or an extra argument is an error that names it', async () => {
    const bogus = await runCli(['serve', '--bogus']);
    assert.equal(bogus.code, 2);
    assert.match(bogus.stderr, /^atoll serve: unknown option --bogus \(atoll serve --help lists the options\)$/m);
    const notHere = await runCli(['build', '--port', '3000']);
    assert.equal(notHere.code, 2);
    assert.match(notHere.stderr, /atoll build: unknown option --port/);
    const short = await runCli(['check', '-x']);
    assert.equal(short.code, 2);
    assert.match(short.stderr, /unknown option -x/);
    const missing = await runCli(['serve', '--port']);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /--port/);
    const extra = await runCli(['check', 'extra']);
    assert.equal(extra.code, 2);
    assert.match(extra.stderr, /unexpected argument "extra"/);
    const flagFirst = await runCli(['--root', '.', 'check']);
    assert.equal(flagFirst.code, 2);
    assert.match(flagFirst.stderr, /give the command first/);
    const unknown = await runCli(['srve']);
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /unknown command "srve"/);
  });
});

describe('--config', () => {
  test('is relative to the working directory, not to --root', async () => {
    const root = makeSite({ 'layouts/index.html': layout('<p>x</p>') });
    const cwd = mkdtempSync(join(tmpdir(), 'atoll-cwd-'));
    mkdirSync(join(cwd, 'conf'));
    writeFileSync(join(cwd, 'conf/site.json'), '{\n  "port": "eighty"\n}\n');
    const bad = await runCli(['check', '--root', root, '--config', 'conf/site.json'], { cwd });
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /conf\/site\.json:2:11: port must be a port number, not "eighty"/, 'the file in the working directory was read');
    writeFileSync(join(cwd, 'conf/site.json'), '{ "port": 8080 }');
    const good = await runCli(['check', '--root', root, '--config', 'conf/site.json'], { cwd });
    assert.equal(good.code, 0, good.stderr);
    const absent = await runCli(['check', '--root', root, '--config', 'conf/nope.json'], { cwd });
    assert.equal(absent.code, 1);
    assert.match(absent.stderr, /nope\.json: config file not found/);
  });

  test('a file only in the site folder (where it used to be looked up) is used with a warning', async () => {
    const root = makeSite({ 'layouts/index.html': layout('<p>x</p>'), 'other.json': '{ "port": 8081 }' });
    const cwd = mkdtempSync(join(tmpdir(), 'atoll-cwd-'));
    const r = await runCli(['check', '--root', root, '--config', 'other.json'], { cwd });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /warning: --config other\.json is read relative to the working directory/);
  });
});

describe('check', () => {
  test('warns about public/ files serve leaves out', async () => {
    const root = makeSite({ 'layouts/index.html': layout('<p>x</p>'), 'public/ok.txt': 'ok', 'public/_atoll/x.js': 'x' });
    const r = await runCli(['check', '--root', root]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /warning: public\/_atoll: \/_atoll\/ is Atoll's own prefix: not served/);
  });
});

describe('init and dev', () => {
  test('atoll init [dir] runs init/command.ts with the folder', async () => {
    const parent = mkdtempSync(join(tmpdir(), 'atoll-init-'));
    const r = await runCli(['init', 'my-site'], { cwd: parent, timeoutMs: 60_000 });
    assert.equal(r.code, 0, r.stderr);
    assert.ok(existsSync(join(parent, 'my-site')), 'the folder was made');
    const two = await runCli(['init', 'a', 'b'], { cwd: parent });
    assert.equal(two.code, 2);
    assert.match(two.stderr, /unexpected argument "b"/);
  });

  test('atoll dev starts the dev server on the port and host given', { timeout: 60_000 }, async () => {
    const root = makeSite({ 'layouts/index.html': layout('<p>DEV-PAGE</p>') });
    const child = spawn(process.execPath, [join(repoRoot, 'bin', 'atoll.mjs'), 'dev', '--root', root, '--port', '0', '--host', '127.0.0.1', '--quiet'], {
      cwd: repoRoot,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err += d));
    try {
      const url = await new Promise<string>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no URL in 45 s: ${out} ${err}`)), 45_000);
        child.stdout.on('data', (d: Buffer) => {
          out += d;
          const m = /(http:\/\/127\.0\.0\.1:\d+)/.exec(out);
          if (m) {
            clearTimeout(timer);
            resolve(m[1]!);
          }
        });
        child.on('exit', (code) => reject(new Error(`dev exited with ${code}: ${err}`)));
      });
      const page = await fetch(url + '/');
      assert.match(await page.text(), /DEV-PAGE/);
    } finally {
      child.kill('SIGTERM');
      await new Promise((r) => child.once('close', r));
    }
  });
});
