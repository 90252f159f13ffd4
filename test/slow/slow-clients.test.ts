/**
 * Slow and stalled clients (issue 9 item 6). The server runs in its own
 * process (test/fixtures/ops/probe-server.ts) so that its memory and handles
 * are measured alone, with `sendTimeout` 1 s. Clients that never read a 4 MB
 * page are closed after the send timeout and counted, and the server's RSS
 * stays bounded with 1,000 of them; a request head trickled byte by byte is
 * cut; 1,000 clients that go away mid-stream leave no handles or heap behind.
 * After each, a normal request still succeeds. Measured numbers are printed
 * (`# …` lines).
 */
import assert from 'node:assert/strict';
import { fork, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { connect, type Socket } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fixture, layout, makeSite } from '../helpers.ts';

const MiB = 1024 * 1024;
const SEND_TIMEOUT = 1000;
const ops = fixture('ops');

// A 4.4 MB static layout part (encoded once, shared by every response) and a
// 4.5 MB element rendered per request; the slow element waits before it
// renders. The static text is random (base64), so that compression leaves
// most of its size: a compressed response stalls like a plain one.
let bigText = '';
while (bigText.length < 4.4 * MiB) bigText += `<p>${randomBytes(768).toString('base64')}</p>\n`;
const site = makeSite({
  'layouts/index.html': layout(`<p id="top">top</p>
<atoll-route path="/static"><main>${bigText}</main></atoll-route>
<atoll-route path="/dynamic"><ops-big kb="4500"></ops-big></atoll-route>
<atoll-route path="/slow"><ops-slow ms="{query.ms}" timeout="20s"><p>fallback</p></ops-slow></atoll-route>
<atoll-route path="/plain"><p>plain page</p></atoll-route>
<p id="bottom">end of the page</p>`),
  'elements/ops-big/index.ts': `export * from '${join(ops, 'elements/ops-big/index.ts')}';\n`,
  'elements/ops-slow/index.ts': `export * from '${join(ops, 'elements/ops-slow/index.ts')}';\n`,
  'elements/ops-slow/server.ts': `export * from '${join(ops, 'elements/ops-slow/server.ts')}';\n`,
});

interface Stats {
  rss: number;
  peakRss: number;
  heapUsed: number;
  resources: string[];
  stats: { inFlight: number; sendTimeouts: number; bufferLimits: number; stalledClosed: number };
  handler: { inFlight: number; stalledClosed: number };
  warnings: number;
}

let probe: ChildProcess;
let base: string;
let port: number;
let unixPath: string;
let nextId = 0;

/** The probe's numbers; `gc` runs two full collections first (for heap figures). */
function stats(gc = false): Promise<Stats> {
  const id = ++nextId;
  return new Promise((resolve) => {
    const onMessage = (m: Stats & { id?: number }): void => {
      if (m.id !== id) return;
      probe.off('message', onMessage);
      resolve(m);
    };
    probe.on('message', onMessage);
    probe.send({ id, cmd: 'stats', gc });
  });
}

const mb = (n: number): string => `${(n / MiB).toFixed(1)} MB`;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Polls the probe until `done(stats)` holds, for at most `ms`. */
async function until(done: (s: Stats) => boolean, ms: number): Promise<Stats> {
  const end = performance.now() + ms;
  for (;;) {
    const s = await stats();
    if (done(s) || performance.now() > end) return s;
    await sleep(100);
  }
}

/** A client that sends a GET and then never reads (it stays paused); on TCP, or on the probe's Unix socket. */
function stalledClient(path: string, headers = '', unix = false): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const sendRequest = (): void => {
      socket.write(`GET ${path} HTTP/1.1\r\nHost: t\r\n${headers}\r\n`);
      resolve(socket);
    };
    const socket = unix ? connect(unixPath, sendRequest) : connect(port, '127.0.0.1', sendRequest);
    socket.pause();
    socket.on('error', () => {});
    socket.once('error', reject);
  });
}

async function normalRequestWorks(): Promise<void> {
  const res = await fetch(`${base}/plain`, { headers: { connection: 'close' } });
  assert.equal(res.status, 200);
  assert.match(await res.text(), /plain page[\s\S]*<\/html>/);
}

before(async () => {
  probe = fork(join(ops, 'probe-server.ts'), [site, JSON.stringify({ sendTimeout: SEND_TIMEOUT }), JSON.stringify({ headersTimeout: 1000 })], {
    execArgv: ['--import', 'tsx', '--expose-gc'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  base = await new Promise<string>((resolve, reject) => {
    probe.once('message', (m: { url: string; unixPath: string }) => {
      unixPath = m.unixPath;
      resolve(m.url);
    });
    probe.once('exit', (code) => reject(new Error(`the probe server exited (${code})`)));
  });
  port = Number(new URL(base).port);
  await normalRequestWorks();
});

after(async () => {
  probe.disconnect(); // the probe closes its Unix socket and exits
  await new Promise((r) => setTimeout(r, 500));
  probe.kill('SIGKILL');
});

describe('stalled clients', { timeout: 90_000 }, () => {
  test('20 clients that never read a 4.4 MB page (static or rendered) are closed after sendTimeout and counted', async () => {
    const before = await stats(true);
    const started = performance.now();
    const sockets = await Promise.all(Array.from({ length: 20 }, (_, i) => stalledClient(i % 2 === 0 ? '/static' : '/dynamic')));
    const closedAt = new Map<Socket, number>();
    for (const s of sockets) s.once('close', () => closedAt.set(s, performance.now()));
    const during = await until((s) => s.stats.inFlight >= 20, 3000);
    const after = await until((s) => s.stats.stalledClosed - before.stats.stalledClosed >= 20, 10_000);
    const ms = performance.now() - started;
    const peak = Math.max(during.peakRss, after.peakRss);
    console.log(`# 20 stalled clients of a 4.4 MB page: server RSS ${mb(before.rss)} before, peak ${mb(peak)} (+${mb(peak - before.rss)}), ${mb(after.rss)} after; all closed ${Math.round(ms)} ms after they connected (sendTimeout ${SEND_TIMEOUT} ms)`);
    assert.equal(after.stats.stalledClosed - before.stats.stalledClosed, 20, JSON.stringify(after.stats));
    assert.ok(ms >= SEND_TIMEOUT, 'not before the send timeout');
    assert.ok(ms < SEND_TIMEOUT + 5000, `closed within a bounded time (${Math.round(ms)} ms)`);
    assert.equal(after.warnings - before.warnings, 20, 'one log line per closed client');
    assert.equal(after.stats.inFlight, 0);
    // The clients see their connections end (reading now drains what the kernel held, then the end).
    for (const s of sockets) s.resume();
    await until(() => closedAt.size === 20, 5000);
    assert.equal(closedAt.size, 20);
    assert.ok(peak - before.rss < 200 * MiB, `peak RSS grew by ${mb(peak - before.rss)}`);
    await normalRequestWorks();
  });

  test('a client reading slowly but steadily is not cut off', async () => {
    const socket = await stalledClient('/static');
    let bytes = 0;
    let ended = false;
    socket.on('data', (d: Buffer) => {
      bytes += d.length;
      socket.pause();
      setTimeout(() => socket.resume(), 20);
    });
    socket.on('end', () => (ended = true));
    socket.resume();
    const before = await stats();
    await until(() => ended, 15_000);
    assert.ok(ended, `the slow reader got the whole page (${bytes} bytes)`);
    assert.ok(bytes > 4 * MiB);
    const after = await stats();
    assert.equal(after.stats.stalledClosed, before.stats.stalledClosed);
    socket.destroy();
  });

  test('1,000 stalled clients (plain, brotli, gzip): memory stays bounded and all are closed in bounded time', async () => {
    const before = await stats(true);
    const started = performance.now();
    const encodings = ['', 'Accept-Encoding: br\r\n', 'Accept-Encoding: gzip\r\n'];
    const sockets: Socket[] = [];
    for (let i = 0; i < 1000; i += 50) {
      sockets.push(...(await Promise.all(Array.from({ length: 50 }, (_, j) => stalledClient('/static', encodings[(i + j) % 3], true)))));
    }
    const connected = performance.now() - started;
    const after = await until((s) => s.stats.stalledClosed - before.stats.stalledClosed >= 1000, 25_000);
    const ms = performance.now() - started;
    const peak = after.peakRss;
    console.log(`# 1,000 stalled clients of a 4.4 MB page (a third each plain, brotli, gzip): server RSS ${mb(before.rss)} before, peak ${mb(peak)} (+${mb(peak - before.rss)}), ${mb(after.rss)} after; connected in ${Math.round(connected)} ms, all closed ${Math.round(ms)} ms after the first connected`);
    assert.equal(after.stats.stalledClosed - before.stats.stalledClosed, 1000, `${JSON.stringify(before.handler)} → ${JSON.stringify(after.handler)}`);
    assert.ok(ms < 25_000, `all closed within ${Math.round(ms)} ms`);
    // Measured here: +50 to +100 MB, up to +210 MB on a loaded machine
    // (mostly compressor state and the allocator's arenas); all closed in
    // about 3 s. Without the send timeout nothing is ever closed;
    // without the bound on compressors, brotli alone holds ~2 MB per stalled
    // client (~750 MB for these 333).
    assert.ok(peak - before.rss < 400 * MiB, `peak RSS grew by ${mb(peak - before.rss)}`);
    for (const s of sockets) s.destroy();
    await normalRequestWorks();
  });
});

describe('slowloris', { timeout: 30_000 }, () => {
  test('a request head trickled byte by byte is cut after headersTimeout (1 s here), checked every second', async () => {
    const head = 'GET /plain HTTP/1.1\r\nHost: t\r\nX-Slow: ' + 'a'.repeat(200) + '\r\n\r\n';
    const socket = connect(port, '127.0.0.1');
    socket.on('error', () => {});
    const started = performance.now();
    let sent = 0;
    const timer = setInterval(() => {
      if (!socket.destroyed && sent < head.length) socket.write(head[sent++]!);
    }, 50);
    let response = '';
    socket.on('data', (d: Buffer) => (response += d));
    await new Promise<void>((r) => socket.once('close', () => r()));
    clearInterval(timer);
    const ms = performance.now() - started;
    console.log(`# slowloris: cut after ${Math.round(ms)} ms, ${sent} of ${head.length} header bytes sent; answer ${JSON.stringify(response.split('\r\n')[0])}`);
    assert.ok(sent < head.length, 'cut before the head was complete');
    assert.ok(ms < 3500, `cut ${Math.round(ms)} ms after it connected`);
    // Node answers 408 when its check finds the head late; on a loaded machine the socket may be
    // destroyed before that answer is flushed. Either way the connection is cut in bounded time.
    assert.ok(response === '' || /^HTTP\/1\.1 408/.test(response), `answer: ${JSON.stringify(response.slice(0, 40))}`);
    await normalRequestWorks();
  });

  test('a connection that sends nothing is cut too', async () => {
    const socket = connect(port, '127.0.0.1');
    socket.on('error', () => {});
    socket.resume(); // flowing, so that the server's end is seen
    const started = performance.now();
    await new Promise<void>((r) => socket.once('close', () => r()));
    const ms = performance.now() - started;
    assert.ok(ms < 3500, `cut after ${Math.round(ms)} ms`);
    await normalRequestWorks();
  });
});

describe('clients that go away mid-stream', { timeout: 60_000 }, () => {
  /** Requests a page whose element waits 30 ms and goes away after the first chunk. */
  const abortAfterFirstChunk = (): Promise<void> =>
    new Promise((resolve) => {
      const socket = connect(port, '127.0.0.1', () => socket.write('GET /slow?ms=30 HTTP/1.1\r\nHost: t\r\n\r\n'));
      socket.on('error', () => resolve());
      socket.once('data', () => {
        socket.destroy();
        resolve();
      });
    });
  const run = async (n: number): Promise<void> => {
    for (let i = 0; i < n; i += 50) await Promise.all(Array.from({ length: Math.min(50, n - i) }, abortAfterFirstChunk));
  };

  test('1,000 mid-stream aborts leave no growth in active handles or heap', async () => {
    await run(100); // warm-up: code paths compiled, pools and caches at their working size
    await until((s) => s.stats.inFlight === 0, 5000);
    const before = await stats(true);
    const started = performance.now();
    await run(1000);
    const ms = performance.now() - started;
    await until((s) => s.stats.inFlight === 0, 5000);
    const after = await stats(true);
    const count = (r: string[]): Record<string, number> => r.reduce<Record<string, number>>((m, k) => ((m[k] = (m[k] ?? 0) + 1), m), {});
    console.log(`# 1,000 mid-stream aborts in ${Math.round(ms)} ms: heap ${mb(before.heapUsed)} → ${mb(after.heapUsed)}, resources ${JSON.stringify(count(before.resources))} → ${JSON.stringify(count(after.resources))}`);
    assert.equal(after.stats.inFlight, 0, 'nothing left in flight');
    assert.ok(after.resources.length <= before.resources.length + 2, `active resources ${before.resources.length} → ${after.resources.length}`);
    assert.ok(after.heapUsed - before.heapUsed < 8 * MiB, `heap grew by ${mb(after.heapUsed - before.heapUsed)}`);
    await normalRequestWorks();
  });
});
