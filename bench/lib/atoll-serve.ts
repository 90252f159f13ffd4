/**
 * `atoll serve` as a child process for the browser benches: the real command
 * (argument parsing, the Node adapter, compression, asset serving, the
 * client build) rather than `createAtoll` + `listen` in the bench's own
 * process, whose event loop would also run puppeteer.
 *
 * - `engine: 'source'` runs `bin/atoll.mjs`, which in a checkout runs the
 *   TypeScript sources through tsx (what `npm start` does);
 * - `engine: 'compiled'` runs the compiled CLI in `dist/` as the published
 *   package does (build it first: `npm run build:package`).
 *
 * The client build goes to `outDir` (a temporary folder of the bench, so the
 * repository's `.atoll/client` — which other benches and tests share — is
 * not rewritten). Resolves once `GET /_atoll/health` answers ready.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { freePort } from './net.ts';
import { REPO_ROOT } from './page.ts';

export interface AtollServe {
  /** Base URL, e.g. `http://127.0.0.1:43817`. */
  url: string;
  pid: number;
  /** SIGTERM, then SIGKILL after 10 s; resolves when the process is gone. */
  stop(): Promise<void>;
}

export interface AtollServeOptions {
  root: string;
  outDir: string;
  engine: 'source' | 'compiled';
  /** Extra CLI arguments (e.g. `['--config', file]`). */
  args?: readonly string[];
  /** How long the start (with a client build) may take (default 180 s). */
  timeoutMs?: number;
}

const live = new Set<ChildProcess>();
process.once('exit', () => {
  for (const c of live) c.kill('SIGKILL');
});

export async function startAtollServe(options: AtollServeOptions): Promise<AtollServe> {
  const port = await freePort();
  const cliArgs = ['serve', '--root', options.root, '--out', options.outDir, '--port', String(port), '--host', '127.0.0.1', '--quiet', ...(options.args ?? [])];
  let argv: string[];
  if (options.engine === 'source') {
    argv = [join(REPO_ROOT, 'bin', 'atoll.mjs'), ...cliArgs];
  } else {
    const cli = join(REPO_ROOT, 'dist', 'ssr-server', 'cli.js');
    if (!existsSync(cli)) throw new Error(`no compiled engine at ${cli}: run \`npm run build:package\` first (or use the source engine)`);
    // What bin/atoll.mjs does for an installed package: tsx's loader for the site's TypeScript modules, then the compiled CLI.
    const code = `process.setSourceMapsEnabled(true); const { main } = await import(${JSON.stringify(pathToFileURL(cli).href)}); process.exitCode = await main(${JSON.stringify(cliArgs)}, { standalone: true });`;
    argv = ['--import', 'tsx', '--input-type=module', '-e', code];
  }
  const child = spawn(process.execPath, argv, { cwd: options.root, stdio: ['ignore', 'pipe', 'pipe'] });
  live.add(child);
  let output = '';
  const keep = (d: Buffer): void => void (output = (output + d.toString()).slice(-10_000));
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  const exited = new Promise<number | null>((resolve) =>
    child.once('exit', (code) => {
      live.delete(child);
      resolve(code);
    }),
  );
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + (options.timeoutMs ?? 180_000);
  let gone = false;
  void exited.then(() => (gone = true));
  for (;;) {
    if (gone) throw new Error(`atoll serve exited with ${child.exitCode} before it was ready:\n${output}`);
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`atoll serve was not ready within ${(options.timeoutMs ?? 180_000) / 1000} s:\n${output}`);
    }
    const status = await fetch(`${url}/_atoll/health`).then((r) => r.status, () => 0);
    if (status === 200) break;
    await new Promise((r) => setTimeout(r, 250));
  }
  return {
    url,
    pid: child.pid!,
    stop: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const killer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(killer);
    },
  };
}
