/**
 * `atoll serve` building in a child process (ssr-server/build/child.ts), the
 * slower cases (each starts the command line and builds; ~10 s each on a
 * busy 2-core machine): a stale build is rebuilt in a child and the new
 * build served, with no rollup module resolved by the serving process; a
 * broken client module and a Node built-in in one exit 1 with the same
 * error the in-process build printed (rollup's message with file:line:col,
 * its stack). The fast cases are in test/node/serve-build.test.ts.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { buildClient } from '../../ssr-server/build/build.ts';
import { loadSite } from '../../ssr-server/index.ts';
import { makeSite } from '../helpers.ts';
import { card, gone, lines, serve, siteFiles } from '../node/serve-build-fixture.ts';

describe('atoll serve builds in a child process', () => {
  test('a stale build: rebuilt in a child, the new build served, rollup never resolved by the server', { timeout: 90_000 }, async () => {
    const root = makeSite(siteFiles('sb-card'));
    // The first build in this test process; then the element changes: the build is stale.
    await buildClient(await loadSite({ root }));
    writeFileSync(join(root, 'elements/sb-card.ts'), card('sb-card', 'card two'));
    const records = mkdtempSync(join(tmpdir(), 'atoll-serve-build-rec-'));
    const server = join(records, 'server.txt');
    const child = join(records, 'child.txt');
    const s = serve(['--root', root], { SB_RECORD_SERVER: server, SB_RECORD_CHILD: child });
    try {
      const url = (await s.waitFor(/Atoll is serving .* at (http:\/\/\S+)/, 60_000))[1]!;
      const page = await (await fetch(url + '/')).text();
      const entry = /"@atoll\/sb-card":"([^"]+)"/.exec(page)?.[1];
      assert.ok(entry, page);
      const module = await (await fetch(url + entry)).text();
      assert.match(module, /card two/, 'the new build is served');
      assert.doesNotMatch(module, /card one/);

      const started = /"msg":"building the client in a child process".*"reason":"a source file changed","pid":(\d+)/.exec(s.output());
      assert.ok(started, s.output());
      const pid = Number(started[1]);
      assert.notEqual(pid, s.child.pid);
      assert.ok(await gone(pid), 'the build child exited');
      assert.deepEqual(lines(server), [], 'the serving process resolved no rollup module');
      assert.ok(lines(child).some((u) => /\/node_modules\/rollup\//.test(u)), 'the same hook sees rollup in the child');
    } finally {
      s.child.kill('SIGTERM');
      await s.exited;
    }
  });

  test('a broken client module: the error an in-process build printed (plugin, file:line:col, stack), exit 1', { timeout: 60_000 }, async () => {
    const broken = 'import { LitElement, html } from \'lit\';\nclass El extends LitElement {\n  render() { return html`<p>x</p>` +; }\n}\ncustomElements.define(\'sb-card\', El);\n';
    const root = makeSite(siteFiles('sb-card', { 'client/sb-card.ts': broken, 'atoll.config.json': '{ "elements": { "sb-card": { "client": "./client/sb-card.ts" } } }' }));
    const s = serve(['--root', root]);
    const { code } = await s.exited;
    assert.equal(code, 1, s.output());
    const file = join(root, 'client/sb-card.ts');
    // Before the build moved to a child, on the same site: `atoll serve: RollupError: [plugin
    // atoll-site-resolution] <relative>/client/sb-card.ts: <file>:3:37: Unexpected ";"` and rollup's stack.
    assert.ok(s.output().includes(`: ${file}:3:37: Unexpected ";"\n    at getRollupError (`), s.output());
    assert.match(s.output(), /\natoll serve: RollupError: \[plugin atoll-site-resolution\] /);
    assert.match(s.output(), /at Object\.transform \(.*ssr-server\/build\/plugins\.ts:\d+:\d+\)/, 'the stack points into the sources');
    assert.doesNotMatch(s.output(), /Atoll is serving/);
  });

  test('a Node built-in in a client module: the build\'s message, exit 1', { timeout: 60_000 }, async () => {
    const root = makeSite(siteFiles('sb-card', { 'elements/sb-card.ts': `import 'node:fs';\n${card('sb-card', 'x')}` }));
    const s = serve(['--root', root]);
    assert.equal((await s.exited).code, 1, s.output());
    assert.match(s.output(), /atoll serve: RollupError: .*elements\/sb-card\.ts imports "node:fs", a Node built-in: browser bundles cannot include it/);
  });
});
