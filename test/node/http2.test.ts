/**
 * Atoll's Node handler behind node:http2's compatibility API (cleartext h2c
 * here; TLS is the same API): HTTP/2 lists pseudo-headers (`:path`, …)
 * among the raw request headers, which a Web `Headers` refuses — before the
 * adapter skipped them, every page answered 500.
 */
import assert from 'node:assert/strict';
import http2 from 'node:http2';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import { gunzipSync } from 'node:zlib';
import { createAtoll, silentLogger } from '../../ssr-server/index.ts';
import { fixture } from '../helpers.ts';

test('a page served over HTTP/2 (h2c) renders, compressed, with its headers', async () => {
  const atoll = await createAtoll({ root: fixture('basic'), logger: silentLogger });
  const server = http2.createServer(atoll.handler as unknown as (req: http2.Http2ServerRequest, res: http2.Http2ServerResponse) => void);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const client = http2.connect(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
  try {
    const req = client.request({ ':path': '/hello/world', 'accept-encoding': 'gzip', 'x-request-id': 'h2-test' });
    const chunks: Buffer[] = [];
    const head = await new Promise<http2.IncomingHttpHeaders>((resolve) => req.on('response', resolve));
    req.on('data', (d: Buffer) => chunks.push(d));
    await new Promise((resolve) => req.on('end', resolve));
    assert.equal(head[':status'], 200);
    assert.equal(head['content-encoding'], 'gzip');
    assert.equal(head['x-request-id'], 'h2-test');
    const html = gunzipSync(Buffer.concat(chunks)).toString('utf8');
    assert.match(html, /<x-greeting[\s\S]*<\/html>\s*$/);
  } finally {
    client.close();
    await new Promise((resolve) => server.close(resolve));
  }
});
