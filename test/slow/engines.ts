/**
 * The three browser engines behind one small interface, for tests that load
 * pages from Atoll's real Node server: Chromium and Firefox ESR through
 * puppeteer-core (CDP and WebDriver BiDi), WebKit (WebKitGTK's MiniBrowser)
 * through WebKitWebDriver, spoken to with plain `fetch` (WebDriver classic:
 * WebKitGTK refuses BiDi).
 *
 *   const browser = await launch('webkit');
 *   const page = await browser.newPage();
 *   await page.goto(url);
 *   const title = await page.evaluate(() => document.title);
 *   assert.deepEqual(await page.errors(), []);
 *   await browser.close();
 *
 * Page errors. Every engine records them inside the page with
 * {@link PAGE_RECORDER}: uncaught errors, unhandled rejections, failed
 * resource loads, `console.error`, and `atoll:hydration-error` events.
 * Puppeteer installs it before any of the page's own code runs
 * (`evaluateOnNewDocument`). WebDriver classic has no such hook and WebKitGTK
 * has no console-log endpoint, so in WebKit the page itself must run the
 * recorder first: put `<script>${PAGE_RECORDER}</script>` at the top of the
 * page's `<head>` (the component-library test site does), or launch WebKit
 * with `{ injectRecorder: true }` to have a proxy splice it into every HTML
 * response (same URLs and origins; HTML then travels uncompressed). `goto`
 * throws in WebKit when a page runs no recorder, rather than report "no
 * errors" it could not see.
 *
 * WebKit needs an X display: {@link startWebKitDriver} starts its own Xvfb
 * (display number chosen by Xvfb, so parallel runs do not collide) unless
 * `DISPLAY` is set, then `WebKitWebDriver` on a free port, and waits for
 * `GET /status` to say ready. `web-test-runner.webkit.config.mjs` uses it too.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer as createHttpServer, request as httpRequest, type OutgoingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import puppeteer, { type Browser as PuppeteerBrowser, type Page as PuppeteerPage } from 'puppeteer-core';
import { freePort } from '../free-port.ts';

export type EngineName = 'chromium' | 'firefox' | 'webkit';
export const ENGINES: readonly EngineName[] = ['chromium', 'firefox', 'webkit'];
export const ENGINE_LABEL: Record<EngineName, string> = { chromium: 'Chromium', firefox: 'Firefox ESR', webkit: 'WebKit' };

export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const FIREFOX_PATH = process.env.FIREFOX_PATH ?? '/usr/bin/firefox-esr';
export const WEBKIT_DRIVER_PATH = process.env.WEBKIT_DRIVER_PATH ?? '/usr/bin/WebKitWebDriver';
export const MINIBROWSER_PATH = process.env.MINIBROWSER_PATH ?? '/usr/lib/x86_64-linux-gnu/webkit2gtk-4.1/MiniBrowser';

export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/**
 * Records page errors into `window.__atollPageErrors` (strings), from the
 * moment it runs. Idempotent (a page may carry it and puppeteer inject it too).
 * `atoll:hydration-error` events are recorded but not cancelled, so the
 * loader still logs them (and `console.error` records them a second time).
 */
export const PAGE_RECORDER = `(function () {
  if (window.__atollPageErrors) return;
  var errors = (window.__atollPageErrors = []);
  var text = function (v) {
    try {
      if (v && typeof v === 'object' && 'message' in v) return String(v.name || 'Error') + ': ' + String(v.message);
      return typeof v === 'string' ? v : JSON.stringify(v) === undefined ? String(v) : JSON.stringify(v);
    } catch (e) { return String(v); }
  };
  window.addEventListener('error', function (e) {
    if (e instanceof ErrorEvent) errors.push('uncaught ' + text(e.error || e.message) + (e.filename ? ' at ' + e.filename + ':' + e.lineno : ''));
    else if (e.target && e.target !== window) errors.push('failed to load <' + e.target.localName + '> ' + (e.target.src || e.target.href || ''));
  }, true);
  window.addEventListener('unhandledrejection', function (e) { errors.push('unhandled rejection ' + text(e.reason)); });
  document.addEventListener('atoll:hydration-error', function (e) {
    errors.push('atoll:hydration-error on <' + e.target.localName + '>: ' + text(e.detail && e.detail.error));
  }, true);
  var original = console.error;
  console.error = function () {
    errors.push('console.error ' + Array.prototype.map.call(arguments, text).join(' '));
    return original.apply(this, arguments);
  };
})();`;

/**
 * Keeps each island's server-rendered shadow-root nodes as its hydration
 * starts (the loader and Lit remove `defer-hydration` with `removeAttribute`),
 * and at `DOMContentLoaded` for islands not started by then; records
 * `atoll:hydrated` targets. Like PAGE_RECORDER, a page must run it first (in WebKit: carry it in its `<head>`, after PAGE_RECORDER).
 */
export const SERVER_NODES = `(function () {
  if (window.__atollServerNodes) return;
  var kept = (window.__atollServerNodes = new Map());
  var hydrated = (window.__atollHydrated = []);
  var take = function (host) {
    if (!host.shadowRoot || kept.has(host)) return;
    var nodes = [];
    var walk = function (parent) { for (var n = parent.firstChild; n; n = n.nextSibling) { nodes.push({ node: n, parent: parent, text: n.nodeType === 3 ? n.data : null }); walk(n); } };
    walk(host.shadowRoot);
    kept.set(host, { nodes: nodes, top: Array.prototype.slice.call(host.shadowRoot.childNodes) });
  };
  var remove = Element.prototype.removeAttribute;
  Element.prototype.removeAttribute = function (name) {
    if (String(name).toLowerCase() === 'defer-hydration') take(this);
    return remove.apply(this, arguments);
  };
  var toggle = Element.prototype.toggleAttribute;
  Element.prototype.toggleAttribute = function (name, force) {
    if (String(name).toLowerCase() === 'defer-hydration' && force !== true) take(this);
    return toggle.apply(this, arguments);
  };
  document.addEventListener('DOMContentLoaded', function () {
    document.querySelectorAll('[defer-hydration]').forEach(take);
  }, true);
  document.addEventListener('atoll:hydrated', function (e) { hydrated.push(e.target); }, true);
})();`;

/** What `evaluate` can run: a function (serialized with its source, so it must not close over anything) or an expression body. */
type PageFunction<A extends unknown[], R> = (...args: A) => R | Promise<R>;

export interface EnginePage {
  /** Navigates and waits for the `load` event; returns the HTTP status where the engine tells it (WebKit: undefined). */
  goto(url: string): Promise<number | undefined>;
  /** Runs `fn(...args)` in the page (awaiting a returned promise); its result must be JSON-serializable. */
  evaluate<A extends unknown[], R>(fn: PageFunction<A, R>, ...args: A): Promise<R>;
  /** A real pointer click (down and up, left button) at viewport coordinates. */
  click(x: number, y: number): Promise<void>;
  /** Real key presses into the focused element, one per character. */
  type(text: string): Promise<void>;
  /** Errors recorded in the page (see {@link PAGE_RECORDER}) plus those the engine reports itself. */
  errors(): Promise<string[]>;
  close(): Promise<void>;
}

export interface EngineBrowser {
  readonly engine: EngineName;
  newPage(): Promise<EnginePage>;
  close(): Promise<void>;
}

/**
 * `fn(...args)` as one expression for both drivers. The function crosses as
 * its source text; tsx (esbuild's keepNames) puts `__name(…)` calls into
 * functions, which the page does not have, so it gets a do-nothing one.
 */
const invocation = (fn: (...args: never[]) => unknown, args: unknown[]): string =>
  `(function () { var __name = function (f) { return f; }; return (${fn.toString()}).apply(null, ${JSON.stringify(args)}); })()`;

const recordedErrors = `return window.__atollPageErrors ? window.__atollPageErrors.slice() : null`;

// ---------------------------------------------------------------- puppeteer

async function puppeteerBrowser(engine: 'chromium' | 'firefox'): Promise<EngineBrowser> {
  const browser: PuppeteerBrowser =
    engine === 'chromium'
      ? await puppeteer.launch({ executablePath: CHROMIUM_PATH, headless: true, args: CHROMIUM_ARGS })
      : await puppeteer.launch({
          browser: 'firefox',
          executablePath: FIREFOX_PATH,
          headless: true,
          // Early Hints on: Firefox acts on a 103 over HTTP/1.1, which is what Atoll sends.
          extraPrefsFirefox: { 'network.early-hints.enabled': true },
        });
  return {
    engine,
    async newPage() {
      const page: PuppeteerPage = await browser.newPage();
      const own: string[] = [];
      page.on('pageerror', (e) => own.push(`pageerror ${e instanceof Error ? e.message : String(e)}`));
      page.on('console', (m) => {
        if (m.type() === 'error') own.push(`console ${m.text()}`);
      });
      await page.evaluateOnNewDocument(PAGE_RECORDER);
      return {
        async goto(url) {
          const response = await page.goto(url, { waitUntil: 'load' });
          return response?.status();
        },
        evaluate: (fn, ...args) => page.evaluate(invocation(fn as never, args)) as never,
        async click(x, y) {
          await page.mouse.click(x, y);
        },
        async type(text) {
          await page.keyboard.type(text);
        },
        async errors() {
          const inPage = ((await page.evaluate(`(function () { ${recordedErrors} })()`)) as string[] | null) ?? ['(the page recorder is missing)'];
          // The console listener repeats what the recorder saw through console.error; keep only what it alone saw.
          const seen = new Set(inPage.map((e) => e.replace(/^console\.error /, '')));
          return [...inPage, ...own.filter((e) => !(e.startsWith('console ') && seen.has(e.slice(8))))];
        },
        close: () => page.close(),
      };
    },
    close: () => browser.close(),
  };
}

// ---------------------------------------------------------------- WebKit

export interface WebKitDriver {
  /** WebKitWebDriver's base URL, e.g. `http://127.0.0.1:4444`. */
  url: string;
  port: number;
  /** The X display MiniBrowser runs on. */
  display: string;
  /** The W3C capabilities that start MiniBrowser in automation mode. */
  capabilities: Record<string, unknown>;
  stop(): Promise<void>;
}

const children = new Set<ChildProcess>();
let exitHook = false;
function track(child: ChildProcess): void {
  children.add(child);
  child.once('exit', () => children.delete(child));
  if (!exitHook) {
    exitHook = true;
    // Never leave an Xvfb or a driver behind, whatever ends the process.
    process.once('exit', () => {
      for (const c of children) c.kill('SIGKILL');
    });
  }
}

async function stopChild(child: ChildProcess | undefined): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
  await exited;
  clearTimeout(timer);
}

/** Starts Xvfb on a display it picks itself (`-displayfd`); resolves with `:N`. */
async function startXvfb(): Promise<{ display: string; child: ChildProcess }> {
  const child = spawn('Xvfb', ['-displayfd', '3', '-screen', '0', '1920x1600x24', '-nolisten', 'tcp'], {
    stdio: ['ignore', 'ignore', 'pipe', 'pipe'],
  });
  track(child);
  let err = '';
  child.stderr!.on('data', (d: Buffer) => (err += d));
  const display = await new Promise<string>((resolve, reject) => {
    let out = '';
    const fd3 = child.stdio[3] as NodeJS.ReadableStream;
    fd3.on('data', (d: Buffer) => {
      out += d;
      const m = /^(\d+)\n/.exec(out);
      if (m) resolve(`:${m[1]}`);
    });
    child.once('error', (e) => reject(new Error(`Xvfb did not start (apt-get install -y xvfb): ${e.message}`)));
    child.once('exit', (code) => reject(new Error(`Xvfb exited with ${code}: ${err.slice(-500)}`)));
  });
  return { display, child };
}

/** Xvfb (unless `DISPLAY` is set) and WebKitWebDriver on a free port, ready for sessions. */
export async function startWebKitDriver(): Promise<WebKitDriver> {
  for (const [what, path, pkg] of [
    ['WebKitWebDriver', WEBKIT_DRIVER_PATH, 'webkit2gtk-driver'],
    ['MiniBrowser', MINIBROWSER_PATH, 'webkit2gtk-driver'],
  ] as const) {
    if (!existsSync(path)) throw new Error(`${what} not found at ${path}: install it (apt-get install -y ${pkg} xvfb)`);
  }
  const xvfb = process.env.DISPLAY ? undefined : await startXvfb();
  const display = process.env.DISPLAY ?? xvfb!.display;
  let driver: ChildProcess | undefined;
  try {
    const port = await freePort();
    driver = spawn(WEBKIT_DRIVER_PATH, [`--port=${port}`, '--host=127.0.0.1'], {
      stdio: ['ignore', 'ignore', 'pipe'],
      env: { ...process.env, DISPLAY: display, GDK_BACKEND: 'x11' },
    });
    track(driver);
    let err = '';
    driver.stderr!.on('data', (d: Buffer) => (err = (err + d).slice(-2000)));
    const url = `http://127.0.0.1:${port}`;
    const deadline = Date.now() + 15_000;
    for (;;) {
      if (driver.exitCode !== null) throw new Error(`WebKitWebDriver exited with ${driver.exitCode}: ${err}`);
      try {
        const status = (await (await fetch(`${url}/status`)).json()) as { value?: { ready?: boolean } };
        if (status.value?.ready) break;
      } catch {
        // not listening yet
      }
      if (Date.now() > deadline) throw new Error(`WebKitWebDriver did not get ready in 15 s: ${err}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const d = driver;
    return {
      url,
      port,
      display,
      capabilities: {
        browserName: 'MiniBrowser',
        'webkitgtk:browserOptions': { binary: MINIBROWSER_PATH, args: ['--automation'] },
      },
      async stop() {
        await stopChild(d);
        await stopChild(xvfb?.child);
      },
    };
  } catch (e) {
    await stopChild(driver);
    await stopChild(xvfb?.child);
    throw e;
  }
}

/** One WebDriver-classic session: the few commands these tests need. */
export class WebDriverSession {
  private constructor(
    readonly base: string,
    readonly id: string,
  ) {}

  static async create(driverUrl: string, capabilities: Record<string, unknown>): Promise<WebDriverSession> {
    const value = (await webDriverCommand(`${driverUrl}/session`, 'POST', { capabilities: { alwaysMatch: capabilities } })) as { sessionId: string };
    return new WebDriverSession(driverUrl, value.sessionId);
  }

  send(method: 'GET' | 'POST' | 'DELETE', path: string, body?: unknown): Promise<unknown> {
    return webDriverCommand(`${this.base}/session/${this.id}${path}`, method, body);
  }

  navigate(url: string): Promise<unknown> {
    return this.send('POST', '/url', { url });
  }

  /** Runs a function body (`return …` for a value) with `arguments`. */
  execute(body: string, args: unknown[] = []): Promise<unknown> {
    return this.send('POST', '/execute/sync', { script: body, args });
  }

  /** Runs a function body whose last argument is the callback that ends it. */
  executeAsync(body: string, args: unknown[] = []): Promise<unknown> {
    return this.send('POST', '/execute/async', { script: body, args });
  }

  actions(actions: unknown[]): Promise<unknown> {
    return this.send('POST', '/actions', { actions });
  }

  async close(): Promise<void> {
    await this.send('DELETE', '');
  }
}

/** One WebDriver command: its `value`, or an Error with the driver's message. */
export async function webDriverCommand(url: string, method: string, body?: unknown): Promise<unknown> {
  const res = await fetch(url, {
    method,
    headers: body === undefined ? undefined : { 'content-type': 'application/json; charset=utf-8' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const json = (await res.json().catch(() => ({}))) as { value?: unknown };
  const value = json.value as { error?: string; message?: string } | undefined;
  if (!res.ok || (value && typeof value === 'object' && 'error' in value && value.error)) {
    throw new Error(`WebDriver ${method} ${new URL(url).pathname}: ${res.status} ${value?.error ?? ''}: ${value?.message ?? JSON.stringify(json)}`);
  }
  return json.value;
}

/**
 * An HTTP proxy that adds `<script>PAGE_RECORDER</script>` right after the
 * `<head>` of every HTML response (after the doctype when there is no head),
 * with the nonce of the response's Content-Security-Policy when it has one.
 * WebKit is pointed at it through the session's `proxy` capability, so page
 * URLs and origins stay exactly the server's. Everything else passes through
 * untouched: other responses keep their encoding, 103 Early Hints are relayed.
 * HTML navigations are asked for `accept-encoding: identity` (the recorder
 * cannot be spliced into compressed bytes). Plain `http:` only (no CONNECT).
 */
async function recorderProxy(): Promise<{ address: string; close(): Promise<void> }> {
  const HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade', 'te', 'content-length']);
  const server = createHttpServer((req, res) => {
    let target: URL;
    try {
      target = new URL(req.url ?? '');
      if (target.protocol !== 'http:') throw new Error('not http');
    } catch {
      res.writeHead(400).end();
      return;
    }
    const headers: OutgoingHttpHeaders = {};
    for (const [name, value] of Object.entries(req.headers)) if (!HOP.has(name) || name === 'content-length') headers[name] = value;
    if ((req.headers.accept ?? '').includes('text/html')) headers['accept-encoding'] = 'identity';
    const upstream = httpRequest({ host: target.hostname, port: target.port || 80, method: req.method, path: target.pathname + target.search, headers });
    upstream.on('information', (info) => {
      if (info.statusCode === 103 && info.headers.link !== undefined) res.writeEarlyHints({ link: String(info.headers.link).split(/,\s*(?=<)/) });
    });
    upstream.on('response', (up) => {
      const out: OutgoingHttpHeaders = {};
      for (const [name, value] of Object.entries(up.headers)) if (!HOP.has(name) && value !== undefined) out[name] = value;
      const html = String(up.headers['content-type'] ?? '').startsWith('text/html');
      const encoded = (up.headers['content-encoding'] ?? 'identity') !== 'identity';
      if (!html || encoded || req.method === 'HEAD') {
        if (up.headers['content-length'] !== undefined) out['content-length'] = up.headers['content-length'];
        res.writeHead(up.statusCode ?? 502, out);
        up.pipe(res);
        return;
      }
      const nonce = /'nonce-([^']+)'/.exec(String(up.headers['content-security-policy'] ?? ''))?.[1];
      const script = `<script${nonce ? ` nonce="${nonce}"` : ''}>${PAGE_RECORDER}</script>`;
      res.writeHead(up.statusCode ?? 502, out);
      let held = '';
      let injected = false;
      const inject = (final: boolean): void => {
        const head = /<head(\s[^>]*)?>/i.exec(held);
        const doctype = /^\s*<!doctype[^>]*>/i.exec(held);
        if (!head && !final && held.length < 8192) return; // wait for the <head> tag
        const at = head ? head.index + head[0].length : doctype ? doctype[0].length : 0;
        res.write(held.slice(0, at) + script + held.slice(at));
        held = '';
        injected = true;
      };
      up.setEncoding('utf8');
      up.on('data', (chunk: string) => {
        if (injected) {
          res.write(chunk);
          return;
        }
        held += chunk;
        inject(false);
      });
      up.on('end', () => {
        if (!injected) inject(true);
        res.end();
      });
      up.on('error', () => res.destroy());
    });
    upstream.on('error', () => res.destroy());
    req.pipe(upstream);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    address: `127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export interface LaunchOptions {
  /**
   * WebKit only (the other engines always inject it): load pages through a
   * proxy that adds PAGE_RECORDER to every HTML response, for pages that do
   * not carry it themselves (e.g. the demo shop). The server's HTML then
   * arrives uncompressed; everything else is as the server sent it.
   */
  injectRecorder?: boolean;
}

async function webkitBrowser(options: LaunchOptions): Promise<EngineBrowser> {
  const proxy = options.injectRecorder ? await recorderProxy() : undefined;
  const driver = await startWebKitDriver().catch(async (e: unknown) => {
    await proxy?.close();
    throw e;
  });
  const capabilities = proxy ? { ...driver.capabilities, proxy: { proxyType: 'manual', httpProxy: proxy.address, noProxy: [] } } : driver.capabilities;
  const sessions = new Set<WebDriverSession>();
  return {
    engine: 'webkit',
    async newPage() {
      // One session per page: WebKitWebDriver runs one MiniBrowser per session.
      const session = await WebDriverSession.create(driver.url, capabilities);
      sessions.add(session);
      return {
        async goto(url) {
          await session.navigate(url); // returns once the page's load event fired
          const recorded = await session.execute('return Array.isArray(window.__atollPageErrors)');
          if (recorded !== true) {
            throw new Error(
              `WebKit: ${url} does not run the page recorder (PAGE_RECORDER from test/slow/engines.ts) in its <head>; ` +
                'WebDriver classic cannot install it before the page runs, so its errors could not be seen',
            );
          }
          return undefined;
        },
        async evaluate(fn, ...args) {
          // Functions cross as source; execute/async awaits a returned promise and passes errors back.
          // (`failure`, not `error`: a WebDriver value with an `error` key reads as the driver's own error.)
          const body = `var done = arguments[arguments.length - 1];
            Promise.resolve().then(function () { return ${invocation(fn as never, args)}; })
              .then(function (v) { done({ ok: true, value: v === undefined ? null : v }); },
                    function (e) { done({ ok: false, failure: String(e) + '\\n' + String(e && e.stack || '') }); });`;
          const r = (await session.executeAsync(body)) as { ok: boolean; value?: unknown; failure?: string };
          if (!r.ok) throw new Error(`evaluate failed in WebKit: ${r.failure}`);
          return (r.value === null ? undefined : r.value) as never;
        },
        async click(x, y) {
          await session.actions([
            {
              type: 'pointer',
              id: 'mouse',
              parameters: { pointerType: 'mouse' },
              actions: [
                { type: 'pointerMove', duration: 0, x: Math.round(x), y: Math.round(y), origin: 'viewport' },
                { type: 'pointerDown', button: 0 },
                { type: 'pointerUp', button: 0 },
              ],
            },
          ]);
          await session.send('DELETE', '/actions');
        },
        async type(text) {
          const keys = [...text].flatMap((ch) => [
            { type: 'keyDown', value: ch },
            { type: 'keyUp', value: ch },
          ]);
          await session.actions([{ type: 'key', id: 'keyboard', actions: keys }]);
          await session.send('DELETE', '/actions');
        },
        async errors() {
          const inPage = (await session.execute(recordedErrors)) as string[] | null;
          return inPage ?? ['(the page recorder is missing)'];
        },
        async close() {
          sessions.delete(session);
          await session.close().catch(() => {});
        },
      };
    },
    async close() {
      for (const s of sessions) await s.close().catch(() => {});
      sessions.clear();
      await driver.stop();
      await proxy?.close();
    },
  };
}

/** Launches `engine`. Close what you launch (`finally { await browser.close() }`). */
export function launch(engine: EngineName, options: LaunchOptions = {}): Promise<EngineBrowser> {
  return engine === 'webkit' ? webkitBrowser(options) : puppeteerBrowser(engine);
}
