/**
 * The `atoll` command line: `serve`, `check`, `render`. Every command takes
 * `--root DIR` (default: the current folder).
 */
import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { SiteError, formatProblem } from './errors.ts';
import { createAtoll, listen, type RunningServer } from './index.ts';
import { DEFAULT_DRAIN_TIMEOUT } from './server.ts';
import { errorFields, isLogLevel, jsonLogger, LOG_LEVELS, type JsonLogger, type LogLevel } from './log.ts';
import { ProblemList } from './errors.ts';
import { loadConfig } from './site/config.ts';
import { installResolveHooks } from './site/install-hooks.ts';
import { loadSite } from './site/load.ts';
import { isStartupImportRejection } from './site/registry.ts';
import { isWorker, runPrimary, workerCount } from './workers.ts';

/**
 * The real `process.exit`, taken before any site module is imported: while
 * one is, `process.exit` refuses to run (an element module must not end the
 * server; see registry.ts), but a second signal must still stop at once.
 */
const exitProcess: (code?: number) => never = process.exit.bind(process);

/** Options of {@link main}. */
export interface MainOptions {
  /** True when `main` is the process's command line (`bin/atoll.mjs`): a refused site then ends the process even if a module left work pending. */
  standalone?: boolean;
}

const USAGE = `Usage: atoll <command> [options]

Commands:
  serve            serve the site (default port 3000, host 127.0.0.1);
                   GET /_atoll/health answers starting/ready/draining;
                   SIGTERM or SIGINT lets responses in flight finish
                   (the config's drainTimeout, default 10 s), then exits
  check            validate layouts and the element registry
  render <path>    render one page to stdout (or --out FILE)
  build            bundle the client side (elements, loader) into
                   DIR/.atoll/client (or --out DIR); serve builds first
                   when that build is missing or stale

Options:
  --root DIR       the site folder (default: current folder)
  --config FILE    a config file instead of DIR/atoll.config.*
  --port N         port for serve (or PORT)
  --host H         host for serve (or HOST)
  --out FILE       where render writes the page
  --workers N      serve from N processes on one port ("auto": one per core)
  --quiet          no request log lines (the same as --log-level warn)
  --log-level L    debug, info, warn, error or silent (serve, render;
                   default: the config's logLevel, else info)
  --csp            serve with a Content-Security-Policy: a nonce per
                   request, Atoll's default policy (see docs/security.md)
  -h, --help       this text
`;

/** Runs the CLI with `argv` (without node and the script); returns the exit code. */
export async function main(argv: string[], options: MainOptions = {}): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        root: { type: 'string' },
        config: { type: 'string' },
        port: { type: 'string' },
        host: { type: 'string' },
        out: { type: 'string' },
        quiet: { type: 'boolean' },
        'log-level': { type: 'string' },
        csp: { type: 'boolean' },
        workers: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (e) {
    process.stderr.write(`atoll: ${(e as Error).message}\n\n${USAGE}`);
    return 2;
  }
  const { values, positionals } = parsed;
  const [command, ...rest] = positionals;
  if (values.help || command === undefined) {
    process.stdout.write(USAGE);
    return values.help ? 0 : 2;
  }
  const siteOptions = { root: values.root ?? '.', configPath: values.config };
  const levelFlag = values['log-level'];
  if (levelFlag !== undefined && !isLogLevel(levelFlag)) {
    process.stderr.write(`atoll: --log-level takes one of ${LOG_LEVELS.join(', ')}, not "${levelFlag}"\n`);
    return 2;
  }
  /** The log level: the flag, else --quiet, else the config's `logLevel` (set once the site is read), else info. */
  const cliLevel: LogLevel | undefined = levelFlag ?? (values.quiet ? 'warn' : undefined);
  const makeLogger = (configLevel?: unknown): JsonLogger =>
    jsonLogger(undefined, { level: cliLevel ?? (isLogLevel(configLevel) ? configLevel : 'info') });
  try {
    switch (command) {
      case 'build': {
        const site = await loadSite(siteOptions);
        const { buildClient, formatBuild } = await import('./build/build.ts');
        const built = await buildClient(site, {
          outDir: values.out,
          onWarning: (m) => process.stderr.write(`warning: ${m}\n`),
        });
        process.stdout.write(formatBuild(built));
        return 0;
      }
      case 'check': {
        const site = await loadSite(siteOptions);
        for (const w of site.warnings) process.stderr.write(`warning: ${formatProblem(w)}\n`);
        const layouts = site.layouts.length;
        const elements = site.registry.size;
        process.stdout.write(`ok: ${layouts} layout${layouts === 1 ? '' : 's'}, ${elements} element${elements === 1 ? '' : 's'}\n`);
        return 0;
      }
      case 'render': {
        const target = rest[0];
        if (target === undefined || !target.startsWith('/')) {
          process.stderr.write('atoll render: give the path to render, e.g. atoll render /home\n');
          return 2;
        }
        const logger = makeLogger();
        const atoll = await createAtoll({ ...siteOptions, logger });
        if (cliLevel === undefined && isLogLevel(atoll.site.config.logLevel)) logger.level = atoll.site.config.logLevel;
        let page = await atoll.render(target);
        for (let hops = 0; hops < 5 && page.status >= 300 && page.status < 400; hops++) {
          const location = page.headers.get('location')!;
          process.stderr.write(`atoll render: ${page.status} redirect to ${location}\n`);
          page = await atoll.render(location);
        }
        if (values.out !== undefined) writeFileSync(values.out, page.html);
        else process.stdout.write(page.html);
        return page.status >= 500 ? 1 : 0;
      }
      case 'serve': {
        const workers = workerCount(values.workers);
        if (workers === undefined) {
          process.stderr.write(`atoll serve: --workers takes a count or "auto", not "${values.workers}"\n`);
          return 2;
        }
        const portValue = values.port ?? process.env.PORT;
        if (portValue !== undefined && !/^\d{1,5}$/.test(portValue)) {
          process.stderr.write(`atoll serve: "${portValue}" is not a port number\n`);
          return 2;
        }
        if (workers > 1 && !isWorker()) {
          // Check the site and build the client once, here; the workers then only load it.
          const site = await loadSite(siteOptions);
          const { ensureBuild } = await import('./build/client.ts');
          await ensureBuild(site, { build: 'if-stale' }, makeLogger(site.config.logLevel));
          const drainMs = typeof site.config.drainTimeout === 'number' ? site.config.drainTimeout : DEFAULT_DRAIN_TIMEOUT;
          await runPrimary(workers, (url) => `Atoll is serving ${site.root} at ${url}`, { drainMs });
          // The workers are gone; what the primary loaded (the build's helpers) must not hold the exit.
          setTimeout(() => exitProcess(0), 100).unref();
          return 0;
        }
        // Port, host and log level are read from the config before the site
        // loads, so that the server can listen (and answer its health
        // endpoint) while the site and its client build are being prepared.
        // Problems are reported by the full load below.
        // The resolve hooks go in first, as loadSite does: a config module
        // that imports Lit (a renderer) must get Atoll's one copy.
        installResolveHooks();
        const early = await loadConfig(resolve(siteOptions.root), new ProblemList(), siteOptions.configPath).catch(() => undefined);
        const config = (early?.config ?? {}) as { port?: unknown; host?: unknown; logLevel?: unknown };
        const port = Number(portValue ?? (Number.isInteger(config.port) ? config.port : 3000));
        const host = values.host ?? process.env.HOST ?? (typeof config.host === 'string' ? config.host : '127.0.0.1');
        if (!Number.isInteger(port) || port < 0 || port > 65535) {
          process.stderr.write(`atoll serve: "${portValue}" is not a port number\n`);
          return 2;
        }
        const logger = makeLogger(config.logLevel);
        // SIGTERM/SIGINT: drain (see server.ts). Installed before anything
        // loads, so a signal while starting stops cleanly too. A second
        // signal stops at once (a worker ignores it: the primary forwards
        // every signal it gets, and a terminal sends Ctrl-C to both).
        // An exception or rejection that nothing caught (a bug; Node would
        // exit at once) drains the same way, then exits 1: the responses in
        // flight finish, and with --workers the primary starts another.
        let stopping = false;
        const stop = new Promise<{ signal?: NodeJS.Signals; error?: unknown }>((resolveStop) => {
          const onSignal = (sig: NodeJS.Signals): void => {
            if (stopping) {
              if (isWorker()) return;
              logger.warn({ signal: sig }, 'second signal: stopping without waiting for responses in flight');
              exitProcess(1);
            }
            stopping = true;
            resolveStop({ signal: sig });
          };
          const onError = (error: unknown): void => {
            // A rejection from the site's start-up imports is reported as a
            // start-up problem (see registry.ts: Node 20 reports a throw in
            // a CommonJS module imported through ESM a second time, as
            // unhandled, even though the import was caught).
            if (isStartupImportRejection(error)) return;
            logger.error({ ...errorFields(error) }, stopping ? 'uncaught while stopping' : 'uncaught: draining, then exiting with 1');
            if (stopping) return;
            stopping = true;
            resolveStop({ error });
          };
          process.on('SIGINT', onSignal);
          process.on('SIGTERM', onSignal);
          process.on('uncaughtException', onError);
          process.on('unhandledRejection', onError);
        });
        const stopped = stop.then(() => undefined);
        const loading = createAtoll({
          ...siteOptions,
          logger,
          client: { build: isWorker() ? false : 'if-stale' },
          ...(values.csp ? { config: { csp: {} } } : {}),
        });
        loading.catch(() => {}); // reported through `running.ready` (or the worker's await) below
        let running: RunningServer;
        if (isWorker()) {
          // A worker listens only once its site is loaded: the primary hands
          // connections to every listening worker, and one still loading
          // would answer them 503.
          const atoll = await Promise.race([loading, stopped]);
          if (atoll === undefined) {
            const code = (await stop).error === undefined ? 0 : 1;
            setTimeout(() => exitProcess(code), 100).unref();
            return code;
          }
          running = await listen(atoll, { port, host, logger });
        } else {
          running = await listen(loading, { port, host, logger });
          logger.info({ url: running.url, root: resolve(siteOptions.root) }, 'listening; loading the site');
        }
        const first = await Promise.race([running.ready, stopped]);
        if (first !== undefined) {
          if (cliLevel === undefined && isLogLevel(first.site.config.logLevel)) logger.level = first.site.config.logLevel;
          if (!isWorker()) process.stdout.write(`Atoll is serving ${first.site.root} at ${running.url}\n`);
        }
        const reason = await stop;
        logger.info({ signal: reason.signal, inFlight: running.stats().inFlight }, 'draining: no new connections, letting responses in flight finish');
        await running.close();
        logger.info({ ...running.closed, ...running.stats() }, 'stopped');
        const code = reason.error === undefined ? 0 : 1;
        // A worker's IPC channel to the primary would keep it alive: let go
        // of it (on a clean stop; the cluster module then exits with 0).
        if (isWorker() && code === 0) process.disconnect?.();
        // Whatever is still pending (a client build interrupted by the
        // signal, a pooled connection to a remote) must not hold the exit.
        setTimeout(() => exitProcess(code), 100).unref();
        return code;
      }
      default:
        process.stderr.write(`atoll: unknown command "${command}"\n\n${USAGE}`);
        return 2;
    }
  } catch (e) {
    if (e instanceof SiteError) {
      for (const p of e.problems) process.stderr.write(`${formatProblem(p)}\n`);
      process.stderr.write(`atoll ${command}: ${e.problems.length} problem${e.problems.length === 1 ? '' : 's'} found\n`);
      // A module that never finished importing (or a timer it started)
      // must not keep a refused site's process alive — when this is the
      // process's command line, not a caller (a test) running it in-process.
      if (options.standalone) setTimeout(() => exitProcess(1), 200).unref();
      return 1;
    }
    process.stderr.write(`atoll ${command}: ${(e as Error).stack ?? String(e)}\n`);
    return 1;
  }
}
