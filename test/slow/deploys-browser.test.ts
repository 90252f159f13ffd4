/**
 * Independent deploys end to end (issue 16, docs/deploys.md), through
 * Atoll's real Node server in Chromium and Firefox ESR:
 *
 * - a static server on 127.0.0.1 stands in for the team's CDN (another
 *   origin: module scripts need its CORS header, as on a real CDN) and
 *   serves the server import map, version 1 and version 2 of
 *   `<team-greeting>` (a Lit element with a `data()` hook, each version
 *   built for upload by `atoll build --element` from the team's own folder);
 * - the site's config names the map by URL, allows the CDN's origin and
 *   polls every second (the shortest interval the config allows);
 * - the first page renders version 1 on the server and the browser imports
 *   version 1's client module (the page's import map names it), which
 *   hydrates the server's nodes (a click on the server-rendered button
 *   updates it);
 * - version 2 is published (the map file replaced atomically, as `atoll
 *   import-map set` does): within a poll interval plus a worker's start new
 *   pages render version 2 and the browser imports version 2's module — and
 *   never version 1's — on the next load; the server was never restarted.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { extname, join, normalize } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { buildClient } from '../../ssr-server/build/build.ts';
import { buildElement } from '../../ssr-server/deploys/element-build.ts';
import { createAtoll, listen, loadSite, memoryLogger, type RunningServer } from '../../ssr-server/index.ts';
import { ENGINE_LABEL, launch, type EngineBrowser, type EngineName } from './engines.ts';

const POLL_MS = 1000;

/** The team's element source at version `v` (Lit, a data() hook beside it): built for upload by `atoll build --element`. */
const elementSource = (v: number): string => `import { LitElement, html, isServer } from 'lit';
class TeamGreeting extends LitElement {
  static properties = { version: { type: Number }, name: {}, count: { type: Number } };
  constructor() { super(); this.count = 0; }
  connectedCallback() {
    super.connectedCallback();
    if (!isServer) { (window.__teamGreeting ||= []).push(${v}); this.setAttribute('data-client', '${v}'); }
  }
  render() {
    return html\`<p class="greeting" data-version=\${this.version}>v${v}: hello \${this.name}</p><button @click=\${() => this.count++}>clicked \${this.count}</button>\`;
  }
}
customElements.define('team-greeting', TeamGreeting);
`;
const hooksSource = (v: number): string => `export async function data(ctx) { return { version: ${v}, name: ctx.attributes.name ?? 'nobody' }; }\n`;

const mapFor = (v: number): string =>
  JSON.stringify({ elements: { 'team-greeting': { server: `./team-greeting/v${v}/server.mjs`, client: `./team-greeting/v${v}/client.mjs` } } }, null, 2);

/** A static file server with CORS (the CDN). Records every path asked for. */
function staticServer(dir: string): Promise<{ server: Server; url: string; requests: string[] }> {
  const requests: string[] = [];
  const server = createServer((req, res) => {
    const path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    requests.push(path);
    const file = join(dir, normalize(path));
    let body: Buffer;
    try {
      body = readFileSync(file);
    } catch {
      res.writeHead(404, { 'access-control-allow-origin': '*' }).end();
      return;
    }
    const type = extname(file) === '.json' ? 'application/json' : 'text/javascript';
    res.writeHead(200, { 'content-type': type, 'access-control-allow-origin': '*', 'cache-control': 'no-cache' }).end(body);
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => {
    const { port } = server.address() as { port: number };
    resolve({ server, url: `http://127.0.0.1:${port}`, requests });
  }));
}

/** Replaces the map the way a deploy tool must: a whole new file renamed over the old. */
function publish(cdnDir: string, v: number): void {
  const tmp = join(cdnDir, `.importmap.${v}.tmp`);
  writeFileSync(tmp, mapFor(v));
  renameSync(tmp, join(cdnDir, 'importmap.json'));
}

describe('independent deploys in real browsers (issue 16)', () => {
  let root: string;
  let cdnDir: string;
  let cdn: Awaited<ReturnType<typeof staticServer>>;
  let running: RunningServer;

  before(async () => {
    root = mkdtempSync(join(tmpdir(), 'atoll-deploys-browser-'));
    cdnDir = join(root, 'cdn');
    // The team's own repository: one element, built per version as the team's CI would.
    const team = join(root, 'team');
    mkdirSync(join(team, 'elements', 'team-greeting'), { recursive: true });
    mkdirSync(join(team, 'layouts'), { recursive: true });
    writeFileSync(join(team, 'package.json'), '{ "type": "module" }\n');
    writeFileSync(join(team, 'layouts', 'index.html'), '<!doctype html><title>team</title><team-greeting></team-greeting>\n');
    for (const v of [1, 2]) {
      writeFileSync(join(team, 'elements', 'team-greeting', 'index.js'), elementSource(v));
      writeFileSync(join(team, 'elements', 'team-greeting', 'server.js'), hooksSource(v));
      await buildElement({ root: team, tag: 'team-greeting', outDir: cdnDir, version: `v${v}` });
    }
    publish(cdnDir, 1);
    cdn = await staticServer(cdnDir);
    const site = join(root, 'site');
    mkdirSync(join(site, 'layouts'), { recursive: true });
    mkdirSync(join(site, 'elements', 'site-note'), { recursive: true });
    writeFileSync(join(site, 'package.json'), '{ "type": "module" }\n');
    writeFileSync(
      join(site, 'elements', 'site-note', 'index.js'),
      "import { LitElement, html } from 'lit';\ncustomElements.define('site-note', class extends LitElement { render() { return html`<small>local</small>`; } });\n",
    );
    writeFileSync(
      join(site, 'layouts', 'index.html'),
      '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Deploys</title><atoll-head></atoll-head></head>' +
        '<body><main><team-greeting name="Ada"></team-greeting><site-note></site-note></main></body></html>\n',
    );
    writeFileSync(
      join(site, 'atoll.config.json'),
      JSON.stringify({ deploys: { importMap: `${cdn.url}/importmap.json`, allow: [cdn.url], pollInterval: POLL_MS } }, null, 2),
    );
    await buildClient(await loadSite({ root: site }), { minify: false });
    running = await listen(createAtoll({ root: site, logger: memoryLogger() }), { port: 0, host: '127.0.0.1' });
    await running.ready;
  });

  after(async () => {
    await running?.close({ drainMs: 0 });
    await new Promise<void>((r) => (cdn ? cdn.server.close(() => r()) : r()));
    rmSync(root, { recursive: true, force: true });
  });

  /** Which version the server renders now (text), by plain HTTP. */
  const serverVersion = async (): Promise<number> => {
    const html = await (await fetch(running.url + '/')).text();
    const m = /data-version="(\d+)"/.exec(html);
    return m ? Number(m[1]) : -1;
  };

  const inBrowser = async (engine: EngineName, expected: number): Promise<void> => {
    let browser: EngineBrowser | undefined;
    try {
      browser = await launch(engine);
      const page = await browser.newPage();
      const before = cdn.requests.length;
      assert.equal(await page.goto(running.url + '/'), 200);
      const seen = await page.evaluate(async () => {
        const el = document.querySelector('team-greeting')!;
        for (let i = 0; i < 100 && (!el.hasAttribute('data-client') || el.hasAttribute('defer-hydration')); i++) await new Promise((r) => setTimeout(r, 50));
        // Hydrated by that version's Lit: the server's button now answers clicks.
        const button = el.shadowRoot!.querySelector('button')!;
        button.click();
        await (el as unknown as { updateComplete: Promise<unknown> }).updateComplete;
        const map = JSON.parse(document.querySelector('script[type="importmap"]')!.textContent!) as { imports: Record<string, string> };
        return {
          ssr: el.shadowRoot?.querySelector('.greeting')?.getAttribute('data-version') ?? null,
          client: el.getAttribute('data-client'),
          ran: (window as unknown as { __teamGreeting?: number[] }).__teamGreeting ?? [],
          mapped: map.imports['@atoll/team-greeting'] ?? null,
          sameButton: el.shadowRoot!.querySelector('button') === button,
          clicked: button.textContent,
        };
      });
          const fetched = cdn.requests.slice(before).filter((p) => p.endsWith('client.mjs'));
      assert.deepEqual(
        seen,
        { ssr: String(expected), client: String(expected), ran: [expected], mapped: `${cdn.url}/team-greeting/v${expected}/client.mjs`, sameButton: true, clicked: 'clicked 1' },
        `${ENGINE_LABEL[engine]}: server render, browser import map and hydrated module all from version ${expected}`,
      );
      assert.ok(fetched.every((p) => p === `/team-greeting/v${expected}/client.mjs`), `${ENGINE_LABEL[engine]}: only version ${expected}'s client module was fetched (${fetched.join(', ')})`);
      assert.deepEqual(await page.errors(), [], `${ENGINE_LABEL[engine]}: no errors in the page`);
    } finally {
      await browser?.close();
    }
  };

  test('version 1 renders on the server and hydrates with version 1 in Chromium and Firefox', async () => {
    assert.equal(await serverVersion(), 1);
    await inBrowser('chromium', 1);
    await inBrowser('firefox', 1);
  });

  test('publishing version 2 swaps server render and browser module without a restart', async () => {
    const published = performance.now();
    publish(cdnDir, 2);
    let version = await serverVersion();
    while (version !== 2 && performance.now() - published < POLL_MS + 10_000) {
      await new Promise((r) => setTimeout(r, 50));
      version = await serverVersion();
    }
    const latency = performance.now() - published;
    assert.equal(version, 2, `version 2 serves within ${Math.round(latency)} ms of publishing`);
    process.stderr.write(`# swap latency (publish → first version-2 page): ${Math.round(latency)} ms (poll interval ${POLL_MS} ms)\n`);
    // Once the new version serves, it serves every new page.
    for (let i = 0; i < 10; i++) assert.equal(await serverVersion(), 2);
    await inBrowser('chromium', 2);
    await inBrowser('firefox', 2);
  });
});
