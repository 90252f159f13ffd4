/**
 * `atoll dev`'s error reports: whatever stopped a generation (a `SiteError`
 * from loading, a rollup error from the client build, anything else) or
 * failed a render becomes a list of {@link DevProblem}s — message,
 * `file:line:col` and a code frame read from the file — for the browser
 * overlay and the terminal.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { isAbsolute, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { types } from 'node:util';
import { formatLocation, SiteError, type SiteProblem } from '../errors.ts';
import { escapeAttr, escapeText } from '../html.ts';
import { unversioned } from '../site/generations.ts';

/** One problem as the overlay shows it. */
export interface DevProblem {
  /** `startup`: the site did not load; `build`: the client build failed; `render`: a request's element failed. */
  kind: 'startup' | 'build' | 'render';
  message: string;
  /** The file as messages show it (relative to the working directory when inside it). */
  file?: string;
  line?: number;
  col?: number;
  /** `file:line:col` (what is known of it). */
  at?: string;
  /** A few lines of the file around `line`, with a caret under `col`. */
  frame?: string;
  /** The element whose render failed (render problems). */
  element?: string;
}

const MAX_FRAME_FILE = 2 * 1024 * 1024;

/** A code frame of `file` around `line` (1-based), or undefined when the file cannot be read. */
export function codeFrame(file: string, line: number, col?: number, context = 2): string | undefined {
  try {
    const path = isAbsolute(file) ? file : resolve(file);
    if (!existsSync(path) || !statSync(path).isFile() || statSync(path).size > MAX_FRAME_FILE) return undefined;
    const lines = readFileSync(path, 'utf8').split(/\r?\n/);
    if (line < 1 || line > lines.length) return undefined;
    const from = Math.max(1, line - context);
    const to = Math.min(lines.length, line + context);
    const width = String(to).length;
    const out: string[] = [];
    for (let n = from; n <= to; n++) {
      const text = lines[n - 1]!.replace(/\t/g, '  ');
      out.push(`${n === line ? '>' : ' '} ${String(n).padStart(width)} | ${text.length > 200 ? text.slice(0, 200) + '…' : text}`);
      if (n === line && col !== undefined && col >= 1) out.push(`  ${' '.repeat(width)} | ${' '.repeat(Math.min(col - 1, 200))}^`);
    }
    return out.join('\n');
  } catch {
    return undefined;
  }
}

/** A path as messages show it. */
function shown(path: string): string {
  const rel = relative(process.cwd(), path);
  return rel === '' || rel.startsWith('..') ? path : rel;
}

function withFrame(p: Omit<DevProblem, 'at' | 'frame'>): DevProblem {
  const out: DevProblem = { ...p };
  if (p.file !== undefined) {
    out.at = formatLocation({ file: p.file, line: p.line, col: p.col });
    if (p.line !== undefined) out.frame = codeFrame(p.file, p.line, p.col);
  }
  return out;
}

/** `file:line:col` written in a message (esbuild, tsx and V8 syntax errors put it there), or undefined. */
function locationInText(text: string): { file: string; line: number; col?: number } | undefined {
  const m = /((?:file:\/\/)?(?:\/|[A-Za-z]:[\\/])[^\s:()'"]+?\.(?:[cm]?[tj]sx?|html|json))(?:\?[^\s:]*)?:(\d+)(?::(\d+))?/.exec(text);
  if (m === null) return undefined;
  const path = m[1]!.startsWith('file:') ? fileURLToPath(m[1]!) : m[1]!;
  return { file: path, line: Number(m[2]), col: m[3] === undefined ? undefined : Number(m[3]) };
}

/** The first stack frame inside the site (not node_modules, not Atoll's own code), or undefined. */
function siteFrame(stack: string, root: string): { file: string; line: number; col: number } | undefined {
  for (const line of stack.split('\n').slice(1, 30)) {
    const m = /((?:file:\/\/)?\/[^\s()]+?)(?:\?[^\s():]*)?:(\d+):(\d+)\)?\s*$/.exec(line);
    if (m === null) continue;
    const path = m[1]!.startsWith('file:') ? fileURLToPath(unversioned(m[1]!)) : m[1]!;
    if (!path.startsWith(root + '/') || /[\\/](node_modules|\.atoll)[\\/]/.test(path) || /[\\/]ssr-server[\\/]/.test(relative(root, path))) continue;
    return { file: path, line: Number(m[2]), col: Number(m[3]) };
  }
  return undefined;
}

/** Problems of a load that failed. */
function fromSiteProblem(p: SiteProblem): DevProblem {
  let { file, line, col } = p;
  // A syntax error names its position in the message ("file:line:col: ERROR: …").
  if (line === undefined) {
    const inText = locationInText(p.message);
    if (inText !== undefined) ({ file, line, col } = { ...inText, file: shown(inText.file) });
  }
  return withFrame({ kind: 'startup', message: p.message, file, line, col });
}

/** What made a generation fail, as problems. */
export function problemsOf(error: unknown, root: string, kind: 'startup' | 'build' = 'startup'): DevProblem[] {
  try {
    if (types.isProxy(error)) return [{ kind, message: 'a Proxy object was thrown (not an Error)' }];
    if (error instanceof SiteError) return error.problems.map(fromSiteProblem);
    const e = error as { message?: unknown; stack?: unknown; loc?: { file?: unknown; line?: unknown; column?: unknown }; id?: unknown; frame?: unknown };
    const message = typeof e?.message === 'string' ? e.message : String(error);
    // Rollup: `loc` (column 0-based) and `frame`.
    if (e?.loc !== undefined && typeof e.loc.line === 'number') {
      const file = typeof e.loc.file === 'string' ? e.loc.file : typeof e.id === 'string' ? e.id : undefined;
      const col = typeof e.loc.column === 'number' ? e.loc.column + 1 : undefined;
      // "[plugin x] ../../path/file.ts: message (…)": the location is shown apart.
      const text = message.replace(/^\[plugin [^\]]+\]\s*/, '').replace(/^\S+\.(?:[cm]?[tj]sx?|json|html):\s+/, '');
      return [withFrame({ kind, message: text, file: file === undefined ? undefined : shown(file), line: e.loc.line, col })];
    }
    const inText = locationInText(message);
    if (inText !== undefined) return [withFrame({ kind, message, file: shown(inText.file), line: inText.line, col: inText.col })];
    const frame = typeof e?.stack === 'string' ? siteFrame(e.stack, root) : undefined;
    if (frame !== undefined) return [withFrame({ kind, message, file: shown(frame.file), line: frame.line, col: frame.col })];
    return [{ kind, message }];
  } catch {
    return [{ kind, message: 'an error that cannot be described' }];
  }
}

/** A render failure from its log line's fields (`element`, `phase`, `err` with `stack`). */
export function renderProblem(fields: Record<string, unknown>, message: string, root: string): DevProblem {
  const err = (fields.err ?? {}) as { message?: unknown; stack?: unknown; name?: unknown };
  const element = typeof fields.element === 'string' ? fields.element : undefined;
  const what = typeof err.message === 'string' ? err.message : typeof fields.message === 'string' ? fields.message : '';
  const phase = typeof fields.phase === 'string' ? ` (${fields.phase})` : '';
  const text = `${element === undefined ? '' : `<${element}>${phase}: `}${what === '' ? message : what}`;
  const frame = typeof err.stack === 'string' ? siteFrame(err.stack, root) : undefined;
  if (frame === undefined) return { kind: 'render', message: text, element };
  return withFrame({ kind: 'render', message: text, element, file: shown(frame.file), line: frame.line, col: frame.col });
}

/** The problems as terminal lines. */
export function formatProblems(problems: readonly DevProblem[]): string {
  return problems.map((p) => `${p.at === undefined ? '' : p.at + ': '}${p.message}${p.frame === undefined ? '' : '\n' + p.frame}`).join('\n') + '\n';
}

/** The markup of the overlay (also rendered by the browser client from the same data). */
export function overlayHtml(problems: readonly DevProblem[]): string {
  const items = problems
    .map(
      (p) =>
        `<section><p class="at">${escapeText(p.at ?? '(no location)')}</p><p class="msg">${escapeText(p.message)}</p>` +
        (p.frame === undefined ? '' : `<pre>${escapeText(p.frame)}</pre>`) +
        '</section>',
    )
    .join('');
  return `<div class="atoll-dev-overlay" data-kind="${escapeAttr(problems[0]?.kind ?? 'startup')}"><h1>${problems.length === 1 ? 'An error' : `${problems.length} errors`} in the site</h1>${items}<p class="hint">Fix the file and save: the page reloads.</p></div>`;
}
