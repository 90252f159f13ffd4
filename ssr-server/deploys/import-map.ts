/**
 * Independent deploys (SPEC 9c): the server import map — its format, the
 * checks every entry passes, its digest, and reading it from a file or an
 * allowed `http(s)` URL with a time and size limit. See docs/deploys.md.
 *
 * ```json
 * { "elements": { "shop-cart": { "server": "https://cdn.example/shop-cart/3f9c/server.mjs",
 *                                "client": "https://cdn.example/shop-cart/3f9c/client.mjs" } } }
 * ```
 *
 * Every problem names where it is: `source:line:col` (the text is read by a
 * small strict JSON reader of its own, so a bad entry has a position too,
 * and a tag written twice is refused instead of one copy silently winning)
 * and the key path (`elements.shop-cart.server`).
 */
import { createHash } from 'node:crypto';
import { open } from 'node:fs/promises';
import { isAbsolute, resolve as resolvePath } from 'node:path';
import { pathToFileURL } from 'node:url';
import { lineCol } from '../errors.ts';
import { quote } from '../site/config.ts';
import type { ImportMapEntry, ImportMapSnapshot, ServerImportMap } from './types.ts';

/** Largest import map read (bytes) unless told otherwise. */
export const DEFAULT_MAP_MAX_BYTES = 1024 * 1024;
/** How long one read of the map may take unless told otherwise (ms). */
export const DEFAULT_MAP_TIMEOUT_MS = 10_000;
/** Most elements in one map. */
export const MAX_MAP_ELEMENTS = 1000;
/** Longest URL in a map. */
export const MAX_URL_CHARS = 2048;
/** Deepest nesting the JSON reader accepts (the format needs 3). */
const MAX_DEPTH = 32;
/** Most redirects followed by one read. */
export const MAX_REDIRECTS = 5;

/** Custom element names as the registry accepts them (site/registry.ts). */
const TAG_RE = /^[a-z][a-z0-9._]*-[a-z0-9._-]*$/;
const MAX_TAG_CHARS = 100;
/** Names the HTML standard reserves: never custom elements. */
const RESERVED_TAGS = new Set(['annotation-xml', 'color-profile', 'font-face', 'font-face-src', 'font-face-uri', 'font-face-format', 'font-face-name', 'missing-glyph']);
// eslint-disable-next-line no-control-regex
const UNSAFE_URL_CHARS = /[\s\x00-\x1f\x7f<>"'`\\^{|}]/;

/** A problem with an import map (or reading one): the message says where. */
export class ImportMapError extends Error {
  constructor(
    message: string,
    /** The file path or URL the map came from. */
    readonly source: string,
    readonly line?: number,
    readonly col?: number,
  ) {
    super(message);
    this.name = 'ImportMapError';
  }
}

/** Options for {@link parseImportMap}. */
export interface ParseOptions {
  /**
   * Origins that `http(s)` URLs in the map may have (`deploys.allow`).
   * Undefined: only the form of URLs is checked (e.g. by a tool that edits a
   * map file); the server always passes its allowlist.
   */
  allow?: readonly string[] | undefined;
  /**
   * The URL relative URLs in the map are resolved against (default: the
   * source itself, as a file URL when it is a path). A read that followed a
   * redirect passes the final URL.
   */
  base?: string | undefined;
}

/**
 * Parses and checks an import map's text. `source` (a file path or URL) is
 * where it came from: messages name it, and relative URLs are resolved
 * against it. Throws {@link ImportMapError} listing every problem found (up
 * to 20), each with line:col and key path.
 */
export function parseImportMap(text: string, source: string, options: ParseOptions = {}): ImportMapSnapshot {
  // A byte order mark is not part of the text (positions count from after it).
  const body = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  const at = (pos: number): string => {
    const { line, col } = lineCol(body, pos);
    return `${source}:${line}:${col}`;
  };
  let root: JsonNode;
  try {
    root = new JsonReader(body).document();
  } catch (e) {
    if (!(e instanceof JsonSyntaxError)) throw e;
    const { line, col } = lineCol(body, e.pos);
    throw new ImportMapError(`${source}:${line}:${col}: the import map is not valid JSON: ${e.message}`, source, line, col);
  }
  const base = options.base ?? (/^[a-z][a-z0-9+.-]*:/i.test(source) ? source : pathToFileURL(resolvePath(source)).href);
  const baseUrl = URL.canParse(base) ? new URL(base) : undefined;
  if (baseUrl === undefined) throw new ImportMapError(`${source}: cannot resolve URLs against ${quote(base, 120)}`, source);
  const fromNetwork = baseUrl.protocol === 'http:' || baseUrl.protocol === 'https:';
  const problems: Array<{ pos: number; message: string }> = [];
  const problem = (pos: number, path: string, message: string): void => {
    problems.push({ pos, message: `${path}: ${message}` });
  };
  const example = '{ "elements": { "<tag>": { "server": "<url>", "client": "<url>" } } }';

  const elements: Record<string, ImportMapEntry> = {};
  if (root.kind !== 'object') {
    problem(root.pos, '(the map)', `must be an object such as ${example}, not ${describeNode(root)}`);
  } else {
    let elementsNode: JsonNode | undefined;
    for (const member of root.members) {
      if (member.key === 'elements') elementsNode = member.value;
      else if (member.key !== '$schema') problem(member.keyPos, quote(member.key, 40), `unknown key: an import map has only "elements" (${example})`);
    }
    if (elementsNode === undefined) problem(root.pos, '(the map)', `has no "elements": write ${example}`);
    else if (elementsNode.kind !== 'object') problem(elementsNode.pos, 'elements', `must be an object of tag → { "server", "client" }, not ${describeNode(elementsNode)}`);
    else {
      if (elementsNode.members.length > MAX_MAP_ELEMENTS) problem(elementsNode.pos, 'elements', `has ${elementsNode.members.length} entries: at most ${MAX_MAP_ELEMENTS}`);
      for (const { key: tag, keyPos, value } of elementsNode.members.slice(0, MAX_MAP_ELEMENTS)) {
        const path = `elements.${tag.length > 60 ? quote(tag, 60) : tag}`;
        const tagProblem = tagNameProblem(tag);
        if (tagProblem !== undefined) {
          problem(keyPos, `elements[${quote(tag, 60)}]`, tagProblem);
          continue;
        }
        if (value.kind !== 'object') {
          problem(value.pos, path, `must be an object such as { "server": "<url>", "client": "<url>" }, not ${describeNode(value)}`);
          continue;
        }
        const urls: Partial<Record<'server' | 'client', string>> = {};
        for (const m of value.members) {
          if (m.key !== 'server' && m.key !== 'client') {
            problem(m.keyPos, `${path}.${m.key.length > 40 ? quote(m.key, 40) : m.key}`, 'unknown key: an entry has only "server" and "client"');
            continue;
          }
          const where = `${path}.${m.key}`;
          if (m.value.kind !== 'string') {
            problem(m.value.pos, where, `must be a URL string, not ${describeNode(m.value)}`);
            continue;
          }
          const r = checkEntryUrl(m.value.value, m.key, baseUrl, fromNetwork, options.allow);
          if ('problem' in r) problem(m.value.pos, where, r.problem);
          else urls[m.key] = r.url;
        }
        for (const k of ['server', 'client'] as const) {
          if (!value.members.some((m) => m.key === k)) problem(value.pos, path, `has no "${k}" (the ${k === 'server' ? 'server module, which defines the element and exports its hooks' : "browser module, which the page's import map names"})`);
        }
        if (urls.server !== undefined && urls.client !== undefined) elements[tag] = Object.freeze({ server: urls.server, client: urls.client });
      }
    }
  }
  if (problems.length > 0) {
    problems.sort((a, b) => a.pos - b.pos);
    const shown = problems.slice(0, 20).map((p) => `${at(p.pos)}: ${p.message}`);
    if (problems.length > 20) shown.push(`… and ${problems.length - 20} more problems`);
    const first = lineCol(body, problems[0]!.pos);
    throw new ImportMapError(shown.join('\n'), source, first.line, first.col);
  }
  const map: ServerImportMap = Object.freeze({ elements: Object.freeze(elements) });
  return Object.freeze({ source, digest: importMapDigest(map), map });
}

/** Why `tag` cannot be a map element's tag, or undefined. */
export function tagNameProblem(tag: string): string | undefined {
  if (tag.length > MAX_TAG_CHARS) return `is not a tag name: at most ${MAX_TAG_CHARS} characters`;
  if (!TAG_RE.test(tag)) {
    const lower = tag.toLowerCase();
    return lower !== tag && TAG_RE.test(lower)
      ? `is not a tag name: custom element names are lower case: write ${quote(lower)}`
      : 'is not a custom element name: lower-case letters, digits, ".", "_" and "-", starting with a letter and with a "-" (e.g. "shop-cart")';
  }
  if (RESERVED_TAGS.has(tag)) return 'is a name the HTML standard reserves: it cannot be a custom element';
  return undefined;
}

/**
 * Checks one URL of an entry and makes it absolute: `server` may be `file:`
 * (only in a map read from a file: a map on the network never names the
 * server's own files), `http:` or `https:`; `client` is what the browser
 * loads, so `http(s)` only. `http(s)` URLs need an origin in `allow` (when
 * given) and carry no credentials.
 */
export function checkEntryUrl(
  raw: string,
  which: 'server' | 'client',
  base: URL,
  fromNetwork: boolean,
  allow: readonly string[] | undefined,
): { url: string } | { problem: string } {
  if (raw.trim() === '') return { problem: 'must be a URL, not an empty string' };
  if (raw.length > MAX_URL_CHARS) return { problem: `is ${raw.length} characters long: at most ${MAX_URL_CHARS}` };
  if (UNSAFE_URL_CHARS.test(raw)) return { problem: `${quote(raw)} contains a space, control character, quote, backslash or one of <>^{|}\`: percent-encode it` };
  let url: URL;
  try {
    url = new URL(raw, base);
  } catch {
    return { problem: `${quote(raw)} is not a URL` };
  }
  const scheme = url.protocol;
  if (scheme !== 'file:' && scheme !== 'http:' && scheme !== 'https:') {
    return { problem: `${quote(raw)}: ${scheme.slice(0, 20)} URLs are not allowed: use ${which === 'client' ? 'http: or https:' : 'file:, http: or https:'}` };
  }
  if (scheme === 'file:') {
    if (which === 'client') return { problem: `${quote(raw)} is a file: URL, which a browser cannot load: the client module needs an http(s) URL` };
    if (fromNetwork) return { problem: `${quote(raw)} is a file: URL in a map read over the network: only a map read from a file may name local files` };
    if (url.host !== '' && url.host !== 'localhost') return { problem: `${quote(raw)} names a file on another host (${quote(url.host)}): file: URLs are local files only` };
    if (url.search !== '' || url.hash !== '') return { problem: `${quote(raw)}: a file: URL with a query or fragment names no file` };
    return { url: url.href };
  }
  if (url.username !== '' || url.password !== '') return { problem: `${quote(raw)} has a user name or password: Atoll never sends credentials in a URL` };
  if (url.hash !== '') return { problem: `${quote(raw)} has a fragment (#…), which is never sent: remove it` };
  if (allow !== undefined && !allow.includes(url.origin)) return { problem: originNotAllowed(url.origin, allow) };
  return { url: url.href };
}

/** The message for an origin outside `deploys.allow`. */
export function originNotAllowed(origin: string, allow: readonly string[]): string {
  return `the origin ${quote(origin, 120)} is not in deploys.allow (${allow.length === 0 ? 'empty' : allow.map((o) => quote(o, 120)).join(', ')}): add it there to load modules from it`;
}

/** sha256 (hex) of the map's canonical form: tags sorted, each with its absolute server and client URL. */
export function importMapDigest(map: ServerImportMap): string {
  const rows = Object.keys(map.elements)
    .sort()
    .map((tag) => [tag, map.elements[tag]!.server, map.elements[tag]!.client]);
  return createHash('sha256').update(JSON.stringify(rows)).digest('hex');
}

// ---------------------------------------------------------------------------
// Reading
// ---------------------------------------------------------------------------

/** Options for {@link readImportMap}. */
export interface ReadOptions {
  /** Origins allowed over `http(s)` (`deploys.allow`). */
  allow: readonly string[];
  /** The site folder: a relative path `source` is relative to it (default: the working directory). */
  root?: string;
  /** The whole read's time limit (default 10 s). */
  timeoutMs?: number;
  /** Largest map (default 1 MiB). */
  maxBytes?: number;
  /** Cancels the read. */
  signal?: AbortSignal;
}

/**
 * Reads and checks the import map at `source`: a path (relative to the
 * site root) or an `http(s)` URL whose origin is in `allow` (redirects are
 * followed only to allowed origins, at most {@link MAX_REDIRECTS}). Bounded
 * in size and time. Rejects with an {@link ImportMapError} naming the
 * source.
 */
export async function readImportMap(source: string, options: ReadOptions): Promise<ImportMapSnapshot> {
  const maxBytes = options.maxBytes ?? DEFAULT_MAP_MAX_BYTES;
  const timeoutMs = options.timeoutMs ?? DEFAULT_MAP_TIMEOUT_MS;
  if (/^https?:\/\//i.test(source)) {
    let got: Fetched;
    try {
      got = await fetchBounded(source, { allow: options.allow, maxBytes, timeoutMs, signal: options.signal, what: 'the import map' });
    } catch (e) {
      throw new ImportMapError(`${source}: ${errorMessage(e)}`, source);
    }
    return parseImportMap(decodeUtf8(got.bytes, source), source, { allow: options.allow, base: got.url });
  }
  if (/^[a-z][a-z0-9+.-]+:/i.test(source)) throw new ImportMapError(`${quote(source, 120)}: the import map must be a file path or an http(s) URL`, source);
  const path = isAbsolute(source) ? source : resolvePath(options.root ?? '.', source);
  let bytes: Uint8Array;
  try {
    bytes = await readFileBounded(path, maxBytes, 'the import map');
  } catch (e) {
    throw new ImportMapError(`${source}: ${errorMessage(e)}`, source);
  }
  return parseImportMap(decodeUtf8(bytes, source), source, { allow: options.allow, base: pathToFileURL(path).href });
}

function decodeUtf8(bytes: Uint8Array, source: string): string {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw new ImportMapError(`${source}: the import map is not UTF-8 text`, source);
  }
}

/** An error's message, whatever was thrown. */
export function errorMessage(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** Reads a local file of at most `maxBytes` (checked before and while reading: a file that grows is cut off too). */
export async function readFileBounded(path: string, maxBytes: number, what: string): Promise<Uint8Array> {
  let handle;
  try {
    handle = await open(path, 'r');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new Error(code === 'ENOENT' ? `${what} does not exist (${path})` : `${what} cannot be read (${path}): ${errorMessage(e)}`);
  }
  try {
    const stat = await handle.stat();
    if (!stat.isFile()) throw new Error(`${what} is not a file (${path})`);
    if (stat.size > maxBytes) throw new Error(`${what} is ${stat.size} bytes: more than the limit of ${maxBytes}`);
    const buffer = Buffer.alloc(Math.min(maxBytes + 1, stat.size + 1));
    let length = 0;
    for (;;) {
      const { bytesRead } = await handle.read(buffer, length, buffer.length - length, length);
      if (bytesRead === 0) break;
      length += bytesRead;
      if (length > maxBytes) throw new Error(`${what} is more than the limit of ${maxBytes} bytes`);
      if (length === buffer.length) break;
    }
    return buffer.subarray(0, length);
  } finally {
    await handle.close();
  }
}

/** A body fetched by {@link fetchBounded}, and the URL it finally came from. */
export interface Fetched {
  url: string;
  bytes: Uint8Array;
}

/**
 * GETs `url` (an allowed `http(s)` origin) and reads its body, bounded:
 * redirects followed only to origins in `allow` (at most
 * {@link MAX_REDIRECTS}), the whole exchange within `timeoutMs`, the body
 * at most `maxBytes` (a larger `Content-Length` is refused before reading).
 * Any non-2xx status is an error. Messages name `what` and the URL.
 */
export async function fetchBounded(
  url: string,
  options: { allow: readonly string[]; maxBytes: number; timeoutMs: number; signal?: AbortSignal | undefined; what: string },
): Promise<Fetched> {
  const { allow, maxBytes, timeoutMs, what } = options;
  const timeout = AbortSignal.timeout(timeoutMs);
  const signal = options.signal === undefined ? timeout : AbortSignal.any([options.signal, timeout]);
  let current = url;
  try {
    for (let hops = 0; ; hops++) {
      const u = new URL(current);
      if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error(`${what}: ${quote(current, 120)} is not an http(s) URL`);
      if (!allow.includes(u.origin)) throw new Error(`${what}: ${hops === 0 ? '' : `a redirect led to ${quote(current, 200)}: `}${originNotAllowed(u.origin, allow)}`);
      const response = await fetch(current, { redirect: 'manual', signal, headers: { accept: 'application/json, text/javascript, */*;q=0.1' } });
      if (response.status >= 300 && response.status < 400 && response.status !== 304) {
        await response.body?.cancel().catch(() => {});
        const location = response.headers.get('location');
        if (location === null) throw new Error(`${what}: ${current} answered ${response.status} without a Location`);
        if (hops >= MAX_REDIRECTS) throw new Error(`${what}: more than ${MAX_REDIRECTS} redirects from ${url}`);
        if (!URL.canParse(location, current)) throw new Error(`${what}: ${current} redirected to ${quote(location, 200)}, which is not a URL`);
        current = new URL(location, current).href;
        continue;
      }
      if (response.status < 200 || response.status >= 300) {
        await response.body?.cancel().catch(() => {});
        throw new Error(`${what}: ${current} answered ${response.status}${response.statusText ? ` ${response.statusText}` : ''}`);
      }
      const declared = Number(response.headers.get('content-length') ?? NaN);
      if (declared > maxBytes) {
        await response.body?.cancel().catch(() => {});
        throw new Error(`${what}: ${current} is ${declared} bytes: more than the limit of ${maxBytes}`);
      }
      const chunks: Uint8Array[] = [];
      let length = 0;
      if (response.body !== null) {
        const reader = response.body.getReader();
        for (;;) {
          const { done, value } = await reader.read();
          if (done) break;
          length += value.byteLength;
          if (length > maxBytes) {
            await reader.cancel().catch(() => {});
            throw new Error(`${what}: ${current} is more than the limit of ${maxBytes} bytes`);
          }
          chunks.push(value);
        }
      }
      return { url: current, bytes: Buffer.concat(chunks, length) };
    }
  } catch (e) {
    if (timeout.aborted) throw new Error(`${what}: ${current} did not answer completely within ${timeoutMs} ms`);
    if (options.signal?.aborted) throw new Error(`${what}: the read of ${current} was cancelled`);
    if (e instanceof Error && e.message.startsWith(what)) throw e;
    const cause = e instanceof Error && e.cause instanceof Error ? `: ${e.cause.message}` : '';
    throw new Error(`${what}: ${current} could not be fetched: ${errorMessage(e)}${cause}`);
  }
}

// ---------------------------------------------------------------------------
// A strict JSON reader with positions
// ---------------------------------------------------------------------------

type JsonNode =
  | { kind: 'object'; pos: number; members: Array<{ key: string; keyPos: number; value: JsonNode }> }
  | { kind: 'string'; pos: number; value: string }
  | { kind: 'array' | 'number' | 'boolean' | 'null'; pos: number };

class JsonSyntaxError extends Error {
  constructor(message: string, readonly pos: number) {
    super(message);
  }
}

function describeNode(node: JsonNode): string {
  switch (node.kind) {
    case 'object':
      return 'an object';
    case 'array':
      return 'an array';
    case 'string':
      return `the string ${quote(node.value, 40)}`;
    case 'null':
      return 'null';
    default:
      return `a ${node.kind}`;
  }
}

/** RFC 8259 JSON, nothing more; every value keeps its offset; a key written twice in one object is an error. */
class JsonReader {
  private i = 0;
  constructor(private readonly s: string) {}

  document(): JsonNode {
    this.space();
    if (this.i >= this.s.length) throw new JsonSyntaxError('the text is empty', this.i);
    const v = this.value(0);
    this.space();
    if (this.i < this.s.length) throw new JsonSyntaxError(`unexpected ${this.shown()} after the end of the JSON value`, this.i);
    return v;
  }

  private shown(): string {
    if (this.i >= this.s.length) return 'end of the text';
    const c = this.s.codePointAt(this.i)!;
    return c < 0x20 || c === 0x7f ? `control character U+${c.toString(16).padStart(4, '0')}` : quote(String.fromCodePoint(c));
  }

  private space(): void {
    for (;;) {
      const c = this.s.charCodeAt(this.i);
      if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) this.i++;
      else return;
    }
  }

  private value(depth: number): JsonNode {
    if (depth > MAX_DEPTH) throw new JsonSyntaxError(`nested more than ${MAX_DEPTH} levels deep`, this.i);
    const pos = this.i;
    const c = this.s[this.i];
    if (c === '{') return this.object(depth);
    if (c === '[') {
      this.i++;
      this.space();
      if (this.s[this.i] === ']') {
        this.i++;
        return { kind: 'array', pos };
      }
      for (;;) {
        this.space();
        this.value(depth + 1);
        this.space();
        const d = this.s[this.i];
        if (d === ',') this.i++;
        else if (d === ']') {
          this.i++;
          return { kind: 'array', pos };
        } else throw new JsonSyntaxError(`expected "," or "]" in an array, found ${this.shown()}`, this.i);
      }
    }
    if (c === '"') return { kind: 'string', pos, value: this.string() };
    for (const [word, kind] of [['true', 'boolean'], ['false', 'boolean'], ['null', 'null']] as const) {
      if (this.s.startsWith(word, this.i)) {
        this.i += word.length;
        return { kind, pos };
      }
    }
    const m = /-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/y;
    m.lastIndex = this.i;
    if (m.exec(this.s) !== null && m.lastIndex > this.i) {
      this.i = m.lastIndex;
      return { kind: 'number', pos };
    }
    throw new JsonSyntaxError(`expected a value, found ${this.shown()}${c === "'" ? ' (JSON strings use double quotes)' : ''}`, this.i);
  }

  private object(depth: number): JsonNode {
    const pos = this.i++;
    const members: Array<{ key: string; keyPos: number; value: JsonNode }> = [];
    const seen = new Map<string, number>();
    this.space();
    if (this.s[this.i] === '}') {
      this.i++;
      return { kind: 'object', pos, members };
    }
    for (;;) {
      this.space();
      const keyPos = this.i;
      if (this.s[this.i] !== '"') {
        throw new JsonSyntaxError(`expected a key in double quotes, found ${this.shown()}${this.s[this.i] === '}' ? ' (a comma before "}" is not JSON)' : ''}`, this.i);
      }
      const key = this.string();
      const before = seen.get(key);
      if (before !== undefined) {
        const { line, col } = lineCol(this.s, before);
        throw new JsonSyntaxError(`the key ${quote(key, 60)} is written twice in one object (first at ${line}:${col})`, keyPos);
      }
      seen.set(key, keyPos);
      this.space();
      if (this.s[this.i] !== ':') throw new JsonSyntaxError(`expected ":" after the key ${quote(key, 60)}, found ${this.shown()}`, this.i);
      this.i++;
      this.space();
      const value = this.value(depth + 1);
      members.push({ key, keyPos, value });
      this.space();
      const d = this.s[this.i];
      if (d === ',') this.i++;
      else if (d === '}') {
        this.i++;
        return { kind: 'object', pos, members };
      } else throw new JsonSyntaxError(`expected "," or "}" in an object, found ${this.shown()}`, this.i);
    }
  }

  private string(): string {
    const start = this.i++;
    let out = '';
    let run = this.i;
    for (;;) {
      if (this.i >= this.s.length) throw new JsonSyntaxError('a string is not closed (missing ")', start);
      const c = this.s.charCodeAt(this.i);
      if (c === 0x22) {
        out += this.s.slice(run, this.i);
        this.i++;
        return out;
      }
      if (c < 0x20) throw new JsonSyntaxError(`${this.shown()} inside a string: escape it (\\n, \\t, \\u…)`, this.i);
      if (c !== 0x5c) {
        this.i++;
        continue;
      }
      out += this.s.slice(run, this.i);
      const e = this.s[this.i + 1];
      const simple: Record<string, string> = { '"': '"', '\\': '\\', '/': '/', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t' };
      if (e !== undefined && Object.hasOwn(simple, e)) {
        out += simple[e];
        this.i += 2;
      } else if (e === 'u' && /^[0-9a-fA-F]{4}$/.test(this.s.slice(this.i + 2, this.i + 6))) {
        out += String.fromCharCode(parseInt(this.s.slice(this.i + 2, this.i + 6), 16));
        this.i += 6;
      } else {
        throw new JsonSyntaxError('a string has an invalid escape (\\" \\\\ \\/ \\b \\f \\n \\r \\t or \\uXXXX)', this.i);
      }
      run = this.i;
    }
  }
}
