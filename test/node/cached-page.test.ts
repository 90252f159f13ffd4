/**
 * A fully cached page leaves as one pre-joined write (issue 14): its static
 * layout parts, its `<atoll-head>` and its render-cache hits are pre-encoded
 * pieces, joined once and reused, so the response is one HTTP chunk — not
 * one per piece — and the bytes are the same as the first, rendered, answer.
 */
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { PassThrough } from 'node:stream';
import { brotliDecompressSync } from 'node:zlib';
import type { ServerResponse } from 'node:http';
import { CompressedResponseSink } from '../../ssr-server/adapters/node.ts';
import { after, before, describe, test } from 'node:test';
import { litElement, makeSite, serveSite, type TestServer } from '../helpers.ts';

let server: TestServer;
before(async () => {
  const root = makeSite({
    'layouts/index.html': `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>cached</title><atoll-head></atoll-head></head>
<body>
<header><x-top cache="60s"></x-top></header>
<main><x-list cache="60s" n="{query.n}"><p>fallback</p></x-list></main>
<aside><x-top cache="60s" title="a"></x-top><x-top cache="60s" title="b"></x-top></aside>
<footer>the end</footer>
</body>
</html>
`,
    'elements/x-top/index.ts': litElement('x-top', 'return html`<nav>top ${this.getAttribute("title") ?? ""}</nav>`;'),
    'elements/x-list/index.ts': litElement('x-list', 'return html`<ul>${Array.from({ length: 200 }, (_, i) => html`<li>item ${i}</li>`)}</ul>`;'),
  });
  server = await serveSite({ root });
});
after(() => server.close());

/** One raw HTTP/1.1 GET: the status line and headers, and the body's chunks as framed on the wire. */
function rawGet(path: string): Promise<{ head: string; chunks: string[] }> {
  const { port } = new URL(server.url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), '127.0.0.1');
    let data = Buffer.alloc(0);
    socket.on('data', (d) => {
      data = Buffer.concat([data, d]);
      const text = data.toString('latin1');
      if (!text.endsWith('\r\n0\r\n\r\n')) return;
      socket.end();
      const split = text.indexOf('\r\n\r\n');
      const chunks: string[] = [];
      let at = split + 4;
      for (;;) {
        const eol = text.indexOf('\r\n', at);
        const size = parseInt(text.slice(at, eol), 16);
        if (size === 0) break;
        chunks.push(Buffer.from(text.slice(eol + 2, eol + 2 + size), 'latin1').toString('utf8'));
        at = eol + 2 + size + 2;
      }
      resolve({ head: text.slice(0, split), chunks });
    });
    socket.on('error', reject);
    socket.write(`GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n`);
  });
}

describe('a fully cached page', () => {
  test('is one HTTP chunk with the same bytes as the rendered page', async () => {
    const first = await rawGet('/?n=1');
    // The second answer is the first from the cache: the drain still expects the render it measured on
    // the first (and sends what it has before each element); from then on it knows they are cheap.
    assert.equal((await rawGet('/?n=1')).chunks.join(''), first.chunks.join(''));
    assert.match(first.head, /^HTTP\/1\.1 200/);
    const page = first.chunks.join('');
    assert.ok(page.includes("item <!--lit-part-->199<"), "the whole list rendered");
    for (let i = 0; i < 3; i++) {
      const again = await rawGet('/?n=1');
      assert.equal(again.chunks.join(''), page, 'the same bytes');
      assert.equal(again.chunks.length, 1, `one write for the page, got ${again.chunks.length} chunks: ${again.chunks.map((c) => JSON.stringify(c.slice(0, 60)) + "…" + c.length).join(" | ")}`);
    }
  });

  test('elements of one tag with other literal attributes have their own entries', async () => {
    for (let i = 0; i < 3; i++) {
      const page = (await rawGet('/?n=1')).chunks.join('');
      assert.match(page, /<x-top atoll-key="[0-9a-z]+" title="a"[^>]*><template shadowrootmode="open"><!--lit-part [^>]*><nav>top <!--lit-part-->a<!--\/lit-part--><\/nav>/);
      assert.match(page, /<x-top atoll-key="[0-9a-z]+" title="b"[^>]*><template shadowrootmode="open"><!--lit-part [^>]*><nav>top <!--lit-part-->b<!--\/lit-part--><\/nav>/);
    }
  });

  test('another variant is rendered and cached on its own, and then is one chunk too', async () => {
    const one = (await rawGet('/?n=1')).chunks.join('');
    const two = await rawGet('/?n=2');
    assert.match(two.chunks.join(''), /n="2"/);
    assert.doesNotMatch(two.chunks.join(''), /n="1"/);
    await rawGet('/?n=2');
    const twoAgain = await rawGet('/?n=2');
    assert.equal(twoAgain.chunks.length, 1);
    assert.equal(twoAgain.chunks.join(''), two.chunks.join(''));
    assert.equal((await rawGet('/?n=1')).chunks.join(''), one, 'the first variant is still its own');
  });
});

describe('a fully cached page, compressed', () => {
  for (const encoding of ['br', 'gzip'] as const) {
    test(`${encoding}: every answer decodes to the page, the first ones streamed and the later ones compressed once`, async () => {
      const plain = (await rawGet('/?n=3')).chunks.join('');
      for (let i = 0; i < 6; i++) {
        const res = await server.get('/?n=3', { headers: { 'accept-encoding': encoding } });
        assert.equal(res.headers.get('content-encoding'), encoding, 'compressed (fetch decodes it)');
        assert.equal(await res.text(), plain, `answer ${i + 1}`);
      }
    });
  }

  test('the sink: a whole body seen before is written compressed, without a compressor', () => {
    const body = new Uint8Array(Buffer.from('<p>'.repeat(5000)));
    const sinkFor = (): { sink: CompressedResponseSink; written: Buffer[] } => {
      const written: Buffer[] = [];
      const res = new PassThrough() as unknown as ServerResponse;
      const write = res.write.bind(res);
      (res as unknown as { write: (c: Buffer) => boolean }).write = (c: Buffer) => {
        written.push(Buffer.from(c));
        return write(c);
      };
      return { sink: new CompressedResponseSink(res, 'br'), written };
    };
    const first = sinkFor();
    first.sink.writeWhole(body);
    assert.ok(first.sink.z !== undefined, 'the first sighting streams through a compressor');
    const second = sinkFor();
    second.sink.writeWhole(body);
    assert.equal(second.sink.z, undefined, 'no compressor for a body compressed before');
    assert.equal(second.written.length, 1);
    assert.equal(brotliDecompressSync(second.written[0]!).toString(), Buffer.from(body).toString());
    const gz = new CompressedResponseSink(new PassThrough() as unknown as ServerResponse, 'gzip');
    gz.writeWhole(body);
    assert.equal(gz.z, undefined, 'gzip has its own copy, made from the same sighting count');
  });
});
