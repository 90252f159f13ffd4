/**
 * `bench:ab`'s measuring helpers (bench/lib/measure.ts): the interleaving
 * order puts every server at every position and after every other server
 * equally often (a server measured always right after the same neighbour
 * would carry that neighbour's after-work — its garbage collection on the
 * other core — into its numbers), and the median's bootstrap interval
 * covers the median and narrows with more samples.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, test } from 'node:test';
import { cycleOrder, timeInterleaved } from '../../bench/lib/measure.ts';
import { medianWithInterval } from '../../bench/lib/stats.ts';

describe('bench:ab interleaving', () => {
  for (const n of [2, 3, 4, 5]) {
    test(`${n} servers: over ${2 * n} cycles each is at every position and after every other server equally often`, () => {
      const position = Array.from({ length: n }, () => new Array<number>(n).fill(0));
      const after = Array.from({ length: n }, () => new Array<number>(n).fill(0));
      for (let c = 0; c < 2 * n; c++) {
        const order = cycleOrder(n, c);
        assert.deepEqual([...order].sort((a, b) => a - b), Array.from({ length: n }, (_, i) => i), `cycle ${c} is a permutation`);
        order.forEach((s, i) => position[s]![i]!++);
        for (let i = 1; i < n; i++) after[order[i]!]![order[i - 1]!]!++;
      }
      for (const row of position) assert.ok(row.every((k) => k === 2), `positions ${JSON.stringify(position)}`);
      // Who comes right before whom within a cycle: every other server, equally often.
      const counts = after.flatMap((row, s) => row.filter((_, p) => p !== s));
      assert.ok(counts.every((k) => k === counts[0] && k > 0), `predecessors ${JSON.stringify(after)}`);
    });
  }

  test('the median interval covers the median, is reproducible, and narrows with more samples', () => {
    let seed = 1;
    const noise = (): number => ((seed = (seed * 48271) % 2147483647) / 2147483647 - 0.5) * 10;
    const small = Array.from({ length: 20 }, noise);
    const large = Array.from({ length: 2000 }, noise);
    const a = medianWithInterval(small);
    assert.ok(a.low <= a.median && a.median <= a.high, JSON.stringify(a));
    assert.deepEqual(medianWithInterval(small), a);
    const b = medianWithInterval(large);
    assert.ok(b.high - b.low < (a.high - a.low) / 3, `${JSON.stringify(a)} vs ${JSON.stringify(b)}`);
    assert.ok(Number.isNaN(medianWithInterval([]).median));
  });

  test('timeInterleaved sends one request per server per cycle, in cycle order, and keeps each first body', async () => {
    const seen: string[] = [];
    const servers = await Promise.all(
      ['a', 'b', 'c'].map(async (name) => {
        const server = createServer((req, res) => {
          if (req.headers['x-warm'] === undefined) seen.push(name);
          res.end(`<p>${name}</p>`);
        });
        server.listen(0, '127.0.0.1');
        await once(server, 'listening');
        return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/` };
      }),
    );
    try {
      const result = await timeInterleaved(servers.map((s) => s.url), 6, 2);
      const names = ['a', 'b', 'c'];
      const expected = Array.from({ length: 6 + 2 * 3 }, () => '');
      // 2 warm-up requests per server (a, b, c, a, b, c), then the cycles in their order.
      let k = 0;
      for (let i = 0; i < 2; i++) for (const n of names) expected[k++] = n;
      for (let c = 0; c < 6; c++) for (const s of cycleOrder(3, c)) expected[k++] = names[s]!;
      assert.deepEqual(seen, expected);
      result.servers.forEach((s, i) => {
        assert.equal(s.lastByte.length, 6);
        assert.ok(s.lastByte.every((t, j) => t >= s.firstByte[j]!));
        assert.equal(s.body, `<p>${names[i]}</p>`);
      });
    } finally {
      for (const s of servers) s.server.close();
    }
  });
});
