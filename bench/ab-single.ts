/**
 * An interleaved A/B of single-request timings (`npm run bench:ab`): Atoll's
 * engine now and the engine of a checkout before a change (`BENCH_BEFORE`),
 * both compiled as published and serving the same page, both up at once;
 * rounds of sequential requests from a client process of its own
 * (`lib/time-client.ts`) alternate between them, so both see the same
 * machine. The streaming bench measures its servers one after the other,
 * which on a shared machine can move a last byte by 10–20 %.
 *
 *   BENCH_BEFORE=/tmp/wt-before BENCH_PAGES=cards-1000 BENCH_PAIRS=7 npm run bench:ab
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { median, timeRoundsApart } from './lib/measure.ts';
import { isPageName, PAGES, REPO_ROOT, renderReferencePage } from './lib/page.ts';
import { SERVERS } from './lib/servers.ts';
import { startServer, type RunningChild } from './lib/spawn.ts';

const before = process.env.BENCH_BEFORE;
if (!before) throw new Error('BENCH_BEFORE: give a checkout of the repository before the change (git worktree add /tmp/wt-before <commit>, node_modules symlinked)');
const page = process.env.BENCH_PAGES ?? 'cards-1000';
if (!isPageName(page)) throw new Error(`BENCH_PAGES: one page of ${Object.keys(PAGES).join(', ')}`);
const pairs = Number(process.env.BENCH_PAIRS ?? 7);
const samples = Number(process.env.BENCH_SAMPLES ?? 30);

for (const dir of [REPO_ROOT, before]) execFileSync('npm', ['run', '--silent', 'build:package'], { cwd: dir, stdio: ['ignore', 'ignore', 'inherit'] });
const workDir = mkdtempSync(join(tmpdir(), 'atoll-ab-'));
const pageFile = join(workDir, `${page}.html`);
writeFileSync(pageFile, await renderReferencePage(PAGES[page]));
const spec = (name: string) => SERVERS.find((s) => s.name === name)!;
const servers: Array<{ name: string; child: RunningChild; first: number[]; last: number[] }> = [];
try {
  for (const name of ['atoll', 'atoll-before']) {
    const started = await startServer(spec(name), page, 'load', { pageFile, engineDir: before, engine: 'compiled' });
    if (started.kind !== 'running') throw new Error(`${name}: ${started.reason}`);
    servers.push({ name, child: started.child, first: [], last: [] });
  }
  for (let i = 0; i < pairs; i++) {
    for (const s of i % 2 === 0 ? servers : [...servers].reverse()) {
      const r = await timeRoundsApart(s.child.url, 1, samples);
      s.first.push(r.rounds[0]!.firstByte);
      s.last.push(r.lastByte.median);
      console.log(`${s.name.padEnd(13)} round ${i + 1}: first byte ${r.rounds[0]!.firstByte.toFixed(2)} ms, last byte ${r.lastByte.median.toFixed(1)} ms`);
    }
  }
  const fmt = (xs: number[], d: number): string => `${median(xs).toFixed(d)} (${Math.min(...xs).toFixed(d)}–${Math.max(...xs).toFixed(d)})`;
  console.log(`\n${page}, ${pairs} interleaved rounds of ${samples} sequential requests each; median of round medians (min–max):`);
  for (const s of servers) console.log(`${s.name.padEnd(13)} first byte ${fmt(s.first, 2)} ms, last byte ${fmt(s.last, 1)} ms`);
} finally {
  for (const s of servers) await s.child.stop();
  rmSync(workDir, { recursive: true, force: true });
}
