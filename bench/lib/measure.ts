/**
 * The measurements: throughput and latency under load (autocannon), time to
 * headers / first byte / last byte of single requests (a raw `http.get`
 * client), and a process's resident memory (Linux `/proc`).
 */
import autocannon from 'autocannon';
import { readFileSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { Agent, get } from 'node:http';
import { fileURLToPath } from 'node:url';
import { median, summarize, type Summary } from './stats.ts';

export interface LoadResult {
  reqPerSec: number;
  p50: number;
  p99: number;
  requests: number;
  /** Connection errors, timeouts and non-2xx answers. */
  failures: number;
}

export async function loadTest(url: string, connections: number, seconds: number, workers = 0): Promise<LoadResult> {
  const r = await autocannon({ url, connections, duration: seconds, timeout: 30, ...(workers > 0 ? { workers } : {}) });
  return {
    reqPerSec: r['2xx'] / r.duration,
    p50: r.latency.p50,
    p99: r.latency.p99,
    requests: r['2xx'],
    failures: r.errors + r.timeouts + r.non2xx,
  };
}

/** One request's timings in ms from the moment it was sent. */
export interface RequestTiming {
  status: number;
  headers: number;
  firstByte: number;
  lastByte: number;
  body: string;
}

export function timeRequest(url: string, agent: Agent, keepBody = true): Promise<RequestTiming> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const req = get(url, { agent }, (res) => {
      const headers = performance.now() - t0;
      let firstByte = -1;
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => {
        if (firstByte < 0) firstByte = performance.now() - t0;
        if (keepBody) chunks.push(chunk);
      });
      res.on('end', () => {
        const lastByte = performance.now() - t0;
        resolve({ status: res.statusCode ?? 0, headers, firstByte, lastByte, body: Buffer.concat(chunks).toString('utf8') });
      });
      res.on('error', reject);
    });
    req.on('error', reject);
  });
}

export interface TimingResult {
  /** Medians in ms. */
  headers: number;
  firstByte: number;
  lastByte: number;
  samples: RequestTiming[];
}

/**
 * Sequential requests on one kept-alive connection, after `warm` unrecorded
 * ones. With `budgetMs`, recording stops once that much time has passed and
 * at least {@link MIN_SAMPLES} were recorded (a slow server on a big page).
 */
export async function timeRequests(url: string, samples: number, warm = 2, budgetMs = Infinity, bodies: 'all' | 'first' = 'all'): Promise<TimingResult> {
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  try {
    const recorded: RequestTiming[] = [];
    let started = 0;
    for (let i = 0; i < warm + samples; i++) {
      if (i === warm) started = performance.now();
      else if (i > warm && recorded.length >= MIN_SAMPLES && performance.now() - started > budgetMs) break;
      const t = await timeRequest(url, agent, bodies === 'all' || i === warm);
      if (i >= warm) recorded.push(t);
    }
    return {
      headers: median(recorded.map((t) => t.headers)),
      firstByte: median(recorded.map((t) => t.firstByte)),
      lastByte: median(recorded.map((t) => t.lastByte)),
      samples: recorded,
    };
  } finally {
    agent.destroy();
  }
}

/** Sequential single requests in rounds: each a fresh kept-alive connection with its own warm-up. */
export interface RoundsResult {
  headers: Summary;
  firstByte: Summary;
  lastByte: Summary;
  /** Each round's medians, in round order. */
  rounds: Array<{ headers: number; firstByte: number; lastByte: number }>;
  samples: RequestTiming[];
}

const MIN_SAMPLES = 3;
/** Time a round of single requests may take once it has {@link MIN_SAMPLES}. */
export const ROUND_BUDGET_MS = 4000;

export async function timeRounds(url: string, rounds: number, samples: number, warm = 3, bodies: 'all' | 'first' = 'all'): Promise<RoundsResult> {
  const all: RequestTiming[] = [];
  const medians: RoundsResult['rounds'] = [];
  for (let r = 0; r < rounds; r++) {
    const t = await timeRequests(url, samples, warm, ROUND_BUDGET_MS, bodies);
    all.push(...t.samples);
    medians.push({ headers: t.headers, firstByte: t.firstByte, lastByte: t.lastByte });
  }
  return {
    headers: summarize(all.map((t) => t.headers)),
    firstByte: summarize(all.map((t) => t.firstByte)),
    lastByte: summarize(all.map((t) => t.lastByte)),
    rounds: medians,
    samples: all,
  };
}

/** A process's resident memory (MB, now and peak) and CPU time used so far (s, all threads), where `/proc` exists. */
export interface ProcessStats {
  rss: number;
  peak: number;
  cpu: number;
}

/** Linux's USER_HZ: `/proc/<pid>/stat` counts CPU time in these ticks. */
const TICKS_PER_SECOND = 100;

export function processStats(pid: number): ProcessStats | undefined {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (key: string): number => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
    // Fields after the command name (which may hold spaces): utime and stime are the 12th and 13th.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const cpu = (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND;
    return { rss: kb('VmRSS') / 1024, peak: kb('VmHWM') / 1024, cpu };
  } catch {
    return undefined;
  }
}

/**
 * {@link timeRounds} from a client process of its own (`time-client.ts`):
 * the driver has just run autocannon and holds the run's results, and its
 * event loop and heap showed in single-request timings (first bytes of a
 * few ms that a separate client measured at about one). Only each round's
 * first body is kept (for the page check).
 */
export function timeRoundsApart(url: string, rounds: number, samples: number): Promise<RoundsResult> {
  return clientProcess<RoundsResult>('./time-client.ts', [url, String(rounds), String(samples)], 'the timing client');
}

/** Runs the client script `script` (next to this file) in a process of its own and parses the JSON it prints. */
function clientProcess<T>(script: string, args: readonly string[], what: string): Promise<T> {
  return new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(new URL(script, import.meta.url)), ...args], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const out: Buffer[] = [];
    proc.stdout.on('data', (d: Buffer) => out.push(d));
    proc.on('error', reject);
    proc.on('exit', (code) => {
      if (code !== 0) reject(new Error(`${what} exited with ${code}`));
      else resolve(JSON.parse(Buffer.concat(out).toString('utf8')) as T);
    });
  });
}

/** Timings of {@link timeInterleaved}: per URL, in argument order. */
export interface InterleavedResult {
  servers: Array<{ url: string; firstByte: number[]; lastByte: number[]; body: string }>;
}

/**
 * The order of `n` servers in cycle `c` of an interleaved run: the rows of a
 * Williams design (0, 1, n−1, 2, n−2, … shifted by the cycle; for odd `n`
 * every other lap of `n` cycles runs backwards). Over `2n` cycles every
 * server is measured at every position, and right after each other server,
 * equally often: the server that answered just before may still be
 * collecting its garbage on the other core, and no server should always
 * carry the same neighbour's after-work in its numbers.
 */
export function cycleOrder(n: number, c: number): number[] {
  const base: number[] = [];
  for (let lo = 0, hi = n - 1, k = 0; base.length < n; k++) base.push(k % 2 === 0 ? lo++ : hi--);
  const order = base.map((x) => (x + c) % n);
  return n % 2 === 1 && Math.floor(c / n) % 2 === 1 ? order.reverse() : order;
}

/**
 * Single requests interleaved between servers: `warm` unrecorded requests to
 * each URL, then `cycles` cycles of one request to each (in
 * {@link cycleOrder}), one kept-alive connection per URL. Servers compared
 * this way see the same machine within a fraction of a second of each other.
 */
export async function timeInterleaved(urls: readonly string[], cycles: number, warm: number): Promise<InterleavedResult> {
  const agents = urls.map(() => new Agent({ keepAlive: true, maxSockets: 1 }));
  const servers: InterleavedResult['servers'] = urls.map((url) => ({ url, firstByte: [], lastByte: [], body: '' }));
  try {
    for (let i = 0; i < warm; i++) for (let s = 0; s < urls.length; s++) await timeRequest(urls[s]!, agents[s]!, false);
    for (let c = 0; c < cycles; c++) {
      for (const s of cycleOrder(urls.length, c)) {
        const t = await timeRequest(urls[s]!, agents[s]!, c === 0);
        const out = servers[s]!;
        out.firstByte.push(t.firstByte);
        out.lastByte.push(t.lastByte);
        if (c === 0) out.body = t.body;
      }
    }
    return { servers };
  } finally {
    for (const a of agents) a.destroy();
  }
}

/** {@link timeInterleaved} from a client process of its own (`interleave-client.ts`). */
export function timeInterleavedApart(urls: readonly string[], cycles: number, warm: number): Promise<InterleavedResult> {
  return clientProcess<InterleavedResult>('./interleave-client.ts', [String(cycles), String(warm), ...urls], 'the interleaving client');
}
