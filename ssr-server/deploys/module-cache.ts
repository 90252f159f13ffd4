/**
 * Independent deploys (SPEC 9c): every server module of an import map as a
 * local file a generation can import. `file:` modules are used where they
 * are; `http(s)` ones (allowed origins only) are downloaded once into
 * `<cacheDir>/<sha256(url)>.mjs` — a URL names one immutable version, so a
 * file in the cache is never fetched again, by this process or the next.
 * Writes are atomic (a temporary file renamed into place), concurrent
 * prepares of one URL share one download, and a small in-memory index
 * remembers what is on disk. See docs/deploys.md, "Loading modules".
 *
 * The cache folder defaults to `<root>/.atoll/deploys`, inside the site:
 * bare imports of a downloaded module (`lit`, `atoll-ssr`, the site's
 * packages) then resolve as the site's own modules do (site/resolve-hooks.mjs).
 * A server module must be one file: a relative import in a downloaded one
 * is refused here, with its line and column.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { lineCol } from '../errors.ts';
import { errorMessage, fetchBounded, originNotAllowed } from './import-map.ts';
import type { PreparedModules, ServerImportMap } from './types.ts';

/** Largest server module downloaded unless told otherwise (bytes). */
export const DEFAULT_MODULE_MAX_BYTES = 8 * 1024 * 1024;
/** How long one download may take unless told otherwise (ms). */
export const DEFAULT_MODULE_TIMEOUT_MS = 30_000;
/** The cache folder, relative to the site, unless the config says otherwise (`deploys.cacheDir`). */
export const DEFAULT_CACHE_DIR = '.atoll/deploys';

/** Options for {@link prepareModules}. */
export interface PrepareOptions {
  /** The cache folder (absolute, or relative to the working directory: pass `resolve(root, deploys.cacheDir)`). */
  cacheDir: string;
  /** Origins allowed over `http(s)` (`deploys.allow`). */
  allow: readonly string[];
  /** One download's time limit (default 30 s). */
  timeoutMs?: number;
  /** Largest module (default 8 MiB). */
  maxBytes?: number;
  /** Cancels the downloads this call waits for (a download other callers share goes on). */
  signal?: AbortSignal;
}

/** A server module that could not be prepared: the message names the tag and the URL. */
export class ModulePrepareError extends Error {
  constructor(message: string, readonly tag: string, readonly url: string) {
    super(message);
    this.name = 'ModulePrepareError';
  }
}

/** Downloads finished or under way, by cache file: one per URL and folder in this process. */
const index = new Map<string, Promise<string>>();

/** The cache file of `url` in `cacheDir`. */
export function cacheFile(cacheDir: string, url: string): string {
  return join(resolve(cacheDir), createHash('sha256').update(url).digest('hex') + '.mjs');
}

/**
 * Makes every server module of `map` a local file: tag → absolute path.
 * Rejects with a {@link ModulePrepareError} for the first module that
 * cannot be had (a missing file, a disallowed origin, a failed, oversized
 * or slow download, a relative import or a syntax error in it); the others
 * still finish (and stay cached) in the background.
 */
export async function prepareModules(map: ServerImportMap, options: PrepareOptions): Promise<PreparedModules> {
  const entries = Object.entries(map.elements);
  const files = await Promise.all(entries.map(([tag, entry]) => prepareOne(tag, entry.server, options)));
  const out: Record<string, string> = {};
  entries.forEach(([tag], i) => {
    out[tag] = files[i]!;
  });
  return Object.freeze(out);
}

async function prepareOne(tag: string, url: string, options: PrepareOptions): Promise<string> {
  const fail = (message: string): never => {
    throw new ModulePrepareError(`<${tag}>'s server module ${url}: ${message}`, tag, url);
  };
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return fail('is not a URL');
  }
  if (parsed.protocol === 'file:') {
    let path: string;
    try {
      path = fileURLToPath(parsed);
    } catch (e) {
      return fail(errorMessage(e));
    }
    const s = await stat(path).catch(() => undefined);
    if (s === undefined) return fail('the file does not exist');
    if (!s.isFile()) return fail('is not a file');
    return path;
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') return fail(`${parsed.protocol} URLs are not allowed: use file:, http: or https:`);
  if (!options.allow.includes(parsed.origin)) return fail(originNotAllowed(parsed.origin, options.allow));
  const file = cacheFile(options.cacheDir, parsed.href);
  for (let attempt = 0; ; attempt++) {
    let pending = index.get(file);
    if (pending === undefined) {
      const started = download(parsed.href, file, options);
      index.set(file, started);
      // A failure is not remembered: the next prepare tries again.
      started.catch(() => {
        if (index.get(file) === started) index.delete(file);
      });
      pending = started;
    }
    let path: string;
    try {
      path = await (options.signal === undefined ? pending : abortable(pending, options.signal));
    } catch (e) {
      return fail(errorMessage(e));
    }
    // Someone removed the file since (cleaning the cache folder): download it again, once.
    if (attempt > 0 || (await stat(path).catch(() => undefined))?.isFile()) return path;
    if (index.get(file) === pending) index.delete(file);
  }
}

/** `promise`, or a rejection as soon as `signal` aborts (the work itself goes on). */
function abortable<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(new Error('cancelled'));
  return new Promise<T>((ok, no) => {
    const onAbort = (): void => no(new Error('cancelled'));
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (v) => {
        signal.removeEventListener('abort', onAbort);
        ok(v);
      },
      (e: unknown) => {
        signal.removeEventListener('abort', onAbort);
        no(e);
      },
    );
  });
}

/** Downloads `url` into `file` once: a file already there is used as it is (immutable per URL). */
async function download(url: string, file: string, options: PrepareOptions): Promise<string> {
  if ((await stat(file).catch(() => undefined))?.isFile()) return file;
  const got = await fetchBounded(url, {
    allow: options.allow,
    maxBytes: options.maxBytes ?? DEFAULT_MODULE_MAX_BYTES,
    timeoutMs: options.timeoutMs ?? DEFAULT_MODULE_TIMEOUT_MS,
    what: 'the download',
  });
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(got.bytes);
  } catch {
    throw new Error('it is not UTF-8 text (a JavaScript module was expected)');
  }
  await checkSingleFile(text, url);
  const dir = resolve(options.cacheDir);
  await mkdir(dir, { recursive: true });
  const temp = join(dir, `.${randomBytes(8).toString('hex')}.tmp`);
  try {
    await writeFile(temp, got.bytes, { flag: 'wx' });
    await rename(temp, file);
  } catch (e) {
    await rm(temp, { force: true }).catch(() => {});
    throw new Error(`it could not be written to the cache (${dir}): ${errorMessage(e)}`);
  }
  return file;
}

/**
 * Refuses a downloaded module that is not one file: a relative or absolute
 * path import (`./x.js`, `../x`, `/x`) would be looked for beside the cache
 * file, not beside the URL. Bare imports (`lit`, `atoll-ssr`) and full URLs
 * pass. esbuild reads the module (also refusing a syntax error, with its
 * position); nothing is bundled or written.
 */
async function checkSingleFile(text: string, url: string): Promise<void> {
  const esbuild = await import('esbuild');
  const relative: Array<{ path: string }> = [];
  try {
    await esbuild.build({
      stdin: { contents: text, loader: 'js', sourcefile: url },
      bundle: true,
      write: false,
      format: 'esm',
      platform: 'neutral',
      target: 'esnext',
      logLevel: 'silent',
      plugins: [
        {
          name: 'atoll-imports',
          setup(build) {
            build.onResolve({ filter: /.*/ }, (args) => {
              if (/^(\.{1,2}(\/|$)|\/)/.test(args.path)) relative.push({ path: args.path });
              return { path: args.path, external: true };
            });
          },
        },
      ],
    });
  } catch (e) {
    const first = (e as { errors?: Array<{ text: string; location?: { line: number; column: number } | null }> }).errors?.[0];
    if (first !== undefined) {
      const at = first.location ? `${url}:${first.location.line}:${first.location.column + 1}: ` : '';
      throw new Error(`it is not a JavaScript module: ${at}${first.text}`);
    }
    throw new Error(`it could not be read as a JavaScript module: ${errorMessage(e)}`);
  }
  if (relative.length > 0) {
    const shown = relative.slice(0, 3).map((r) => JSON.stringify(r.path)).join(', ');
    const pos = Math.max(text.indexOf(`'${relative[0]!.path}'`), text.indexOf(`"${relative[0]!.path}"`), text.indexOf(`\`${relative[0]!.path}\``));
    const at = pos < 0 ? '' : ` (${url}:${lineCol(text, pos).line}:${lineCol(text, pos).col})`;
    throw new Error(
      `it imports ${shown}${at}${relative.length > 3 ? ' and more' : ''} by a relative path, which a downloaded server module cannot: ` +
        'a server module must be one file with only package imports (build it with `atoll build --element <tag>`)',
    );
  }
}
