/**
 * `atoll serve --workers N`: the server is stateless, so scaling to every
 * core is N copies of it behind one port (node:cluster). The primary checks
 * the site and runs the client build once, then forks the workers, restarts
 * one that dies (at most once a second), and on SIGINT or SIGTERM lets
 * every worker drain its responses in flight before it stops.
 */
import cluster, { type Worker } from 'node:cluster';
import { availableParallelism } from 'node:os';

/** Parses `--workers` (`auto` = one per core); undefined when it is not a count. */
export function workerCount(value: string | undefined): number | undefined {
  if (value === undefined) return 1;
  if (value === 'auto') return availableParallelism();
  const n = Number(value);
  return Number.isInteger(n) && n >= 1 && n <= 256 ? n : undefined;
}

/** True in a process forked by {@link runPrimary}. */
export const isWorker = (): boolean => cluster.isWorker;

/**
 * Runs the primary: forks `count` workers running the same command line,
 * prints the address once all of them listen, and resolves when all
 * have stopped after a signal.
 *
 * On SIGTERM or SIGINT the primary forwards SIGTERM to every worker, and
 * each drains as a single server does (no new connections, the responses
 * in flight finish). A worker still running `drainMs` plus a grace second
 * later is killed. A second signal kills them all at once.
 */
export function runPrimary(count: number, describe: (address: string) => string, options: { drainMs?: number } = {}): Promise<void> {
  let stopping = false;
  let listening = 0;
  let lastRestart = 0;
  // Announced once every worker listens (each listens only once its site is loaded).
  cluster.on('listening', (_worker, address) => {
    if (++listening !== count) return;
    const host = address.address === undefined || address.address === null ? '127.0.0.1' : address.address;
    const shown = host.includes(':') ? `[${host}]` : host;
    process.stdout.write(`${describe(`http://${shown}:${address.port}`)} (${count} workers)\n`);
  });
  cluster.on('exit', (worker, code, signal) => {
    if (stopping) return;
    process.stderr.write(`atoll serve: worker ${worker.process.pid} stopped (${signal ?? code}); starting another\n`);
    const wait = Math.max(0, lastRestart + 1000 - Date.now());
    lastRestart = Date.now() + wait;
    setTimeout(() => cluster.fork(), wait).unref();
  });
  for (let i = 0; i < count; i++) cluster.fork();
  return new Promise((resolve) => {
    const workers = (): Worker[] => Object.values(cluster.workers ?? {}).filter((w): w is Worker => w !== undefined);
    const stop = (): void => {
      if (stopping) {
        for (const w of workers()) w.process.kill('SIGKILL');
        return;
      }
      stopping = true;
      const running = workers().filter((w) => !w.isDead());
      let left = running.length;
      if (left === 0) {
        resolve();
        return;
      }
      const killer = setTimeout(() => {
        for (const w of running) if (!w.isDead()) w.process.kill('SIGKILL');
      }, (options.drainMs ?? 10_000) + 1000);
      for (const w of running) {
        w.once('exit', () => {
          if (--left === 0) {
            clearTimeout(killer);
            resolve();
          }
        });
        // Not `w.kill()`: that disconnects the worker first, and a worker
        // whose IPC channel closes exits at once, cutting its responses off.
        w.process.kill('SIGTERM');
      }
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
}
