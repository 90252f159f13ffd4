/**
 * The `atoll` command line: `serve`, `check`, `render`. Every command takes
 * `--root DIR` (default: the current folder).
 */
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { SiteError, formatProblem } from './errors.ts';
import { createAtoll, listen } from './index.ts';
import { jsonLogger, silentLogger } from './log.ts';
import { loadSite } from './site/load.ts';
import { isWorker, runPrimary, workerCount } from './workers.ts';

const USAGE = `Usage: atoll <command> [options]

Commands:
  serve            serve the site (default port 3000, host 127.0.0.1)
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
  --quiet          no request log lines
  --csp            serve with a Content-Security-Policy: a nonce per
                   request, Atoll's default policy (see docs/security.md)
  -h, --help       this text
`;

/** Runs the CLI with `argv` (without node and the script); returns the exit code. */
export async function main(argv: string[]): Promise<number> {
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
        const atoll = await createAtoll({ ...siteOptions, logger: jsonLogger() });
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
          await ensureBuild(site, { build: 'if-stale' }, values.quiet ? silentLogger : jsonLogger());
          await runPrimary(workers, (url) => `Atoll is serving ${site.root} at ${url}`);
          return 0;
        }
        const atoll = await createAtoll({
          ...siteOptions,
          logger: values.quiet ? silentLogger : jsonLogger(),
          client: { build: isWorker() ? false : 'if-stale' },
          ...(values.csp ? { config: { csp: {} } } : {}),
        });
        const port = Number(portValue ?? atoll.site.config.port ?? 3000);
        const host = values.host ?? process.env.HOST ?? atoll.site.config.host ?? '127.0.0.1';
        if (!Number.isInteger(port) || port < 0 || port > 65535) {
          process.stderr.write(`atoll serve: "${portValue}" is not a port number\n`);
          return 2;
        }
        const running = await listen(atoll, { port, host });
        if (!isWorker()) process.stdout.write(`Atoll is serving ${atoll.site.root} at ${running.url}\n`);
        await new Promise<void>((resolve) => {
          const stop = (): void => {
            // A worker's IPC channel to the primary would keep it alive: let go of it too.
            void running.close().then(() => {
              if (isWorker()) process.disconnect?.();
              resolve();
            });
          };
          process.once('SIGINT', stop);
          process.once('SIGTERM', stop);
        });
        return 0;
      }
      default:
        process.stderr.write(`atoll: unknown command "${command}"\n\n${USAGE}`);
        return 2;
    }
  } catch (e) {
    if (e instanceof SiteError) {
      for (const p of e.problems) process.stderr.write(`${formatProblem(p)}\n`);
      process.stderr.write(`atoll ${command}: ${e.problems.length} problem${e.problems.length === 1 ? '' : 's'} found\n`);
      return 1;
    }
    process.stderr.write(`atoll ${command}: ${(e as Error).stack ?? String(e)}\n`);
    return 1;
  }
}
