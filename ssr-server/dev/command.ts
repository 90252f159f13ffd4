/**
 * `atoll dev`: serve the site with live reload (see docs/dev.md).
 * Contract for cli.ts: it parses the common options and calls runDev.
 */

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
  (options.stderr ?? ((t) => process.stderr.write(t)))('atoll dev: not built yet\n');
  return 2;
}
