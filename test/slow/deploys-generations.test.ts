/**
 * Render generations (issue 16, docs/deploys.md "How a swap works"): real
 * HTTP on 127.0.0.1, a static server standing in for the CDN, element
 * versions as small `.mjs` files importing `lit`. A new map serves within
 * one poll interval; a request in flight during the swap finishes on its
 * version; broken versions never take traffic (logged, in the status);
 * push refresh and status need the token; a worker that dies mid-response
 * fails only what it was answering.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { createAtoll, listen, memoryLogger, type Atoll, type RunningServer } from '../../ssr-server/index.ts';
import { freePort } from '../free-port.ts';
import { layout, makeSite, repoRoot } from '../helpers.ts';
import { cdnServer, elementVersion, setMap, type Cdn } from '../node/deploys-generations-fixture.ts';

const TAG = 'dg-ver';
const TOKEN = 'deploy-token-for-tests-0123456789';

describe('generations: swap, drain, refusal', () => {
  let cdn: Cdn;
  let root: string;
  let atoll: Atoll;
  let running: RunningServer;
  const logger = memoryLogger();
  const POLL = 1000;

  const page = async (query = ''): Promise<string> => {
    const r = await fetch(`${running.url}/${query}`);
    assert.equal(r.status, 200);
    return r.text();
  };
  const versionOf = (html: string): string | undefined => /version <!--lit-part-->(\w+)/.exec(html)?.[1];

  before(async () => {
    cdn = await cdnServer();
    for (const v of ['one', 'two', 'three', 'four']) cdn.put(`${TAG}/${v}/server.mjs`, elementVersion(TAG, v, cdn.url));
    cdn.put(`${TAG}/throws/server.mjs`, `throw new Error('broken at import');\n`);
    cdn.put(`${TAG}/notag/server.mjs`, `import { LitElement } from 'lit';\nexport class Nothing extends LitElement {}\n`);
    cdn.put(
      `${TAG}/renderthrows/server.mjs`,
      `import { LitElement, html } from 'lit';\nclass V extends LitElement { render() { throw new Error('render broke'); } }\ncustomElements.define('${TAG}', V);\n`,
    );
    root = makeSite({ 'layouts/index.html': layout(`<p>before</p>\n<${TAG} mode="{query.mode}"></${TAG}>\n<p>after</p>`) });
    setMap(root, cdn, { [TAG]: 'one' });
    writeFileSync(join(root, 'atoll.config.json'), JSON.stringify({ timeout: '30s', deploys: { importMap: 'map.json', allow: [cdn.url], pollInterval: POLL } }));
    atoll = await createAtoll({ root, logger, env: { ATOLL_DEPLOY_TOKEN: TOKEN } });
    running = await listen(atoll, { port: 0, host: '127.0.0.1' });
  });
  after(async () => {
    await running?.close();
    await cdn?.close();
  });

  test('the first generation serves the map\'s version, from a worker', async () => {
    assert.equal(versionOf(await page()), 'one');
    // The layout's map tag is no client-only element (the main thread, which loads the site without the map, does not say so),
    // and the map's client (built by atoll build --element) is not warned about as a foreign one.
    const said = logger.lines.map((l) => String(l.msg));
    assert.ok(!said.some((m) => m.includes(`<${TAG}> is not in the element registry`)), said.join('\n'));
    assert.ok(!said.some((m) => m.includes('must install the decoder')), said.join('\n'));
    const status = atoll.deploys!.status();
    assert.equal(status.current?.id, 1);
    assert.equal(status.current?.elements[TAG]?.client, `${cdn.url}/${TAG}/one/client.mjs`);
    // The main thread never imported the element: its registry has no such tag.
    assert.equal(atoll.site.registry.has(TAG), false);
  });

  test('a new map serves within one poll interval (plus its load), and a request in flight finishes on its version', async () => {
    // A request whose data() waits on the CDN's latch: its head and first bytes are out, its element is not.
    const held = await fetch(`${running.url}/?mode=wait`);
    assert.equal(held.status, 200);
    const reader = held.body!.getReader();
    let early = '';
    while (!early.includes('before')) early += new TextDecoder().decode((await reader.read()).value);
    await cdn.waiting(1);

    const changed = performance.now();
    setMap(root, cdn, { [TAG]: 'two' });
    let seen = '';
    while (performance.now() - changed < POLL + 15_000) {
      seen = versionOf(await page()) ?? '';
      if (seen === 'two') break;
      await new Promise((r) => setTimeout(r, 50));
    }
    const latency = performance.now() - changed;
    process.stdout.write(`# swap latency (map change → first response from the new version, poll ${POLL} ms): ${Math.round(latency)} ms\n`);
    assert.equal(seen, 'two', 'the new version serves');
    const status = atoll.deploys!.status();
    assert.equal(status.swaps, 1);
    assert.deepEqual(
      status.draining.map((d) => d.inFlight),
      [1],
      'the old generation drains its one request',
    );

    cdn.release();
    let rest = '';
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      rest += new TextDecoder().decode(value);
    }
    const whole = early + rest;
    assert.equal(versionOf(whole), 'one', 'the request in flight finished on version one');
    assert.match(whole, /waited <!--lit-part-->yes/);
    assert.match(whole, /<p>after<\/p>[\s\S]*<\/html>/);
    // Its last request ended: the old generation is stopped.
    for (let i = 0; i < 100 && atoll.deploys!.status().draining.length > 0; i++) await new Promise((r) => setTimeout(r, 20));
    assert.deepEqual(atoll.deploys!.status().draining, []);
  });

  for (const [broken, why] of [
    ['throws', /broken at import/],
    ['notag', /defined no custom element|does not define the element/],
    ['renderthrows', /failed its probe render/],
  ] as const) {
    test(`a version that ${broken === 'throws' ? 'throws on import' : broken === 'notag' ? 'defines no tag' : 'throws in render'} never takes traffic; the old one keeps serving`, async () => {
      const before = atoll.deploys!.status();
      setMap(root, cdn, { [TAG]: broken });
      const result = await atoll.deploys!.refresh();
      assert.equal(result.outcome, 'failed');
      const status = atoll.deploys!.status();
      assert.equal(status.current?.id, before.current?.id, 'the same generation serves');
      assert.match(status.lastFailure?.reason ?? '', why);
      assert.ok(status.lastFailure?.digest);
      assert.equal(versionOf(await page()), 'two', 'the version of the previous test still answers');
      assert.ok(
        logger.lines.some((l) => l.level === 'error' && /did not take traffic/.test(String(l.msg)) && why.test(String(l.reason))),
        'an error line says why',
      );
      // A push tries it again (and it fails again); a poll would skip it (the same digest, the same modules).
      const again = await atoll.deploys!.refresh();
      assert.equal(again.outcome, 'failed');
      assert.equal(atoll.deploys!.status().current?.id, before.current?.id);
      if (broken === 'throws') {
        // The problem names the module by the URL the map gave (not its cache file), with the throw's line:col.
        assert.match(status.lastFailure?.reason ?? '', new RegExp(`${cdn.url}/${TAG}/throws/server\\.mjs:1:7`));
        assert.doesNotMatch(status.lastFailure?.reason ?? '', /\.atoll\/deploys\//);
        const failures = (): number => logger.lines.filter((l) => /did not take traffic/.test(String(l.msg))).length;
        const seen = failures();
        await new Promise((r) => setTimeout(r, POLL * 2.5));
        assert.equal(failures(), seen, 'polls do not load the same broken map again');
        assert.ok(Date.parse(atoll.deploys!.status().lastPoll!) > Date.now() - POLL * 2, 'the polls ran');
      }
    });
  }

  test('push refresh and status: bearer token required', async () => {
    const url = `${running.url}/_atoll/deploys`;
    assert.equal((await fetch(url)).status, 401);
    assert.equal((await fetch(url, { headers: { authorization: 'Bearer wrong-token-wrong-token-wrong' } })).status, 401);
    assert.equal((await fetch(`${url}/refresh`, { method: 'POST' })).status, 401);
    assert.equal((await fetch(`${url}/refresh`, { headers: { authorization: `Bearer ${TOKEN}` } })).status, 405);
    const status = (await (await fetch(url, { headers: { authorization: `Bearer ${TOKEN}` } })).json()) as { current: { id: number } };
    assert.equal(status.current.id, atoll.deploys!.status().current?.id);

    setMap(root, cdn, { [TAG]: 'three' });
    const pushed = await fetch(`${url}/refresh`, { method: 'POST', headers: { authorization: `Bearer ${TOKEN}` } });
    assert.equal(pushed.status, 200);
    const body = (await pushed.json()) as { outcome: string; status: { lastFailure: unknown } };
    assert.equal(body.outcome, 'swapped');
    assert.equal(body.status.lastFailure, undefined, 'a map that serves clears the last failure');
    assert.equal(versionOf(await page()), 'three');

    // A push that lands while a poll is already loading the same new map (a poll saw the written map first; CI met
    // this race) is told 'swapped' — what happened to the map it asked about — not 'unchanged'.
    setMap(root, cdn, { [TAG]: 'four' });
    const polling = atoll.deploys!.refresh();
    const joined = await fetch(`${url}/refresh`, { method: 'POST', headers: { authorization: `Bearer ${TOKEN}` } });
    assert.equal(joined.status, 200);
    assert.equal(((await joined.json()) as { outcome: string }).outcome, 'swapped');
    assert.equal((await polling).outcome, 'swapped');
    assert.equal(versionOf(await page()), 'four');
    // Asked again with nothing new, a push is 'unchanged'.
    const idle = await fetch(`${url}/refresh`, { method: 'POST', headers: { authorization: `Bearer ${TOKEN}` } });
    assert.equal(((await idle.json()) as { outcome: string }).outcome, 'unchanged');
  });

  test('a worker that dies mid-response fails that response only; the generation starts again', async () => {
    const id = atoll.deploys!.status().current!.id;
    const r = await fetch(`${running.url}/?mode=crash`);
    assert.equal(r.status, 200, 'the head was out before the worker died');
    await assert.rejects(r.text(), 'the body ends as failed');
    // The process is fine and a new worker for the same map answers.
    let html = '';
    for (let i = 0; i < 200; i++) {
      const next = await fetch(`${running.url}/`).catch(() => undefined);
      if (next?.status === 200) {
        html = await next.text();
        break;
      }
      await new Promise((res) => setTimeout(res, 50));
    }
    assert.equal(versionOf(html), 'four');
    assert.notEqual(atoll.deploys!.status().current?.id, id);
    assert.ok(running.stats().bodyFailures >= 1);
  });
});

describe('generations: no first generation', () => {
  test('a map that cannot be read, or whose module throws, is a start-up problem naming the config file (no stack); a stray tag is still warned about', async () => {
    const cdn = await cdnServer();
    try {
      cdn.put(`${TAG}/throws/server.mjs`, `throw new Error('broken at import');\n`);
      const root = makeSite({ 'layouts/index.html': layout(`<${TAG}></${TAG}><dg-stray></dg-stray>`) });
      writeFileSync(join(root, 'atoll.config.json'), JSON.stringify({ deploys: { importMap: 'missing.json', allow: [cdn.url] } }));
      await assert.rejects(createAtoll({ root, logger: memoryLogger(), env: {} }), (e: Error) => {
        assert.equal(e.name, 'SiteError');
        assert.match(e.message, /^atoll\.config\.json: deploys\.importMap: the first import map did not load, so nothing can serve: missing\.json: the import map does not exist/);
        return true;
      });
      setMap(root, cdn, { [TAG]: 'throws' });
      writeFileSync(join(root, 'atoll.config.json'), JSON.stringify({ deploys: { importMap: 'map.json', allow: [cdn.url] } }));
      const logger = memoryLogger();
      await assert.rejects(createAtoll({ root, logger, env: {} }), (e: Error) => {
        assert.equal(e.name, 'SiteError');
        assert.match(e.message, /the first import map did not load[\s\S]*broken at import/);
        return true;
      });
      assert.ok(logger.lines.some((l) => String(l.msg).includes('no generation serves yet')));
      // With a good map, the tag no map provides is still a client-only warning.
      setMap(root, cdn, {});
      const warned = memoryLogger();
      const atoll = await createAtoll({ root, logger: warned, env: {} });
      try {
        const said = warned.lines.map((l) => String(l.msg));
        assert.ok(said.some((m) => m.includes('<dg-stray> is not in the element registry')), said.join('\n'));
      } finally {
        await atoll.deploys?.close();
      }
    } finally {
      await cdn.close();
    }
  });
});

describe('generations: admin endpoints without a token', () => {
  test('answer 404', async () => {
    const cdn = await cdnServer();
    cdn.put(`${TAG}/one/server.mjs`, elementVersion(TAG, 'one', cdn.url));
    const root = makeSite({ 'layouts/index.html': layout(`<${TAG}></${TAG}>`) });
    setMap(root, cdn, { [TAG]: 'one' });
    writeFileSync(join(root, 'atoll.config.json'), JSON.stringify({ deploys: { importMap: 'map.json', allow: [cdn.url], pollInterval: 0 } }));
    const atoll = await createAtoll({ root, logger: memoryLogger(), env: {} });
    const running = await listen(atoll, { port: 0, host: '127.0.0.1' });
    try {
      assert.equal((await fetch(`${running.url}/_atoll/deploys`)).status, 404);
      assert.equal((await fetch(`${running.url}/_atoll/deploys/refresh`, { method: 'POST', headers: { authorization: 'Bearer x' } })).status, 404);
    } finally {
      await running.close();
      await cdn.close();
    }
  });
});


describe('generations: override generations', () => {
  let cdn: Cdn;
  let atoll: Atoll;
  let running: RunningServer;
  const logger = memoryLogger();
  const versionOf = (html: string): string | undefined => /version <!--lit-part-->(\w+)/.exec(html)?.[1];
  const entry = (v: string): { server: string; client: string } => ({ server: `${cdn.url}/${TAG}/${v}/server.mjs`, client: `${cdn.url}/${TAG}/${v}/client.mjs` });

  before(async () => {
    cdn = await cdnServer();
    for (const v of ['one', 'two', 'three', 'four']) cdn.put(`${TAG}/${v}/server.mjs`, elementVersion(TAG, v, cdn.url));
    cdn.put(`${TAG}/throws/server.mjs`, `throw new Error('broken at import');\n`);
    const root = makeSite({ 'layouts/index.html': layout(`<${TAG}></${TAG}>`) });
    setMap(root, cdn, { [TAG]: 'one' });
    writeFileSync(join(root, 'atoll.config.json'), JSON.stringify({ deploys: { importMap: 'map.json', allow: [cdn.url], pollInterval: 0, overrides: { maxGenerations: 2 } } }));
    atoll = await createAtoll({
      root,
      logger,
      env: {},
      // What overrides.ts reads from a signed cookie, here from a plain header.
      deploys: { overrides: (headers) => (headers.get('x-try') === null ? undefined : { [TAG]: entry(headers.get('x-try')!) }) },
    });
    running = await listen(atoll, { port: 0, host: '127.0.0.1' });
  });
  after(async () => {
    await running?.close();
    await cdn?.close();
  });

  const get = (version?: string): Promise<Response> => fetch(`${running.url}/`, { headers: version === undefined ? {} : { 'x-try': version } });

  test('two clients at once, one with an override, see different versions; the override\'s pages are private', async () => {
    const [plain, tried] = await Promise.all([get(), get('two')]);
    assert.equal(versionOf(await plain.text()), 'one');
    assert.equal(versionOf(await tried.text()), 'two');
    assert.equal(tried.headers.get('cache-control'), 'private, no-store');
    assert.notEqual(plain.headers.get('cache-control'), 'private, no-store');
    // An override equal to the live entry is the live generation.
    const same = await get('one');
    assert.equal(versionOf(await same.text()), 'one');
    const status = atoll.deploys!.status();
    assert.equal(status.overrides.length, 1);
    assert.equal(status.current?.id, 1);
  });

  test('override generations are bounded: the least recently used drains and stops', async () => {
    assert.equal(versionOf(await (await get('three')).text()), 'three');
    assert.equal(versionOf(await (await get('two')).text()), 'two'); // two is used again: three is now the oldest
    assert.equal(versionOf(await (await get('four')).text()), 'four');
    for (let i = 0; i < 100 && atoll.deploys!.status().draining.length > 0; i++) await new Promise((r) => setTimeout(r, 20));
    const status = atoll.deploys!.status();
    assert.equal(status.overrides.length, 2);
    const versions = status.overrides.map((o) => o.digest);
    assert.equal(new Set(versions).size, 2);
    assert.deepEqual(status.draining, []);
    // `three` was evicted: asking again loads it again (a new generation id).
    const before = Math.max(...status.overrides.map((o) => o.id));
    assert.equal(versionOf(await (await get('three')).text()), 'three');
    assert.ok(Math.max(...atoll.deploys!.status().overrides.map((o) => o.id)) > before);
  });

  test('an override that fails to load: the live version answers, with a header saying so', async () => {
    const r = await get('throws');
    assert.equal(r.status, 200);
    assert.equal(versionOf(await r.text()), 'one');
    assert.match(r.headers.get('x-atoll-override') ?? '', /^failed/);
    assert.equal(r.headers.get('cache-control'), 'private, no-store');
    assert.ok(logger.lines.some((l) => l.level === 'warn' && /override generation did not load/.test(String(l.msg))));
    // Remembered: the next request does not load it again.
    const again = await get('throws');
    assert.match(again.headers.get('x-atoll-override') ?? '', /^failed/);
    assert.equal(atoll.deploys!.status().current?.id, 1);
  });
});

describe('generations: atoll serve', () => {
  test('SIGHUP reads the map now; SIGTERM stops the server and its workers', async () => {
    const cdn = await cdnServer();
    for (const v of ['one', 'two']) cdn.put(`${TAG}/${v}/server.mjs`, elementVersion(TAG, v, cdn.url));
    const root = makeSite({ 'layouts/index.html': layout(`<${TAG}></${TAG}>`) });
    setMap(root, cdn, { [TAG]: 'one' });
    writeFileSync(join(root, 'atoll.config.json'), JSON.stringify({ deploys: { importMap: 'map.json', allow: [cdn.url], pollInterval: 0 } }));
    const port = await freePort();
    const child = spawn(process.execPath, [join(repoRoot, 'bin', 'atoll.mjs'), 'serve', '--root', root, '--port', String(port), '--quiet'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    try {
      await new Promise<void>((resolve, reject) => {
        let out = '';
        child.stdout!.on('data', (d: Buffer) => {
          out += d.toString();
          if (out.includes('Atoll is serving')) resolve();
        });
        void exited.then((code) => reject(new Error(`serve exited with ${code}: ${stderr}`)));
      });
      const version = async (): Promise<string | undefined> => /version <!--lit-part-->(\w+)/.exec(await (await fetch(`http://127.0.0.1:${port}/`)).text())?.[1];
      assert.equal(await version(), 'one');
      setMap(root, cdn, { [TAG]: 'two' });
      child.kill('SIGHUP');
      let seen: string | undefined;
      for (let i = 0; i < 300 && seen !== 'two'; i++) {
        seen = await version();
        if (seen !== 'two') await new Promise((r) => setTimeout(r, 50));
      }
      assert.equal(seen, 'two', `the new version serves after SIGHUP (${stderr})`);
      child.kill('SIGTERM');
      assert.equal(await exited, 0, 'a clean stop: the workers end with the server');
    } finally {
      child.kill('SIGKILL');
      await cdn.close();
    }
  });
});
