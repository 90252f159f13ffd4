/**
 * The `atoll` command line: `serve`, `dev`, `build`, `check`, `render`,
 * `export`, `init`, `help`. Each command has its own options (`atoll help <command>`,
 * `atoll <command> --help`); an option a command does not take is an error
 * naming it. Paths given on the command line (`--root`, `--config`, `--out`)
 * are relative to the working directory.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
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
import { buildFolder } from './build/client.ts';
import { readManifest } from './build/manifest.ts';
import { PublicFiles } from './assets/public.ts';

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

/** Atoll's version, from its package.json (found upwards from this file: the source and dist/ layouts differ). */
export function atollVersion(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 5; i++) {
    const file = join(dir, 'package.json');
    if (existsSync(file)) {
      try {
        const pkg = JSON.parse(readFileSync(file, 'utf8')) as { name?: unknown; version?: unknown };
        if (pkg.name === 'atoll-ssr' && typeof pkg.version === 'string') return pkg.version;
      } catch {
        // not Atoll's: keep looking
      }
    }
    dir = dirname(dir);
  }
  return 'unknown';
}

type OptionSpec = { type: 'string' | 'boolean'; short?: string };
/** One command: its options, how it is called, and its help text. */
interface Command {
  summary: string;
  usage: string;
  options: Record<string, OptionSpec>;
  /** Lines of the options' help, in order. */
  help: string;
  positionals: 'none' | 'one' | 'optional' | 'two';
}

const SITE = `  --root DIR       the site folder (default: the current folder)
  --config FILE    a config file instead of DIR/atoll.config.{ts,mjs,js,json}
                   (relative to the working directory)`;
const LOGGING = `  --quiet          no request log lines (the same as --log-level warn)
  --log-level L    debug, info, warn, error or silent (default: the
                   config's logLevel, else info)`;
const LISTEN = `  --port N         port (or PORT; else the config's port, else 3000)
  --host H         host (or HOST; else the config's host, else 127.0.0.1)`;
const siteOptions: Record<string, OptionSpec> = { root: { type: 'string' }, config: { type: 'string' } };
const logOptions: Record<string, OptionSpec> = { quiet: { type: 'boolean' }, 'log-level': { type: 'string' } };
const listenOptions: Record<string, OptionSpec> = { port: { type: 'string' }, host: { type: 'string' } };

const COMMANDS: Record<string, Command> = {
  serve: {
    summary: 'serve the site (builds the client first when missing or stale)',
    usage: 'atoll serve [options]',
    positionals: 'none',
    options: { ...siteOptions, ...listenOptions, ...logOptions, out: { type: 'string' }, 'no-build': { type: 'boolean' }, workers: { type: 'string' }, csp: { type: 'boolean' } },
    help: `Serves the site. GET /_atoll/health answers starting/ready/draining;
SIGTERM or SIGINT lets responses in flight finish (the config's
drainTimeout, default 10 s), then exits. Files in DIR/public/ are served
at the root.

${SITE}
${LISTEN}
  --out DIR        the client build's folder (default: the config's outDir,
                   else DIR/.atoll/client): the one \`atoll build --out\` wrote
  --no-build       serve the build as it is: never build (a missing build
                   is an error; a stale one a warning)
  --workers N      serve from N processes on one port ("auto": one per core)
  --csp            a Content-Security-Policy with a nonce per request
                   (Atoll's default policy; see docs/security.md)
${LOGGING}`,
  },
  dev: {
    summary: 'serve the site with live reload while you edit it',
    usage: 'atoll dev [options]',
    positionals: 'none',
    options: { ...siteOptions, ...listenOptions, ...logOptions },
    help: `Serves the site and watches layouts, elements, hooks and the config:
an edit shows on the next request and reloads the browser; errors show
in the browser (see docs/dev.md).

${SITE}
${LISTEN}
${LOGGING}`,
  },
  build: {
    summary: 'bundle the client side (elements, loader) for serve',
    usage: 'atoll build [options]',
    positionals: 'none',
    options: { ...siteOptions, out: { type: 'string' }, element: { type: 'string' }, version: { type: 'string' }, 'base-url': { type: 'string' } },
    help: `Bundles the client side (element modules, the island loader,
embed.js) into DIR/.atoll/client. The build is relocatable: copy the
site with it and \`atoll serve --no-build\` serves it there.

With --element TAG: builds that one element for an independent deploy
(docs/deploys.md) into OUT/TAG/VERSION/: server.mjs (one ES module: the
element and its server hooks; packages such as lit stay imports),
client.mjs (self-contained, minified) and entry.json (their URLs, for
\`atoll import-map set TAG --entry …\`).

${SITE}
  --out DIR        the build folder (default: the config's outDir, else
                   DIR/.atoll/client); give serve the same --out. With
                   --element: default DIR/.atoll/elements
  --element TAG    build only this element, to upload to a static host
  --version V      with --element: the version folder (default: a hash of
                   the built files, so the same source gives the same URL)
  --base-url URL   with --element: where OUT will be served from, for
                   entry.json (default "." : URLs relative to the import map)`,
  },
  check: {
    summary: 'validate layouts, the config and the element registry',
    usage: 'atoll check [options]',
    positionals: 'none',
    options: { ...siteOptions },
    help: `Loads the site as serve would and reports every problem with its
file:line:col; exits 1 when there is one.

${SITE}`,
  },
  render: {
    summary: 'render one page to stdout (or a file)',
    usage: 'atoll render <path> [options]',
    positionals: 'one',
    options: { ...siteOptions, ...logOptions, out: { type: 'string' } },
    help: `Renders the page at <path> (e.g. /home) as serve would, follows up to
five redirects, and writes the HTML to stdout. Exits 1 for a 5xx.

${SITE}
  --out FILE       write the page to FILE instead
${LOGGING}`,
  },
  export: {
    summary: 'the whole site as static files (pages, assets, sitemap)',
    usage: 'atoll export [options]',
    positionals: 'none',
    options: { ...siteOptions, ...logOptions, out: { type: 'string' }, origin: { type: 'string' } },
    help: `Renders every route without parameters, and every value the elements'
paths() hooks list for routes with parameters, as DIR/<path>/index.html,
with 404.html, the client build, public/, sitemap.xml, robots.txt and the
redirects (_redirects, redirects.json, meta-refresh pages); see
docs/export.md. A page that answers 5xx or has a failed element stops the
export (exit 1) and the previous export stays as it was.

${SITE}
  --out DIR        the output folder (default: DIR/.atoll/export); a
                   non-empty one must hold an earlier export
  --origin URL     the origin for sitemap.xml (default: the config's
                   publicOrigin; without one there is no sitemap)
${LOGGING}`,
  },
  init: {
    summary: 'write a new site (one element, one route, a test, a README)',
    usage: 'atoll init [dir]',
    positionals: 'optional',
    options: {},
    help: `Writes a minimal site into dir (default: the current folder), which
must be empty or missing. Then: npm install, npx atoll dev.`,
  },
  'import-map': {
    summary: 'set or remove an element\'s version in a server import map file',
    usage: 'atoll import-map set <tag> --server URL --client URL [--map FILE]\n       atoll import-map set <tag> --entry entry.json [--map FILE]\n       atoll import-map remove <tag> [--map FILE]',
    positionals: 'two',
    options: { map: { type: 'string' }, 'map-url': { type: 'string' }, server: { type: 'string' }, client: { type: 'string' }, entry: { type: 'string' } },
    help: `Makes a version of an element live (set) or takes the element out
(remove) in a server import map file (docs/deploys.md): the map is checked
as the server reads it, then written to a temporary file and renamed over
the old one, so a server polling it never reads half a map; writers take
turns (a lock file beside the map). Entries keep their order.

  --map FILE       the import map file (default: importmap.json; created
                   by set when missing)
  --server URL     the element's server module (absolute, or relative to
                   the map's own URL)
  --client URL     the element's browser module
  --entry FILE     the entry.json of atoll build --element, instead of
                   --server and --client
  --map-url URL    the URL the map is served from, to check relative URLs
                   against (default: a map with relative URLs is checked
                   as one served over http(s), one without as a file)`,
  },
  override: {
    summary: 'sign, set or clear a developer\'s override cookie',
    usage: 'atoll override sign <tag> --server URL --client URL [--max-age 8h]\n       atoll override set <tag> --url SITE --server URL --client URL\n       atoll override clear [<tag>] --url SITE',
    positionals: 'two',
    options: { ...siteOptions, server: { type: 'string' }, client: { type: 'string' }, 'max-age': { type: 'string' }, url: { type: 'string' }, token: { type: 'string' }, cookie: { type: 'string' } },
    help: `Per-developer overrides (docs/deploys.md, "Overrides"): a signed
cookie with which one browser (or curl) gets other versions of some
elements. sign prints a cookie value signed with ATOLL_OVERRIDE_SECRET,
checked against the site's deploys config; set and clear ask the site's
/_atoll/deploys/overrides with the deploy token. The value goes to stdout
alone (empty when cleared); what to do with it to stderr.

${SITE}
  --server URL     the element's server module (file: or http(s), an
                   origin in deploys.allow)
  --client URL     its browser module (http(s), an origin in deploys.allow)
  --max-age D      how long it lasts (default and at most the config's
                   deploys.overrides.maxAge)
  --url SITE       the site's origin (set, clear)
  --token T        the deploy token (default: ATOLL_DEPLOY_TOKEN)
  --cookie VALUE   an override to add to (set) or remove <tag> from (clear)`,
  },
  help: {
    summary: 'this text, or a command\'s (atoll help serve)',
    usage: 'atoll help [command]',
    positionals: 'optional',
    options: {},
    help: 'Shows the commands, or one command\'s options.',
  },
};

const USAGE = `Usage: atoll <command> [options]

Commands:
${Object.entries(COMMANDS)
  .map(([name, c]) => `  ${name.padEnd(11)}${c.summary}`)
  .join('\n')}

Options of every command:
  -h, --help       the command's options (or: atoll help <command>)
  -v, --version    Atoll's version

atoll <command> --help shows a command's options.
`;

/** A command's help text. */
export function commandHelp(name: string): string | undefined {
  const c = COMMANDS[name];
  if (c === undefined) return undefined;
  return `Usage: ${c.usage}\n\n${c.help}\n  -h, --help       this text\n`;
}

/**
 * The --config flag as a path: relative to the working directory. A file
 * that is not there but is in the site folder (where versions before 0.2
 * looked) is used with a warning.
 */
function configFlagPath(flag: string | undefined, root: string): string | undefined {
  if (flag === undefined) return undefined;
  const fromCwd = resolve(flag);
  if (existsSync(fromCwd)) return fromCwd;
  const fromRoot = resolve(root, flag);
  if (existsSync(fromRoot)) {
    process.stderr.write(`warning: --config ${flag} is read relative to the working directory; using ${relative('.', fromRoot) || fromRoot} from the site folder: write --config ${relative('.', fromRoot)}\n`);
    return fromRoot;
  }
  return fromCwd;
}

/** Runs the CLI with `argv` (without node and the script); returns the exit code. */
export async function main(argv: string[], options: MainOptions = {}): Promise<number> {
  const first = argv[0];
  if (first === '-v' || first === '--version' || (argv.length === 1 && first === 'version')) {
    process.stdout.write(`atoll-ssr ${atollVersion()}\n`);
    return 0;
  }
  if (first === undefined || first === '-h' || first === '--help') {
    (first === undefined ? process.stderr : process.stdout).write(USAGE);
    return first === undefined ? 2 : 0;
  }
  if (first.startsWith('-')) {
    process.stderr.write(`atoll: give the command first, e.g. atoll serve ${first}\n\n${USAGE}`);
    return 2;
  }
  const command = first;
  const spec = COMMANDS[command];
  if (spec === undefined) {
    process.stderr.write(`atoll: unknown command "${command}"\n\n${USAGE}`);
    return 2;
  }
  let parsed;
  try {
    parsed = parseArgs({
      args: argv.slice(1),
      allowPositionals: true,
      strict: true,
      // A command's own --version (build --element's) takes a value; elsewhere it is Atoll's version.
      options: { ...spec.options, help: { type: 'boolean', short: 'h' }, version: spec.options.version ?? { type: 'boolean', short: 'v' } },
    });
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    const option = /option '([^']*)'/.exec(err.message)?.[1];
    const what =
      err.code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION' && option !== undefined
        ? `unknown option ${option}`
        : err.code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE'
          ? err.message.replace(/^Option /, 'option ').replace(/\.$/, '')
          : err.message;
    process.stderr.write(`atoll ${command}: ${what} (atoll ${command} --help lists the options)\n`);
    return 2;
  }
  const values = parsed.values as Record<string, string | boolean | undefined> & {
    root?: string; config?: string; port?: string; host?: string; out?: string; quiet?: boolean; 'log-level'?: string;
    csp?: boolean; workers?: string; help?: boolean; version?: boolean; 'no-build'?: boolean;
  };
  const rest = parsed.positionals;
  if (values.version === true) {
    process.stdout.write(`atoll-ssr ${atollVersion()}\n`);
    return 0;
  }
  if (values.help) {
    process.stdout.write(command === 'help' ? USAGE : commandHelp(command)!);
    return 0;
  }
  if (command === 'help') {
    if (rest.length === 0) {
      process.stdout.write(USAGE);
      return 0;
    }
    const text = rest.length === 1 ? commandHelp(rest[0]!) : undefined;
    if (text === undefined) {
      process.stderr.write(`atoll help: unknown command "${rest.join(' ')}"\n\n${USAGE}`);
      return 2;
    }
    process.stdout.write(text);
    return 0;
  }
  const most = spec.positionals === 'none' ? 0 : spec.positionals === 'two' ? 2 : 1;
  if (rest.length > most) {
    process.stderr.write(`atoll ${command}: unexpected argument "${rest[most]}" (atoll ${command} --help)\n`);
    return 2;
  }
  if (command === 'init') {
    const { runInit } = await import('./init/command.ts');
    return runInit({ dir: rest[0] ?? '.' });
  }
  if (command === 'override') {
    const { runOverride } = await import('./deploys/override-command.ts');
    return runOverride(rest, values as Record<string, string | undefined>);
  }
  if (command === 'import-map') {
    const { runImportMapCommand } = await import('./deploys/import-map-command.ts');
    return runImportMapCommand(rest, values as { map?: string; 'map-url'?: string; server?: string; client?: string; entry?: string });
  }
  const root = values.root ?? '.';
  const siteOptions = { root, configPath: configFlagPath(values.config, root) };
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
      case 'dev': {
        const where = await listenAddress(command, values, siteOptions);
        if (where === undefined) return 2;
        const { runDev } = await import('./dev/command.ts');
        return await runDev({
          root: resolve(root),
          configPath: siteOptions.configPath,
          port: where.port,
          host: where.host,
          logLevel: cliLevel,
        });
      }
      case 'build': {
        const elementVersion = typeof values.version === 'string' ? values.version : undefined;
        if (values.element !== undefined || elementVersion !== undefined || values['base-url'] !== undefined) {
          const { runElementBuild } = await import('./deploys/element-build.ts');
          return await runElementBuild({ ...siteOptions, tag: values.element as string | undefined, outDir: values.out, version: elementVersion, baseUrl: values['base-url'] as string | undefined });
        }
        const site = await loadSite(siteOptions);
        const { buildClient, formatBuild } = await import('./build/build.ts');
        const built = await buildClient(site, {
          outDir: buildFolder(site, values.out),
          onWarning: (m) => process.stderr.write(`warning: ${m}\n`),
        });
        process.stdout.write(formatBuild(built));
        return 0;
      }
      case 'check': {
        const site = await loadSite(siteOptions);
        for (const w of site.warnings) process.stderr.write(`warning: ${formatProblem(w)}\n`);
        // What serve would leave out of public/ (a symlink out of it, public/_atoll/, too many files).
        for (const why of new PublicFiles(join(site.root, 'public')).skipped) process.stderr.write(`warning: public/${why}: not served\n`);
        const layouts = site.layouts.length;
        const elements = site.registry.size;
        process.stdout.write(`ok: ${layouts} layout${layouts === 1 ? '' : 's'}, ${elements} element${elements === 1 ? '' : 's'}\n`);
        return 0;
      }
      case 'export': {
        const { exportSite, formatExport, ExportError } = await import('./export/export.ts');
        try {
          const result = await exportSite({ ...siteOptions, out: values.out, origin: values.origin as string | undefined, logger: makeLogger() });
          process.stdout.write(formatExport(result));
          return 0;
        } catch (e) {
          if (!(e instanceof ExportError)) throw e;
          process.stderr.write(`atoll export: ${e.message}\n`);
          return 1;
        }
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
        const noBuild = values['no-build'] === true;
        const outDir = values.out === undefined ? undefined : resolve(values.out);
        if (workers > 1 && !isWorker()) {
          // Check the site and build the client once, here; the workers then only load it.
          const site = await loadSite(siteOptions);
          if (noBuild && missingBuild(buildFolder(site, outDir))) return 1;
          const { ensureBuild } = await import('./build/client.ts');
          await ensureBuild(site, { build: noBuild ? false : 'if-stale', outDir }, makeLogger(site.config.logLevel));
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
        const where = await listenAddress(command, values, siteOptions);
        if (where === undefined) return 2;
        const { port, host, config } = where;
        // --no-build: the build must be there (a worker's primary checked it).
        if (noBuild && !isWorker()) {
          const folder = outDir ?? buildFolder({ root: resolve(root), config: config as { outDir?: string } }, undefined);
          if (missingBuild(folder)) return 1;
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
          client: { build: isWorker() || noBuild ? false : 'if-stale', outDir },
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
          // Independent deploys: SIGHUP reads the server import map now (docs/deploys.md).
          const deploys = first.deploys;
          if (deploys !== undefined) {
            process.on('SIGHUP', () => {
              logger.info({ signal: 'SIGHUP' }, 'deploys: reading the import map now');
              deploys.refresh().catch(() => {});
            });
          }
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

/**
 * Port and host for serve and dev: the flag, else PORT/HOST, else the
 * config's (read early: the server listens while the site loads), else
 * 3000 and 127.0.0.1. Undefined (after a message) for a bad port.
 */
async function listenAddress(
  command: string,
  values: { port?: string; host?: string },
  site: { root: string; configPath?: string },
): Promise<{ port: number; host: string; config: { port?: unknown; host?: unknown; logLevel?: unknown; outDir?: unknown } } | undefined> {
  const portValue = values.port ?? process.env.PORT;
  if (portValue !== undefined && !/^\d{1,5}$/.test(portValue)) {
    process.stderr.write(`atoll ${command}: "${portValue}" is not a port number\n`);
    return undefined;
  }
  // The resolve hooks go in first, as loadSite does: a config module that
  // imports Lit (a renderer) must get Atoll's one copy. Problems are
  // reported by the full load.
  installResolveHooks();
  const early = await loadConfig(resolve(site.root), new ProblemList(), site.configPath).catch(() => undefined);
  const config = (early?.config ?? {}) as { port?: unknown; host?: unknown; logLevel?: unknown; outDir?: unknown };
  const port = Number(portValue ?? (Number.isInteger(config.port) ? config.port : 3000));
  const host = values.host ?? process.env.HOST ?? (typeof config.host === 'string' ? config.host : '127.0.0.1');
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    process.stderr.write(`atoll ${command}: "${portValue}" is not a port number\n`);
    return undefined;
  }
  return { port, host, config };
}

/** True (after a message) when `serve --no-build` has no build to serve. */
function missingBuild(folder: string): boolean {
  if (readManifest(folder) !== undefined) return false;
  const shown = relative('.', folder) || folder;
  process.stderr.write(
    existsSync(join(folder, 'manifest.json'))
      ? `atoll serve: the build in ${shown} was made by another version of Atoll: run atoll build (or serve without --no-build)\n`
      : `atoll serve: --no-build, but there is no client build in ${shown}: run atoll build${shown === '.atoll/client' ? '' : ` --out ${shown}`} first (or serve without --no-build)\n`,
  );
  return true;
}
