/**
 * The client build that a server runs at start-up happens in a child
 * process (ssr-server/build/child.ts, build-child.mjs), so the serving
 * process never loads rollup: a missing build is built in a child and
 * served, and the serving process resolved no rollup module (a preload's
 * resolve hook, serve-build-fixture.ts, records them: this fails when the
 * build runs in-process); a broken client module rejects `createAtoll` with
 * rollup's own error; a child that dies is a clear error; a server stopped
 * (SIGTERM) or killed (SIGKILL) during the build leaves no child running.
 * The stale-build and command-line error cases, slower, are in
 * test/slow/serve-build.test.ts.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { childBuilds, childExecArgv, SIGINT_GRACE_MS } from '../../ssr-server/build/child.ts';
import { readManifest } from '../../ssr-server/build/manifest.ts';
import { createAtoll, memoryLogger } from '../../ssr-server/index.ts';
import { makeSite } from '../helpers.ts';
import { alive, gone, lines, nodeOptions, serve, siteFiles } from '../node/serve-build-fixture.ts';

/** Runs `fn` with `env` set in this process (a build child inherits it), then restores it. */
async function withEnv<T>(env: Record<string, string>, fn: () => Promise<T>): Promise<T> {
  const saved = Object.fromEntries(Object.keys(env).map((k) => [k, process.env[k]]));
  Object.assign(process.env, env);
  try {
    return await fn();
  } finally {
    for (const [key, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[key];
      else process.env[key] = value;
    }
  }
}

describe('atoll serve builds in a child process', { concurrency: true }, () => {
  test('a missing build: built in a child and served; the serving process resolved no rollup module; the child gone', { timeout: 60_000 }, async () => {
    const root = makeSite(siteFiles('sb-card'));
    const records = mkdtempSync(join(tmpdir(), 'atoll-serve-build-rec-'));
    const server = join(records, 'server.txt');
    const child = join(records, 'child.txt');
    const s = serve(['--root', root], { SB_RECORD_SERVER: server, SB_RECORD_CHILD: child });
    try {
      const url = (await s.waitFor(/Atoll is serving .* at (http:\/\/\S+)/))[1]!;
      const page = await (await fetch(url + '/')).text();
      const entry = /"@atoll\/sb-card":"([^"]+)"/.exec(page)?.[1];
      assert.ok(entry, page);
      const asset = await fetch(url + entry);
      assert.equal(asset.status, 200);
      assert.match(await asset.text(), /card one/);

      const started = /"msg":"building the client in a child process".*"reason":"there is no client build yet","pid":(\d+)/.exec(s.output());
      assert.ok(started, s.output());
      const pid = Number(started[1]);
      assert.notEqual(pid, s.child.pid);
      assert.match(s.output(), new RegExp(`"msg":"client build done".*"pid":${pid}`));
      assert.ok(await gone(pid), 'the build child exited');
      assert.ok(readManifest(join(root, '.atoll/client')) !== undefined);

      assert.deepEqual(lines(server), [], 'the serving process resolved no rollup module');
      assert.ok(lines(child).some((u) => /\/node_modules\/rollup\//.test(u)), 'the same hook sees rollup where it is loaded (the child)');
    } finally {
      s.child.kill('SIGTERM');
      await s.exited;
    }
  });

  test('a broken client module (in code): createAtoll rejects with rollup\'s own error, fields and stack', { timeout: 30_000 }, async () => {
    const broken = 'import { LitElement, html } from \'lit\';\nclass El extends LitElement {\n  render() { return html`<p>x</p>` +; }\n}\ncustomElements.define(\'sb-broken\', El);\n';
    const root = makeSite(siteFiles('sb-broken', { 'client/sb-broken.ts': broken, 'atoll.config.json': '{ "elements": { "sb-broken": { "client": "./client/sb-broken.ts" } } }' }));
    const err = await createAtoll({ root, logger: memoryLogger(), client: { build: 'if-stale' } }).then(
      () => assert.fail('createAtoll resolved'),
      (e: unknown) => e as Error & Record<string, unknown>,
    );
    const file = join(root, 'client/sb-broken.ts');
    assert.ok(err instanceof Error);
    assert.equal(err.name, 'RollupError');
    assert.equal(err.code, 'PLUGIN_ERROR');
    assert.equal(err.plugin, 'atoll-site-resolution');
    assert.equal(err.hook, 'transform');
    assert.equal(err.id, file);
    assert.ok(err.message.includes(`${file}:3:37: Unexpected ";"`), err.message);
    assert.match(String(err.stack), /^RollupError: \[plugin atoll-site-resolution\] [^\n]*:3:37: Unexpected ";"\n {4}at getRollupError \(/);
    assert.match(String(err.stack), /at Object\.transform \(.*ssr-server\/build\/plugins\.ts:\d+:\d+\)/, 'the stack points into the sources');
  });
});

describe('the build child failing', { concurrency: true }, () => {
  test('killed: serve exits 1 naming the signal, with the child\'s last output, and does not hang', { timeout: 30_000 }, async () => {
    const root = makeSite(siteFiles('sb-card'));
    const s = serve(['--root', root], { SB_CHILD: 'kill' });
    const { code } = await s.exited;
    assert.equal(code, 1, s.output());
    assert.match(s.output(), /atoll serve: Error: the client build process \(pid \d+\) was killed by SIGKILL \(by another process, or by the kernel when memory ran out\) before the build finished; its last output:\nchild: going down\n/);
    assert.doesNotMatch(s.output(), /Atoll is serving/);
  });

  test('exits 3 (in code): createAtoll rejects naming the exit code; the child\'s output is logged line by line; one child at a time with a limit of 1', { timeout: 30_000 }, async () => {
    const logger = memoryLogger();
    // When a child starts, which earlier children are still alive (with the limit at 1: none).
    const pids: number[] = [];
    const aliveAtStart: number[] = [];
    const watching = {
      ...logger,
      info(fields: Record<string, unknown>, msg: string): void {
        if (msg === 'building the client in a child process') {
          aliveAtStart.push(...pids.filter(alive));
          pids.push(Number(fields.pid));
        }
        logger.info(fields, msg);
      },
    };
    const limit = childBuilds.limit;
    childBuilds.limit = 1;
    try {
      const failed = /^Error: the client build process \(pid \d+\) exited with code 3 before the build finished; its last output:\nchild: exiting with 3$/;
      await withEnv({ NODE_OPTIONS: nodeOptions, SB_CHILD: 'exit' }, () =>
        Promise.all(['sb-exit', 'sb-exit-two'].map((tag) => assert.rejects(createAtoll({ root: makeSite(siteFiles(tag)), logger: watching, client: { build: true } }), failed))),
      );
    } finally {
      childBuilds.limit = limit;
    }
    assert.equal(pids.length, 2);
    assert.deepEqual(aliveAtStart, [], 'the second child started after the first had exited');
    assert.ok(logger.lines.some((l) => l.msg === 'client build process output' && l.line === 'child: exiting with 3' && l.stream === 'stderr'), JSON.stringify(logger.lines));
  });

  for (const signal of ['SIGTERM', 'SIGKILL', 'SIGINT to the process group (Ctrl-C)'] as const) {
    test(`the server gets ${signal} during the build: no build child left running, nothing written`, { timeout: 30_000 }, async () => {
      const root = makeSite(siteFiles('sb-card'));
      const ctrlC = signal.startsWith('SIGINT');
      const s = serve(['--root', root], { SB_CHILD: 'slow' }, ctrlC);
      try {
        const pid = Number((await s.waitFor(/"msg":"building the client in a child process".*"pid":(\d+)/))[1]);
        assert.ok(alive(pid));
        if (signal === 'SIGTERM' || signal === 'SIGKILL') s.child.kill(signal);
        else process.kill(-s.child.pid!, 'SIGINT');
        const { code } = await s.exited;
        // As before: a stop while starting is a clean stop, not a failed build.
        if (signal !== 'SIGKILL') assert.equal(code, 0, s.output());
        assert.doesNotMatch(s.output(), /atoll serve: |client build process/);
        assert.ok(await gone(pid, 10_000), `the build child ${pid} is still running after the server's ${signal}`);
        assert.ok(!existsSync(join(root, '.atoll/client/manifest.json')), 'nothing was written');
      } finally {
        s.child.kill('SIGKILL');
      }
    });
  }

  // Ctrl-C reaches the server and its build child at once, and either exit can be
  // handled first: here the child's death by SIGINT comes first, on purpose (the
  // order a loaded CI machine once produced: the server exited 1, "killed by SIGINT").
  test(`Ctrl-C where the build child's SIGINT exit is seen before the server's own SIGINT (within ${SIGINT_GRACE_MS} ms): still a clean stop`, { timeout: 30_000 }, async () => {
    const root = makeSite(siteFiles('sb-card'));
    const s = serve(['--root', root], { SB_CHILD: 'slow' }, true);
    try {
      const pid = Number((await s.waitFor(/"msg":"building the client in a child process".*"pid":(\d+)/))[1]);
      process.kill(pid, 'SIGINT');
      assert.ok(await gone(pid, 10_000), `the build child ${pid} did not die of SIGINT`);
      await new Promise((r) => setTimeout(r, 50));
      try {
        process.kill(s.child.pid!, 'SIGINT');
      } catch {
        // Already exited (the build failure won the race): the exit code below says so.
      }
      const { code } = await s.exited;
      assert.equal(code, 0, s.output());
      assert.doesNotMatch(s.output(), /atoll serve: |client build process/);
      assert.ok(!existsSync(join(root, '.atoll/client/manifest.json')), 'nothing was written');
    } finally {
      s.child.kill('SIGKILL');
    }
  });
});

describe('the child\'s Node flags', () => {
  test('export conditions, heap limits and source maps go along; preloads, the inspector and test flags do not', () => {
    assert.deepEqual(
      childExecArgv(['--conditions=atoll-source', '-C', 'dev', '--import', 'tsx', '--inspect=9229', '--max-old-space-size=512', '--enable-source-maps', '--require=x.cjs', '--loader', 'y.mjs', '--test', '-C']),
      ['--conditions=atoll-source', '-C', 'dev', '--max-old-space-size=512', '--enable-source-maps'],
    );
    assert.deepEqual(childExecArgv(['--conditions', 'a', '--preserve-symlinks']), ['--conditions', 'a', '--preserve-symlinks']);
  });
});
