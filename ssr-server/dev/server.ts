/**
 * The dev server behind `atoll dev` (docs/dev.md): one HTTP server whose
 * requests go to the site's current **generation** — a complete load of the
 * site (config, layouts, element and hook modules) with its client build —
 * and a watcher that makes a new generation when a file changes, without a
 * restart.
 *
 * - Modules: a changed file and the site files importing it get a new
 *   version (site/generations.ts, site/module-versions.mjs); unchanged files
 *   and `node_modules` stay loaded. Tags are defined again per generation.
 * - A request runs on the generation current when it arrived, to its end.
 * - The client build is redone with rollup's cache (unchanged modules are
 *   not transformed again) and served from memory.
 * - A failed generation (a syntax error, a module that throws at import, a
 *   bad layout or config, a client build error) replaces nothing: requests
 *   keep the last good generation, and the browser shows the problems over
 *   the page. The next successful generation clears them.
 * - Pages get a small client script through `<atoll-head>` that listens on
 *   an event channel (Server-Sent Events) and reloads on a new generation.
 */
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { dirname, join, relative, resolve } from 'node:path';
import { watch, type FSWatcher } from 'chokidar';
import { Worker } from 'node:worker_threads';
import { listPublicFiles, pageClient } from '../build/client.ts';
import { ASSET_PATH, type ClientManifest } from '../build/manifest.ts';
import type { Engine } from '../engine.ts';
import { escapeAttr, escapeText } from '../html.ts';
import { nodeHandler, type NodeHandler } from '../adapters/node.ts';
import type { Logger } from '../log.ts';
import { fetchRemote } from '../remote/client.ts';
import type { PageRequest } from '../render/context.ts';
import { enableModuleVersions, GenerationRegistry, type ModuleVersions } from '../site/generations.ts';
import { loadSite, type Site } from '../site/load.ts';
import { DEV_CLIENT_PATH, DEV_CLIENT_SOURCE, DEV_EVENTS_PATH, DEV_PREFIX, OVERLAY_CSS } from './client-script.ts';
import { formatProblems, overlayHtml, problemsOf, renderProblem, type DevProblem } from './problems.ts';

/** Options for {@link DevServer}. */
export interface DevServerOptions {
  root: string;
  configPath?: string;
  port?: number;
  host?: string;
  logger: Logger;
  /** Where generation reports go (the terminal); default: nowhere. */
  report?: (text: string) => void;
  /** Quiet time after a change before a new generation starts, in ms (default 20). */
  debounceMs?: number;
  /** Quiet time after a client build before rollup's cache is saved for the next run, in ms (default 3000). */
  cacheSaveDelayMs?: number;
}

/** One complete load of the site. */
interface Generation {
  version: number;
  site: Site;
  handler: NodeHandler;
  client: ClientState;
}

/** A generation's client build: the files it serves, and the build still running for it. */
interface ClientState {
  manifest: ClientManifest;
  files: ReadonlyMap<string, string>;
  pending: Promise<unknown> | undefined;
}

/** What decides the client build's file names and import map: the elements and their modules. */
function clientSignature(site: Site): string {
  return JSON.stringify([...site.registry.values()].map((d) => [d.tag, d.kind, d.moduleUrl ?? '', d.client ?? '']).sort());
}

/** An event-channel connection. */
interface Listener {
  res: ServerResponse;
  request: string | undefined;
}

/** What a generation attempt did (for tests and the bench). */
export interface GenerationEvent {
  version: number;
  ok: boolean;
  ms: number;
  problems?: DevProblem[];
  /** The files that changed since the last good generation. */
  changed: string[];
}

const IGNORED = /(^|[\\/])(node_modules|\.git|\.atoll)([\\/]|$)/;
const RENDER_ERRORS_KEPT = 200;
const GENERATIONS_KEPT = 4;

export class DevServer {
  readonly root: string;
  private readonly options: DevServerOptions;
  private versions: ModuleVersions | undefined;
  private readonly registry: GenerationRegistry;
  private server: Server | undefined;
  private watcher: FSWatcher | undefined;
  private good: Generation | undefined;
  private failure: { version: number; stage: 'startup' | 'build'; problems: DevProblem[] } | undefined;
  /** The client builds: the one running (or last run), the signature of the last started, the last finished. */
  private readonly client: {
    running: Promise<void> | undefined;
    signature: string | undefined;
    last: { manifest: ClientManifest; files: ReadonlyMap<string, string> } | undefined;
  } = { running: undefined, signature: undefined, last: undefined };
  /** Files changed since the last good generation (a failed one keeps them: they must load fresh next time). */
  private readonly dirty = new Map<string, number>();
  private changes = 0;
  private loading: Promise<void> | undefined;
  private again = false;
  private timer: NodeJS.Timeout | undefined;
  private readonly listeners = new Set<Listener>();
  private readonly renderErrors = new Map<string, DevProblem[]>();
  private readonly worker: BuildWorker;
  private readonly kept: number[] = [];
  private lastAttempt = 0;
  private closed = false;
  /** Called after every generation attempt. */
  onGeneration: ((event: GenerationEvent) => void) | undefined;

  constructor(options: DevServerOptions) {
    this.options = options;
    this.root = resolve(options.root);
    // The server registry must be Lit's shim (importing the renderer installs it); see generations.ts.
    this.registry = GenerationRegistry.install();
    this.worker = new BuildWorker(join(this.root, '.atoll', 'dev', 'rollup-cache.json'), () => buildCacheKey(this.root), options.cacheSaveDelayMs);
  }

  /** The base URL once listening. */
  url = '';

  /**
   * Starts watching, listens (pages answer 503 "loading" until the first
   * generation is there), loads the first generation (its failure is shown,
   * not thrown); resolves with the base URL.
   */
  async start(): Promise<string> {
    this.versions = await enableModuleVersions(this.root);
    this.watcher = watch(this.root, {
      ignoreInitial: true,
      ignored: (path: string) => IGNORED.test(relative(this.root, path)),
    });
    this.watcher.on('all', (event, path) => this.changed(event, path));
    this.watcher.on('error', (e) => this.options.logger.warn({ message: String((e as Error)?.message ?? e) }, 'atoll dev: the file watcher reported an error'));
    await new Promise<void>((ready) => this.watcher!.once('ready', ready));
    const server = createServer((req, res) => this.request(req, res));
    this.server = server;
    await new Promise<void>((listening, failed) => {
      server.once('error', failed);
      server.listen(this.options.port ?? 0, this.options.host ?? '127.0.0.1', () => {
        server.off('error', failed);
        listening();
      });
    });
    const address = server.address() as AddressInfo;
    const host = address.address.includes(':') ? `[${address.address}]` : address.address;
    this.url = `http://${host}:${address.port}`;
    // The build worker loads rollup and its plugins while the server side loads.
    this.worker.warm();
    await this.load();
    return this.url;
  }

  /** The version of the generation serving requests (undefined before the first good one). */
  get current(): number | undefined {
    return this.good?.version;
  }

  /** The problems of the last generation when it failed. */
  get problems(): readonly DevProblem[] | undefined {
    return this.failure?.problems;
  }

  /** Resolves once no generation is loading or waiting to load. */
  async settled(): Promise<void> {
    while (this.loading !== undefined || this.timer !== undefined) {
      if (this.loading !== undefined) await this.loading;
      else await new Promise((r) => setTimeout(r, 5));
    }
  }

  /** Resolves once no generation and no client build is running or waiting. */
  async idle(): Promise<void> {
    do {
      await this.settled();
      await this.client.running;
    } while (this.loading !== undefined || this.timer !== undefined);
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.timer);
    this.timer = undefined;
    await this.watcher?.close();
    for (const l of this.listeners) l.res.end();
    this.listeners.clear();
    const server = this.server;
    if (server !== undefined) {
      await new Promise<void>((done) => {
        server.close(() => done());
        server.closeAllConnections();
      });
    }
    await this.loading;
    await this.worker.close();
  }

  // -------------------------------------------------------------------------
  // Generations
  // -------------------------------------------------------------------------

  private changed(event: string, path: string): void {
    if (this.closed || !['add', 'change', 'unlink', 'addDir', 'unlinkDir'].includes(event)) return;
    this.dirty.set(resolve(path), ++this.changes);
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.load();
    }, this.options.debounceMs ?? 20);
  }

  /** Loads a new generation, or marks that one more is needed when one is loading. */
  private load(): Promise<void> {
    if (this.loading !== undefined) {
      this.again = true;
      return this.loading;
    }
    this.loading = (async () => {
      do {
        this.again = false;
        if (this.closed) break;
        await this.attempt();
      } while (this.again);
    })().finally(() => {
      this.loading = undefined;
    });
    return this.loading;
  }

  private async attempt(): Promise<void> {
    const started = performance.now();
    const version = this.registry.next();
    const seen = new Map(this.dirty);
    const changed = [...seen.keys()];
    const stamps = new Map(changed.map((f) => [f, stamp(f)]));
    const changesAtStart = this.changes;
    let stage: 'startup' | 'build' = 'startup';
    // The watcher may drop the event of a save that comes right after another (chokidar
    // throttles events of one file within a few ms): a file that changed again since this
    // generation started is dirty again, whatever the watcher said.
    const recheck = (): void => {
      for (const [f, before] of stamps) if (stamp(f) !== before && !this.closed) this.changed('change', f);
    };
    try {
      // A tsconfig.json or package.json changes how every file compiles or resolves: all load again.
      const everything = changed.some((f) => /(^|[\\/])(tsconfig[^\\/]*\.json|package\.json)$/.test(f));
      // The client build reads the files, not the server's modules: with the same elements as the
      // last good generation it can start now, while the server side loads.
      const base = this.good !== undefined && this.failure?.stage !== 'build' && !everything ? this.good.site : undefined;
      const early = base === undefined ? undefined : { signature: clientSignature(base), build: this.build(base, version) };
      early?.build.catch(() => {});
      // The first generation of this server: the site's files this process loaded before (an
      // earlier dev server, in the same process) evaluate again too, with their definitions.
      const first = this.lastAttempt === 0;
      const reloading = changed.length > 0 || first ? await this.versions!.invalidate(changed, version, { all: everything || first }) : [];
      // From the last attempt, good or failed: its map is what the module cache holds (a module
      // evaluated in a failed generation is not evaluated again, so its definitions carry over).
      this.registry.begin(version, this.lastAttempt, reloading);
      this.lastAttempt = version;
      this.keep(version);
      const logger = this.devLogger();
      const site = await this.registry.run(version, () => loadSite({ root: this.root, configPath: this.options.configPath }));
      for (const w of site.warnings) logger.warn({ at: w.file }, w.message);
      stage = 'build';
      const signature = clientSignature(site);
      const previous = this.client.last;
      const sameNames = previous !== undefined && early !== undefined && early.signature === signature;
      const build = sameNames ? early.build : this.build(site, version, everything);
      let client: ClientState;
      if (sameNames) {
        // Same elements, same file names (no hashes in dev): the server side
        // serves at once with the previous manifest; asset requests wait for the build.
        client = { manifest: previous.manifest, files: previous.files, pending: build };
        build.then(
          (b) => {
            client.files = b.files;
            client.manifest = b.manifest;
            client.pending = undefined;
          },
          (e: unknown) => {
            client.pending = undefined;
            // (Runs after the commit below.) The failure is this generation's, unless a file
            // changed since the build started: it may have read a save half-way, and the next
            // generation builds again anyway.
            if (this.good?.version === version && this.changes === changesAtStart) this.fail(version, 'build', e, started, []);
          },
        );
      } else {
        const b = await build;
        client = { manifest: b.manifest, files: b.files, pending: undefined };
      }
      const engine = this.engine(site, client, version, logger);
      const generation: Generation = { version, site, handler: nodeHandler(engine), client };
      // A change that came in while this one loaded makes another generation; this one still serves meanwhile.
      // (A file saved again meanwhile stays dirty.)
      for (const [f, n] of seen) if (this.dirty.get(f) === n) this.dirty.delete(f);
      this.good = generation;
      this.failure = undefined;
      this.registry.commit(version);
      const ms = performance.now() - started;
      this.options.report?.(`atoll dev: generation ${version} ready in ${Math.round(ms)} ms${changed.length === 0 ? '' : ` (${changed.map((f) => relative(this.root, f)).join(', ')})`}\n`);
      this.broadcast('reload', { generation: version });
      this.onGeneration?.({ version, ok: true, ms, changed });
    } catch (e) {
      this.fail(version, stage, e, started, changed);
    }
    recheck();
  }

  /** Runs the client build for generation `version` (one at a time, after the one running); `fresh`: without rollup's cache. */
  private build(site: Site, version: number, fresh = false): Promise<BuiltClient> {
    this.client.signature = clientSignature(site);
    const before = this.client.running;
    const run = (async () => {
      // One client build at a time (they share rollup's cache).
      await before;
      const started = performance.now();
      try {
        const built = await this.worker.build(site, fresh);
        this.client.last = { manifest: built.manifest, files: built.files };
        this.options.report?.(`atoll dev: client build of generation ${version} done in ${Math.round(performance.now() - started)} ms${built.fromDisk ? ' (with the cache of the last run)' : ''}\n`);
        return built;
      } catch (e) {
        this.options.report?.(`atoll dev: client build of generation ${version} failed after ${Math.round(performance.now() - started)} ms\n`);
        throw e;
      }
    })();
    this.client.running = run.then(
      () => undefined,
      () => undefined,
    );
    return run;
  }

  private fail(version: number, stage: 'startup' | 'build', e: unknown, started: number, changed: string[]): void {
    const problems = problemsOf(e, this.root, stage);
    this.failure = { version, stage, problems };
    const ms = performance.now() - started;
    this.options.report?.(`atoll dev: the site did not ${stage === 'build' ? 'build' : 'load'}; ${this.good === undefined ? 'no generation to serve yet' : `serving generation ${this.good.version}`}:\n${formatProblems(problems)}`);
    this.broadcast('problems', { generation: version, problems });
    this.onGeneration?.({ version, ok: false, ms, problems, changed });
  }

  /** Keeps the registry maps of the last few generations (requests still in flight on them; the next one's base), drops older ones. */
  private keep(version: number): void {
    this.kept.push(version);
    while (this.kept.length > GENERATIONS_KEPT) this.registry.drop(this.kept.shift()!);
  }

  private devLogger(): Logger {
    const base = this.options.logger;
    return {
      debug: (f, m) => base.debug?.(f, m),
      info: (f, m) => base.info(f, m),
      warn: (f, m) => base.warn(f, m),
      error: (f, m) => {
        base.error(f, m);
        const id = f?.requestId;
        if (typeof id !== 'string') return;
        const problem = renderProblem(f, m, this.root);
        let list = this.renderErrors.get(id);
        if (list === undefined) {
          this.renderErrors.set(id, (list = []));
          if (this.renderErrors.size > RENDER_ERRORS_KEPT) this.renderErrors.delete(this.renderErrors.keys().next().value!);
        }
        list.push(problem);
        for (const l of this.listeners) if (l.request === id) send(l.res, 'problems', { problems: list });
      },
    };
  }

  private engine(site: Site, client: ClientState, version: number, logger: Logger): Engine {
    const { manifest, files } = client;
    const page = pageClient(manifest, files.get(manifest.loader) ?? '', ASSET_PATH);
    const head = page.head;
    return {
      site,
      logger,
      // No render cache in dev: an edit must show on the next request.
      cache: undefined,
      compress: false,
      fetchRemote,
      // Listed again per generation: a file added to public/ makes a generation.
      publicFiles: listPublicFiles(site.root, logger),
      head: (elements, request) => head(elements, request) + devScriptTag(version, request),
      preloads: page.preloads,
      moduleUrl: page.moduleUrl,
      build: page.build,
    };
  }

  // -------------------------------------------------------------------------
  // HTTP
  // -------------------------------------------------------------------------

  private request(req: IncomingMessage, res: ServerResponse): void {
    try {
      const url = new URL(req.url ?? '/', 'http://dev.invalid');
      if (url.pathname.startsWith(DEV_PREFIX)) return this.devEndpoint(url, req, res);
      const good = this.good;
      if (good !== undefined && url.pathname.startsWith(ASSET_PATH)) {
        const client = good.client;
        const serve = (): void => {
          const text = client.files.get(url.pathname.slice(ASSET_PATH.length));
          if (text === undefined) {
            res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' });
            res.end('Not Found\n');
            return;
          }
          res.writeHead(200, {
            'content-type': url.pathname.endsWith('.map') || url.pathname.endsWith('.json') ? 'application/json; charset=utf-8' : 'text/javascript; charset=utf-8',
            'cache-control': 'no-cache',
          });
          res.end(req.method === 'HEAD' ? undefined : text);
        };
        // The build for this generation is still running: its files come when it is done.
        if (client.pending !== undefined) client.pending.then(serve, serve);
        else serve();
        return;
      }
      if (good === undefined) return this.errorPage(res);
      // The request runs on this generation to its end, whatever comes after.
      this.registry.run(good.version, () => good.handler(req, res));
    } catch (e) {
      this.options.logger.error({ message: String((e as Error)?.message ?? e) }, 'atoll dev: internal error');
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' });
      res.end('Internal Server Error\n');
    }
  }

  private devEndpoint(url: URL, req: IncomingMessage, res: ServerResponse): void {
    if (url.pathname === DEV_CLIENT_PATH) {
      res.writeHead(200, { 'content-type': 'text/javascript; charset=utf-8', 'cache-control': 'no-store' });
      res.end(DEV_CLIENT_SOURCE);
      return;
    }
    if (url.pathname !== DEV_EVENTS_PATH) {
      res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' });
      res.end('Not Found\n');
      return;
    }
    res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-store', 'x-accel-buffering': 'no' });
    res.write(`retry: 500\n\n`);
    const request = url.searchParams.get('request') ?? '';
    const seen = url.searchParams.get('generation');
    const listener: Listener = { res, request: /^[\w.:-]{1,64}$/.test(request) ? request : undefined };
    this.listeners.add(listener);
    const keepAlive = setInterval(() => res.write(': keep-alive\n\n'), 15_000).unref();
    const drop = (): void => {
      clearInterval(keepAlive);
      this.listeners.delete(listener);
    };
    req.on('close', drop);
    res.on('error', drop);
    send(res, 'hello', { generation: this.good?.version ?? null });
    // What the page missed between its render and this connection.
    if (this.good !== undefined && seen !== null && seen !== generationTag(this.good.version) && (this.failure === undefined || this.failure.version < this.good.version)) {
      send(res, 'reload', { generation: this.good.version });
      return;
    }
    if (this.failure !== undefined) send(res, 'problems', { generation: this.failure.version, problems: this.failure.problems });
    const renderErrors = listener.request === undefined ? undefined : this.renderErrors.get(listener.request);
    if (renderErrors !== undefined) send(res, 'problems', { problems: renderErrors });
  }

  /** No generation loaded yet: the problems as a page that reloads when the site loads. */
  private errorPage(res: ServerResponse): void {
    const problems = this.failure?.problems ?? [{ kind: 'startup' as const, message: 'the site is loading' }];
    res.writeHead(this.failure === undefined ? 503 : 500, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store', ...(this.failure === undefined ? { 'retry-after': '1' } : {}) });
    res.end(
      `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>atoll dev: ${escapeText(problems[0]!.message.slice(0, 80))}</title>` +
        `<style>${OVERLAY_CSS}</style>${devScriptTag(undefined, undefined)}</head><body>${overlayHtml(problems)}</body></html>`,
    );
  }

  private broadcast(event: string, data: unknown): void {
    for (const l of this.listeners) send(l.res, event, data);
  }
}

/**
 * What rollup's cached transforms depend on besides the files themselves:
 * Atoll's version and build code, rollup's version, and the site's
 * tsconfig and package.json files (rollup checks each module's own source).
 */
function buildCacheKey(root: string): string {
  const hash = createHash('sha256');
  const add = (path: string): void => {
    try {
      hash.update(path).update('\0').update(readFileSync(path)).update('\0');
    } catch {
      hash.update(path).update('\0-\0');
    }
  };
  const engine = new URL('../', import.meta.url);
  for (const f of ['../package.json', 'build/build.ts', 'build/build.js', 'build/plugins.ts', 'build/plugins.js', 'build/manifest.ts', 'build/manifest.js']) {
    add(fileURLToPath(new URL(f, engine)));
  }
  // Rollup itself (its version, from its package.json), without loading it here.
  try {
    let dir = dirname(createRequire(import.meta.url).resolve('rollup'));
    while (!existsSync(join(dir, 'package.json')) && dirname(dir) !== dir) dir = dirname(dir);
    add(join(dir, 'package.json'));
  } catch {
    hash.update('no rollup');
  }
  const walk = (dir: string, depth: number): void => {
    let names: string[];
    try {
      names = readdirSync(dir).sort();
    } catch {
      return;
    }
    for (const name of names) {
      if (name === 'node_modules' || name.startsWith('.')) continue;
      const path = join(dir, name);
      if (/^(tsconfig.*\.json|package\.json)$/.test(name)) add(path);
      else if (depth < 6 && !name.includes('.')) {
        try {
          if (statSync(path).isDirectory()) walk(path, depth + 1);
        } catch {
          // gone meanwhile
        }
      }
    }
  };
  walk(root, 0);
  return hash.digest('base64url');
}

/** A file's size and modification time (empty when it is gone): what tells a later save. */
function stamp(path: string): string {
  try {
    const st = statSync(path);
    return `${st.size}:${st.mtimeMs}`;
  } catch {
    return '';
  }
}

/** This process's start: a page from before a restart of `atoll dev` has another generation tag, so it reloads. */
const BOOT = Date.now().toString(36);

/** How a page names its generation to the event channel. */
function generationTag(version: number): string {
  return `${BOOT}-${version}`;
}

/** The dev client's script tag, with the page's generation and request id. */
function devScriptTag(version: number | undefined, request: PageRequest | undefined): string {
  const nonce = request?.nonce === undefined ? '' : ` nonce="${escapeAttr(request.nonce)}"`;
  return `<script type="module" src="${DEV_CLIENT_PATH}" data-atoll-dev data-generation="${version === undefined ? 'none' : generationTag(version)}" data-request="${escapeAttr(request?.requestId ?? '')}"${nonce}></script>`;
}

function send(res: ServerResponse, event: string, data: unknown): void {
  try {
    res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
  } catch {
    // The browser went away.
  }
}


/** A client build's result as the worker sends it. */
interface BuiltClient {
  manifest: ClientManifest;
  files: ReadonlyMap<string, string>;
  ms: number;
  /** Rollup's cache came from the last run's file. */
  fromDisk: boolean;
}

/**
 * The client builds' worker thread (`build-worker.mjs`): started on the first
 * build, started again after it dies; one build at a time (the caller chains them).
 */
class BuildWorker {
  private worker: Worker | undefined;

  /** `cacheFile`: where rollup's cache is kept between runs, under `key()`. */
  constructor(
    private readonly cacheFile: string,
    private readonly key: () => string,
    private readonly saveDelayMs?: number,
  ) {}

  private readonly pending = new Map<number, { resolve: (b: BuiltClient) => void; reject: (e: unknown) => void }>();
  private nextId = 0;

  build(site: Site, fresh: boolean): Promise<BuiltClient> {
    const worker = this.start();
    const id = this.nextId++;
    // Definitions without their hook functions (they do not cross threads, and the build does not need them).
    const registry = [...site.registry].map(([tag, def]) => [tag, { ...def, hooks: {} }]);
    return new Promise<BuiltClient>((resolvePromise, reject) => {
      this.pending.set(id, { resolve: resolvePromise, reject });
      worker.ref();
      worker.postMessage({ id, site: { root: site.root, registry }, fresh });
    });
  }

  /** Starts the worker ahead of the first build. */
  warm(): void {
    this.start();
  }

  private start(): Worker {
    if (this.worker !== undefined) return this.worker;
    const ts = import.meta.url.endsWith('.ts');
    const worker = new Worker(new URL('./build-worker.mjs', import.meta.url), {
      workerData: {
        tsx: ts,
        buildModule: new URL(ts ? '../build/build.ts' : '../build/build.js', import.meta.url).href,
        cacheFile: this.cacheFile,
        cacheKey: this.key(),
        saveDelayMs: this.saveDelayMs,
      },
      // The worker's own loader hooks only (tsx, when the checkout runs), not the site's.
      execArgv: [],
    });
    worker.on('message', (m: { id: number; ok: boolean; manifest?: ClientManifest; files?: Array<[string, string]>; ms?: number; fromDisk?: boolean; error?: Record<string, unknown> }) => {
      const p = this.pending.get(m.id);
      this.pending.delete(m.id);
      if (this.pending.size === 0) worker.unref();
      if (p === undefined) return;
      if (m.ok) p.resolve({ manifest: m.manifest!, files: new Map(m.files), ms: m.ms ?? 0, fromDisk: m.fromDisk === true });
      else p.reject(Object.assign(new Error(String(m.error?.message ?? 'the client build failed')), m.error));
    });
    const died = (why: unknown): void => {
      if (this.worker === worker) this.worker = undefined;
      for (const p of this.pending.values()) p.reject(why instanceof Error ? why : new Error(`the client build worker stopped (${String(why)})`));
      this.pending.clear();
    };
    worker.on('error', died);
    worker.on('exit', (code) => died(`exit code ${code}`));
    worker.unref();
    this.worker = worker;
    return worker;
  }

  async close(): Promise<void> {
    const worker = this.worker;
    this.worker = undefined;
    if (worker !== undefined) await worker.terminate();
  }
}
