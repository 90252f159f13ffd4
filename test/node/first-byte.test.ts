/**
 * The head before heavy renders (issue 14): the document head and the parts
 * before an element whose synchronous render is heavy (or not measured yet)
 * leave the process before that render takes the thread — through the Node
 * adapter (plain, gzip and brotli) and the fetch adapter.
 *
 * The server renders in this process and blocks it for HEAVY_MS; the client
 * is a child process, so it reads what arrives while the server is blocked
 * and reports when each decoded chunk arrived.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { litElement, makeSite, serveSite, type TestServer } from '../helpers.ts';

const HEAVY_MS = 300;
const NAV = 'navigation-is-cheap';
const HEAVY = 'heavy-content';

let server: TestServer;
before(async () => {
  const root = makeSite({
    'layouts/index.html': `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>first byte</title><atoll-head></atoll-head></head>
<body>
<x-nav></x-nav>
<main><x-heavy></x-heavy></main>
<footer>the end</footer>
</body>
</html>
`,
    'elements/x-nav/index.ts': litElement('x-nav', `return html\`<nav>${NAV}</nav>\`;`),
    'elements/x-heavy/index.ts': litElement(
      'x-heavy',
      `const end = performance.now() + ${HEAVY_MS}; while (performance.now() < end) {} return html\`<p>${HEAVY}</p>\`;`,
    ),
  });
  server = await serveSite({ root });
});
after(() => server.close());

/** The client: one GET, decoded as it arrives; prints `[{ ms, text }]` per chunk. */
const CLIENT = `
const http = require('node:http');
const zlib = require('node:zlib');
const [url, encoding] = process.argv.slice(1);
const started = performance.now();
const chunks = [];
http.get(url, { headers: encoding === 'identity' ? {} : { 'accept-encoding': encoding } }, (res) => {
  const ce = res.headers['content-encoding'];
  const body = ce === 'gzip' ? res.pipe(zlib.createGunzip()) : ce === 'br' ? res.pipe(zlib.createBrotliDecompress()) : res;
  body.on('data', (d) => chunks.push({ ms: performance.now() - started, text: d.toString() }));
  body.on('end', () => process.stdout.write(JSON.stringify({ encoding: ce ?? 'identity', chunks })));
});
`;

interface Arrival {
  encoding: string;
  chunks: Array<{ ms: number; text: string }>;
}

async function fetchTimed(encoding: string): Promise<Arrival> {
  const { stdout } = await promisify(execFile)(process.execPath, ['-e', CLIENT, `${server.url}/`, encoding], { timeout: 20_000 });
  return JSON.parse(stdout) as Arrival;
}

/** What had arrived well before the heavy render ended (half its duration before the last byte). */
function earlyText(arrival: Arrival): string {
  const last = arrival.chunks.at(-1)!.ms;
  return arrival.chunks
    .filter((c) => c.ms < last - HEAVY_MS / 2)
    .map((c) => c.text)
    .join('');
}

describe('the head leaves before a heavy render', () => {
  for (const encoding of ['identity', 'gzip', 'br']) {
    test(`${encoding}: the head and the cheap navigation arrive while the heavy element renders`, async () => {
      // First request: nothing is measured yet, so every render counts as heavy; the second knows.
      for (const round of ['first request', 'measured']) {
        const arrival = await fetchTimed(encoding);
        assert.equal(arrival.encoding, encoding);
        const whole = arrival.chunks.map((c) => c.text).join('');
        assert.match(whole, new RegExp(HEAVY), 'the heavy element rendered');
        const early = earlyText(arrival);
        assert.match(early, /<\/head>/, `${round}: the head arrived before the heavy render ended (chunks at ${arrival.chunks.map((c) => Math.round(c.ms)).join(', ')} ms)`);
        assert.match(early, new RegExp(NAV), `${round}: so did the navigation before it`);
        assert.doesNotMatch(early, new RegExp(HEAVY), `${round}: the heavy element came later`);
      }
    });
  }

  test('fetch adapter: the first chunk can be read before the heavy render', async () => {
    for (let round = 0; round < 2; round++) {
      const res = await server.atoll.fetch(new Request('http://localhost/'));
      const reader = res.body!.getReader();
      const first = await reader.read();
      const firstText = new TextDecoder().decode(first.value);
      const readAt = performance.now();
      let rest = '';
      for (let r = await reader.read(); !r.done; r = await reader.read()) rest += new TextDecoder().decode(r.value);
      assert.match(firstText, /<\/head>/);
      assert.doesNotMatch(firstText, new RegExp(HEAVY));
      assert.match(rest, new RegExp(HEAVY));
      assert.ok(performance.now() - readAt >= HEAVY_MS * 0.8, 'the first chunk was read before the heavy render ran');
    }
  });
});
