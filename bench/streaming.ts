/**
 * `npm run bench`: the demo shop's `/home` served by Atoll and by its peers
 * (static bytes, Lit SSR streamed and collected, single-spa-layout, Tailor),
 * each in its own process, measured in one run: req/s and latency under load
 * with peak memory, then time to headers / first byte / last byte with one
 * element 300 ms slow and with three elements 200 ms slow each.
 * Settings and how to profile: docs/benchmarks.md.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadTest, processStats, timeRequests } from './lib/measure.ts';
import { readOptions } from './lib/options.ts';
import { BENCH_DIR, checkPage, expectationsOf, PAGE_PATH, renderReferencePage, type PageExpectations } from './lib/page.ts';
import { summarizeProfile } from './lib/profile.ts';
import {
  machineLine, profileSection, resultsMarkdown, settingsLine, sourceLine, targetNotes, targetsTable, throughputTable, timingTable, writeDocs,
  type BenchResults, type ServerResult,
} from './lib/report.ts';
import { SCENARIOS, type ScenarioName } from './lib/scenarios.ts';
import { SERVERS, type ServerSpec } from './lib/servers.ts';
import { startServer, type RunningChild } from './lib/spawn.ts';

const options = readOptions();
const log = (line = ''): void => void process.stdout.write(line + '\n');

log(`Streaming SSR bench — ${machineLine()} — ${sourceLine()}`);
log(`${settingsLine(options)}`);

const reference = await renderReferencePage();
const expected = expectationsOf(reference);
const refCheck = checkPage(reference, expected);
const islands = reference.includes('<script type="importmap"') ? 'with' : 'WITHOUT (no `atoll build` yet)';
log(`reference: Atoll's ${PAGE_PATH} from the repository's site — ${refCheck.summary}, ${islands} the island loader`);
if (!refCheck.ok) throw new Error(`the reference page is broken: ${refCheck.problems.join('; ')}`);
const workDir = mkdtempSync(join(tmpdir(), 'atoll-bench-'));
const pageFile = join(workDir, 'home.html');
writeFileSync(pageFile, reference);
const profileDir = join(BENCH_DIR, '.profiles');

const results: BenchResults = {
  date: new Date().toISOString().slice(0, 16).replace('T', ' '),
  source: sourceLine(),
  options,
  scenarios: {},
  profiles: {},
};

/** Gets the page once and checks it; a broken page is not measured. */
async function verify(name: string, url: string, exp: PageExpectations): Promise<string | undefined> {
  const { samples } = await timeRequests(url, 1, 0);
  const page = samples[0]!;
  const check = checkPage(page.body, exp);
  const problems = page.status === 200 ? check.problems : [`status ${page.status}`, ...check.problems];
  log(`  check ${name.padEnd(18)} ${page.status} ${check.summary}${problems.length ? ` — BROKEN: ${problems.join('; ')}` : ' — ok'}`);
  return problems.length ? problems.join('; ') : undefined;
}

async function measure(spec: ServerSpec, scenario: ScenarioName, child: RunningChild): Promise<ServerResult> {
  if (scenario === 'load') {
    if (options.warmup > 0) await loadTest(child.url, options.connections, options.warmup, options.clientWorkers);
    const before = processStats(child.pid);
    const load = await loadTest(child.url, options.connections, options.duration, options.clientWorkers);
    const after = processStats(child.pid);
    const cpu = before && after ? after.cpu - before.cpu : undefined;
    const usage = cpu === undefined ? {} : { cpuShare: cpu / options.duration, cpuPerRequest: (cpu * 1000) / load.requests };
    log(`  load  ${spec.name.padEnd(18)} ${Math.round(load.reqPerSec)} req/s, p50 ${load.p50} ms, p99 ${load.p99} ms, ` +
      `server CPU ${usage.cpuShare === undefined ? '?' : Math.round(usage.cpuShare * 100)} %, peak RSS ${after ? Math.round(after.peak) : '?'} MB`);
    return { name: spec.name, outcome: 'ok', load: { ...load, ...usage, rssIdle: before?.rss, rssPeak: after?.peak } };
  }
  // Load first, so that timings are of warm (JIT-compiled) code, as on a busy server.
  if (options.warmup > 0) await loadTest(child.url, options.connections, options.warmup, options.clientWorkers);
  const t = await timeRequests(child.url, options.samples);
  const broken = t.samples.map((s) => checkPage(s.body, expected)).find((c) => !c.ok);
  if (broken) return { name: spec.name, outcome: 'broken', reason: broken.problems.join('; ') };
  log(`  time  ${spec.name.padEnd(18)} headers ${t.headers.toFixed(1)} ms, first byte ${t.firstByte.toFixed(1)} ms, last byte ${t.lastByte.toFixed(1)} ms`);
  return { name: spec.name, outcome: 'ok', timing: { headers: t.headers, firstByte: t.firstByte, lastByte: t.lastByte } };
}

/**
 * Starts a server, checks its page, measures it, stops it. A profile run
 * (`profiled`) measures again under the CPU profiler; its numbers are only
 * printed, the profile is summarized.
 */
async function run(spec: ServerSpec, scenario: ScenarioName, profiled = false): Promise<ServerResult> {
  const profileFile = profiled ? join(profileDir, `${spec.name}.cpuprofile`) : undefined;
  if (profiled) {
    mkdirSync(profileDir, { recursive: true });
    log(`  profile run of ${spec.name}:`);
  }
  let started;
  try {
    started = await startServer(spec, scenario, { pageFile, profileFile });
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
    const broken = await verify(spec.name, child.url, expected);
    if (broken !== undefined) return { name: spec.name, outcome: 'broken', reason: broken };
    return await measure(spec, scenario, child);
  } catch (e) {
    log(`  error ${spec.name.padEnd(18)} ${(e as Error).message}`);
    return { name: spec.name, outcome: 'failed', reason: (e as Error).message };
  } finally {
    await child.stop();
    if (profileFile) {
      results.profiles[spec.name] = summarizeProfile(profileFile);
      log(`  profile written to ${profileFile}`);
    }
  }
}

try {
  for (const scenario of options.scenarios) {
    log(`\n${SCENARIOS[scenario].label}`);
    const list: ServerResult[] = [];
    results.scenarios[scenario] = list;
    for (const spec of SERVERS) {
      if (!options.only.has(spec.name) || !spec.scenarios.includes(scenario)) continue;
      list.push(await run(spec, scenario));
      if (scenario === 'load' && options.profile.has(spec.name)) await run(spec, scenario, true);
    }
    log();
    log(scenario === 'load' ? throughputTable(list) : timingTable(scenario, list));
  }
  log('\n' + targetsTable(results));
  for (const note of targetNotes(results)) log('\n' + note);
  for (const [name, summary] of Object.entries(results.profiles)) log('\n' + profileSection(name, summary));
} finally {
  rmSync(workDir, { recursive: true, force: true });
}

if (options.writeDocs) {
  writeDocs(resultsMarkdown(results));
  log('\nwrote the results to docs/benchmarks.md');
}
if (options.json) writeFileSync(options.json, JSON.stringify(results, (_key, v: unknown) => (v instanceof Set ? [...v] : v), 2));
const bad = Object.values(results.scenarios).flat().filter((r) => r.outcome === 'broken' || r.outcome === 'failed');
if (bad.length > 0) {
  log(`\n${bad.length} server run(s) broken or failed: ${bad.map((r) => r.name).join(', ')}`);
  process.exitCode = 1;
}
