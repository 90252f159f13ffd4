/**
 * Sites laid out the ways users make them (test/sites/formats/, issue 12
 * item 2), each through the command line as a user runs it and in Chromium:
 *
 * | site          | package.json type | element                                   |
 * | ------------- | ----------------- | ----------------------------------------- |
 * | cjs-legacy    | commonjs          | TS, experimentalDecorators (via extends)  |
 * | cjs-standard  | commonjs          | TS, standard decorators (`accessor`)      |
 * | esm-legacy    | module            | TS, experimentalDecorators                |
 * | esm-standard  | module            | TS, standard decorators                   |
 * | none-js       | (none)            | JavaScript, static properties             |
 *
 * Each has a Lit element with a reactive property and a click handler, a
 * server hooks module whose `data()` imports `notFound` from 'atoll-ssr', and
 * a layout. For each: `atoll check` (a child process) passes; `atoll build`
 * builds; `atoll serve` serves; the page is rendered by the server (with
 * JavaScript off, the element has its declarative shadow root with the
 * data() value), hydrates (the server's shadow-root nodes kept, a real click
 * changes the DOM) with no page error or console error, and `?missing`
 * answers 404 (the hooks' `notFound()` is the engine's own HttpSignal).
 * The sites have no node_modules of their own: Lit and atoll-ssr come from
 * Atoll (the hooks' fallback).
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import puppeteer, { type Browser, type Page } from 'puppeteer-core';
import { repoRoot } from '../helpers.ts';
import { CHROMIUM_ARGS, CHROMIUM_PATH, PAGE_RECORDER, SERVER_NODES } from './engines.ts';

const SITES = join(repoRoot, 'test', 'sites', 'formats');
const BIN = join(repoRoot, 'bin', 'atoll.mjs');
const FORMATS = [
  { site: 'cjs-legacy', tag: 'cjs-legacy-counter' },
  { site: 'cjs-standard', tag: 'cjs-standard-counter' },
  { site: 'esm-legacy', tag: 'esm-legacy-counter' },
  { site: 'esm-standard', tag: 'esm-standard-counter' },
  { site: 'none-js', tag: 'none-js-counter' },
] as const;

/** Runs `atoll <args>` from a folder that is not the site (as a user with --root would). */
function atoll(args: string[]): Promise<{ status: number | null; out: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, ...args], { cwd: '/', stdio: ['ignore', 'pipe', 'pipe'], timeout: 90_000 });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d));
    child.stderr.on('data', (d: Buffer) => (out += d));
    child.on('close', (status) => resolve({ status, out }));
  });
}

/** `atoll check` then `atoll build` of a site (the commands' output when one fails). */
async function checkAndBuild(root: string): Promise<{ check: { status: number | null; out: string }; build?: { status: number | null; out: string } }> {
  const check = await atoll(['check', '--root', root]);
  if (check.status !== 0) return { check };
  rmSync(join(root, '.atoll'), { recursive: true, force: true });
  return { check, build: await atoll(['build', '--root', root]) };
}

/** `atoll serve` on a site; resolves with its URL once it listens. */
async function serve(root: string): Promise<{ url: string; child: ChildProcess; log: () => string }> {
  const child = spawn(process.execPath, [BIN, 'serve', '--root', root, '--port', '0', '--host', '127.0.0.1'], { cwd: '/', stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  child.stderr!.on('data', (d: Buffer) => (log += d));
  const url = await new Promise<string>((resolve, reject) => {
    child.stdout!.on('data', (d: Buffer) => {
      log += d;
      const m = /at (http:\/\/\S+)/.exec(log);
      if (m) resolve(m[1]!.replace(/\/$/, ''));
    });
    child.on('exit', (code) => reject(new Error(`atoll serve exited with ${code}:\n${log}`)));
  });
  return { url, child, log: () => log };
}

async function newPage(browser: Browser, javaScript: boolean): Promise<{ page: Page; errors: () => Promise<string[]> }> {
  const page = await browser.newPage();
  const own: string[] = [];
  page.on('pageerror', (e) => own.push(`pageerror ${e instanceof Error ? e.message : String(e)}`));
  page.on('console', (m) => {
    if (m.type() === 'error') own.push(`console ${m.text()}`);
  });
  page.on('requestfailed', (r) => own.push(`request failed ${r.url()} ${r.failure()?.errorText ?? ''}`));
  await page.setJavaScriptEnabled(javaScript);
  if (javaScript) await page.evaluateOnNewDocument(PAGE_RECORDER + SERVER_NODES);
  return {
    page,
    errors: async () => [...(((await page.evaluate('window.__atollPageErrors ? window.__atollPageErrors.slice() : ["(no recorder)"]')) as string[]) ?? []), ...own],
  };
}

describe('site formats: commonjs / module / none, legacy / standard decorators, JavaScript', () => {
  let browser: Browser;
  // check and build run two sites at a time (each is mostly one child
  // process's CPU), ahead of the browser part of each test.
  const prepared = new Map<string, ReturnType<typeof checkAndBuild>>();
  before(async () => {
    const lanes = [Promise.resolve(), Promise.resolve()];
    FORMATS.forEach(({ site }, i) => {
      const run = lanes[i % 2]!.then(() => checkAndBuild(join(SITES, site)));
      prepared.set(site, run);
      lanes[i % 2] = run.then(() => undefined);
    });
    browser = await puppeteer.launch({ executablePath: CHROMIUM_PATH, headless: true, args: CHROMIUM_ARGS });
  });
  after(async () => {
    await browser?.close();
  });

  for (const { site, tag } of FORMATS) {
    test(`${site}: atoll check, build, serve; server-rendered and hydrated in Chromium`, async () => {
      const root = join(SITES, site);
      assert.equal(existsSync(join(root, 'node_modules')), false, 'the site has no install of its own');
      const { check, build } = await prepared.get(site)!;
      assert.equal(check.status, 0, `atoll check failed:\n${check.out}`);
      assert.match(check.out, /ok: 1 layout, 1 element/);
      assert.equal(build?.status, 0, `atoll build failed:\n${build?.out}`);
      const manifest = JSON.parse(readFileSync(join(root, '.atoll', 'client', 'manifest.json'), 'utf8')) as { elements: Record<string, unknown> };
      assert.ok(manifest.elements[tag], `the build has a client entry for <${tag}>`);

      const server = await serve(root);
      try {
        // The hooks' notFound() is the engine's own HttpSignal: the page is a 404.
        const missing = await fetch(`${server.url}/?missing=1`);
        await missing.text();
        assert.equal(missing.status, 404, 'notFound() from atoll-ssr in the site hooks makes a 404');

        // Rendered by the server: with JavaScript off, the declarative shadow root is there.
        const off = await newPage(browser, false);
        const status = (await off.page.goto(server.url + '/', { waitUntil: 'load' }))?.status();
        assert.equal(status, 200);
        const ssr = await off.page.evaluate(
          (t: string) => {
            const host = document.querySelector(t);
            const root = host?.shadowRoot;
            return { shadow: !!root, button: root?.querySelector('button')?.textContent ?? null, label: root?.querySelector('.label')?.textContent ?? null };
          },
          tag,
        );
        assert.deepEqual(ssr, { shadow: true, button: 'count 5', label: site });
        await off.page.close();

        // Hydrated: the server's nodes kept, a real click changes the DOM, no errors.
        const on = await newPage(browser, true);
        await on.page.goto(server.url + '/', { waitUntil: 'load' });
        await on.page.waitForFunction(
          (t: string) => (window as unknown as { __atollHydrated: Element[] }).__atollHydrated.some((e) => e.localName === t),
          { timeout: 10_000 },
          tag,
        ).catch(async () => assert.fail(`<${tag}> did not hydrate; page errors: ${JSON.stringify(await on.errors())}; server log:\n${server.log()}`));
        const kept = await on.page.evaluate((t: string) => {
          const host = document.querySelector(t)!;
          const before = (window as unknown as { __atollServerNodes: Map<Element, { top: Node[] }> }).__atollServerNodes.get(host);
          const now = Array.from(host.shadowRoot!.childNodes);
          return { had: !!before, same: !!before && before.top.length === now.length && before.top.every((n, i) => n === now[i]), deferred: host.hasAttribute('defer-hydration') };
        }, tag);
        assert.deepEqual(kept, { had: true, same: true, deferred: false }, 'hydration kept the server-rendered shadow root');
        const box = await on.page.evaluate((t: string) => {
          const r = document.querySelector(t)!.shadowRoot!.querySelector('button')!.getBoundingClientRect();
          return { x: r.x + r.width / 2, y: r.y + r.height / 2 };
        }, tag);
        await on.page.mouse.click(box.x, box.y);
        await on.page.waitForFunction(
          (t: string) => document.querySelector(t)!.shadowRoot!.querySelector('button')!.textContent === 'count 6',
          { timeout: 5_000 },
          tag,
        ).catch(async () => assert.fail(`the click did not update <${tag}>; page errors: ${JSON.stringify(await on.errors())}`));
        const clicks = await on.page.evaluate((t: string) => document.querySelector(t)!.shadowRoot!.querySelector('.clicks')!.textContent, tag);
        assert.equal(clicks, '1', 'the @state() / state: true property updated too');
        assert.deepEqual(await on.errors(), [], 'no page errors, console errors or failed requests');
        await on.page.close();
      } finally {
        server.child.kill('SIGTERM');
        await new Promise((r) => server.child.once('exit', r));
      }
    });
  }
});
