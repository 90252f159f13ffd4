/**
 * The internal output form and its walkers: sync-first collection, coalesced
 * writes, flush before waiting, backpressure, and stopping on close.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { collect, drainTo, type Sink, type Output } from '../../ssr-server/render/chunks.ts';

class RecordingSink implements Sink {
  writes: string[] = [];
  closed = false;
  accept = true;
  drains = 0;
  write(chunk: string): boolean {
    this.writes.push(chunk);
    return this.accept;
  }
  drain(): Promise<void> {
    this.drains++;
    return Promise.resolve();
  }
}

describe('collect', () => {
  test('returns a string, not a Promise, when nothing is async', () => {
    const r = collect(['a', () => 'b', () => ['c', () => undefined, () => ['d']], 'e']);
    assert.equal(r, 'abcde');
  });

  test('returns a Promise only when a thunk is async, keeping order', async () => {
    const r = collect(['a', () => Promise.resolve(['b', () => 'c']), 'd']);
    assert.ok(r instanceof Promise);
    assert.equal(await r, 'abcd');
  });
});

describe('drainTo', () => {
  test('coalesces many small strings into few writes', async () => {
    const parts: Output = [];
    for (let i = 0; i < 10_000; i++) parts.push('0123456789');
    const sink = new RecordingSink();
    await drainTo(parts, sink, 16 * 1024);
    assert.equal(sink.writes.join(''), '0123456789'.repeat(10_000));
    assert.ok(sink.writes.length <= 7, `100 KB in ${sink.writes.length} writes`);
  });

  test('flushes what is ready before waiting on async work', async () => {
    const sink = new RecordingSink();
    let release!: (v: string) => void;
    const slow = new Promise<string>((r) => (release = r));
    const done = drainTo(['<head>', () => slow, '<tail>'], sink);
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(sink.writes, ['<head>'], 'the bytes before the slow part are out');
    release('<slow>');
    await done;
    assert.equal(sink.writes.join(''), '<head><slow><tail>');
  });

  test('waits for drain when the sink refuses a write', async () => {
    const sink = new RecordingSink();
    sink.accept = false;
    await drainTo(['x'.repeat(20_000), 'y'.repeat(20_000)], sink, 16 * 1024);
    assert.equal(sink.drains, 2);
  });

  test('stops when the sink closes', async () => {
    const sink = new RecordingSink();
    let called = false;
    const p = drainTo(['a', () => Promise.resolve('b'), () => ((called = true), 'c')], sink);
    sink.closed = true;
    await p;
    assert.equal(called, false, 'nothing after the close is rendered');
  });
});
