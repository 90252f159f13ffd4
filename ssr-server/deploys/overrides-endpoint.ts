/**
 * `/_atoll/deploys/overrides`: where a developer sets and clears the signed
 * override cookie of their browser (overrides.ts, docs/deploys.md
 * "Overrides"). Answered on the main thread: the generation manager calls
 * the function {@link overridesEndpoint} makes for this path, before any
 * request is forwarded to a generation.
 *
 * - `GET`/`HEAD`: a small HTML page — the overrides this browser's cookie
 *   carries now (or why it is ignored), and a form: token, tag, server URL,
 *   client URL, lifetime; buttons to set and to clear. No script; every
 *   value written is escaped; its own strict Content-Security-Policy.
 * - `POST` (`application/x-www-form-urlencoded`, at most
 *   {@link MAX_FORM_BYTES}): with the right `ATOLL_DEPLOY_TOKEN` (compared
 *   in constant time), `action=set` adds or replaces one tag's entry in the
 *   browser's current overrides and sets the signed cookie (`HttpOnly`,
 *   `SameSite=Lax`, `Path=/`, `Max-Age`, `Secure` when the request came
 *   over https or `publicOrigin` is https); `action=clear` removes one tag,
 *   or the whole cookie when no tag is given. A wrong or missing token is
 *   403 and sets nothing. A form post is answered `303 See Other` back to
 *   the page; `Accept: application/json` (the `atoll override` command)
 *   gets JSON.
 * - Overrides disabled: 404 for every method — the endpoint does not exist.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join, relative } from 'node:path';
import { SiteError } from '../errors.ts';
import { requestIdFor } from '../handle.ts';
import { escapeAttr, escapeText } from '../html.ts';
import { parseDuration } from '../layout/attributes.ts';
import type { Logger } from '../log.ts';
import { textResponse } from '../responses.ts';
import type { CoreResponse, RequestHeaders } from '../wire.ts';
import { CONFIG_FILES } from '../site/config.ts';
import { cookieValue, OverrideError, overridesFromConfig, type Overrides, type OverridesConfigPart } from './overrides.ts';
import { DEPLOYS_PATH, OVERRIDE_COOKIE, type ImportMapEntry } from './types.ts';

/** The page's path. */
export const OVERRIDES_PATH = `${DEPLOYS_PATH}/overrides`;
/** The environment variable with the admin token (also the push and status endpoints'). */
export const DEPLOY_TOKEN_ENV = 'ATOLL_DEPLOY_TOKEN';
/** Most bytes of a form body read; a longer one is 413. */
export const MAX_FORM_BYTES = 16 * 1024;

/** What the endpoint needs of a request (a `CoreRequest` is one, plus the body and whether it came over TLS). */
export interface OverridesRequest {
  method: string;
  /** The request target (path and query). */
  target: string;
  headers: RequestHeaders;
  /** For log lines and the response. */
  requestId?: string;
  /** The request body, read only for a POST (an `IncomingMessage` or a Web `ReadableStream` is one). */
  body?: AsyncIterable<Uint8Array> | undefined;
  /** True when the request reached this server over TLS. */
  secure?: boolean;
}

/** Options of {@link overridesEndpoint}. */
export interface OverridesEndpointOptions {
  /** The server's overrides; undefined when `deploys.overrides.enabled` is off (every method: 404). */
  overrides: Overrides | undefined;
  /** `ATOLL_DEPLOY_TOKEN`; undefined: nothing can be set here (403), `atoll override sign` still works. */
  token: string | undefined;
  /** The config's `publicOrigin`: an https one makes the cookie `Secure`. */
  publicOrigin?: string | undefined;
  logger?: Logger;
}

/** True when `given` is `token`; constant time in the token's content (digests of both are compared). */
export function tokenMatches(given: string | null | undefined, token: string | undefined): boolean {
  if (token === undefined || token === '' || typeof given !== 'string' || given === '' || given.length > 1024) return false;
  const a = createHash('sha256').update(given).digest();
  const b = createHash('sha256').update(token).digest();
  return timingSafeEqual(a, b);
}

const STYLE = `body{font:15px/1.5 system-ui,sans-serif;max-width:46rem;margin:2rem auto;padding:0 1rem;color:#222}
table{border-collapse:collapse;width:100%}td,th{border-bottom:1px solid #ddd;padding:.3rem;text-align:left;word-break:break-all}
label{display:block;margin:.6rem 0 .2rem}input{width:100%;box-sizing:border-box;padding:.35rem;font:inherit}
button{margin:.8rem .5rem 0 0;padding:.4rem 1rem;font:inherit}.problem{color:#a00}.note{color:#555}`;
const STYLE_HASH = createHash('sha256').update(STYLE).digest('base64');
/** The page's own policy: no script at all, only its one style, forms back to this server, never framed. */
const PAGE_CSP = `default-src 'none'; style-src 'sha256-${STYLE_HASH}'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'`;

const PAGE_HEADERS = {
  'content-type': 'text/html; charset=utf-8',
  'cache-control': 'no-store',
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
  'content-security-policy': PAGE_CSP,
};

/** The form's values, echoed back (escaped) after a refused post. */
interface FormValues {
  tag?: string;
  server?: string;
  client?: string;
  maxAge?: string;
}

/** Makes the endpoint. The returned function never rejects for any request. */
export function overridesEndpoint(options: OverridesEndpointOptions): (req: OverridesRequest) => Promise<CoreResponse> {
  const { overrides, token, logger } = options;
  const httpsOrigin = options.publicOrigin?.startsWith('https:') === true;

  const respond = async (req: OverridesRequest): Promise<CoreResponse> => {
    const requestId = req.requestId ?? requestIdFor(req.headers);
    if (overrides === undefined) return textResponse(404, 'Not Found\n', requestId);
    if (req.method === 'GET' || req.method === 'HEAD') return page(200, currentOf(req.headers), {}, undefined, requestId);
    if (req.method !== 'POST') return textResponse(405, 'Method Not Allowed\n', requestId, { allow: 'GET, HEAD, POST', 'cache-control': 'no-store' });
    const json = /\bapplication\/json\b/i.test(req.headers.get('accept') ?? '');
    const fail = (status: number, message: string, values: FormValues = {}): CoreResponse =>
      json ? jsonResponse(status, { error: message }, requestId) : page(status, currentOf(req.headers), values, message, requestId);
    const type = req.headers.get('content-type') ?? '';
    if (!/^application\/x-www-form-urlencoded\s*(;|$)/i.test(type)) return fail(415, 'send the form as application/x-www-form-urlencoded');
    const text = await readBody(req.body, MAX_FORM_BYTES);
    if (text === 'too-large') return fail(413, `the form is larger than ${MAX_FORM_BYTES} bytes`);
    if (text === undefined) return fail(400, 'the form could not be read');
    const form = new URLSearchParams(text);
    const values: FormValues = {
      tag: (form.get('tag') ?? '').trim(),
      server: (form.get('server') ?? '').trim(),
      client: (form.get('client') ?? '').trim(),
      maxAge: (form.get('maxAge') ?? '').trim(),
    };
    if (!tokenMatches(form.get('token'), token)) {
      logger?.warn({ requestId }, token === undefined ? `override refused: ${DEPLOY_TOKEN_ENV} is not set` : 'override refused: missing or wrong token');
      return fail(403, token === undefined ? `${DEPLOY_TOKEN_ENV} is not set on the server: no override can be set here` : 'the token is missing or wrong', values);
    }
    const action = form.get('action');
    const current = currentOf(req.headers);
    const entries: Record<string, ImportMapEntry> = { ...(current !== undefined && 'ok' in current ? current.ok.entries : {}) };
    const secure = req.secure === true || httpsOrigin || forwardedHttps(req.headers);
    if (action === 'clear') {
      if (values.tag !== '') delete entries[values.tag!];
      const keep = Object.keys(entries).length > 0 && values.tag !== '';
      let cookie: string;
      let expiresAt: number | undefined;
      if (keep) {
        // The remaining entries, re-signed for the time the cookie had left (at least a second).
        const left = current !== undefined && 'ok' in current ? current.ok.expiresAt - Date.now() : overrides.maxAge;
        const lifetime = Math.min(overrides.maxAge, Math.max(1000, Math.floor(left / 1000) * 1000));
        cookie = setCookie(overrides.sign(entries, lifetime), lifetime, secure);
        expiresAt = Date.now() + lifetime;
      } else cookie = setCookie('', 0, secure);
      logger?.info({ requestId, cleared: values.tag === '' ? 'all' : values.tag }, 'override cleared');
      return done(json, { entries: keep ? entries : {}, expiresAt }, cookie, requestId);
    }
    if (action !== 'set') return fail(400, 'action must be set or clear', values);
    let lifetime = overrides.maxAge;
    if (values.maxAge !== '') {
      const ms = parseDuration(values.maxAge!, 'ms');
      if (ms === undefined || ms < 1000) return fail(400, `"${values.maxAge!.slice(0, 64)}" is not a lifetime (such as 30m or 8h)`, values);
      lifetime = Math.floor(ms / 1000) * 1000;
    }
    entries[values.tag!] = { server: values.server!, client: values.client! };
    let value: string;
    try {
      value = overrides.sign(entries, lifetime);
    } catch (e) {
      if (e instanceof OverrideError) return fail(400, e.message, values);
      throw e;
    }
    const checked = overrides.read(value);
    const signed = 'ok' in checked ? checked.ok : undefined;
    logger?.info({ requestId, tag: values.tag, entries: signed?.entries }, 'override set');
    return done(json, { entries: signed?.entries ?? {}, expiresAt: signed?.expiresAt }, setCookie(value, lifetime, secure), requestId);
  };

  /** What this browser's cookie holds now (undefined: no cookie). */
  function currentOf(headers: RequestHeaders): ReturnType<Overrides['read']> | undefined {
    const header = headers.get('cookie');
    const value = header === null ? undefined : cookieValue(header, OVERRIDE_COOKIE);
    return value === undefined || value === '' ? undefined : overrides!.read(value);
  }

  return async (req) => {
    try {
      return await respond(req);
    } catch (e) {
      logger?.error({ requestId: req.requestId, err: { message: e instanceof Error ? e.message : String(e) } }, 'the overrides endpoint failed');
      return textResponse(500, 'Internal Server Error\n', req.requestId ?? '-', { 'cache-control': 'no-store' });
    }
  };
}

/** The `Set-Cookie` value: `maxAgeMs` 0 clears it. */
function setCookie(value: string, maxAgeMs: number, secure: boolean): string {
  return `${OVERRIDE_COOKIE}=${value}; Path=/; Max-Age=${Math.floor(maxAgeMs / 1000)}; HttpOnly; SameSite=Lax${secure ? '; Secure' : ''}`;
}

/** True when a proxy in front says the client came over https (`X-Forwarded-Proto`, `Forwarded: proto=https`). */
function forwardedHttps(headers: RequestHeaders): boolean {
  const xfp = headers.get('x-forwarded-proto');
  if (xfp !== null && xfp.split(',')[0]!.trim().toLowerCase() === 'https') return true;
  const fwd = headers.get('forwarded');
  return fwd !== null && /(^|[;,\s])proto="?https"?\s*(;|,|$)/i.test(fwd.split(',')[0]!);
}

function done(json: boolean, result: { entries: Readonly<Record<string, ImportMapEntry>>; expiresAt: number | undefined }, cookie: string, requestId: string): CoreResponse {
  const headers = new Headers(json ? { 'content-type': 'application/json', 'x-content-type-options': 'nosniff', 'cache-control': 'no-store' } : { location: OVERRIDES_PATH, 'cache-control': 'no-store' });
  headers.append('set-cookie', cookie);
  const body = json
    ? { kind: 'text' as const, text: JSON.stringify({ entries: result.entries, expires: result.expiresAt === undefined ? null : new Date(result.expiresAt).toISOString() }) + '\n' }
    : { kind: 'none' as const };
  return { status: json ? 200 : 303, headers, body, requestId };
}

function jsonResponse(status: number, value: unknown, requestId: string): CoreResponse {
  return {
    status,
    headers: new Headers({ 'content-type': 'application/json', 'x-content-type-options': 'nosniff', 'cache-control': 'no-store' }),
    body: { kind: 'text', text: JSON.stringify(value) + '\n' },
    requestId,
  };
}

/** The body as text, at most `limit` bytes ('too-large' past it, undefined when it cannot be read). */
async function readBody(body: AsyncIterable<Uint8Array> | undefined, limit: number): Promise<string | 'too-large' | undefined> {
  if (body === undefined) return '';
  const parts: Uint8Array[] = [];
  let size = 0;
  try {
    for await (const chunk of body) {
      if (!(chunk instanceof Uint8Array)) return undefined;
      size += chunk.byteLength;
      if (size > limit) return 'too-large';
      parts.push(chunk);
    }
  } catch {
    return undefined;
  }
  return Buffer.concat(parts).toString('utf8');
}

/** The page: current overrides, a message, the form. Every value from the request or the cookie is escaped. */
function page(status: number, current: ReturnType<Overrides['read']> | undefined, values: FormValues, message: string | undefined, requestId: string): CoreResponse {
  let now: string;
  if (current === undefined) now = '<p class="note">This browser has no override: it gets the live versions.</p>';
  else if ('problem' in current) {
    now = `<p class="problem">This browser's override cookie is ignored (${escapeText(current.problem)}): it gets the live versions. Set a new one, or clear it.</p>`;
  } else {
    const rows = Object.entries(current.ok.entries)
      .map(([tag, e]) => `<tr><td>${escapeText(tag)}</td><td>${escapeText(e.server)}</td><td>${escapeText(e.client)}</td></tr>`)
      .join('');
    now = `<table><thead><tr><th>tag</th><th>server</th><th>client</th></tr></thead><tbody>${rows}</tbody></table>
<p class="note">Until ${escapeText(new Date(current.ok.expiresAt).toISOString())}.</p>`;
  }
  const field = (name: keyof FormValues, label: string, hint = ''): string =>
    `<label for="${name}">${label}</label><input id="${name}" name="${name}" value="${escapeAttr(values[name] ?? '')}"${hint}>`;
  const html = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<meta name="robots" content="noindex"><title>Atoll overrides</title><style>${STYLE}</style></head>
<body><h1>Element overrides for this browser</h1>
${message === undefined ? '' : `<p class="problem" role="alert">${escapeText(message)}</p>`}
${now}
<form method="post" action="${OVERRIDES_PATH}">
<label for="token">Deploy token</label><input id="token" name="token" type="password" autocomplete="off" required>
${field('tag', 'Element tag', ' placeholder="team-greeting"')}
${field('server', 'Server module URL', ' placeholder="https://cdn.example/team-greeting/2/server.mjs"')}
${field('client', 'Client module URL', ' placeholder="https://cdn.example/team-greeting/2/client.mjs"')}
${field('maxAge', 'Lifetime (optional, e.g. 2h)')}
<button name="action" value="set">Set</button><button name="action" value="clear" formnovalidate>Clear (this tag, or all without one)</button>
</form>
<p class="note">The cookie is signed by the server and sent with every request of this browser to this site: those pages render the overridden elements with the versions above, server and browser alike.</p>
</body></html>
`;
  return { status, headers: new Headers(PAGE_HEADERS), body: { kind: 'text', text: html }, requestId };
}

/** What {@link deploysOverrides} needs: the resolved `deploys` section, the environment, where the config is. */
export interface DeploysOverridesOptions {
  deploys: OverridesConfigPart;
  /** Where `ATOLL_OVERRIDE_SECRET` and `ATOLL_DEPLOY_TOKEN` are read (default `process.env`). */
  env?: Readonly<Record<string, string | undefined>> | undefined;
  logger?: Logger | undefined;
  /** The config's `publicOrigin` (an https one makes the cookie `Secure`). */
  publicOrigin?: string | undefined;
  /** The site folder and config file, for the start-up problem's location. */
  root: string;
  configPath?: string | undefined;
}

/**
 * The generation manager's two overrides options from the config and the
 * environment: `overrides` (each request's entries, {@link Overrides.overridesFor})
 * and `admin` (this page at {@link OVERRIDES_PATH}). With overrides off,
 * `overrides` is absent and the page answers 404. Overrides on without a
 * usable `ATOLL_OVERRIDE_SECRET` throws a `SiteError` naming the config file:
 * the server does not start with overrides silently off.
 */
export function deploysOverrides(options: DeploysOverridesOptions): {
  overrides?: (headers: RequestHeaders) => Readonly<Record<string, ImportMapEntry>> | undefined;
  admin: (req: OverridesRequest, pathname: string) => Promise<CoreResponse> | undefined;
} {
  const env = options.env ?? process.env;
  let overrides: Overrides | undefined;
  try {
    overrides = overridesFromConfig(options.deploys, env, options.logger);
  } catch (e) {
    if (!(e instanceof OverrideError)) throw e;
    throw new SiteError([{ file: configFileOf(options.root, options.configPath), message: e.message }]);
  }
  const token = env[DEPLOY_TOKEN_ENV];
  const page = overridesEndpoint({ overrides, token: token === '' ? undefined : token, publicOrigin: options.publicOrigin, logger: options.logger });
  return {
    ...(overrides === undefined ? {} : { overrides: overrides.overridesFor }),
    admin: (req, pathname) => (pathname === OVERRIDES_PATH ? page(req) : undefined),
  };
}

/** The config file as problems name it (relative to the site when inside it). */
export function configFileOf(root: string, configPath: string | undefined): string {
  const file = configPath ?? CONFIG_FILES.map((f) => join(root, f)).find((f) => existsSync(f));
  if (file === undefined) return '(config: deploys.overrides)';
  const rel = relative(root, file);
  return rel.startsWith('..') ? file : rel;
}
