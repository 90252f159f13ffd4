/**
 * `atoll init [dir]`: writes a minimal site (one element, one route, an
 * element test, a README) that runs with two commands.
 * Contract for cli.ts: it passes the positionals after `init`.
 */

/** Options of `atoll init`. */
export interface InitOptions {
  /** The folder to create or fill (default: the current folder); must be empty or missing. */
  dir: string;
  stdout?: (text: string) => void;
  stderr?: (text: string) => void;
}

/** Writes the site; returns the exit code. */
export async function runInit(options: InitOptions): Promise<number> {
  (options.stderr ?? ((t) => process.stderr.write(t)))('atoll init: not built yet\n');
  return 2;
}
