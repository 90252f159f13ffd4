/**
 * Packs this repository as npm would publish it (`npm pack`, which runs the
 * package's `prepack` build) into a temporary folder, once per process, and
 * installs tarballs into fresh temporary projects. Shared by the slow suites
 * that try Atoll the way a user gets it.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
export const REPO = resolve(import.meta.dirname, '../..');

let packed: Promise<string> | undefined;

/** The path of the packed tarball (built once per process). */
export function packAtoll(): Promise<string> {
  packed ??= (async () => {
    const dest = mkdtempSync(join(tmpdir(), 'atoll-pack-'));
    const { stdout } = await run('npm', ['pack', '--json', '--pack-destination', dest], { cwd: REPO, maxBuffer: 64 << 20 });
    const [info] = JSON.parse(stdout) as Array<{ filename: string }>;
    return join(dest, info!.filename);
  })();
  return packed;
}

/** Options of {@link freshProject}. */
export interface FreshProjectOptions {
  /** package.json fields (default `{ name: 'site', private: true }` — no "type", as `npm init -y` of old). */
  packageJson?: Record<string, unknown>;
  /** Packages to install besides the tarball (e.g. `lit@3.3.3`). */
  extra?: string[];
  /** `npm install --omit=dev`. */
  omitDev?: boolean;
}

/** A new temporary folder with the packed Atoll (and `extra`) installed from the tarball; returns its path. */
export async function freshProject(options: FreshProjectOptions = {}): Promise<string> {
  const tarball = await packAtoll();
  const dir = mkdtempSync(join(tmpdir(), 'atoll-project-'));
  writeFileSync(join(dir, 'package.json'), JSON.stringify(options.packageJson ?? { name: 'site', private: true }, null, 2));
  const args = ['install', '--no-audit', '--no-fund', '--loglevel=error', tarball, ...(options.extra ?? [])];
  if (options.omitDev) args.push('--omit=dev');
  await run('npm', args, { cwd: dir, maxBuffer: 64 << 20 });
  return dir;
}
