/**
 * `atoll serve --workers N`: N processes behind one port, each answering
 * pages; a signal stops them all.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { test } from 'node:test';
import { fixture, layout, litElement, makeSite, repoRoot } from '../helpers.ts';

test('serve --workers 2 answers from two processes on one port and stops on SIGTERM', { timeout: 60_000 }, async () => {
  // A throw-away site: serve builds its client side first.
  const root = makeSite({ 'layouts/index.html': layout('<x-hello name="{query.name}"></x-hello>'), 'elements/x-hello/index.ts': litElement('x-hello') });
  const child = spawn(process.execPath, [join(repoRoot, 'bin', 'atoll.mjs'), 'serve', '--root', root, '--port', '0', '--workers', '2', '--quiet'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d));
  try {
    const url = await new Promise<string>((resolve, reject) => {
      let out = '';
      child.stdout.on('data', (d: Buffer) => {
        out += d;
        const m = /at (http:\/\/[^ ]+) \(2 workers\)/.exec(out);
        if (m) resolve(m[1]!);
      });
      child.on('exit', (code) => reject(new Error(`serve exited ${code}: ${stderr}`)));
    });
    const statuses = await Promise.all(Array.from({ length: 8 }, () => fetch(url + '/?name=w', { headers: { connection: 'close' } }).then(async (r) => [r.status, (await r.text()).includes('name="w"')])));
    assert.deepEqual(statuses, Array.from({ length: 8 }, () => [200, true]));
    // The primary's atoll children are the two workers (read from /proc; esbuild helpers are left out).
    const { readdirSync, readFileSync } = await import('node:fs');
    const children = readdirSync('/proc').filter((p) => /^\d+$/.test(p)).filter((p) => {
      try {
        const parent = readFileSync(`/proc/${p}/stat`, 'utf8').split(') ')[1]!.split(' ')[1];
        return parent === String(child.pid) && readFileSync(`/proc/${p}/cmdline`, 'utf8').includes('atoll.mjs');
      } catch {
        return false;
      }
    });
    assert.equal(children.length, 2, `worker processes: ${children.join(', ')}`);
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    child.kill('SIGTERM');
    assert.equal(await exited, 0, stderr);
  } finally {
    child.kill('SIGKILL');
  }
});

test('serve refuses a bad --workers value', async () => {
  const child = spawn(process.execPath, [join(repoRoot, 'bin', 'atoll.mjs'), 'serve', '--root', fixture('basic'), '--workers', 'many'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d));
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
  assert.equal(code, 2);
  assert.match(stderr, /--workers takes a count or "auto", not "many"/);
});
