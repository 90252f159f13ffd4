/**
 * The client build in a child process, for the builds a server runs at
 * start-up (`atoll serve` with a missing or stale build, `createAtoll` with
 * `client.build`). Rollup, its plugins and what they allocate (~110 MB that
 * V8 keeps once it has it) would otherwise stay in the serving process for
 * its lifetime; here they go when the child exits, and the server reads only
 * the manifest and the files the child wrote.
 *
 * The child (`build-child.mjs`) runs the same build module as `atoll build`
 * (the checkout's `build.ts` through tsx, the package's compiled `build.js`)
 * with the parent's export conditions and memory flags. Its errors come back
 * as the same error (name, message, stack, rollup's `loc`/`frame`/`id`/…),
 * its output is logged line by line, and a child that dies is an error that
 * says how (exit code or signal) with its last output. A child never
 * outlives its parent: the parent kills it when it exits, and the child
 * exits when its IPC channel to the parent closes (a signal or crash of the
 * parent, even SIGKILL).
 */
import { fork, type ChildProcess } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { SiteError, type SiteProblem } from '../errors.ts';
import type { Logger } from '../log.ts';
import type { ElementRegistry } from '../site/registry.ts';
import type { ClientManifest } from './manifest.ts';

/** What a build in a child process gives back. */
export interface ChildBuild {
  manifest: ClientManifest;
  /** Milliseconds the build itself took (in the child). */
  ms: number;
  /** The child's process id. */
  pid: number;
}

/** Lines of the child's output logged at most (a chatty plugin must not flood the server's log). */
const MAX_LOGGED_LINES = 200;
/** Characters of one output line logged at most. */
const MAX_LINE = 2000;
/** Characters of the child's last output kept for the error when it dies. */
const TAIL = 4000;
/** How long a build child's death by SIGINT waits before it fails the build (see the exit handler). */
export const SIGINT_GRACE_MS = 250;

/**
 * The flags of this process that the child needs to build the same way:
 * export conditions (`--conditions`/`-C`, e.g. the checkout's
 * `atoll-source`), symlink resolution, heap limits, source maps, warnings.
 * Not the rest: `--import`/`--loader` preloads (the child registers what it
 * needs itself; tsx twice costs ~0.6 s), inspector ports, test-runner flags.
 * Flags in `NODE_OPTIONS` reach the child anyway, with the environment.
 */
export function childExecArgv(execArgv: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < execArgv.length; i++) {
    const arg = execArgv[i]!;
    if (arg === '--conditions' || arg === '-C') {
      if (i + 1 < execArgv.length) out.push(arg, execArgv[++i]!);
    } else if (
      /^(--conditions|-C)=/.test(arg) ||
      /^--(max-old-space-size|max-semi-space-size|stack-size)=\d+$/.test(arg) ||
      /^--(preserve-symlinks|preserve-symlinks-main|enable-source-maps|no-warnings|no-deprecation|throw-deprecation|trace-warnings)$/.test(arg) ||
      /^--disable-warning=/.test(arg)
    ) {
      out.push(arg);
    }
  }
  return out;
}

/**
 * How many build children one process runs at once (default: one per core);
 * more wait their turn. Several sites started together (a test runner's
 * config, a program serving many sites) would otherwise start as many
 * ~350 MB processes competing for the same cores. @internal (tests set it)
 */
export const childBuilds = { limit: Math.max(1, availableParallelism()) };
let active = 0;
const queue: Array<() => void> = [];
async function slot(): Promise<() => void> {
  if (active >= childBuilds.limit) await new Promise<void>((r) => queue.push(r));
  active++;
  let released = false;
  return () => {
    if (released) return;
    released = true;
    active--;
    queue.shift()?.();
  };
}

/** Children still running, killed when this process exits (one `exit` listener for all). */
const running = new Set<ChildProcess>();
let exitHookInstalled = false;
function track(child: ChildProcess): void {
  running.add(child);
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const c of running) c.kill('SIGKILL');
  });
}

/** An error from the child, rebuilt as the error the build threw (the child's stack, rollup's fields). */
function rebuildError(fields: Record<string, unknown>): Error {
  const message = String(fields.message ?? 'the client build failed');
  if (fields.name === 'SiteError' && Array.isArray(fields.problems)) {
    const err = new SiteError(fields.problems as SiteProblem[]);
    if (typeof fields.stack === 'string') err.stack = fields.stack;
    return err;
  }
  const err = new Error(message) as Error & Record<string, unknown>;
  for (const [key, value] of Object.entries(fields)) {
    if (key !== 'name' && key !== 'message' && key !== 'stack' && key !== 'thrown') err[key] = value;
  }
  err.name = typeof fields.name === 'string' ? fields.name : 'Error';
  // A thrown non-Error value had no stack: shown as itself, as when the build ran in-process.
  err.stack = typeof fields.stack === 'string' ? fields.stack : fields.thrown === 'value' ? message : `${err.name}: ${message}`;
  return err;
}

/**
 * Builds the client side of `site` into `outDir` in a child process. Resolves
 * once the child has written the build (files and manifest); rejects with
 * the build's error, or with an error naming the child's exit code or signal
 * (and its last output) when it dies first. `onStart` gets the child's pid
 * once it is started. At most {@link childBuilds}`.limit` children run at
 * once; the slot is given back when the result arrives (the child exits by
 * itself right after).
 */
export async function buildInChild(
  site: { root: string; registry: ElementRegistry },
  outDir: string,
  logger: Logger,
  onStart?: (pid: number) => void,
): Promise<ChildBuild> {
  const release = await slot();
  try {
    return await runChild(site, outDir, logger, onStart);
  } finally {
    release();
  }
}

function runChild(
  site: { root: string; registry: ElementRegistry },
  outDir: string,
  logger: Logger,
  onStart?: (pid: number) => void,
): Promise<ChildBuild> {
  return new Promise<ChildBuild>((resolvePromise, reject) => {
    const ts = import.meta.url.endsWith('.ts');
    const runner = fileURLToPath(new URL('./build-child.mjs', import.meta.url));
    const buildModule = new URL(ts ? './build.ts' : './build.js', import.meta.url).href;
    const env = { ...process.env };
    // In a cluster worker, the child would take itself for one.
    delete env.NODE_UNIQUE_ID;
    const child = fork(runner, [buildModule, ts ? 'tsx' : 'plain'], {
      execArgv: childExecArgv(process.execArgv),
      env,
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
      serialization: 'advanced',
    });
    track(child);
    const pid = child.pid ?? 0;
    if (child.pid !== undefined) onStart?.(pid);
    let settled = false;
    const settle = (fn: () => void): void => {
      if (settled) return;
      settled = true;
      fn();
    };

    // Output: logged line by line (stdout and stderr alike: the server's stdout is for its address line), the end kept for errors.
    let tail = '';
    let logged = 0;
    const output = (stream: 'stdout' | 'stderr'): ((chunk: Buffer) => void) => {
      let partial = '';
      return (chunk) => {
        const text = chunk.toString('utf8');
        tail = (tail + text).slice(-TAIL);
        const lines = (partial + text).split('\n');
        partial = lines.pop()!.slice(-MAX_LINE);
        for (const line of lines) {
          if (line.trim() === '') continue;
          logged++;
          if (logged <= MAX_LOGGED_LINES) logger.warn({ pid, stream, line: line.slice(0, MAX_LINE) }, 'client build process output');
          else if (logged === MAX_LOGGED_LINES + 1) logger.warn({ pid }, 'client build process output: further lines not logged');
        }
      };
    };
    child.stdout!.on('data', output('stdout'));
    child.stderr!.on('data', output('stderr'));

    child.on('message', (m: { ready?: true; ok?: boolean; manifest?: ClientManifest; ms?: number; error?: Record<string, unknown> }) => {
      if (m.ready === true) {
        // Definitions without their hook functions (they cannot cross, and the build does not need them).
        const registry = [...site.registry].map(([tag, def]) => [
          tag,
          { ...Object.fromEntries(Object.entries(def).filter(([, v]) => typeof v !== 'function')), hooks: {} },
        ]);
        try {
          child.send({ root: site.root, registry, outDir });
        } catch (e) {
          child.kill('SIGKILL');
          settle(() => reject(new Error(`the client build process could not be given the site: ${(e as Error).message}`)));
        }
      } else if (m.ok === true && m.manifest !== undefined) {
        settle(() => resolvePromise({ manifest: m.manifest!, ms: m.ms ?? 0, pid }));
      } else if (m.ok === false) {
        settle(() => reject(rebuildError(m.error ?? {})));
      }
    });
    child.on('error', (e) => {
      settle(() => reject(new Error(`the client build process could not be started or reached: ${e.message}`)));
    });
    child.on('exit', (code, signal) => {
      running.delete(child);
      const how = signal !== null
        ? `was killed by ${signal}${signal === 'SIGKILL' ? ' (by another process, or by the kernel when memory ran out)' : ''}`
        : `exited with code ${code}`;
      const last = tail.trim();
      const fail = (): void => settle(() => reject(new Error(`the client build process (pid ${pid}) ${how} before the build finished${last === '' ? '' : `; its last output:\n${last}`}`)));
      // Ctrl-C in a terminal sends SIGINT to the whole process group: this
      // process gets it too, and stops cleanly if its handler runs first. The
      // child's exit can be seen first (a loaded machine): the failure waits
      // a moment, so that a stop is a stop, not a failed build.
      if (signal === 'SIGINT') setTimeout(fail, SIGINT_GRACE_MS);
      else fail();
    });
  });
}
