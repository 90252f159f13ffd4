/**
 * Per-developer overrides (issue 16, docs/deploys.md "Overrides"): the
 * signed cookie (overrides.ts), the page that sets it
 * (overrides-endpoint.ts, over real HTTP on 127.0.0.1) and `atoll override`
 * (override-command.ts).
 */
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { RawRequestHeaders, toNodeHeaders } from '../../ssr-server/adapters/node.ts';
import { memoryLogger } from '../../ssr-server/log.ts';
import { runOverride } from '../../ssr-server/deploys/override-command.ts';
import { OVERRIDES_PATH, deploysOverrides, overridesEndpoint, tokenMatches, type OverridesEndpointOptions } from '../../ssr-server/deploys/overrides-endpoint.ts';
import { SiteError } from '../../ssr-server/errors.ts';
import {
  MAX_COOKIE_LENGTH,
  OverrideError,
  cookieValue,
  createOverrides,
  overridesFromConfig,
  type Overrides,
} from '../../ssr-server/deploys/overrides.ts';
import { OVERRIDE_COOKIE, type ImportMapEntry } from '../../ssr-server/deploys/types.ts';
import { createAtoll, listen, type Atoll, type RunningServer } from '../../ssr-server/index.ts';
import { layout, makeSite, runCli } from '../helpers.ts';
import { cdnServer, elementVersion, setMap, type Cdn } from './deploys-generations-fixture.ts';

const SECRET = 'a'.repeat(16) + 'secret-for-tests-only-0123456789';
const TOKEN = 'deploy-token-for-tests';
const CDN = 'https://cdn.example';
const ALLOW = [CDN, 'http://127.0.0.1:9999'];
const HOUR = 3600_000;
const NOW = Date.UTC(2026, 11, 2, 5, 0, 0);

const v2: ImportMapEntry = { server: `${CDN}/team-greeting/2/server.mjs`, client: `${CDN}/team-greeting/2/client.mjs` };

const headersOf = (cookie: string | undefined): { get(name: string): string | null } => ({
  get: (name) => (name.toLowerCase() === 'cookie' ? (cookie ?? null) : null),
});

/** A cookie value signed with `secret` over `payload` (an object, or raw text), as overrides.ts documents the format. */
function rawCookie(payload: unknown, secret = SECRET): string {
  const text = typeof payload === 'string' ? payload : JSON.stringify(payload);
  const b64 = Buffer.from(text, 'utf8').toString('base64url');
  return `${b64}.${createHmac('sha256', secret).update('atoll-override/1.').update(b64).digest('base64url')}`;
}

const seconds = (ms: number): number => Math.floor(ms / 1000);
const good = (extra: Record<string, unknown> = {}): Record<string, unknown> => ({
  v: 1,
  iat: seconds(NOW) - 60,
  exp: seconds(NOW) + HOUR / 1000,
  entries: { 'team-greeting': v2 },
  ...extra,
});

function makeOverrides(options: { now?: number; logger?: ReturnType<typeof memoryLogger>; maxEntries?: number } = {}): Overrides {
  return createOverrides({ secret: SECRET, allow: ALLOW, maxAge: 8 * HOUR, maxEntries: options.maxEntries ?? 4, logger: options.logger, now: () => options.now ?? NOW });
}

describe('the override cookie', () => {
  test('a signed cookie round-trips: overridesFor returns its entries, normalized and frozen, the same object every time', () => {
    const o = makeOverrides();
    const value = o.sign({ 'team-greeting': v2, 'shop-cart': { server: 'file:///srv/cart/server.mjs', client: `${CDN}/cart/client.mjs` } });
    assert.ok(value.length < 1000, `compact: ${value.length}`);
    const got = o.overridesFor(headersOf(`a=1; ${OVERRIDE_COOKIE}=${value}; b=2`));
    assert.deepEqual(got, { 'team-greeting': v2, 'shop-cart': { server: 'file:///srv/cart/server.mjs', client: `${CDN}/cart/client.mjs` } });
    assert.ok(Object.isFrozen(got) && Object.isFrozen(got!['team-greeting']));
    assert.equal(o.overridesFor(headersOf(`${OVERRIDE_COOKIE}=${value}`)), got, 'the same object for the same cookie');
    const reading = o.read(value);
    assert.ok('ok' in reading);
    assert.equal(reading.ok.expiresAt - reading.ok.issuedAt, 8 * HOUR);
    // A quoted value (RFC 6265 allows it) is the same cookie.
    assert.deepEqual(o.overridesFor(headersOf(`${OVERRIDE_COOKIE}="${value}"`)), got);
  });

  test('a shorter lifetime is signed as asked; a longer one than maxAge is refused', () => {
    const o = makeOverrides();
    const r = o.read(o.sign({ 'team-greeting': v2 }, 30 * 60_000));
    assert.ok('ok' in r);
    assert.equal(r.ok.expiresAt - r.ok.issuedAt, 30 * 60_000);
    assert.throws(() => o.sign({ 'team-greeting': v2 }, 9 * HOUR), (e: Error) => e instanceof OverrideError && /maxAge/.test(e.message));
  });

  test('sign refuses entries the server would ignore, with a message naming the problem', () => {
    const o = makeOverrides();
    const cases: Array<[Record<string, unknown>, RegExp]> = [
      [{ Bad: v2 }, /custom element name/],
      [{ 'team-greeting': { server: 'https://evil.example/x.mjs', client: v2.client } }, /evil\.example is not in deploys\.allow/],
      [{ 'team-greeting': { server: './x.mjs', client: v2.client } }, /not an absolute URL/],
      [{ 'team-greeting': { server: v2.server, client: 'file:///x.mjs' } }, /client: .*file: URL/],
      [{ 'team-greeting': { server: 'data:text/javascript,1', client: v2.client } }, /not a file: or http\(s\) URL/],
      [{}, /no entries/],
      [{ 'a-a': v2, 'b-b': v2, 'c-c': v2, 'd-d': v2, 'e-e': v2 }, /5 entries \(at most 4\)/],
    ];
    for (const [entries, message] of cases) {
      assert.throws(() => o.sign(entries as Record<string, ImportMapEntry>), (e: Error) => e instanceof OverrideError && message.test(e.message), JSON.stringify(entries));
    }
  });

  test('the secret: missing or short is a clear start-up problem; overrides off need none', () => {
    assert.throws(() => createOverrides({ secret: '', allow: ALLOW }), /ATOLL_OVERRIDE_SECRET is not set/);
    assert.throws(() => createOverrides({ secret: 'short', allow: ALLOW }), /ATOLL_OVERRIDE_SECRET has 5 characters; it needs at least 32/);
    const deploys = { allow: ALLOW, overrides: { enabled: true, maxAge: HOUR } };
    assert.throws(() => overridesFromConfig(deploys, {}), (e: Error) => e instanceof OverrideError && /deploys\.overrides\.enabled is true but ATOLL_OVERRIDE_SECRET is not set/.test(e.message));
    assert.equal(overridesFromConfig({ ...deploys, overrides: { enabled: false, maxAge: HOUR } }, {}), undefined);
    assert.equal(overridesFromConfig(undefined, {}), undefined);
    const o = overridesFromConfig(deploys, { ATOLL_OVERRIDE_SECRET: SECRET });
    assert.equal(o?.maxAge, HOUR);
  });

  test('the manager\'s options: enabled without the secret is a SiteError naming the config file; off: no overrides, the page 404s', async () => {
    const root = mkdtempSync(join(tmpdir(), 'atoll-overrides-cfg-'));
    try {
      writeFileSync(join(root, 'atoll.config.json'), '{}');
      const deploys = { allow: ALLOW, overrides: { enabled: true, maxAge: HOUR } };
      assert.throws(
        () => deploysOverrides({ deploys, env: {}, root }),
        (e: Error) => e instanceof SiteError && e.problems.length === 1 && e.problems[0]!.file === 'atoll.config.json' && /ATOLL_OVERRIDE_SECRET is not set/.test(e.message),
      );
      const on = deploysOverrides({ deploys, env: { ATOLL_OVERRIDE_SECRET: SECRET, ATOLL_DEPLOY_TOKEN: TOKEN }, root });
      assert.equal(typeof on.overrides, 'function');
      const req = { method: 'GET', target: OVERRIDES_PATH, headers: headersOf(undefined) };
      assert.equal(on.admin(req, '/_atoll/deploys/other'), undefined);
      assert.equal((await on.admin(req, OVERRIDES_PATH))!.status, 200);
      const off = deploysOverrides({ deploys: { ...deploys, overrides: { enabled: false, maxAge: HOUR } }, env: {}, root });
      assert.equal(off.overrides, undefined);
      assert.equal((await off.admin(req, OVERRIDES_PATH))!.status, 404);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  // Every cookie the server must ignore: the live versions, never a throw, at most one debug line.
  const hostile: Array<[string, () => string]> = [
    ['a forged signature', () => `${Buffer.from(JSON.stringify(good())).toString('base64url')}.${'A'.repeat(43)}`],
    ['an altered payload under a valid signature', () => {
      const [, sig] = rawCookie(good()).split('.');
      const other = Buffer.from(JSON.stringify(good({ entries: { 'team-greeting': { ...v2, server: `${CDN}/evil.mjs` } } }))).toString('base64url');
      return `${other}.${sig}`;
    }],
    ['a cookie signed with another secret', () => rawCookie(good(), 'another-secret-of-enough-length-0123456789')],
    ['a truncated signature', () => rawCookie(good()).slice(0, -1)],
    ['expired', () => rawCookie(good({ iat: seconds(NOW) - 2 * HOUR / 1000, exp: seconds(NOW) - 1 }))],
    ['expiring exactly now', () => rawCookie(good({ exp: seconds(NOW) }))],
    ['issued in the future', () => rawCookie(good({ iat: seconds(NOW) + HOUR / 1000, exp: seconds(NOW) + 2 * HOUR / 1000 }))],
    ['a lifetime longer than maxAge', () => rawCookie(good({ iat: seconds(NOW) - 60, exp: seconds(NOW) + 9 * HOUR / 1000 }))],
    ['exp before iat', () => rawCookie(good({ iat: seconds(NOW), exp: seconds(NOW) - 10 }))],
    ['oversized (validly signed)', () => rawCookie(good({ entries: { 'team-greeting': { server: `${CDN}/${'x'.repeat(MAX_COOKIE_LENGTH)}.mjs`, client: v2.client } } }))],
    ['oversized garbage', () => 'A'.repeat(MAX_COOKIE_LENGTH + 1)],
    ['malformed base64 (+/=)', () => {
      const c = rawCookie(good());
      return `${c.slice(0, 10)}+/=${c.slice(13)}`;
    }],
    ['no signature', () => Buffer.from(JSON.stringify(good())).toString('base64url')],
    ['three parts', () => `${rawCookie(good())}.AAAA`],
    ['empty payload', () => `.${'A'.repeat(43)}`],
    ['signed, not JSON', () => rawCookie('{"v":1,')],
    ['signed JSON array', () => rawCookie('[1,2]')],
    ['signed JSON null', () => rawCookie('null')],
    ['an unknown top-level key', () => rawCookie(good({ admin: true }))],
    ['an unknown entry key', () => rawCookie(good({ entries: { 'team-greeting': { ...v2, integrity: 'x' } } }))],
    ['another version', () => rawCookie(good({ v: 2 }))],
    ['iat as a string', () => rawCookie(good({ iat: String(seconds(NOW)) }))],
    ['exp as a fraction', () => rawCookie(good({ exp: seconds(NOW) + 0.5 }))],
    ['entries as an array', () => rawCookie(good({ entries: [v2] }))],
    ['no entries', () => rawCookie(good({ entries: {} }))],
    ['a tag without a hyphen', () => rawCookie(good({ entries: { greeting: v2 } }))],
    ['an upper-case tag', () => rawCookie(good({ entries: { 'Team-Greeting': v2 } }))],
    ['__proto__ as a tag', () => rawCookie(`{"v":1,"iat":${seconds(NOW)},"exp":${seconds(NOW) + 60},"entries":{"__proto__":${JSON.stringify(v2)}}}`)],
    ['a relative server URL', () => rawCookie(good({ entries: { 'team-greeting': { ...v2, server: '/team-greeting/2/server.mjs' } } }))],
    ['a javascript: client URL', () => rawCookie(good({ entries: { 'team-greeting': { ...v2, client: 'javascript:alert(1)' } } }))],
    ['a data: server URL', () => rawCookie(good({ entries: { 'team-greeting': { ...v2, server: 'data:text/javascript,process.exit()' } } }))],
    ['a server origin not in allow', () => rawCookie(good({ entries: { 'team-greeting': { ...v2, server: 'https://evil.example/server.mjs' } } }))],
    ['a client origin not in allow', () => rawCookie(good({ entries: { 'team-greeting': { ...v2, client: 'http://cdn.example/client.mjs' } } }))],
    ['an allowed host on another port', () => rawCookie(good({ entries: { 'team-greeting': { ...v2, server: 'https://cdn.example:8443/server.mjs' } } }))],
    ['credentials in a URL', () => rawCookie(good({ entries: { 'team-greeting': { ...v2, server: 'https://user:pw@cdn.example/server.mjs' } } }))],
    ['a file: URL with a host', () => rawCookie(good({ entries: { 'team-greeting': { ...v2, server: 'file://server/share/x.mjs' } } }))],
    ['a file: client URL', () => rawCookie(good({ entries: { 'team-greeting': { ...v2, client: 'file:///srv/client.mjs' } } }))],
    ['a URL that is not a string', () => rawCookie(good({ entries: { 'team-greeting': { ...v2, server: 42 } } }))],
    ['a missing client', () => rawCookie(good({ entries: { 'team-greeting': { server: v2.server } } }))],
    ['more than maxEntries', () => rawCookie(good({ entries: Object.fromEntries(['a-a', 'b-b', 'c-c', 'd-d', 'e-e'].map((t) => [t, v2])) }))],
  ];

  for (const [name, make] of hostile) {
    test(`ignored: ${name}`, () => {
      const logger = memoryLogger();
      const o = makeOverrides({ logger });
      const value = make();
      assert.equal(o.overridesFor(headersOf(`${OVERRIDE_COOKIE}=${value}`)), undefined);
      assert.ok('problem' in o.read(value));
      assert.ok(logger.lines.length <= 1, 'at most one line');
      for (const line of logger.lines) {
        assert.equal(line.level, 'debug');
        assert.ok(!JSON.stringify(line).includes(value.slice(0, 20)), 'the cookie itself is not logged');
      }
    });
  }

  test('the same cookie is honoured before its expiry and ignored after it (also once remembered)', () => {
    let t = NOW;
    const o = createOverrides({ secret: SECRET, allow: ALLOW, maxAge: HOUR, now: () => t });
    const value = o.sign({ 'team-greeting': v2 });
    assert.ok(o.overridesFor(headersOf(`${OVERRIDE_COOKIE}=${value}`)));
    t += HOUR - 1000;
    assert.ok(o.overridesFor(headersOf(`${OVERRIDE_COOKIE}=${value}`)));
    t += 1000;
    assert.equal(o.overridesFor(headersOf(`${OVERRIDE_COOKIE}=${value}`)), undefined);
  });

  test('a valid signature over a bad payload is still checked: the length bound comes before any decoding', () => {
    const o = makeOverrides();
    // An overlong value is refused by its length alone: even a validly signed one.
    const big = rawCookie(good({ entries: { 'team-greeting': { server: `${CDN}/${'y'.repeat(5000)}.mjs`, client: v2.client } } }));
    const r = o.read(big);
    assert.ok('problem' in r && /characters \(at most 4000\)/.test(r.problem), JSON.stringify(r));
  });

  test('requests without the cookie cost a header read: no cookie, other cookies, a name that only contains ours', () => {
    const o = makeOverrides();
    const value = o.sign({ 'team-greeting': v2 });
    assert.equal(o.overridesFor(headersOf(undefined)), undefined);
    assert.equal(o.overridesFor(headersOf('session=abc; theme=dark')), undefined);
    assert.equal(o.overridesFor(headersOf(`x${OVERRIDE_COOKIE}=${value}`)), undefined, 'another cookie whose name ends with ours');
    assert.equal(o.overridesFor(headersOf(`other=${OVERRIDE_COOKIE}=${value}`)), undefined, 'our name inside another cookie\'s value');
    assert.equal(o.overridesFor(headersOf(`${OVERRIDE_COOKIE}=`)), undefined);
    assert.ok(o.overridesFor(headersOf(`x${OVERRIDE_COOKIE}=1; ${OVERRIDE_COOKIE}=${value}`)), 'the real one after a look-alike');
    // Headers that throw (a hostile RequestHeaders) cannot fail the request.
    assert.equal(o.overridesFor({ get: () => { throw new Error('boom'); } }), undefined);
    assert.equal(cookieValue('a=1;atoll-override=xyz ;b=2', OVERRIDE_COOKIE), 'xyz');
  });

  test('tokens compare by digest: equal only when equal; missing, empty or overlong never match', () => {
    assert.equal(tokenMatches(TOKEN, TOKEN), true);
    assert.equal(tokenMatches(`${TOKEN}x`, TOKEN), false);
    assert.equal(tokenMatches(TOKEN.slice(1), TOKEN), false);
    assert.equal(tokenMatches(null, TOKEN), false);
    assert.equal(tokenMatches('', ''), false);
    assert.equal(tokenMatches('x', undefined), false);
    assert.equal(tokenMatches('x'.repeat(2000), 'x'.repeat(2000)), false);
  });
});

/** A plain Node server in front of the endpoint function, as the generation manager calls it. */
async function serveEndpoint(options: OverridesEndpointOptions): Promise<{ server: Server; url: string }> {
  const respond = overridesEndpoint(options);
  const server = createServer((req, res) => {
    void respond({ method: req.method ?? 'GET', target: req.url ?? '/', headers: new RawRequestHeaders(req.rawHeaders), body: req, requestId: 'test' }).then((r) => {
      res.writeHead(r.status, toNodeHeaders(r.headers));
      res.end(req.method === 'HEAD' || r.body.kind !== 'text' ? undefined : r.body.text);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, url: `http://127.0.0.1:${(server.address() as { port: number }).port}` };
}

const form = (fields: Record<string, string>): string => new URLSearchParams(fields).toString();
const FORM = { 'content-type': 'application/x-www-form-urlencoded' };

describe('the overrides page over HTTP', () => {
  let overrides: Overrides;
  let site: { server: Server; url: string };
  let secureSite: { server: Server; url: string };
  let disabled: { server: Server; url: string };
  let logger: ReturnType<typeof memoryLogger>;
  const post = (fields: Record<string, string>, headers: Record<string, string> = {}, base = site.url): Promise<Response> =>
    fetch(`${base}${OVERRIDES_PATH}`, { method: 'POST', headers: { ...FORM, ...headers }, body: form(fields), redirect: 'manual' });

  before(async () => {
    logger = memoryLogger();
    overrides = createOverrides({ secret: SECRET, allow: ALLOW, maxAge: 8 * HOUR });
    site = await serveEndpoint({ overrides, token: TOKEN, logger });
    secureSite = await serveEndpoint({ overrides, token: TOKEN, publicOrigin: 'https://shop.example' });
    disabled = await serveEndpoint({ overrides: undefined, token: TOKEN });
  });
  after(() => {
    for (const s of [site, secureSite, disabled]) s.server.close();
  });

  test('GET: the page, with its own strict policy, not cached, not framed, no script', async () => {
    const res = await fetch(`${site.url}${OVERRIDES_PATH}`);
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type')!, /^text\/html/);
    assert.equal(res.headers.get('cache-control'), 'no-store');
    assert.equal(res.headers.get('x-frame-options'), 'DENY');
    const csp = res.headers.get('content-security-policy')!;
    assert.match(csp, /default-src 'none'/);
    assert.match(csp, /frame-ancestors 'none'/);
    assert.match(csp, /form-action 'self'/);
    const html = await res.text();
    assert.doesNotMatch(html, /<script/i);
    assert.match(html, /This browser has no override/);
    assert.match(html, new RegExp(`<form method="post" action="${OVERRIDES_PATH}">`));
    for (const name of ['token', 'tag', 'server', 'client']) assert.match(html, new RegExp(`name="${name}"`));
    assert.match(html, /value="set"/);
    assert.match(html, /value="clear"/);
    // The style is allowed by its hash (no 'unsafe-inline').
    const style = /<style>([\s\S]*?)<\/style>/.exec(html)![1]!;
    const { createHash } = await import('node:crypto');
    assert.ok(csp.includes(`'sha256-${createHash('sha256').update(style).digest('base64')}'`));
  });

  test('POST without a token or with a wrong one: 403 and no cookie (form and JSON)', async () => {
    for (const token of [undefined, 'guess-1234', `${TOKEN} `, '']) {
      const fields: Record<string, string> = { action: 'set', tag: 'team-greeting', server: v2.server, client: v2.client };
      if (token !== undefined) fields.token = token;
      const res = await post(fields);
      assert.equal(res.status, 403, String(token));
      assert.deepEqual(res.headers.getSetCookie(), []);
      assert.match(await res.text(), /the token is missing or wrong/);
      const json = await post(fields, { accept: 'application/json' });
      assert.equal(json.status, 403);
      assert.deepEqual(json.headers.getSetCookie(), []);
      assert.deepEqual(await json.json(), { error: 'the token is missing or wrong' });
    }
    assert.ok(logger.lines.some((l) => l.level === 'warn' && /override refused/.test(String(l.msg))));
    assert.ok(!JSON.stringify(logger.lines).includes('guess-1234'), 'the given token is not logged');
  });

  test('POST with the token sets the signed cookie: HttpOnly, SameSite=Lax, Path=/, Max-Age; 303 back to the page', async () => {
    const res = await post({ token: TOKEN, action: 'set', tag: 'team-greeting', server: v2.server, client: v2.client });
    assert.equal(res.status, 303);
    assert.equal(res.headers.get('location'), OVERRIDES_PATH);
    const [cookie, ...more] = res.headers.getSetCookie();
    assert.equal(more.length, 0);
    const attrs = cookie!.split('; ');
    assert.ok(attrs[0]!.startsWith(`${OVERRIDE_COOKIE}=`));
    assert.deepEqual(attrs.slice(1).sort(), ['HttpOnly', 'Max-Age=28800', 'Path=/', 'SameSite=Lax']);
    const value = attrs[0]!.slice(OVERRIDE_COOKIE.length + 1);
    assert.deepEqual(overrides.overridesFor(headersOf(`${OVERRIDE_COOKIE}=${value}`)), { 'team-greeting': v2 });
    // The page now shows it.
    const page = await (await fetch(`${site.url}${OVERRIDES_PATH}`, { headers: { cookie: `${OVERRIDE_COOKIE}=${value}` } })).text();
    assert.match(page, /<td>team-greeting<\/td><td>https:\/\/cdn\.example\/team-greeting\/2\/server\.mjs<\/td>/);
  });

  test('Secure when the config\'s publicOrigin is https, or a proxy says the request came over https', async () => {
    const fields = { token: TOKEN, action: 'set', tag: 'team-greeting', server: v2.server, client: v2.client };
    assert.match((await post(fields, {}, secureSite.url)).headers.getSetCookie()[0]!, /; Secure$/);
    assert.match((await post(fields, { 'x-forwarded-proto': 'https' })).headers.getSetCookie()[0]!, /; Secure$/);
    assert.match((await post(fields, { forwarded: 'for=1.2.3.4;proto=https' })).headers.getSetCookie()[0]!, /; Secure$/);
    assert.doesNotMatch((await post(fields, { 'x-forwarded-proto': 'http' })).headers.getSetCookie()[0]!, /Secure/);
  });

  test('set adds to the browser\'s current override; clear removes one tag, or all', async () => {
    const first = overrides.sign({ 'team-greeting': v2 });
    const cart = { server: `${CDN}/cart/3/server.mjs`, client: `${CDN}/cart/3/client.mjs` };
    const res = await post({ token: TOKEN, action: 'set', tag: 'shop-cart', ...cart }, { cookie: `${OVERRIDE_COOKIE}=${first}`, accept: 'application/json' });
    assert.equal(res.status, 200);
    const body = (await res.json()) as { entries: unknown; expires: string };
    assert.deepEqual(body.entries, { 'team-greeting': v2, 'shop-cart': cart });
    assert.ok(Date.parse(body.expires) > Date.now());
    const both = res.headers.getSetCookie()[0]!.split(';')[0]!.slice(OVERRIDE_COOKIE.length + 1);

    const one = await post({ token: TOKEN, action: 'clear', tag: 'shop-cart' }, { cookie: `${OVERRIDE_COOKIE}=${both}` });
    assert.equal(one.status, 303);
    const left = one.headers.getSetCookie()[0]!.split(';')[0]!.slice(OVERRIDE_COOKIE.length + 1);
    assert.deepEqual(overrides.overridesFor(headersOf(`${OVERRIDE_COOKIE}=${left}`)), { 'team-greeting': v2 });

    const all = await post({ token: TOKEN, action: 'clear' }, { cookie: `${OVERRIDE_COOKIE}=${both}` });
    assert.equal(all.status, 303);
    assert.deepEqual(all.headers.getSetCookie(), [`${OVERRIDE_COOKIE}=; Path=/; Max-Age=0; HttpOnly; SameSite=Lax`]);
    // Clearing needs the token too.
    const refused = await post({ action: 'clear' }, { cookie: `${OVERRIDE_COOKIE}=${both}` });
    assert.equal(refused.status, 403);
    assert.deepEqual(refused.headers.getSetCookie(), []);
  });

  test('a refused set shows the problem and echoes the form escaped; no cookie', async () => {
    const evil = '"><script>alert(1)</script>';
    const res = await post({ token: TOKEN, action: 'set', tag: `x-${evil}`, server: `${CDN}/a.mjs${evil}`, client: `https://evil.example/${evil}` });
    assert.equal(res.status, 400);
    assert.deepEqual(res.headers.getSetCookie(), []);
    const html = await res.text();
    assert.doesNotMatch(html, /<script/i);
    assert.match(html, /is not a custom element name/);
    assert.match(html, /value="x-&quot;&gt;&lt;script&gt;alert\(1\)&lt;\/script&gt;"/);
    const origin = await post({ token: TOKEN, action: 'set', tag: 'team-greeting', server: 'https://evil.example/s.mjs', client: v2.client }, { accept: 'application/json' });
    assert.equal(origin.status, 400);
    assert.match(((await origin.json()) as { error: string }).error, /evil\.example is not in deploys\.allow/);
    const age = await post({ token: TOKEN, action: 'set', tag: 'team-greeting', ...v2, maxAge: '9h' }, { accept: 'application/json' });
    assert.equal(age.status, 400);
    const shorter = await post({ token: TOKEN, action: 'set', tag: 'team-greeting', ...v2, maxAge: '1h' });
    assert.match(shorter.headers.getSetCookie()[0]!, /Max-Age=3600;/);
    const action = await post({ token: TOKEN, action: 'delete' });
    assert.equal(action.status, 400);
  });

  test('the page shows why a browser\'s cookie is ignored, escaped', async () => {
    const res = await fetch(`${site.url}${OVERRIDES_PATH}`, { headers: { cookie: `${OVERRIDE_COOKIE}=${'B'.repeat(20)}.<b>` } });
    const html = await res.text();
    assert.match(html, /override cookie is ignored \(not base64url\)/);
    assert.doesNotMatch(html, /<b>/);
  });

  test('other methods 405, bodies bounded, form encoding required; disabled overrides: 404 for everything', async () => {
    const put = await fetch(`${site.url}${OVERRIDES_PATH}`, { method: 'PUT' });
    assert.equal(put.status, 405);
    assert.equal(put.headers.get('allow'), 'GET, HEAD, POST');
    const big = await fetch(`${site.url}${OVERRIDES_PATH}`, { method: 'POST', headers: FORM, body: `token=${'x'.repeat(100_000)}` });
    assert.equal(big.status, 413);
    const json = await fetch(`${site.url}${OVERRIDES_PATH}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ token: TOKEN }) });
    assert.equal(json.status, 415);
    for (const method of ['GET', 'POST', 'PUT']) {
      const res = await fetch(`${disabled.url}${OVERRIDES_PATH}`, { method, headers: FORM, body: method === 'GET' ? undefined : form({ token: TOKEN, action: 'clear' }) });
      assert.equal(res.status, 404, method);
      assert.deepEqual(res.headers.getSetCookie(), []);
    }
  });

  test('without ATOLL_DEPLOY_TOKEN on the server nothing can be set', async () => {
    const noToken = await serveEndpoint({ overrides, token: undefined });
    try {
      const res = await post({ token: '', action: 'set', tag: 'team-greeting', ...v2 }, { accept: 'application/json' }, noToken.url);
      assert.equal(res.status, 403);
      assert.match(((await res.json()) as { error: string }).error, /ATOLL_DEPLOY_TOKEN is not set/);
      assert.deepEqual(res.headers.getSetCookie(), []);
    } finally {
      noToken.server.close();
    }
  });
});

describe('atoll override', () => {
  let dir: string;
  let site: { server: Server; url: string };
  const io = (env: Record<string, string | undefined> = {}) => {
    const out: string[] = [];
    const err: string[] = [];
    return { out, err, io: { out: (t: string) => void out.push(t), err: (t: string) => void err.push(t), env } };
  };
  const verifier = createOverrides({ secret: SECRET, allow: ALLOW, maxAge: 8 * HOUR });

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'atoll-override-cmd-'));
    writeFileSync(join(dir, 'atoll.config.json'), JSON.stringify({ deploys: { importMap: 'importmap.json', allow: ALLOW, overrides: { enabled: true, maxAge: '8h' } } }));
    site = await serveEndpoint({ overrides: verifier, token: TOKEN });
  });
  after(() => {
    site.server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test('sign prints a cookie value the server honours, checked against the site\'s deploys config', async () => {
    const run = io({ ATOLL_OVERRIDE_SECRET: SECRET });
    const code = await runOverride(['sign', 'team-greeting'], { root: dir, server: v2.server, client: v2.client, 'max-age': '2h' }, run.io);
    assert.equal(code, 0, run.err.join(''));
    const value = run.out.join('').trim();
    const r = verifier.read(value);
    assert.ok('ok' in r);
    assert.deepEqual(r.ok.entries, { 'team-greeting': v2 });
    assert.equal(r.ok.expiresAt - r.ok.issuedAt, 2 * HOUR);

    const bad = io({ ATOLL_OVERRIDE_SECRET: SECRET });
    assert.equal(await runOverride(['sign', 'team-greeting'], { root: dir, server: 'https://evil.example/s.mjs', client: v2.client }, bad.io), 1);
    assert.match(bad.err.join(''), /evil\.example is not in deploys\.allow/);
    assert.deepEqual(bad.out, []);

    const noSecret = io({});
    assert.equal(await runOverride(['sign', 'team-greeting'], { root: dir, server: v2.server, client: v2.client }, noSecret.io), 1);
    assert.match(noSecret.err.join(''), /ATOLL_OVERRIDE_SECRET is not set/);

    const noDeploys = mkdtempSync(join(tmpdir(), 'atoll-override-nodeploys-'));
    try {
      const none = io({ ATOLL_OVERRIDE_SECRET: SECRET });
      assert.equal(await runOverride(['sign', 'team-greeting'], { root: noDeploys, server: v2.server, client: v2.client }, none.io), 1);
      assert.match(none.err.join(''), /no deploys section/);
    } finally {
      rmSync(noDeploys, { recursive: true, force: true });
    }
  });

  test('set and clear go through the site\'s endpoint with the token', async () => {
    const set = io({ ATOLL_DEPLOY_TOKEN: TOKEN });
    assert.equal(await runOverride(['set', 'team-greeting'], { url: site.url, server: v2.server, client: v2.client }, set.io), 0, set.err.join(''));
    const value = set.out.join('').trim();
    assert.deepEqual(verifier.overridesFor(headersOf(`${OVERRIDE_COOKIE}=${value}`)), { 'team-greeting': v2 });
    assert.match(set.err.join(''), /Set-Cookie: atoll-override=.*HttpOnly/);
    assert.match(set.err.join(''), /curl -b 'atoll-override=/);

    const cart = { server: `${CDN}/cart/3/server.mjs`, client: `${CDN}/cart/3/client.mjs` };
    const more = io({});
    assert.equal(await runOverride(['set', 'shop-cart'], { url: site.url, token: TOKEN, cookie: value, ...cart }, more.io), 0, more.err.join(''));
    assert.deepEqual(Object.keys(verifier.overridesFor(headersOf(`${OVERRIDE_COOKIE}=${more.out.join('').trim()}`))!), ['team-greeting', 'shop-cart']);

    const clear = io({ ATOLL_DEPLOY_TOKEN: TOKEN });
    assert.equal(await runOverride(['clear'], { url: site.url, cookie: value }, clear.io), 0, clear.err.join(''));
    assert.equal(clear.out.join(''), '\n');

    const wrong = io({});
    assert.equal(await runOverride(['set', 'team-greeting'], { url: site.url, token: 'nope', server: v2.server, client: v2.client }, wrong.io), 1);
    assert.match(wrong.err.join(''), /403 the token is missing or wrong/);
    assert.deepEqual(wrong.out, []);
  });

  test('the command line: atoll override sign through bin/atoll.mjs (the row in cli.ts\'s table)', async () => {
    const r = await runCli(['override', 'sign', 'team-greeting', '--root', dir, '--server', v2.server, '--client', v2.client], { env: { ATOLL_OVERRIDE_SECRET: SECRET } });
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(verifier.overridesFor(headersOf(`${OVERRIDE_COOKIE}=${r.stdout.trim()}`)), { 'team-greeting': v2 });
    const help = await runCli(['help', 'override']);
    assert.match(help.stdout, /atoll override sign <tag> --server URL --client URL/);
  });

  test('usage errors exit 2 with a message', async () => {
    const cases: Array<[string[], Record<string, string>, RegExp]> = [
      [[], {}, /give sign, set or clear/],
      [['frob'], {}, /unknown action "frob"/],
      [['sign', 'team-greeting'], { server: v2.server }, /sign needs <tag>, --server and --client/],
      [['set', 'team-greeting', 'extra'], {}, /unexpected argument "extra"/],
      [['set', 'team-greeting'], { server: v2.server, client: v2.client }, /needs --url/],
      [['set', 'team-greeting'], { url: 'ftp://x', server: v2.server, client: v2.client }, /--url takes the site's http\(s\) origin/],
      [['clear'], { url: 'http://127.0.0.1:1' }, /give the deploy token/],
      [['sign', 'team-greeting'], { server: v2.server, client: v2.client, 'max-age': 'soon' }, /--max-age takes a duration/],
    ];
    for (const [args, values, message] of cases) {
      const run = io({});
      assert.equal(await runOverride(args, values, run.io), 2, args.join(' '));
      assert.match(run.err.join(''), message);
    }
  });
});

describe('overrides through the generation manager (atoll serve with deploys.overrides on)', () => {
  const TAG = 'ov-ver';
  let cdn: Cdn;
  let root: string;
  let atoll: Atoll;
  let running: RunningServer;
  let signer: Overrides;
  const logger = memoryLogger();

  const versionOf = (html: string): string | undefined => /version <!--lit-part-->(\w+)/.exec(html)?.[1];
  /** The URL the page's browser import map gives `@atoll/<tag>`. */
  const clientOf = (html: string): string | undefined => {
    const map = /<script type="importmap"[^>]*>([\s\S]*?)<\/script>/.exec(html)?.[1];
    return map === undefined ? undefined : (JSON.parse(map) as { imports: Record<string, string> }).imports[`@atoll/${TAG}`];
  };
  const get = async (cookie?: string): Promise<{ status: number; html: string; cacheControl: string | null; overrideHeader: string | null }> => {
    const r = await fetch(`${running.url}/`, { headers: cookie === undefined ? {} : { cookie } });
    return { status: r.status, html: await r.text(), cacheControl: r.headers.get('cache-control'), overrideHeader: r.headers.get('x-atoll-override') };
  };

  before(async () => {
    cdn = await cdnServer();
    for (const v of ['one', 'two']) cdn.put(`${TAG}/${v}/server.mjs`, elementVersion(TAG, v, cdn.url));
    // <atoll-head> and a client build (of a site with no elements of its own): the page then carries the browser import map.
    root = makeSite({ 'layouts/index.html': layout(`<${TAG}></${TAG}>`).replace('</head>', '<atoll-head></atoll-head></head>') });
    setMap(root, cdn, { [TAG]: 'one' });
    writeFileSync(
      join(root, 'atoll.config.json'),
      JSON.stringify({ deploys: { importMap: 'map.json', allow: [cdn.url], pollInterval: 0, overrides: { enabled: true, maxGenerations: 2, maxAge: '1h' } } }),
    );
    atoll = await createAtoll({ root, logger, env: { ATOLL_OVERRIDE_SECRET: SECRET, ATOLL_DEPLOY_TOKEN: TOKEN }, client: { build: 'if-stale' } });
    running = await listen(atoll, { port: 0, host: '127.0.0.1' });
    signer = createOverrides({ secret: SECRET, allow: [cdn.url], maxAge: HOUR });
  });
  after(async () => {
    await running?.close();
    await cdn?.close();
  });

  const entryFor = (v: string): ImportMapEntry => {
    const live = atoll.deploys!.status().current!.elements[TAG]!;
    return { server: live.server.replace('/one/', `/${v}/`).replace('__one__', `__${v}__`), client: `${cdn.url}/${TAG}/${v}/client.mjs` };
  };

  test('two clients at once, one with the cookie, see different versions: server render and the browser import map', async () => {
    const cookie = `${OVERRIDE_COOKIE}=${signer.sign({ [TAG]: entryFor('two') })}`;
    const [plain, overridden, plain2, overridden2] = await Promise.all([get(), get(`theme=dark; ${cookie}`), get(), get(cookie)]);
    for (const r of [plain, overridden, plain2, overridden2]) assert.equal(r.status, 200);
    assert.equal(versionOf(plain.html), 'one');
    assert.equal(clientOf(plain.html), `${cdn.url}/${TAG}/one/client.mjs`);
    assert.equal(versionOf(overridden.html), 'two');
    assert.equal(clientOf(overridden.html), `${cdn.url}/${TAG}/two/client.mjs`);
    assert.equal(versionOf(plain2.html), 'one');
    assert.equal(versionOf(overridden2.html), 'two');
    assert.equal(overridden.cacheControl, 'private, no-store', 'an overridden page is never cached by others');
    assert.equal(atoll.deploys!.status().overrides.length, 1, 'one override generation, shared by both overridden requests');
    assert.equal(atoll.deploys!.status().current!.elements[TAG]!.client, `${cdn.url}/${TAG}/one/client.mjs`, 'the live map is unchanged');
  });

  test('a forged, altered or expired cookie gets the live version', async () => {
    const good = signer.sign({ [TAG]: entryFor('two') });
    const forged = `${good.split('.')[0]}.${'A'.repeat(43)}`;
    const otherSecret = createOverrides({ secret: 'x'.repeat(40), allow: [cdn.url] }).sign({ [TAG]: entryFor('two') });
    const expired = createOverrides({ secret: SECRET, allow: [cdn.url], maxAge: HOUR, now: () => Date.now() - 2 * HOUR }).sign({ [TAG]: entryFor('two') });
    for (const value of [forged, otherSecret, expired]) {
      const r = await get(`${OVERRIDE_COOKIE}=${value}`);
      assert.equal(r.status, 200);
      assert.equal(versionOf(r.html), 'one');
      assert.equal(clientOf(r.html), `${cdn.url}/${TAG}/one/client.mjs`);
      assert.equal(r.overrideHeader, null);
    }
  });

  test('the page through the real server: set with the token, then that browser renders the override', async () => {
    const entry = entryFor('two');
    const refused = await fetch(`${running.url}${OVERRIDES_PATH}`, { method: 'POST', headers: FORM, body: form({ token: 'nope', action: 'set', tag: TAG, ...entry }), redirect: 'manual' });
    assert.equal(refused.status, 403);
    assert.deepEqual(refused.headers.getSetCookie(), []);
    const res = await fetch(`${running.url}${OVERRIDES_PATH}`, { method: 'POST', headers: FORM, body: form({ token: TOKEN, action: 'set', tag: TAG, ...entry }), redirect: 'manual' });
    assert.equal(res.status, 303);
    const setCookie = res.headers.getSetCookie()[0]!;
    assert.match(setCookie, /; HttpOnly; SameSite=Lax$/);
    const r = await get(setCookie.split(';')[0]!);
    assert.equal(versionOf(r.html), 'two');
    const page = await (await fetch(`${running.url}${OVERRIDES_PATH}`, { headers: { cookie: setCookie.split(';')[0]! } })).text();
    assert.ok(page.includes(`<td>${TAG}</td>`));
  });

  test('an override whose module does not load answers with the live version and says so', async () => {
    cdn.put(`${TAG}/broken/server.mjs`, `throw new Error('broken override');\n`);
    const r = await get(`${OVERRIDE_COOKIE}=${signer.sign({ [TAG]: entryFor('broken') })}`);
    assert.equal(r.status, 200);
    assert.equal(versionOf(r.html), 'one');
    assert.ok(r.overrideHeader?.startsWith('failed'));
  });
});

describe('overrides enabled without ATOLL_OVERRIDE_SECRET', () => {
  test('the server does not start: a SiteError naming the config file and the variable', async () => {
    const root = makeSite({ 'layouts/index.html': layout('<p>x</p>'), 'map.json': JSON.stringify({ elements: {} }) });
    writeFileSync(join(root, 'atoll.config.json'), JSON.stringify({ deploys: { importMap: 'map.json', allow: [], pollInterval: 0, overrides: { enabled: true } } }));
    await assert.rejects(
      createAtoll({ root, logger: memoryLogger(), env: {} }),
      (e: Error) => e instanceof SiteError && e.problems[0]!.file === 'atoll.config.json' && /deploys\.overrides\.enabled is true but ATOLL_OVERRIDE_SECRET is not set/.test(e.message),
    );
  });
});
