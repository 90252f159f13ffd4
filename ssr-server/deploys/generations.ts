/**
 * Render generations (issue 16, SPEC 9c), the main thread's side: one worker
 * thread per import-map generation, swapped without a restart and without
 * growth.
 *
 * - The map is read (`import-map.ts`) at start, every `pollInterval`
 *   (an unref'd timer; a read while one runs is folded into it), on
 *   `POST /_atoll/deploys/refresh` and on `refresh()` (SIGHUP in `atoll
 *   serve`). A new digest → its server modules prepared (`module-cache.ts`)
 *   → a worker (`generation-worker.ts`) that loads the site with them and
 *   probes every map element → `ready`, and only then does it take new
 *   requests.
 * - The replaced generation drains: it finishes what it started and is
 *   terminated when its last request ends, or after `drainTimeout`. Its
 *   module graph and registry die with its thread.
 * - A map whose generation fails (load problem, element not defined, probe
 *   render fails, worker dies while loading) never takes traffic: its worker
 *   is terminated, an error line says why, `status().lastFailure` keeps it,
 *   and the old generation keeps serving.
 * - Overrides (`overrides` option, overrides.ts): a request whose override
 *   entries change the map goes to the generation of that map, made on
 *   demand and kept in an LRU of `overrides.maxGenerations` (the evicted
 *   ones drain, then stop); its pages are `private, no-store`. One that
 *   fails to load: the request gets the live generation and
 *   {@link OVERRIDE_FAILED_HEADER}.
 * - `GET /_atoll/deploys` (status) and `POST /_atoll/deploys/refresh` are
 *   answered here, bearer `ATOLL_DEPLOY_TOKEN` (404 without one).
 */
import { isAbsolute, resolve as resolvePath } from 'node:path';
import { MessageChannel, Worker } from 'node:worker_threads';
import { linkTo, type WorkerLink } from '../adapters/worker-link.ts';
import { ASSET_PATH } from '../build/manifest.ts';
import { bearerMatches } from '../cache/purge-endpoint.ts';
import { handle, type Engine } from '../handle.ts';
import { HeaderList } from '../header-values.ts';
import { errorFields, type Logger, type LogLevel } from '../log.ts';
import type { ResolvedDeploysConfig, AtollConfig } from '../site/config.ts';
import type { ClientOptions } from '../build/client.ts';
import type { CoreRequest, CoreResponse, RequestHeaders } from '../wire.ts';
import type { GenerationWorkerData } from './generation-worker.ts';
import { importMapDigest, readImportMap } from './import-map.ts';
import { prepareModules } from './module-cache.ts';
import { configFileOf } from './overrides-endpoint.ts';
import { SiteError } from '../errors.ts';
import { DEPLOYS_PATH, type DeployStatus, type GenerationSpec, type GenerationState, type ImportMapEntry, type ImportMapSnapshot, type PreparedModules, type ServerImportMap } from './types.ts';

/** The environment variable with the admin endpoints' bearer token. */
export const DEPLOY_TOKEN_ENV = 'ATOLL_DEPLOY_TOKEN';
/** The response header saying that a request's override did not load and the live version answered. */
export const OVERRIDE_FAILED_HEADER = 'x-atoll-override';
/** Its value. */
export const OVERRIDE_FAILED_VALUE = 'failed; served the live version';
/** The longest a generation may take to load and probe before it counts as failed. */
export const LOAD_TIMEOUT = 60_000;
/** Failed override digests remembered (so a broken override is not loaded again on every request). */
const FAILED_OVERRIDES_KEPT = 64;

/** Options of {@link createDeploys}. */
export interface DeploysOptions {
  /** The site folder and config file (as `createAtoll` got them). */
  root: string;
  configPath?: string | undefined;
  /** The resolved `deploys` section. */
  deploys: ResolvedDeploysConfig;
  logger: Logger;
  /** Where `ATOLL_DEPLOY_TOKEN` is read (default `process.env`). */
  env?: Record<string, string | undefined>;
  /** The config given in code to `createAtoll` (its structured-clone-safe part goes to every worker). */
  config?: AtollConfig | undefined;
  /** The client options the workers use (the main thread built the client already). */
  client?: ClientOptions | undefined;
  compress?: boolean | undefined;
  /** The main thread's engine: it answers `/_atoll/assets/` and `public/` files itself (no worker hop). */
  main?: Engine | undefined;
  /** Overrides for one request (overrides.ts): the entries that replace the live map's, or undefined. */
  overrides?: ((headers: RequestHeaders) => Readonly<Record<string, ImportMapEntry>> | undefined) | undefined;
  /** Other paths under `/_atoll/deploys/` (the overrides page): answered on the main thread when this returns a response. */
  admin?: (req: AdminRequest, pathname: string) => CoreResponse | Promise<CoreResponse> | undefined;
  /** Replaces `deploys.pollInterval` (ms; tests). */
  pollInterval?: number;
}

/** A request as the main thread's admin endpoints get it: with its body (a POST's form) when the adapter has one. Never forwarded to a worker. */
export type AdminRequest = CoreRequest & { body?: AsyncIterable<Uint8Array> | undefined; secure?: boolean };

/** What {@link Deploys.refresh} did. */
export interface RefreshResult {
  /** `swapped`: a new generation serves; `unchanged`: same digest; `failed`: the new map did not take traffic. */
  outcome: 'swapped' | 'unchanged' | 'failed';
  status: DeployStatus;
}

/** The generation manager. */
export interface Deploys {
  /** Answers a request (for the Node adapter's `nodeHandler(engine, limits, respond)`). */
  respond(req: AdminRequest): CoreResponse | Promise<CoreResponse>;
  status(): DeployStatus;
  /**
   * Reads the map now; resolves once a new generation serves, or failed, or
   * nothing changed. A map that failed before is tried again (a poll skips
   * it: the same digest names the same modules).
   */
  refresh(): Promise<RefreshResult>;
  /** Stops polling and terminates every worker. */
  close(): Promise<void>;
}

/** One generation: a worker and its link. */
interface Generation {
  spec: GenerationSpec;
  state: GenerationState;
  worker: Worker;
  link: WorkerLink;
  ready: Promise<void>;
  since?: string;
  lastUsed: number;
  override: boolean;
  exited: Promise<void>;
  drainTimer?: NodeJS.Timeout;
}

// ---------------------------------------------------------------------------
// The map and its modules (import-map.ts and module-cache.ts, A1's).
// ---------------------------------------------------------------------------

async function readMap(root: string, config: ResolvedDeploysConfig): Promise<ImportMapSnapshot> {
  return readImportMap(config.importMap, { allow: config.allow, root });
}

function prepare(root: string, config: ResolvedDeploysConfig, map: ServerImportMap): Promise<PreparedModules> {
  return prepareModules(map, { cacheDir: resolvePath(root, config.cacheDir), allow: config.allow });
}

// ---------------------------------------------------------------------------
// Workers
// ---------------------------------------------------------------------------

/** The worker's entry: the TypeScript source in the checkout, the compiled file in the package. */
const FROM_SOURCE = import.meta.url.endsWith('.ts');
const ENTRY = new URL(FROM_SOURCE ? './generation-worker.ts' : './generation-worker.js', import.meta.url).href;

/**
 * The bootstrap each worker runs (CommonJS, `eval`): tsx's loader first when
 * the entry is TypeScript and this process's flags do not bring it, then
 * the entry. A failure to start is posted as the generation's failure.
 */
const BOOT = `
const { workerData } = require('node:worker_threads');
(async () => {
  if (workerData.tsx) { const { register } = await import(workerData.tsx); register(); }
  await import(workerData.entry);
})().catch((e) => { try { workerData.port.postMessage({ t: 'failed', reason: 'the generation worker did not start: ' + String((e && e.stack) || e) }); } catch {} });
`;

/**
 * tsx's ESM API, when the engine runs from its TypeScript sources: a worker
 * does not get the loader hooks this thread has (`--import tsx` included),
 * so it registers its own.
 */
function tsxFor(): string | undefined {
  return FROM_SOURCE ? import.meta.resolve('tsx/esm/api') : undefined;
}

/** Config given in code, as it can cross to a worker (functions and the like dropped, named). */
function cloneableConfig(config: AtollConfig | undefined, logger: Logger): AtollConfig | undefined {
  if (config === undefined) return undefined;
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(config)) {
    try {
      out[key] = structuredClone(value);
    } catch {
      logger.warn({ key }, 'deploys: this createAtoll config key cannot cross to the generation workers (functions, class instances); put it in the config file');
    }
  }
  return out as AtollConfig;
}

const cloneSafe = (fields: unknown): Record<string, unknown> => (typeof fields === 'object' && fields !== null ? (fields as Record<string, unknown>) : {});

/** Creates the manager and waits until the first generation serves (rejects with why when it cannot). */
export async function createDeploys(options: DeploysOptions): Promise<Deploys> {
  const { logger, deploys: config } = options;
  const env = options.env ?? process.env;
  const token = env[DEPLOY_TOKEN_ENV] !== undefined && env[DEPLOY_TOKEN_ENV] !== '' ? env[DEPLOY_TOKEN_ENV] : undefined;
  const pollInterval = options.pollInterval ?? config.pollInterval;
  const root = resolvePath(options.root);
  const workerConfig = cloneableConfig(options.config, logger);
  const given = options.client ?? {};
  const workerClient: GenerationWorkerData['client'] = {
    ...(given.outDir !== undefined ? { outDir: isAbsolute(given.outDir) ? given.outDir : resolvePath(given.outDir) } : {}),
    ...(given.base !== undefined ? { base: given.base } : {}),
    ...(given.firstScreen !== undefined ? { firstScreen: given.firstScreen } : {}),
    ...(typeof given.nonce === 'string' ? { nonce: given.nonce } : {}),
  };
  if (given.nonce !== undefined && typeof given.nonce !== 'string') logger.warn({}, 'deploys: a nonce function cannot cross to the generation workers; use the config\'s csp instead');
  const tsx = tsxFor();

  let nextId = 0;
  let current: Generation | undefined;
  /** The generation being loaded for the base map (at most one). */
  let loading: Generation | undefined;
  const draining = new Set<Generation>();
  const overrideGens = new Map<string, Generation>();
  const failedOverrides = new Map<string, string>();
  let lastFailure: DeployStatus['lastFailure'];
  let lastPoll: string | undefined;
  let swaps = 0;
  let closed = false;
  let timer: NodeJS.Timeout | undefined;

  const log = (level: 'info' | 'warn' | 'error', fields: Record<string, unknown>, message: string): void => {
    try {
      logger[level](fields, message);
    } catch {
      // an operator's logger that throws changes nothing here
    }
  };

  function spawn(map: ServerImportMap, digest: string, modules: PreparedModules, overridden: readonly string[]): Generation {
    const id = ++nextId;
    const spec: GenerationSpec = { id, digest, root, configPath: options.configPath, map, modules, overridden };
    const { port1, port2 } = new MessageChannel();
    const level = (logger as { level?: unknown }).level;
    const data: GenerationWorkerData = {
      spec,
      port: port2,
      entry: ENTRY,
      ...(tsx !== undefined ? { tsx } : {}),
      ...(workerConfig !== undefined ? { config: workerConfig } : {}),
      client: workerClient,
      ...(options.compress !== undefined ? { compress: options.compress } : {}),
      ...(typeof level === 'string' ? { logLevel: level as LogLevel } : {}),
    };
    let settle: { resolve: () => void; reject: (e: Error) => void } | undefined;
    const ready = new Promise<void>((resolve, reject) => {
      settle = { resolve, reject };
    });
    ready.catch(() => {});
    const fail = (reason: string): void => {
      const s = settle;
      settle = undefined;
      s?.reject(new Error(reason));
    };
    const link = linkTo(port1, (m) => {
      if (m.t === 'log') {
        const lv = m.level === 'debug' || m.level === 'info' || m.level === 'warn' || m.level === 'error' ? m.level : 'info';
        try {
          logger[lv]?.({ generation: id, ...cloneSafe(m.fields) }, String(m.message));
        } catch {
          // as above
        }
      } else if (m.t === 'ready') {
        // Loading kept the process alive; serving, the worker does not (the HTTP server does, and a request in flight its link).
        worker.unref();
        g.state = 'serving';
        g.since = new Date().toISOString();
        const s = settle;
        settle = undefined;
        s?.resolve();
      } else if (m.t === 'failed') {
        fail(typeof m.reason === 'string' ? m.reason : 'the generation failed to load');
      }
    });
    const worker = new Worker(BOOT, { eval: true, workerData: data, transferList: [port2], stdout: false, stderr: false });
    const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
    const g: Generation = { spec, state: 'loading', worker, link, ready, lastUsed: Date.now(), override: overridden.length > 0, exited };
    worker.on('error', (e) => {
      log('error', { generation: id, ...errorFields(e) }, 'a generation worker failed');
    });
    worker.once('exit', (code) => {
      if (g.drainTimer !== undefined) clearTimeout(g.drainTimer);
      fail(`the worker exited (code ${code}) before it was ready`);
      link.failAll(`exit code ${code}`);
      port1.close();
      if (g.state !== 'failed') g.state = 'stopped';
      draining.delete(g);
      if (g.override && overrideGens.get(g.spec.digest) === g) overrideGens.delete(g.spec.digest);
      if (g === current && !closed) {
        // The live generation died (a crash in site code): start it again from the same map.
        log('error', { generation: id, code, digest }, 'the serving generation\'s worker exited; starting it again');
        current = undefined;
        restartFrom = g;
        void start(map, digest, modules).catch(() => {});
      }
    });
    const timeout = setTimeout(() => fail(`it did not load and probe within ${LOAD_TIMEOUT / 1000} s`), LOAD_TIMEOUT);
    timeout.unref();
    ready.then(
      () => clearTimeout(timeout),
      () => clearTimeout(timeout),
    );
    return g;
  }

  /** The generation that died while serving, still answering nothing: requests wait for its replacement. */
  let restartFrom: Generation | undefined;
  let restarting: Promise<Generation> | undefined;

  function terminate(g: Generation): Promise<void> {
    if (g.drainTimer !== undefined) clearTimeout(g.drainTimer);
    if (g.state !== 'failed') g.state = 'stopped';
    void g.worker.terminate();
    return g.exited;
  }

  /** Lets `g` finish its requests, then stops it (at the latest after drainTimeout). */
  function drain(g: Generation): void {
    g.state = 'draining';
    draining.add(g);
    const check = (): void => {
      if (g.link.inFlight === 0) {
        draining.delete(g);
        void terminate(g);
      }
    };
    g.link.onIdle = check;
    g.drainTimer = setTimeout(() => {
      if (g.link.inFlight > 0) log('warn', { generation: g.spec.id, inFlight: g.link.inFlight, drainTimeout: config.drainTimeout }, 'a replaced generation still had requests at its drain timeout; stopped');
      draining.delete(g);
      void terminate(g);
    }, config.drainTimeout);
    g.drainTimer.unref();
    check();
  }

  /** Loads `map` as the next base generation; switches to it once ready. */
  function start(map: ServerImportMap, digest: string, modules: PreparedModules): Promise<Generation> {
    const g = spawn(map, digest, modules, []);
    loading = g;
    g.state = 'loading';
    const done = g.ready.then(
      () => {
        if (loading === g) loading = undefined;
        if (closed) {
          void terminate(g);
          throw new Error('closed');
        }
        const old = current;
        current = g;
        restartFrom = undefined;
        restarting = undefined;
        if (old !== undefined) {
          swaps++;
          drain(old);
        }
        lastFailure = undefined;
        log('info', { generation: g.spec.id, digest, elements: Object.keys(map.elements), replaced: old?.spec.id }, old === undefined ? 'deploys: the first generation serves' : 'deploys: a new generation serves');
        return g;
      },
      (e: Error) => {
        if (loading === g) loading = undefined;
        g.state = 'failed';
        void terminate(g);
        lastFailure = { digest, at: new Date().toISOString(), reason: e.message };
        log('error', { generation: g.spec.id, digest, reason: e.message }, current === undefined
          ? 'deploys: a new import map did not take traffic, and no generation serves yet'
          : 'deploys: a new import map did not take traffic; the previous generation keeps serving');
        throw e;
      },
    );
    restarting = done;
    done.catch(() => {});
    return done;
  }

  async function doRefresh(retryFailed: boolean): Promise<RefreshResult> {
    let snapshot: ImportMapSnapshot;
    let modules: PreparedModules;
    try {
      snapshot = await readMap(root, config);
      lastPoll = new Date().toISOString();
      const live = loading?.spec.digest ?? current?.spec.digest;
      if (snapshot.digest === live) return { outcome: 'unchanged', status: status() };
      // (With nothing serving — the live worker died and did not start again — every poll tries.)
      if (!retryFailed && current !== undefined && lastFailure !== undefined && lastFailure.digest === snapshot.digest) return { outcome: 'failed', status: status() };
      modules = await prepare(root, config, snapshot.map);
    } catch (e) {
      const reason = e instanceof Error ? e.message : String(e);
      // A map that cannot be read or prepared: logged once per reason, the live generation stays.
      if (lastFailure?.reason !== reason) {
        log('error', { reason }, current === undefined
          ? 'deploys: the import map could not be read or its modules prepared, and no generation serves yet'
          : 'deploys: the import map could not be read or its modules prepared; the live generation keeps serving');
      }
      lastFailure = { digest: undefined, at: new Date().toISOString(), reason };
      if (current === undefined) throw e;
      return { outcome: 'failed', status: status() };
    }
    try {
      await start(snapshot.map, snapshot.digest, modules);
      return { outcome: 'swapped', status: status() };
    } catch (e) {
      if (current === undefined) throw e;
      return { outcome: 'failed', status: status() };
    }
  }

  let running: Promise<RefreshResult> | undefined;
  let again: Promise<RefreshResult> | undefined;
  /**
   * One read at a time; a read asked for while one runs happens once right after it (all those askers share it).
   * When the run it waited for swapped to the very map it then reads, the askers are told 'swapped', not
   * 'unchanged': a push that lands while a poll is loading the same new map (the deployer wrote the map, a poll
   * saw it first) is answered with what happened to that map.
   */
  let againRetries = false;
  function refresh(retryFailed = true): Promise<RefreshResult> {
    if (closed) return Promise.resolve({ outcome: 'unchanged', status: status() });
    if (running !== undefined) {
      againRetries ||= retryFailed;
      again ??= running.catch(() => undefined).then(async (before) => {
        again = undefined;
        const retry = againRetries;
        againRetries = false;
        const after = await refresh(retry);
        const swappedToThis = before?.outcome === 'swapped' && after.outcome === 'unchanged' && before.status.current?.digest === after.status.current?.digest;
        return swappedToThis ? { outcome: 'swapped', status: after.status } : after;
      });
      return again;
    }
    running = doRefresh(retryFailed).finally(() => {
      running = undefined;
    });
    return running;
  }

  function schedule(): void {
    if (closed || !(pollInterval > 0)) return;
    timer = setTimeout(() => {
      refresh(false).then(schedule, schedule);
    }, pollInterval);
    timer.unref();
  }

  function status(): DeployStatus {
    return {
      current:
        current === undefined
          ? undefined
          : { id: current.spec.id, digest: current.spec.digest, since: current.since ?? '', elements: current.spec.map.elements },
      draining: [...draining].map((g) => ({ id: g.spec.id, digest: g.spec.digest, inFlight: g.link.inFlight })),
      overrides: [...overrideGens.values()].map((g) => ({ id: g.spec.id, digest: g.spec.digest, inFlight: g.link.inFlight, lastUsed: new Date(g.lastUsed).toISOString() })),
      lastFailure,
      lastPoll,
      swaps,
    };
  }

  // -------------------------------------------------------------------------
  // Overrides
  // -------------------------------------------------------------------------

  /** The generation for `entries` over the live map: made on demand, kept in the LRU; undefined when it failed. */
  async function overrideGeneration(base: Generation, entries: Readonly<Record<string, ImportMapEntry>>): Promise<Generation | undefined> {
    const elements = { ...base.spec.map.elements };
    const overridden: string[] = [];
    for (const [tag, entry] of Object.entries(entries)) {
      const was = elements[tag];
      if (was !== undefined && was.server === entry.server && was.client === entry.client) continue;
      elements[tag] = entry;
      overridden.push(tag);
    }
    if (overridden.length === 0) return base;
    const map: ServerImportMap = { elements };
    const digest = importMapDigest(map);
    if (failedOverrides.has(digest)) return undefined;
    let g = overrideGens.get(digest);
    if (g === undefined) {
      let modules: PreparedModules;
      try {
        modules = await prepare(root, config, map);
      } catch (e) {
        rememberFailed(digest, e instanceof Error ? e.message : String(e));
        return undefined;
      }
      g = overrideGens.get(digest);
      if (g === undefined) {
        g = spawn(map, digest, modules, overridden.sort());
        overrideGens.set(digest, g);
        const made = g;
        made.ready.then(
          () => log('info', { generation: made.spec.id, digest, overridden: made.spec.overridden }, 'deploys: an override generation serves'),
          (e: Error) => {
            made.state = 'failed';
            if (overrideGens.get(digest) === made) overrideGens.delete(digest);
            void terminate(made);
            rememberFailed(digest, e.message);
          },
        );
        // Least recently used first: past the bound, the oldest drain and stop.
        while (overrideGens.size > config.overrides.maxGenerations) {
          const [oldest, old] = overrideGens.entries().next().value as [string, Generation];
          overrideGens.delete(oldest);
          drain(old);
        }
      }
    } else {
      overrideGens.delete(digest);
      overrideGens.set(digest, g);
    }
    g.lastUsed = Date.now();
    try {
      await g.ready;
    } catch {
      return undefined;
    }
    return g.state === 'serving' ? g : undefined;
  }

  function rememberFailed(digest: string, reason: string): void {
    log('warn', { digest, reason }, 'deploys: an override generation did not load; its requests get the live version');
    failedOverrides.set(digest, reason);
    if (failedOverrides.size > FAILED_OVERRIDES_KEPT) failedOverrides.delete(failedOverrides.keys().next().value as string);
  }

  // -------------------------------------------------------------------------
  // Requests
  // -------------------------------------------------------------------------

  const json = (status: number, value: unknown, extra: Record<string, string> = {}): CoreResponse => ({
    status,
    headers: new HeaderList(
      ['content-type', 'cache-control', 'x-content-type-options', ...Object.keys(extra)],
      ['application/json; charset=utf-8', 'no-store', 'nosniff', ...Object.values(extra)],
    ),
    body: { kind: 'text', text: JSON.stringify(value, null, 2) + '\n' },
    requestId: '-',
  });

  function adminEndpoint(req: CoreRequest, pathname: string): CoreResponse | Promise<CoreResponse> | undefined {
    const isStatus = pathname === DEPLOYS_PATH;
    const isRefresh = pathname === `${DEPLOYS_PATH}/refresh`;
    if (!isStatus && !isRefresh) return undefined;
    if (token === undefined) return json(404, { error: 'not found' });
    const method = isStatus ? ['GET', 'HEAD'] : ['POST'];
    if (!method.includes(req.method)) return json(405, { error: 'method not allowed' }, { allow: method.join(', ') });
    if (!bearerMatches(req.headers.get('authorization'), token)) {
      log('warn', { path: pathname }, 'deploys: admin request refused: missing or wrong bearer token');
      return json(401, { error: 'a valid bearer token is required' }, { 'www-authenticate': 'Bearer realm="atoll-deploys"' });
    }
    if (isStatus) return json(200, status());
    return refresh().then(
      (r) => json(r.outcome === 'failed' ? 409 : 200, r),
      (e: unknown) => json(500, { outcome: 'failed', error: e instanceof Error ? e.message : String(e) }),
    );
  }

  function markPrivate(r: CoreResponse): CoreResponse {
    r.headers.set('cache-control', 'private, no-store');
    return r;
  }

  async function viaOverride(base: Generation, entries: Readonly<Record<string, ImportMapEntry>>, req: CoreRequest): Promise<CoreResponse> {
    const g = await overrideGeneration(base, entries);
    if (g === base) return forwardTo(base, req);
    if (g === undefined) {
      const live = current ?? base;
      const r = await forwardTo(live, req);
      r.headers.set(OVERRIDE_FAILED_HEADER, OVERRIDE_FAILED_VALUE);
      return markPrivate(r);
    }
    return markPrivate(await forwardTo(g, req));
  }

  function forwardTo(g: Generation, req: CoreRequest): Promise<CoreResponse> {
    g.lastUsed = Date.now();
    return g.link.forward(req);
  }

  function respond(req: AdminRequest): CoreResponse | Promise<CoreResponse> {
    const q = req.target.indexOf('?');
    const pathname = q === -1 ? req.target : req.target.slice(0, q);
    if (pathname === DEPLOYS_PATH || pathname.startsWith(`${DEPLOYS_PATH}/`)) {
      const own = adminEndpoint(req, pathname) ?? options.admin?.(req, pathname);
      if (own !== undefined) return own;
    }
    const main = options.main;
    if (main !== undefined && (pathname.startsWith(ASSET_PATH) || main.publicFiles?.has(pathname) === true)) return handle(main, req);
    const g = current;
    if (g === undefined) {
      // The live generation died and is starting again: wait for it (or fail as a 500 when it cannot).
      if (restarting !== undefined && restartFrom !== undefined) return restarting.then((ng) => respondWith(ng, req));
      return Promise.reject(new Error('no generation is serving'));
    }
    return respondWith(g, req);
  }

  function respondWith(g: Generation, req: CoreRequest): Promise<CoreResponse> {
    if (options.overrides !== undefined) {
      let entries: Readonly<Record<string, ImportMapEntry>> | undefined;
      try {
        entries = options.overrides(req.headers);
      } catch (e) {
        log('warn', { ...errorFields(e) }, 'deploys: reading a request\'s overrides failed; it gets the live version');
      }
      if (entries !== undefined && Object.keys(entries).length > 0) return viaOverride(g, entries, req);
    }
    return forwardTo(g, req);
  }

  async function close(): Promise<void> {
    if (closed) return;
    closed = true;
    if (timer !== undefined) clearTimeout(timer);
    const all = new Set<Generation>([...draining, ...overrideGens.values()]);
    if (current !== undefined) all.add(current);
    if (loading !== undefined) all.add(loading);
    await Promise.all([...all].map((g) => terminate(g)));
  }

  // The first generation: createAtoll waits for it (no traffic without one).
  // Without it there is nothing to serve: a start-up problem, said as one
  // (the config file and the reason), never a stack.
  try {
    await refresh();
  } catch (e) {
    await close();
    if (e instanceof SiteError) throw e;
    const reason = e instanceof Error ? e.message : String(e);
    throw new SiteError([{ file: configFileOf(root, options.configPath), message: `deploys.importMap: the first import map did not load, so nothing can serve: ${reason}` }]);
  }
  schedule();
  return { respond, status, refresh: () => refresh(true), close };
}
