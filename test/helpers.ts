/**
 * Shared test helpers: start a site on 127.0.0.1 with real HTTP, make
 * throw-away site folders, run the CLI, and parse HTML with happy-dom.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createAtoll, listen, memoryLogger, type Atoll, type AtollOptions } from '../ssr-server/index.ts';

export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const fixture = (name: string): string => join(repoRoot, 'test', 'fixtures', name);

/** A site served on a free port of 127.0.0.1, with its log lines in memory. */
export interface TestServer {
  atoll: Atoll;
  url: string;
  logs: ReturnType<typeof memoryLogger>['lines'];
  get(path: string, init?: RequestInit): Promise<Response>;
  close(): Promise<void>;
}

export async function serveSite(options: AtollOptions): Promise<TestServer> {
  const logger = memoryLogger();
  const atoll = await createAtoll({ logger, ...options });
  const running = await listen(atoll, { port: 0, host: '127.0.0.1' });
  return {
    atoll,
    url: running.url,
    logs: logger.lines,
    get: (path, init) => fetch(running.url + path, { redirect: 'manual', ...init }),
    close: () => running.close(),
  };
}

/** Writes `files` (path → content) into a new temporary folder; returns its path. */
export function makeSite(files: Record<string, string>): string {
  const root = mkdtempSync(join(tmpdir(), 'atoll-site-'));
  for (const [path, content] of Object.entries(files)) {
    const full = join(root, path);
    mkdirSync(dirname(full), { recursive: true });
    writeFileSync(full, content);
  }
  return root;
}

/** A minimal Lit element module defining `tag`. */
export const litElement = (tag: string, body = `return html\`<p>${tag}</p>\`;`): string => `
import { LitElement, html } from 'lit';
class El extends LitElement {
  render() { ${body} }
}
customElements.define('${tag}', El);
`;

/** A minimal layout wrapping `body`. */
export const layout = (body: string): string =>
  `<!doctype html>\n<html lang="en">\n<head><meta charset="utf-8"><title>t</title></head>\n<body>\n${body}\n</body>\n</html>\n`;

/** Runs the CLI in a child process. */
export function runCli(args: string[], options: { cwd?: string; env?: Record<string, string>; timeoutMs?: number } = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, [join(repoRoot, 'bin', 'atoll.mjs'), ...args], {
      cwd: options.cwd ?? repoRoot,
      env: { ...process.env, ...options.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d));
    child.stderr.on('data', (d: Buffer) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 30_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolvePromise({ code, stdout, stderr });
    });
  });
}

/** The declarative shadow root template of a host element, if any. */
export function shadowTemplate(host: Element): HTMLTemplateElement | null {
  const t = host.firstElementChild;
  return t !== null && t.localName === 'template' && t.getAttribute('shadowrootmode') === 'open' ? (t as HTMLTemplateElement) : null;
}

/** A small deterministic generator (mulberry32) for seeded test input: numbers in [0, 1). */
export function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
