/** Reads a V8 CPU profile and sums self time per function and per module. */
import { readFileSync } from 'node:fs';
import { REPO_ROOT } from './page.ts';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

export interface SelfTime {
  name: string;
  ms: number;
  /** Share of the time the process was not idle. */
  share: number;
}

export interface ProfileSummary {
  busyMs: number;
  functions: SelfTime[];
  modules: SelfTime[];
}

const IDLE = '(idle)';

export function summarizeProfile(file: string, top = 10): ProfileSummary {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parentOf = new Map<number, ProfileNode>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parentOf.set(c, n);
  const fn = new Map<string, number>();
  const mod = new Map<string, number>();
  let busy = 0;
  profile.samples.forEach((id, i) => {
    const frame = byId.get(id)!.callFrame;
    const us = profile.timeDeltas[i] ?? 0;
    // V8 shows native code (e.g. flattening a string in Buffer.byteLength) as a nameless frame.
    const name = frame.functionName || (frame.url ? '(anonymous)' : `(native, in ${parentOf.get(id)?.callFrame.functionName || '?'})`);
    if (name === IDLE) return;
    busy += us;
    const where = shortUrl(frame.url);
    add(fn, where ? `${name}  ${where}:${frame.lineNumber + 1}` : name, us);
    add(mod, where || name, us);
  });
  const rank = (m: Map<string, number>): SelfTime[] =>
    [...m].sort((a, b) => b[1] - a[1]).slice(0, top).map(([name, us]) => ({ name, ms: us / 1000, share: us / busy }));
  return { busyMs: busy / 1000, functions: rank(fn), modules: rank(mod) };
}

function add(m: Map<string, number>, key: string, us: number): void {
  m.set(key, (m.get(key) ?? 0) + us);
}

function shortUrl(url: string): string {
  const root = `file://${REPO_ROOT}/`;
  return url.startsWith(root) ? url.slice(root.length) : url.replace(/^node:/, 'node:');
}
