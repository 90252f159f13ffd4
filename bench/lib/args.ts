/**
 * What every bench's command line does alike: `--help` prints the usage and
 * exits 0; a bad option prints its problem and the usage and exits 2.
 */

/** Handles `--help`, and returns the bench's `fail(message)`. */
export function commandLine(name: string, usage: string, help: boolean | undefined): (message: string) => never {
  if (help) {
    console.log(usage);
    process.exit(0);
  }
  return (message) => {
    console.error(`${name}: ${message}\n${usage}`);
    process.exit(2);
  };
}

/** `value` (or `fallback`) as a positive integer, else `fail`. */
export function positiveInteger(value: string | undefined, fallback: number, option: string, fail: (message: string) => never): number {
  const n = Number(value ?? fallback);
  if (!Number.isInteger(n) || n < 1) fail(`${option} must be a positive integer, got ${value}`);
  return n;
}
