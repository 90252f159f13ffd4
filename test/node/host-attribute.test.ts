/**
 * `withHostAttribute` (render/element.ts) on a long rendered host: the tag
 * with the attribute and the rest of the host become two pieces instead of
 * one rebuilt string, so the drain writes the host's markup as it is and the
 * encoder does not flatten and copy it a second time (on the 1,000-card page
 * a 1.17 M-character host: +2.7 ms CPU per request, see docs/benchmarks.md).
 * Short hosts keep one string; the bytes are the same either way.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { CHUNK_SIZE, drainTo, type Output, type Piece, type Sink } from '../../ssr-server/render/chunks.ts';
import { withHostAttribute } from '../../ssr-server/render/element.ts';

const extra = ' atoll-key="k1"';
const extraBytes = new TextEncoder().encode(extra);
const text = async (output: Output): Promise<string> => {
  const out: Piece[] = [];
  const sink: Sink = { write: (p) => (out.push(p), true), drain: () => Promise.resolve(), closed: false };
  await drainTo(output, sink);
  return out.map((p) => (typeof p === 'string' ? p : Buffer.from(p).toString('utf8'))).join('');
};

describe('withHostAttribute on a rendered host string', () => {
  test('a long host becomes the open tag with the attribute and the rest as it is', async () => {
    const body = '<p>card</p>'.repeat(Math.ceil(CHUNK_SIZE / 11) + 10);
    const host = `<x-grid count="1000"><template shadowrootmode="open">${body}</template></x-grid>`;
    const output = withHostAttribute([host, '<footer></footer>'], 'x-grid', extra, extraBytes);
    assert.equal(output.length, 3);
    assert.equal(output[0], `<x-grid${extra}`);
    assert.equal(output[1], host.slice('<x-grid'.length));
    assert.equal(await text(output), `<x-grid${extra} count="1000"><template shadowrootmode="open">${body}</template></x-grid><footer></footer>`);
  });

  test('a short host stays one string; markup that does not start with the host is left alone', async () => {
    const output = withHostAttribute(['<x-card name="a"></x-card>'], 'x-card', extra, extraBytes);
    assert.deepEqual(output, [`<x-card${extra} name="a"></x-card>`]);
    const long = `<div>${'y'.repeat(CHUNK_SIZE)}</div>`;
    assert.deepEqual(withHostAttribute([long], 'x-card', extra, extraBytes), [long]);
    const uppercase = `<X-GRID>${'z'.repeat(CHUNK_SIZE)}</X-GRID>`;
    const out = withHostAttribute([uppercase], 'x-grid', extra, extraBytes);
    assert.equal(await text(out), `<X-GRID${extra}>${'z'.repeat(CHUNK_SIZE)}</X-GRID>`);
  });
});
