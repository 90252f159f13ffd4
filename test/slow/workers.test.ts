/**
 * `atoll serve --workers N`: N processes behind one port, each answering
 * pages; a signal stops them all; a worker that hits a bug drains its
 * responses in flight before it exits, and the primary starts another.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { connect } from 'node:net';
import { join } from 'node:path';
import { test } from 'node:test';
import { fixture, layout, litElement, makeSite, repoRoot } from '../helpers.ts';


/** The URL `serve --workers 2` announces once all its workers listen. */
function announcedUrl(child: ChildProcess, stderr: () => string): Promise<string> {
  return new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d: Buffer) => {
      out += d;
      const m = /at (http:\/\/[^ ]+) \(2 workers\)/.exec(out);
      if (m) resolve(m[1]!);
    });
    child.on('exit', (code) => reject(new Error(`serve exited ${code}: ${stderr()}`)));
  });
}

test('serve --workers 2 answers from two processes on one port and stops on SIGTERM', { timeout: 60_000 }, async () => {
  // A throw-away site: serve builds its client side first.
  const root = makeSite({ 'layouts/index.html': layout('<x-hello name="{query.name}"></x-hello>'), 'elements/x-hello/index.ts': litElement('x-hello') });
  const child = spawn(process.execPath, [join(repoRoot, 'bin', 'atoll.mjs'), 'serve', '--root', root, '--port', '0', '--workers', '2', '--quiet'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d));
  try {
    const url = await announcedUrl(child, () => stderr);
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

test('serve --workers 2: a worker that hits an uncaught exception finishes its pages in flight, exits 1 and is replaced', { timeout: 90_000 }, async () => {
  const child = spawn(process.execPath, [join(repoRoot, 'bin', 'atoll.mjs'), 'serve', '--root', fixture('ops'), '--port', '0', '--workers', '2'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d));
  try {
    const url = await announcedUrl(child, () => stderr);
    // Both requests on one connection, so one worker has both: the slow
    // page is in flight when /crash leaves a throwing timer behind.
    const socket = connect(Number(new URL(url).port), '127.0.0.1');
    let raw = '';
    socket.on('data', (d: Buffer) => (raw += d));
    const closed = new Promise<void>((r) => socket.on('close', () => r()));
    socket.write('GET /slow?ms=1500 HTTP/1.1\r\nHost: t\r\n\r\nGET /crash HTTP/1.1\r\nHost: t\r\n\r\n');
    await closed;
    assert.match(raw, /data-waited="1500"[\s\S]*<\/html>/, 'the page in flight on the dying worker was completed');
    assert.match(raw, /crash scheduled/);
    assert.match(stderr, /"msg":"uncaught: draining, then exiting with 1"/);
    // The primary replaces the worker, and the server goes on answering.
    const deadline = Date.now() + 20_000;
    while (!/worker \d+ stopped \(1\); starting another/.test(stderr) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    assert.match(stderr, /worker \d+ stopped \(1\); starting another/);
    for (let i = 0; i < 4; i++) assert.equal((await fetch(url + '/plain', { headers: { connection: 'close' } })).status, 200);
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    child.kill('SIGTERM');
    assert.equal(await exited, 0, stderr);
  } finally {
    child.kill('SIGKILL');
  }
});
