/**
 * Operations: graceful shutdown and health. On SIGTERM `atoll serve` stops
 * accepting, lets the page in flight finish (here one whose element waits
 * 1.5 s, so its head and top are out before the signal), then exits 0; with
 * `--workers 2` every worker drains the same way. `/_atoll/health` answers
 * "starting" while the site loads (the fixture's element module delays its
 * import by 1 s), "ready" when serving and "draining" after the signal.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { request, type IncomingHttpHeaders } from 'node:http';
import { connect } from 'node:net';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { createAtoll, listen, memoryLogger } from '../../ssr-server/index.ts';
import { fixture, repoRoot } from '../helpers.ts';

const root = fixture('ops');

interface Served {
  child: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  exited: Promise<{ code: number | null; at: number }>;
}

function serve(args: string[], env: Record<string, string> = {}): Served {
  const child = spawn(process.execPath, [join(repoRoot, 'bin', 'atoll.mjs'), 'serve', '--root', root, '--port', '0', ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ...env },
  });
  let out = '';
  let err = '';
  child.stdout!.on('data', (d: Buffer) => (out += d));
  child.stderr!.on('data', (d: Buffer) => (err += d));
  const exited = new Promise<{ code: number | null; at: number }>((resolve) => child.on('exit', (code) => resolve({ code, at: performance.now() })));
  return { child, stdout: () => out, stderr: () => err, exited };
}

/** Polls `read()` until `re` matches (or the process exits, or 60 s pass: a first run builds the fixture's client). */
async function waitFor(s: Served, read: () => string, re: RegExp): Promise<RegExpExecArray> {
  let dead = false;
  void s.exited.then(() => (dead = true));
  const until = performance.now() + 60_000;
  for (;;) {
    const m = re.exec(read());
    if (m) return m;
    if (dead || performance.now() > until) throw new Error(`no ${re} in the output; stdout: ${s.stdout()}\nstderr: ${s.stderr()}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

interface Streamed {
  status: number;
  headers: IncomingHttpHeaders;
  firstChunk: Promise<string>;
  done: Promise<{ body: string; complete: boolean }>;
}

/** A GET on its own connection whose body is read as it streams. */
function stream(base: string, path: string): Promise<Streamed> {
  const { hostname, port } = new URL(base);
  return new Promise((resolve, reject) => {
    const req = request({ host: hostname, port, path, agent: false }, (res) => {
      let body = '';
      let first: (s: string) => void;
      const firstChunk = new Promise<string>((r) => (first = r));
      const done = new Promise<{ body: string; complete: boolean }>((r) => {
        res.on('data', (d: Buffer) => {
          body += d;
          first(body);
        });
        res.on('end', () => r({ body, complete: res.complete }));
        res.on('error', () => r({ body, complete: false }));
        res.on('aborted', () => r({ body, complete: false }));
      });
      resolve({ status: res.statusCode!, headers: res.headers, firstChunk, done });
    });
    req.on('error', reject);
    req.end();
  });
}

/** Resolves with the error code of a fresh connection attempt ('connected' if it was accepted). */
function tryConnect(base: string): Promise<string> {
  const { hostname, port } = new URL(base);
  return new Promise((resolve) => {
    const socket = connect(Number(port), hostname);
    socket.once('connect', () => {
      socket.destroy();
      resolve('connected');
    });
    socket.once('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? e.message));
  });
}

/** Polls fresh connections until one is refused; resolves with how long that took (or the last outcome). */
async function refusedWithin(base: string, ms: number): Promise<string> {
  const until = performance.now() + ms;
  for (;;) {
    const outcome = await tryConnect(base);
    if (outcome === 'ECONNREFUSED' || performance.now() > until) return outcome;
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function get(base: string, path: string, method = 'GET'): Promise<{ status: number; headers: Headers; text: string }> {
  const res = await fetch(base + path, { method, headers: { connection: 'close' } });
  return { status: res.status, headers: res.headers, text: await res.text() };
}

const assertHealthHeaders = (headers: Headers): void => {
  assert.equal(headers.get('cache-control'), 'no-store');
  assert.equal(headers.get('x-content-type-options'), 'nosniff');
  assert.match(headers.get('content-type') ?? '', /^application\/json/);
};

describe('atoll serve: health and graceful shutdown', { timeout: 120_000 }, () => {
  const children: ChildProcess[] = [];
  after(() => {
    for (const c of children) c.kill('SIGKILL');
  });

  test('health answers "starting" while the site loads, then "ready"; SIGTERM lets the streaming page finish, refuses new connections and exits 0', async () => {
    const s = serve([], { ATOLL_OPS_IMPORT_DELAY_MS: '1000' });
    children.push(s.child);
    const base = (await waitFor(s, s.stderr, /"msg":"listening; loading the site","url":"(http:\/\/[^"]+)"/))[1]!;

    // The site is still loading (its element module waits 1 s before it is evaluated).
    const starting = await get(base, '/_atoll/health');
    assert.equal(starting.status, 503);
    assert.deepEqual(JSON.parse(starting.text), { status: 'starting' });
    assertHealthHeaders(starting.headers);
    const head = await get(base, '/_atoll/health', 'HEAD');
    assert.equal(head.status, 503);
    assert.equal(head.text, '');
    const early = await get(base, '/plain');
    assert.equal(early.status, 503);
    assert.equal(early.headers.get('retry-after'), '1');
    assert.equal(early.headers.get('x-content-type-options'), 'nosniff');
    assert.ok(!s.stdout().includes('Atoll is serving'), 'still starting while those were answered');

    await waitFor(s, s.stdout, /Atoll is serving .* at http/);
    const ready = await get(base, '/_atoll/health');
    assert.equal(ready.status, 200);
    assert.deepEqual(JSON.parse(ready.text), { status: 'ready' });
    assertHealthHeaders(ready.headers);
    assert.equal((await get(base, '/plain')).status, 200);

    const page = await stream(base, '/slow?ms=1500');
    assert.equal(page.status, 200);
    assert.match(await page.firstChunk, /top of the page/);
    const signalled = performance.now();
    s.child.kill('SIGTERM');
    assert.equal(await refusedWithin(base, 3000), 'ECONNREFUSED', 'no new connections once draining');

    const { body, complete } = await page.done;
    assert.ok(complete, 'the page in flight was not cut off');
    assert.match(body, /data-waited="1500"/);
    assert.match(body, /end of the page<\/p>\s*<\/body>\s*<\/html>\s*$/);
    const { code, at } = await s.exited;
    assert.equal(code, 0, s.stderr());
    const ms = at - signalled;
    assert.ok(ms < 10_000, `exited ${Math.round(ms)} ms after SIGTERM (drain timeout 10 s)`);
    assert.match(s.stderr(), /"msg":"draining: no new connections[^\n]*"inFlight":1/);
    assert.match(s.stderr(), /"msg":"stopped","destroyed":0/);
  });

  test('serve --workers 2: every worker drains its pages in flight; the primary exits 0', async () => {
    const s = serve(['--workers', '2']);
    children.push(s.child);
    const base = (await waitFor(s, s.stdout, /at (http:\/\/\S+) \(2 workers\)/))[1]!;
    assert.equal((await get(base, '/_atoll/health')).status, 200);
    // Four pages on four connections: the primary hands connections to both workers in turn.
    const pages = await Promise.all(Array.from({ length: 4 }, () => stream(base, '/slow?ms=1500')));
    for (const p of pages) assert.match(await p.firstChunk, /top of the page/);
    const signalled = performance.now();
    s.child.kill('SIGTERM');
    assert.equal(await refusedWithin(base, 3000), 'ECONNREFUSED');
    for (const p of pages) {
      const { body, complete } = await p.done;
      assert.ok(complete, 'a page in flight on a stopping worker was cut off');
      assert.match(body, /data-waited="1500"[\s\S]*<\/html>\s*$/);
    }
    const { code, at } = await s.exited;
    assert.equal(code, 0, s.stderr());
    assert.ok(at - signalled < 10_000, `exited ${Math.round(at - signalled)} ms after SIGTERM`);
    const drained = s.stderr().match(/"msg":"stopped"/g) ?? [];
    assert.equal(drained.length, 2, `both workers drained: ${s.stderr()}`);
  });

  test('an exception nothing caught (a bug in a hook\'s timer) drains the pages in flight, then exits 1', async () => {
    const s = serve([]);
    children.push(s.child);
    const base = (await waitFor(s, s.stdout, /Atoll is serving .* at (http:\S+)/))[1]!;
    const page = await stream(base, '/slow?ms=1500');
    assert.match(await page.firstChunk, /top of the page/);
    assert.equal((await get(base, '/crash')).status, 200);
    const { body, complete } = await page.done;
    assert.ok(complete, 'the page in flight was not cut off');
    assert.match(body, /data-waited="1500"[\s\S]*<\/html>\s*$/);
    const { code } = await s.exited;
    assert.equal(code, 1);
    assert.match(s.stderr(), /"level":"error","msg":"uncaught: draining, then exiting with 1"[^\n]*a bug outside any request/);
  });
});

describe('listen(): the same drain path in code', () => {
  test('close() lets a page in flight finish and answers a health check that arrives while draining "draining"', async () => {
    const logger = memoryLogger();
    const running = await listen(createAtoll({ root, logger }), { port: 0 });
    await running.ready;
    const page = await stream(running.url, '/slow?ms=800');
    await page.firstChunk;
    // A health check whose head is still arriving when the drain starts (a
    // connection mid-request is not idle, so it is not closed under it).
    const { port } = new URL(running.url);
    const socket = connect(Number(port), '127.0.0.1');
    let raw = '';
    socket.on('data', (d: Buffer) => (raw += d));
    const ended = new Promise<void>((r) => socket.on('close', () => r()));
    socket.write('GET /_atoll/health HTTP/1.1\r\nHost: t\r\n');
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(running.state, 'ready');
    const closing = running.close({ drainMs: 5000 });
    assert.equal(running.state, 'draining');
    assert.equal(await tryConnect(running.url), 'ECONNREFUSED');
    socket.write('\r\n');
    await ended;
    assert.match(raw, /^HTTP\/1\.1 503 Service Unavailable/);
    assert.match(raw, /\{"status":"draining"\}/);
    assert.match(raw, /connection: close/i);
    const { body, complete } = await page.done;
    assert.ok(complete);
    assert.match(body, /data-waited="800"[\s\S]*<\/html>/);
    await closing;
    assert.equal(running.closed?.destroyed, 0);
  });

  test('a page still working at drainMs is cut off and counted; close() resolves at the bound', async () => {
    const running = await listen(await createAtoll({ root, logger: memoryLogger() }), { port: 0 });
    const page = await stream(running.url, '/slow?ms=5000');
    await page.firstChunk;
    const started = performance.now();
    await running.close({ drainMs: 300 });
    const ms = performance.now() - started;
    assert.ok(ms >= 290 && ms < 2000, `closed after ${Math.round(ms)} ms`);
    assert.equal(running.closed?.destroyed, 1);
    assert.equal((await page.done).complete, false);
  });

  test('a site that fails to load closes the server and rejects ready', async () => {
    const running = await listen(createAtoll({ root: join(root, 'no-such-site'), logger: memoryLogger() }), { port: 0 });
    await assert.rejects(running.ready, /site folder does not exist/);
    assert.equal(await tryConnect(running.url), 'ECONNREFUSED');
  });
});
