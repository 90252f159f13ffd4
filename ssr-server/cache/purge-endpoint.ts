/**
 * `POST /_atoll/cache/purge?tag=product:42&tag=catalog`: purges render-cache
 * tags on every instance (docs/caching.md), for an operator or a CMS
 * webhook. Authenticated with `Authorization: Bearer <token>` (the config's
 * `cache.purgeToken` or `ATOLL_PURGE_TOKEN`), compared in constant time.
 * Without a token configured, every method answers 404 — the endpoint does
 * not exist. The tags come from the query (the body is never read, so a
 * hostile body costs nothing).
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { Endpoint } from '../endpoint.ts';
import type { Engine } from '../engine.ts';
import { purgeTagsProblem } from '../render/cache.ts';
import { textResponse } from '../responses.ts';
import type { CoreResponse } from '../wire.ts';

/** The endpoint's path. */
export const PURGE_PATH = '/_atoll/cache/purge';

const NO_STORE = { 'cache-control': 'no-store' };

/** True when `given` (an `Authorization` header) carries `token`; constant time in the token's content. */
export function bearerMatches(given: string | null, token: string): boolean {
  if (given === null || given.length > 1024) return false;
  const m = /^Bearer +(\S+) *$/i.exec(given);
  if (m === null) return false;
  // Digests of both: equal lengths for timingSafeEqual, and nothing learnt from a length.
  const a = createHash('sha256').update(m[1]!).digest();
  const b = createHash('sha256').update(token).digest();
  return timingSafeEqual(a, b);
}

function json(status: number, value: unknown, requestId: string, extra: Record<string, string> = {}): CoreResponse {
  return {
    status,
    headers: new Headers({ 'content-type': 'application/json', 'x-content-type-options': 'nosniff', ...NO_STORE, ...extra }),
    body: { kind: 'text', text: JSON.stringify(value) + '\n' },
    requestId,
  };
}

export const purgeEndpoint: Endpoint = {
  name: 'cache-purge',
  // Every method reaches `respond`, so an unconfigured endpoint is a 404 whatever the method.
  methods: ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'],
  match: (pathname) => pathname === PURGE_PATH,
  async respond(engine: Engine, req) {
    const token = engine.purgeToken;
    if (token === undefined || engine.cache === undefined) return textResponse(404, 'Not Found\n', req.requestId);
    if (req.method !== 'POST') return textResponse(405, 'Method Not Allowed\n', req.requestId, { allow: 'POST', ...NO_STORE });
    if (!bearerMatches(req.headers.get('authorization'), token)) {
      engine.logger.warn({ requestId: req.requestId }, 'cache purge refused: missing or wrong bearer token');
      return json(401, { error: 'a valid bearer token is required' }, req.requestId, { 'www-authenticate': 'Bearer realm="atoll-cache"' });
    }
    const tags = req.url.searchParams.getAll('tag');
    const problem = purgeTagsProblem(tags);
    if (problem !== undefined) return json(400, { error: `${problem} (as ?tag=a&tag=b)` }, req.requestId);
    const unique = [...new Set(tags)];
    if (engine.cache.purge === undefined) return json(501, { error: 'this render cache store cannot purge by tag' }, req.requestId);
    try {
      const purged = await engine.cache.purge(unique);
      engine.logger.info({ requestId: req.requestId, tags: unique, purged }, 'render cache purged');
      return json(200, { tags: unique, purged }, req.requestId);
    } catch (err) {
      engine.logger.error({ requestId: req.requestId, tags: unique, err: { message: err instanceof Error ? err.message : String(err) } }, 'cache purge failed');
      return json(503, { error: 'the shared cache could not be reached; this instance\'s in-process layer was purged', tags: unique }, req.requestId, { 'retry-after': '1' });
    }
  },
};
