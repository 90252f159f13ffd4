/**
 * What the benches that compare servers of their own (`bench:redis`,
 * `bench:deploys`) share: starting one server per variant as a child
 * process that prints its URL, the numbers' formatting, the commit, and
 * writing a results section between a bench's markers in docs/benchmarks.md.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from './page.ts';
import type { Summary } from './stats.ts';

/** Runs `script` (through tsx) with `args`; resolves with the child and the first line it prints (the server's URL). */
export async function startServerChild(script: string, args: readonly string[], label: string): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', script, ...args], { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('\n')) resolve(out.split('\n')[0]!.trim());
    });
    child.once('exit', (code) => reject(new Error(`${label} server exited with ${code}`)));
  });
  return { child, url };
}

export const fmt = (n: number, digits = 1): string => (Number.isFinite(n) ? n.toFixed(digits) : '—');
/** A median with its min–max. */
export const spread = (s: Summary, digits = 1): string => `${fmt(s.median, digits)} (${fmt(s.min, digits)}–${fmt(s.max, digits)})`;

/** The checkout's short commit (or `unknown`). */
export function gitHead(): string {
  try {
    return execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: REPO_ROOT, encoding: 'utf8' }).trim();
  } catch {
    return 'unknown';
  }
}

/** Replaces what is between `begin` and `end` in docs/benchmarks.md with `markdown`. */
export function writeDocsSection(begin: string, end: string, markdown: string): void {
  const file = join(REPO_ROOT, 'docs', 'benchmarks.md');
  const text = readFileSync(file, 'utf8');
  const from = text.indexOf(begin);
  const to = text.indexOf(end);
  if (from < 0 || to < from) throw new Error(`docs/benchmarks.md has no ${begin} … ${end} markers`);
  writeFileSync(file, text.slice(0, from + begin.length) + `\n${markdown}\n` + text.slice(to));
}

/** SIGTERM to every server child, resolved when all have exited. */
export async function stopServerChildren(children: readonly ChildProcess[]): Promise<void> {
  for (const c of children) c.kill('SIGTERM');
  await Promise.all(children.map((c) => (c.exitCode !== null ? undefined : new Promise((r) => c.once('exit', r)))));
}
