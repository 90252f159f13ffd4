/**
 * The streaming bench's page shapes (bench/lib/page.ts, docs/benchmarks.md):
 * every peer's page — the reference's static HTML around the Lit SSR of the
 * same elements — passes the same check as Atoll's reference, and has exactly
 * the shape's cards; the check catches broken pages; the slow scenarios'
 * sites delay exactly the scenario's elements on every page; the options and
 * the issue-14 targets table read what they should.
 */
// Atoll first: its Lit fast path must be installed before @lit-labs/ssr loads (as in bench/servers/atoll.ts).
import { createAtoll, silentLogger } from '../../ssr-server/index.ts';
import assert from 'node:assert/strict';
import { basename, join } from 'node:path';
import { describe, test } from 'node:test';
import { renderElementToString } from '../../bench/lib/lit.ts';
import { readOptions } from '../../bench/lib/options.ts';
import {
  BENCH_DIR, checkPage, CLIENT_DIR, expectationsOf, PAGES, renderReferencePage, splitPage, type PageName,
} from '../../bench/lib/page.ts';
import { sameRunBefore, targets14Table, type BenchResults, type ServerResult } from '../../bench/lib/report.ts';
import { SCENARIOS } from '../../bench/lib/scenarios.ts';

const CARDS: Record<PageName, number> = { home: 66, 'shop-50': 50, 'cards-1000': 1000 };

describe('bench page shapes', () => {
  for (const shape of Object.values(PAGES)) {
    test(`${shape.name}: Atoll's reference and the Lit peers' page pass the same check, with ${CARDS[shape.name]} cards`, async () => {
      const reference = await renderReferencePage(shape);
      const expected = expectationsOf(shape, reference);
      assert.equal(expected.cards, CARDS[shape.name]);
      assert.deepEqual(checkPage(reference, expected).problems, []);
      const page = splitPage(reference, shape);
      let peer = page.segments[0]!;
      shape.elements.forEach((e, i) => {
        peer += renderElementToString(e) + page.segments[i + 1]!;
      });
      assert.deepEqual(checkPage(peer, expected).problems, []);
      // Each top-level element, in order, as the layout writes it.
      for (const e of shape.elements) {
        // An empty value may be written as a bare name (Atoll writes `query`, Lit `query=""`); Atoll's hosts carry their instance key first (issue 15).
        const host = new RegExp(`<${e.tag}(?: atoll-key="[0-9a-z]+")?${e.attrs ? `\\s+${e.attrs.replace('=""', '(?:="")?')}` : ''}[\\s>]`);
        assert.match(peer, host);
        assert.match(reference, host);
      }
    });
  }

  test('the check catches a fallback, a missing card, a missing text, a cut-off document, a rendered Promise', async () => {
    const shape = PAGES['shop-50'];
    const reference = await renderReferencePage(shape);
    const expected = expectationsOf(shape, reference);
    const problems = (html: string): string => checkPage(html, expected).problems.join('; ');
    assert.match(problems(reference.replace('<bench-newsletter', '<bench-newsletter class="atoll-fallback"')), /fell back/);
    assert.match(problems(reference.replace('<shop-product-card', '<shop-product-kard')), /49 <shop-product-card>/);
    assert.match(problems(reference.replace('New things, once a month', 'Old things')), /"New things, once a month" is missing/);
    assert.match(problems(reference.slice(0, reference.length / 2)), /does not end with <\/html>/);
    assert.match(problems(reference.replace('</body>', '[object Promise]</body>')), /Promise/);
    assert.match(problems(reference.replace(/<bench-newsletter([^>]*)><template [^>]*>/, '<bench-newsletter$1><template>')), /<bench-newsletter> has no declarative shadow root/);
  });

  test('the slow sites delay exactly the scenario\'s elements on every page that runs it', async () => {
    for (const scenario of [SCENARIOS['slow-one'], SCENARIOS['slow-three']]) {
      const atoll = await createAtoll({ root: join(BENCH_DIR, 'sites', scenario.atollSite!), logger: silentLogger, client: { outDir: CLIENT_DIR } });
      for (const shape of Object.values(PAGES).filter((p) => p.scenarios.includes(scenario.name))) {
        const delayed = shape.elements.filter((e) => scenario.delays[e.tag] !== undefined);
        assert.ok(delayed.length >= 1, `${scenario.name} delays something on ${shape.name}`);
        for (const { tag } of shape.elements) {
          const def = atoll.site.registry.get(tag);
          const file = def?.hooks.data === undefined ? undefined : basename(def.hooksFile ?? '');
          const ms = scenario.delays[tag];
          assert.equal(file, ms === undefined ? undefined : `sleep-${ms}.ts`, `${scenario.name}, ${shape.name}, <${tag}>`);
        }
      }
    }
  });
});

describe('bench options and targets', () => {
  test('BENCH_PAGES and BENCH_ROUNDS', () => {
    assert.deepEqual(readOptions({}).pages, ['home', 'shop-50', 'cards-1000']);
    assert.equal(readOptions({}).rounds, 3);
    assert.deepEqual(readOptions({ BENCH_PAGES: 'cards-1000, shop-50' }).pages, ['cards-1000', 'shop-50']);
    assert.equal(readOptions({ BENCH_ROUNDS: '0' }).rounds, 0);
    assert.throws(() => readOptions({ BENCH_PAGES: 'home,shop-51' }), /BENCH_PAGES: unknown "shop-51"/);
    assert.throws(() => readOptions({ BENCH_ROUNDS: '-1' }), /BENCH_ROUNDS must be a positive number/);
  });

  test('BENCH_BEFORE: the -before servers exist only with a checkout that has an engine', () => {
    assert.ok(!readOptions({}).only.has('atoll-before'));
    assert.throws(() => readOptions({ BENCH_ONLY: 'atoll,atoll-before' }), /BENCH_ONLY: unknown "atoll-before"/);
    assert.throws(() => readOptions({ BENCH_BEFORE: BENCH_DIR }), /BENCH_BEFORE: .* has no ssr-server\/index\.ts/);
    const o = readOptions({ BENCH_BEFORE: join(BENCH_DIR, '..') });
    assert.ok(o.only.has('atoll-before') && o.only.has('atoll-cached-before'));
  });

  const summary = (median: number) => ({ n: 30, median, min: median, max: median, q1: median, q3: median });
  const single = (firstByte: number[], lastByte: number[]): ServerResult['single'] => ({
    headers: summary(firstByte[1]!),
    firstByte: summary(firstByte[1]!),
    lastByte: summary(lastByte[1]!),
    rounds: firstByte.map((f, i) => ({ headers: f, firstByte: f, lastByte: lastByte[i]! })),
  });
  const load = (reqPerSec: number, cpuPerRequest: number): ServerResult['load'] =>
    ({ reqPerSec, cpuPerRequest, p50: 1, p99: 2, requests: reqPerSec * 10, failures: 0 });
  const results = (atollFirst: number[], atollLast: number[], cachedCpu: number): BenchResults => ({
    date: '2026-12-01 00:00',
    source: 'commit test',
    options: readOptions({}),
    pages: {
      'cards-1000': { load: [{ name: 'atoll', outcome: 'ok', single: single(atollFirst, atollLast) }] },
      'shop-50': {
        load: [
          { name: 'static', outcome: 'ok', load: load(1000, 0.1) },
          { name: 'lit-string', outcome: 'ok', load: load(100, 5) },
          { name: 'atoll', outcome: 'ok', load: load(200, 2.5) },
          { name: 'atoll-cached', outcome: 'ok', load: load(800, cachedCpu) },
        ],
      },
    },
    profiles: {},
  });
  const row = (tableText: string, start: string): string[] => {
    const line = tableText.split('\n').find((l) => l.startsWith(`| ${start}`));
    assert.ok(line, start);
    return line.split(' | ').map((c) => c.replace(/^\| |\s*\|$/g, ''));
  };

  test('the issue-14 table: medians of round medians, ratios of one run, the before column from the baseline', () => {
    const now = results([1.2, 1.4, 9.0], [50, 60, 70], 0.15);
    const before = results([60, 65, 70], [61, 62, 63], 0.5);
    const t = targets14Table(now, before);
    const ttfb = row(t, 'first byte (TTFB), cards-1000');
    assert.match(ttfb[2]!, /^1\.40 ms \(rounds 1\.20 \/ 1\.40 \/ 9\.00/);
    assert.match(ttfb[3]!, /^65\.00 ms/);
    assert.equal(ttfb[4], 'met');
    const last = row(t, 'last byte, cards-1000');
    assert.equal(last[1], '≤ 62.00 ms');
    assert.equal(last[4], 'met');
    const cpu = row(t, 'fully cached, shop-50: atoll-cached CPU/req');
    assert.match(cpu[2]!, /^1\.50×/);
    assert.equal(cpu[4], 'met');
    assert.match(cpu[3]!, /^5\.00×/);
    assert.equal(row(t, 'fully cached, shop-50: atoll-cached req/s')[4], 'met');
    const uncached = row(t, 'uncached, shop-50');
    assert.match(uncached[2]!, /^0\.50×/);
    assert.equal(uncached[4], 'met');
    // Not measured: a dash, never "met".
    assert.equal(row(t, 'fully cached, home: atoll-cached CPU/req')[4], '–');

    const worse = targets14Table(results([2, 2, 2], [63, 64, 65], 0.3), before);
    assert.equal(row(worse, 'first byte (TTFB), cards-1000')[4], '**not met**');
    assert.equal(row(worse, 'last byte, cards-1000')[4], '**not met**');
    assert.equal(row(worse, 'fully cached, shop-50: atoll-cached CPU/req')[4], '**not met**');
    // Without a baseline the last-byte target has nothing to compare with.
    assert.equal(row(targets14Table(now), 'last byte, cards-1000')[4], '–');
  });

  test('the same run\'s -before servers become the before column, beside the same static and lit-string', () => {
    const r = results([1, 1, 1], [50, 50, 50], 0.15);
    assert.equal(sameRunBefore(r), undefined);
    r.pages['shop-50']!.load!.push(
      { name: 'atoll-before', outcome: 'ok', load: load(150, 4) },
      { name: 'atoll-cached-before', outcome: 'ok', load: load(300, 0.6) },
    );
    const before = sameRunBefore(r)!;
    assert.deepEqual(before.pages['shop-50']!.load!.map((x) => x.name), ['static', 'lit-string', 'atoll', 'atoll-cached']);
    const t = targets14Table(r, before);
    assert.match(row(t, 'uncached, shop-50')[3]!, /^0\.80× \(4\.000 vs 5\.000 ms\)/);
    assert.match(row(t, 'fully cached, shop-50: atoll-cached CPU/req')[3]!, /^6\.00×/);
  });
});
