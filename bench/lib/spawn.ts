/**
 * The driver's side of a server process: start it, read its announcement,
 * forward its stderr, stop it (and wait, so its profile is written).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { Announcement } from './child.ts';
import { BENCH_DIR, REPO_ROOT } from './page.ts';
import type { PageName } from './page.ts';
import type { ScenarioName } from './scenarios.ts';
import type { ServerSpec } from './servers.ts';

export interface RunningChild {
  url: string;
  pid: number;
  stop(): Promise<void>;
}

export type Started = { kind: 'running'; child: RunningChild } | { kind: 'unsupported'; reason: string };

const STARTUP_TIMEOUT_MS = 60_000;
const live = new Set<ChildProcess>();
process.once('exit', () => {
  for (const c of live) c.kill('SIGKILL');
});

export interface StartOptions {
  pageFile: string;
  /** Where to write a CPU profile of the serving phase. */
  profileFile?: string;
  /** For a `before` server: the checkout whose engine it runs. */
  engineDir?: string;
  /** Atoll's engine compiled (`dist/`) or from its sources (see `BenchOptions.engine`). */
  engine: 'compiled' | 'source';
}

export async function startServer(spec: ServerSpec, page: PageName, scenario: ScenarioName, options: StartOptions): Promise<Started> {
  const proc = spawn(process.execPath, ['--import', 'tsx', join(BENCH_DIR, 'servers', spec.file)], {
    cwd: REPO_ROOT,
    env: {
      ...process.env,
      ...spec.env,
      BENCH_PAGE: page,
      BENCH_SCENARIO: scenario,
      BENCH_PAGE_FILE: options.pageFile,
      BENCH_CPU_PROFILE: options.profileFile ?? '',
      BENCH_ATOLL_ENGINE: (spec.before && options.engineDir) || '',
      BENCH_ENGINE: options.engine,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  live.add(proc);
  const exited = new Promise<number | null>((resolve) => proc.once('exit', (code) => {
    live.delete(proc);
    resolve(code);
  }));
  let stderrTail = '';
  createInterface({ input: proc.stderr! }).on('line', (line) => {
    stderrTail = (stderrTail + line + '\n').slice(-4000);
    process.stderr.write(`  [${spec.name}] ${line}\n`);
  });
  const lines = createInterface({ input: proc.stdout! });
  const first = new Promise<string>((resolve) => lines.once('line', resolve));
  let timer: ReturnType<typeof setTimeout> | undefined;
  const outcome = await Promise.race([
    first.then((line) => ({ line })),
    exited.then((code) => ({ exit: code })),
    new Promise<{ timeout: true }>((resolve) => {
      timer = setTimeout(() => resolve({ timeout: true }), STARTUP_TIMEOUT_MS);
    }),
  ]);
  clearTimeout(timer);
  if (!('line' in outcome)) {
    proc.kill('SIGKILL');
    const why = 'timeout' in outcome ? `did not start within ${STARTUP_TIMEOUT_MS / 1000} s` : `exited with code ${outcome.exit}`;
    throw new Error(`${spec.name} ${why}\n${stderrTail}`);
  }
  lines.on('line', (line) => process.stderr.write(`  [${spec.name}] ${line}\n`));
  const announcement = JSON.parse(outcome.line) as Announcement;
  if ('unsupported' in announcement) {
    await exited;
    return { kind: 'unsupported', reason: announcement.unsupported };
  }
  const stop = async (): Promise<void> => {
    if (proc.exitCode !== null || proc.signalCode !== null) return;
    proc.kill('SIGTERM');
    const killer = setTimeout(() => proc.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(killer);
  };
  return { kind: 'running', child: { url: announcement.url, pid: proc.pid!, stop } };
}
