/**
 * Per-developer overrides (SPEC 9c, issue 16): a signed cookie that replaces
 * some entries of the server import map for one client's requests only —
 * server render and browser modules alike — so a developer can try a build
 * on the live site.
 *
 * The cookie `atoll-override` is `<payload>.<signature>`:
 *
 * - `payload`: base64url of the JSON
 *   `{"v":1,"iat":<s>,"exp":<s>,"entries":{"<tag>":{"server":"<url>","client":"<url>"}}}`
 *   (issued-at and expiry in seconds since the epoch);
 * - `signature`: base64url of HMAC-SHA256, keyed with `ATOLL_OVERRIDE_SECRET`,
 *   over `atoll-override/1.` followed by the payload text.
 *
 * Reading it ({@link Overrides.overridesFor}) runs on every request in
 * deploys mode, so it is cheap when there is no cookie (one header read and
 * a substring search) and never throws: a missing, oversized, forged,
 * altered, expired, future-dated or malformed cookie, or one whose entries
 * would not pass as map entries (bad tags, URLs that are not absolute
 * `file:`/`http(s):`, origins not in `deploys.allow`, too many entries), is
 * ignored — the client gets the live versions — with at most one debug log
 * line. The signature is checked (in constant time) before anything of the
 * payload is decoded, so an unsigned value never reaches `JSON.parse`.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { Logger } from '../log.ts';
import type { RequestHeaders } from '../wire.ts';
import { OVERRIDE_COOKIE, type ImportMapEntry } from './types.ts';

/** The environment variable that holds the cookie's HMAC key. */
export const OVERRIDE_SECRET_ENV = 'ATOLL_OVERRIDE_SECRET';
/** Fewest characters of a secret accepted (`openssl rand -hex 32` gives 64). */
export const MIN_SECRET_LENGTH = 32;
/** Longest cookie value read; a longer one is ignored before any decoding (browsers keep about 4 KB per cookie). */
export const MAX_COOKIE_LENGTH = 4000;
/** Default most entries in one override. */
export const DEFAULT_MAX_ENTRIES = 16;
/** Default lifetime of a signed override (8 h), when the config gives none. */
export const DEFAULT_OVERRIDE_MAX_AGE = 8 * 60 * 60 * 1000;
/** How far in the future an issued-at may be (clock differences between instances). */
export const CLOCK_SKEW_MS = 60 * 1000;
/** Longest URL accepted in an entry. */
export const MAX_URL_LENGTH = 2048;

const VERSION = 1;
const SIGNING_PREFIX = 'atoll-override/1.';
/** Same rule as the config's element names: lower case, a hyphen, bounded. */
const TAG_RE = /^[a-z][a-z0-9._]*-[a-z0-9._-]*$/;
const MAX_TAG_LENGTH = 128;
const BASE64URL_RE = /^[A-Za-z0-9_-]+$/;
/** A SHA-256 HMAC in base64url without padding. */
const SIGNATURE_LENGTH = 43;
const PAYLOAD_KEYS = new Set(['v', 'iat', 'exp', 'entries']);
const ENTRY_KEYS = new Set(['server', 'client']);

/** Options of {@link createOverrides}. */
export interface OverridesOptions {
  /** The HMAC key (`ATOLL_OVERRIDE_SECRET`): at least {@link MIN_SECRET_LENGTH} characters. */
  secret: string;
  /** `deploys.allow`: the origins an `http(s)` entry URL may have. */
  allow: readonly string[];
  /** `deploys.overrides.maxAge` (ms): the longest lifetime signed, and honoured. Default 8 h. */
  maxAge?: number;
  /** Most entries in one override (default {@link DEFAULT_MAX_ENTRIES}). */
  maxEntries?: number;
  /** Where the one debug line about an ignored cookie goes. */
  logger?: Logger;
  /** The clock (ms since the epoch), for tests. */
  now?: () => number;
}

/** A verified override cookie. */
export interface OverrideGrant {
  /** Tag → entry (frozen; the same object for the same cookie value while it is remembered). */
  entries: Readonly<Record<string, ImportMapEntry>>;
  /** Issued at / expires at, ms since the epoch. */
  issuedAt: number;
  expiresAt: number;
}

/** What {@link Overrides.read} found. */
export type OverrideReading = { ok: OverrideGrant } | { problem: string };

/** The overrides of one server: reading and signing the cookie. */
export interface Overrides {
  /**
   * The entries this request's cookie overrides, or undefined (no cookie,
   * or one that is ignored). Never throws. The same cookie value gives the
   * same frozen object while it is remembered (a small LRU), so a caller
   * may memoize on its identity.
   */
  overridesFor(headers: RequestHeaders): Readonly<Record<string, ImportMapEntry>> | undefined;
  /** Reads one cookie value: the grant, or why it is ignored. Never throws. */
  read(value: string): OverrideReading;
  /**
   * A cookie value carrying `entries`, valid for `maxAgeMs` (default and
   * upper bound: the configured `maxAge`). Throws an `OverrideError` naming
   * the problem when an entry would not be honoured.
   */
  sign(entries: Readonly<Record<string, ImportMapEntry>>, maxAgeMs?: number): string;
  /** The configured lifetime (ms). */
  readonly maxAge: number;
  readonly maxEntries: number;
}

/** A problem with what was asked to be signed (or with the options): its message says what to change. */
export class OverrideError extends Error {
  override name = 'OverrideError';
}

/** Why `secret` cannot key the cookie, or undefined. */
export function overrideSecretProblem(secret: string | undefined): string | undefined {
  if (secret === undefined || secret === '') {
    return `deploys.overrides.enabled is true but ${OVERRIDE_SECRET_ENV} is not set: set it to a random secret of at least ${MIN_SECRET_LENGTH} characters (e.g. \`openssl rand -hex 32\`), the same on every instance, or turn overrides off`;
  }
  if (secret.length < MIN_SECRET_LENGTH) {
    return `${OVERRIDE_SECRET_ENV} has ${secret.length} characters; it needs at least ${MIN_SECRET_LENGTH} (e.g. \`openssl rand -hex 32\`)`;
  }
  return undefined;
}

/** What {@link overridesFromConfig} reads of the `deploys` section (its resolved form). */
export interface OverridesConfigPart {
  allow: readonly string[];
  overrides: { enabled: boolean; maxAge: number };
}

/**
 * The server's overrides from its `deploys` config and environment:
 * undefined when there is no `deploys` section or overrides are off. Throws
 * an `OverrideError` when they are on without a usable
 * `ATOLL_OVERRIDE_SECRET` — a start-up problem, never a silent "off".
 */
export function overridesFromConfig(
  deploys: OverridesConfigPart | undefined,
  env: Readonly<Record<string, string | undefined>> = process.env,
  logger?: Logger,
): Overrides | undefined {
  if (deploys === undefined || !deploys.overrides.enabled) return undefined;
  return createOverrides({ secret: env[OVERRIDE_SECRET_ENV] ?? '', allow: deploys.allow, maxAge: deploys.overrides.maxAge, logger });
}

/** The value of cookie `name` in a `Cookie` header, or undefined. Stops at the first match; no allocation when absent. */
export function cookieValue(header: string, name: string): string | undefined {
  let from = 0;
  for (;;) {
    const at = header.indexOf(name, from);
    if (at < 0) return undefined;
    from = at + name.length;
    // The name must start a pair (the header's start, or after `;` and spaces) and be followed by `=`.
    let before = at - 1;
    while (before >= 0 && (header.charCodeAt(before) === 32 || header.charCodeAt(before) === 9)) before--;
    if ((before >= 0 && header.charCodeAt(before) !== 59) || header.charCodeAt(from) !== 61) continue;
    const end = header.indexOf(';', from + 1);
    let value = header.slice(from + 1, end < 0 ? header.length : end).trim();
    if (value.length >= 2 && value.charCodeAt(0) === 34 && value.charCodeAt(value.length - 1) === 34) value = value.slice(1, -1);
    return value;
  }
}

/** Why `tag` cannot be an override's tag, or undefined. */
export function tagProblem(tag: string): string | undefined {
  if (tag.length > MAX_TAG_LENGTH) return `a tag of ${tag.length} characters (at most ${MAX_TAG_LENGTH})`;
  return TAG_RE.test(tag) ? undefined : `"${tag.slice(0, 64)}" is not a custom element name (lower case, with a hyphen)`;
}

/**
 * The URL `given` as an entry holds it (absolute, normalized), or a problem:
 * not a string, too long, relative, not `file:`/`http:`/`https:` (`client`:
 * `http(s):` only — a browser cannot import a `file:` URL), credentials, a
 * `file:` URL with a host, or an `http(s)` origin not in `allow`.
 */
export function entryUrl(given: unknown, role: 'server' | 'client', allow: ReadonlySet<string>): { url: string } | { problem: string } {
  if (typeof given !== 'string' || given === '') return { problem: `${role}: a URL is required` };
  if (given.length > MAX_URL_LENGTH) return { problem: `${role}: a URL of ${given.length} characters (at most ${MAX_URL_LENGTH})` };
  let url: URL;
  try {
    url = new URL(given);
  } catch {
    return { problem: `${role}: "${given.slice(0, 200)}" is not an absolute URL` };
  }
  const shown = url.href.slice(0, 200);
  if (url.protocol === 'file:') {
    if (role === 'client') return { problem: `client: ${shown} is a file: URL; the browser imports the client module over http(s)` };
    if (url.host !== '') return { problem: `server: ${shown} names a host; a file: URL is a local path (file:///…)` };
    return { url: url.href };
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return { problem: `${role}: ${shown} is not a file: or http(s) URL` };
  if (url.username !== '' || url.password !== '') return { problem: `${role}: a URL with credentials is not accepted` };
  if (!allow.has(url.origin)) return { problem: `${role}: the origin ${url.origin} is not in deploys.allow` };
  return { url: url.href };
}

/** Checks entries as given (unknown input): tag → { server, client }, with normalized URLs. */
function checkEntries(given: unknown, allow: ReadonlySet<string>, maxEntries: number): { entries: Record<string, ImportMapEntry> } | { problem: string } {
  if (given === null || typeof given !== 'object' || Array.isArray(given)) return { problem: 'entries must be an object of tag → { server, client }' };
  const tags = Object.keys(given);
  if (tags.length === 0) return { problem: 'no entries' };
  if (tags.length > maxEntries) return { problem: `${tags.length} entries (at most ${maxEntries})` };
  const entries: Record<string, ImportMapEntry> = {};
  for (const tag of tags) {
    const bad = tagProblem(tag);
    if (bad !== undefined) return { problem: bad };
    const entry = (given as Record<string, unknown>)[tag];
    if (entry === null || typeof entry !== 'object' || Array.isArray(entry)) return { problem: `${tag}: an entry must be { server, client }` };
    for (const key of Object.keys(entry)) if (!ENTRY_KEYS.has(key)) return { problem: `${tag}: unknown key "${key.slice(0, 64)}"` };
    const server = entryUrl((entry as Record<string, unknown>).server, 'server', allow);
    if ('problem' in server) return { problem: `${tag}: ${server.problem}` };
    const client = entryUrl((entry as Record<string, unknown>).client, 'client', allow);
    if ('problem' in client) return { problem: `${tag}: ${client.problem}` };
    entries[tag] = Object.freeze({ server: server.url, client: client.url });
  }
  return { entries };
}

/** Most verified cookie values remembered (the same developers send the same cookie on every request). */
const REMEMBERED = 64;

/**
 * The overrides of one server. Throws an `OverrideError` when the secret is
 * missing or short (a start-up problem: see {@link overrideSecretProblem}).
 */
export function createOverrides(options: OverridesOptions): Overrides {
  const problem = overrideSecretProblem(options.secret);
  if (problem !== undefined) throw new OverrideError(problem);
  const secret = options.secret;
  const allow = new Set(options.allow);
  const maxAge = options.maxAge ?? DEFAULT_OVERRIDE_MAX_AGE;
  const maxEntries = options.maxEntries ?? DEFAULT_MAX_ENTRIES;
  if (!(Number.isInteger(maxAge) && maxAge >= 1000)) throw new OverrideError(`overrides maxAge must be at least 1 s, not ${String(maxAge)}`);
  if (!(Number.isInteger(maxEntries) && maxEntries >= 1)) throw new OverrideError(`overrides maxEntries must be a positive integer, not ${String(maxEntries)}`);
  const now = options.now ?? Date.now;
  const logger = options.logger;
  /** value → grant, oldest first. Only valid grants are remembered; expiry is checked on every use. */
  const remembered = new Map<string, OverrideGrant>();

  const mac = (payload: string): Buffer => createHmac('sha256', secret).update(SIGNING_PREFIX).update(payload).digest();

  const read = (value: string): OverrideReading => {
    if (value.length > MAX_COOKIE_LENGTH) return { problem: `the cookie has ${value.length} characters (at most ${MAX_COOKIE_LENGTH})` };
    const known = remembered.get(value);
    if (known !== undefined) {
      const t = now();
      if (t >= known.expiresAt) {
        remembered.delete(value);
        return { problem: 'expired' };
      }
      // The most recently used last.
      remembered.delete(value);
      remembered.set(value, known);
      return { ok: known };
    }
    const dot = value.indexOf('.');
    if (dot <= 0 || dot !== value.lastIndexOf('.')) return { problem: 'not <payload>.<signature>' };
    const payload = value.slice(0, dot);
    const signature = value.slice(dot + 1);
    if (signature.length !== SIGNATURE_LENGTH || !BASE64URL_RE.test(signature) || !BASE64URL_RE.test(payload)) return { problem: 'not base64url' };
    const given = Buffer.from(signature, 'base64url');
    if (given.length !== 32 || !timingSafeEqual(given, mac(payload))) return { problem: 'the signature does not match' };
    // Signed by this server's secret from here on; still checked as if it were not.
    let data: unknown;
    try {
      data = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
    } catch {
      return { problem: 'the payload is not JSON' };
    }
    if (data === null || typeof data !== 'object' || Array.isArray(data)) return { problem: 'the payload is not an object' };
    for (const key of Object.keys(data)) if (!PAYLOAD_KEYS.has(key)) return { problem: `unknown key "${key.slice(0, 64)}"` };
    const { v, iat, exp, entries } = data as Record<string, unknown>;
    if (v !== VERSION) return { problem: `version ${String(v).slice(0, 16)} (this server reads ${VERSION})` };
    if (!Number.isSafeInteger(iat) || !Number.isSafeInteger(exp)) return { problem: 'iat and exp must be integers (seconds)' };
    const issuedAt = (iat as number) * 1000;
    const expiresAt = (exp as number) * 1000;
    const t = now();
    if (issuedAt > t + CLOCK_SKEW_MS) return { problem: 'issued in the future' };
    if (expiresAt <= issuedAt || expiresAt - issuedAt > maxAge) return { problem: 'its lifetime is longer than deploys.overrides.maxAge' };
    if (t >= expiresAt) return { problem: 'expired' };
    const checked = checkEntries(entries, allow, maxEntries);
    if ('problem' in checked) return { problem: checked.problem };
    const grant: OverrideGrant = Object.freeze({ entries: Object.freeze(checked.entries), issuedAt, expiresAt });
    if (remembered.size >= REMEMBERED) remembered.delete(remembered.keys().next().value!);
    remembered.set(value, grant);
    return { ok: grant };
  };

  const overridesFor = (headers: RequestHeaders): Readonly<Record<string, ImportMapEntry>> | undefined => {
    let header: string | null;
    try {
      header = headers.get('cookie');
    } catch {
      return undefined;
    }
    if (header === null || header.indexOf(OVERRIDE_COOKIE) < 0) return undefined;
    try {
      const value = cookieValue(header, OVERRIDE_COOKIE);
      if (value === undefined || value === '') return undefined;
      const reading = read(value);
      if ('ok' in reading) return reading.ok.entries;
      logger?.debug?.({ cookie: OVERRIDE_COOKIE, length: value.length, reason: reading.problem }, 'override cookie ignored');
    } catch {
      // Nothing here throws on any input; a logger that does cannot fail the request.
    }
    return undefined;
  };

  const sign = (entries: Readonly<Record<string, ImportMapEntry>>, maxAgeMs: number = maxAge): string => {
    if (!(Number.isInteger(maxAgeMs) && maxAgeMs >= 1000)) throw new OverrideError(`the lifetime must be at least 1 s, not ${String(maxAgeMs)}`);
    if (maxAgeMs > maxAge) throw new OverrideError(`the lifetime (${Math.round(maxAgeMs / 1000)} s) is longer than deploys.overrides.maxAge (${Math.round(maxAge / 1000)} s)`);
    const checked = checkEntries(entries, allow, maxEntries);
    if ('problem' in checked) throw new OverrideError(checked.problem);
    const iat = Math.floor(now() / 1000);
    const body = { v: VERSION, iat, exp: iat + Math.floor(maxAgeMs / 1000), entries: checked.entries };
    const payload = Buffer.from(JSON.stringify(body), 'utf8').toString('base64url');
    const value = `${payload}.${mac(payload).toString('base64url')}`;
    if (value.length > MAX_COOKIE_LENGTH) throw new OverrideError(`the override would be a cookie of ${value.length} characters (at most ${MAX_COOKIE_LENGTH}): override fewer elements, or use shorter URLs`);
    return value;
  };

  return { overridesFor, read, sign, maxAge, maxEntries };
}
