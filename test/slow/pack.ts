/**
 * Packs this repository as npm would publish it (`npm pack`, which runs the
 * package's `prepack` build) into a temporary folder, once per process, and
 * installs tarballs into fresh temporary projects. Shared by the slow suites
 * that try Atoll the way a user gets it.
 *
 * The pack runs in a temporary copy of what the package build reads (the
 * package.json, the build configs, the folders tsconfig.build.json compiles
 * and those package.json's `files` names), with the checkout's node_modules
 * linked in: two suites packing at once, in two processes, would otherwise
 * delete and rewrite one dist/ under each other, and the checkout keeps no
 * dist/ that a stray resolution could pick up instead of the sources.
 *
 * Temporary folders are removed when the process exits
 * (ATOLL_KEEP_TEMP=1 keeps them, to look at after a failure).
 */
import { execFile } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import ts from 'typescript';

const run = promisify(execFile);
export const REPO = resolve(import.meta.dirname, '../..');

/** Files at the package root that the pack reads (those missing are skipped). */
const ROOT_FILES = ['package.json', 'README.md', 'LICENSE', 'tsconfig.json', 'tsconfig.build.json', 'rollup.config.mjs'];

const temporary: string[] = [];
process.on('exit', () => {
  if (process.env.ATOLL_KEEP_TEMP === '1') return;
  for (const dir of temporary) rmSync(dir, { recursive: true, force: true });
});
function tempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  temporary.push(dir);
  return dir;
}

/** What `npm pack` made. */
export interface PackedAtoll {
  /** The tarball's path. */
  tarball: string;
  /** Its size in bytes (gzip). */
  size: number;
  /** Bytes of the files in it. */
  unpackedSize: number;
  /** The files in it, relative to the package root. */
  files: string[];
  /** Milliseconds `npm pack` took (the prepack build included). */
  ms: number;
}

let packed: Promise<PackedAtoll> | undefined;

/** Packs Atoll once per process; see {@link packAtoll}. */
export function packAtollInfo(): Promise<PackedAtoll> {
  packed ??= (async () => {
    const src = tempDir('atoll-pack-src-');
    const pkg = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as { files?: string[] };
    const build = ts.readConfigFile(join(REPO, 'tsconfig.build.json'), ts.sys.readFile);
    if (build.error !== undefined) throw new Error(ts.flattenDiagnosticMessageText(build.error.messageText, '\n'));
    const folders = [...((build.config as { include?: string[] }).include ?? []), ...(pkg.files ?? [])]
      .filter((f) => !f.startsWith('!'))
      .map((f) => f.replace(/\/+$/, ''))
      .filter((f) => f !== 'dist' && !f.startsWith('dist/'));
    for (const entry of new Set([...ROOT_FILES, ...folders])) {
      if (!existsSync(join(REPO, entry))) continue;
      cpSync(join(REPO, entry), join(src, entry), {
        recursive: true,
        filter: (from) => !/[\\/](node_modules|\.atoll|dist)$/.test(from) || statSync(from).isFile(),
      });
    }
    symlinkSync(join(REPO, 'node_modules'), join(src, 'node_modules'), 'junction');
    const dest = tempDir('atoll-pack-');
    const started = performance.now();
    const { stdout } = await run('npm', ['pack', '--json', '--pack-destination', dest], { cwd: src, maxBuffer: 64 << 20 });
    const ms = performance.now() - started;
    const [info] = JSON.parse(stdout) as Array<{ filename: string; size: number; unpackedSize: number; files: Array<{ path: string }> }>;
    return { tarball: join(dest, info!.filename), size: info!.size, unpackedSize: info!.unpackedSize, files: info!.files.map((f) => f.path), ms };
  })();
  return packed;
}

/** The path of the packed tarball (built once per process). */
export async function packAtoll(): Promise<string> {
  return (await packAtollInfo()).tarball;
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
  const dir = tempDir('atoll-project-');
  writeFileSync(join(dir, 'package.json'), JSON.stringify(options.packageJson ?? { name: 'site', private: true }, null, 2));
  const args = ['install', '--no-audit', '--no-fund', '--loglevel=error', tarball, ...(options.extra ?? [])];
  if (options.omitDev) args.push('--omit=dev');
  await run('npm', args, { cwd: dir, maxBuffer: 64 << 20 });
  return dir;
}
