/**
 * Helpers for the hostile-input tests (hostile-requests, element-faults,
 * fragment-xss-browser): raw HTTP/1.1 over node:net (so the test sees the
 * exact bytes on the wire, and can send what fetch refuses to), checks of
 * those bytes for injected or invalid header lines and for reflected markup,
 * process-level counters of unhandled rejections and uncaught exceptions,
 * and a fake remote fragment server that misbehaves on request.
 */
import { connect, createServer, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { brotliDecompressSync, gunzipSync, inflateSync } from 'node:zlib';
import { parse as parseHtml } from 'parse5';
import { createAtoll, listen, memoryLogger, type AtollOptions, type Atoll, type RunningServer } from '../../ssr-server/index.ts';
import { fixture } from '../helpers.ts';

export const hostileRoot = fixture('hostile');

// ---------------------------------------------------------------------------
// The server under test

/** An Atoll server for the hostile fixture with its log lines in memory. */
export interface HostileServer {
  atoll: Atoll;
  running: RunningServer;
  port: number;
  logs: Array<Record<string, unknown>>;
  close(): Promise<void>;
}

export async function startHostile(options: AtollOptions = {}): Promise<HostileServer> {
  const logger = memoryLogger();
  const atoll = await createAtoll({ root: hostileRoot, logger, ...options });
  const running = await listen(atoll, { port: 0, host: '127.0.0.1' });
  const port = Number(new URL(running.url).port);
  return { atoll, running, port, logs: logger.lines, close: () => running.close() };
}

// ---------------------------------------------------------------------------
// Process-level fault counters

export interface ProcessFault {
  kind: 'unhandledRejection' | 'uncaughtException';
  /** The label that was current when it happened (the case being run). */
  label: string;
  what: string;
}

export interface FaultCounter {
  faults: ProcessFault[];
  /** Names what is running now, so a fault can be traced to its case. */
  label: string;
  /** Resolves at the next fault (so a request that will never be answered need not wait for its timeout). */
  next(): Promise<void>;
  dispose(): void;
}

function describeValue(v: unknown): string {
  try {
    if (v instanceof Error) return `${v.name}: ${v.message}\n${(v.stack ?? '').split('\n').slice(1, 5).join('\n')}`.slice(0, 2000);
    return String(v).slice(0, 500);
  } catch {
    return '(a value that cannot be printed)';
  }
}

/**
 * Counts `unhandledRejection` and `uncaughtException` events of this process.
 * Having a listener also keeps a throw inside the server's request listener
 * from ending the test process, so the run goes on and names every culprit.
 */
export function countProcessFaults(): FaultCounter {
  let waiters: Array<() => void> = [];
  const wake = (): void => {
    const w = waiters;
    waiters = [];
    for (const f of w) f();
  };
  const counter: FaultCounter = {
    faults: [],
    label: '(start-up)',
    next: () => new Promise((resolve) => waiters.push(resolve)),
    dispose() {
      process.off('unhandledRejection', onRejection);
      process.off('uncaughtException', onException);
    },
  };
  const onRejection = (reason: unknown): void => {
    counter.faults.push({ kind: 'unhandledRejection', label: counter.label, what: describeValue(reason) });
    wake();
  };
  const onException = (err: unknown): void => {
    counter.faults.push({ kind: 'uncaughtException', label: counter.label, what: describeValue(err) });
    wake();
  };
  process.on('unhandledRejection', onRejection);
  process.on('uncaughtException', onException);
  return counter;
}

// ---------------------------------------------------------------------------
// Raw HTTP

/** A response as it came over the wire. */
export interface RawResponse {
  /** Final status (after any 1xx), or 0 when no response head arrived. */
  status: number;
  statusLine: string;
  /** Interim (1xx) statuses seen before the final one. */
  interim: number[];
  /** Header lines of the final response, exactly as sent (latin1). */
  headerLines: string[];
  /** Header lines of every response head (interim and final). */
  allHeaderLines: string[];
  /** Lower-cased name → values. */
  headers: Map<string, string[]>;
  /** The body after de-chunking and content decoding. */
  body: Buffer;
  /** Every byte received. */
  raw: Buffer;
  /** No response head at all (the server closed or reset the connection). */
  noResponse: boolean;
  /** The timeout passed before the server closed the connection. */
  timedOut: boolean;
  /** The body was cut short (chunked encoding not terminated, or short of Content-Length). */
  incomplete: boolean;
  /** The response is known to be whole (terminated chunked body, full Content-Length, or no body by definition). */
  complete: boolean;
  /** Where this response ends in `raw`, when its framing says so (Content-Length, chunked, or no body). */
  end: number | undefined;
  /** Responses that followed on the same connection (see {@link RawOptions.expect}). */
  following: RawResponse[];
  /** Bytes after the last expected response (a server must send none). */
  trailing: number;
  /** Content decoding failed. */
  decodeError: string | undefined;
  /** The socket errored (e.g. ECONNRESET). */
  socketError: string | undefined;
  ms: number;
}

export interface RawOptions {
  timeoutMs?: number;
  /** The request was HEAD: the response has no body. */
  head?: boolean;
  /** Ends the writing side after sending (default false: the server decides). */
  endAfterWrite?: boolean;
  /**
   * How many responses to read from the connection (default 1): with 2, a
   * second request sent after the first (keep-alive) must get its own
   * well-framed response, which shows the first one's framing was right.
   */
  expect?: number;
  /** Hang up as soon as the first bytes of the answer arrive (a client that goes away mid-response). */
  hangUpOnFirstData?: boolean;
  /** Stop waiting 150 ms after this settles (e.g. a process fault: the server will not answer). */
  giveUpOn?: Promise<unknown>;
}

/** Sends `data` on a new connection to 127.0.0.1:`port` and reads until the server closes it or the timeout passes. */
export function rawRequest(port: number, data: string | Buffer, options: RawOptions = {}): Promise<RawResponse> {
  const timeoutMs = options.timeoutMs ?? 2000;
  const started = performance.now();
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let timedOut = false;
    let socketError: string | undefined;
    let settled = false;
    const socket: Socket = connect({ port, host: '127.0.0.1' });
    const finish = (): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      resolve(parseSequence(Buffer.concat(chunks), { head: options.head === true, timedOut, socketError, ms: performance.now() - started }, options.expect ?? 1));
    };
    const timer = setTimeout(() => {
      timedOut = true;
      finish();
    }, timeoutMs);
    void options.giveUpOn?.then(() =>
      setTimeout(() => {
        timedOut = true;
        finish();
      }, 150),
    );
    let received = 0;
    socket.on('data', (d: Buffer) => {
      chunks.push(d);
      received += d.length;
      if (options.hangUpOnFirstData) {
        finish();
        return;
      }
      // A keep-alive server leaves the connection open: stop once the response is whole.
      if (received < 1_000_000 || d.subarray(-5).toString('latin1') === '0\r\n\r\n') {
        const soFar = parseSequence(Buffer.concat(chunks), { head: options.head === true, timedOut: false, socketError: undefined, ms: 0 }, options.expect ?? 1);
        const all = [soFar, ...soFar.following];
        if (all.length >= (options.expect ?? 1) && all.every((r) => !r.noResponse && r.complete)) finish();
      }
    });
    socket.on('error', (e) => {
      socketError = (e as NodeJS.ErrnoException).code ?? e.message;
      finish();
    });
    socket.on('close', finish);
    socket.on('end', finish);
    socket.on('connect', () => {
      socket.write(typeof data === 'string' ? Buffer.from(data, 'latin1') : data);
      if (options.endAfterWrite) socket.end();
    });
  });
}

/** Builds a request: `headers` are raw [name, value] pairs (latin1, anything goes); Host and (unless `keepAlive`) Connection: close are added unless given. */
export function buildRequest(
  port: number,
  target: string,
  init: { method?: string; headers?: Array<[string, string]>; host?: string | null; version?: string; body?: string; keepAlive?: boolean } = {},
): string {
  const method = init.method ?? 'GET';
  const lines = [`${method} ${target} HTTP/${init.version ?? '1.1'}`];
  const headers = init.headers ?? [];
  const has = (n: string): boolean => headers.some(([k]) => k.toLowerCase() === n);
  if (init.host !== null && !has('host')) lines.push(`Host: ${init.host ?? `127.0.0.1:${port}`}`);
  if (!has('connection') && init.keepAlive !== true) lines.push('Connection: close');
  if (init.body !== undefined && !has('content-length')) lines.push(`Content-Length: ${Buffer.byteLength(init.body, 'latin1')}`);
  for (const [k, v] of headers) lines.push(`${k}: ${v}`);
  return lines.join('\r\n') + '\r\n\r\n' + (init.body ?? '');
}

/** A GET (or `method`) with raw headers; a URL target is sent as is (percent-encode it yourself). */
export function request(
  port: number,
  target: string,
  init: { method?: string; headers?: Array<[string, string]>; host?: string | null; version?: string; body?: string; timeoutMs?: number; giveUpOn?: Promise<unknown>; hangUpOnFirstData?: boolean } = {},
): Promise<RawResponse> {
  return rawRequest(port, buildRequest(port, target, init), {
    timeoutMs: init.timeoutMs,
    head: init.method === 'HEAD',
    giveUpOn: init.giveUpOn,
    hangUpOnFirstData: init.hangUpOnFirstData,
  });
}

interface ParseInfo {
  head: boolean;
  timedOut: boolean;
  socketError: string | undefined;
  /** 0 while the response is still arriving. */
  ms: number;
}

/** The first response in `raw`, with up to `expect - 1` more that followed it on the connection. */
function parseSequence(raw: Buffer, info: ParseInfo, expect: number): RawResponse {
  const first = parseRaw(raw, info, 0);
  let last = first;
  while (first.following.length < expect - 1 && last.end !== undefined && last.end < raw.length) {
    last = parseRaw(raw, { ...info, head: false }, last.end);
    first.following.push(last);
  }
  first.trailing = last.end === undefined ? 0 : raw.length - last.end;
  return first;
}

function parseRaw(raw: Buffer, info: ParseInfo, start = 0): RawResponse {
  const out: RawResponse = {
    status: 0,
    statusLine: '',
    interim: [],
    headerLines: [],
    allHeaderLines: [],
    headers: new Map(),
    body: Buffer.alloc(0),
    raw,
    noResponse: true,
    timedOut: info.timedOut,
    incomplete: false,
    complete: false,
    end: undefined,
    following: [],
    trailing: 0,
    decodeError: undefined,
    socketError: info.socketError,
    ms: info.ms,
  };
  let offset = start;
  for (;;) {
    const end = raw.indexOf('\r\n\r\n', offset);
    if (end === -1) {
      if (raw.length > offset) out.incomplete = true;
      return out;
    }
    const lines = raw.subarray(offset, end).toString('latin1').split('\r\n');
    offset = end + 4;
    const statusLine = lines[0] ?? '';
    const m = /^HTTP\/\d\.\d (\d{3})(?: |$)/.exec(statusLine);
    const status = m === null ? -1 : Number(m[1]);
    out.allHeaderLines.push(...lines.slice(1));
    if (status >= 100 && status < 200) {
      out.interim.push(status);
      continue;
    }
    out.noResponse = false;
    out.status = status;
    out.statusLine = statusLine;
    out.headerLines = lines.slice(1);
    for (const line of out.headerLines) {
      const i = line.indexOf(':');
      if (i <= 0) continue;
      const name = line.slice(0, i).toLowerCase();
      const list = out.headers.get(name) ?? [];
      list.push(line.slice(i + 1).trim());
      out.headers.set(name, list);
    }
    break;
  }
  const noBody = info.head || out.status === 204 || out.status === 304;
  let body = noBody ? Buffer.alloc(0) : raw.subarray(offset);
  // (Read until the server closes when neither Content-Length nor chunked framing is given.)
  const te = (out.headers.get('transfer-encoding') ?? []).join(',').toLowerCase();
  const cl = out.headers.get('content-length')?.[0];
  if (noBody) {
    out.complete = true;
    out.end = offset;
  } else if (te.includes('chunked')) {
    const d = dechunk(body);
    body = d.body;
    out.incomplete = !d.complete;
    out.complete = d.complete;
    if (d.complete) out.end = offset + d.consumed;
  } else if (cl !== undefined) {
    const n = Number(cl);
    if (body.length < n) out.incomplete = true;
    else {
      out.complete = true;
      out.end = offset + n;
    }
    body = body.subarray(0, n);
  }
  if (!out.complete && !info.timedOut && info.socketError === undefined && info.ms > 0) {
    // Read until the server closed: whatever came is the body.
    out.complete = !out.incomplete;
  }
  const ce = (out.headers.get('content-encoding') ?? []).join(',').trim().toLowerCase();
  if (ce !== '' && ce !== 'identity' && body.length > 0 && info.ms > 0) {
    try {
      body = ce === 'br' ? brotliDecompressSync(body) : ce === 'gzip' || ce === 'x-gzip' ? gunzipSync(body) : ce === 'deflate' ? inflateSync(body) : body;
      if (!['br', 'gzip', 'x-gzip', 'deflate'].includes(ce)) out.decodeError = `unknown content-encoding "${ce}"`;
    } catch (e) {
      out.decodeError = `${ce}: ${(e as Error).message}`;
    }
  }
  out.body = body;
  return out;
}

function dechunk(data: Buffer): { body: Buffer; complete: boolean; consumed: number } {
  const parts: Buffer[] = [];
  let offset = 0;
  for (;;) {
    const eol = data.indexOf('\r\n', offset);
    if (eol === -1) return { body: Buffer.concat(parts), complete: false, consumed: offset };
    const size = parseInt(data.subarray(offset, eol).toString('latin1').split(';')[0]!, 16);
    if (!Number.isFinite(size)) return { body: Buffer.concat(parts), complete: false, consumed: offset };
    if (size === 0) {
      // The last chunk, then trailer lines up to an empty line.
      const endOfTrailers = data.indexOf('\r\n\r\n', eol);
      const direct = data.subarray(eol, eol + 4).toString('latin1') === '\r\n\r\n';
      if (direct) return { body: Buffer.concat(parts), complete: true, consumed: eol + 4 };
      if (endOfTrailers === -1) return { body: Buffer.concat(parts), complete: false, consumed: offset };
      return { body: Buffer.concat(parts), complete: true, consumed: endOfTrailers + 4 };
    }
    const start = eol + 2;
    if (start + size > data.length) {
      parts.push(data.subarray(start));
      return { body: Buffer.concat(parts), complete: false, consumed: offset };
    }
    parts.push(data.subarray(start, start + size));
    offset = start + size + 2;
  }
}

/** The first value of a header, or undefined. */
export const header = (r: RawResponse, name: string): string | undefined => r.headers.get(name.toLowerCase())?.[0];

// ---------------------------------------------------------------------------
// Checks of the bytes on the wire

/** Node's default `http.maxHeaderSize`, which undici (fetch, and Atoll's remote client) uses too. */
export const MAX_READABLE_HEAD = 16 * 1024;

const HEADER_LINE = /^([!#$%&'*+.^_`|~0-9A-Za-z-]+):[ \t]*([\t\x20-\x7e\x80-\xff]*)$/;

/**
 * Problems with the response head: larger than other Node servers (and
 * Atoll's remote client) can read, a status line that is not HTTP/1.x with a
 * status in 100–599, a header line that is not `token: value` with no control
 * character (a CR or LF inside a line means a header was injected), and any
 * header whose name says it was injected (`x-evil`).
 */
export function headProblems(r: RawResponse): string[] {
  const problems: string[] = [];
  if (r.noResponse) return problems;
  const headBytes = r.allHeaderLines.reduce((n, l) => n + l.length + 2, 0);
  if (headBytes > MAX_READABLE_HEAD) {
    problems.push(`the response head is ${headBytes} bytes: Node's HTTP client and undici (Atoll's own remote client) refuse heads over ${MAX_READABLE_HEAD} bytes`);
  }
  if (!/^HTTP\/1\.[01] [1-5]\d\d( [\t\x20-\x7e\x80-\xff]*)?$/.test(r.statusLine)) problems.push(`bad status line ${JSON.stringify(r.statusLine)}`);
  for (const line of r.allHeaderLines) {
    if (!HEADER_LINE.test(line)) problems.push(`invalid header line ${JSON.stringify(line.slice(0, 200))}`);
    if (/^x-evil\s*:/i.test(line) || /\r|\n/.test(line)) problems.push(`injected header line ${JSON.stringify(line.slice(0, 200))}`);
  }
  return problems;
}

/**
 * Problems with a request head that Atoll sent to a remote: a request line
 * whose target is not visible ASCII, header lines that are not `token: value`
 * without control characters, an injected header, an x-request-id that is
 * not a sane token.
 */
export function requestHeadProblems(head: string): string[] {
  const problems: string[] = [];
  const [line = '', ...lines] = head.split('\r\n');
  if (!/^GET [\x21-\x7e]+ HTTP\/1\.1$/.test(line)) problems.push(`bad request line to the remote: ${JSON.stringify(line.slice(0, 200))}`);
  for (const l of lines) {
    if (!HEADER_LINE.test(l)) problems.push(`invalid header line to the remote: ${JSON.stringify(l.slice(0, 200))}`);
    if (/^x-evil\s*:/i.test(l)) problems.push(`injected header line to the remote: ${JSON.stringify(l.slice(0, 200))}`);
    const id = /^x-request-id:\s*(.*)$/i.exec(l)?.[1];
    if (id !== undefined && !/^[\w.:-]{1,64}$/.test(id)) problems.push(`x-request-id to the remote is not sane: ${JSON.stringify(id.slice(0, 80))}`);
  }
  return problems;
}

/** Text responses must not be sniffed into HTML by a browser. */
export function nosniffProblems(r: RawResponse): string[] {
  const type = header(r, 'content-type') ?? '';
  if (/^text\/plain/i.test(type) && (header(r, 'x-content-type-options') ?? '').toLowerCase() !== 'nosniff') {
    return [`text/plain response ${r.status} without X-Content-Type-Options: nosniff`];
  }
  return [];
}

/** Markup that must never come back unescaped, whatever the content type. */
const RAW_NEEDLES = [/<script>alert/i, /<img src=x/i, /<svg[ /]onload/i, /onfocus="alert/i];

// Attributes that none of the fixture's layouts or templates use: seeing one means it came from the request.
const SINK_ATTRIBUTES = new Set(['style', 'srcdoc', 'formaction', 'href', 'src', 'action', 'xlink:href', 'autofocus', 'tabindex', 'contenteditable', 'popover']);
// Elements none of the fixture's pages contain.
const FOREIGN_ELEMENTS = new Set(['img', 'iframe', 'svg', 'math', 'object', 'embed', 'base', 'form', 'input', 'frame', 'frameset', 'video', 'audio']);
const SANE_ATTRIBUTE = /^[a-z_:][a-z0-9_.:-]*$/;
const SANE_ELEMENT = /^[a-z][a-z0-9-]*$/;

interface P5Node {
  nodeName: string;
  tagName?: string;
  attrs?: Array<{ name: string; value: string }>;
  childNodes?: P5Node[];
  content?: P5Node;
  value?: string;
}

function walk(node: P5Node, visit: (n: P5Node) => void): void {
  visit(node);
  for (const c of node.childNodes ?? []) walk(c, visit);
  if (node.content !== undefined) walk(node.content, visit);
}

const textOf = (n: P5Node): string => (n.childNodes ?? []).map((c) => c.value ?? '').join('');

/**
 * Problems in a body that a browser would execute or that show a request
 * value escaped its context: raw needles anywhere in the bytes, and — for
 * HTML — event-handler or sink attributes, foreign elements, attribute and
 * element names that are not plain names, and scripts that mention the
 * payloads (parsed with parse5, template contents included).
 */
export function injectionProblems(r: RawResponse): string[] {
  const problems: string[] = [];
  const text = r.body.toString('utf8');
  for (const re of RAW_NEEDLES) {
    const m = re.exec(text);
    if (m !== null) problems.push(`reflected unescaped: …${JSON.stringify(text.slice(Math.max(0, m.index - 60), m.index + 60))}…`);
  }
  const type = header(r, 'content-type') ?? '';
  if (!/html/i.test(type)) return problems;
  const doc = parsePage(text) as P5Node;
  walk(doc, (n) => {
    const tag = n.tagName;
    if (tag === undefined) return;
    if (!SANE_ELEMENT.test(tag) || FOREIGN_ELEMENTS.has(tag)) problems.push(`unexpected element <${tag.slice(0, 60)}>`);
    for (const a of n.attrs ?? []) {
      const name = a.name;
      if (/^on./i.test(name)) problems.push(`event-handler attribute ${name}="${a.value.slice(0, 60)}" on <${tag}>`);
      else if (SINK_ATTRIBUTES.has(name) && !((name === 'href' || name === 'src') && a.value.startsWith('/_atoll/') && (tag === 'link' || tag === 'script'))) problems.push(`sink attribute ${name}="${a.value.slice(0, 60)}" on <${tag}>`);
      else if (!SANE_ATTRIBUTE.test(name)) problems.push(`odd attribute name ${JSON.stringify(name.slice(0, 60))} on <${tag}>`);
      if (/^\s*javascript:/i.test(a.value) && !name.startsWith('data-') && !['label', 'title', 'sid', 'mode'].includes(name)) {
        problems.push(`javascript: URL in ${name} on <${tag}>`);
      }
    }
    const scriptType = (n.attrs ?? []).find((a) => a.name === 'type')?.value ?? '';
    const data = /^(application\/json|importmap)$/i.test(scriptType);
    if (tag === 'script' && !data && /alert\(|__xss/.test(textOf(n))) problems.push(`a <script> carrying the payload: ${JSON.stringify(textOf(n).slice(0, 120))}`);
    if (tag === 'meta' && (n.attrs ?? []).some((a) => a.name === 'http-equiv')) problems.push('a <meta http-equiv>');
  });
  return problems;
}

/** The attributes on the first element named `tag` (template contents included), or undefined. */
export function hostAttributes(body: string, tag: string): Map<string, string> | undefined {
  const doc = parseHtml(body) as unknown as P5Node;
  let found: Map<string, string> | undefined;
  walk(doc, (n) => {
    if (found === undefined && n.tagName === tag) found = new Map((n.attrs ?? []).map((a) => [a.name, a.value]));
  });
  return found;
}

// ---------------------------------------------------------------------------
// Element states in a page

export interface ElementState {
  tag: string;
  attrs: Map<string, string>;
  /** Has a declarative shadow root (rendered by the server). */
  rendered: boolean;
  /** The value of `atoll-fallback`, if any. */
  fallback: string | undefined;
  /** Text of the light DOM (the layout children), without the shadow root. */
  lightText: string;
}

/**
 * Parses a page for structural checks. Large serialized-data scripts are
 * emptied first (parse5 takes seconds over megabytes of script text, and
 * their content is JSON, checked elsewhere).
 */
export function parsePage(body: string): unknown {
  const slim = body.replace(/(<script type="application\/json"[^>]*>)([^<]{10000,})(<\/script>)/g, '$1{}$3');
  return parseHtml(slim);
}

/** Every element named `tag` in a page (from {@link parsePage} or the text), in document order (top-level document only). */
export function elementsNamed(page: string | unknown, tag: string): ElementState[] {
  const doc = (typeof page === 'string' ? parsePage(page) : page) as P5Node;
  const out: ElementState[] = [];
  const visit = (n: P5Node): void => {
    if (n.tagName === tag) {
      const kids = n.childNodes ?? [];
      const rendered = kids.some((c) => c.tagName === 'template' && (c.attrs ?? []).some((a) => a.name === 'shadowrootmode'));
      const light = (x: P5Node): string =>
        x.tagName === 'template' ? '' : (x.value ?? '') + (x.childNodes ?? []).map(light).join('');
      out.push({
        tag,
        attrs: new Map((n.attrs ?? []).map((a) => [a.name, a.value])),
        rendered,
        fallback: (n.attrs ?? []).find((a) => a.name === 'atoll-fallback')?.value,
        lightText: kids.map(light).join('').trim(),
      });
    }
    for (const c of n.childNodes ?? []) visit(c);
  };
  visit(doc);
  return out;
}

// ---------------------------------------------------------------------------
// A fake remote fragment server

/**
 * A remote element's server, speaking raw HTTP/1.1 so it can send what
 * node:http refuses to (control characters in a header). The request's
 * `mode` query parameter picks the behaviour; the path's last segment is
 * the tag.
 */
export interface FakeRemote {
  url: string;
  server: Server;
  /** The request targets it received. */
  seen: string[];
  /** The raw request heads it received (latin1), in order. */
  heads: string[];
  close(): Promise<void>;
}

export function fakeRemote(): Promise<FakeRemote> {
  const seen: string[] = [];
  const heads: string[] = [];
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
    let buffered = '';
    socket.on('data', (d: Buffer) => {
      buffered += d.toString('latin1');
      const end = buffered.indexOf('\r\n\r\n');
      if (end === -1) return;
      const target = buffered.slice(0, buffered.indexOf('\r\n')).split(' ')[1] ?? '/';
      heads.push(buffered.slice(0, end));
      buffered = buffered.slice(end + 4);
      seen.push(target);
      answer(socket, target);
    });
  });
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      resolve({
        url: `http://127.0.0.1:${port}/frag`,
        server,
        seen,
        heads,
        close: () =>
          new Promise((r) => {
            for (const s of sockets) s.destroy();
            server.close(() => r());
          }),
      });
    }),
  );
}

function answer(socket: Socket, target: string): void {
  const url = new URL(target, 'http://remote.invalid');
  const tag = url.pathname.split('/').pop() ?? 'h-remote';
  const mode = url.searchParams.get('mode') ?? 'ok';
  // A well-behaved remote escapes what it echoes (its markup is trusted by design; Atoll checks its shape, not its content).
  const shown = mode.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
  const good = `<${tag} mode="${shown}"><template shadowrootmode="open"><p class="remote">remote ${shown}</p></template></${tag}>`;
  const send = (extra: string[], body: string, status = '200 OK'): void => {
    const head = [`HTTP/1.1 ${status}`, 'Content-Type: text/html; charset=utf-8', `Content-Length: ${Buffer.byteLength(body)}`, 'Connection: keep-alive', ...extra];
    socket.write(Buffer.from(head.join('\r\n') + '\r\n\r\n', 'latin1'));
    socket.write(body);
  };
  switch (mode) {
    case 'private':
      return send(['Cache-Control: private, max-age=60'], good);
    case 'vary':
      return send(['Cache-Control: public, max-age=60', 'Vary: Accept-Language'], good);
    case 'cookie':
      return send(['Set-Cookie: remote=1; Path=/; HttpOnly'], good);
    case 'no-store':
      return send(['Cache-Control: no-store'], good);
    case 'control-header':
      return send(['X-Ctl: a\u0001b', 'X-Kept: yes'], good);
    case 'big-header':
      return send([`X-Big: ${'b'.repeat(10 * 1024)}`, 'X-Kept: yes'], good);
    case 'huge-head':
      // 40 valid headers of ~500 bytes: a head past what undici reads by default (16 KiB).
      return send(Array.from({ length: 40 }, (_, i) => `X-Wide-${i}: ${'w'.repeat(480)}`), good);
    case 'not-fragment':
      return send([], '<div>this is not a fragment</div>');
    case 'reset':
      socket.write('HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 100000\r\n\r\n' + `<${tag}><template shadowrootmode="open"><p>half`);
      setTimeout(() => socket.resetAndDestroy(), 20).unref();
      return;
    case 'content-type-plain':
      // A fragment labelled text/plain: a representation header of the fragment, not the page's.
      socket.write(`HTTP/1.1 200 OK\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(good)}\r\n\r\n${good}`);
      return;
    case 'content-encoding-br':
      // Claims brotli for a plain body: must not be copied onto the page.
      return send(['Content-Encoding: br'], good);
    case 'chunked-hop': {
      const head = ['HTTP/1.1 200 OK', 'Content-Type: text/html', 'Transfer-Encoding: chunked', 'Connection: keep-alive', 'Keep-Alive: timeout=1', 'Trailer: X-Late', 'Upgrade: h2c', 'Proxy-Connection: close', 'X-Kept: yes'];
      socket.write(head.join('\r\n') + '\r\n\r\n' + `${Buffer.byteLength(good).toString(16)}\r\n${good}\r\n0\r\nX-Late: 1\r\n\r\n`);
      return;
    }
    case 'redirect':
      return send(['Location: https://evil.example/'], '', '302 Found');
    case 'set-cookie-control':
      return send(['Set-Cookie: a=1\u0001; Path=/', 'Set-Cookie: b=2; Path=/'], good);
    case 'many-cookies':
      return send(Array.from({ length: 200 }, (_, i) => `Set-Cookie: r${i}=v; Path=/`), good);
    case 'vary-star':
      return send(['Vary: *'], good);
    case 'early-hints':
      // A 103 with a Link to another origin before the answer: the page's client must not see it.
      socket.write('HTTP/1.1 103 Early Hints\r\nLink: <https://evil.example/x.js>; rel=preload; as=script\r\n\r\n');
      return send([], good);
    case 'unsolicited-continue':
      // A 100 Continue nobody asked for (undici refuses it: the element may fall back).
      socket.write('HTTP/1.1 100 Continue\r\n\r\n');
      return send([], good);
    case 'http10-close':
      // HTTP/1.0, no Content-Length: the body ends when the connection closes.
      socket.end(`HTTP/1.0 200 OK\r\nContent-Type: text/html\r\n\r\n${good}`);
      return;
    case 'trailing-script':
      // Markup after the element: it would land in the page outside any element.
      return send([], `${good}<script>window.__xss = 1; alert(1)</script>`);
    case 'comment-swallow':
      // An unclosed comment would swallow the rest of the page.
      return send([], `<${tag}><template shadowrootmode="open"><p>x</p></template><!-- </${tag}>`);
    case 'rawtext-swallow':
      // An unclosed RCDATA element would turn the rest of the page into text.
      return send([], `<${tag}><template shadowrootmode="open"><textarea></template></${tag}>`);
    case 'stall':
      // The head, then nothing: only the element's timeout ends it.
      socket.write('HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 1000\r\n\r\n' + `<${tag}><template shadowrootmode="open">`);
      return;
    case 'slow-head':
      // The head arrives long after the page's head deadline (but within the element's timeout).
      setTimeout(() => {
        if (!socket.destroyed) send(['Cache-Control: public, max-age=600'], good);
      }, 1500).unref();
      return;
    default:
      return send(['Cache-Control: public, max-age=60'], good);
  }
}

/** Resolves after `ms`. */
export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
