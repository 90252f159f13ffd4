/**
 * The internal output form and its walkers: sync-first collection, coalesced
 * writes, flush before waiting, backpressure, and stopping on close.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { collect, drainTo, RunMemo, type BlockingHint, type Output, type OutputThunk, type Piece, type Sink } from '../../ssr-server/render/chunks.ts';

class RecordingSink implements Sink {
  writes: string[] = [];
  raw: Piece[] = [];
  events: string[] = [];
  closed = false;
  accept = true;
  drains = 0;
  flush?: () => void | Promise<void>;
  write(chunk: Piece): boolean {
    this.raw.push(chunk);
    this.writes.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8'));
    this.events.push('write');
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

  test('a string piece of chunkSize or more is written as it is, right after the pending text, not appended to it', async () => {
    // Appending it would make a new string the encoder must flatten and copy again (a whole 1,000-card element: ~2 ms).
    const big = 'x'.repeat(20_000);
    const sink = new RecordingSink();
    await drainTo(['<p>', big, '</p>'], sink, 16 * 1024, null);
    assert.deepEqual(sink.raw.map((p) => (typeof p === 'string' ? p.length : `bytes ${p.byteLength}`)), [3, 20_000, 4]);
    assert.equal(sink.writes.join(''), `<p>${big}</p>`);
    const joined = new RecordingSink();
    await drainTo(['<p>', big, '</p>'], joined, 16 * 1024);
    assert.equal(joined.writes.join(''), `<p>${big}</p>`);
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

  test('a run of pre-encoded pieces and short strings goes out as one write, joined once for every request', async () => {
    const head = Buffer.from('<!doctype html><head>');
    const hit = Buffer.from('<x-a><template shadowrootmode="open">cached</template>');
    const tail = Buffer.from('</body></html>');
    const page = (): Output => [head, () => '<title>t</title>', () => [hit, '</x-a>'], tail];
    const memo = new RunMemo();
    const first = new RecordingSink();
    await drainTo(page(), first, 16 * 1024, memo);
    const second = new RecordingSink();
    await drainTo(page(), second, 16 * 1024, memo);
    assert.equal(first.writes.length, 1, 'one write for the whole page');
    assert.equal(first.writes[0], '<!doctype html><head><title>t</title><x-a><template shadowrootmode="open">cached</template></x-a></body></html>');
    assert.equal(second.raw[0], first.raw[0], 'the second request writes the buffer joined for the first');
    // A different piece (a new cache entry) is a different run: joined anew, never the stale one.
    const third = new RecordingSink();
    await drainTo([head, () => '<title>t</title>', () => [Buffer.from('<x-a>new</x-a>')], tail], third, 16 * 1024, memo);
    assert.notEqual(third.raw[0], first.raw[0]);
    assert.equal(third.writes[0], '<!doctype html><head><title>t</title><x-a>new</x-a></body></html>');
    // So is a string with other content in the same place.
    const fourth = new RecordingSink();
    await drainTo([head, () => '<title>u</title>', () => [hit, '</x-a>'], tail], fourth, 16 * 1024, memo);
    assert.equal(fourth.writes[0], '<!doctype html><head><title>u</title><x-a><template shadowrootmode="open">cached</template></x-a></body></html>');
  });

  test('the run memo is bounded: a run over maxRun is written piece by piece, old runs go past maxBytes', async () => {
    const memo = new RunMemo(100, 60);
    const big = new RecordingSink();
    await drainTo([Buffer.alloc(50, 97), 'b'.repeat(20)], big, 16 * 1024, memo);
    assert.equal(big.writes.length, 2, 'not copied into one buffer');
    assert.equal(memo.size, 0);
    for (let i = 0; i < 5; i++) await drainTo([Buffer.alloc(30, 97 + i), 'tail'], new RecordingSink(), 16 * 1024, memo);
    assert.ok(memo.size <= 3, `${memo.size} runs of 34 bytes kept within 100 bytes`);
    // A run of mostly rendered text is joined into one write but not kept.
    const rendered = new RunMemo(1024 * 1024, 1024 * 1024, 100);
    const sink = new RecordingSink();
    await drainTo([Buffer.from('<b>'), 'r'.repeat(101), Buffer.from('</b>')], sink, 16 * 1024, rendered);
    assert.deepEqual(sink.writes, [`<b>${'r'.repeat(101)}</b>`]);
    assert.equal(rendered.size, 0);
  });

  test('before a thunk that blocks, everything pending is written and the flush awaited; a cheap thunk waits for the rest', async () => {
    const sink = new RecordingSink();
    let flushDone!: () => void;
    sink.flush = () => {
      sink.events.push('flush');
      return new Promise<void>((r) => (flushDone = r));
    };
    const heavy: OutputThunk & BlockingHint = () => {
      sink.events.push('render heavy');
      return '<heavy>';
    };
    heavy.blocks = () => true;
    const cheap: OutputThunk & BlockingHint = () => {
      sink.events.push('render cheap');
      return '<cheap>';
    };
    cheap.blocks = () => false;
    const done = drainTo([Buffer.from('<head>'), cheap, heavy, '<tail>'], sink);
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(sink.events, ['render cheap', 'write', 'flush'], 'the head and the cheap element are out, the heavy render waits for the flush');
    flushDone();
    await done;
    assert.deepEqual(sink.events, ['render cheap', 'write', 'flush', 'render heavy', 'write']);
    assert.equal(sink.writes.join(''), '<head><cheap><heavy><tail>');
  });

  test('a blocking thunk with nothing pending costs no write or flush', async () => {
    const sink = new RecordingSink();
    let flushes = 0;
    sink.flush = () => void flushes++;
    const heavy: OutputThunk & BlockingHint = () => '<heavy>';
    heavy.blocks = () => true;
    await drainTo([heavy, '<tail>'], sink);
    assert.equal(flushes, 0);
    assert.deepEqual(sink.writes, ['<heavy><tail>']);
  });
});
