/**
 * Lighthouse on the demo shop (docs/benchmarks.md, docs/seo.md): installs
 * Lighthouse from npm into a folder outside the repository (once; it is
 * reused after), starts `atoll serve` on the demo with a `publicOrigin` (so
 * canonical and Open Graph URLs are absolute, as in production), and runs
 * Lighthouse's default mobile profile (simulated slow 4G and 4× CPU
 * slowdown) with the Debian Chromium (`CHROME_PATH`, default
 * /usr/bin/chromium) on the home page and a product page. Prints the SEO,
 * accessibility, best-practices and performance scores, and the audits
 * that lost points.
 *
 * Usage: npm run bench:lighthouse -- [--runs 1] [--lighthouse-dir DIR] [--version 12]
 * Not a test: scores depend on the machine (performance above all).
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { freePort } from './lib/net.ts';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: '1' },
    'lighthouse-dir': { type: 'string', default: join(tmpdir(), 'atoll-lighthouse') },
    version: { type: 'string', default: '12' },
  },
});
const RUNS = Math.max(1, Math.min(10, Number(values.runs) || 1));
const LH_DIR = resolve(values['lighthouse-dir']!);
const REPO = resolve(import.meta.dirname, '..');
const CHROME = process.env.CHROME_PATH ?? '/usr/bin/chromium';
const CATEGORIES = ['seo', 'accessibility', 'best-practices', 'performance'] as const;
const PAGES = ['/home', '/products/stoneware-mug'];

function run(cmd: string, args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): Promise<{ stdout: string; stderr: string }> {
  return new Promise((done, fail) => {
    execFile(cmd, args, { maxBuffer: 1 << 28, ...options }, (err, stdout, stderr) => (err ? fail(Object.assign(err, { stderr })) : done({ stdout, stderr })));
  });
}

/** Lighthouse's CLI, installed into LH_DIR (outside the repo) when missing. */
async function lighthouse(): Promise<string> {
  const cli = join(LH_DIR, 'node_modules', 'lighthouse', 'cli', 'index.js');
  if (existsSync(cli)) return cli;
  mkdirSync(LH_DIR, { recursive: true });
  if (!existsSync(join(LH_DIR, 'package.json'))) writeFileSync(join(LH_DIR, 'package.json'), '{"private":true}\n');
  console.log(`installing lighthouse@${values.version} into ${LH_DIR} …`);
  await run('npm', ['install', '--no-audit', '--no-fund', `lighthouse@${values.version}`], { cwd: LH_DIR });
  if (!existsSync(cli)) throw new Error(`lighthouse did not install into ${LH_DIR}`);
  return cli;
}


async function serve(): Promise<{ child: ChildProcess; url: string; cleanup: () => void }> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const dir = mkdtempSync(join(tmpdir(), 'atoll-lh-config-'));
  const config = join(dir, 'atoll.config.json');
  writeFileSync(config, JSON.stringify({ publicOrigin: url }));
  const child = spawn(process.execPath, [join(REPO, 'bin/atoll.mjs'), 'serve', '--root', REPO, '--config', config, '--port', String(port), '--quiet'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  child.stderr!.on('data', (d: Buffer) => (err = (err + d.toString()).slice(-10_000)));
  await new Promise<void>((done, fail) => {
    let out = '';
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes(url)) done();
    });
    child.once('exit', (code) => fail(new Error(`atoll serve exited with ${code}:\n${err}`)));
  });
  return { child, url, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

interface Report {
  categories: Record<string, { score: number | null }>;
  audits: Record<string, { id: string; title: string; score: number | null; scoreDisplayMode: string; displayValue?: string }>;
}

async function main(): Promise<void> {
  if (!existsSync(CHROME)) throw new Error(`no Chromium at ${CHROME}: set CHROME_PATH`);
  const cli = await lighthouse();
  const version = JSON.parse(readFileSync(join(LH_DIR, 'node_modules', 'lighthouse', 'package.json'), 'utf8')).version as string;
  const server = await serve();
  console.log(`lighthouse ${version}, ${CHROME}, atoll serve at ${server.url}, ${RUNS} run(s) per page, mobile profile (simulated throttling)`);
  try {
    for (const path of PAGES) {
      const scores: Record<string, number[]> = {};
      const lost = new Map<string, string>();
      for (let i = 0; i < RUNS; i++) {
        const { stdout } = await run(process.execPath, [
          cli, server.url + path, '--output=json', '--output-path=stdout', '--quiet',
          `--only-categories=${CATEGORIES.join(',')}`,
          '--chrome-flags=--headless=new --no-sandbox --disable-gpu',
        ], { env: { ...process.env, CHROME_PATH: CHROME } });
        const report = JSON.parse(stdout) as Report;
        for (const c of CATEGORIES) (scores[c] ??= []).push(report.categories[c]?.score ?? NaN);
        for (const a of Object.values(report.audits)) {
          if (a.score !== null && a.score < 0.9 && (a.scoreDisplayMode === 'binary' || a.scoreDisplayMode === 'numeric' || a.scoreDisplayMode === 'metricSavings')) {
            lost.set(a.id, `${a.title}${a.displayValue ? ` (${a.displayValue})` : ''}: ${a.score}`);
          }
        }
        for (const m of ['first-contentful-paint', 'largest-contentful-paint', 'total-blocking-time', 'cumulative-layout-shift', 'speed-index']) {
          const a = report.audits[m];
          if (a) lost.set(`metric ${m}`, `${a.title}: ${a.displayValue ?? '?'} (score ${a.score})`);
        }
      }
      const line = CATEGORIES.map((c) => `${c} ${scores[c]!.map((s) => s.toFixed(2)).join('/')}`).join(', ');
      console.log(`\n${path}: ${line}`);
      for (const [id, text] of lost) console.log(`  ${id}: ${text}`);
    }
  } finally {
    server.child.kill('SIGTERM');
    server.cleanup();
  }
}

main().catch((err) => {
  console.error(err?.stderr ?? '', err);
  process.exitCode = 1;
});
