/**
 * `npm run bench:islands`: what islands buy in the browser. The demo shop's
 * `/home` in Debian's Chromium (puppeteer-core, CDP), three ways:
 *
 * - **atoll** — server-rendered DSD, each island hydrated by its strategy
 *   (the default: when visible);
 * - **csr** — the same elements rendered client-side only (`ssr="none"`,
 *   loaded at once: a single-page app's first visit);
 * - **eager** — Atoll's server rendering, every island `hydrate="load"`.
 *
 * For each: JavaScript bytes transferred before any interaction (network,
 * compressed as served; the inline loader is part of the HTML), first
 * contentful paint, and the time until the islands in the first viewport
 * have hydrated (or, for csr, rendered). Cold loads (cache disabled), median
 * of `--runs` (default 7) per profile: desktop unthrottled, and a mobile
 * profile (4× CPU slowdown, 150 ms RTT, 1.6 Mbps down).
 *
 * Options: `--runs N`. Prints markdown tables (as in docs/benchmarks.md).
 */
import { mkdtempSync, rmSync, symlinkSync, writeFileSync, mkdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import puppeteer, { type Browser, type CDPSession } from 'puppeteer-core';
import { createAtoll, listen, silentLogger, type RunningServer } from '../ssr-server/index.ts';

const REPO = resolve(import.meta.dirname, '..');
const PAGE = '/home';
const { values } = parseArgs({ options: { runs: { type: 'string' } } });
const RUNS = Number(values.runs ?? 7);
const log = (line = ''): void => void process.stdout.write(line + '\n');

interface Profile {
  name: string;
  viewport: { width: number; height: number };
  cpu: number;
  network?: { latency: number; downloadThroughput: number; uploadThroughput: number };
}
const PROFILES: Profile[] = [
  { name: 'desktop, unthrottled', viewport: { width: 1280, height: 800 }, cpu: 1 },
  {
    name: 'mobile: 4× CPU, 150 ms RTT, 1.6 Mbps',
    viewport: { width: 412, height: 823 },
    cpu: 4,
    network: { latency: 150, downloadThroughput: (1.6 * 1024 * 1024) / 8, uploadThroughput: (750 * 1024) / 8 },
  },
];

type Variant = 'atoll' | 'csr' | 'eager';
const VARIANTS: Record<Variant, string> = {
  atoll: 'Atoll (SSR + islands, default strategies)',
  csr: 'client-side only (no SSR, all loaded at once)',
  eager: 'Atoll, every island hydrate="load"',
};

/** One measured page load. */
interface Sample {
  /** The page's HTML as transferred. */
  htmlBytes: number;
  jsBytes: number;
  jsRequests: number;
  fcp: number;
  /** Until every island of the first viewport hydrated (csr: rendered). */
  ready: number;
}

/**
 * A copy of the demo site whose layout gives every microfrontend tag the
 * `attrs` (replacing its own `hydrate`), with the repository's elements.
 */
function variantSite(tags: readonly string[], attrs: string): string {
  const root = mkdtempSync(join(tmpdir(), 'atoll-bench-islands-'));
  mkdirSync(join(root, 'layouts'));
  symlinkSync(join(REPO, 'elements'), join(root, 'elements'), 'dir');
  let html = readFileSync(join(REPO, 'layouts', 'index.html'), 'utf8');
  for (const tag of tags) {
    html = html.replace(new RegExp(`<${tag}((?:\\s[^>]*)?)>`, 'g'), (_, rest: string) => `<${tag}${rest.replace(/\s+hydrate="[^"]*"/, '')} ${attrs}>`);
  }
  writeFileSync(join(root, 'layouts', 'index.html'), html);
  return root;
}

async function serve(root: string): Promise<RunningServer> {
  const atoll = await createAtoll({ root, logger: silentLogger, client: { build: 'if-stale' } });
  return listen(atoll, { port: 0 });
}

/** Loads the page once, cold, and measures it. */
async function measure(browser: Browser, url: string, profile: Profile, visibleTags: readonly string[]): Promise<Sample> {
  const context = await browser.createBrowserContext();
  const page = await context.newPage();
  try {
    await page.setViewport(profile.viewport);
    const cdp: CDPSession = await page.createCDPSession();
    await cdp.send('Network.enable');
    await cdp.send('Network.setCacheDisabled', { cacheDisabled: true });
    await cdp.send('Emulation.setCPUThrottlingRate', { rate: profile.cpu });
    if (profile.network) await cdp.send('Network.emulateNetworkConditions', { offline: false, ...profile.network });
    const scripts = new Set<string>();
    const documents = new Set<string>();
    let jsBytes = 0;
    let htmlBytes = 0;
    cdp.on('Network.responseReceived', (e) => {
      if (e.type === 'Script') scripts.add(e.requestId);
      if (e.type === 'Document') documents.add(e.requestId);
    });
    cdp.on('Network.loadingFinished', (e) => {
      if (scripts.has(e.requestId)) jsBytes += e.encodedDataLength;
      if (documents.has(e.requestId)) htmlBytes += e.encodedDataLength;
    });
    await page.evaluateOnNewDocument(() => {
      const w = window as unknown as { __hydrated: Record<string, number> };
      w.__hydrated = {};
      addEventListener('atoll:hydrated', (e) => {
        const tag = (e.target as Element).localName;
        w.__hydrated[tag] ??= performance.now();
      });
    });
    await page.goto(url, { waitUntil: 'load' });
    await page.waitForFunction(
      (tags: string[]) => tags.every((t) => (window as unknown as { __hydrated: Record<string, number> }).__hydrated[t] !== undefined),
      { timeout: 60_000, polling: 50 },
      [...visibleTags],
    );
    // Whatever the page fetches without interaction, let it arrive.
    await page.waitForNetworkIdle({ idleTime: 750, timeout: 60_000 });
    const { fcp, ready } = await page.evaluate((tags: string[]) => {
      const h = (window as unknown as { __hydrated: Record<string, number> }).__hydrated;
      const paint = performance.getEntriesByName('first-contentful-paint')[0];
      return { fcp: paint?.startTime ?? NaN, ready: Math.max(...tags.map((t) => h[t]!)) };
    }, [...visibleTags]);
    return { htmlBytes, jsBytes, jsRequests: scripts.size, fcp, ready };
  } finally {
    await context.close();
  }
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

// ── set-up ──────────────────────────────────────────────────────────────
const base = await createAtoll({ root: REPO, logger: silentLogger, client: { build: 'if-stale' } });
const tags = [...base.site.registry.keys()];
const roots: Record<Variant, string> = {
  atoll: REPO,
  csr: variantSite(tags, 'ssr="none" hydrate="load"'),
  eager: variantSite(tags, 'hydrate="load"'),
};
const servers = {} as Record<Variant, RunningServer>;
for (const v of Object.keys(VARIANTS) as Variant[]) servers[v] = await serve(roots[v]);
const browser = await puppeteer.launch({
  executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
  args: ['--headless=new', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});

const results: Array<{ profile: Profile; rows: Record<Variant, Sample>; visible: string[] }> = [];
try {
  log(`Islands bench — Chromium ${(await browser.version()).replace(/^\D+/, '')}, ${RUNS} cold loads per cell (median), page ${PAGE}`);
  for (const profile of PROFILES) {
    // The islands in the first viewport of the server-rendered page.
    const probe = await browser.newPage();
    await probe.setViewport(profile.viewport);
    await probe.goto(servers.atoll.url + PAGE, { waitUntil: 'load' });
    const visible = await probe.evaluate((all: string[]) => {
      const out: string[] = [];
      for (const tag of all) {
        for (const el of document.querySelectorAll(tag)) {
          const r = el.getBoundingClientRect();
          if (r.bottom > 0 && r.top < innerHeight && r.width > 0 && !el.matches('[hydrate=none]') && !out.includes(tag)) out.push(tag);
        }
      }
      return out;
    }, tags);
    await probe.close();
    const rows = {} as Record<Variant, Sample>;
    for (const v of Object.keys(VARIANTS) as Variant[]) {
      const samples: Sample[] = [];
      for (let i = 0; i < RUNS; i++) samples.push(await measure(browser, servers[v].url + PAGE, profile, visible));
      rows[v] = {
        htmlBytes: median(samples.map((s) => s.htmlBytes)),
        jsBytes: median(samples.map((s) => s.jsBytes)),
        jsRequests: median(samples.map((s) => s.jsRequests)),
        fcp: median(samples.map((s) => s.fcp)),
        ready: median(samples.map((s) => s.ready)),
      };
    }
    results.push({ profile, rows, visible });
  }
} finally {
  await browser.close();
  for (const s of Object.values(servers)) await s.close();
  for (const v of ['csr', 'eager'] as const) rmSync(roots[v], { recursive: true, force: true });
}

// ── report ──────────────────────────────────────────────────────────────
const kb = (n: number): string => `${(n / 1024).toFixed(1)} KB`;
const ms = (n: number): string => `${Math.round(n)} ms`;
const ratio = (a: number, b: number): string => `${(a / b).toFixed(2)}×`;
const lines: string[] = [];
for (const { profile, rows, visible } of results) {
  lines.push(`### ${profile.name} (${profile.viewport.width}×${profile.viewport.height}; islands in view: ${visible.map((t) => `\`${t}\``).join(', ')})`, '');
  lines.push('| | HTML transferred | JS transferred (requests) | first contentful paint | visible islands ready |', '| --- | ---: | ---: | ---: | ---: |');
  for (const v of Object.keys(VARIANTS) as Variant[]) {
    const r = rows[v];
    lines.push(`| ${VARIANTS[v]} | ${kb(r.htmlBytes)} | ${kb(r.jsBytes)} (${r.jsRequests}) | ${ms(r.fcp)} | ${ms(r.ready)} |`);
  }
  const a = rows.atoll;
  for (const v of ['csr', 'eager'] as const) {
    const r = rows[v];
    lines.push(
      `| ratio ${v} / atoll | ${ratio(r.htmlBytes, a.htmlBytes)} | ${ratio(r.jsBytes, a.jsBytes)} | ${ratio(r.fcp, a.fcp)} | ${ratio(r.ready, a.ready)} |`,
    );
  }
  lines.push('');
}
log();
log(lines.join('\n'));
