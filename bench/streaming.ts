/**
 * `npm run bench`: pages of the demo shop served by Atoll and by its peers
 * (static bytes, Lit SSR streamed and collected, single-spa-layout, Tailor),
 * each in its own process, measured in one run. Per page shape (the demo's
 * `/home`, the 5-element 50-card shop page, a 1,000-card page): req/s,
 * latency, CPU per request and memory under load, then sequential single
 * requests (time to headers, first byte, last byte) in rounds; on `/home` and
 * the shop page also with one element 300 ms slow and with three elements
 * 200 ms slow each. Settings and how to profile: docs/benchmarks.md.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadTest, processStats, timeRequests, timeRoundsApart } from './lib/measure.ts';
import { readOptions } from './lib/options.ts';
import { BENCH_DIR, REPO_ROOT, checkPage, expectationsOf, PAGES, renderReferencePage, type PageExpectations, type PageName } from './lib/page.ts';
import { summarizeProfile } from './lib/profile.ts';
import {
  currentLoadAverage, loadAverageLine, machineLine, pageScenarioLabel, profileSection, readBaseline, resultsMarkdown, sameRunBefore, settingsLine, singleTable,
  sourceLine, targetNotes, targets14Notes, targets14Table, targetsTable, throughputTable, timingTable, writeDocs,
  type BenchResults, type PageResults, type ServerResult,
} from './lib/report.ts';
import type { ScenarioName } from './lib/scenarios.ts';
import { SERVERS, type ServerSpec } from './lib/servers.ts';
import { startServer, type RunningChild } from './lib/spawn.ts';

const options = readOptions();
const log = (line = ''): void => void process.stdout.write(line + '\n');
const baselineFile = readBaseline(process.env.BENCH_BASELINE || undefined);

const results: BenchResults = {
  date: new Date().toISOString().slice(0, 16).replace('T', ' '),
  source: sourceLine(),
  options,
  loadAverage: { before: currentLoadAverage() },
  pages: {},
  profiles: {},
};

log(`Streaming SSR bench — ${machineLine()} — ${sourceLine()} — ${loadAverageLine(results.loadAverage)}`);
log(`${settingsLine(options)}`);
log(`pages: ${options.pages.join(', ')}; scenarios: ${options.scenarios.join(', ')}; servers: ${SERVERS.filter((s) => options.only.has(s.name)).map((s) => s.name).join(', ')}`);

// Atoll as the published package runs: its compiled engine, built here (and in the before checkout).
if (options.engine === 'compiled') {
  for (const dir of [REPO_ROOT, ...(options.before === undefined ? [] : [options.before])]) {
    log(`building the compiled engine in ${dir} (npm run build:package)`);
    execFileSync('npm', ['run', '--silent', 'build:package'], { cwd: dir, stdio: ['ignore', 'ignore', 'inherit'] });
  }
}

const workDir = mkdtempSync(join(tmpdir(), 'atoll-bench-'));
let baseline: BenchResults | undefined;
const profileDir = join(BENCH_DIR, '.profiles');

/** Gets the page once and checks it; a broken page is not measured. */
async function verify(name: string, url: string, exp: PageExpectations): Promise<string | undefined> {
  const { samples } = await timeRequests(url, 1, 0);
  const page = samples[0]!;
  const check = checkPage(page.body, exp);
  const problems = page.status === 200 ? check.problems : [`status ${page.status}`, ...check.problems];
  log(`  check ${name.padEnd(18)} ${page.status} ${check.summary}${problems.length ? ` — BROKEN: ${problems.join('; ')}` : ' — ok'}`);
  return problems.length ? problems.join('; ') : undefined;
}

const firstProblem = (bodies: Array<{ body: string }>, exp: PageExpectations): string | undefined =>
  bodies.map((s) => checkPage(s.body, exp)).find((c) => !c.ok)?.problems.join('; ');

async function measure(spec: ServerSpec, scenario: ScenarioName, child: RunningChild, exp: PageExpectations): Promise<ServerResult> {
  const connections = Math.min(options.connections, exp.shape.maxConnections ?? Infinity);
  if (scenario === 'load') {
    if (options.warmup > 0) await loadTest(child.url, connections, options.warmup, options.clientWorkers);
    const idle = processStats(child.pid);
    // Repetitions, one after the other: the medians are reported, with their spread.
    const reps: Array<Awaited<ReturnType<typeof loadTest>> & { cpuShare?: number; cpuPerRequest?: number }> = [];
    let after: ReturnType<typeof processStats>;
    for (let i = 0; i < Math.max(1, options.repeat); i++) {
      const before = processStats(child.pid);
      const load = await loadTest(child.url, connections, options.duration, options.clientWorkers);
      after = processStats(child.pid);
      const cpu = before && after ? after.cpu - before.cpu : undefined;
      const usage: { cpuShare?: number; cpuPerRequest?: number } = cpu === undefined ? {} : { cpuShare: cpu / options.duration };
      if (cpu !== undefined && load.requests > 0) usage.cpuPerRequest = (cpu * 1000) / load.requests;
      reps.push({ ...load, ...usage });
      log(`  load  ${spec.name.padEnd(18)} ${Math.round(load.reqPerSec)} req/s, p50 ${load.p50} ms, p99 ${load.p99} ms, ` +
        `server CPU ${usage.cpuShare === undefined ? '?' : Math.round(usage.cpuShare * 100)} %, ` +
        `CPU/req ${usage.cpuPerRequest === undefined ? '?' : usage.cpuPerRequest.toFixed(3)} ms, peak RSS ${after ? Math.round(after.peak) : '?'} MB`);
    }
    const mid = <T>(xs: T[], key: (x: T) => number | undefined): T => {
      const sorted = xs.filter((x) => key(x) !== undefined).sort((a, b) => key(a)! - key(b)!);
      return sorted[(sorted.length - 1) >> 1] ?? xs[0]!;
    };
    const byRate = mid(reps, (x) => x.reqPerSec);
    const byCpu = mid(reps, (x) => x.cpuPerRequest);
    const load = { ...byRate, cpuShare: byCpu.cpuShare, cpuPerRequest: byCpu.cpuPerRequest, requests: reps.reduce((n, x) => n + x.requests, 0), failures: reps.reduce((n, x) => n + x.failures, 0) };
    const result: ServerResult = {
      name: spec.name,
      outcome: 'ok',
      load: { ...load, connections, rssIdle: idle?.rss, rssPeak: after?.peak, reps: reps.map((x) => ({ reqPerSec: x.reqPerSec, cpuPerRequest: x.cpuPerRequest })) },
    };
    if (options.rounds > 0) {
      const t = await timeRoundsApart(child.url, options.rounds, options.samples);
      const broken = firstProblem(t.samples, exp);
      if (broken) return { name: spec.name, outcome: 'broken', reason: broken };
      result.single = { headers: t.headers, firstByte: t.firstByte, lastByte: t.lastByte, rounds: t.rounds };
      const fmt = (s: typeof t.headers): string => `${s.median.toFixed(2)} (${s.q1.toFixed(2)}–${s.q3.toFixed(2)})`;
      log(`  single ${spec.name.padEnd(17)} headers ${fmt(t.headers)} ms, first byte ${fmt(t.firstByte)} ms, last byte ${fmt(t.lastByte)} ms ` +
        `(first byte by round ${t.rounds.map((x) => x.firstByte.toFixed(2)).join(' / ')})`);
    }
    return result;
  }
  // Load first, so that timings are of warm (JIT-compiled) code, as on a busy server.
  if (options.warmup > 0) await loadTest(child.url, options.connections, options.warmup, options.clientWorkers);
  const t = await timeRequests(child.url, options.samples);
  const broken = firstProblem(t.samples, exp);
  if (broken) return { name: spec.name, outcome: 'broken', reason: broken };
  log(`  time  ${spec.name.padEnd(18)} headers ${t.headers.toFixed(1)} ms, first byte ${t.firstByte.toFixed(1)} ms, last byte ${t.lastByte.toFixed(1)} ms`);
  return { name: spec.name, outcome: 'ok', timing: { headers: t.headers, firstByte: t.firstByte, lastByte: t.lastByte } };
}

/**
 * Starts a server, checks its page, measures it, stops it. A profile run
 * (`profiled`) measures again under the CPU profiler; its numbers are only
 * printed, the profile is summarized.
 */
async function run(spec: ServerSpec, page: PageName, pageFile: string, exp: PageExpectations, scenario: ScenarioName, profiled = false): Promise<ServerResult> {
  const profileFile = profiled ? join(profileDir, `${spec.name}-${page}.cpuprofile`) : undefined;
  if (profiled) {
    mkdirSync(profileDir, { recursive: true });
    log(`  profile run of ${spec.name} on ${page}:`);
  }
  let started;
  try {
    started = await startServer(spec, page, scenario, { pageFile, profileFile, engineDir: options.before, engine: options.engine });
  } catch (e) {
    log(`  start ${spec.name.padEnd(18)} FAILED: ${(e as Error).message}`);
    return { name: spec.name, outcome: 'failed', reason: (e as Error).message.split('\n')[0] };
  }
  if (started.kind === 'unsupported') {
    log(`  skip  ${spec.name.padEnd(18)} n/a (${started.reason})`);
    return { name: spec.name, outcome: 'unsupported', reason: started.reason };
  }
  const child = started.child;
  try {
    const broken = await verify(spec.name, child.url, exp);
    if (broken !== undefined) return { name: spec.name, outcome: 'broken', reason: broken };
    return await measure(spec, scenario, child, exp);
  } catch (e) {
    log(`  error ${spec.name.padEnd(18)} ${(e as Error).message}`);
    return { name: spec.name, outcome: 'failed', reason: (e as Error).message };
  } finally {
    await child.stop();
    if (profileFile) {
      const summary = summarizeProfile(profileFile);
      results.profiles[`${spec.name} on ${page}`] = summary;
      log(`  profile written to ${profileFile}`);
    }
  }
}

try {
  for (const page of options.pages) {
    const shape = PAGES[page];
    const reference = await renderReferencePage(shape);
    const expected = expectationsOf(shape, reference);
    const refCheck = checkPage(reference, expected);
    const islands = reference.includes('<script type="importmap"') ? 'with' : 'WITHOUT (no `atoll build` yet)';
    log(`\n== ${shape.label}: reference is Atoll's ${shape.path} — ${refCheck.summary}, ${islands} the island loader`);
    if (!refCheck.ok) throw new Error(`the reference page ${shape.path} is broken: ${refCheck.problems.join('; ')}`);
    const pageFile = join(workDir, `${page}.html`);
    writeFileSync(pageFile, reference);
    const pageResults: PageResults = {};
    results.pages[page] = pageResults;
    for (const scenario of options.scenarios) {
      if (!shape.scenarios.includes(scenario)) continue;
      log(`\n${page}: ${pageScenarioLabel(page, scenario, options)}`);
      const list: ServerResult[] = [];
      pageResults[scenario] = list;
      for (const spec of SERVERS) {
        if (!options.only.has(spec.name) || !spec.scenarios.includes(scenario)) continue;
        list.push(await run(spec, page, pageFile, expected, scenario));
        if (scenario === 'load' && options.profile.has(spec.name)) await run(spec, page, pageFile, expected, scenario, true);
      }
      log();
      log(scenario === 'load' ? throughputTable(list) : timingTable(scenario, list, page));
      if (scenario === 'load' && list.some((r) => r.single)) log('\nsingle requests (nothing slow), ms: median (p25–p75)\n' + singleTable(list));
    }
  }
  results.loadAverage!.after = currentLoadAverage();
  // The "before" column: the same run's -before servers when there are any, else the baseline file.
  baseline = sameRunBefore(results) ?? baselineFile;
  if (results.pages.home) {
    log('\n' + targetsTable(results));
    for (const note of targetNotes(results)) log('\n' + note);
  }
  log('\n' + targets14Table(results, baseline));
  for (const note of targets14Notes(results, baseline)) log('\n' + note);
  for (const [name, summary] of Object.entries(results.profiles)) log('\n' + profileSection(name, summary));
  log(`\n${loadAverageLine(results.loadAverage)}`);
} finally {
  rmSync(workDir, { recursive: true, force: true });
}

if (options.writeDocs) {
  writeDocs(resultsMarkdown(results, baseline));
  const partial = options.pages.length < Object.keys(PAGES).length || options.scenarios.length < 3 ||
    SERVERS.some((s) => !s.before && !options.only.has(s.name));
  log(`\nwrote the results to docs/benchmarks.md${partial ? ' — a PARTIAL run: the docs now hold only what ran' : ''}`);
}
if (options.json) writeFileSync(options.json, JSON.stringify(results, (_key, v: unknown) => (v instanceof Set ? [...v] : v), 2));
const bad = Object.values(results.pages).flatMap((p) => Object.values(p).flat()).filter((r) => r.outcome === 'broken' || r.outcome === 'failed');
if (bad.length > 0) {
  log(`\n${bad.length} server run(s) broken or failed: ${bad.map((r) => r.name).join(', ')}`);
  process.exitCode = 1;
}
