/**
 * `atoll dev` as the command runs it (bin/atoll.mjs in a child process): it
 * prints its address, serves, survives site code that throws from a timer
 * or leaves a promise rejected after start-up (reported on stderr, the
 * server goes on), and stops with exit code 0 on SIGTERM. A port in use is
 * a clear error and exit code 1.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { repoRoot } from '../helpers.ts';
import { CARD, events, makeDevSite } from './dev-fixture.ts';

function start(args: string[]): { child: ChildProcess; out: () => string; err: () => string; url: Promise<string> } {
  const child = spawn(process.execPath, [join(repoRoot, 'bin/atoll.mjs'), 'dev', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const url = new Promise<string>((resolve, reject) => {
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /(http:\/\/[^\s]+)/.exec(out);
      if (m) resolve(m[1]!);
    });
    child.once('exit', (code) => reject(new Error(`atoll dev exited with ${code}: ${err}`)));
  });
  url.catch(() => {});
  return { child, out: () => out, err: () => err, url };
}

const exited = (child: ChildProcess): Promise<number | null> =>
  child.exitCode !== null ? Promise.resolve(child.exitCode) : new Promise((r) => child.once('exit', (code) => r(code)));

describe('atoll dev (the command)', { timeout: 120_000 }, () => {
  const site = makeDevSite();
  const children: ChildProcess[] = [];
  after(() => {
    for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
    site.remove();
  });

  it('serves, survives a late throw and an unhandled rejection in site code, and exits 0 on SIGTERM', async () => {
    const dev = start(['--root', site.root, '--port', '0', '--host', '127.0.0.1']);
    children.push(dev.child);
    const base = await dev.url;
    assert.match(await (await fetch(base + '/')).text(), /card one/);
    const channel = events(base);
    await channel.next((e) => e.event === 'hello');
    // After it loads, the module throws from a timer and leaves a promise rejected.
    site.write('elements/d-card.ts', CARD('late') + `setTimeout(() => { throw new Error('late timer throw'); }, 1500);\nsetTimeout(() => { Promise.reject(new Error('late rejection')); }, 1600);\n`);
    await channel.next((e) => e.event === 'reload');
    await new Promise((r) => setTimeout(r, 2500));
    channel.close();
    assert.equal(dev.child.exitCode, null, `still running; stderr: ${dev.err()}`);
    assert.match(dev.err(), /late timer throw/);
    assert.match(dev.err(), /late rejection/);
    assert.match(await (await fetch(base + '/')).text(), /card late/);
    dev.child.kill('SIGTERM');
    assert.equal(await exited(dev.child), 0);
  });

  it('a port in use is a clear error and exit code 1', async () => {
    const blocker = createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', () => r()));
    const { port } = blocker.address() as { port: number };
    try {
      const dev = start(['--root', site.root, '--port', String(port), '--host', '127.0.0.1']);
      children.push(dev.child);
      assert.equal(await exited(dev.child), 1);
      assert.match(dev.err(), /port is in use/);
    } finally {
      blocker.close();
    }
  });
});
