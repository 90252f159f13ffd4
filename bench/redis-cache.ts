/**
 * The render cache on Redis (issue 17): cached-page throughput and CPU per
 * request with the Redis store (two layers: the in-process LRU in front),
 * with Redis alone (no in-process layer: every element read from Redis),
 * with the in-process store only, and uncached — in one run, on the same
 * page, each server in a process of its own, rounds interleaved.
 *
 *   npm run bench:redis
 *   npm run bench:redis -- --rounds 5 --seconds 5 --connections 10 --page shop-50 --write-docs
 *
 * A redis-server (Debian's; `REDIS_SERVER` to use another) is started on a
 * free port of 127.0.0.1 without persistence. Every element of the page gets
 * a render-cache lifetime (`cache: "60s"`); "uncached" is the in-process
 * store with no entries (every element renders, keys are still made). Per
 * round and server: autocannon for `--seconds`, CPU time of the server
 * process (and of redis-server) from /proc before and after; CPU per request
 * = CPU seconds ÷ requests. Medians over rounds with min–max, and ratios to
 * the in-process store. `--write-docs` replaces the section between this
 * bench's markers in docs/benchmarks.md.
 *
 * The same file is the server (`--serve <variant>`): createAtoll + listen,
 * engine from the sources through tsx (the same for all four, so ratios hold).
 */
import type { ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { loadTest, processStats } from './lib/measure.ts';
import { CLIENT_DIR, isPageName, PAGES } from './lib/page.ts';
import { fmt, gitHead, spread, startServerChild, stopServerChildren, writeDocsSection } from './lib/results.ts';
import { summarize, type Summary } from './lib/stats.ts';

const VARIANTS = ['uncached', 'memory', 'redis-two-layers', 'redis-only'] as const;
type Variant = (typeof VARIANTS)[number];
const LABELS: Record<Variant, string> = {
  uncached: 'uncached (every element renders)',
  memory: 'in-process store only',
  'redis-two-layers': 'Redis + in-process layer (two layers)',
  'redis-only': 'Redis only (no in-process layer)',
};

const { values } = parseArgs({
  options: {
    serve: { type: 'string' },
    redis: { type: 'string' },
    page: { type: 'string', default: 'shop-50' },
    rounds: { type: 'string', default: '5' },
    seconds: { type: 'string', default: '5' },
    connections: { type: 'string', default: '10' },
    'write-docs': { type: 'boolean', default: false },
    json: { type: 'string' },
    'stats-file': { type: 'string' },
  },
});
if (!isPageName(values.page!)) throw new Error(`--page: one of ${Object.keys(PAGES).join(', ')}`);
const shape = PAGES[values.page];

/** The config of one variant: a lifetime for every element of the page, and the store. */
function variantConfig(variant: Variant, redisUrl: string | undefined): Record<string, unknown> {
  const file = join(shape.site, 'atoll.config.json');
  const entries = ((existsSync(file) ? JSON.parse(readFileSync(file, 'utf8')) : {}) as { elements?: Record<string, object> }).elements ?? {};
  const elements = Object.fromEntries(shape.elements.map(({ tag }) => [tag, { ...entries[tag], cache: '60s' }]));
  const cache =
    variant === 'uncached'
      ? { store: 'memory', localEntries: 0 }
      : variant === 'memory'
        ? { store: 'memory' }
        : { store: 'redis', url: redisUrl, prefix: `bench-${variant}:`, ...(variant === 'redis-only' ? { localEntries: 0 } : {}) };
  return { elements, cache };
}

// ---------------------------------------------------------------------------
// The server side
// ---------------------------------------------------------------------------

async function serve(variant: Variant, redisUrl: string | undefined): Promise<void> {
  const { createAtoll, listen, silentLogger } = await import('../ssr-server/index.ts');
  const atoll = await createAtoll({
    root: shape.site,
    logger: silentLogger,
    client: { build: false, outDir: CLIENT_DIR },
    config: variantConfig(variant, redisUrl) as never,
    env: {},
  });
  const running = await listen(atoll, { port: 0, host: '127.0.0.1' });
  process.stdout.write(`${running.url}\n`);
  process.once('SIGTERM', () => {
    if (values['stats-file']) writeFileSync(values['stats-file'], JSON.stringify(atoll.cache.stats() ?? null));
    void atoll.cache.close().then(() => running.close()).then(() => process.exit(0));
  });
}


// ---------------------------------------------------------------------------
// The driver
// ---------------------------------------------------------------------------

interface Running {
  variant: Variant;
  child: ChildProcess;
  url: string;
  /** Where the server writes its cache counters when it stops. */
  statsFile: string;
}

async function startVariant(variant: Variant, redisUrl: string): Promise<Running> {
  const statsFile = join(tmpdir(), `bench-redis-${process.pid}-${variant}.json`);
  const args = ['--serve', variant, '--redis', redisUrl, '--page', shape.name, '--stats-file', statsFile];
  const { child, url } = await startServerChild(fileURLToPath(import.meta.url), args, variant);
  return { variant, child, url, statsFile };
}

interface RoundResult {
  reqPerSec: number;
  cpuMsPerReq: number;
  redisCpuMsPerReq: number;
  p50: number;
  p99: number;
  failures: number;
}


async function drive(): Promise<void> {
  const { startRedis } = await import('../test/slow/redis-server.ts');
  const rounds = Number(values.rounds);
  const seconds = Number(values.seconds);
  const connections = Math.min(Number(values.connections), shape.maxConnections ?? Infinity);
  const redis = await startRedis();
  const redisPid = redis.pid()!;
  const servers: Running[] = [];
  const results = new Map<Variant, RoundResult[]>(VARIANTS.map((v) => [v, []]));
  const startLoad = loadavg();
  try {
    for (const v of VARIANTS) servers.push(await startVariant(v, redis.url));
    // Warm up every server (JIT, caches filled).
    for (const s of servers) await loadTest(s.url + shape.path, connections, 2);
    for (let r = 0; r < rounds; r++) {
      // Interleaved, in a rotated order each round.
      const order = servers.map((_, i) => servers[(i + r) % servers.length]!);
      for (const s of order) {
        const before = processStats(s.child.pid!);
        const redisBefore = processStats(redisPid);
        const load = await loadTest(s.url + shape.path, connections, seconds);
        const after = processStats(s.child.pid!);
        const redisAfter = processStats(redisPid);
        const cpu = before && after ? after.cpu - before.cpu : NaN;
        const redisCpu = redisBefore && redisAfter ? redisAfter.cpu - redisBefore.cpu : NaN;
        results.get(s.variant)!.push({
          reqPerSec: load.reqPerSec,
          cpuMsPerReq: (cpu * 1000) / load.requests,
          redisCpuMsPerReq: (redisCpu * 1000) / load.requests,
          p50: load.p50,
          p99: load.p99,
          failures: load.failures,
        });
        process.stderr.write(`round ${r + 1}/${rounds} ${s.variant}: ${fmt(load.reqPerSec, 0)} req/s, ${fmt((cpu * 1000) / load.requests, 3)} ms CPU/req\n`);
      }
    }
  } finally {
    await stopServerChildren(servers.map((s) => s.child));
    await redis.stop();
  }
  const endLoad = loadavg();
  const counters = servers
    .filter((s) => s.variant.startsWith('redis'))
    .map((s) => {
      try {
        const st = JSON.parse(readFileSync(s.statsFile, 'utf8')) as Record<string, number>;
        rmSync(s.statsFile, { force: true });
        return `${LABELS[s.variant]}: ${['localHits', 'sharedHits', 'misses', 'timeouts', 'errors', 'sets', 'busy'].map((k) => `${k} ${st[k]}`).join(', ')}.`;
      } catch {
        return `${LABELS[s.variant]}: no counters.`;
      }
    });
  const sum = (v: Variant, k: keyof RoundResult): Summary => summarize(results.get(v)!.map((x) => x[k]));
  const memoryRps = sum('memory', 'reqPerSec').median;
  const memoryCpu = sum('memory', 'cpuMsPerReq').median;
  const rows = VARIANTS.map((v) => {
    const rps = sum(v, 'reqPerSec');
    const cpu = sum(v, 'cpuMsPerReq');
    const redisCpu = sum(v, 'redisCpuMsPerReq');
    const failures = results.get(v)!.reduce((n, x) => n + x.failures, 0);
    return `| ${LABELS[v]} | ${spread(rps, 0)} | ${fmt(rps.median / memoryRps, 2)}× | ${spread(cpu, 3)} | ${fmt(cpu.median / memoryCpu, 2)}× | ${v.startsWith('redis') ? spread(redisCpu, 3) : '—'} | ${fmt(sum(v, 'p50').median, 0)} / ${fmt(sum(v, 'p99').median, 0)} | ${failures} |`;
  });
  const markdown = [
    `Page: ${shape.label}, \`${shape.path}\`, every element with \`cache: "60s"\`. ${rounds} rounds × ${seconds} s per server, ${connections} connections, rounds interleaved (order rotated); engine from the sources through tsx (all four alike). Medians with min–max over rounds; ratios to the in-process store's median.`,
    `Machine: ${cpus().length} × ${cpus()[0]?.model ?? 'CPU'}; load average ${startLoad.map((l) => l.toFixed(2)).join(' ')} at the start, ${endLoad.map((l) => l.toFixed(2)).join(' ')} at the end (other helpers' work shares the machine). Commit ${gitHead()}.`,
    '',
    '| store | req/s | ÷ in-process | server CPU ms/req | ÷ in-process | redis-server CPU ms/req | p50 / p99 ms | failures |',
    '| --- | --- | --- | --- | --- | --- | --- | --- |',
    ...rows,
    '',
    `Cache counters over the whole run (warm-up included): ${counters.join(' ')} A \`timeout\` is a read given up at the page's 30 ms budget: that element rendered instead.`,
  ].join('\n');
  process.stdout.write(`\n${markdown}\n`);
  if (values.json) writeFileSync(values.json, JSON.stringify(Object.fromEntries(results), null, 2));
  if (values['write-docs']) writeDocsSection(BEGIN, END, markdown);
}


const BEGIN = '<!-- bench:redis-cache:results:begin (written by `npm run bench:redis -- --write-docs`) -->';
const END = '<!-- bench:redis-cache:results:end -->';


if (values.serve !== undefined) {
  if (!(VARIANTS as readonly string[]).includes(values.serve)) throw new Error(`--serve: one of ${VARIANTS.join(', ')}`);
  await serve(values.serve as Variant, values.redis);
} else {
  await drive();
}
