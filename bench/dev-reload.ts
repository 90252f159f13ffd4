/**
 * `atoll dev` edit-to-browser time: runs the real command (`bin/atoll.mjs
 * dev`) on a temporary copy of a site, opens a page in Chromium
 * (puppeteer-core), edits an element's file and measures, from the write,
 *
 * - **visible**: the page shows the edited text (the dev client got the
 *   event, reloaded, and the server-rendered page has the new code);
 * - **hydrated**: the element on the page runs the rebuilt client module
 *   (its class source has the new text and it has hydrated).
 *
 * Usage: npm run bench:dev -- [--site fixture|demo] [--edits 12] [--gap 1500]
 *   fixture: test/slow/dev-fixture.ts's two-element site (edits d-card);
 *   demo: a copy of the demo shop (edits shop-hero, on /home).
 * Prints each edit and the median, min, p90 and max (docs/dev.md).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { freePort } from './lib/net.ts';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import puppeteer from 'puppeteer-core';
import { CHROMIUM_ARGS, CHROMIUM_PATH } from '../test/slow/engines.ts';
import { CARD, makeDevSite } from '../test/slow/dev-fixture.ts';

const { values } = parseArgs({
  options: {
    site: { type: 'string', default: 'fixture' },
    edits: { type: 'string', default: '12' },
    gap: { type: 'string', default: '1500' },
  },
});
const EDITS = Math.max(1, Number(values.edits));
const GAP = Math.max(0, Number(values.gap));
const REPO = resolve(import.meta.dirname, '..');

interface Target {
  root: string;
  path: string;
  tag: string;
  /** The element file with `word` in its rendered text. */
  source: (word: string) => string;
  cleanup: () => void;
}

function fixtureTarget(): Target {
  const site = makeDevSite();
  return { root: site.root, path: '/', tag: 'd-card', source: (w) => CARD(w), cleanup: site.remove };
}

function demoTarget(): Target {
  const root = mkdtempSync(join(tmpdir(), 'atoll-dev-bench-'));
  for (const dir of ['elements', 'layouts', 'public']) cpSync(join(REPO, dir), join(root, dir), { recursive: true });
  for (const f of ['atoll.config.mjs', 'atoll.config.json', 'atoll.config.ts', 'tsconfig.json']) {
    if (existsSync(join(REPO, f))) cpSync(join(REPO, f), join(root, f));
  }
  const file = join(root, 'elements/shop-hero/index.ts');
  const original = readFileSync(file, 'utf8');
  if (!original.includes('return html`<section')) throw new Error('shop-hero changed: update the bench');
  return {
    root,
    path: '/home',
    tag: 'shop-hero',
    source: (w) => original.replace('return html`<section', `return html\`<b class="bench">${w}</b><section`),
    cleanup: () => rmSync(root, { recursive: true, force: true }),
  };
}


async function startDev(root: string): Promise<{ child: ChildProcess; url: string; startMs: number }> {
  const port = await freePort();
  const started = Date.now();
  const child = spawn(process.execPath, [join(REPO, 'bin/atoll.mjs'), 'dev', '--root', root, '--port', String(port), '--log-level', 'warn'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let err = '';
  child.stderr!.on('data', (d: Buffer) => {
    err += d.toString();
    if (err.length > 20_000) err = err.slice(-10_000);
  });
  const url = await new Promise<string>((done, fail) => {
    let out = '';
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /(http:\/\/[^\s]+)/.exec(out);
      if (m) done(m[1]!);
    });
    child.once('exit', (code) => fail(new Error(`atoll dev exited with ${code}:\n${err}`)));
  });
  return { child, url, startMs: Date.now() - started };
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};
const pct = (xs: number[], p: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)]!;
};
const summary = (xs: number[]): string =>
  `median ${Math.round(median(xs))} ms (min ${Math.round(Math.min(...xs))}, p90 ${Math.round(pct(xs, 90))}, max ${Math.round(Math.max(...xs))}; n=${xs.length})`;

async function main(): Promise<void> {
  const target = values.site === 'demo' ? demoTarget() : fixtureTarget();
  writeFileSync(join(target.root, 'elements', target.tag === 'd-card' ? 'd-card.ts' : 'shop-hero/index.ts'), target.source('w0x'));
  const file = join(target.root, 'elements', target.tag === 'd-card' ? 'd-card.ts' : 'shop-hero/index.ts');
  const dev = await startDev(target.root);
  console.log(`atoll dev (${values.site}) listening after ${dev.startMs} ms`);
  const browser = await puppeteer.launch({ executablePath: CHROMIUM_PATH, headless: true, args: CHROMIUM_ARGS });
  try {
    const page = await browser.newPage();
    const seen = new Map<string, { visible?: number; hydrated?: number }>();
    const waiters: Array<() => void> = [];
    await page.exposeFunction('__atollBench', (kind: 'visible' | 'hydrated', word: string, at: number) => {
      const s = seen.get(word) ?? {};
      if (s[kind] === undefined) s[kind] = at;
      seen.set(word, s);
      for (const w of waiters.splice(0)) w();
    });
    // In every document: report the words the element shows, and the words its client class has.
    // (A string: tsx's transform would add helpers to a function that the page does not have.)
    await page.evaluateOnNewDocument(`(() => {
      const tag = ${JSON.stringify(target.tag)};
      const done = new Set();
      const report = (k, w) => window.__atollBench(k, w, Date.now());
      setInterval(() => {
        const el = document.querySelector(tag);
        const text = (el && el.shadowRoot && el.shadowRoot.textContent) || '';
        for (const m of text.matchAll(/\\bw\\d+x\\b/g)) if (!done.has('v' + m[0])) { done.add('v' + m[0]); report('visible', m[0]); }
        const cls = String(customElements.get(tag) || '');
        if (el !== null && !el.hasAttribute('defer-hydration')) {
          for (const m of cls.matchAll(/\\bw\\d+x\\b/g)) if (!done.has('h' + m[0])) { done.add('h' + m[0]); report('hydrated', m[0]); }
        }
      }, 4);
    })();`);
    await page.goto(dev.url + target.path, { waitUntil: 'load' });
    const wait = async (word: string, kind: 'visible' | 'hydrated', ms = 30_000): Promise<number> => {
      const deadline = Date.now() + ms;
      while (seen.get(word)?.[kind] === undefined) {
        if (Date.now() > deadline) throw new Error(`${word} never became ${kind}`);
        await new Promise<void>((r) => {
          waiters.push(r);
          setTimeout(r, 50);
        });
      }
      return seen.get(word)![kind]!;
    };
    await wait('w0x', 'hydrated');
    const visible: number[] = [];
    const hydrated: number[] = [];
    for (let i = 1; i <= EDITS; i++) {
      await new Promise((r) => setTimeout(r, GAP));
      const word = `w${i}x`;
      const t0 = Date.now();
      writeFileSync(file, target.source(word));
      const v = (await wait(word, 'visible')) - t0;
      const h = (await wait(word, 'hydrated')) - t0;
      visible.push(v);
      hydrated.push(h);
      console.log(`edit ${String(i).padStart(2)}: visible ${String(v).padStart(5)} ms, hydrated ${String(h).padStart(5)} ms`);
    }
    console.log(`visible:  ${summary(visible)}`);
    console.log(`hydrated: ${summary(hydrated)}`);
  } finally {
    await browser.close();
    dev.child.kill('SIGTERM');
    await new Promise((r) => dev.child.once('exit', r));
    target.cleanup();
  }
}

await main();
