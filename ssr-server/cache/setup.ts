/**
 * The render cache an Atoll instance uses, made from the config's `cache`
 * section (or given in code), and its public handle (`atoll.cache`): purge
 * by tag, counters, closing. The Redis client loads only when the config
 * asks for it.
 */
import { buildFolder } from '../build/client.ts';
import { readManifest } from '../build/manifest.ts';
import type { Logger } from '../log.ts';
import { LayeredStore, LruStore, purgeTagsProblem, type CacheStats, type RenderCacheStore } from '../render/cache.ts';
import { purgeTokenProblem, redisUrlProblem } from '../site/config.ts';
import type { Site } from '../site/load.ts';

/** `atoll.cache`: the render cache of one instance. */
export interface AtollCache {
  /**
   * Drops every rendering tagged with one of `tags` (an element's
   * `cacheTags()` hook): here at once, and — with the Redis store — in
   * Redis and in the in-process layer of every instance (pub/sub).
   * Resolves with how many entries were deleted (in Redis, or here for
   * the in-process store). Rejects with a TypeError for a bad tag list,
   * and when Redis cannot be reached (this instance's layer is purged anyway).
   */
  purge(tags: readonly string[]): Promise<number>;
  /** The two-layer store's counters (Redis only; undefined otherwise). */
  stats(): CacheStats | undefined;
  /** Closes the store's connections (Redis); the cache then only misses. */
  close(): Promise<void>;
}

/** What `createAtoll` needs: the store for the engine, the public handle, the purge endpoint's token. */
export interface RenderCacheSetup {
  store: RenderCacheStore | undefined;
  api: AtollCache;
  purgeToken: string | undefined;
}

/**
 * The render cache for `site`: `given` when code passed one (`false`: none),
 * else what `cache` in the config says. `env` supplies `ATOLL_REDIS_URL` and
 * `ATOLL_PURGE_TOKEN`, which win over the config.
 */
export async function setupRenderCache(
  site: Site,
  given: RenderCacheStore | false | undefined,
  logger: Logger,
  env: Record<string, string | undefined>,
  outDir?: string,
): Promise<RenderCacheSetup> {
  const config = site.config.cache ?? {};
  // An empty variable counts as unset.
  const envUrl = env.ATOLL_REDIS_URL || undefined;
  const envToken = env.ATOLL_PURGE_TOKEN || undefined;
  // The purge endpoint exists only with a store to purge (not for `atoll export` or the testing kit, which pass
  // `cache: false`). Checked before any connection is made, so a refused start leaves nothing open.
  const token = given === false ? undefined : (envToken ?? config.purgeToken);
  if (token !== undefined && envToken !== undefined) {
    const p = purgeTokenProblem(token);
    if (p !== undefined) throw new Error(`ATOLL_PURGE_TOKEN: ${p}`);
  }
  let store: RenderCacheStore | undefined;
  if (given !== undefined) store = given === false ? undefined : given;
  else if (config.store === 'redis') {
    const url = envUrl ?? config.url!;
    const p = redisUrlProblem(url);
    if (p !== undefined) throw new Error(`ATOLL_REDIS_URL: ${p}`);
    const { redisStore } = await import('./redis.ts');
    const version = config.version ?? readManifest(buildFolder(site, outDir))?.inputs.digest.slice(0, 16);
    store = new LayeredStore(
      redisStore({ url, prefix: config.prefix, version, maxValueBytes: config.maxValueBytes, logger }),
      { readBudget: config.readBudget, localEntries: config.localEntries, localTtl: config.localTtl },
    );
  } else {
    store = new LruStore(config.localEntries === undefined ? {} : { maxEntries: config.localEntries });
  }
  const layered = store instanceof LayeredStore ? store : undefined;
  let timer: ReturnType<typeof setInterval> | undefined;
  if (layered !== undefined) {
    let last = '';
    timer = setInterval(() => {
      const stats = layered.stats();
      const text = JSON.stringify({ ...stats, localEntries: 0, inFlight: 0 });
      if (text === last) return;
      last = text;
      try {
        logger.info({ cache: 'redis', ...stats }, 'render cache counters');
      } catch {
        // a logger that throws cannot stop the cache
      }
    }, config.statsInterval ?? 60_000);
    timer.unref();
  }
  const api: AtollCache = {
    async purge(tags) {
      const problem = purgeTagsProblem(tags);
      if (problem !== undefined) throw new TypeError(`atoll.cache.purge: ${problem}`);
      if (store?.purge === undefined) return 0;
      return store.purge([...new Set(tags)]);
    },
    stats: () => layered?.stats(),
    async close() {
      clearInterval(timer);
      await layered?.close();
    },
  };
  return { store, api, purgeToken: token };
}
