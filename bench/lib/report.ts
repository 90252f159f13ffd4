/**
 * Results as Markdown tables (printed, and kept in docs/benchmarks.md between
 * markers so the rest of that file is never touched).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, platform, arch, totalmem } from 'node:os';
import { join } from 'node:path';
import type { LoadResult } from './measure.ts';
import type { BenchOptions } from './options.ts';
import { REPO_ROOT } from './page.ts';
import type { ProfileSummary } from './profile.ts';
import { SCENARIOS, slowestDelay, type ScenarioName } from './scenarios.ts';

export interface Timing {
  headers: number;
  firstByte: number;
  lastByte: number;
}

export interface ServerResult {
  name: string;
  outcome: 'ok' | 'broken' | 'unsupported' | 'failed';
  /** Why it is not ok. */
  reason?: string;
  load?: LoadResult & {
    rssIdle?: number;
    rssPeak?: number;
    /** Server CPU time ÷ wall time during the measured load (1 = one core busy). */
    cpuShare?: number;
    /** Server CPU ms per answered request. */
    cpuPerRequest?: number;
  };
  timing?: Timing;
}

export interface BenchResults {
  date: string;
  /** From {@link sourceLine}. */
  source: string;
  options: BenchOptions;
  scenarios: Partial<Record<ScenarioName, ServerResult[]>>;
  profiles: Record<string, ProfileSummary>;
}

export const DOCS_FILE = join(REPO_ROOT, 'docs', 'benchmarks.md');
const BEGIN = '<!-- bench:streaming-ssr:results:begin (written by `BENCH_WRITE_DOCS=1 npm run bench`) -->';
const END = '<!-- bench:streaming-ssr:results:end -->';

const f1 = (n: number): string => n.toFixed(1);
const f2 = (n: number): string => n.toFixed(2);
const signed = (n: number): string => `${n >= 0 ? '+' : '−'}${Math.abs(n).toFixed(1)}`;

function table(head: string[], rows: string[][]): string {
  const line = (cells: string[]): string => `| ${cells.join(' | ')} |`;
  return [line(head), line(head.map((h, i) => (i === 0 ? '---' : '---:'))), ...rows.map(line)].join('\n');
}

function find(results: ServerResult[] | undefined, name: string): ServerResult | undefined {
  return results?.find((r) => r.name === name && r.outcome === 'ok');
}

function notOk(r: ServerResult): string {
  return r.outcome === 'unsupported' ? `n/a (${r.reason})` : `${r.outcome.toUpperCase()}: ${r.reason ?? ''}`;
}

export function machineLine(): string {
  const cpu = cpus();
  const model = (cpu[0]?.model ?? 'unknown CPU').trim();
  return `Node ${process.version} · ${platform()} ${arch()} · ${cpu.length} × ${model} · ${f1(totalmem() / 2 ** 30)} GB RAM`;
}

/** The code measured: the commit, and whether the engine or the site had uncommitted changes. */
export function sourceLine(): string {
  const git = (...args: string[]): string => execFileSync('git', args, { cwd: REPO_ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  try {
    const dirty = git('status', '--porcelain', '--', 'ssr-server', 'islands', 'elements', 'layouts') !== '';
    return `commit ${git('rev-parse', '--short', 'HEAD')}${dirty ? ' with uncommitted changes to the engine or site' : ''}`;
  } catch {
    return 'commit unknown';
  }
}

export function settingsLine(o: BenchOptions): string {
  const client = o.clientWorkers > 0 ? ` (autocannon in ${o.clientWorkers} worker threads)` : '';
  return `${o.connections} connections${client}, ${o.duration} s measured after ${o.warmup} s warm-up per server; ` +
    `slow scenarios: median of ${o.samples} sequential requests on a kept-alive connection`;
}

export function throughputTable(results: ServerResult[]): string {
  const stat = find(results, 'static')?.load;
  const lit = find(results, 'lit-string')?.load;
  const rows = results.map((r) => {
    const l = r.load;
    if (r.outcome !== 'ok' || l === undefined) return [r.name, notOk(r), '', '', '', '', '', '', ''];
    const ratio = (ref: LoadResult | undefined): string => (ref ? `${f2(l.reqPerSec / ref.reqPerSec)}×` : '–');
    const rss = l.rssPeak === undefined ? '–' : `${Math.round(l.rssIdle ?? NaN)} → ${Math.round(l.rssPeak)}`;
    const failures = l.failures > 0 ? ` (${l.failures} failed)` : '';
    const cpu = l.cpuShare === undefined ? '–' : `${Math.round(l.cpuShare * 100)} %`;
    const perRequest = l.cpuPerRequest === undefined ? '–' : f2(l.cpuPerRequest);
    return [r.name, `${Math.round(l.reqPerSec)}${failures}`, ratio(stat), ratio(lit), f1(l.p50), f1(l.p99), cpu, perRequest, rss];
  });
  return table(['server', 'req/s', '× static', '× lit-string', 'p50 ms', 'p99 ms', 'server CPU', 'CPU ms/req', 'RSS MB (idle → peak)'], rows);
}

export function timingTable(scenario: ScenarioName, results: ServerResult[]): string {
  const stat = find(results, 'static')?.timing;
  const slowest = slowestDelay(SCENARIOS[scenario]);
  const rows = results.map((r) => {
    const t = r.timing;
    if (r.outcome !== 'ok' || t === undefined) return [r.name, notOk(r), '', ''];
    const vs = (v: number, ref: number | undefined): string => (ref === undefined ? f1(v) : `${f1(v)} (${signed(v - ref)})`);
    return [r.name, vs(t.headers, stat?.headers), vs(t.firstByte, stat?.firstByte), `${f1(t.lastByte)} (${f2(t.lastByte / slowest)}×)`];
  });
  return table(['server', 'headers ms (Δ static)', 'first byte ms (Δ static)', `last byte ms (÷ ${slowest} ms)`], rows);
}

export function targetsTable(r: BenchResults): string {
  const load = r.scenarios.load;
  const one = r.scenarios['slow-one'];
  const rows: string[][] = [];
  const verdict = (ok: boolean | undefined): string => (ok === undefined ? '–' : ok ? 'met' : '**not met**');
  const ratio = (a: string, b: string): number | undefined => {
    const x = find(load, a)?.load;
    const y = find(load, b)?.load;
    return x && y ? x.reqPerSec / y.reqPerSec : undefined;
  };
  const uncached = ratio('atoll', 'lit-string');
  rows.push(['atoll req/s ÷ lit-string req/s', '≥ 1.20×', uncached === undefined ? '–' : `${f2(uncached)}×`, verdict(uncached === undefined ? undefined : uncached >= 1.2)]);
  const cachedRow = load?.find((x) => x.name === 'atoll-cached');
  const cached = ratio('atoll-cached', 'static');
  rows.push([
    'atoll (cached) req/s ÷ static req/s',
    '≥ 0.50×',
    cached !== undefined ? `${f2(cached)}×` : cachedRow && cachedRow.outcome !== 'ok' ? notOk(cachedRow) : '–',
    verdict(cached === undefined ? undefined : cached >= 0.5),
  ]);
  const a = find(one, 'atoll')?.timing;
  const s = find(one, 'static')?.timing;
  for (const key of ['headers', 'firstByte'] as const) {
    const d = a && s ? a[key] - s[key] : undefined;
    const what = key === 'headers' ? 'headers' : 'first byte';
    rows.push([`${what}, one element 300 ms slow: atoll − static`, '≤ +1 ms', d === undefined ? '–' : `${signed(d)} ms`, verdict(d === undefined ? undefined : d <= 1)]);
  }
  for (const name of ['slow-one', 'slow-three'] as const) {
    const t = find(r.scenarios[name], 'atoll')?.timing;
    const slowest = slowestDelay(SCENARIOS[name]);
    const q = t ? t.lastByte / slowest : undefined;
    rows.push([`last byte, ${SCENARIOS[name].label.replace(/ \(.*\)$/, '')}: atoll ÷ ${slowest} ms`, '≤ 1.03×', q === undefined ? '–' : `${f2(q)}× (${f1(t!.lastByte)} ms)`, verdict(q === undefined ? undefined : q <= 1.03)]);
  }
  return table(['target (issue 3)', 'goal', 'measured', ''], rows);
}

/** What the reader needs to know to read the targets (e.g. a client-bound limit). */
export function targetNotes(r: BenchResults): string[] {
  const load = r.scenarios.load;
  const stat = find(load, 'static')?.load;
  const notes: string[] = [];
  if (stat?.cpuShare !== undefined && stat.cpuShare < 0.8 && stat.cpuPerRequest !== undefined) {
    const per = (name: string): string | undefined => {
      const c = find(load, name)?.load?.cpuPerRequest;
      return c === undefined ? undefined : `${name} ${f1(c / stat.cpuPerRequest!)}×`;
    };
    const others = ['lit-string', 'atoll', 'atoll-cached'].map(per).filter(Boolean);
    notes.push(
      `The static server used only ${Math.round(stat.cpuShare * 100)} % of a core: its req/s is the load generator's ceiling ` +
        `on this machine (autocannon shares the 2 cores), not the server's. ` +
        (others.length ? `Server CPU per request relative to static: ${others.join(', ')}.` : ''),
    );
  }
  return notes;
}

export function profileSection(name: string, p: ProfileSummary): string {
  const rows = p.functions.map((f) => [f.name.replace(/\|/g, '\\|'), f1(f.ms), `${f1(f.share * 100)} %`]);
  const mods = p.modules.map((f) => [f.name.replace(/\|/g, '\\|'), f1(f.ms), `${f1(f.share * 100)} %`]);
  return [
    `CPU profile of \`${name}\` under load (${f1(p.busyMs)} ms busy; self time):`,
    '',
    table(['function', 'self ms', 'share'], rows),
    '',
    table(['module', 'self ms', 'share'], mods),
  ].join('\n');
}

/** All results as Markdown. */
export function resultsMarkdown(r: BenchResults): string {
  const parts = [`Run ${r.date} (${r.source}): ${machineLine()}.`, `Settings: ${settingsLine(r.options)}.`];
  for (const name of Object.keys(SCENARIOS) as ScenarioName[]) {
    const results = r.scenarios[name];
    if (!results) continue;
    parts.push(`### ${SCENARIOS[name].label[0]!.toUpperCase()}${SCENARIOS[name].label.slice(1)}`);
    parts.push(name === 'load' ? throughputTable(results) : timingTable(name, results));
  }
  parts.push('### Targets', targetsTable(r), ...targetNotes(r));
  for (const [name, p] of Object.entries(r.profiles)) parts.push(profileSection(name, p));
  return parts.join('\n\n');
}

/** Replaces the results between the markers in docs/benchmarks.md (creating what is missing). */
export function writeDocs(markdown: string): void {
  const block = `${BEGIN}\n${markdown}\n${END}`;
  let text = existsSync(DOCS_FILE) ? readFileSync(DOCS_FILE, 'utf8') : '# Benchmarks\n';
  const begin = text.indexOf(BEGIN);
  const end = text.indexOf(END);
  if (begin >= 0 && end > begin) text = text.slice(0, begin) + block + text.slice(end + END.length);
  else text = `${text.trimEnd()}\n\n## Streaming SSR\n\n${block}\n`;
  writeFileSync(DOCS_FILE, text);
}
