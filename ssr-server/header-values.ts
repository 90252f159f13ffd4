/**
 * Everything that reaches a response's status line or headers is checked
 * here, where it enters: element `headers()` hooks, remote responses, the
 * config's `headers`, redirect locations and statuses. Node's `writeHead`
 * throws on a control character or a code point above U+00FF, and a Web
 * `Headers` accepts some that Node refuses; a value that passes these checks
 * is accepted by both, so no input can make writing the head throw.
 *
 * Nothing here throws: junk is dropped and described, and the caller logs it.
 */
import type { HeaderFields } from './wire.ts';

/** Longest header value accepted from an element or remote, in bytes. */
export const MAX_HEADER_VALUE_BYTES = 8 * 1024;
/** Most header lines accepted from one element or remote. */
export const MAX_HEADER_COUNT = 64;
/** Most bytes of headers (names and values) accepted from one element or remote. */
export const MAX_HEADER_BYTES = 8 * 1024;
/**
 * Most bytes of element headers one page sends in all. Node's HTTP client
 * (and undici, which Atoll itself uses for remote elements) refuses a
 * response head over 16 KiB by default: a page or fragment head must stay
 * readable by the servers and proxies that consume it.
 */
export const MAX_PAGE_ELEMENT_HEADER_BYTES = 12 * 1024;

/** Bytes of a header block (names and values). */
export function headerBytes(headers: HeaderFields): number {
  if (headers instanceof HeaderList) return headers.bytes();
  let n = 0;
  headers.forEach((v, k) => {
    if (k !== 'set-cookie') n += k.length + v.length + 4;
  });
  for (const c of headers.getSetCookie()) n += 14 + c.length;
  return n;
}

export type { HeaderFields };


const isHttpSpace = (c: number): boolean => c === 32 || c === 9 || c === 10 || c === 13;
/** A value as `Headers` keeps it: without leading or trailing HTTP white space. */
export function normalizeValue(value: string): string {
  const n = value.length;
  if (n === 0 || (!isHttpSpace(value.charCodeAt(0)) && !isHttpSpace(value.charCodeAt(n - 1)))) return value;
  return value.replace(/^[\t\n\r ]+|[\t\n\r ]+$/g, '');
}

/**
 * Response headers as plain data: lower-case names, one entry per name
 * (a second value is joined with `, `, as `Headers` does) except
 * `set-cookie`, which keeps one entry per cookie; values set or appended
 * lose leading and trailing white space, as in `Headers`. No validation here: values
 * come from {@link checkHeaders} or from code that builds them from checked
 * parts. It reads like `Headers` (`get` joins, iteration is sorted by name,
 * every `Set-Cookie` apart), so turning it into the transport's form at the
 * edge ({@link HeaderList.toNodeArray}, {@link HeaderList.toHeaders}) sends
 * the same bytes a `Headers` would have.
 */
export class HeaderList implements HeaderFields {
  /** Names (lower case) and values, index by index. */
  private readonly names: string[];
  private readonly values: string[];
  constructor(names: string[] = [], values: string[] = []) {
    this.names = names;
    this.values = values;
  }

  /** Entries (every cookie counts). */
  get size(): number {
    return this.names.length;
  }

  /** The name at `i` (lower case). */
  nameAt(i: number): string {
    return this.names[i]!;
  }

  /** The value at `i`. */
  valueAt(i: number): string {
    return this.values[i]!;
  }

  private find(name: string): number {
    const names = this.names;
    for (let i = 0; i < names.length; i++) if (names[i] === name) return i;
    return -1;
  }

  get(name: string): string | null {
    const n = name.toLowerCase();
    if (n === 'set-cookie') {
      const all = this.getSetCookie();
      return all.length === 0 ? null : all.join(', ');
    }
    const i = this.find(n);
    return i < 0 ? null : this.values[i]!;
  }

  has(name: string): boolean {
    return this.find(name.toLowerCase()) >= 0;
  }

  set(name: string, given: string): void {
    const n = name.toLowerCase();
    const value = normalizeValue(given);
    const i = this.find(n);
    if (i < 0) {
      this.names.push(n);
      this.values.push(value);
      return;
    }
    this.values[i] = value;
    if (n === 'set-cookie') this.deleteFrom(n, i + 1);
  }

  append(name: string, given: string): void {
    const n = name.toLowerCase();
    const value = normalizeValue(given);
    const i = n === 'set-cookie' ? -1 : this.find(n);
    if (i < 0) {
      this.names.push(n);
      this.values.push(value);
    } else {
      this.values[i] = `${this.values[i]!}, ${value}`;
    }
  }

  delete(name: string): void {
    this.deleteFrom(name.toLowerCase(), 0);
  }

  private deleteFrom(n: string, from: number): void {
    for (let i = this.names.length - 1; i >= from; i--) {
      if (this.names[i] === n) {
        this.names.splice(i, 1);
        this.values.splice(i, 1);
      }
    }
  }

  getSetCookie(): string[] {
    const out: string[] = [];
    for (let i = 0; i < this.names.length; i++) if (this.names[i] === 'set-cookie') out.push(this.values[i]!);
    return out;
  }

  /** Entry indexes in the order `Headers` iterates: by name (stable, so cookies keep their order). An insertion sort: lists are short. */
  private sorted(): number[] {
    const names = this.names;
    const idx: number[] = [];
    for (let i = 0; i < names.length; i++) {
      const name = names[i]!;
      let j = idx.length;
      while (j > 0 && names[idx[j - 1]!]! > name) j--;
      idx.splice(j, 0, i);
    }
    return idx;
  }

  /** Every entry, in the list's own order (every cookie apart); {@link HeaderList.toNodeArray} and iteration give `Headers`' order. */
  forEach(callback: (value: string, name: string) => void): void {
    for (let i = 0; i < this.names.length; i++) callback(this.values[i]!, this.names[i]!);
  }

  *[Symbol.iterator](): IterableIterator<[string, string]> {
    for (const i of this.sorted()) yield [this.names[i]!, this.values[i]!];
  }

  /** A copy that changes apart from this one. */
  clone(): HeaderList {
    return new HeaderList(this.names.slice(), this.values.slice());
  }

  /** Bytes as {@link headerBytes} counts them. */
  bytes(): number {
    let n = 0;
    for (let i = 0; i < this.names.length; i++) {
      const name = this.names[i]!;
      n += name === 'set-cookie' ? 14 + this.values[i]!.length : name.length + this.values[i]!.length + 4;
    }
    return n;
  }

  /** Node's `writeHead` form: a flat `[name, value, …]` list, by name, every `Set-Cookie` last (as a `Headers` copied into a Node header object). */
  toNodeArray(): string[] {
    const out: string[] = [];
    const order = this.sorted();
    for (const i of order) if (this.names[i] !== 'set-cookie') out.push(this.names[i]!, this.values[i]!);
    for (const i of order) if (this.names[i] === 'set-cookie') out.push('set-cookie', this.values[i]!);
    return out;
  }

  /** A WHATWG `Headers` with the same entries (for the `fetch` transport and public APIs). */
  toHeaders(): Headers {
    const h = new Headers();
    for (let i = 0; i < this.names.length; i++) {
      const name = this.names[i]!;
      let v = this.values[i]!;
      // A joined value that ends in `, ` had empty values appended last: append them as such, so
      // the Headers reads exactly as this list (Headers would trim a trailing space off one value).
      let empties = 0;
      while (v.endsWith(', ')) {
        v = v.slice(0, -2);
        empties++;
      }
      h.append(name, v);
      for (let k = 0; k < empties; k++) h.append(name, '');
    }
    return h;
  }
}

/** `Headers` for a transport or a public API, from either form. */
export function toWebHeaders(headers: HeaderFields): Headers {
  return headers instanceof HeaderList ? headers.toHeaders() : (headers as Headers);
}
/** Longest redirect location accepted. */
export const MAX_LOCATION_LENGTH = 8 * 1024;

/** Limits for {@link checkHeaders}. */
export interface HeaderLimits {
  maxValueBytes?: number;
  maxCount?: number;
  maxBytes?: number;
}

/** One header that was dropped, and why. */
export interface HeaderIssue {
  name: string;
  reason: string;
}

const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
// What Node's http module accepts in a value: HTAB, visible ASCII, space, and obs-text.
const BAD_VALUE_CHAR = /[^\t\x20-\x7e\x80-\xff]/;

/** True for a valid header field name (an RFC 9110 token). */
export function isHeaderName(name: unknown): boolean {
  return typeof name === 'string' && name.length > 0 && name.length <= 256 && TOKEN.test(name);
}

/** True for a header value that both Node and `Headers` accept unchanged. */
export function isHeaderValue(value: unknown): value is string {
  return typeof value === 'string' && !BAD_VALUE_CHAR.test(value) && value === value.trim();
}

/** Why `value` is not a header value, or undefined when it is one. */
export function headerValueProblem(value: unknown): string | undefined {
  if (typeof value !== 'string') return `a ${value === null ? 'null' : typeof value}, not a string`;
  const bad = BAD_VALUE_CHAR.exec(value);
  if (bad !== null) {
    const code = bad[0].codePointAt(0)!;
    return code === 10 || code === 13
      ? 'contains CR or LF'
      : `contains U+${code.toString(16).toUpperCase().padStart(4, '0')}, which is not allowed in a header value`;
  }
  if (value !== value.trim()) return 'has leading or trailing whitespace';
  return undefined;
}

const byteLength = (s: string): number => s.length; // every accepted character is one byte (≤ U+00FF)

/**
 * Reads a `HeadersInit`-like value from untrusted code into a
 * {@link HeaderList} (plain data; names in lower case), dropping every entry
 * that is not a valid name and value, and cutting at the size and count
 * limits. Never throws, whatever `init` is (a Proxy,
 * an object with throwing getters, a circular structure, …).
 */
export function checkHeaders(init: unknown, limits: HeaderLimits = {}): { headers: HeaderList; issues: HeaderIssue[] } {
  const maxValue = limits.maxValueBytes ?? MAX_HEADER_VALUE_BYTES;
  const maxCount = limits.maxCount ?? MAX_HEADER_COUNT;
  const maxBytes = limits.maxBytes ?? MAX_HEADER_BYTES;
  const headers = new HeaderList();
  const issues: HeaderIssue[] = [];
  if (init === undefined || init === null) return { headers, issues };
  let entries: Array<[unknown, unknown]>;
  try {
    entries = toEntries(init);
  } catch (e) {
    issues.push({ name: '*', reason: `the headers could not be read: ${safeMessage(e)}` });
    return { headers, issues };
  }
  let count = 0;
  let bytes = 0;
  for (const [rawName, rawValue] of entries) {
    const name: string = typeof rawName === 'string' ? rawName : safeString(rawName);
    if (!isHeaderName(name)) {
      issues.push({ name: name.slice(0, 64), reason: 'not a valid header name' });
      continue;
    }
    const value = typeof rawValue === 'number' && Number.isFinite(rawValue) ? String(rawValue) : rawValue;
    const problem = headerValueProblem(value);
    if (problem !== undefined) {
      issues.push({ name, reason: problem });
      continue;
    }
    const v = value as string;
    if (byteLength(v) > maxValue) {
      issues.push({ name, reason: `value longer than ${maxValue} bytes` });
      continue;
    }
    if (count >= maxCount) {
      issues.push({ name, reason: `more than ${maxCount} headers` });
      continue;
    }
    if (bytes + name.length + v.length > maxBytes) {
      issues.push({ name, reason: `headers larger than ${maxBytes} bytes in all` });
      continue;
    }
    count++;
    bytes += name.length + v.length;
    headers.append(name, v);
  }
  return { headers, issues };
}

function toEntries(init: unknown): Array<[unknown, unknown]> {
  if (init instanceof Headers || init instanceof HeaderList) {
    const out: Array<[unknown, unknown]> = [];
    init.forEach((v, k) => {
      if (k !== 'set-cookie') out.push([k, v]);
    });
    for (const c of init.getSetCookie()) out.push(['set-cookie', c]);
    return out;
  }
  if (Array.isArray(init)) {
    return init.slice(0, 4 * MAX_HEADER_COUNT).map((pair): [unknown, unknown] =>
      Array.isArray(pair) && pair.length === 2 ? [pair[0], pair[1]] : ['(not a [name, value] pair)', undefined],
    );
  }
  if (typeof init === 'object') {
    const out: Array<[unknown, unknown]> = [];
    for (const k of Object.keys(init as object).slice(0, 4 * MAX_HEADER_COUNT)) {
      const v = (init as Record<string, unknown>)[k];
      if (Array.isArray(v)) for (const x of v.slice(0, MAX_HEADER_COUNT)) out.push([k, x]);
      else out.push([k, v]);
    }
    return out;
  }
  throw new Error(`expected an object of headers, got a ${typeof init}`);
}

function safeString(v: unknown): string {
  try {
    return String(v);
  } catch {
    return '(unprintable)';
  }
}

function safeMessage(e: unknown): string {
  try {
    return e instanceof Error ? e.message : String(e);
  } catch {
    return '(unprintable error)';
  }
}

/**
 * A redirect target made safe for the `Location` header: characters outside
 * visible ASCII are percent-encoded (UTF-8), so `/login?next=€` works;
 * undefined when it cannot be made safe (CR, LF or another control
 * character, a lone surrogate, or longer than {@link MAX_LOCATION_LENGTH}).
 */
export function encodeLocation(location: unknown): string | undefined {
  if (typeof location !== 'string' || location === '' || location.length > MAX_LOCATION_LENGTH) return undefined;
  // eslint-disable-next-line no-control-regex
  if (/[\x00-\x1f\x7f]/.test(location)) return undefined;
  try {
    const encoded = location.replace(/[^\x21-\x7e]/gu, (c) => encodeURIComponent(c));
    return encoded.length <= MAX_LOCATION_LENGTH ? encoded : undefined;
  } catch {
    return undefined; // a lone surrogate
  }
}

/** Statuses a redirect may have. */
export const REDIRECT_STATUSES: ReadonlySet<number> = new Set([301, 302, 303, 307, 308]);

/**
 * Statuses a page with a body may be answered with through `httpStatus()`
 * (or a `default` route's `status`): the registered 2xx that carry a body
 * and every registered 4xx and 5xx. Not 1xx (interim), not 204/205/304
 * (no body), not other 3xx (use `redirect()`).
 */
export function isPageStatus(status: unknown): status is number {
  if (typeof status !== 'number' || !Number.isInteger(status)) return false;
  if (status === 200 || status === 203) return true;
  return status >= 400 && status <= 599 && REGISTERED.has(status);
}

const REGISTERED = new Set([
  400, 401, 402, 403, 404, 405, 406, 407, 408, 409, 410, 411, 412, 413, 414, 415, 416, 417, 418, 421, 422, 423, 424,
  425, 426, 428, 429, 431, 451, 500, 501, 502, 503, 504, 505, 506, 507, 508, 510, 511,
]);
