/**
 * Independent deploys (issue 16): what serving from a generation worker
 * costs per request against today's in-process rendering — the same page,
 * the same element code, in one run, each server in a process of its own,
 * rounds interleaved.
 *
 *   npm run bench:deploys
 *   npm run bench:deploys -- --rounds 5 --seconds 5 --connections 10 --page shop-50 --write-docs
 *
 * Four servers: in-process and from a generation, each with every element
 * of the page cached (`cache: "60s"`: the cheapest page, where the hop
 * weighs most) and uncached (every element renders). The generation servers
 * have a `deploys` section whose server import map (a file, no polling)
 * names one element of the page (`--element`, default `shop-hero`) by the
 * `file:` URL of the very module the in-process servers import, so both
 * render the same code; every request crosses to the worker and back.
 * Per round and server: autocannon for `--seconds`, CPU time of the server
 * process (all its threads) from /proc before and after, RSS after. Medians
 * with min–max over rounds, and ratios generation ÷ in-process.
 * `--write-docs` replaces the section between this bench's markers in
 * docs/benchmarks.md.
 *
 * The same file is the server (`--serve <variant>`).
 */
import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { commandLine, positiveInteger } from './lib/args.ts';
import { loadTest, processStats } from './lib/measure.ts';
import { CLIENT_DIR, isPageName, PAGES } from './lib/page.ts';
import { fmt, gitHead, spread, startServerChild, stopServerChildren, writeDocsSection } from './lib/results.ts';
import { summarize, type Summary } from './lib/stats.ts';

const VARIANTS = ['cached-in-process', 'cached-generation', 'uncached-in-process', 'uncached-generation'] as const;
type Variant = (typeof VARIANTS)[number];
const LABELS: Record<Variant, string> = {
  'cached-in-process': 'cached, in-process',
  'cached-generation': 'cached, generation worker',
  'uncached-in-process': 'uncached, in-process',
  'uncached-generation': 'uncached, generation worker',
};

const USAGE = 'npm run bench:deploys -- [--rounds N] [--seconds N] [--connections N] [--page home|shop-50|cards-1000] [--element TAG] [--write-docs]';
const { values } = parseArgs({
  options: {
    help: { type: 'boolean' },
    serve: { type: 'string' },
    map: { type: 'string' },
    page: { type: 'string', default: 'shop-50' },
    element: { type: 'string', default: 'shop-hero' },
    rounds: { type: 'string' },
    seconds: { type: 'string' },
    connections: { type: 'string' },
    'write-docs': { type: 'boolean', default: false },
  },
});
const fail = commandLine('bench:deploys', USAGE, values.help);
if (!isPageName(values.page as string)) fail(`--page: one of ${Object.keys(PAGES).join(', ')}`);
const shape = PAGES[values.page as keyof typeof PAGES];

/** The page's config entries, with every element cached or none. */
function elementsConfig(cached: boolean): Record<string, object> {
  const file = join(shape.site, 'atoll.config.json');
  const entries = ((existsSync(file) ? JSON.parse(readFileSync(file, 'utf8')) : {}) as { elements?: Record<string, object> }).elements ?? {};
  return Object.fromEntries(shape.elements.map(({ tag }) => [tag, { ...entries[tag], ...(cached ? { cache: '60s' } : {}) }]));
}

/** The module file the site itself imports for `tag` (the map names the same file). */
function moduleFileOf(tag: string): string {
  const file = join(shape.site, 'atoll.config.json');
  const entry = ((existsSync(file) ? JSON.parse(readFileSync(file, 'utf8')) : {}) as { elements?: Record<string, { module?: string }> }).elements?.[tag];
  const path = entry?.module !== undefined ? join(shape.site, entry.module) : join(shape.site, 'elements', tag, 'index.ts');
  if (!existsSync(path)) throw new Error(`--element ${tag}: no module at ${path}`);
  return path;
}

// ---------------------------------------------------------------------------
// The server side
// ---------------------------------------------------------------------------

async function serve(variant: Variant, mapFile: string | undefined): Promise<void> {
  const { createAtoll, listen, silentLogger } = await import('../ssr-server/index.ts');
  const generation = variant.endsWith('generation');
  const config: Record<string, unknown> = { elements: elementsConfig(variant.startsWith('cached')) };
  if (generation) config.deploys = { importMap: mapFile, allow: ['https://cdn.invalid'], pollInterval: 0 };
  const running = await listen(
    createAtoll({ root: shape.site, logger: silentLogger, client: { build: false, outDir: CLIENT_DIR }, config: config as never, env: {} }),
    { port: 0, host: '127.0.0.1' },
  );
  await running.ready;
  process.stdout.write(`${running.url}\n`);
  process.once('SIGTERM', () => void running.close({ drainMs: 1000 }).then(() => process.exit(0)));
}

// ---------------------------------------------------------------------------
// The driver
// ---------------------------------------------------------------------------

interface Running {
  variant: Variant;
  child: ChildProcess;
  url: string;
}

async function startVariant(variant: Variant, mapFile: string): Promise<Running> {
  const { child, url } = await startServerChild(fileURLToPath(import.meta.url), ['--serve', variant, '--map', mapFile, '--page', shape.name], variant);
  return { variant, child, url };
}

interface RoundResult {
  reqPerSec: number;
  cpuMsPerReq: number;
  rssMb: number;
  p50: number;
  p99: number;
  failures: number;
}


async function drive(): Promise<void> {
  const rounds = positiveInteger(values.rounds, 5, '--rounds', fail);
  const seconds = positiveInteger(values.seconds, 5, '--seconds', fail);
  const connections = Math.min(positiveInteger(values.connections, 10, '--connections', fail), shape.maxConnections ?? Infinity);
  const tag = values.element as string;
  const dir = mkdtempSync(join(tmpdir(), 'bench-deploys-'));
  const mapFile = join(dir, 'importmap.json');
  // The map names the module the site imports itself: the same code renders in both.
  const url = pathToFileURL(moduleFileOf(tag)).href;
  writeFileSync(mapFile, JSON.stringify({ elements: { [tag]: { server: url, client: `https://cdn.invalid/${tag}/1/client.mjs` } } }, null, 2));
  const servers: Running[] = [];
  const results = new Map<Variant, RoundResult[]>(VARIANTS.map((v) => [v, []]));
  const startLoad = loadavg();
  try {
    for (const v of VARIANTS) servers.push(await startVariant(v, mapFile));
    for (const s of servers) {
      const res = await fetch(s.url + shape.path);
      const html = await res.text();
      if (res.status !== 200 || !shape.markers.every((m) => html.includes(m))) throw new Error(`${s.variant}: ${shape.path} answered ${res.status} without the page's markers`);
    }
    for (const s of servers) await loadTest(s.url + shape.path, connections, 2);
    for (let r = 0; r < rounds; r++) {
      const order = servers.map((_, i) => servers[(i + r) % servers.length]!);
      for (const s of order) {
        const before = processStats(s.child.pid!);
        const load = await loadTest(s.url + shape.path, connections, seconds);
        const after = processStats(s.child.pid!);
        const cpu = before && after ? after.cpu - before.cpu : NaN;
        results.get(s.variant)!.push({
          reqPerSec: load.reqPerSec,
          cpuMsPerReq: (cpu * 1000) / load.requests,
          rssMb: after?.rss ?? NaN,
          p50: load.p50,
          p99: load.p99,
          failures: load.failures,
        });
        process.stderr.write(`round ${r + 1}/${rounds} ${s.variant}: ${fmt(load.reqPerSec, 0)} req/s, ${fmt((cpu * 1000) / load.requests, 3)} ms CPU/req\n`);
      }
    }
  } finally {
    await stopServerChildren(servers.map((s) => s.child));
    rmSync(dir, { recursive: true, force: true });
  }
  const endLoad = loadavg();
  const sum = (v: Variant, k: keyof RoundResult): Summary => summarize(results.get(v)!.map((x) => x[k]));
  const rows = VARIANTS.map((v) => {
    const base: Variant = v.startsWith('cached') ? 'cached-in-process' : 'uncached-in-process';
    const rps = sum(v, 'reqPerSec');
    const cpu = sum(v, 'cpuMsPerReq');
    const failures = results.get(v)!.reduce((n, x) => n + x.failures, 0);
    return `| ${LABELS[v]} | ${spread(rps, 0)} | ${fmt(rps.median / sum(base, 'reqPerSec').median, 2)}× | ${spread(cpu, 3)} | ${fmt(cpu.median / sum(base, 'cpuMsPerReq').median, 2)}× | ${fmt(cpu.median - sum(base, 'cpuMsPerReq').median, 3)} | ${fmt(sum(v, 'p50').median, 0)} / ${fmt(sum(v, 'p99').median, 0)} | ${fmt(sum(v, 'rssMb').median, 0)} | ${failures} |`;
  });
  const markdown = [
    `Page: ${shape.label}, \`${shape.path}\`; the generation servers' import map names \`<${tag}>\` (the same module file). ${rounds} rounds × ${seconds} s per server, ${connections} connections, rounds interleaved (order rotated); engine from the sources through tsx (all four alike). Medians with min–max over rounds; ratios and differences to the in-process server with the same caching.`,
    `Machine: ${cpus().length} × ${cpus()[0]?.model ?? 'CPU'}; load average ${startLoad.map((l) => l.toFixed(2)).join(' ')} at the start, ${endLoad.map((l) => l.toFixed(2)).join(' ')} at the end. Commit ${gitHead()}.`,
    '',
    '| server | req/s | ÷ in-process | CPU ms/req (all threads) | ÷ in-process | + ms/req | p50 / p99 ms | RSS MB | failures |',
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- |',
    ...rows,
  ].join('\n');
  process.stdout.write(`\n${markdown}\n`);
  if (values['write-docs']) writeDocsSection(BEGIN, END, markdown);
}


const BEGIN = '<!-- bench:deploys:results:begin (written by `npm run bench:deploys -- --write-docs`) -->';
const END = '<!-- bench:deploys:results:end -->';


if (values.serve !== undefined) {
  if (!(VARIANTS as readonly string[]).includes(values.serve as string)) throw new Error(`--serve: one of ${VARIANTS.join(', ')}`);
  await serve(values.serve as Variant, values.map as string | undefined);
} else {
  await drive();
}
