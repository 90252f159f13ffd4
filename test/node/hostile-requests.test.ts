/**
 * The hostile-request corpus (issue 9): hundreds of distinct requests that an
 * attacker or a broken client sends, over raw sockets to a real Atoll server
 * on 127.0.0.1 (in this process, so that unhandled rejections and uncaught
 * exceptions are counted). Groups: path traversal and `/_atoll/` paths,
 * malformed encodings, long URLs and headers, every method, XSS into every
 * sink, CR/LF and control characters into every header path, the fragment
 * endpoint over misbehaving hooks, hostile values forwarded to a remote
 * element, Host games, hostile Accept-Encoding, Range and conditional junk on
 * static files, and raw protocol junk.
 *
 * For every request: an answer within the timeout (or, for protocol junk, a
 * closed connection), a sensible status, valid header lines with nothing
 * injected and a head other Node clients can read, no request value
 * reflected as markup, `nosniff` on text/plain, bounded log lines (and no
 * error line for a 4xx), no process fault. The request goes out keep-alive
 * with a normal `GET /` behind it on the same connection, which must come
 * back whole: the server still serves, and the hostile answer was framed
 * right (else a new connection checks that the server still serves).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { seeded } from '../helpers.ts';
import { readManifest } from '../../ssr-server/build/manifest.ts';
import { isPageStatus } from '../../ssr-server/header-values.ts';
import {
  buildRequest,
  countProcessFaults,
  fakeRemote,
  header,
  headProblems,
  hostAttributes,
  injectionProblems,
  nosniffProblems,
  rawRequest,
  request,
  requestHeadProblems,
  sleep,
  startHostile,
  type FakeRemote,
  type FaultCounter,
  type HostileServer,
  type RawResponse,
} from './hostile-helpers.ts';

// This run's own build folder: no other run or test file writes into it.
const outDir = mkdtempSync(join(tmpdir(), 'atoll-hostile-client-'));
/** The public origin the config names: absolute URLs may use it, never the request's Host. */
const PUBLIC_ORIGIN = 'https://shop.example';
let server: HostileServer;
let remote: FakeRemote;
let faults: FaultCounter;
/** A built file that is served (set once the build is known). */
let asset = 'unknown.js';

before(async () => {
  faults = countProcessFaults();
  remote = await fakeRemote();
  server = await startHostile({
    client: { build: true, outDir },
    config: {
      cors: { origins: ['*'] },
      publicOrigin: PUBLIC_ORIGIN,
      requestHeaders: ['accept-language', 'user-agent', 'x-team'],
      elements: { 'h-remote': { url: `${remote.url}/h-remote` }, 'h-remote-primary': { url: `${remote.url}/h-remote-primary` } },
    },
  });
  const manifest = readManifest(outDir);
  asset = manifest?.elements['h-ok'] !== undefined && 'file' in manifest.elements['h-ok'] ? manifest.elements['h-ok'].file : asset;
});

after(async () => {
  await server?.close();
  await remote?.close();
  faults?.dispose();
  rmSync(outDir, { recursive: true, force: true });
});

// ---------------------------------------------------------------------------
// The corpus

type Status = { ok: (s: number) => boolean; text: string };
const client: Status = { ok: (s) => s >= 400 && s <= 499, text: '4xx' };
const notServer: Status = { ok: (s) => s >= 200 && s <= 499, text: '2xx–4xx (junk from the client is not a server error)' };
const success: Status = { ok: (s) => s >= 200 && s <= 299, text: '2xx' };
const oneOf = (...list: number[]): Status => ({ ok: (s) => list.includes(s), text: list.join(' or ') });

interface Case {
  group: string;
  name: string;
  /** The bytes to send, given the server's port (made with `req`: a keep-alive variant too). */
  send: Send;
  status: Status;
  head?: boolean;
  /** Raw protocol junk: closing the connection without an answer is fine. */
  mayClose?: boolean;
  check?: (r: RawResponse) => string[];
  timeoutMs?: number;
  /** Goes through the fake remote: every request Atoll sent it is checked too. */
  remote?: boolean;
}

const cases: Case[] = [];
const add = (c: Case): void => {
  cases.push(c);
};
type Init = Parameters<typeof buildRequest>[2];
/** Request bytes for a port; `keepAlive` (when given) builds the same request without Connection: close. */
type Send = ((port: number) => string | Buffer) & { keepAlive?: (port: number) => string };
const req = (target: string | (() => string), init: Init = {}): Send => {
  const t = (): string => (typeof target === 'string' ? target : target());
  const send = (port: number): string => buildRequest(port, t(), init);
  // HTTP/1.0 and an explicit Connection header decide the connection themselves.
  if (init.version === '1.0' || (init.headers ?? []).some(([k]) => k.toLowerCase() === 'connection')) return send;
  return Object.assign(send, { keepAlive: (port: number) => buildRequest(port, t(), { ...init, keepAlive: true }) });
};
const enc = encodeURIComponent;
const show = (s: string): string => {
  const j = JSON.stringify(s);
  return j.length > 70 ? `${j.slice(0, 60)}…(${s.length} chars)` : j;
};

/** No file content leaked. */
const noLeak = (r: RawResponse): string[] => {
  const t = r.body.toString('latin1');
  return /root:x:0:0|"name": "atoll-ssr"|"compilerOptions"|"devDependencies"/.test(t) ? ['a file outside the served set leaked'] : [];
};
/** No response header mentions what a hostile Host or forwarding header said; Link URLs are relative or on the public origin. */
const noHostReflection = (r: RawResponse): string[] => {
  const p = r.allHeaderLines.filter((l) => /evil\.example|javascript:/i.test(l)).map((l) => `a header reflects the hostile host: ${show(l)}`);
  for (const link of r.headers.get('link') ?? []) {
    for (const [, url] of link.matchAll(/<([^>]*)>/g)) {
      if (!url!.startsWith('/') && !url!.startsWith(PUBLIC_ORIGIN + '/')) p.push(`a Link URL is neither relative nor on ${PUBLIC_ORIGIN}: ${show(url!)}`);
    }
  }
  return p;
};
/** A request id that is sane, whatever the client sent. */
const saneRequestId = (r: RawResponse): string[] => {
  const id = header(r, 'x-request-id');
  return id === undefined || /^[\w.:-]{1,64}$/.test(id) ? [] : [`x-request-id echoed unchecked: ${show(id)}`];
};
/** Location, when present, is visible ASCII only (percent-encoded). */
const asciiLocation = (r: RawResponse): string[] => {
  const loc = header(r, 'location');
  return loc === undefined || /^[\x21-\x7e]+$/.test(loc) ? [] : [`Location is not percent-encoded: ${show(loc)}`];
};
/** A page that came back is whole. */
const wholePage = (r: RawResponse): string[] => {
  if (!/html/.test(header(r, 'content-type') ?? '') || r.status === 304) return [];
  const t = r.body.toString('utf8');
  return t.trimEnd().endsWith('</html>') || t.includes('</h-ok>') ? [] : [`the HTML body is cut short: ends ${show(t.slice(-60))}`];
};

// -- Path traversal on every static prefix -----------------------------------
const traversals = [
  '../../package.json',
  '..%2f..%2fpackage.json',
  '..%2F..%2Ftsconfig.json',
  '%2e%2e/%2e%2e/package.json',
  '%2e%2e%2f%2e%2e%2fpackage.json',
  '%252e%252e%252fpackage.json',
  '..\\..\\package.json',
  '..%5c..%5cpackage.json',
  '%2e%2e%5c%2e%2e%5cpackage.json',
  'x%00.js',
  '%00',
  '....//....//package.json',
  '..;/package.json',
  '%c0%ae%c0%ae/%c0%ae%c0%ae/package.json',
  '/etc/passwd',
  '..%00/package.json',
  '.%2e/.%2e/package.json',
  '%2e%2e%2f%2e%2e%2f%2e%2e%2f%2e%2e%2f%2e%2e%2fetc%2fpasswd',
  'h-ok/../../../../package.json',
  '..%252f..%252fpackage.json',
];
for (const prefix of ['/_atoll/assets/', '/_atoll/element/', '/_atoll/fragment/']) {
  for (const t of traversals) {
    const target = prefix + t + (prefix === '/_atoll/element/' ? '.js' : '');
    add({ group: 'traversal', name: target, send: req(target), status: client, check: noLeak });
  }
}

const atollPaths = [
  '/_atoll', '/_atoll/', '/_atoll/unknown', '/_atoll/fragment', '/_atoll/fragment/', '/_atoll/fragment/H-OK', '/_atoll/fragment/h-remote',
  '/_atoll/fragment/h-ok/extra', '/_atoll/fragment/div', '/_atoll/fragment/script', '/_atoll/fragment/atoll-route', '/_atoll/element/h-ok',
  '/_atoll/element/.js', '/_atoll/element/h-remote.js', '/_atoll/element/H-OK.js', '/_atoll/assets/', '/_atoll/assets/chunks/', '/_atoll/assets/manifest.json',
  '/_atoll/embed.js.map', '/_atoll/embed.js/', '/_atoll/health/', '/_atoll/health/..%2f..%2fpackage.json', '/_atoll/health?<script>alert(1)</script>',
];
for (const target of atollPaths) {
  add({ group: 'atoll-paths', name: target, send: req(target), status: target.startsWith('/_atoll/health?') ? notServer : client, check: noLeak });
}

// -- Malformed encodings -----------------------------------------------------
const encodings: Array<[string, string]> = [
  ['overlong /', '%c0%af'],
  ['overlong ..', '%c0%ae%c0%ae'],
  ['lone high surrogate', '%ed%a0%80'],
  ['lone low surrogate', '%ed%bf%bf'],
  ['invalid escape %zz', '%zz'],
  ['bare %', '%'],
  ['truncated UTF-8', '%e2%82'],
  ['BOM-like bytes', '%ff%fe'],
  ['%u escape', '%u0041'],
  ['short escape', '%2'],
  ['above U+10FFFF', '%f4%90%80%80'],
  ['noncharacter', '%ef%bf%bf'],
  ['5-byte sequence', '%f8%88%80%80%80'],
  ['NUL', '%00'],
  ['raw bytes ff fe', '\xff\xfe'],
  ['raw byte 80', '\x80'],
  ['raw UTF-8 é', '\xc3\xa9'],
];
for (const [what, e] of encodings) {
  add({ group: 'encodings', name: `route param: ${what}`, send: req(`/echo/a${e}b`), status: notServer });
  add({ group: 'encodings', name: `query value: ${what}`, send: req(`/?q=a${e}b`), status: notServer });
  add({ group: 'encodings', name: `query name: ${what}`, send: req(`/?a${e}b=1`), status: notServer });
  add({ group: 'encodings', name: `fragment attribute value: ${what}`, send: req(`/_atoll/fragment/h-ok?label=a${e}b`), status: notServer });
  add({ group: 'encodings', name: `fragment tag: ${what}`, send: req(`/_atoll/fragment/h-ok${e}`), status: client });
}

// -- Long URLs and headers ---------------------------------------------------
const many = (n: number, f: (i: number) => [string, string]): Array<[string, string]> => Array.from({ length: n }, (_, i) => f(i));
add({ group: 'long', name: 'URL just over 8 KiB', send: req('/' + 'a'.repeat(8200)), status: oneOf(414, 431) });
add({ group: 'long', name: 'query just under 8 KiB', send: req('/?q=' + 'a'.repeat(8100)), status: success });
add({ group: 'long', name: '20 KB query', send: req('/?q=' + 'a'.repeat(20_000)), status: client });
add({ group: 'long', name: '100 KB path of segments', send: req('/' + 'a/'.repeat(50_000)), status: client });
add({ group: 'long', name: '2,000 query parameters', send: req('/?' + 'a=1&'.repeat(1900)), status: notServer });
add({ group: 'long', name: '8,000-character route param', send: req('/echo/' + 'x'.repeat(8000)), status: notServer });
add({ group: 'long', name: '8,000-character fragment attribute', send: req('/_atoll/fragment/h-ok?label=' + 'x'.repeat(8000)), status: notServer });
add({ group: 'long', name: '8,000-character fragment tag', send: req('/_atoll/fragment/h-' + 'x'.repeat(8000)), status: client });
add({ group: 'long', name: '100 fragment attributes', send: req('/_atoll/fragment/h-ok?' + Array.from({ length: 100 }, (_, i) => `a${i}=1`).join('&')), status: notServer });
add({ group: 'long', name: '12 KB header value', send: req('/', { headers: [['X-Long', 'a'.repeat(12_000)]] }), status: success });
add({ group: 'long', name: '20 KB header value', send: req('/', { headers: [['X-Long', 'a'.repeat(20_000)]] }), status: client });
add({ group: 'long', name: '500 headers', send: req('/', { headers: many(500, (i) => [`X-H${i}`, String(i)]) }), status: success });
add({ group: 'long', name: '3,000 headers', send: req('/', { headers: many(3000, (i) => [`X-H${i}`, String(i)]) }), status: client });
add({ group: 'long', name: '14 KB Cookie', send: req('/', { headers: [['Cookie', 'a=' + 'c'.repeat(14_000)]] }), status: notServer });
add({ group: 'long', name: '10 KB Accept-Language (passed to elements)', send: req('/', { headers: [['Accept-Language', 'en;q=0.5,'.repeat(1000)]] }), status: success });
add({ group: 'long', name: '10 KB User-Agent', send: req('/', { headers: [['User-Agent', 'U'.repeat(10_000)]] }), status: success });
add({ group: 'long', name: '10 KB x-request-id', send: req('/', { headers: [['X-Request-Id', 'r'.repeat(10_000)]] }), status: success, check: saneRequestId });

// -- Methods -----------------------------------------------------------------
const methodPaths = ['/', '/echo/x', '/_atoll/fragment/h-ok', () => `/_atoll/assets/${asset}`, '/_atoll/embed.js', '/_atoll/element/h-ok.js', '/_atoll/health'] as const;
for (const path of methodPaths) {
  const shown = typeof path === 'string' ? path : '/_atoll/assets/<h-ok entry>';
  for (const method of ['POST', 'PUT', 'DELETE', 'PATCH', 'TRACE', 'OPTIONS', 'PROPFIND', 'FOO', 'get', 'HEAD']) {
    const withBody = ['POST', 'PUT', 'PATCH'].includes(method);
    const status =
      method === 'HEAD' ? success : method === 'OPTIONS' ? oneOf(200, 204, 405, 501) : method === 'FOO' || method === 'get' ? oneOf(400, 405, 501) : oneOf(400, 405, 501);
    add({
      group: 'methods',
      name: `${method} ${shown}`,
      send: req(path, { method, body: withBody ? 'a=1&b=<script>alert(1)</script>' : undefined, headers: [['X-Trace-Marker', 'secret-cookie-value']] }),
      status,
      head: method === 'HEAD',
      check: (r) => {
        const p: string[] = [];
        if (r.body.toString('latin1').includes('secret-cookie-value')) p.push('the request was echoed back');
        if (r.status === 405 && header(r, 'allow') === undefined) p.push('405 without Allow');
        if (method === 'HEAD' && r.body.length > 0) p.push('HEAD answered with a body');
        return p;
      },
    });
  }
}
for (const target of ['127.0.0.1:1', 'evil.example:443']) {
  add({ group: 'methods', name: `CONNECT ${target}`, send: req(target, { method: 'CONNECT' }), status: client, mayClose: true });
}

// -- XSS into every sink -----------------------------------------------------
const payloads = [
  '"><script>alert(1)</script>',
  '" onfocus="alert(1)" autofocus="',
  "' onfocus='alert(1)' autofocus='",
  '<img src=x onerror=alert(1)>',
  '</script><script>alert(1)</script>',
  '--><script>alert(1)</script><!--',
  '<svg onload=alert(1)>',
  'javascript:alert(1)',
  '\u2028\u2029</template><script>alert(1)</script>',
  '&quot; onfocus=alert(1) x=&quot;',
  '<!--<script>',
  '{{constructor.constructor("alert(1)")()}}${alert(1)}',
];
const sinks: Array<[string, (p: string) => string, Status]> = [
  ['query q → label attribute', (p) => `/?q=${enc(p)}`, success],
  ['query x → data-x attribute', (p) => `/?x=${enc(p)}`, success],
  ['query t → title after a literal', (p) => `/?t=${enc(p)}`, success],
  ['query d → serialized data', (p) => `/?d=${enc(p)}`, success],
  ['route param → label attribute', (p) => `/echo/${enc(p)}`, notServer],
  ['query q → data-q on a param route', (p) => `/echo/a?q=${enc(p)}`, success],
  ['fragment label attribute', (p) => `/_atoll/fragment/h-ok?label=${enc(p)}`, success],
  ['fragment sid attribute', (p) => `/_atoll/fragment/h-ok?sid=${enc(p)}`, success],
  ['fragment 404 text (the tag)', (p) => `/_atoll/fragment/${enc(p)}`, client],
];
for (const [sink, target, status] of sinks) {
  payloads.forEach((p, i) => add({ group: 'xss', name: `${sink}: payload ${i + 1} ${show(p)}`, send: req(target(p)), status }));
}
const fragmentAttacks = [
  'tabindex=0&autofocus=&onfocus=alert(1)',
  'onfocus=alert(document.domain)&autofocus=',
  'onclick=alert(1)',
  'onmouseover=alert(1)&style=display:block;position:fixed;inset:0',
  'style=background:url(javascript:alert(1))',
  'srcdoc=%3Cscript%3Ealert(1)%3C/script%3E',
  'ONFOCUS=alert(1)',
  'OnFocus=alert(1)',
  'a%22b=1',
  'a%3Eb=1',
  '%22%3E%3Cscript%3Ealert(1)%3C/script%3E=1',
  'a%20onfocus=alert(1)',
  'x%3D%22y%22%20onfocus=alert(1)',
  'formaction=javascript:alert(1)',
  'href=javascript:alert(1)',
  'src=javascript:alert(1)',
  'xmlns=http://www.w3.org/2000/svg',
  'hydrate=%22%20onfocus%3D%22alert(1)',
  'popover=&onbeforetoggle=alert(1)',
  'contenteditable=&onfocus=alert(1)',
  'sid=x&label=y&onfocus=alert(1)',
  'data-x=1&onanimationstart=alert(1)',
  'label=a&label=%22%3E%3Cscript%3Ealert(1)%3C/script%3E',
  'on%00focus=alert(1)',
];
for (const q of fragmentAttacks) {
  add({ group: 'xss', name: `fragment attribute names: ?${q}`, send: req(`/_atoll/fragment/h-ok?${q}`), status: notServer });
}

// -- CR/LF and control characters into every header path ---------------------
const cookieValues = [
  'a%01b', 'a%7fb', 'a%0d%0aX-Evil:%201', 'a%0aX-Evil:1', 'a%0dX-Evil:1', 'a%00b', '%E2%82%AC', '%C3%BF',
  '%F0%9F%98%80', 'a%09b', 'v'.repeat(7000), '%20lead', 'a%1bb', '%C2%85',
];
for (const path of ['/cookie', '/cookie-primary']) {
  for (const c of cookieValues) {
    add({ group: 'header-injection', name: `${path}?c=${show(c)} (into Set-Cookie and X-Echo)`, send: req(`${path}?c=${c}`), status: success, check: wholePage });
  }
}
const nexts = [
  '%0d%0aX-Evil:1', '%0aX-Evil:1', '%0dX-Evil:1', '%E2%82%AC', '%00', '%ED%A0%80', '%2F%2Fevil2.test', 'javascript:alert(1)', '%7f', '%09',
  '%20', 'n'.repeat(7000), '%C3%BF', '%F0%9F%98%80', 'a%0d%0a%0d%0a%3Cscript%3Ealert(1)%3C/script%3E',
];
for (const next of nexts) {
  add({
    group: 'header-injection',
    name: `redirect next=${show(next)}`,
    send: req(`/login-redirect?next=${next}`),
    status: { ok: (s) => (s >= 301 && s <= 308) || s === 500, text: 'a redirect, or 500' },
    check: (r) => [...asciiLocation(r), ...wholePage(r)],
  });
}
for (const s of ['99', 'NaN', '999', '1000000', '-1', '0', '1e3', '0x1f4', '200.5', '204', '304', '101', '600', '1000', '410', '503', 'Infinity', '', '302']) {
  const n = Number(s);
  const expected = isPageStatus(n) ? n : 500;
  add({ group: 'header-injection', name: `httpStatus(Number(${show(s)}))`, send: req(`/status?s=${s}`), status: oneOf(expected), check: wholePage });
}
const requestIds = ['<script>alert(1)</script>', 'a"b', '%0d%0aX-Evil:1', 'a\tb', '\xff\xfe', 'a b', '../../etc', 'ok-id-1', '', 'x'.repeat(65), 'a\x01b'];
for (const id of requestIds) {
  for (const target of ['/', '/_atoll/fragment/no-such-tag']) {
    add({
      group: 'header-injection',
      name: `x-request-id ${show(id)} on ${target}`,
      send: req(target, { headers: [['X-Request-Id', id]] }),
      status: id.includes('\x01') ? client : target === '/' ? success : client,
      check: (r) => {
        const p = saneRequestId(r);
        if (id === 'ok-id-1' && r.status === 200 && header(r, 'x-request-id') !== id) p.push('a sane x-request-id was not kept');
        return p;
      },
    });
  }
}
for (const origin of ['https://evil.example', 'null', '*', 'https://a\xffb', 'https://' + 'o'.repeat(10_000), 'https://a.example, https://b.example', 'https://a.example\t']) {
  add({ group: 'header-injection', name: `Origin ${show(origin)} on the fragment`, send: req('/_atoll/fragment/h-ok', { headers: [['Origin', origin]] }), status: success });
}
for (const asked of ['x-a, x-b', 'x'.repeat(10_000), 'x-a\xff', 'x-a, <script>', 'x-a\t, y']) {
  add({
    group: 'header-injection',
    name: `preflight Access-Control-Request-Headers ${show(asked)}`,
    send: req('/_atoll/fragment/h-ok', { method: 'OPTIONS', headers: [['Origin', 'https://a.example'], ['Access-Control-Request-Method', 'GET'], ['Access-Control-Request-Headers', asked]] }),
    status: oneOf(200, 204),
  });
}

// -- The fragment endpoint over elements whose hooks misbehave ------------------
// The element is primary there: its failure decides the fragment's status.
const fragmentFaults: Array<[string, Status]> = [
  ['h-status?s=99', oneOf(500)], ['h-status?s=NaN', oneOf(500)], ['h-status?s=999', oneOf(500)], ['h-status?s=1000000', oneOf(500)], ['h-status?s=410', oneOf(410)],
  ['h-redirect?next=%0d%0aX-Evil:1', oneOf(500)], ['h-redirect?next=%E2%82%AC', oneOf(302)], ['h-redirect?next=a%01b', oneOf(500)],
  ['h-reject?m=null-prototype', oneOf(500)], ['h-reject?m=throwing-tostring', oneOf(500)], ['h-reject?m=proxy', oneOf(500)], ['h-reject?m=string-10mb', oneOf(500)], ['h-reject?m=error-getters', oneOf(500)],
  ['h-returns?m=proxy', oneOf(500)], ['h-returns?m=circular', oneOf(200)], ['h-returns?m=bigint', oneOf(200)], ['h-returns?m=throwing-tostring', oneOf(500)], ['h-returns?m=proto-key', oneOf(200, 500)],
  ['h-cached?m=circular', oneOf(200)], ['h-cached?m=bigint', oneOf(200)],
  ['h-hdr?m=control-value', oneOf(200)], ['h-hdr?m=crlf-value', oneOf(200)], ['h-hdr?m=proxy', oneOf(200)], ['h-hdr?m=thousand', oneOf(200)], ['h-hdr?m=hop-by-hop', oneOf(200)], ['h-hdr?m=non-latin1', oneOf(200)],
  ['h-cookie?c=a%01b', oneOf(200)], ['h-cookie?c=%0d%0aX-Evil:1', oneOf(200)], ['h-cookie?c=%E2%82%AC', oneOf(200)],
];
for (const [q, status] of fragmentFaults) {
  add({
    group: 'fragment-faults',
    name: `/_atoll/fragment/${q}`,
    send: req(`/_atoll/fragment/${q}`),
    status,
    check: (r) => [
      ...asciiLocation(r),
      ...(r.status === 200 && !r.body.toString('utf8').includes('</h-')) ? ['the fragment has no closed element'] : [],
      ...(r.headers.has('content-length') && r.status !== 302 && /html/.test(header(r, 'content-type') ?? '') ? [`a fragment with Content-Length ${header(r, 'content-length')}`] : []),
    ],
  });
}

// -- Hostile values forwarded to a remote element ------------------------------
// The route param becomes the remote element's `mode` attribute, which goes to
// the remote as a query parameter; allowed request headers go along.
const remoteModes = ['%0d%0aX-Evil:1', '%3Cscript%3Ealert(1)%3C%2Fscript%3E', '%E2%82%AC', '..%2f..%2fadmin', 'a%20b%09c', '%00', '%ED%A0%80', 'ok%23frag', 'ok%3Fmode%3Dprivate', 'x'.repeat(4000)];
const forwardedHeaders: Array<[string, Array<[string, string]>]> = [
  ['Accept-Language with high bytes', [['Accept-Language', '\xff\xfe\x80']]],
  ['a 10 KB Accept-Language', [['Accept-Language', 'de;q=0.1,'.repeat(1100)]]],
  ['User-Agent with a tab and quotes', [['User-Agent', 'a\t"b" <c>']]],
  ['an allowed header given 20 times', Array.from({ length: 20 }, (_, i): [string, string] => ['X-Team', `t${i}`])],
  ['x-request-id junk', [['X-Request-Id', '<script>'], ['X-Request-Id', 'again']]],
  ['Host: evil.example', [['Host', 'evil.example']]],
];
for (const path of ['/remote', '/remote-primary']) {
  for (const mode of remoteModes) {
    add({ group: 'remote-forwarding', name: `${path}/${show(mode)}`, send: req(`${path}/${mode}`), status: path === '/remote' ? success : oneOf(200, 404, 502), remote: true, check: wholePage });
  }
  for (const [what, headers] of forwardedHeaders) {
    add({ group: 'remote-forwarding', name: `${path}/ok with ${what}`, send: req(`${path}/ok`, { headers }), status: success, remote: true, check: wholePage });
  }
}

// -- Host games ----------------------------------------------------------------
const hostGames: Array<[string, Init]> = [
  ['Host: evil.example', { host: 'evil.example' }],
  ['Host: evil.example:8080', { host: 'evil.example:8080' }],
  ['Host: evil.example with X-Forwarded-Proto: https', { host: 'evil.example', headers: [['X-Forwarded-Proto', 'https']] }],
  ['X-Forwarded-Proto: javascript', { headers: [['X-Forwarded-Proto', 'javascript']] }],
  ['X-Forwarded-Proto: javascript:alert(1)//', { headers: [['X-Forwarded-Proto', 'javascript:alert(1)//']] }],
  ['X-Forwarded-Host: evil.example', { headers: [['X-Forwarded-Host', 'evil.example']] }],
  ['Forwarded: host=evil.example;proto=javascript', { headers: [['Forwarded', 'host=evil.example;proto=javascript']] }],
  ['empty Host', { host: '' }],
  ['Host: 127.0.0.1@evil.example', { host: '127.0.0.1@evil.example' }],
  ['Host: evil.example/x', { host: 'evil.example/x' }],
  ['Host: [::1]:80', { host: '[::1]:80' }],
  ['Host: a"b<c>', { host: 'a"b<c>' }],
  ['Host: javascript:alert(1)', { host: 'javascript:alert(1)' }],
  ['Host: evil.example.', { host: 'evil.example.' }],
];
for (const path of ['/_atoll/fragment/h-ok', '/', '/login-redirect?next=/home']) {
  for (const [name, init] of hostGames) {
    add({ group: 'host', name: `${name} on ${path}`, send: req(path, init), status: notServer, check: noHostReflection });
  }
  add({ group: 'host', name: `no Host (HTTP/1.1) on ${path}`, send: req(path, { host: null }), status: client, mayClose: true, check: noHostReflection });
  add({
    group: 'host',
    name: `no Host (HTTP/1.0) on ${path}`,
    send: req(path, { host: null, version: '1.0' }),
    status: path.startsWith('/login-redirect') ? oneOf(302) : success,
    check: (r) => [...noHostReflection(r), ...(r.interim.length > 0 ? [`an HTTP/1.0 client got interim responses ${r.interim.join(', ')}`] : [])],
  });
  add({ group: 'host', name: `two Host headers on ${path}`, send: (p) => buildRequest(p, path, { headers: [['Host', `127.0.0.1:${p}`], ['Host', 'evil.example']] }), status: notServer, mayClose: true, check: noHostReflection });
  add({ group: 'host', name: `absolute-form target on ${path}`, send: req(`http://evil.example${path}`, { host: 'evil.example' }), status: notServer, check: noHostReflection });
  add({ group: 'host', name: `scheme-relative target on ${path}`, send: req(`//evil.example${path}`), status: notServer, check: noHostReflection });
}
// The redirect's Location stays what the element said: never made absolute from Host.
for (const [name, init] of hostGames.slice(0, 7)) {
  add({
    group: 'host',
    name: `${name}: Location of a redirect`,
    send: req('/login-redirect?next=/home', init),
    status: oneOf(302),
    check: (r) => (header(r, 'location') === '/login?next=/home' ? [] : [`Location is ${show(header(r, 'location') ?? '(none)')}`]),
  });
}

// -- Accept-Encoding -----------------------------------------------------------
const acceptEncodings = [
  'br;q=2, gzip;q=nan', 'gzip;q=-1', '*', '*;q=0', 'identity;q=0', 'identity;q=0, *;q=0', 'gzip, '.repeat(1700) + 'br',
  'br;q=0, gzip;q=0', 'x-gzip', 'deflate', 'compress', 'br;q=1e999', '', ',,,,;;;;', 'gzip;q=0.000', 'BR', 'br;q=0.0001',
  'gzip;q=0.', 'zstd', 'br;q=0', 'gzip;q=0, br;q=0, *;q=1',
];
/** The encoding used must be one the client did not refuse (q=0). */
function encodingProblems(accept: string, r: RawResponse): string[] {
  const used = (header(r, 'content-encoding') ?? '').toLowerCase();
  if (r.decodeError !== undefined) return [`the body does not decode: ${r.decodeError}`];
  if (used === '' || used === 'identity') return [];
  const refused = accept
    .toLowerCase()
    .split(',')
    .map((p) => p.trim().split(';').map((x) => x.trim()))
    .some(([name, ...params]) => name === used && params.some((x) => /^q=0(\.0*)?$/.test(x)));
  return refused ? [`used ${used}, which the client refused with q=0`] : [];
}
for (const path of ['/', () => `/_atoll/assets/${asset}`, '/_atoll/embed.js'] as const) {
  const shown = typeof path === 'string' ? path : '/_atoll/assets/<h-ok entry>';
  for (const accept of acceptEncodings) {
    add({
      group: 'accept-encoding',
      name: `Accept-Encoding ${show(accept)} on ${shown}`,
      send: req(path, { headers: [['Accept-Encoding', accept]] }),
      status: /identity;q=0/.test(accept) ? oneOf(200, 406) : oneOf(200),
      check: (r) => [...encodingProblems(accept, r), ...wholePage(r), ...(r.status === 200 && r.body.length === 0 ? ['an empty body'] : [])],
    });
  }
}

// -- Range and conditional junk on static files -------------------------------
const conditionals: Array<[string, string]> = [
  ['Range', 'bytes=0-0'], ['Range', 'bytes=-1'], ['Range', 'bytes=99999999999-'], ['Range', 'bytes=abc'], ['Range', 'bytes=' + '0-1,'.repeat(2000)],
  ['Range', 'bytes=1-0'], ['Range', 'items=0-1'], ['Range', 'bytes=0-0,-1'],
  ['If-None-Match', '*'], ['If-None-Match', '"'], ['If-None-Match', 'W/'], ['If-None-Match', '"x", '.repeat(1000)], ['If-None-Match', '"<script>alert(1)</script>"'],
  ['If-None-Match', '\xff'], ['If-None-Match', 'W/"' + 'a'.repeat(5000) + '"'], ['If-None-Match', '""'],
  ['If-Modified-Since', 'junk'], ['If-Modified-Since', 'Sat, 31 Dec 9999 23:59:59 GMT'], ['If-Range', '"x"'],
];
for (const path of [() => `/_atoll/assets/${asset}`, '/_atoll/embed.js'] as const) {
  const shown = typeof path === 'string' ? path : '/_atoll/assets/<h-ok entry>';
  for (const [name, value] of conditionals) {
    add({
      group: 'conditional',
      name: `${name}: ${show(value)} on ${shown}`,
      send: req(path, { headers: [[name, value]] }),
      status: oneOf(200, 206, 304, 412, 416),
      check: (r) => (r.status === 200 && r.body.length === 0 ? ['an empty 200'] : []),
    });
  }
}

// -- Raw protocol junk ---------------------------------------------------------
const protocolJunk: Array<[string, (port: number) => string | Buffer, Status?]> = [
  ['request line without target', () => 'GET\r\n\r\n'],
  ['HTTP/9.9', (p) => `GET / HTTP/9.9\r\nHost: 127.0.0.1:${p}\r\n\r\n`],
  ['double space in the request line', (p) => `GET  / HTTP/1.1\r\nHost: 127.0.0.1:${p}\r\nConnection: close\r\n\r\n`],
  ['control bytes', () => '\x00\x01\x02\x03\r\n\r\n'],
  ['NUL in the target', (p) => `GET /\x00 HTTP/1.1\r\nHost: 127.0.0.1:${p}\r\n\r\n`],
  ['CR in the target', (p) => `GET /a\rb HTTP/1.1\r\nHost: 127.0.0.1:${p}\r\n\r\n`],
  ['CR LF injected in the target', (p) => `GET /?q=a\r\nX-Evil: 1 HTTP/1.1\r\nHost: 127.0.0.1:${p}\r\n\r\n`],
  ['a raw # and markup in the target', (p) => `GET /?q=a#<script>alert(1)</script> HTTP/1.1\r\nHost: 127.0.0.1:${p}\r\nConnection: close\r\n\r\n`],
  ['a tab in the target', (p) => `GET /echo/a\tb HTTP/1.1\r\nHost: 127.0.0.1:${p}\r\nConnection: close\r\n\r\n`],
  ['OPTIONS *', (p) => `OPTIONS * HTTP/1.1\r\nHost: 127.0.0.1:${p}\r\nConnection: close\r\n\r\n`, { ok: (s) => (s >= 200 && s <= 299) || (s >= 400 && s <= 499), text: '2xx or 4xx' }],
  ['space in the target', (p) => `GET /?q=a b HTTP/1.1\r\nHost: 127.0.0.1:${p}\r\nConnection: close\r\n\r\n`],
  ['bare LF line endings', (p) => `GET / HTTP/1.1\nHost: 127.0.0.1:${p}\nConnection: close\n\n`],
  ['header without colon', (p) => `GET / HTTP/1.1\r\nHost: 127.0.0.1:${p}\r\nX-Bad\r\n\r\n`],
  ['space before the colon', (p) => `GET / HTTP/1.1\r\nHost : 127.0.0.1:${p}\r\n\r\n`],
  ['obs-fold', (p) => `GET / HTTP/1.1\r\nHost: 127.0.0.1:${p}\r\nX-A: a\r\n b\r\n\r\n`],
  ['Transfer-Encoding and Content-Length (smuggling)', (p) => `POST / HTTP/1.1\r\nHost: 127.0.0.1:${p}\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nGET /x HTTP/1.1\r\n\r\n`],
  ['Content-Length: -1', (p) => `GET / HTTP/1.1\r\nHost: 127.0.0.1:${p}\r\nContent-Length: -1\r\n\r\n`],
  ['Content-Length: abc', (p) => `GET / HTTP/1.1\r\nHost: 127.0.0.1:${p}\r\nContent-Length: abc\r\n\r\n`],
  ['two different Content-Length', (p) => `POST / HTTP/1.1\r\nHost: 127.0.0.1:${p}\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab`],
  ['huge chunk size', (p) => `POST / HTTP/1.1\r\nHost: 127.0.0.1:${p}\r\nTransfer-Encoding: chunked\r\n\r\nffffffffffffffffffff\r\n`],
  ['Transfer-Encoding: xchunked', (p) => `POST / HTTP/1.1\r\nHost: 127.0.0.1:${p}\r\nTransfer-Encoding: xchunked\r\n\r\n`],
  ['HTTP/0.9 request', () => 'GET /\r\n\r\n'],
  ['TLS ClientHello', () => Buffer.from('160301009a0100009603033a8d2bd0', 'hex')],
  ['HTTP/2 preface', () => 'PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n'],
  ['asterisk-form GET', (p) => `GET * HTTP/1.1\r\nHost: 127.0.0.1:${p}\r\nConnection: close\r\n\r\n`],
  ['header name with a high byte', (p) => `GET / HTTP/1.1\r\nHost: 127.0.0.1:${p}\r\nX-\xff: 1\r\n\r\n`],
  ['header value with DEL', (p) => `GET / HTTP/1.1\r\nHost: 127.0.0.1:${p}\r\nX-A: a\x7fb\r\n\r\n`],
  ['header value with NUL', (p) => `GET / HTTP/1.1\r\nHost: 127.0.0.1:${p}\r\nX-A: a\x00b\r\n\r\n`],
  ['Expect: 100-continue on GET', (p) => `GET / HTTP/1.1\r\nHost: 127.0.0.1:${p}\r\nExpect: 100-continue\r\nConnection: close\r\n\r\n`, oneOf(200, 417)],
  ['Expect: junk', (p) => `GET / HTTP/1.1\r\nHost: 127.0.0.1:${p}\r\nExpect: <script>\r\nConnection: close\r\n\r\n`, oneOf(200, 417)],
  ['Upgrade: websocket without a handler', (p) => `GET / HTTP/1.1\r\nHost: 127.0.0.1:${p}\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n`],
  ['Upgrade: h2c', (p) => `GET / HTTP/1.1\r\nHost: 127.0.0.1:${p}\r\nConnection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMAAABkAAQAAP__\r\n\r\n`],
];
for (const [name, send, status] of protocolJunk) add({ group: 'protocol', name, send, status: status ?? { ok: (s) => (s >= 400 && s <= 499) || s === 505 || s === 200, text: '4xx/505 (or the page, when the parser tolerates it)' }, mayClose: true });
add({ group: 'protocol', name: 'HTTP/1.0 GET /', send: req('/', { version: '1.0', host: null }), status: success });
add({ group: 'protocol', name: 'two pipelined GETs', send: (p) => `GET /?q=1 HTTP/1.1\r\nHost: 127.0.0.1:${p}\r\n\r\nGET /?q=2 HTTP/1.1\r\nHost: 127.0.0.1:${p}\r\nConnection: close\r\n\r\n`, status: success });
for (let i = 0; i < 8; i++) {
  const rnd = seeded(0xa7011 + i);
  const bytes = Buffer.from(Array.from({ length: 512 }, () => Math.floor(rnd() * 256)));
  const prefix = i % 2 === 0 ? Buffer.alloc(0) : Buffer.from('GET /');
  add({ group: 'protocol', name: `512 random bytes #${i + 1}${i % 2 ? ' after "GET /"' : ''}`, send: () => Buffer.concat([prefix, bytes, Buffer.from('\r\n\r\n')]), status: client, mayClose: true });
}

// ---------------------------------------------------------------------------
// Running it

const names = new Set<string>();
for (const c of cases) {
  const key = `${c.group}: ${c.name}`;
  if (names.has(key)) throw new Error(`duplicate case ${key}`);
  names.add(key);
}

/** Problems with a normal `GET /` answer (`how` says where it was sent). */
function healthProblems(r: RawResponse, how: string): string[] {
  if (r.noResponse) return [`${how}, GET / got no response (timed out: ${r.timedOut}, socket: ${r.socketError ?? 'closed'})`];
  const body = r.body.toString('utf8');
  const p: string[] = headProblems(r).map((x) => `${how}, GET /: ${x}`);
  if (r.status !== 200) p.push(`${how}, GET / answered ${r.status}`);
  if (!r.complete || !body.trimEnd().endsWith('</html>') || !body.includes('sid="bottom"')) p.push(`${how}, GET / was not a whole page`);
  return p;
}

/**
 * The log lines of one hostile request: each one serializable and bounded
 * (whatever the request carried), and a client's junk answered 4xx is not
 * logged as a server error.
 */
function logLineProblems(lines: Array<Record<string, unknown>>, r: RawResponse): string[] {
  const p: string[] = [];
  for (const line of lines) {
    let json: string;
    try {
      json = JSON.stringify(line);
    } catch (e) {
      p.push(`a log line cannot be serialized: ${(e as Error).message}`);
      continue;
    }
    if (json.length > 64 * 1024) p.push(`a log line is ${json.length} bytes (${show(String(line.msg))})`);
  }
  const errors = lines.filter((l) => l.level === 'error');
  if (!r.noResponse && r.status >= 400 && r.status < 500 && errors.length > 0) {
    p.push(`a ${r.status} answer to the client's junk was logged as a server error: ${errors.map((l) => show(String(l.msg))).join('; ')}`);
  }
  return p;
}

/** A normal page still renders in full, on a new connection. */
async function stillServes(): Promise<string[]> {
  return healthProblems(await request(server.port, '/?q=health', { timeoutMs: 3000 }), 'afterwards');
}

test(`the corpus has at least 200 distinct requests (${cases.length})`, () => {
  assert.ok(cases.length >= 200, `${cases.length} cases`);
});

const groups = [...new Set(cases.map((c) => c.group))];
for (const group of groups) {
  describe(group, () => {
    for (const c of cases.filter((x) => x.group === group)) {
      test(c.name, async () => {
        faults.label = `${group}: ${c.name}`;
        const before = faults.faults.length;
        const remoteBefore = remote.heads.length;
        const logsBefore = server.logs.length;
        // A request made with `req` goes out keep-alive with a normal GET / behind it on the same
        // connection: its answer shows both that the server still serves and that the hostile
        // response was framed right (a wrong length or a body on HEAD would garble it).
        const keepAlive = c.send.keepAlive;
        const bytes = keepAlive === undefined ? c.send(server.port) : keepAlive(server.port) + buildRequest(server.port, '/?q=follow-up');
        const r = await rawRequest(server.port, bytes, { timeoutMs: c.timeoutMs ?? 2500, head: c.head, giveUpOn: faults.next(), expect: keepAlive === undefined ? 1 : 2 });
        const problems: string[] = [];
        if (r.noResponse) {
          if (r.timedOut) problems.push('no answer before the timeout (the server hung)');
          else if (!c.mayClose) problems.push(`the connection closed without a response (${r.socketError ?? 'closed'})`);
        } else {
          if (!c.status.ok(r.status)) problems.push(`status ${r.status}, expected ${c.status.text}`);
          if (!r.complete) problems.push(`the response did not finish (timed out: ${r.timedOut}, socket: ${r.socketError ?? 'closed'})`);
          problems.push(...headProblems(r), ...nosniffProblems(r), ...injectionProblems(r), ...saneRequestId(r));
          if (r.decodeError !== undefined && c.group !== 'accept-encoding') problems.push(`the body does not decode: ${r.decodeError}`);
          const target = /^\S+ (\S+)/.exec(bytes.toString('latin1'))?.[1] ?? '';
          if (r.status === 200 && target.startsWith('/_atoll/fragment/h-ok')) {
            const attrs = hostAttributes(r.body.toString('utf8'), 'h-ok');
            const allowed = new Set(['sid', 'label', 'note', 'hydrate', 'defer-hydration', 'atoll-fallback']);
            for (const name of attrs?.keys() ?? []) if (!allowed.has(name)) problems.push(`the fragment host carries an attribute the element does not declare: ${show(name)}`);
          }
          problems.push(...(c.check?.(r) ?? []));
        }
        if (!r.noResponse && r.status >= 200 && r.status < 300 && /^text\/html/.test(header(r, 'content-type') ?? '') && !/(^|,)\s*total\s*(;|,|$)/.test((r.headers.get('server-timing') ?? []).join(','))) {
          problems.push('an HTML page without a Server-Timing total');
        }
        problems.push(...logLineProblems(server.logs.slice(logsBefore), r));
        const sent = remote.heads.slice(remoteBefore);
        if (c.remote === true && sent.length === 0) problems.push('the remote element was never fetched');
        for (const head of sent) problems.push(...requestHeadProblems(head));
        const followUp = r.following[0];
        if (keepAlive !== undefined && followUp !== undefined) problems.push(...healthProblems(followUp, 'on the same connection'));
        else if (keepAlive !== undefined && !r.noResponse && r.complete && r.timedOut) problems.push('a GET / sent on the same connection got no answer');
        else problems.push(...(await stillServes()));
        if (keepAlive !== undefined && r.trailing > 0) problems.push(`${r.trailing} bytes followed the responses on the connection`);
        await sleep(0);
        for (const f of faults.faults.slice(before)) problems.push(`${f.kind}: ${f.what}`);
        assert.deepEqual(problems, [], `${c.group}: ${c.name}\n  - ${problems.join('\n  - ')}`);
      });
    }
  });
}

test('a pipeline of hostile requests on one connection: every answer framed right, in order', { timeout: 20_000 }, async () => {
  faults.label = 'pipeline';
  const before = faults.faults.length;
  const targets = [
    '/cookie?c=a%01b',
    '/status?s=99',
    '/login-redirect?next=%E2%82%AC',
    '/login-redirect?next=%0d%0aX-Evil:1',
    '/reject?m=proxy',
    '/cached?m=circular',
    '/headers?m=thousand',
    '/_atoll/fragment/h-ok?onfocus=alert(1)&sid=p',
    '/_atoll/fragment/%3Cscript%3E',
    `/_atoll/assets/${asset}`,
    '/_atoll/assets/..%2f..%2fpackage.json',
    '/status?s=410',
  ];
  const bytes =
    targets.map((t) => buildRequest(server.port, t, { keepAlive: true, headers: [['X-Request-Id', 'pipelined']] })).join('') +
    buildRequest(server.port, '/?q=last');
  const r = await rawRequest(server.port, bytes, { timeoutMs: 10_000, expect: targets.length + 1 });
  const all = [r, ...r.following];
  const problems: string[] = [];
  if (all.length !== targets.length + 1) problems.push(`${all.length} answers to ${targets.length + 1} requests`);
  all.forEach((x, i) => {
    const what = targets[i] ?? '/?q=last';
    if (x.noResponse || !x.complete) problems.push(`${what}: no whole answer (status ${x.status})`);
    problems.push(...headProblems(x).map((p) => `${what}: ${p}`));
  });
  const last = all[targets.length];
  if (last !== undefined) problems.push(...healthProblems(last, 'at the end of the pipeline'));
  if (r.trailing > 0) problems.push(`${r.trailing} bytes after the last answer`);
  await sleep(50);
  for (const f of faults.faults.slice(before)) problems.push(`${f.kind}: ${f.what}`);
  assert.deepEqual(problems, [], `pipeline\n  - ${problems.join('\n  - ')}`);
});

describe('Host games without a configured public origin', () => {
  // The same build, another server: with no publicOrigin, Link URLs are relative, whatever Host says.
  let bare: HostileServer;
  before(async () => {
    bare = await startHostile({ client: { build: false, outDir } });
  });
  after(() => bare?.close());
  const games: Array<[string, Init]> = [
    ['Host: evil.example', { host: 'evil.example' }],
    ['Host: evil.example with X-Forwarded-Proto: https', { host: 'evil.example', headers: [['X-Forwarded-Proto', 'https']] }],
    ['X-Forwarded-Host: evil.example', { headers: [['X-Forwarded-Host', 'evil.example']] }],
    ['X-Forwarded-Proto: javascript', { headers: [['X-Forwarded-Proto', 'javascript']] }],
    ['Forwarded: host=evil.example', { headers: [['Forwarded', 'host=evil.example;proto=https']] }],
  ];
  for (const [name, init] of games) {
    test(`${name}: the fragment's Link URLs are relative`, async () => {
      const r = await request(bare.port, '/_atoll/fragment/h-ok', init);
      const links = (r.headers.get('link') ?? []).flatMap((l) => [...l.matchAll(/<([^>]*)>/g)].map((m) => m[1]!));
      assert.equal(r.status, 200);
      assert.ok(links.length > 0, 'the fragment names its client module in Link');
      assert.deepEqual(links.filter((u) => !u.startsWith('/')), [], `Link: ${JSON.stringify(r.headers.get('link'))}`);
    });
  }
});

test('no unhandled rejection or uncaught exception in the whole run', async () => {
  await sleep(50);
  assert.deepEqual(faults.faults.map((f) => `${f.kind} during "${f.label}": ${f.what.split('\n')[0]}`), []);
});
