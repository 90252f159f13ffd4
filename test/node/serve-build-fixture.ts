/**
 * What the tests of the client build in a child process share
 * (serve-build.test.ts here, test/slow/serve-build.test.ts): a preload for
 * NODE_OPTIONS (`--import`) that, in the serving process, registers a module
 * resolve hook recording every rollup module resolved (env `SB_RECORD_SERVER`:
 * the file) — a test fails if rollup is imported in-process — and does the
 * same in the build child (`SB_RECORD_CHILD`: there it must see rollup, which
 * shows the hook would catch it); in the child it can also kill it, make it
 * exit 3, or hold its build for a minute (env `SB_CHILD`: kill, exit, slow).
 * And `atoll serve` in a child process with that preload.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { layout, litElement, repoRoot } from '../helpers.ts';

const hooks = mkdtempSync(join(tmpdir(), 'atoll-serve-build-hooks-'));
writeFileSync(
  join(hooks, 'preload.mjs'),
  `import { register } from 'node:module';
import { isMainThread } from 'node:worker_threads';
// The role of a worker thread (rollup's terser plugin starts some in the child) is its process's.
const child = isMainThread ? /build-child\\.mjs$/.test(process.argv[1] ?? '') : process.env.SB_ROLE === 'child';
if (isMainThread) process.env.SB_ROLE = child ? 'child' : 'server';
const record = child ? process.env.SB_RECORD_CHILD : process.env.SB_RECORD_SERVER;
if (record) register(new URL('./record.mjs', import.meta.url), { data: { record } });
if (child && isMainThread) {
  const mode = process.env.SB_CHILD;
  if (mode === 'kill') {
    process.stderr.write('child: going down\\n');
    process.kill(process.pid, 'SIGKILL');
  } else if (mode === 'exit') {
    process.stderr.write('child: exiting with 3\\n');
    process.exit(3);
  } else if (mode === 'slow') {
    register(new URL('./slow.mjs', import.meta.url));
  }
}
`,
);
writeFileSync(
  join(hooks, 'record.mjs'),
  `import { appendFileSync } from 'node:fs';
let record;
export function initialize(data) { record = data.record; }
const BUILD_ONLY = /\\/node_modules\\/(rollup|@rollup\\/[^/]+|rollup-plugin-esbuild)\\//;
export async function resolve(specifier, context, next) {
  const resolved = await next(specifier, context);
  if (BUILD_ONLY.test(resolved.url)) appendFileSync(record, resolved.url + '\\n');
  return resolved;
}
`,
);
// Holds the build module's load for a minute (in the loader thread: the child's main thread stays responsive).
writeFileSync(
  join(hooks, 'slow.mjs'),
  `export async function load(url, context, next) {
  if (/\\/build\\/build\\.(ts|js)$/.test(url)) await new Promise((r) => setTimeout(r, 60_000));
  return next(url, context);
}
`,
);
export const preload = `--import=${pathToFileURL(join(hooks, 'preload.mjs')).href}`;
export const nodeOptions = `${process.env.NODE_OPTIONS ?? ''} ${preload}`.trim();

/** A Lit element `tag` that renders `text`. */
export const card = (tag: string, text: string): string => litElement(tag, `return html\`<p>${text}</p>\`;`);
/** A site with one element `tag` (its text: `card one`) and `extra` files. */
export const siteFiles = (tag: string, extra: Record<string, string> = {}): Record<string, string> => ({
  'layouts/index.html': layout(`<${tag} hydrate="load"></${tag}>`).replace('</head>', '<atoll-head></atoll-head></head>'),
  [`elements/${tag}.ts`]: card(tag, 'card one'),
  ...extra,
});

export interface Served {
  child: ChildProcess;
  output: () => string;
  /** Resolves with the first match of `re` in the output (stdout and stderr). */
  waitFor: (re: RegExp, ms?: number) => Promise<RegExpExecArray>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/**
 * `atoll serve` in a child process, with the preload and `env`; `group`: in
 * a process group of its own (`process.kill(-pid, …)` then signals it and
 * its children, as a terminal's Ctrl-C does).
 */
export function serve(args: string[], env: Record<string, string> = {}, group = false): Served {
  const child = spawn(process.execPath, [join(repoRoot, 'bin', 'atoll.mjs'), 'serve', '--port', '0', ...args], {
    cwd: repoRoot,
    detached: group,
    env: { ...process.env, NODE_OPTIONS: nodeOptions, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const waiting = new Set<() => void>();
  const onData = (d: Buffer): void => {
    out += d;
    for (const check of waiting) check();
  };
  child.stdout!.on('data', onData);
  child.stderr!.on('data', onData);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  return {
    child,
    output: () => out,
    exited,
    waitFor: (re, ms = 30_000) =>
      new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          waiting.delete(check);
          reject(new Error(`no ${re} within ${ms} ms; output:\n${out}`));
        }, ms);
        const check = (): void => {
          const m = re.exec(out);
          if (m === null) return;
          clearTimeout(timer);
          waiting.delete(check);
          resolve(m);
        };
        waiting.add(check);
        check();
        void exited.then(() => setTimeout(check, 50));
      }),
  };
}

export const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

/** Waits until `pid` is gone (true) or `ms` passed (false). */
export async function gone(pid: number, ms = 3000): Promise<boolean> {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    if (!alive(pid)) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return !alive(pid);
}

export const lines = (file: string): string[] => (existsSync(file) ? readFileSync(file, 'utf8').split('\n').filter(Boolean) : []);
