/**
 * `atoll dev`: serve the site with live reload (see docs/dev.md).
 * Contract for cli.ts: it parses the common options and calls runDev.
 */
import { isLogLevel, jsonLogger } from '../log.ts';
import { isStartupImportRejection } from '../site/registry.ts';
import { DevServer } from './server.ts';

/** What cli.ts hands to `atoll dev`. */
export interface DevOptions {
  /** The site folder, resolved. */
  root: string;
  /** A config file given with --config, resolved against the working directory. */
  configPath?: string;
  port: number;
  host: string;
  /** --log-level / --quiet when given. */
  logLevel?: 'debug' | 'info' | 'warn' | 'error' | 'silent';
  /** Print to the terminal (defaults to process.stdout/stderr). */
  stdout?: (text: string) => void;
  stderr?: (text: string) => void;
}

/** Runs the dev server until SIGINT/SIGTERM (or `signal` aborts); returns the exit code. */
export async function runDev(options: DevOptions & { signal?: AbortSignal }): Promise<number> {
  const stdout = options.stdout ?? ((t: string) => void process.stdout.write(t));
  const stderr = options.stderr ?? ((t: string) => void process.stderr.write(t));
  const logger = jsonLogger(stderr, { level: isLogLevel(options.logLevel) ? options.logLevel : 'info' });
  // Site code runs in this process for as long as it serves: a timer of an
  // element that throws, or a promise it leaves rejected, is reported and
  // the dev server goes on (the next edit may fix it).
  const onStray = (what: string) => (reason: unknown): void => {
    if (isStartupImportRejection(reason)) return;
    const text = reason instanceof Error ? (reason.stack ?? reason.message) : String(reason);
    stderr(`atoll dev: ${what} in the site's code (the dev server goes on):\n${text}\n`);
  };
  const onRejection = onStray('a promise was rejected and nothing handled it');
  const onException = onStray('an exception was thrown and nothing caught it');
  process.on('unhandledRejection', onRejection);
  process.on('uncaughtException', onException);
  let dev: DevServer | undefined;
  try {
    dev = new DevServer({ root: options.root, configPath: options.configPath, port: options.port, host: options.host, logger, report: stderr });
    let url: string;
    try {
      url = await dev.start();
    } catch (e) {
      const err = e as NodeJS.ErrnoException;
      stderr(`atoll dev: cannot listen on ${options.host}:${options.port}: ${err?.code === 'EADDRINUSE' ? 'the port is in use (pick another with --port)' : String(err?.message ?? e)}\n`);
      await dev.close().catch(() => {});
      return 1;
    }
    stdout(`atoll dev: ${url} (watching ${options.root}; edits reload the browser)\n`);
    await new Promise<void>((done) => {
      if (options.signal?.aborted) return done();
      const stop = (): void => {
        process.off('SIGINT', stop);
        process.off('SIGTERM', stop);
        options.signal?.removeEventListener('abort', stop);
        done();
      };
      process.on('SIGINT', stop);
      process.on('SIGTERM', stop);
      options.signal?.addEventListener('abort', stop, { once: true });
    });
    await dev.close();
    return 0;
  } catch (e) {
    stderr(`atoll dev: ${(e as Error)?.message ?? String(e)}\n`);
    await dev?.close().catch(() => {});
    return 1;
  } finally {
    process.off('unhandledRejection', onRejection);
    process.off('uncaughtException', onException);
  }
}
