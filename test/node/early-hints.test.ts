/**
 * 103 Early Hints: the Node adapter sends the page's preload links before it
 * waits for anything (here: a primary element that is still working).
 */
import assert from 'node:assert/strict';
import { createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import { nodeHandler } from '../../ssr-server/adapters/node.ts';
import { silentLogger } from '../../ssr-server/log.ts';
import { loadSite } from '../../ssr-server/site/load.ts';
import { control } from '../fixtures/streaming/control.ts';
import { fixture } from '../helpers.ts';

test('Early Hints with preload links arrive before the primary element is ready', async () => {
  const site = await loadSite({ root: fixture('streaming') });
  const ctl = control();
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  ctl.data = async () => {
    await gate;
    return { label: 'ok' };
  };
  const server = createServer(
    nodeHandler({
      site,
      logger: silentLogger,
      preloads: (elements) => [...new Set(elements.map((e) => `</_atoll/assets/${e.op.tag}.js>; rel=preload; as=script; crossorigin`))],
    }),
  );
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  try {
    const { port } = server.address() as AddressInfo;
    const events: string[] = [];
    let done!: () => void;
    const ended = new Promise<void>((r) => (done = r));
    const hints = new Promise<Record<string, unknown>>((resolve) => {
      const req = request({ host: '127.0.0.1', port, path: '/primary/ok', agent: false });
      req.on('information', (info) => {
        events.push(`info ${info.statusCode}`);
        resolve(info.headers);
      });
      req.on('response', (res) => {
        events.push(`response ${res.statusCode}`);
        res.resume();
        res.on('end', done);
      });
      req.end();
    });
    const headers = await hints;
    assert.equal(headers.link, '</_atoll/assets/s-slot.js>; rel=preload; as=script; crossorigin');
    assert.deepEqual(events, ['info 103'], 'the hints came while the primary was still working');
    release();
    await ended;
    assert.deepEqual(events, ['info 103', 'response 200']);
  } finally {
    release();
    server.closeAllConnections();
    server.close();
  }
});
