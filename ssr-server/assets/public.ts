/**
 * A site's `public/` folder, served at the root (`public/favicon.svg` →
 * `/favicon.svg`), transport-free: `respond` gives a {@link CoreResponse}, so
 * the Node and the Fetch adapter serve the same files the same way.
 *
 * The folder is listed once at start-up and only listed names are served, so
 * no request path can reach another file: `..`, `%2e%2e`, `%2f`, backslashes
 * and NUL are not names in the list. Left out of the list: dotfiles and
 * dot-folders (except `.well-known/`), symlinks that lead out of `public/`
 * (or to a folder), anything under `public/_atoll/` (Atoll's own prefix),
 * and other special files. Each request re-checks the file (`lstat`): a
 * file replaced by a symlink or a folder after start-up is no longer served.
 *
 * Headers: content type by extension, `ETag` (size and modification time,
 * like nginx), `Last-Modified`, `Accept-Ranges: bytes`, `Cache-Control`
 * (`public, max-age=31536000, immutable` for names with a content hash such
 * as `logo-3f9a1c2b.png`, else `public, max-age=0, must-revalidate`), and
 * `X-Content-Type-Options: nosniff`. `If-None-Match`/`If-Modified-Since`
 * give 304; one `bytes` range gives 206 (`If-Range` honoured), an
 * unsatisfiable one 416; a malformed or multi-part `Range` is ignored (200
 * with the whole file), as RFC 9110 allows.
 *
 * Why not sirv (measured; docs/operations.md): sirv 3.0.2 answers
 * `Range: bytes=-500` with the first 501 bytes instead of the last 500,
 * `Range: bytes=9-2` with a thrown `ERR_OUT_OF_RANGE` after the head is
 * written (a broken response), `Range: items=0-1` with 206, compares
 * `If-None-Match` as one string, serves symlinks that lead out of its
 * folder and any method, and is a Node `(req, res)` middleware that the
 * Fetch adapter cannot use.
 */
import { constants as fsConstants, readdirSync, realpathSync, statSync, type Stats } from 'node:fs';
import { lstat, open } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import type { Output } from '../render/chunks.ts';
import { textResponse } from '../responses.ts';
import type { CoreResponse, RequestHeaders } from '../wire.ts';

/** The URL prefix that stays Atoll's: never served from `public/`. */
export const RESERVED_PREFIX = '/_atoll/';
/** Most files listed (a larger folder is cut with a warning). */
export const MAX_PUBLIC_FILES = 50_000;
/** Deepest folder nesting listed. */
const MAX_DEPTH = 32;
/** Bodies up to this size are read in one go; larger ones are streamed in {@link STREAM_CHUNK} pieces. */
const READ_WHOLE = 1024 * 1024;
const STREAM_CHUNK = 64 * 1024;

/** Open flags: read, never through a symlink (where the platform has the flag). */
const NO_FOLLOW = fsConstants.O_RDONLY | (fsConstants.O_NOFOLLOW ?? 0);

const IMMUTABLE = 'public, max-age=31536000, immutable';
const REVALIDATE = 'public, max-age=0, must-revalidate';

const TYPES: Record<string, string> = {
  html: 'text/html; charset=utf-8',
  htm: 'text/html; charset=utf-8',
  css: 'text/css; charset=utf-8',
  js: 'text/javascript; charset=utf-8',
  mjs: 'text/javascript; charset=utf-8',
  json: 'application/json; charset=utf-8',
  map: 'application/json; charset=utf-8',
  webmanifest: 'application/manifest+json; charset=utf-8',
  txt: 'text/plain; charset=utf-8',
  md: 'text/markdown; charset=utf-8',
  csv: 'text/csv; charset=utf-8',
  xml: 'application/xml; charset=utf-8',
  svg: 'image/svg+xml',
  ico: 'image/x-icon',
  png: 'image/png',
  jpg: 'image/jpeg',
  jpeg: 'image/jpeg',
  gif: 'image/gif',
  webp: 'image/webp',
  avif: 'image/avif',
  apng: 'image/apng',
  bmp: 'image/bmp',
  woff: 'font/woff',
  woff2: 'font/woff2',
  ttf: 'font/ttf',
  otf: 'font/otf',
  mp4: 'video/mp4',
  webm: 'video/webm',
  ogg: 'audio/ogg',
  mp3: 'audio/mpeg',
  wav: 'audio/wav',
  pdf: 'application/pdf',
  wasm: 'application/wasm',
  zip: 'application/zip',
};

/** The content type for a file name (`application/octet-stream` when unknown). */
export function contentType(name: string): string {
  const ext = /\.([A-Za-z0-9]+)$/.exec(name)?.[1]?.toLowerCase() ?? '';
  return TYPES[ext] ?? 'application/octet-stream';
}

/**
 * Whether a file name carries a content hash (`logo-3f9a1c2b.png`,
 * `app.5d41402abc4b.js`): 8 to 64 hex digits with at least one letter and
 * one digit, right before the extension. Only these are cached as immutable;
 * a name such as `photo-20240101.jpg` is not taken for a hash.
 */
export function isHashedName(name: string): boolean {
  const m = /[-.]([0-9a-f]{8,64})\.[A-Za-z0-9]+$/.exec(name);
  return m !== null && /[a-f]/.test(m[1]!) && /\d/.test(m[1]!);
}

/** One listed file. */
interface PublicFile {
  /** Absolute path (a symlink's target, resolved). */
  abs: string;
  immutable: boolean;
  type: string;
}

/** The listed files of one `public/` folder. */
export class PublicFiles {
  private readonly files = new Map<string, PublicFile>();
  /** What was left out at start-up and why (for the start-up log). */
  readonly skipped: string[] = [];

  /** Lists `dir` (missing: no files). */
  constructor(readonly dir: string) {
    let real: string;
    try {
      real = realpathSync(dir);
      if (!statSync(real).isDirectory()) return;
    } catch {
      return;
    }
    const walk = (folder: string, depth: number): void => {
      if (depth > MAX_DEPTH) {
        this.skipped.push(`${relative(real, folder)}: nested deeper than ${MAX_DEPTH} folders`);
        return;
      }
      let entries;
      try {
        entries = readdirSync(folder, { withFileTypes: true });
      } catch {
        return;
      }
      entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
      for (const entry of entries) {
        const abs = join(folder, entry.name);
        const rel = relative(real, abs);
        const url = '/' + rel.split(sep).join('/');
        if (entry.name.startsWith('.') && !(entry.name === '.well-known' && depth === 0)) continue; // dotfiles: never
        if (url === '/_atoll' || url.startsWith(RESERVED_PREFIX)) {
          this.skipped.push(`${rel}: /_atoll/ is Atoll's own prefix`);
          continue;
        }
        if (entry.isDirectory()) {
          walk(abs, depth + 1);
          continue;
        }
        let target = abs;
        if (entry.isSymbolicLink()) {
          try {
            target = realpathSync(abs);
          } catch {
            this.skipped.push(`${rel}: a broken symlink`);
            continue;
          }
          if (!target.startsWith(real + sep)) {
            this.skipped.push(`${rel}: a symlink that leads out of public/`);
            continue;
          }
          let s: Stats;
          try {
            s = statSync(target);
          } catch {
            continue;
          }
          if (!s.isFile()) {
            this.skipped.push(`${rel}: a symlink to a folder (not followed)`);
            continue;
          }
        } else if (!entry.isFile()) {
          continue; // sockets, FIFOs, devices
        }
        if (this.files.size >= MAX_PUBLIC_FILES) {
          this.skipped.push(`more than ${MAX_PUBLIC_FILES} files: the rest are not served`);
          return;
        }
        // Keys in NFC, as requests are looked up: a name written in NFD (macOS) matches either form.
        this.files.set(url.normalize('NFC'), {
          abs: target,
          immutable: isHashedName(entry.name),
          type: contentType(entry.name),
        });
      }
    };
    walk(real, 0);
  }

  /** How many files are served. */
  get size(): number {
    return this.files.size;
  }

  /** The URL paths served, sorted. */
  paths(): string[] {
    return [...this.files.keys()].sort();
  }

  /** The listed file for a request path (percent-decoded), or undefined. */
  private lookup(pathname: string): PublicFile | undefined {
    if (this.files.size === 0) return undefined;
    let path = pathname;
    if (path.includes('%')) {
      try {
        path = decodeURIComponent(path);
      } catch {
        return undefined;
      }
    }
    return this.files.get(path.normalize('NFC'));
  }

  /** True when `pathname` (as in the request, percent-encoded) names a served file. */
  has(pathname: string): boolean {
    return this.lookup(pathname) !== undefined;
  }

  /**
   * Answers a GET or HEAD for `pathname`: 200, 206, 304 or 416 (404 when the
   * file went away since start-up). Never throws.
   */
  async respond(method: string, pathname: string, headers: RequestHeaders, requestId: string): Promise<CoreResponse> {
    const file = this.lookup(pathname);
    const notFound = (): CoreResponse => textResponse(404, 'Not Found\n', requestId, { 'cache-control': 'no-store' });
    if (file === undefined) return notFound();
    let stats: Stats;
    try {
      // lstat: a file replaced by a symlink (or a folder) since start-up is not followed.
      stats = await lstat(file.abs);
    } catch {
      return notFound();
    }
    if (!stats.isFile()) return notFound();
    const size = stats.size;
    const mtime = Math.floor(stats.mtimeMs / 1000) * 1000;
    const etag = `"${size.toString(36)}-${Math.floor(stats.mtimeMs).toString(36)}"`;
    const lastModified = new Date(mtime).toUTCString();
    const out = new Headers({
      'content-type': file.type,
      'cache-control': file.immutable ? IMMUTABLE : REVALIDATE,
      etag,
      'last-modified': lastModified,
      'accept-ranges': 'bytes',
      'x-content-type-options': 'nosniff',
    });
    if (notModified(headers, etag, mtime)) return { status: 304, headers: out, body: { kind: 'none' }, requestId };

    let start = 0;
    let end = size - 1;
    let status = 200;
    const range = headers.get('range');
    if (range !== null && size >= 0 && ifRangeHolds(headers.get('if-range'), etag, mtime)) {
      const r = parseRange(range, size);
      if (r === 'unsatisfiable') {
        out.set('content-range', `bytes */${size}`);
        out.delete('etag');
        out.delete('last-modified');
        out.set('content-type', 'text/plain; charset=utf-8');
        out.set('cache-control', 'no-store');
        return { status: 416, headers: out, body: { kind: 'text', text: 'Range Not Satisfiable\n' }, requestId };
      }
      if (r !== undefined) {
        [start, end] = r;
        status = 206;
        out.set('content-range', `bytes ${start}-${end}/${size}`);
      }
    }
    const length = Math.max(0, end - start + 1);
    out.set('content-length', String(length));
    if (method === 'HEAD' || length === 0) {
      return { status, headers: out, body: length === 0 ? { kind: 'bytes', data: new Uint8Array(0) } : { kind: 'none' }, requestId };
    }
    if (length <= READ_WHOLE) {
      const data = await readRange(file.abs, start, length);
      if (data === undefined || data.byteLength !== length) return notFound();
      return { status, headers: out, body: { kind: 'bytes', data }, requestId };
    }
    return { status, headers: out, body: { kind: 'html', result: streamRange(file.abs, start, length) }, requestId };
  }
}

/** Reads `length` bytes of `path` from `start` (undefined when it cannot). */
async function readRange(path: string, start: number, length: number): Promise<Uint8Array | undefined> {
  let handle;
  try {
    // O_NOFOLLOW: a file swapped for a symlink between the lstat and here is refused too.
    handle = await open(path, NO_FOLLOW);
    const data = new Uint8Array(length);
    let done = 0;
    while (done < length) {
      const { bytesRead } = await handle.read(data, done, length - done, start + done);
      if (bytesRead === 0) break;
      done += bytesRead;
    }
    return done === length ? data : data.subarray(0, done);
  } catch {
    return undefined;
  } finally {
    await handle?.close().catch(() => {});
  }
}

/**
 * A large body as output pieces read one at a time, when the consumer asks
 * (backpressure), each with its own open and close: a client that goes away
 * leaves no file handle open.
 */
function streamRange(path: string, start: number, length: number): Output {
  const piece = (offset: number): Output[number] => async () => {
    const n = Math.min(STREAM_CHUNK, start + length - offset);
    const data = await readRange(path, offset, n);
    if (data === undefined || data.byteLength !== n) throw new Error(`public file ${path} changed while it was sent`);
    return offset + n >= start + length ? [data] : [data, piece(offset + n)];
  };
  return [piece(start)];
}

/** True when the request's validators match (If-None-Match wins over If-Modified-Since). */
function notModified(headers: RequestHeaders, etag: string, mtime: number): boolean {
  const inm = headers.get('if-none-match');
  if (inm !== null) {
    return inm.split(',').some((t) => {
      const tag = t.trim();
      return tag === '*' || tag.replace(/^W\//, '') === etag;
    });
  }
  const ims = headers.get('if-modified-since');
  if (ims !== null) {
    const since = Date.parse(ims);
    return Number.isFinite(since) && mtime <= since;
  }
  return false;
}

/** Whether a `Range` may apply: no `If-Range`, or one that matches (strong ETag or the exact date). */
function ifRangeHolds(ifRange: string | null, etag: string, mtime: number): boolean {
  if (ifRange === null) return true;
  const v = ifRange.trim();
  if (v.startsWith('"')) return v === etag;
  if (v.startsWith('W/')) return false;
  const date = Date.parse(v);
  return Number.isFinite(date) && date === mtime;
}

/**
 * One `bytes` range of a `size`-byte file: `[start, end]` inclusive,
 * `'unsatisfiable'` (416), or undefined for a header to ignore (malformed,
 * another unit, several ranges).
 */
export function parseRange(header: string, size: number): [number, number] | 'unsatisfiable' | undefined {
  if (header.length > 200) return undefined;
  const m = /^\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*$/i.exec(header);
  if (m === null) return undefined;
  const [, a, b] = m as unknown as [string, string, string];
  if (a === '' && b === '') return undefined;
  if (a === '') {
    // A suffix: the last b bytes.
    const n = Number(b);
    if (n === 0 || size === 0) return 'unsatisfiable';
    return [Math.max(0, size - n), size - 1];
  }
  const start = Number(a);
  if (!Number.isSafeInteger(start) || start >= size) return 'unsatisfiable';
  let end = b === '' ? size - 1 : Number(b);
  if (end < start) return undefined; // invalid: ignored
  if (!Number.isSafeInteger(end) || end >= size) end = size - 1;
  return [start, end];
}
