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
import { execFile, spawn } from 'node:child_process';
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

/** The environment of a user's shell: none of this checkout's loader flags, npm script settings or test-runner state. */
export function userEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (k === 'NODE_OPTIONS' || k === 'NODE_TEST_CONTEXT' || /^npm_/i.test(k)) continue;
    env[k] = v;
  }
  return { ...env, NO_COLOR: '1' };
}

/** A command's result: its exit code (-1 when it did not exit by itself) and output. */
export interface ShResult {
  code: number;
  stdout: string;
  stderr: string;
  ms: number;
}

/** Runs a command as a user would (never rejects on a non-zero exit). */
export async function sh(cwd: string, command: string, args: string[], timeoutMs = 90_000): Promise<ShResult> {
  const started = performance.now();
  try {
    const { stdout, stderr } = await run(command, args, { cwd, timeout: timeoutMs, maxBuffer: 64 << 20, env: userEnv() });
    return { code: 0, stdout, stderr, ms: performance.now() - started };
  } catch (e) {
    const err = e as { code?: number | string; stdout?: string; stderr?: string };
    return { code: typeof err.code === 'number' ? err.code : -1, stdout: err.stdout ?? '', stderr: err.stderr ?? String(e), ms: performance.now() - started };
  }
}

/** A server started by {@link startServer}. */
export interface StartedServer {
  /** `http://127.0.0.1:<port>`, as the command printed it. */
  base: string;
  /** Everything it wrote so far. */
  output(): { stdout: string; stderr: string };
  /** SIGTERM (to its whole process group when started through npm), then its exit. */
  stop(): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/**
 * Starts `atoll serve`/`atoll dev` (directly or through `npm run`, with
 * `--port 0`) and resolves once it printed its URL and `readyPath` answers
 * 200 (`atoll serve` listens before its site is loaded and says when it is
 * ready at `/_atoll/health`; `atoll dev` answers pages 503 until then).
 * Through npm the server is a grandchild: it runs in its own process group
 * so that `stop` reaches it.
 */
export async function startServer(cwd: string, command: string, args: string[], readyPath = '/_atoll/health', startMs = 60_000): Promise<StartedServer> {
  const group = command === 'npm';
  const child = spawn(command, args, { cwd, env: userEnv(), stdio: ['ignore', 'pipe', 'pipe'], detached: group });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d));
  child.stderr.on('data', (d: Buffer) => (stderr += d));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((res) => child.on('exit', (code, signal) => res({ code, signal })));
  const stop = async (): Promise<{ code: number | null; signal: NodeJS.Signals | null }> => {
    try {
      if (group) process.kill(-child.pid!, 'SIGTERM');
      else child.kill('SIGTERM');
    } catch {}
    return exited;
  };
  try {
    const base = await new Promise<string>((res, rej) => {
      const timer = setTimeout(() => rej(new Error(`${args.join(' ')} did not print its URL in ${startMs} ms:\n${stdout}\n${stderr}`)), startMs);
      const look = (): void => {
        const m = /http:\/\/127\.0\.0\.1:\d+/.exec(stdout + stderr);
        if (m) {
          clearTimeout(timer);
          res(m[0]);
        }
      };
      child.stdout.on('data', look);
      child.stderr.on('data', look);
      void exited.then(() => rej(new Error(`${args.join(' ')} exited:\n${stdout}\n${stderr}`)));
    });
    // It listens before the site is loaded: wait until it is ready.
    for (let waited = 0; ; waited += 200) {
      const ready = await fetch(`${base}${readyPath}`).catch(() => undefined);
      await ready?.text();
      if (ready?.status === 200) break;
      if (waited > startMs) throw new Error(`${args.join(' ')} never became ready:\n${stdout}\n${stderr}`);
      await new Promise((r) => setTimeout(r, 200));
    }
    return { base, output: () => ({ stdout, stderr }), stop };
  } catch (e) {
    await stop();
    throw e;
  }
}
