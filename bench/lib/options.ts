/** The bench's settings, from the environment (see docs/benchmarks.md). */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { isPageName, PAGES, type PageName } from './page.ts';
import { isScenarioName, SCENARIOS, type ScenarioName } from './scenarios.ts';
import { SERVERS } from './servers.ts';

export interface BenchOptions {
  /** Seconds of measured load per server and repetition (`BENCH_DURATION`, default 5). */
  duration: number;
  /** Measured load tests per server and page, one after the other; medians are reported with their spread (`BENCH_REPEAT`, default 3). */
  repeat: number;
  /** Seconds of unmeasured load first (`BENCH_WARMUP`, default 2). */
  warmup: number;
  /** Concurrent connections (`BENCH_CONNECTIONS`, default 32). */
  connections: number;
  /** autocannon worker threads; 0 runs it in the driver's thread (`BENCH_CLIENT_WORKERS`, default 0). Worth it with more than 2 cores. */
  clientWorkers: number;
  /** Timed requests per slow scenario and server, and per round of single requests; the median is reported (`BENCH_SAMPLES`, default 10). */
  samples: number;
  /** Rounds of sequential single requests (nothing slow) per page and server (`BENCH_ROUNDS`, default 3; 0: none). */
  rounds: number;
  /** Page shapes to serve (`BENCH_PAGES=home,shop-50`; default all). */
  pages: PageName[];
  /** Servers to run (`BENCH_ONLY=atoll,lit-string`; default all). */
  only: ReadonlySet<string>;
  /** Scenarios to run (`BENCH_SCENARIOS=load,slow-one`; default all). */
  scenarios: ScenarioName[];
  /**
   * A checkout of the engine before a change (`BENCH_BEFORE=/tmp/wt`): adds
   * `atoll-before` and `atoll-cached-before`, the same bench sites served by
   * that checkout's `ssr-server`, in the same run.
   */
  before: string | undefined;
  /** Servers to CPU-profile during their load test (`BENCH_PROFILE=atoll`). */
  profile: ReadonlySet<string>;
  /** Rewrite the Streaming SSR results in docs/benchmarks.md (`BENCH_WRITE_DOCS=1`). */
  writeDocs: boolean;
  /** Also write the raw results as JSON to this file (`BENCH_JSON`). */
  json: string | undefined;
  /**
   * How Atoll's engine runs (`BENCH_ENGINE`): `compiled` (default) — as the
   * published package runs it, `dist/` from `npm run build:package`, which
   * the driver runs first (also in the `BENCH_BEFORE` checkout); `source` —
   * the checkout's `.ts` through tsx, whose esbuild transform wraps every
   * function it creates in a `__name` helper (about 7 % of a cached page's
   * CPU in profiles).
   */
  engine: 'compiled' | 'source';
}

export function readOptions(env: NodeJS.ProcessEnv = process.env): BenchOptions {
  const before = env.BENCH_BEFORE ? resolve(env.BENCH_BEFORE) : undefined;
  if (before !== undefined && !existsSync(join(before, 'ssr-server', 'index.ts'))) {
    throw new Error(`BENCH_BEFORE: ${before} has no ssr-server/index.ts (give a checkout of the repository, e.g. from \`git worktree add\`)`);
  }
  const names = SERVERS.filter((s) => before !== undefined || !s.before).map((s) => s.name);
  return {
    before,
    duration: number(env, 'BENCH_DURATION', 5),
    repeat: number(env, 'BENCH_REPEAT', 3),
    warmup: number(env, 'BENCH_WARMUP', 2, true),
    connections: number(env, 'BENCH_CONNECTIONS', 32),
    clientWorkers: number(env, 'BENCH_CLIENT_WORKERS', 0, true),
    samples: number(env, 'BENCH_SAMPLES', 10),
    rounds: number(env, 'BENCH_ROUNDS', 3, true),
    pages: list(env, 'BENCH_PAGES', Object.keys(PAGES), Object.keys(PAGES)).filter(isPageName),
    only: new Set(list(env, 'BENCH_ONLY', names, names)),
    scenarios: list(env, 'BENCH_SCENARIOS', Object.keys(SCENARIOS), Object.keys(SCENARIOS)).filter(isScenarioName),
    profile: new Set(list(env, 'BENCH_PROFILE', names, [])),
    writeDocs: env.BENCH_WRITE_DOCS === '1',
    json: env.BENCH_JSON || undefined,
    engine: engineOf(env.BENCH_ENGINE),
  };
}

function number(env: NodeJS.ProcessEnv, name: string, fallback: number, zeroOk = false): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isFinite(n) || n < 0 || (n === 0 && !zeroOk)) throw new Error(`${name} must be a positive number, got "${raw}"`);
  return n;
}

function list(env: NodeJS.ProcessEnv, name: string, known: string[], fallback: string[]): string[] {
  const raw = env[name];
  if (raw === undefined || raw.trim() === '') return fallback;
  const items = raw.split(',').map((s) => s.trim()).filter(Boolean);
  for (const item of items) {
    if (!known.includes(item)) throw new Error(`${name}: unknown "${item}" (known: ${known.join(', ')})`);
  }
  return items;
}

function engineOf(value: string | undefined): 'compiled' | 'source' {
  if (value === undefined || value === '' || value === 'compiled') return 'compiled';
  if (value === 'source') return 'source';
  throw new Error(`BENCH_ENGINE must be compiled or source, got ${JSON.stringify(value)}`);
}
