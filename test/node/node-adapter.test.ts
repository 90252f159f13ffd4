/**
 * The Node adapter's safety net (issue 9 item 1, transport side): nothing
 * thrown while writing a response escapes the request listener. Node's
 * `writeHead` and `write` are made to throw for one response each (as they
 * do on an invalid header value or status); the client gets a clean 500, or
 * that response alone ends, the failure is counted and logged once, no
 * exception or rejection reaches the process, and the next request is fine.
 */
import assert from 'node:assert/strict';
import { createServer, request, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { nodeHandler, RawRequestHeaders } from '../../ssr-server/adapters/node.ts';
import { loadSite } from '../../ssr-server/site/load.ts';
import { after, before, describe, test } from 'node:test';
import { createAtoll, listen, memoryLogger, type RunningServer } from '../../ssr-server/index.ts';
import { fixture, seeded } from '../helpers.ts';

const logger = memoryLogger();
let running: RunningServer;
const escaped: unknown[] = [];
const onEscaped = (e: unknown): void => void escaped.push(e);

before(async () => {
  process.on('uncaughtException', onEscaped);
  process.on('unhandledRejection', onEscaped);
  running = await listen(await createAtoll({ root: fixture('ops'), logger }), { port: 0 });
});

after(async () => {
  await running.close({ drainMs: 1000 });
  process.off('uncaughtException', onEscaped);
  process.off('unhandledRejection', onEscaped);
});

/** Raw GET: status, headers and body, or how it ended. */
function get(path: string, method = 'GET', base = running.url): Promise<{ status: number; headers: Record<string, unknown>; body: string; complete: boolean }> {
  const { hostname, port } = new URL(base);
  return new Promise((resolve, reject) => {
    const req = request({ host: hostname, port, path, method, agent: false }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d));
      const done = (): void => resolve({ status: res.statusCode!, headers: res.headers, body, complete: res.complete });
      res.on('end', done);
      res.on('error', done);
      res.on('aborted', done);
    });
    req.on('error', reject);
    req.end();
  });
}

/** Replaces a `ServerResponse` method for the responses `when` picks; restores it after `fn`. */
async function patched<K extends 'writeHead' | 'write'>(name: K, when: (res: ServerResponse, args: unknown[]) => boolean, fn: () => Promise<void>): Promise<void> {
  const original = ServerResponse.prototype[name] as (...args: unknown[]) => unknown;
  (ServerResponse.prototype as unknown as Record<string, unknown>)[name] = function (this: ServerResponse, ...args: unknown[]) {
    if (when(this, args)) {
      // What Node throws for a bad header value; its toString throws too, as a hostile hook value's would.
      const e = new TypeError('Invalid character in header content ["set-cookie"]');
      Object.defineProperty(e, 'stack', { get: () => { throw new Error('no stack either'); } });
      throw e;
    }
    return original.apply(this, args);
  };
  try {
    await fn();
  } finally {
    (ServerResponse.prototype as unknown as Record<string, unknown>)[name] = original;
  }
}

async function normalRequestWorks(): Promise<void> {
  const res = await get('/plain');
  assert.equal(res.status, 200);
  assert.match(res.body, /plain page[\s\S]*<\/html>/);
}

describe('nothing thrown while writing a response escapes', { timeout: 20_000 }, () => {
  test('writeHead throws: the client gets a clean 500, counted and logged once', async () => {
    const before = running.stats();
    let thrown = 0;
    await patched('writeHead', (_res, args) => args[0] === 200 && thrown++ === 0, async () => {
      const res = await get('/plain');
      assert.equal(res.status, 500);
      assert.equal(res.body, 'Internal Server Error\n');
      assert.equal(res.headers['content-type'], 'text/plain; charset=utf-8');
      assert.equal(res.headers['x-content-type-options'], 'nosniff');
      assert.equal(res.headers['cache-control'], 'no-store');
      assert.equal((await get('/plain', 'HEAD')).status, 200, 'only the one response failed');
    });
    assert.equal(thrown, 2);
    assert.equal(running.stats().headFailures - before.headFailures, 1);
    const lines = logger.lines.filter((l) => l.msg === 'the response head could not be written; answered 500');
    assert.equal(lines.length, 1);
    assert.match(JSON.stringify(lines[0]), /Invalid character in header content/);
    assert.deepEqual(escaped, []);
    await normalRequestWorks();
  });

  test('a write throws mid-stream: that response ends, the server goes on', async () => {
    const before = running.stats();
    let writes = 0;
    await patched('write', () => ++writes === 2, async () => {
      const res = await get('/slow?ms=50');
      assert.equal(res.status, 200);
      assert.equal(res.complete, false, 'the failed response was ended, not completed');
    });
    assert.equal(running.stats().bodyFailures - before.bodyFailures, 1);
    assert.equal(logger.lines.filter((l) => l.msg === 'rendering failed mid-stream').length, 1);
    assert.deepEqual(escaped, []);
    await normalRequestWorks();
  });

  test('Early Hints links that are not valid header values are left out (no corrupt response, no injected header); the page is served', async () => {
    const hintsLogger = memoryLogger();
    const handler = nodeHandler({
      site: await loadSite({ root: fixture('ops') }),
      logger: hintsLogger,
      // Node writes Early Hints straight to the socket: a control character
      // such as U+0001 passes its check and breaks the response; CR LF makes
      // it throw, which left out every hint. Only the good one goes out.
      preloads: () => ['</_atoll/assets/x.js>; rel=modulepreload\u0001', '</y.js>; rel=modulepreload\r\nset-cookie: injected=1', '</_atoll/assets/ok.js>; rel=modulepreload'],
    });
    const server = createServer(handler);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const { port } = server.address() as AddressInfo;
      const hints: Array<Record<string, unknown>> = [];
      const res = await new Promise<Awaited<ReturnType<typeof get>>>((resolve, reject) => {
        const req = request({ host: '127.0.0.1', port, path: '/slow?ms=20', agent: false }, (r) => {
          let body = '';
          r.on('data', (d: Buffer) => (body += d));
          r.on('end', () => resolve({ status: r.statusCode!, headers: r.headers, body, complete: r.complete }));
        });
        req.on('information', (info) => hints.push(info.headers));
        req.on('error', reject);
        req.end();
      });
      assert.deepEqual(hints.map((h) => h.link), ['</_atoll/assets/ok.js>; rel=modulepreload']);
      assert.equal(res.headers['set-cookie'], undefined);
      assert.equal(res.status, 200);
      assert.ok(res.complete);
      assert.match(res.body, /data-waited="20"[\s\S]*<\/html>/);
      const dropped = hintsLogger.lines.filter((l) => l.msg === 'Early Hints could not be written; left out');
      assert.equal(dropped.length, 1);
      assert.match(String(dropped[0]!.links), /injected=1/);
      assert.deepEqual(escaped, []);
    } finally {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    }
  });
});

describe('request headers read from the raw lines', () => {
  test('answer as WHATWG Headers.get does: any case, repeated fields joined, pseudo-headers left out', () => {
    const raw = ['Host', 'x', 'Accept-Language', 'de', ':path', '/p', 'accept-language', 'en;q=0.5', 'Cookie', 'a=1', 'COOKIE', 'b=2', 'X-Empty', ''];
    const h = new RawRequestHeaders(raw);
    assert.equal(h.get('accept-language'), 'de, en;q=0.5');
    assert.equal(h.get('ACCEPT-LANGUAGE'), 'de, en;q=0.5');
    assert.equal(h.get('cookie'), 'a=1; b=2', 'cookie lines joined as cookies');
    assert.equal(h.get('x-empty'), '');
    assert.equal(h.get(':path'), null, 'an HTTP/2 pseudo-header is no header');
    assert.equal(h.get('missing'), null);
  });

  test('random header lines: the same answers as Headers', () => {
    const rand = seeded(14);
    const names = ['accept', 'Accept', 'x-a', 'X-A', 'cookie', 'user-agent', 'x-request-id'];
    const values = ['', 'v', ' padded ', 'a, b', '\ttab', 'ü', 'x'.repeat(300)];
    for (let round = 0; round < 200; round++) {
      const raw: string[] = [];
      const web = new Headers();
      for (let i = Math.floor(rand() * 8); i > 0; i--) {
        const name = names[Math.floor(rand() * names.length)]!;
        const value = values[Math.floor(rand() * values.length)]!;
        raw.push(name, value);
        web.append(name, value);
      }
      const mine = new RawRequestHeaders(raw);
      for (const name of names) assert.equal(mine.get(name), web.get(name), `${name} in ${JSON.stringify(raw)}`);
    }
  });
});
