/**
 * An interleaved A/B of single-request timings (`npm run bench:ab`): Atoll's
 * engine now and the engine of a checkout before a change (`BENCH_BEFORE`),
 * both compiled as published and serving the same page, all up at once.
 *
 * - **Interleaved per request**: a client process of its own sends one
 *   request to each server per cycle (`timeInterleaved`, measure.ts), so
 *   the engines are compared within a fraction of a second of each other and
 *   each cycle gives a paired difference.
 * - **Two processes per engine** (`BENCH_AB_COPIES`): on this machine one
 *   server process of an engine can stay a few ms slower than another of the
 *   same engine for its whole life (JIT and heap layout, where it runs), as
 *   much as a difference between engines. The two copies give that A/A
 *   difference, the floor below which an A/B says nothing.
 * - **Fresh processes per repetition** (`BENCH_REPEAT`), each with its medians.
 * - **CPU per request** of each process during the measured cycles (`/proc`).
 *
 *   BENCH_BEFORE=/tmp/wt-before npm run bench:ab
 *   BENCH_BEFORE=/tmp/wt-before BENCH_AB_PIN=1 npm run bench:ab   # servers on core 0, client on core 1
 */
import { execFileSync } from 'node:child_process';
import { loadavg, tmpdir } from 'node:os';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { processStats, timeInterleavedApart } from './lib/measure.ts';
import { median, medianWithInterval } from './lib/stats.ts';
import { checkPage, expectationsOf, isPageName, PAGES, REPO_ROOT, renderReferencePage } from './lib/page.ts';
import { SERVERS } from './lib/servers.ts';
import { startServer, type RunningChild } from './lib/spawn.ts';

const before = process.env.BENCH_BEFORE;
if (!before) throw new Error('BENCH_BEFORE: give a checkout of the repository before the change (git worktree add /tmp/wt-before <commit>, node_modules symlinked)');
const page = process.env.BENCH_PAGES ?? 'cards-1000';
if (!isPageName(page)) throw new Error(`BENCH_PAGES: one page of ${Object.keys(PAGES).join(', ')}`);
const int = (name: string, fallback: number, min: number): number => {
  const v = Number(process.env[name] ?? fallback);
  if (!Number.isInteger(v) || v < min) throw new Error(`${name}: an integer ≥ ${min}`);
  return v;
};
const repeat = int('BENCH_REPEAT', 3, 1);
const copies = int('BENCH_AB_COPIES', 2, 1);
const cycles = int('BENCH_CYCLES', 60, 2);
const warm = int('BENCH_WARM_REQUESTS', 10, 1);
const pin = process.env.BENCH_AB_PIN === '1';

const load = (): string => loadavg().map((x) => x.toFixed(2)).join(' ');
const ms = (x: number, d = 2): string => x.toFixed(d);
const range = (xs: readonly number[], d = 2): string => `${ms(median([...xs]), d)} (${ms(Math.min(...xs), d)}–${ms(Math.max(...xs), d)})`;
const interval = (xs: readonly number[]): string => {
  const m = medianWithInterval(xs);
  return `${m.median >= 0 ? '+' : ''}${ms(m.median)} ms [95 % CI ${ms(m.low)}, ${ms(m.high)}]`;
};

for (const dir of [REPO_ROOT, before]) execFileSync('npm', ['run', '--silent', 'build:package'], { cwd: dir, stdio: ['ignore', 'ignore', 'inherit'] });
const workDir = mkdtempSync(join(tmpdir(), 'atoll-ab-'));
const pageFile = join(workDir, `${page}.html`);
const reference = await renderReferencePage(PAGES[page]);
writeFileSync(pageFile, reference);
const expected = expectationsOf(PAGES[page], reference);
// Pinned: this driver (and so the client it starts) on core 1, each server on core 0.
if (pin) execFileSync('taskset', ['-a', '-p', '-c', '1', String(process.pid)], { stdio: 'ignore' });

const engines = ['atoll', 'atoll-before'] as const;
type Engine = (typeof engines)[number];
/** Per engine: each process's median first and last byte and CPU per request, over all repetitions. */
const perProcess = new Map<Engine, Array<{ first: number; last: number; cpu: number }>>(engines.map((e) => [e, []]));
/** Per cycle: the engine's mean last byte over its copies minus before's. */
const paired: number[] = [];
/** Per repetition: the difference of the engines' process medians (now − before), and each engine's A/A (copy 1 − copy 2). */
const repDiffs: number[] = [];
const aa = new Map<Engine, number[]>(engines.map((e) => [e, []]));
let broken = false;
console.log(`bench:ab ${page}: ${repeat} repetitions × ${copies} processes per engine × ${cycles} interleaved cycles (after ${warm} warm-up requests each)${pin ? ', servers on core 0, client on core 1' : ''}; load average ${load()}`);
try {
  for (let rep = 1; rep <= repeat; rep++) {
    const servers: Array<{ engine: Engine; label: string; child: RunningChild }> = [];
    try {
      for (let copy = 1; copy <= copies; copy++) {
        for (const engine of engines) {
          const started = await startServer(SERVERS.find((s) => s.name === engine)!, page, 'load', { pageFile, engineDir: before, engine: 'compiled' });
          if (started.kind !== 'running') throw new Error(`${engine}: ${started.reason}`);
          if (pin) execFileSync('taskset', ['-a', '-p', '-c', '0', String(started.child.pid)], { stdio: 'ignore' });
          servers.push({ engine, label: `${engine}#${copy}`, child: started.child });
        }
      }
      const urls = servers.map((s) => s.child.url);
      await timeInterleavedApart(urls, 0, warm);
      const cpu0 = servers.map((s) => processStats(s.child.pid)?.cpu ?? NaN);
      const result = await timeInterleavedApart(urls, cycles, 1);
      const cpu1 = servers.map((s) => processStats(s.child.pid)?.cpu ?? NaN);
      const rows: string[] = [];
      const medians = new Map<Engine, number[]>(engines.map((e) => [e, []]));
      servers.forEach((s, i) => {
        const r = result.servers[i]!;
        const check = checkPage(r.body, expected);
        if (!check.ok) {
          broken = true;
          console.error(`${s.label}: broken page (${check.problems.join('; ')})`);
        }
        const row = { first: median(r.firstByte), last: median(r.lastByte), cpu: ((cpu1[i]! - cpu0[i]!) * 1000) / (cycles + 1) };
        perProcess.get(s.engine)!.push(row);
        medians.get(s.engine)!.push(row.last);
        rows.push(`${s.label} first ${ms(row.first)} last ${ms(row.last, 1)} CPU ${ms(row.cpu, 1)} ms/req`);
      });
      for (let c = 0; c < cycles; c++) {
        const mean = (engine: Engine): number => {
          const xs = servers.flatMap((s, i) => (s.engine === engine ? [result.servers[i]!.lastByte[c]!] : []));
          return xs.reduce((a, b) => a + b, 0) / xs.length;
        };
        paired.push(mean('atoll') - mean('atoll-before'));
      }
      repDiffs.push(median(medians.get('atoll')!) - median(medians.get('atoll-before')!));
      if (copies >= 2) for (const e of engines) aa.get(e)!.push(medians.get(e)![0]! - medians.get(e)![1]!);
      console.log(`repetition ${rep} (load average ${load()}): ${rows.join(' · ')}`);
    } finally {
      for (const s of servers) await s.child.stop();
    }
  }
  console.log(`\n${page}: medians over processes (min–max), ms; load average ${load()}`);
  for (const e of engines) {
    const p = perProcess.get(e)!;
    console.log(`${e.padEnd(13)} first byte ${range(p.map((x) => x.first))}  last byte ${range(p.map((x) => x.last), 1)}  CPU ${range(p.map((x) => x.cpu), 1)} ms/req  (${p.length} processes)`);
  }
  console.log(`last byte, atoll − atoll-before, paired per cycle: ${interval(paired)}; later in ${Math.round((100 * paired.filter((d) => d > 0).length) / paired.length)} % of ${paired.length} cycles`);
  console.log(`last byte, atoll − atoll-before, per repetition (process medians): ${repDiffs.map((d) => ms(d, 1)).join(' / ')} ms`);
  if (copies >= 2) for (const e of engines) console.log(`A/A, ${e}#1 − ${e}#2 (same engine, two processes): ${aa.get(e)!.map((d) => ms(d, 1)).join(' / ')} ms`);
} finally {
  rmSync(workDir, { recursive: true, force: true });
}
if (broken) process.exitCode = 1;
