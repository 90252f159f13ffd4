/**
 * The fault table (issue 9): every way an element's hooks or a remote element
 * can misbehave, one row each, against the hostile fixture over real HTTP on
 * 127.0.0.1 (raw sockets, so the test sees the exact bytes). Every row
 * asserts the same contract:
 *
 * - the page is complete: it ends with `</html>` and the healthy `<h-ok>`
 *   elements before and after the culprit are rendered;
 * - the culprit renders or is replaced by its fallback (`atoll-fallback`),
 *   as the row says;
 * - the status is sensible (500 for a failed primary, a valid redirect, never
 *   a status outside 200–599, never a dead connection);
 * - every header line is valid on the wire and junk from hooks is dropped;
 * - a remote's `Cache-Control`, `Vary` and `Set-Cookie` count even when it is
 *   not primary; `Server-Timing` is always there, with a `total`;
 * - each failure gives exactly one log line, naming the element and the
 *   request id, that survives the hostile value (serializable, bounded);
 * - no unhandled rejection and no uncaught exception in the process.
 *
 * Then every row at once (three times over), as HEAD, compressed, and with
 * the client gone at the first byte; and a second Atoll that consumes the
 * first one's fragments of misbehaving elements as remote elements.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { MAX_HEADER_COUNT } from '../../ssr-server/header-values.ts';
import {
  countProcessFaults,
  elementsNamed,
  fakeRemote,
  header,
  headProblems,
  injectionProblems,
  parsePage,
  request,
  sleep,
  startHostile,
  type FakeRemote,
  type FaultCounter,
  type ElementState,
  type HostileServer,
  type RawResponse,
} from './hostile-helpers.ts';

let server: HostileServer;
let remote: FakeRemote;
let faults: FaultCounter;

before(async () => {
  faults = countProcessFaults();
  remote = await fakeRemote();
  server = await startHostile({
    config: {
      // Generous against a loaded machine; the slow-head remote answers after 1.5 s, past it.
      remoteHeadDeadline: 1200,
      elements: {
        'h-remote': { url: `${remote.url}/h-remote`, timeout: '3s' },
        'h-remote-primary': { url: `${remote.url}/h-remote-primary`, timeout: '3s' },
      },
    },
  });
});

after(async () => {
  await server?.close();
  await remote?.close();
  faults.dispose();
});

/** What a row expects of the element under test. */
type Outcome =
  | { kind: 'rendered' }
  | { kind: 'fallback'; phase?: string | readonly string[] }
  /** Either is acceptable (e.g. a huge value may be bounded); a fallback still needs its one log line. */
  | { kind: 'either' };

interface Row {
  name: string;
  target: string;
  /** The element under test. */
  tag: string;
  outcome: Outcome;
  /** The page status (a number or a check). */
  status: number | ((s: number) => boolean);
  /** Log lines expected for this request: `error` = exactly one error line; `problem` = exactly one warn or error line; `none` = no warn or error line; `any` = not checked (several elements). */
  log: 'error' | 'problem' | 'none' | 'error-if-fallback' | 'at-most-one' | 'any';
  /** More checks of the response; returns problems. */
  check?: (r: RawResponse, body: string) => string[];
  timeoutMs?: number;
  /** How many elements named `tag` the page has (default 1). */
  count?: number;
  /** Slow by design (a timeout or a deadline): left out of the all-rows-at-once runs. */
  slow?: true;
}

const kept = (r: RawResponse): string[] => (header(r, 'x-kept') === 'yes' ? [] : ['the valid header X-Kept: yes from the same hook was dropped too']);
const absent = (name: string) => (r: RawResponse): string[] => (r.headers.has(name) ? [`header ${name} should have been dropped: ${JSON.stringify(header(r, name)?.slice(0, 80))}`] : []);
const all = (...checks: Array<(r: RawResponse, body: string) => string[]>) => (r: RawResponse, body: string): string[] => checks.flatMap((c) => c(r, body));
const cacheControl = (r: RawResponse): string => (r.headers.get('cache-control') ?? []).join(', ').toLowerCase();
const cookies = (r: RawResponse): string[] => r.headers.get('set-cookie') ?? [];
const boundedCookies = (r: RawResponse): string[] =>
  cookies(r).length <= MAX_HEADER_COUNT ? [] : [`${cookies(r).length} Set-Cookie headers were sent (bound: ${MAX_HEADER_COUNT})`];
/** Framing and representation headers of a part never reach the page. */
const noFraming = (r: RawResponse): string[] => {
  const p: string[] = [];
  if (r.headers.has('content-length')) p.push(`the page has Content-Length ${header(r, 'content-length')}`);
  const te = (r.headers.get('transfer-encoding') ?? []).join(',').toLowerCase();
  if (te !== '' && te !== 'chunked') p.push(`the page has Transfer-Encoding ${te}`);
  for (const name of ['keep-alive', 'upgrade', 'trailer', 'proxy-connection']) if (r.headers.has(name)) p.push(`the page has ${name}: ${header(r, name)}`);
  return p;
};
const conservative = (r: RawResponse): string[] =>
  /\b(private|no-store)\b/.test(cacheControl(r)) ? [] : [`the page's Cache-Control "${cacheControl(r)}" lets a shared cache store it`];

const rows: Row[] = [
  // The control rows: nothing fails.
  { name: 'baseline: every element renders', target: '/', tag: 'h-echo', outcome: { kind: 'rendered' }, status: 200, log: 'none' },

  // headers() copies a query value into Set-Cookie and X-Echo.
  ...(['/cookie', '/cookie-primary'] as const).flatMap((path): Row[] => [
    {
      name: `${path}: a plain value reaches Set-Cookie and X-Echo`,
      target: `${path}?c=plain`,
      tag: 'h-cookie',
      outcome: { kind: 'rendered' },
      status: 200,
      log: 'none',
      check: (r) =>
        (r.headers.get('set-cookie') ?? []).includes('c=plain; Path=/') && header(r, 'x-echo') === 'v=plain' ? [] : ['the valid headers from headers() were lost'],
    },
    ...[
      ['a%01b', 'U+0001'],
      ['a%7fb', 'DEL'],
      ['a%0d%0aX-Evil:%201', 'CR LF and a header'],
      ['a%0aX-Evil:1', 'LF'],
      ['a%00b', 'NUL'],
      ['%E2%82%AC', 'a code point above U+00FF (€)'],
    ].map(([c, what]): Row => ({
      name: `${path}: ${what} in the query value that headers() puts into Set-Cookie`,
      target: `${path}?c=${c}`,
      tag: 'h-cookie',
      outcome: { kind: 'rendered' },
      status: 200,
      log: 'problem',
      check: all(absent('set-cookie'), absent('x-echo')),
    })),
  ]),

  // A primary element throws redirect('/login?next=' + query.next).
  {
    name: 'redirect: a plain next',
    target: '/login-redirect?next=plain',
    tag: 'h-redirect',
    outcome: { kind: 'fallback' },
    status: 302,
    log: 'none',
    check: (r) => (header(r, 'location') === '/login?next=plain' ? [] : [`Location is ${JSON.stringify(header(r, 'location'))}`]),
  },
  {
    name: 'redirect: next=€ is percent-encoded in Location',
    target: '/login-redirect?next=%E2%82%AC',
    tag: 'h-redirect',
    outcome: { kind: 'fallback' },
    status: 302,
    log: 'none',
    check: (r) => (header(r, 'location') === '/login?next=%E2%82%AC' ? [] : [`Location is ${JSON.stringify(header(r, 'location'))}, not /login?next=%E2%82%AC`]),
  },
  {
    name: 'redirect: next=😀 (astral) is percent-encoded in Location',
    target: '/login-redirect?next=%F0%9F%98%80',
    tag: 'h-redirect',
    outcome: { kind: 'fallback' },
    status: 302,
    log: 'none',
    check: (r) => (header(r, 'location') === '/login?next=%F0%9F%98%80' ? [] : [`Location is ${JSON.stringify(header(r, 'location'))}`]),
  },
  ...[
    ['%0d%0aX-Evil:1', 'CR LF'],
    ['%0aX-Evil:1', 'LF'],
    ['a%00b', 'NUL'],
    ['a%01b', 'U+0001'],
  ].map(([next, what]): Row => ({
    name: `redirect: ${what} in next is refused: 500 with the fallback, no Location`,
    target: `/login-redirect?next=${next}`,
    tag: 'h-redirect',
    outcome: { kind: 'fallback' },
    status: 500,
    log: 'error',
    check: absent('location'),
  })),

  // A primary element throws httpStatus(Number(query.s)).
  { name: 'httpStatus(410) decides the status', target: '/status?s=410', tag: 'h-status', outcome: { kind: 'fallback' }, status: 410, log: 'none' },
  { name: 'httpStatus(503) decides the status', target: '/status?s=503', tag: 'h-status', outcome: { kind: 'fallback' }, status: 503, log: 'none' },
  ...['99', 'NaN', '999', '1000000', '-1', '0', '200.5', '204', '304', '101', '600', 'Infinity'].map(
    (s): Row => ({
      name: `httpStatus(${s}) is not a page status: 500 with the fallback`,
      target: `/status?s=${s}`,
      tag: 'h-status',
      outcome: { kind: 'fallback' },
      status: 500,
      log: 'error',
    }),
  ),

  // cache="60s" and data() values the cache key cannot take.
  { name: 'cache="60s": plain data renders', target: '/cached?m=plain', tag: 'h-cached', outcome: { kind: 'rendered' }, status: 200, log: 'none' },
  // devalue carries cycles and BigInt to the browser (and into the cache key): they render now.
  ...['circular', 'bigint'].map(
    (m): Row => ({ name: `cache="60s": data() returns a ${m} value`, target: `/cached?m=${m}`, tag: 'h-cached', outcome: { kind: 'rendered' }, status: 200, log: 'none' }),
  ),

  // data() rejects with hostile values.
  ...['plain', 'null-prototype', 'throwing-tostring', 'proxy', 'string-10mb', 'symbol', 'undefined', 'error-getters', 'error-10mb-message'].map(
    (m): Row => ({
      name: `data() rejects with ${m}`,
      target: `/reject?m=${m}`,
      tag: 'h-reject',
      outcome: { kind: 'fallback', phase: 'data' },
      status: 200,
      log: 'error',
    }),
  ),
  ...['null-prototype', 'throwing-tostring', 'proxy', 'string-10mb'].map(
    (m): Row => ({
      name: `primary data() rejects with ${m}: 500 with the fallback`,
      target: `/reject-primary?m=${m}`,
      tag: 'h-reject',
      outcome: { kind: 'fallback', phase: 'data' },
      status: 500,
      log: 'error',
    }),
  ),

  // data() returns hostile values.
  { name: 'data() returns plain data', target: '/returns?m=plain', tag: 'h-returns', outcome: { kind: 'rendered' }, status: 200, log: 'none' },
  { name: 'data() returns a thenable whose then getter throws', target: '/returns?m=thenable-getter-throws', tag: 'h-returns', outcome: { kind: 'fallback', phase: 'data' }, status: 200, log: 'error' },
  { name: 'data() returns a thenable that settles three times', target: '/returns?m=thenable-settles-twice', tag: 'h-returns', outcome: { kind: 'rendered' }, status: 200, log: 'none', check: (_r, body) => (body.includes('first') ? [] : ['the first settlement did not win']) },
  { name: 'data() returns a null-prototype object', target: '/returns?m=null-prototype', tag: 'h-returns', outcome: { kind: 'rendered' }, status: 200, log: 'none' },
  { name: 'data() returns a huge object (~6 MB serialized)', target: '/returns?m=huge', tag: 'h-returns', outcome: { kind: 'either' }, status: 200, log: 'error-if-fallback', timeoutMs: 20_000 },
  ...['proxy', 'throwing-tostring', 'throwing-getter'].map(
    (m): Row => ({ name: `data() returns ${m}`, target: `/returns?m=${m}`, tag: 'h-returns', outcome: { kind: 'fallback' }, status: 200, log: 'error' }),
  ),
  ...['circular', 'bigint'].map(
    (m): Row => ({ name: `data() returns ${m}: serialized (devalue), rendered`, target: `/returns?m=${m}`, tag: 'h-returns', outcome: { kind: 'rendered' }, status: 200, log: 'none' }),
  ),

  ...['proxy', 'throwing-tostring', 'throwing-getter', 'shadowing-keys'].map(
    (m): Row => ({
      name: `primary data() returns ${m}: 500 with the fallback, whichever phase fails`,
      target: `/returns-primary?m=${m}`,
      tag: 'h-returns',
      outcome: { kind: 'fallback' },
      status: 500,
      log: 'error',
    }),
  ),
  ...['proto-key', 'constructor-key', 'shadowing-keys'].map(
    (m): Row => ({
      name: `data() returns upstream JSON with ${m}: data, never a prototype or a method`,
      target: `/returns?m=${m}`,
      tag: 'h-returns',
      outcome: { kind: 'either' },
      status: 200,
      log: 'error-if-fallback',
      check: () => {
        const probe = {} as Record<string, unknown>;
        return probe.polluted === undefined && typeof ({} as { render?: unknown }).render === 'undefined' ? [] : ['Object.prototype was polluted'];
      },
    }),
  ),

  // headers() returns junk: the element still renders, the junk is dropped and logged once.
  { name: 'headers() returns a valid header', target: '/headers?m=plain', tag: 'h-hdr', outcome: { kind: 'rendered' }, status: 200, log: 'none', check: kept },
  ...(['/headers', '/headers-primary'] as const).flatMap((path): Row[] => [
    ...['number', 'string', 'proxy', 'throws', 'throws-null-prototype', 'throws-proxy', 'async-rejects'].map(
      (m): Row => ({ name: `${path}: headers() returns ${m}`, target: `${path}?m=${m}`, tag: 'h-hdr', outcome: { kind: 'rendered' }, status: 200, log: 'problem' }),
    ),
    {
      name: `${path}: headers() returns 1,000 headers: cut to the bound`,
      target: `${path}?m=thousand`,
      tag: 'h-hdr',
      outcome: { kind: 'rendered' },
      status: 200,
      log: 'problem',
      check: (r) => {
        const n = [...r.headers.keys()].filter((k) => k.startsWith('x-many-')).length;
        return n <= MAX_HEADER_COUNT ? [] : [`${n} of the 1,000 headers were sent (bound: ${MAX_HEADER_COUNT})`];
      },
    },
    { name: `${path}: headers() returns a 100 KB value`, target: `${path}?m=value-100kb`, tag: 'h-hdr', outcome: { kind: 'rendered' }, status: 200, log: 'problem', check: all(kept, absent('x-big')) },
    { name: `${path}: headers() returns an invalid name`, target: `${path}?m=bad-name`, tag: 'h-hdr', outcome: { kind: 'rendered' }, status: 200, log: 'problem', check: kept },
    { name: `${path}: headers() returns a name with CR LF`, target: `${path}?m=crlf-name`, tag: 'h-hdr', outcome: { kind: 'rendered' }, status: 200, log: 'problem', check: kept },
    { name: `${path}: headers() returns a control character`, target: `${path}?m=control-value`, tag: 'h-hdr', outcome: { kind: 'rendered' }, status: 200, log: 'problem', check: all(kept, absent('x-ctl')) },
    { name: `${path}: headers() returns CR LF in a value`, target: `${path}?m=crlf-value`, tag: 'h-hdr', outcome: { kind: 'rendered' }, status: 200, log: 'problem', check: all(kept, absent('x-crlf')) },
    { name: `${path}: headers() returns €`, target: `${path}?m=non-latin1`, tag: 'h-hdr', outcome: { kind: 'rendered' }, status: 200, log: 'problem', check: all(kept, absent('x-euro')) },
    { name: `${path}: headers() returns malformed pairs`, target: `${path}?m=bad-pairs`, tag: 'h-hdr', outcome: { kind: 'rendered' }, status: 200, log: 'problem', check: kept },
  ]),

  ...(['/headers', '/headers-primary'] as const).flatMap((path): Row[] => [
    { name: `${path}: headers() returns hop-by-hop and representation headers`, target: `${path}?m=hop-by-hop`, tag: 'h-hdr', outcome: { kind: 'rendered' }, status: 200, log: 'at-most-one', check: all(kept, noFraming) },
    { name: `${path}: headers() returns 1,000 cookies: cut to the bound`, target: `${path}?m=many-cookies`, tag: 'h-hdr', outcome: { kind: 'rendered' }, status: 200, log: 'problem', check: boundedCookies },
    { name: `${path}: headers() returns a Promise (async headers())`, target: `${path}?m=async`, tag: 'h-hdr', outcome: { kind: 'rendered' }, status: 200, log: 'at-most-one' },
    { name: `${path}: headers() returns 20 KB of valid headers: the page head stays readable`, target: `${path}?m=wide`, tag: 'h-hdr', outcome: { kind: 'rendered' }, status: 200, log: 'problem' },
    { name: `${path}: headers() returns an object whose getter throws`, target: `${path}?m=getter-throws`, tag: 'h-hdr', outcome: { kind: 'rendered' }, status: 200, log: 'problem', check: absent('x-trap') },
  ]),

  {
    name: 'three elements each return 20 KB of valid headers: the page head stays readable',
    target: '/headers-three?m=wide',
    tag: 'h-hdr',
    count: 3,
    outcome: { kind: 'rendered' },
    status: 200,
    log: 'any',
  },

  // Remote elements (not primary): their caching headers count.
  { name: 'remote: a plain fragment', target: '/remote/ok', tag: 'h-remote', outcome: { kind: 'rendered' }, status: 200, log: 'none' },
  { name: 'remote (not primary): Cache-Control: private reaches the page', target: '/remote/private', tag: 'h-remote', outcome: { kind: 'rendered' }, status: 200, log: 'none', check: conservative },
  {
    name: 'remote (not primary): Cache-Control: no-store reaches the page',
    target: '/remote/no-store',
    tag: 'h-remote',
    outcome: { kind: 'rendered' },
    status: 200,
    log: 'none',
    check: (r) => (/\bno-store\b/.test(cacheControl(r)) ? [] : [`Cache-Control is "${cacheControl(r)}"`]),
  },
  {
    name: 'remote (not primary): Vary: Accept-Language reaches the page',
    target: '/remote/vary',
    tag: 'h-remote',
    outcome: { kind: 'rendered' },
    status: 200,
    log: 'none',
    check: (r) => ((r.headers.get('vary') ?? []).join(',').toLowerCase().includes('accept-language') ? [] : [`Vary is ${JSON.stringify(r.headers.get('vary'))}`]),
  },
  {
    name: 'remote (not primary): Set-Cookie reaches the page',
    target: '/remote/cookie',
    tag: 'h-remote',
    outcome: { kind: 'rendered' },
    status: 200,
    log: 'none',
    check: (r) => ((r.headers.get('set-cookie') ?? []).some((c) => c.startsWith('remote=1')) ? [] : [`Set-Cookie is ${JSON.stringify(r.headers.get('set-cookie'))}`]),
  },
  {
    name: 'remote (not primary): headers unknown at the head deadline make the page private/no-store',
    slow: true,
    target: '/remote/slow-head',
    tag: 'h-remote',
    outcome: { kind: 'rendered' },
    status: 200,
    log: 'problem',
    check: (r) => (/\bno-store\b/.test(cacheControl(r)) || /\bprivate\b/.test(cacheControl(r)) ? [] : [`Cache-Control is "${cacheControl(r)}"`]),
  },
  { name: 'remote: a control character in a header', target: '/remote/control-header', tag: 'h-remote', outcome: { kind: 'either' }, status: 200, log: 'problem', check: absent('x-ctl') },
  { name: 'remote: a 10 KB header value', target: '/remote/big-header', tag: 'h-remote', outcome: { kind: 'either' }, status: 200, log: 'problem', check: absent('x-big') },
  { name: 'remote: a 20 KB response head', target: '/remote/huge-head', tag: 'h-remote', outcome: { kind: 'either' }, status: 200, log: 'at-most-one' },
  { name: 'remote: a body that is not a fragment', target: '/remote/not-fragment', tag: 'h-remote', outcome: { kind: 'fallback', phase: 'fetch' }, status: 200, log: 'error' },
  { name: 'remote: a reset mid-body', target: '/remote/reset', tag: 'h-remote', outcome: { kind: 'fallback', phase: 'fetch' }, status: 200, log: 'error' },

  { name: 'remote: Vary: * reaches the page', target: '/remote/vary-star', tag: 'h-remote', outcome: { kind: 'rendered' }, status: 200, log: 'none', check: (r) => ((r.headers.get('vary') ?? []).join(',').includes('*') ? [] : [`Vary is ${JSON.stringify(r.headers.get('vary'))}`]) },
  { name: 'remote: 200 Set-Cookie headers: cut to the bound', target: '/remote/many-cookies', tag: 'h-remote', outcome: { kind: 'rendered' }, status: 200, log: 'problem', check: boundedCookies },
  { name: 'remote: a control character in one Set-Cookie', target: '/remote/set-cookie-control', tag: 'h-remote', outcome: { kind: 'either' }, status: 200, log: 'problem' },
  { name: 'remote: chunked body with hop-by-hop headers', target: '/remote/chunked-hop', tag: 'h-remote', outcome: { kind: 'rendered' }, status: 200, log: 'none', check: all(kept, noFraming) },
  { name: 'remote: Content-Type text/plain', target: '/remote/content-type-plain', tag: 'h-remote', outcome: { kind: 'either' }, status: 200, log: 'error-if-fallback' },
  { name: 'remote: Content-Encoding: br on a plain body', target: '/remote/content-encoding-br', tag: 'h-remote', outcome: { kind: 'either' }, status: 200, log: 'error-if-fallback' },
  ...['trailing-script', 'comment-swallow', 'rawtext-swallow'].map(
    (mode): Row => ({ name: `remote: markup that would break the page (${mode})`, target: `/remote/${mode}`, tag: 'h-remote', outcome: { kind: 'fallback', phase: 'fetch' }, status: 200, log: 'error', check: (r) => injectionProblems(r) }),
  ),
  { name: "remote: a 103 before the answer (its Link stays the remote's)", target: '/remote/early-hints', tag: 'h-remote', outcome: { kind: 'rendered' }, status: 200, log: 'none', check: (r) => (r.allHeaderLines.some((l) => /evil\.example/.test(l)) ? ["the remote's Early Hints reached the client"] : []) },
  { name: 'remote: an unsolicited 100 Continue', target: '/remote/unsolicited-continue', tag: 'h-remote', outcome: { kind: 'either' }, status: 200, log: 'error-if-fallback' },
  { name: 'remote: HTTP/1.0, body ended by close', target: '/remote/http10-close', tag: 'h-remote', outcome: { kind: 'rendered' }, status: 200, log: 'none' },
  { name: 'remote: a redirect to another origin', target: '/remote/redirect', tag: 'h-remote', outcome: { kind: 'fallback', phase: 'fetch' }, status: 200, log: 'error', check: absent('location') },
  { name: 'remote: the head, then nothing: its timeout', target: '/remote/stall', tag: 'h-remote', outcome: { kind: 'fallback', phase: ['timeout', 'fetch'] }, status: 200, log: 'error', slow: true },

  // Remote elements that are primary.
  { name: 'primary remote: Content-Type text/plain does not make the page text/plain', target: '/remote-primary/content-type-plain', tag: 'h-remote-primary', outcome: { kind: 'either' }, status: (s) => s === 200 || s === 502, log: 'error-if-fallback' },
  { name: 'primary remote: Content-Encoding: br is not copied onto the page', target: '/remote-primary/content-encoding-br', tag: 'h-remote-primary', outcome: { kind: 'either' }, status: (s) => s === 200 || s === 502, log: 'error-if-fallback' },
  { name: 'primary remote: chunked body with hop-by-hop headers', target: '/remote-primary/chunked-hop', tag: 'h-remote-primary', outcome: { kind: 'rendered' }, status: 200, log: 'none', check: all(kept, noFraming) },
  { name: 'primary remote: Cache-Control: private reaches the page', target: '/remote-primary/private', tag: 'h-remote-primary', outcome: { kind: 'rendered' }, status: 200, log: 'none', check: conservative },
  { name: 'primary remote: a control character in a header', target: '/remote-primary/control-header', tag: 'h-remote-primary', outcome: { kind: 'either' }, status: (s) => s === 200 || s === 502, log: 'problem', check: absent('x-ctl') },
  { name: 'primary remote: not a fragment: 502 with the fallback', target: '/remote-primary/not-fragment', tag: 'h-remote-primary', outcome: { kind: 'fallback', phase: 'fetch' }, status: 502, log: 'error' },
  { name: 'primary remote: a reset: 502 with the fallback', target: '/remote-primary/reset', tag: 'h-remote-primary', outcome: { kind: 'fallback', phase: 'fetch' }, status: 502, log: 'error' },
];

/** The healthy elements every page of the fixture has around the one under test. */
function healthyProblems(body: unknown, target: string): string[] {
  const problems: string[] = [];
  const oks = elementsNamed(body, 'h-ok');
  const expected = target === '/' ? ['top', 'home', 'bottom'] : ['top', 'after', 'bottom'];
  for (const sid of expected) {
    const el = oks.find((e) => e.attrs.get('sid') === sid);
    if (el === undefined) problems.push(`healthy <h-ok sid="${sid}"> is missing`);
    else if (!el.rendered || el.fallback !== undefined) problems.push(`healthy <h-ok sid="${sid}"> was not rendered (atoll-fallback=${el.fallback})`);
  }
  return problems;
}

function outcomeProblems(body: unknown, row: Row): { problems: string[]; fellBack: boolean } {
  const els = elementsNamed(body, row.tag);
  if (els.length !== (row.count ?? 1)) return { problems: [`expected ${row.count ?? 1} <${row.tag}>, found ${els.length}`], fellBack: false };
  const all = els.map((el) => elementOutcomeProblems(el, row));
  return { problems: all.flatMap((o) => o.problems), fellBack: all.some((o) => o.fellBack) };
}

function elementOutcomeProblems(el: ElementState, row: Row): { problems: string[]; fellBack: boolean } {
  const fellBack = el.fallback !== undefined;
  const problems: string[] = [];
  const o = row.outcome;
  if (o.kind === 'rendered' && (fellBack || !el.rendered)) problems.push(`<${row.tag}> should have rendered; atoll-fallback=${JSON.stringify(el.fallback)}, shadow root: ${el.rendered}`);
  if (o.kind === 'fallback') {
    if (!fellBack) problems.push(`<${row.tag}> should have been replaced by its fallback (atoll-fallback), but ${el.rendered ? 'it rendered' : 'it has no marker'}`);
    else {
      if (el.rendered) problems.push(`<${row.tag}> has atoll-fallback and a shadow root`);
      if (!el.lightText.includes('fallback')) problems.push(`<${row.tag}>'s fallback children are missing (light DOM: ${JSON.stringify(el.lightText.slice(0, 80))})`);
      const phases = o.phase === undefined ? undefined : typeof o.phase === 'string' ? [o.phase] : o.phase;
      if (phases !== undefined && !phases.includes(el.fallback!)) problems.push(`atoll-fallback="${el.fallback}", expected ${phases.join(' or ')}`);
    }
  }
  if (o.kind === 'either' && !fellBack && !el.rendered) problems.push(`<${row.tag}> neither rendered nor fell back`);
  return { problems, fellBack };
}

function logProblems(lines: Array<Record<string, unknown>>, row: Row, fellBack: boolean): string[] {
  const problems: string[] = [];
  const errors = lines.filter((l) => l.level === 'error');
  const warnOrError = lines.filter((l) => l.level === 'error' || l.level === 'warn');
  const describe = (ls: Array<Record<string, unknown>>): string => ls.map((l) => `${l.level} ${JSON.stringify(String(l.msg)).slice(0, 100)}`).join('; ');
  let expected: Array<Record<string, unknown>> | undefined;
  switch (row.log) {
    case 'none':
      if (warnOrError.length !== 0) problems.push(`expected no warn/error log line, got ${warnOrError.length}: ${describe(warnOrError)}`);
      break;
    case 'error':
      if (errors.length !== 1 || warnOrError.length !== 1) problems.push(`expected exactly one error log line, got ${errors.length} error and ${warnOrError.length - errors.length} warn: ${describe(warnOrError)}`);
      expected = errors;
      break;
    case 'problem':
      if (warnOrError.length !== 1) problems.push(`expected exactly one warn or error log line, got ${warnOrError.length}: ${describe(warnOrError)}`);
      expected = warnOrError;
      break;
    case 'any':
      break;
    case 'at-most-one':
      if (warnOrError.length > 1) problems.push(`expected at most one warn or error log line, got ${warnOrError.length}: ${describe(warnOrError)}`);
      expected = warnOrError;
      break;
    case 'error-if-fallback':
      if (fellBack && errors.length !== 1) problems.push(`fell back, so expected one error log line, got ${errors.length}: ${describe(warnOrError)}`);
      if (!fellBack && warnOrError.length !== 0) problems.push(`rendered, so expected no warn/error line, got ${describe(warnOrError)}`);
      expected = fellBack ? errors : undefined;
      break;
  }
  for (const line of expected ?? []) {
    if (line.element !== row.tag) problems.push(`the log line names element ${JSON.stringify(line.element)}, not ${row.tag}`);
    let json: string;
    try {
      json = JSON.stringify(line);
    } catch (e) {
      problems.push(`the log line cannot be serialized: ${(e as Error).message}`);
      continue;
    }
    if (json.length > 64 * 1024) problems.push(`the log line is ${json.length} bytes once serialized (bounded: at most 64 KB)`);
  }
  return problems;
}

/** Runs `fn` over `items`, at most `n` at a time; results in order. */
async function pool<T, R>(items: readonly T[], n: number, fn: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!, i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(n, items.length) }, worker));
  return out;
}

/** The rows the all-at-once runs use: not the huge value, not the slow-by-design ones. */
const quickRows = (): Row[] => rows.filter((row) => row.timeoutMs === undefined && row.slow !== true);

/** Everything a row asserts about one response (the log lines are read by request id). */
function rowProblems(row: Row, r: RawResponse, requestId: string, logs = server.logs): string[] {
  const problems: string[] = [];
  if (r.noResponse) return [`no response (timed out: ${r.timedOut}, socket: ${r.socketError ?? 'closed'})`];
  const statusOk = typeof row.status === 'number' ? r.status === row.status : row.status(r.status);
  if (!statusOk) problems.push(`status ${r.status}, expected ${typeof row.status === 'number' ? row.status : 'another'}`);
  problems.push(...headProblems(r));
  const body = r.body.toString('utf8');
  const isRedirect = r.status >= 300 && r.status < 400;
  let fellBack = false;
  if (!isRedirect) {
    if (!r.complete) problems.push(`the body was cut short (timed out: ${r.timedOut}, socket: ${r.socketError ?? 'closed'})`);
    if (!body.trimEnd().endsWith('</html>')) problems.push(`the page does not end with </html> (${body.length} chars; ends ${JSON.stringify(body.slice(-80))})`);
    const page = parsePage(body);
    problems.push(...healthyProblems(page, row.target));
    const o = outcomeProblems(page, row);
    problems.push(...o.problems);
    fellBack = o.fellBack;
    if (!/^text\/html/i.test(header(r, 'content-type') ?? '')) problems.push(`the page's Content-Type is ${JSON.stringify(header(r, 'content-type'))}`);
    if (r.headers.has('content-encoding')) problems.push(`the page claims Content-Encoding ${header(r, 'content-encoding')} to a client that accepts none`);
    if (r.decodeError !== undefined) problems.push(`the body does not decode: ${r.decodeError}`);
    const timing = (r.headers.get('server-timing') ?? []).join(', ');
    if (!/(^|,)\s*total\s*(;|,|$)/.test(timing)) problems.push(`Server-Timing has no total entry: ${JSON.stringify(timing)}`);
  }
  problems.push(...(row.check?.(r, body) ?? []));
  if (!isRedirect && header(r, 'x-request-id') !== requestId) problems.push(`x-request-id is ${JSON.stringify(header(r, 'x-request-id'))}`);
  problems.push(...logProblems(logs.filter((l) => l.requestId === requestId), row, fellBack));
  return problems;
}

describe('element fault table', () => {
  let n = 0;
  for (const row of rows) {
    test(row.name, { timeout: (row.timeoutMs ?? 10_000) + 5_000 }, async () => {
      const requestId = `fault-${++n}`;
      faults.label = row.name;
      const before = faults.faults.length;
      const r = await request(server.port, row.target, { headers: [['X-Request-Id', requestId]], timeoutMs: row.timeoutMs ?? 10_000, giveUpOn: faults.next() });
      await sleep(30);
      const problems = rowProblems(row, r, requestId);
      for (const f of faults.faults.slice(before)) problems.push(`${f.kind}: ${f.what}`);
      assert.deepEqual(problems, [], `${row.target}\n  - ${problems.join('\n  - ')}`);
    });
  }

  test('every module-hook row at once, three times over: no request disturbs another', { timeout: 60_000 }, async () => {
    faults.label = 'every row at once';
    const before = faults.faults.length;
    // Left out: the huge value (it only measures the machine) and the remotes (whether their
    // heads beat the head deadline under this load is timing, not correctness).
    const burst = [0, 1, 2].flatMap((round) => quickRows().filter((row) => !row.tag.startsWith('h-remote')).map((row, i) => ({ row, requestId: `burst-${round}-${i}` })));
    const responses = await Promise.all(burst.map(({ row, requestId }) => request(server.port, row.target, { headers: [['X-Request-Id', requestId]], timeoutMs: 20_000 })));
    await sleep(100);
    const problems = burst.flatMap(({ row, requestId }, i) => rowProblems(row, responses[i]!, requestId).map((p) => `${row.name} (${requestId}): ${p}`));
    for (const f of faults.faults.slice(before)) problems.push(`${f.kind}: ${f.what}`);
    assert.deepEqual(problems, [], `${burst.length} requests at once\n  - ${problems.join('\n  - ')}`);
  });

  test('every row as HEAD: the same status, no body, nothing thrown', { timeout: 60_000 }, async () => {
    faults.label = 'every row as HEAD';
    const before = faults.faults.length;
    const problems: string[] = [];
    const list = quickRows();
    const responses = await pool(list, 12, (row, i) => request(server.port, row.target, { method: 'HEAD', headers: [['X-Request-Id', `head-${i}`]], timeoutMs: 10_000 }));
    list.forEach((row, j) => {
      const r = responses[j]!;
      const p: string[] = [];
      if (r.noResponse) p.push(`no response (timed out: ${r.timedOut})`);
      else {
        const statusOk = typeof row.status === 'number' ? r.status === row.status : row.status(r.status);
        if (!statusOk) p.push(`status ${r.status}`);
        if (r.trailing > 0) p.push(`${r.trailing} body bytes after a HEAD response`);
        p.push(...headProblems(r));
      }
      problems.push(...p.map((x) => `${row.name}: ${x}`));
    });
    await sleep(100);
    for (const f of faults.faults.slice(before)) problems.push(`${f.kind}: ${f.what}`);
    assert.deepEqual(problems, [], `HEAD\n  - ${problems.join('\n  - ')}`);
  });

  test('every row compressed (br, gzip): the stream still decodes to the whole page', { timeout: 60_000 }, async () => {
    faults.label = 'every row compressed';
    const before = faults.faults.length;
    const problems: string[] = [];
    const list = quickRows();
    const encodings = list.map((_, j) => (j % 2 === 0 ? 'br' : 'gzip'));
    const responses = await pool(list, 12, (row, j) => request(server.port, row.target, { headers: [['Accept-Encoding', encodings[j]!]], timeoutMs: 10_000 }));
    list.forEach((row, j) => {
      const r = responses[j]!;
      const p: string[] = [];
      if (r.noResponse) p.push(`no response (timed out: ${r.timedOut})`);
      else {
        const statusOk = typeof row.status === 'number' ? r.status === row.status : row.status(r.status);
        if (!statusOk) p.push(`status ${r.status}`);
        p.push(...headProblems(r));
        if (r.status < 300 || r.status >= 400) {
          if (header(r, 'content-encoding') !== encodings[j]) p.push(`Content-Encoding ${header(r, 'content-encoding')}, asked for ${encodings[j]}`);
          if (r.decodeError !== undefined) p.push(`does not decode: ${r.decodeError}`);
          else {
            const body = r.body.toString('utf8');
            if (!r.complete || !body.trimEnd().endsWith('</html>')) p.push(`not a whole page once decoded (ends ${JSON.stringify(body.slice(-60))})`);
            else p.push(...healthyProblems(parsePage(body), row.target));
          }
        }
      }
      problems.push(...p.map((x) => `${row.name} (${encodings[j]}): ${x}`));
    });
    await sleep(100);
    for (const f of faults.faults.slice(before)) problems.push(`${f.kind}: ${f.what}`);
    assert.deepEqual(problems, [], `compressed\n  - ${problems.join('\n  - ')}`);
  });

  test('every row with the client gone at the first byte: nothing thrown, the server still serves', { timeout: 60_000 }, async () => {
    faults.label = 'every row, client gone at the first byte';
    const before = faults.faults.length;
    // Every other one compressed, so the compressor's end of an aborted response is exercised too.
    const encodings = ['identity', 'br', 'identity', 'gzip'];
    await pool(quickRows(), 12, (row, i) =>
      request(server.port, row.target, { headers: [['X-Request-Id', `gone-${i}`], ['Accept-Encoding', encodings[i % 4]!]], timeoutMs: 10_000, hangUpOnFirstData: true }),
    );
    // Work still pending for the vanished clients (remotes, timeouts) settles within this.
    await sleep(1000);
    const problems = faults.faults.slice(before).map((f) => `${f.kind}: ${f.what}`);
    const r = await request(server.port, '/', { timeoutMs: 5000 });
    if (r.status !== 200 || !r.body.toString('utf8').trimEnd().endsWith('</html>')) problems.push(`afterwards GET / answered ${r.status}, whole: ${r.complete}`);
    assert.deepEqual(problems, [], `client gone\n  - ${problems.join('\n  - ')}`);
  });

  test('no unhandled rejection or uncaught exception in the whole run', async () => {
    await sleep(50);
    assert.deepEqual(faults.faults.map((f) => `${f.kind} during "${f.label}": ${f.what.split('\n')[0]}`), []);
  });
});

describe('Atoll to Atoll: misbehaving elements behind another Atoll\'s fragment endpoint', () => {
  // The producer is the fault-table server; the consumer renders the same layout with three of
  // its elements turned remote, each pointing at the producer's fragment endpoint.
  let consumer: HostileServer;
  before(async () => {
    const producer = server.running.url;
    consumer = await startHostile({
      config: {
        remoteHeadDeadline: 1200,
        elements: {
          'h-hdr': { url: `${producer}/_atoll/fragment/h-hdr?m=wide`, timeout: '3s' },
          'h-status': { url: `${producer}/_atoll/fragment/h-status?s=99`, timeout: '3s' },
          'h-cookie': { url: `${producer}/_atoll/fragment/h-cookie?c=a%01b`, timeout: '3s' },
        },
      },
    });
  });
  after(() => consumer?.close());

  const composed: Row[] = [
    // The producer's fragment head must stay readable by the consumer's client (undici, 16 KiB).
    { name: 'a fragment whose element returns 20 KB of headers is readable by the consuming Atoll', target: '/headers', tag: 'h-hdr', outcome: { kind: 'rendered' }, status: 200, log: 'at-most-one' },
    { name: "a fragment answering 500 (httpStatus(99) on the producer) is the consumer's primary failure: 502", target: '/status', tag: 'h-status', outcome: { kind: 'fallback', phase: 'fetch' }, status: 502, log: 'error' },
    { name: 'a fragment whose junk cookie the producer dropped renders', target: '/cookie', tag: 'h-cookie', outcome: { kind: 'rendered' }, status: 200, log: 'none', check: absent('set-cookie') },
  ];
  let n = 0;
  for (const row of composed) {
    test(row.name, { timeout: 15_000 }, async () => {
      const requestId = `composed-${++n}`;
      faults.label = row.name;
      const before = faults.faults.length;
      const r = await request(consumer.port, row.target, { headers: [['X-Request-Id', requestId]], timeoutMs: 10_000, giveUpOn: faults.next() });
      await sleep(30);
      const problems = rowProblems(row, r, requestId, consumer.logs);
      for (const f of faults.faults.slice(before)) problems.push(`${f.kind}: ${f.what}`);
      assert.deepEqual(problems, [], `${row.target}\n  - ${problems.join('\n  - ')}`);
    });
  }
});
