/**
 * `atoll serve`'s memory after building (issue 14): the serving process's
 * RSS when it started on a fresh build (nothing to build) and when it had to
 * build first (no build in its folder: the same full rollup build as a stale
 * one), under the same load.
 *
 * For each checkout of Atoll given (default: this one) and each repetition:
 *   fresh: `atoll build --out <tmp>/fresh` once, then `atoll serve --out <tmp>/fresh`;
 *   stale: `atoll serve --out <tmp>/stale-<n>` (an empty folder: serve builds);
 * both on the demo site (the checkout's root; the repository's own .atoll is
 * never touched), `--quiet`, then autocannon on three demo pages in turn, then
 * VmRSS and VmHWM of the serving process from /proc/<pid>/status (after
 * start, after the load and a 1 s pause), and the build child's VmHWM
 * (sampled every 20 ms while it lives; found by its parent pid). Medians of
 * the repetitions with min–max; the ratio stale ÷ fresh of the median RSS
 * after load, against the target 1.10.
 *
 *   npm run bench:serve
 *   npm run bench:serve -- --atoll before=/tmp/wt-before --atoll after=/tmp/wt-after --reps 3 --seconds 6
 *
 * Options: `--atoll label=dir` (repeatable; each needs its node_modules),
 * `--reps N` (3), `--seconds S` (load per start, 6), `--connections C` (10),
 * `--json FILE` (raw numbers). Linux only (/proc).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';

const here = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const { values } = parseArgs({
  options: {
    atoll: { type: 'string', multiple: true },
    reps: { type: 'string', default: '3' },
    seconds: { type: 'string', default: '6' },
    connections: { type: 'string', default: '10' },
    json: { type: 'string' },
  },
});
const checkouts = (values.atoll ?? [`this=${here}`]).map((a) => {
  const at = a.indexOf('=');
  const [label, dir] = at < 0 ? [a, a] : [a.slice(0, at), a.slice(at + 1)];
  const root = resolve(dir);
  if (!existsSync(join(root, 'bin', 'atoll.mjs'))) throw new Error(`--atoll ${a}: no bin/atoll.mjs in ${root}`);
  return { label, root };
});
const reps = Number(values.reps);
const seconds = Number(values.seconds);
const connections = Number(values.connections);
const PAGES = ['/home', '/category/kitchen', '/products/stoneware-mug'];

/** VmRSS and VmHWM of `pid` in MB (undefined when it is gone). */
function memory(pid: number): { rss: number; hwm: number } | undefined {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (key: string): number => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
    return { rss: kb('VmRSS') / 1024, hwm: kb('VmHWM') / 1024 };
  } catch {
    return undefined;
  }
}

/** Node processes whose parent is `pid`. */
function childrenOf(pid: number): number[] {
  const out: number[] = [];
  for (const p of readdirSync('/proc')) {
    if (!/^\d+$/.test(p)) continue;
    try {
      const stat = readFileSync(`/proc/${p}/stat`, 'utf8');
      const parent = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (parent === pid && readFileSync(`/proc/${p}/cmdline`, 'utf8').includes('build-child')) out.push(Number(p));
    } catch {
      // gone
    }
  }
  return out;
}

/** Runs a command to its end; rejects on a non-zero exit. */
function run(cmd: string, args: string[], cwd: string): Promise<void> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(cmd, args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err += d));
    child.on('exit', (code) => (code === 0 ? resolvePromise() : reject(new Error(`${args.join(' ')} exited ${code}: ${err}`))));
  });
}

interface Sample {
  /** Milliseconds from spawn to "Atoll is serving". */
  startMs: number;
  startRss: number;
  loadRss: number;
  loadHwm: number;
  /** The build child's peak RSS (MB), when a child built. */
  childHwm: number | undefined;
  requests: number;
  errors: number;
}

/** Starts `atoll serve` from `checkout` with `outDir`, loads it, measures, stops it. */
async function measure(checkout: string, outDir: string): Promise<Sample> {
  const started = performance.now();
  const child: ChildProcess = spawn(process.execPath, [join(checkout, 'bin', 'atoll.mjs'), 'serve', '--root', checkout, '--out', outDir, '--port', '0', '--quiet'], {
    cwd: checkout,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const pid = child.pid!;
  let out = '';
  child.stderr!.on('data', (d: Buffer) => (out += d));
  // The build child's peak, sampled while the server starts.
  let childHwm: number | undefined;
  const sampler = setInterval(() => {
    for (const c of childrenOf(pid)) {
      const m = memory(c);
      // A process that is exiting (a zombie) has no VmHWM line any more.
      if (m !== undefined && Number.isFinite(m.hwm)) childHwm = Math.max(childHwm ?? 0, m.hwm);
    }
  }, 20);
  try {
    const url = await new Promise<string>((resolvePromise, reject) => {
      const timer = setTimeout(() => reject(new Error(`serve did not start: ${out}`)), 180_000);
      child.stdout!.on('data', (d: Buffer) => {
        out += d;
        const m = /Atoll is serving .* at (http:\/\/\S+)/.exec(out);
        if (m) {
          clearTimeout(timer);
          resolvePromise(m[1]!);
        }
      });
      child.on('exit', (code) => reject(new Error(`serve exited ${code}: ${out}`)));
    });
    const startMs = performance.now() - started;
    clearInterval(sampler);
    await new Promise((r) => setTimeout(r, 500));
    const atStart = memory(pid)!;
    let requests = 0;
    let errors = 0;
    for (const page of PAGES) {
      const r = await autocannon({ url: url + page, connections, duration: seconds / PAGES.length, timeout: 30 });
      requests += r.requests.total;
      errors += r.errors + r.timeouts + r.non2xx;
    }
    await new Promise((r) => setTimeout(r, 1000));
    const afterLoad = memory(pid)!;
    return { startMs, startRss: atStart.rss, loadRss: afterLoad.rss, loadHwm: afterLoad.hwm, childHwm, requests, errors };
  } finally {
    clearInterval(sampler);
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    await exited;
  }
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
};
const spread = (xs: number[]): string => `${Math.min(...xs).toFixed(0)}–${Math.max(...xs).toFixed(0)}`;
const mb = (xs: number[]): string => `${median(xs).toFixed(0)} (${spread(xs)})`;

const tmp = mkdtempSync(join(tmpdir(), 'atoll-bench-serve-'));
const results = new Map<string, { fresh: Sample[]; stale: Sample[] }>();
try {
  for (const c of checkouts) {
    process.stderr.write(`${c.label}: atoll build --out (fresh build)\n`);
    await run(process.execPath, [join(c.root, 'bin', 'atoll.mjs'), 'build', '--root', c.root, '--out', join(tmp, `${c.label}-fresh`)], c.root);
    results.set(c.label, { fresh: [], stale: [] });
  }
  // Interleaved: every checkout and both starts in each repetition, so drift in the machine's load spreads evenly.
  for (let rep = 1; rep <= reps; rep++) {
    for (const c of checkouts) {
      const r = results.get(c.label)!;
      const fresh = await measure(c.root, join(tmp, `${c.label}-fresh`));
      r.fresh.push(fresh);
      const staleDir = join(tmp, `${c.label}-stale-${rep}`);
      const stale = await measure(c.root, staleDir);
      r.stale.push(stale);
      rmSync(staleDir, { recursive: true, force: true });
      const f = (s: Sample): string => `RSS ${s.loadRss.toFixed(0)} MB, HWM ${s.loadHwm.toFixed(0)} MB${s.childHwm === undefined ? '' : `, child peak ${s.childHwm.toFixed(0)} MB`}, ${s.requests} requests${s.errors > 0 ? `, ${s.errors} errors` : ''}`;
      process.stderr.write(`rep ${rep} ${c.label}: fresh ${f(fresh)}; stale ${f(stale)}\n`);
    }
  }
} finally {
  rmSync(tmp, { recursive: true, force: true });
}

let table = `| checkout | start | start (ms) | RSS after start (MB) | RSS after load (MB) | VmHWM (MB) | build child's peak (MB) | requests | errors |\n| --- | --- | --- | --- | --- | --- | --- | --- | --- |\n`;
let ratios = '';
for (const [label, r] of results) {
  for (const kind of ['fresh', 'stale'] as const) {
    const s = r[kind];
    const child = s.map((x) => x.childHwm).filter((x): x is number => x !== undefined);
    table += `| ${label} | ${kind === 'fresh' ? 'fresh build' : 'builds first'} | ${mb(s.map((x) => x.startMs))} | ${mb(s.map((x) => x.startRss))} | ${mb(s.map((x) => x.loadRss))} | ${mb(s.map((x) => x.loadHwm))} | ${child.length > 0 ? mb(child) : kind === 'fresh' ? '— (no build)' : '— (built in-process)'} | ${median(s.map((x) => x.requests)).toFixed(0)} | ${s.reduce((n, x) => n + x.errors, 0)} |\n`;
  }
  const ratio = median(r.stale.map((x) => x.loadRss)) / median(r.fresh.map((x) => x.loadRss));
  const hwmRatio = median(r.stale.map((x) => x.loadHwm)) / median(r.fresh.map((x) => x.loadHwm));
  ratios += `- ${label}: RSS after load, builds-first ÷ fresh = **${ratio.toFixed(2)}** (target ≤ 1.10: ${ratio <= 1.1 ? 'met' : 'not met'}); VmHWM ${hwmRatio.toFixed(2)}\n`;
}
const machine = `${cpus().length} CPUs (${cpus()[0]?.model ?? '?'}), Node ${process.version}, load average at the end ${loadavg().map((l) => l.toFixed(1)).join(' ')}`;
process.stdout.write(`${table}\n${ratios}\nmedians of ${reps} repetitions (min–max); ${connections} connections, ${seconds} s of load per start over ${PAGES.join(', ')}; ${machine}\n`);
if (values.json !== undefined) writeFileSync(values.json, JSON.stringify(Object.fromEntries(results), null, 2));
