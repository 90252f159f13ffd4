/**
 * `npm run bench:islands`: what islands cost and buy in the browser. The demo
 * shop's `/home`, served on 127.0.0.1 and loaded in Debian's Chromium
 * (puppeteer-core, CDP) on an emulated slow phone, as:
 *
 * - **atoll** — Atoll as configured: server-rendered DSD, islands hydrated by
 *   their strategies (the demo's are `visible`, the default);
 * - **csr** — the same elements client-side only (`ssr="none" hydrate="load"`:
 *   a single-page app's first visit);
 * - **eager** — Atoll's server rendering with every island `hydrate="load"`;
 * - **static** — a no-JS copy: Atoll's page with every script and preload
 *   removed, served as a file (the floor for paint times and bytes).
 *
 * Every variant is served by its own server from one shared client build.
 * The loads are interleaved (run 1 of every variant, then run 2, … with the
 * order rotated), so a change in machine load hits all variants alike; each
 * cell is the median of the runs with their min–max. Metrics: first
 * contentful paint, largest contentful paint, the time until every island in
 * the first viewport fired `atoll:hydrated` (client-only: rendered), and the
 * HTML and JavaScript transferred before any interaction.
 *
 * Options:
 *   --runs N             loads per cell (default 9, at least 7 for reported numbers)
 *   --profile NAME       slow-mobile (default) or desktop
 *   --views LIST         first (empty cache) and/or repeat (same context, warm cache); default first,repeat
 *   --variants LIST      default atoll,csr,eager,static; more: an `atoll` with client options,
 *                        e.g. atoll:firstScreen=0 or atoll:firstScreen=3; first-load (the first
 *                        screen's islands hydrate="load"); and the loader's delivery:
 *                        inline and external (Atoll behind the same pass-through server, the page's
 *                        inline loader kept, or replaced by `<script async src="…/loader-<hash>.js">`)
 *   --json FILE          also write every sample as JSON
 *   --write-docs         replace the results in docs/benchmarks.md (between the islands markers)
 */
import { createServer, request as httpRequest, type Server } from 'node:http';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { brotliCompressSync, constants as zlib } from 'node:zlib';
import { buildClient } from '../ssr-server/build/build.ts';
import { createAtoll, listen, loadSite, silentLogger, type ClientOptions, type RunningServer } from '../ssr-server/index.ts';
import { launchChromium, measureLoad, PROFILES, tagsInFirstViewport, type Sample, type View } from './lib/browser.ts';
import { PAGE_PATH, REPO_ROOT } from './lib/page.ts';
import { commandLine, positiveInteger } from './lib/args.ts';
import { pairedRatios, summarize, type Summary } from './lib/stats.ts';

const USAGE = 'usage: npm run bench:islands -- [--runs N] [--profile slow-mobile|desktop] [--views first,repeat] [--variants atoll,csr,eager,static,inline,external,atoll:firstScreen=3,…] [--json FILE] [--write-docs]';
const { values } = parseArgs({
  options: {
    runs: { type: 'string' },
    profile: { type: 'string' },
    views: { type: 'string' },
    variants: { type: 'string' },
    json: { type: 'string' },
    'write-docs': { type: 'boolean' },
    help: { type: 'boolean' },
  },
});
const fail = commandLine('bench:islands', USAGE, values.help);

const RUNS = positiveInteger(values.runs, 9, '--runs', fail);
const profile = PROFILES[values.profile ?? 'slow-mobile'] ?? fail(`unknown profile ${values.profile}`);
const views = (values.views ?? 'first,repeat').split(',').map((v) => v.trim()) as View[];
for (const v of views) if (v !== 'first' && v !== 'repeat') fail(`unknown view ${v}`);

// ── variants ────────────────────────────────────────────────────────────
interface Variant {
  name: string;
  label: string;
  /** `front`: Atoll behind a small server that passes everything through, rewriting the page's loader delivery. */
  kind: 'atoll' | 'static' | 'front';
  /** For `front`: the loader inlined (as Atoll writes it) or rewritten to an external `<script async src>`. */
  loader?: 'inline' | 'external';
  /** Attributes given to every microfrontend tag of the layout (replacing its `hydrate`). */
  attrs?: string;
  /** Attributes given to these tags only (replacing their `hydrate`). */
  attrsFor?: Record<string, string>;
  client?: Partial<ClientOptions>;
}
const BASE: Record<string, Variant> = {
  atoll: { name: 'atoll', label: 'Atoll (SSR + islands, `visible`)', kind: 'atoll' },
  csr: { name: 'csr', label: 'client-only (same elements, `ssr="none"`)', kind: 'atoll', attrs: 'ssr="none" hydrate="load"' },
  eager: { name: 'eager', label: 'Atoll, every island `hydrate="load"`', kind: 'atoll', attrs: 'hydrate="load"' },
  // What the first screen would gain by hydrating at once instead of at the observer's first report.
  'first-load': {
    name: 'first-load',
    label: 'Atoll, the first screen’s islands `hydrate="load"`',
    kind: 'atoll',
    attrsFor: { 'shop-navbar': 'hydrate="load"', 'shop-hero': 'hydrate="load"' },
  },
  static: { name: 'static', label: 'static copy, no JavaScript', kind: 'static' },
  // The loader's delivery (docs/islands.md): both through the same front server, so only the delivery differs.
  inline: { name: 'inline', label: 'Atoll, loader inline (through the front server)', kind: 'front', loader: 'inline' },
  external: { name: 'external', label: 'Atoll, loader external `<script async src>` (through the front server)', kind: 'front', loader: 'external' },
};
function parseVariant(spec: string): Variant {
  const [base, ...opts] = spec.split(':');
  const v = BASE[base!] ?? fail(`unknown variant ${base}`);
  if (opts.length === 0) return v;
  if (v.kind !== 'atoll') fail(`variant ${spec}: only Atoll variants take client options`);
  const client: Record<string, unknown> = {};
  for (const o of opts) {
    const [key, raw] = o.split('=');
    if (key === undefined || raw === undefined) fail(`variant ${spec}: options are key=value`);
    client[key!] = /^\d+$/.test(raw!) ? Number(raw) : raw;
  }
  return { ...v, name: spec, label: `${v.label}, ${opts.join(', ')}`, client: client as Partial<ClientOptions> };
}
const variants = (values.variants ?? 'atoll,csr,eager,static').split(',').map((s) => parseVariant(s.trim()));
if (new Set(variants.map((v) => v.name)).size !== variants.length) fail('a variant is listed twice');
const reference = variants.find((v) => v.name === 'csr');

const log = (line = ''): void => void process.stdout.write(line + '\n');

// ── sites and servers ───────────────────────────────────────────────────
const temp: string[] = [];
const mkTemp = (what: string): string => {
  const dir = mkdtempSync(join(tmpdir(), `atoll-bench-islands-${what}-`));
  temp.push(dir);
  return dir;
};

/** A copy of the demo site whose layout gives every microfrontend tag `attrs` (its own `hydrate` removed). */
function variantSite(tags: readonly string[], attrs: string | undefined, attrsFor: Record<string, string> = {}): string {
  const root = mkTemp('site');
  mkdirSync(join(root, 'layouts'));
  symlinkSync(join(REPO_ROOT, 'elements'), join(root, 'elements'), 'dir');
  let html = readFileSync(join(REPO_ROOT, 'layouts', 'index.html'), 'utf8');
  for (const tag of tags) {
    const given = attrsFor[tag] ?? attrs;
    if (given === undefined) continue;
    html = html.replace(new RegExp(`<${tag}((?:\\s[^>]*)?)>`, 'g'), (_, rest: string) => `<${tag}${rest.replace(/\s+hydrate="[^"]*"/, '')} ${given}>`);
  }
  writeFileSync(join(root, 'layouts', 'index.html'), html);
  return root;
}

/** The page without any script, preload or serialized props: what a browser without JavaScript needs. */
function withoutJavaScript(html: string): string {
  return html.replace(/<script\b[^>]*>[\s\S]*?<\/script>/gi, '').replace(/<link\b[^>]*\brel="?modulepreload"?[^>]*>/gi, '');
}

/**
 * A pass-through server in front of Atoll's (`upstream`): every request is
 * relayed as it is, except the page, which is read whole and — for
 * `external` — gets its inline loader replaced by `<script async src>` of
 * the built loader file (immutable, cached like every asset), then sent
 * brotli-compressed at Atoll's quality (4).
 */
async function serveFront(upstream: string, loader: 'inline' | 'external', loaderCode: string, loaderUrl: string): Promise<{ url: string; close(): Promise<void> }> {
  const inline = `>${loaderCode}</script>`;
  const server: Server = createServer((req, res) => {
    const target = new URL(req.url ?? '/', upstream);
    const isPage = target.pathname === PAGE_PATH;
    const headers = { ...req.headers, host: target.host, ...(isPage ? { 'accept-encoding': 'identity' } : {}) };
    const up = httpRequest(target, { method: req.method, headers }, (answer) => {
      if (!isPage) {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
        return;
      }
      const chunks: Buffer[] = [];
      answer.on('data', (c: Buffer) => chunks.push(c));
      answer.on('end', () => {
        let html = Buffer.concat(chunks).toString('utf8');
        if (loader === 'external') {
          const at = html.indexOf(inline);
          if (at < 0) {
            res.writeHead(500, { 'content-type': 'text/plain' });
            res.end('bench: the page has no inline loader to replace');
            return;
          }
          const open = html.lastIndexOf('<script', at);
          html = `${html.slice(0, open)}<script async src="${loaderUrl}"></script>${html.slice(at + inline.length)}`;
        }
        const body = brotliCompressSync(html, { params: { [zlib.BROTLI_PARAM_QUALITY]: 4, [zlib.BROTLI_PARAM_MODE]: zlib.BROTLI_MODE_TEXT } });
        res.writeHead(answer.statusCode ?? 502, { 'content-type': 'text/html; charset=utf-8', 'content-encoding': 'br', 'content-length': body.length, vary: 'accept-encoding' });
        res.end(body);
      });
    });
    up.on('error', () => res.destroy());
    req.pipe(up);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return { url: `http://127.0.0.1:${port}`, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

/** Serves one HTML document, brotli-compressed like Atoll's pages, at every path. */
async function serveStatic(html: string): Promise<{ url: string; close(): Promise<void> }> {
  const raw = Buffer.from(html);
  const br = brotliCompressSync(raw);
  const server: Server = createServer((req, res) => {
    const useBr = /\bbr\b/.test(String(req.headers['accept-encoding'] ?? ''));
    const body = useBr ? br : raw;
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'content-length': body.length, ...(useBr ? { 'content-encoding': 'br' } : {}), vary: 'accept-encoding' });
    res.end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return { url: `http://127.0.0.1:${port}`, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

function gitLine(): string {
  try {
    const git = (...args: string[]): string => execFileSync('git', args, { cwd: REPO_ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    const dirty = git('status', '--porcelain', '--', 'ssr-server', 'islands', 'elements', 'layouts', 'bench') !== '';
    return `commit ${git('rev-parse', '--short', 'HEAD')}${dirty ? ' + uncommitted changes' : ''}`;
  } catch {
    return 'commit unknown';
  }
}

const load = (): string => loadavg().map((l) => l.toFixed(2)).join(' ');

// ── run ─────────────────────────────────────────────────────────────────
const started = new Date();
const loadBefore = load();
const servers: Array<{ close(): Promise<void> }> = [];
const urls: Record<string, string> = {};
const samples: Record<string, Sample[]> = {};
/** The run each sample of `samples` comes from (a failed load leaves a gap), to pair a variant's loads with client-only's. */
const runOf: Record<string, number[]> = {};
const failures: Record<string, string[]> = {};
let visible: string[] = [];
let chromium = '';
const key = (variant: string, view: View): string => `${variant} ${view}`;

let cleaned = false;
async function cleanUp(): Promise<void> {
  if (cleaned) return;
  cleaned = true;
  for (const s of servers) await s.close().catch(() => {});
  for (const dir of temp) rmSync(dir, { recursive: true, force: true });
}
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => void cleanUp().finally(() => process.exit(130)));

let browser = await launchChromium();
try {
  chromium = (await browser.version()).replace(/^\D+/, '');
  // One client build for all variants (they share the element modules; the build does not depend on the layout).
  const site = await loadSite({ root: REPO_ROOT });
  const tags = [...site.registry.keys()];
  const outDir = mkTemp('build');
  await buildClient(site, { outDir });
  let atollPage: string | undefined;
  for (const v of variants) {
    if (v.kind !== 'atoll') continue;
    const root = variantSite(tags, v.attrs, v.attrsFor);
    const atoll = await createAtoll({ root, logger: silentLogger, client: { outDir, build: false, ...v.client } });
    const server: RunningServer = await listen(atoll, { port: 0, logger: silentLogger });
    servers.push(server);
    urls[v.name] = server.url + PAGE_PATH;
    if (v.attrs === undefined && v.attrsFor === undefined && v.client === undefined) atollPage = (await atoll.render(PAGE_PATH)).html;
  }
  const fronts = variants.filter((v) => v.kind === 'front');
  if (fronts.length > 0) {
    const atoll = await createAtoll({ root: variantSite(tags, undefined), logger: silentLogger, client: { outDir, build: false } });
    const upstream: RunningServer = await listen(atoll, { port: 0, logger: silentLogger });
    servers.push(upstream);
    const manifest = JSON.parse(readFileSync(join(outDir, 'manifest.json'), 'utf8')) as { loader: string };
    const loaderCode = readFileSync(join(outDir, manifest.loader), 'utf8');
    for (const v of fronts) {
      const front = await serveFront(upstream.url, v.loader!, loaderCode, `/_atoll/assets/${manifest.loader}`);
      servers.push(front);
      urls[v.name] = front.url + PAGE_PATH;
    }
  }
  for (const v of variants) {
    if (v.kind !== 'static') continue;
    if (atollPage === undefined) {
      const atoll = await createAtoll({ root: variantSite(tags, undefined), logger: silentLogger, client: { outDir, build: false } });
      atollPage = (await atoll.render(PAGE_PATH)).html;
    }
    const s = await serveStatic(withoutJavaScript(atollPage));
    servers.push(s);
    urls[v.name] = s.url + PAGE_PATH;
  }

  // The islands in the first viewport of the server-rendered page.
  const probeUrl = urls.atoll ?? Object.entries(urls).find(([name]) => name.startsWith('atoll'))?.[1] ?? Object.values(urls)[0]!;
  visible = await tagsInFirstViewport(browser, probeUrl, profile, tags);

  log(`Islands bench: ${PAGE_PATH} of the demo shop, ${profile.label}`);
  log(`${RUNS} loads per cell, interleaved; Chromium ${chromium}; ${gitLine()}; ${cpus().length} CPUs, load average ${loadBefore} at start`);
  log(`islands in the first viewport: ${visible.join(', ') || 'none'}`);
  if (loadavg()[0]! > cpus().length / 2) log(`WARNING: the machine is busy (load average ${loadBefore}): absolute times are inflated; compare ratios, or re-run when it is idle`);

  for (let run = 0; run < RUNS; run++) {
    for (const view of views) {
      // Rotate the order, so no variant always runs first (or right after a busy one).
      const order = variants.map((_, i) => variants[(i + run) % variants.length]!);
      for (const v of order) {
        const k = key(v.name, view);
        const ready = v.kind === 'static' ? [] : visible;
        let sample: Sample | undefined;
        for (let attempt = 0; attempt < 2 && sample === undefined; attempt++) {
          try {
            sample = await measureLoad(browser, urls[v.name]!, profile, view, ready);
          } catch (e) {
            (failures[k] ??= []).push(String((e as Error).message ?? e).split('\n')[0]!);
            // A crashed or disconnected browser: start a new one for the rest of the run.
            if (!browser.connected) browser = await launchChromium();
          }
        }
        if (sample === undefined) continue;
        if (sample.errors.length > 0) (failures[k] ??= []).push(...sample.errors);
        (samples[k] ??= []).push(sample);
        (runOf[k] ??= []).push(run);
      }
    }
    process.stderr.write(`  run ${run + 1}/${RUNS} done (load average ${load()})\n`);
  }
} finally {
  await browser.close().catch(() => {});
  await cleanUp();
}

// ── report ──────────────────────────────────────────────────────────────
const loadAfter = load();
const ms = (s: Summary): string => (s.n === 0 ? '–' : `${Math.round(s.median)} (${Math.round(s.min)}–${Math.round(s.max)})`);
const ratio = (a: Summary, b: Summary | undefined): string => (b === undefined || a.n === 0 || b.n === 0 ? '–' : `${(a.median / b.median).toFixed(2)}×`);
const kb = (n: number): string => (n / 1024).toFixed(1);
const of = (k: string, metric: keyof Omit<Sample, 'errors' | 'islands'>): Summary => summarize((samples[k] ?? []).map((s) => s[metric]));
/** The islands' hydration of `k` ÷ `ref`, paired by run (see `pairedRatios`). */
const paired = (k: string, ref: string | undefined): string => {
  if (ref === undefined || ref === k) return '–';
  const byRun = (key: string): Map<number, number> => new Map((runOf[key] ?? []).map((run, i) => [run, samples[key]![i]!.ready]));
  const r = pairedRatios(byRun(k), byRun(ref));
  return r.n === 0 ? '–' : `${r.median.toFixed(2)}× [${r.low.toFixed(2)}, ${r.high.toFixed(2)}] (${r.min.toFixed(2)}–${r.max.toFixed(2)}), ${r.noLater} of ${r.n}`;
};

const out: string[] = [];
out.push(
  `Run ${started.toISOString().slice(0, 16).replace('T', ' ')} UTC (${gitLine()}): Chromium ${chromium}, ${cpus().length} × ${(cpus()[0]?.model ?? '?').trim()}, ` +
    `load average ${loadBefore} before and ${loadAfter} after. ${PAGE_PATH} of the demo shop on 127.0.0.1, ${profile.label}; ` +
    `${RUNS} loads per cell, interleaved; median (min–max) in ms from navigation start. Islands in the first viewport: ${visible.map((t) => `\`${t}\``).join(', ') || 'none'}.`,
  '',
  `Command: \`npm run bench:islands -- --runs ${RUNS} --profile ${profile.name} --views ${views.join(',')}${values.variants ? ` --variants ${values.variants}` : ''}\``,
);
for (const view of views) {
  out.push(
    '',
    `#### ${view === 'first' ? 'First view (empty cache)' : 'Repeat view (warm HTTP cache, same browser context)'}`,
    '',
    '| variant | FCP | ÷ csr | LCP | ÷ csr | visible islands hydrated | ÷ csr | paired ÷ csr [95 % CI] (min–max), runs no later | JS KB transferred (decoded), requests | HTML KB |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
  );
  for (const v of variants) {
    const k = key(v.name, view);
    const ref = reference && key(reference.name, view);
    const [fcp, lcp, ready] = (['fcp', 'lcp', 'ready'] as const).map((m) => of(k, m));
    const refOf = (m: 'fcp' | 'lcp' | 'ready'): Summary | undefined => (ref ? of(ref, m) : undefined);
    const js = `${kb(of(k, 'jsBytes').median)} (${kb(of(k, 'jsDecoded').median)}), ${of(k, 'jsRequests').median}`;
    const n = samples[k]?.length ?? 0;
    const missing = n < RUNS ? ` (${n}/${RUNS} loads)` : '';
    out.push(
      `| ${v.label}${missing} | ${ms(fcp!)} | ${ratio(fcp!, refOf('fcp'))} | ${ms(lcp!)} | ${ratio(lcp!, refOf('lcp'))} | ${v.kind === 'static' ? 'n/a' : ms(ready!)} | ${v.kind === 'static' ? '' : ratio(ready!, refOf('ready'))} | ${v.kind === 'static' ? '' : paired(k, ref)} | ${js} | ${kb(of(k, 'htmlBytes').median)} |`,
    );
  }
}
const problems = Object.entries(failures);
if (problems.length > 0) {
  out.push('', 'Problems during the run:');
  for (const [k, list] of problems) out.push(`- ${k}: ${[...new Set(list)].slice(0, 3).join('; ')}${list.length > 3 ? ` (${list.length} in all)` : ''}`);
}
const markdown = out.join('\n');
log();
log(markdown);

if (values.json) writeFileSync(values.json, JSON.stringify({ started, profile, runs: RUNS, views, variants, visible, chromium, loadBefore, loadAfter, samples, failures }, null, 2) + '\n');
if (values['write-docs']) writeDocs(markdown);

const empty = variants.some((v) => views.some((view) => (samples[key(v.name, view)]?.length ?? 0) === 0));
process.exitCode = empty ? 1 : 0;

function writeDocs(markdown: string): void {
  const file = join(REPO_ROOT, 'docs', 'benchmarks.md');
  const BEGIN = '<!-- bench:islands:results:begin (written by `npm run bench:islands -- --write-docs`) -->';
  const END = '<!-- bench:islands:results:end -->';
  let text = existsSync(file) ? readFileSync(file, 'utf8') : '# Benchmarks\n';
  const block = `${BEGIN}\n${markdown}\n${END}`;
  const begin = text.indexOf(BEGIN);
  const end = text.indexOf(END);
  if (begin >= 0 && end > begin) text = text.slice(0, begin) + block + text.slice(end + END.length);
  else text = `${text.trimEnd()}\n\n${block}\n`;
  writeFileSync(file, text);
  log(`\nwrote the results into ${file}`);
}
