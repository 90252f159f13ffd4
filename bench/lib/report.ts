/**
 * Results as Markdown tables (printed, and kept in docs/benchmarks.md between
 * markers so the rest of that file is never touched).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, platform, arch, totalmem } from 'node:os';
import { join } from 'node:path';
import type { LoadResult } from './measure.ts';
import type { BenchOptions } from './options.ts';
import { PAGES, REPO_ROOT, type PageName } from './page.ts';
import type { ProfileSummary } from './profile.ts';
import { scenarioLabel, SCENARIOS, slowestDelay, type ScenarioName } from './scenarios.ts';
import type { Summary } from './stats.ts';

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
    /** Concurrent connections of this load test (a page may use fewer than the setting). */
    connections?: number;
    rssIdle?: number;
    rssPeak?: number;
    /** Server CPU time ÷ wall time during the measured load (1 = one core busy). */
    cpuShare?: number;
    /** Server CPU ms per answered request. */
    cpuPerRequest?: number;
    /** Each repetition's req/s and CPU ms per request (the fields above are their medians). */
    reps?: Array<{ reqPerSec: number; cpuPerRequest?: number }>;
  };
  timing?: Timing;
  /** Sequential single requests with nothing slow (load scenario), in ms. */
  single?: SingleTiming;
}

/** Sequential single requests: all samples summarized, and each round's medians. */
export interface SingleTiming {
  headers: Summary;
  firstByte: Summary;
  lastByte: Summary;
  rounds: Array<{ headers: number; firstByte: number; lastByte: number }>;
}

export type PageResults = Partial<Record<ScenarioName, ServerResult[]>>;

export interface BenchResults {
  date: string;
  /** From {@link sourceLine}. */
  source: string;
  options: BenchOptions;
  /** The machine's load average (1, 5, 15 min) at the start and the end. */
  loadAverage?: { before: number[]; after?: number[] };
  pages: Partial<Record<PageName, PageResults>>;
  profiles: Record<string, ProfileSummary>;
  /** For a "before" view: where its numbers come from (shown under the issue-14 table). */
  note?: string;
}

/**
 * The run's `-before` servers (`BENCH_BEFORE`) as a results object of their
 * own — `atoll-before` read as `atoll`, beside the same run's peers — or
 * undefined when the run has none.
 */
export function sameRunBefore(r: BenchResults): BenchResults | undefined {
  const pages: BenchResults['pages'] = {};
  let any = false;
  for (const [page, scenarios] of Object.entries(r.pages) as Array<[PageName, PageResults]>) {
    const load = scenarios.load;
    if (!load?.some((x) => x.name.endsWith('-before'))) continue;
    any = true;
    const befores = new Set(load.filter((x) => x.name.endsWith('-before')).map((x) => x.name.replace(/-before$/, '')));
    pages[page] = {
      load: load.filter((x) => !befores.has(x.name)).map((x) => (x.name.endsWith('-before') ? { ...x, name: x.name.replace(/-before$/, '') } : x)),
    };
  }
  if (!any) return undefined;
  const commit = r.options.before ? gitCommit(r.options.before) : undefined;
  return {
    ...r,
    pages,
    profiles: {},
    note: `"before": the \`-before\` servers of this same run — the engine of \`BENCH_BEFORE\` (${commit ? `commit ${commit}` : r.options.before ?? '?'}) serving the same sites — against this run's static and lit-string.`,
  };
}

function gitCommit(dir: string): string | undefined {
  try {
    return execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: dir, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return undefined;
  }
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
  const rounds = o.rounds > 0 ? `; single requests: ${o.rounds} rounds × ${o.samples} sequential requests on a kept-alive connection after the load` : '';
  const engine = o.engine === 'compiled' ? "Atoll's engine compiled as published (dist/)" : "Atoll's engine from its .ts sources through tsx";
  const reps = (o.repeat ?? 1) > 1 ? `${o.repeat} × ${o.duration} s measured (medians, min–max)` : `${o.duration} s measured`;
  return `${engine}; ${o.connections} connections${client}, ${reps} after ${o.warmup} s warm-up per server${rounds}; ` +
    `slow scenarios: median of ${o.samples} sequential requests on a kept-alive connection`;
}

export function loadAverageLine(l: BenchResults['loadAverage']): string {
  if (l === undefined) return '';
  const f = (xs: number[]): string => xs.map((x) => x.toFixed(2)).join(' ');
  return `load average ${f(l.before)} before${l.after ? ` and ${f(l.after)} after` : ''}`;
}

export const currentLoadAverage = (): number[] => loadavg();

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

export function timingTable(scenario: ScenarioName, results: ServerResult[], page: PageName = 'home'): string {
  const stat = find(results, 'static')?.timing;
  const slowest = slowestDelay(SCENARIOS[scenario], PAGES[page].elements.map((e) => e.tag));
  const rows = results.map((r) => {
    const t = r.timing;
    if (r.outcome !== 'ok' || t === undefined) return [r.name, notOk(r), '', ''];
    const vs = (v: number, ref: number | undefined): string => (ref === undefined ? f1(v) : `${f1(v)} (${signed(v - ref)})`);
    return [r.name, vs(t.headers, stat?.headers), vs(t.firstByte, stat?.firstByte), `${f1(t.lastByte)} (${f2(t.lastByte / slowest)}×)`];
  });
  return table(['server', 'headers ms (Δ static)', 'first byte ms (Δ static)', `last byte ms (÷ ${slowest} ms)`], rows);
}

export function targetsTable(r: BenchResults): string {
  const home = r.pages.home ?? {};
  const load = home.load;
  const one = home['slow-one'];
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
    const t = find(home[name], 'atoll')?.timing;
    const slowest = slowestDelay(SCENARIOS[name], PAGES.home.elements.map((e) => e.tag));
    const q = t ? t.lastByte / slowest : undefined;
    rows.push([`last byte, ${SCENARIOS[name].label.replace(/ \(.*\)$/, '')}: atoll ÷ ${slowest} ms`, '≤ 1.03×', q === undefined ? '–' : `${f2(q)}× (${f1(t!.lastByte)} ms)`, verdict(q === undefined ? undefined : q <= 1.03)]);
  }
  return table(['target (issue 3)', 'goal', 'measured', ''], rows);
}

/** What the reader needs to know to read the targets (e.g. a client-bound limit). */
export function targetNotes(r: BenchResults, page: PageName = 'home'): string[] {
  const load = r.pages[page]?.load;
  const stat = find(load, 'static')?.load;
  const notes: string[] = [];
  if (stat?.cpuShare !== undefined && stat.cpuShare < 0.8 && stat.cpuPerRequest !== undefined) {
    const per = (name: string): string | undefined => {
      const c = find(load, name)?.load?.cpuPerRequest;
      return c === undefined ? undefined : `${name} ${f1(c / stat.cpuPerRequest!)}×`;
    };
    const others = ['lit-string', 'atoll', 'atoll-cached'].map(per).filter(Boolean);
    notes.push(
      `${PAGES[page].path}: the static server used only ${Math.round(stat.cpuShare * 100)} % of a core: its req/s is the load generator's ceiling ` +
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
export function resultsMarkdown(r: BenchResults, baseline?: BenchResults): string {
  const load = r.loadAverage ? `; ${loadAverageLine(r.loadAverage)}` : '';
  const parts = [`Run ${r.date} (${r.source}): ${machineLine()}${load}.`, `Settings: ${settingsLine(r.options)}.`];
  for (const page of Object.keys(PAGES) as PageName[]) {
    const scenarios = r.pages[page];
    if (!scenarios) continue;
    parts.push(`### ${PAGES[page].label[0]!.toUpperCase()}${PAGES[page].label.slice(1)}`);
    for (const name of Object.keys(SCENARIOS) as ScenarioName[]) {
      const results = scenarios[name];
      if (!results) continue;
      parts.push(`#### ${capital(pageScenarioLabel(page, name, r.options))}`);
      parts.push(name === 'load' ? throughputTable(results) : timingTable(name, results, page));
      if (name === 'load' && results.some((x) => x.single)) {
        parts.push('#### Single requests (nothing slow)', singleTable(results));
      }
    }
  }
  parts.push('### Targets', targetsTable(r), ...targetNotes(r));
  parts.push('### Targets (issue 14)', targets14Table(r, baseline), ...targets14Notes(r, baseline));
  for (const [name, p] of Object.entries(r.profiles)) parts.push(profileSection(name, p));
  return parts.join('\n\n');
}

const capital = (s: string): string => s[0]!.toUpperCase() + s.slice(1);

export function pageScenarioLabel(page: PageName, scenario: ScenarioName, options?: BenchOptions): string {
  const label = scenarioLabel(SCENARIOS[scenario], PAGES[page].elements.map((e) => e.tag));
  const max = PAGES[page].maxConnections;
  return scenario === 'load' && options && max !== undefined && max < options.connections ? label.replace(/\)$/, `; ${max} connections)`) : label;
}

const range = (s: Summary): string => `${f2(s.median)} (${f2(s.q1)}–${f2(s.q3)})`;

/** Sequential single requests: medians with the interquartile range, and the first byte's round medians. */
export function singleTable(results: ServerResult[]): string {
  const stat = find(results, 'static')?.single;
  const rows = results.map((r) => {
    const t = r.single;
    if (r.outcome !== 'ok' || t === undefined) return [r.name, r.outcome === 'ok' ? '–' : notOk(r), '', '', '', ''];
    const vs = (v: Summary, ref: Summary | undefined): string => (ref ? `${range(v)} ${signed2(v.median - ref.median)}` : range(v));
    return [
      r.name,
      range(t.headers),
      vs(t.firstByte, stat?.firstByte),
      vs(t.lastByte, stat?.lastByte),
      t.rounds.map((x) => f2(x.firstByte)).join(' / '),
      String(t.firstByte.n),
    ];
  });
  return table(['server', 'headers ms', 'first byte ms (Δ static)', 'last byte ms (Δ static)', 'first byte, round medians', 'n'], rows);
}

const signed2 = (n: number): string => `(${n >= 0 ? '+' : '−'}${Math.abs(n).toFixed(2)})`;

/** Median of the rounds' medians: the number the issue-14 targets are about. */
function roundsMedian(t: SingleTiming | undefined, key: 'headers' | 'firstByte' | 'lastByte'): number | undefined {
  if (t === undefined || t.rounds.length === 0) return undefined;
  const xs = t.rounds.map((x) => x[key]).sort((a, b) => a - b);
  const mid = xs.length >> 1;
  return xs.length % 2 ? xs[mid]! : (xs[mid - 1]! + xs[mid]!) / 2;
}

interface Target14 {
  what: string;
  goal: string;
  /** The number, or undefined when not measured. */
  value(r: BenchResults): number | undefined;
  /** Shown beside the number. */
  detail?(r: BenchResults): string;
  met(v: number, baseline: number | undefined): boolean | undefined;
  format(v: number): string;
}

function loadOf(r: BenchResults, page: PageName, server: string): ServerResult['load'] {
  return find(r.pages[page]?.load, server)?.load;
}

function targets14(): Target14[] {
  const list: Target14[] = [
    {
      what: 'first byte (TTFB), cards-1000: atoll, median of round medians',
      goal: '≤ 1.50 ms',
      value: (r) => roundsMedian(find(r.pages['cards-1000']?.load, 'atoll')?.single, 'firstByte'),
      detail: (r) => {
        const a = find(r.pages['cards-1000']?.load, 'atoll')?.single;
        const s = roundsMedian(find(r.pages['cards-1000']?.load, 'static')?.single, 'firstByte');
        return [a ? `rounds ${a.rounds.map((x) => f2(x.firstByte)).join(' / ')}` : '', s === undefined ? '' : `static ${f2(s)}`].filter(Boolean).join('; ');
      },
      met: (v) => v <= 1.5,
      format: (v) => `${f2(v)} ms`,
    },
    {
      what: 'last byte, cards-1000: atoll, median of round medians',
      goal: '≤ before',
      value: (r) => roundsMedian(find(r.pages['cards-1000']?.load, 'atoll')?.single, 'lastByte'),
      detail: (r) => {
        const a = find(r.pages['cards-1000']?.load, 'atoll')?.single;
        const s = roundsMedian(find(r.pages['cards-1000']?.load, 'lit-string')?.single, 'lastByte');
        return [a ? `rounds ${a.rounds.map((x) => f2(x.lastByte)).join(' / ')}` : '', s === undefined ? '' : `lit-string ${f2(s)}`].filter(Boolean).join('; ');
      },
      met: (v, before) => (before === undefined ? undefined : v <= before),
      format: (v) => `${f2(v)} ms`,
    },
  ];
  for (const page of ['shop-50', 'home', 'cards-1000'] as const) {
    list.push({
      what: `fully cached, ${page}: atoll-cached CPU/req ÷ static CPU/req`,
      goal: '≤ 2.00×',
      value: (r) => {
        const c = loadOf(r, page, 'atoll-cached')?.cpuPerRequest;
        const s = loadOf(r, page, 'static')?.cpuPerRequest;
        return c !== undefined && s !== undefined ? c / s : undefined;
      },
      detail: (r) => {
        const c = loadOf(r, page, 'atoll-cached')?.cpuPerRequest;
        const s = loadOf(r, page, 'static')?.cpuPerRequest;
        const cs = spreadOf(loadOf(r, page, 'atoll-cached'), 'cpuPerRequest', f3);
        const ss = spreadOf(loadOf(r, page, 'static'), 'cpuPerRequest', f3);
        return c !== undefined && s !== undefined ? `${f3(c)}${cs} vs ${f3(s)}${ss} ms` : '';
      },
      met: (v) => v <= 2,
      format: (v) => `${f2(v)}×`,
    });
    list.push({
      what: `fully cached, ${page}: atoll-cached req/s ÷ static req/s`,
      goal: '≥ 0.70×',
      value: (r) => {
        const c = loadOf(r, page, 'atoll-cached')?.reqPerSec;
        const s = loadOf(r, page, 'static')?.reqPerSec;
        return c !== undefined && s !== undefined ? c / s : undefined;
      },
      detail: (r) => {
        const c = loadOf(r, page, 'atoll-cached')?.reqPerSec;
        const s = loadOf(r, page, 'static')?.reqPerSec;
        const r0 = (n: number): string => String(Math.round(n));
        const cs = spreadOf(loadOf(r, page, 'atoll-cached'), 'reqPerSec', r0);
        const ss = spreadOf(loadOf(r, page, 'static'), 'reqPerSec', r0);
        return c !== undefined && s !== undefined ? `${Math.round(c)}${cs} vs ${Math.round(s)}${ss} req/s` : '';
      },
      met: (v) => v >= 0.7,
      format: (v) => `${f2(v)}×`,
    });
  }
  list.push({
    what: 'uncached, shop-50: atoll CPU/req ÷ lit-string CPU/req',
    goal: '≤ 0.60×',
    value: (r) => {
      const a = loadOf(r, 'shop-50', 'atoll')?.cpuPerRequest;
      const l = loadOf(r, 'shop-50', 'lit-string')?.cpuPerRequest;
      return a !== undefined && l !== undefined ? a / l : undefined;
    },
    detail: (r) => {
      const a = loadOf(r, 'shop-50', 'atoll')?.cpuPerRequest;
      const l = loadOf(r, 'shop-50', 'lit-string')?.cpuPerRequest;
      const as = spreadOf(loadOf(r, 'shop-50', 'atoll'), 'cpuPerRequest', f3);
      const ls = spreadOf(loadOf(r, 'shop-50', 'lit-string'), 'cpuPerRequest', f3);
      return a !== undefined && l !== undefined ? `${f3(a)}${as} vs ${f3(l)}${ls} ms` : '';
    },
    met: (v) => v <= 0.6,
    format: (v) => `${f2(v)}×`,
  });
  return list;
}

const f3 = (n: number): string => n.toFixed(3);

/** `median (min–max)` of one server's repetitions of a load figure. */
function spreadOf(l: { reps?: Array<{ reqPerSec: number; cpuPerRequest?: number }> } | undefined, key: 'reqPerSec' | 'cpuPerRequest', fmt: (n: number) => string): string {
  const values = (l?.reps ?? []).map((x) => x[key]).filter((v): v is number => v !== undefined);
  if (values.length < 2) return '';
  return ` (${fmt(Math.min(...values))}–${fmt(Math.max(...values))})`;
}

/**
 * The issue-14 targets, with a "before" column from a baseline run of the
 * same bench on the engine before issue 14 (`BENCH_BASELINE`).
 */
export function targets14Table(r: BenchResults, baseline?: BenchResults): string {
  const rows = targets14().map((t) => {
    const v = t.value(r);
    const b = baseline ? t.value(baseline) : undefined;
    const verdict = v === undefined ? undefined : t.met(v, b);
    const detail = v === undefined ? '' : t.detail?.(r) ?? '';
    const beforeDetail = b === undefined || baseline === undefined ? '' : t.detail?.(baseline) ?? '';
    return [
      t.what,
      t.goal.replace('before', b === undefined ? 'before' : t.format(b)),
      v === undefined ? '–' : `${t.format(v)}${detail ? ` (${detail})` : ''}`,
      b === undefined ? '–' : `${t.format(b)}${beforeDetail ? ` (${beforeDetail})` : ''}`,
      verdict === undefined ? '–' : verdict ? 'met' : '**not met**',
    ];
  });
  return table(['target (issue 14)', 'goal', 'measured', 'before', ''], rows);
}

export function targets14Notes(r: BenchResults, baseline?: BenchResults): string[] {
  const notes = [
    'TTFB and last byte: sequential requests with nothing slow on one kept-alive connection after the load test; ' +
      'the median of each round\'s median, the rounds\' medians beside it. CPU and req/s: the load test of the same run.',
  ];
  if (baseline?.note) notes.push(baseline.note);
  else if (baseline) {
    const load = baseline.loadAverage ? `, ${loadAverageLine(baseline.loadAverage)}` : '';
    notes.push(`"before": the same bench on ${baseline.source.replace(/^commit /, 'commit ')} (run ${baseline.date}${load}), from \`${relativeBaseline()}\`; compare with care — it was a different run on a shared machine.`);
  } else notes.push('No baseline run (`BENCH_BASELINE`): the "before" column is empty.');
  const cards = targetNotes(r, 'cards-1000');
  return [...notes, ...cards];
}

/** Where the "before" numbers come from (a `BENCH_JSON` file of a run on the engine before issue 14). */
export const DEFAULT_BASELINE = join(REPO_ROOT, 'bench', 'baselines', 'issue-14-before.json');
let baselineFile = DEFAULT_BASELINE;

export function readBaseline(file: string | undefined): BenchResults | undefined {
  baselineFile = file ?? DEFAULT_BASELINE;
  if (!existsSync(baselineFile)) return undefined;
  return JSON.parse(readFileSync(baselineFile, 'utf8')) as BenchResults;
}

function relativeBaseline(): string {
  return baselineFile.startsWith(REPO_ROOT + '/') ? baselineFile.slice(REPO_ROOT.length + 1) : baselineFile;
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
