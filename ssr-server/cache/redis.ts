/**
 * The render cache's shared store on Redis (ioredis): the one module that
 * knows Redis. The core sees only `SharedCacheStore` (render/cache.ts);
 * `createAtoll` makes this store when the config says `cache.store: "redis"`
 * and puts the two-layer store around it.
 *
 * - Values are the rendering's UTF-8 bytes behind a small header (format,
 *   expiry, tags), written with `SET … PX <lifetime>`: a hit is handed on as
 *   bytes, never re-encoded.
 * - Keys: `<prefix><version>:e:<sha256 of the render-cache key>`; a tag's
 *   set of keys is `<prefix>t:<tag>` (kept as long as its longest entry).
 *   A purge deletes the tagged entries and the set in one script and
 *   publishes the tags on `<prefix>purge`; every instance's subscriber drops
 *   them from its in-process layer.
 * - A down or slow Redis never holds a page: commands are not queued while
 *   disconnected (`enableOfflineQueue: false`), a command in flight when the
 *   connection drops fails at once (`maxRetriesPerRequest: 0`), reads are
 *   not even sent while the connection is not ready, and at most
 *   `maxInFlight` commands wait for answers (a hung server costs misses,
 *   not memory). Reconnects back off up to 2 s, for ever.
 * - A value above `maxValueBytes` is not stored (logged once per element).
 * - Connection changes are logged once each (lost, back); counters go to
 *   the two-layer store's stats.
 */
import { createHash } from 'node:crypto';
import { Redis } from 'ioredis';
import type { Logger } from '../log.ts';
import { errorFields } from '../log.ts';
import { isCacheTag, MAX_CACHE_TAGS, type CacheEntry, type SharedCacheStore } from '../render/cache.ts';

/** Options of {@link redisStore}. */
export interface RedisStoreOptions {
  /** `redis://…` or `rediss://…`. */
  url: string;
  /** Start of every key and of the channel (default `atoll:`). */
  prefix?: string;
  /** Part of entry keys: another version never reads this one's entries. */
  version?: string;
  /** Largest value stored (bytes; default 1 MiB). */
  maxValueBytes?: number;
  /** Most commands waiting for an answer at once (default 256); beyond, reads are misses and writes are skipped. */
  maxInFlight?: number;
  logger: Logger;
}

/** The header in front of a value's HTML bytes. */
const FORMAT = 1;
/** Format (1 byte), expiry (float64), tags length (uint16). */
const HEAD_BYTES = 1 + 8 + 2;
const DEFAULT_MAX_VALUE = 1024 * 1024;

/** Deletes the entries of every tag set in KEYS and the sets; returns how many entries were deleted. */
const PURGE_SCRIPT = `
local n = 0
for i = 1, #KEYS do
  local members = redis.call('SMEMBERS', KEYS[i])
  for j = 1, #members, 500 do
    n = n + redis.call('DEL', unpack(members, j, math.min(j + 499, #members)))
  end
  redis.call('DEL', KEYS[i])
end
return n`;

/** SET the entry (KEYS[1]) with its lifetime, and add it to each tag set (KEYS[2..]), each kept as long as its longest entry. */
const SET_TAGGED_SCRIPT = `
local ttl = tonumber(ARGV[2])
redis.call('SET', KEYS[1], ARGV[1], 'PX', ttl)
for i = 2, #KEYS do
  redis.call('SADD', KEYS[i], KEYS[1])
  if redis.call('PTTL', KEYS[i]) < ttl then redis.call('PEXPIRE', KEYS[i], ttl) end
end
return 1`;

/** A Redis URL for log lines: no password. */
export function redactedUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password !== '') u.password = '***';
    return u.toString();
  } catch {
    return '(unparsable URL)';
  }
}

/** Encodes an entry as a Redis value. */
export function encodeValue(entry: CacheEntry): Buffer {
  const html = entry.bytes ?? new TextEncoder().encode(entry.html);
  const tags = Buffer.from(entry.tags === undefined || entry.tags.length === 0 ? '' : JSON.stringify(entry.tags), 'utf8');
  const out = Buffer.allocUnsafe(HEAD_BYTES + tags.length + html.byteLength);
  out.writeUInt8(FORMAT, 0);
  out.writeDoubleBE(entry.expires, 1);
  out.writeUInt16BE(tags.length, 9);
  tags.copy(out, HEAD_BYTES);
  out.set(html, HEAD_BYTES + tags.length);
  return out;
}

/** Decodes a Redis value; undefined for anything that is not one this module wrote. */
export function decodeValue(value: Buffer): CacheEntry | undefined {
  if (value.length < HEAD_BYTES || value.readUInt8(0) !== FORMAT) return undefined;
  const expires = value.readDoubleBE(1);
  const tagsLength = value.readUInt16BE(9);
  if (!Number.isFinite(expires) || HEAD_BYTES + tagsLength > value.length) return undefined;
  let tags: string[] | undefined;
  if (tagsLength > 0) {
    try {
      const parsed: unknown = JSON.parse(value.toString('utf8', HEAD_BYTES, HEAD_BYTES + tagsLength));
      if (!Array.isArray(parsed) || parsed.length > MAX_CACHE_TAGS || !parsed.every(isCacheTag)) return undefined;
      tags = parsed;
    } catch {
      return undefined;
    }
  }
  // A view when the reply owns its memory; a copy when it is a slice of a larger buffer (which it would keep alive).
  const body = value.subarray(HEAD_BYTES + tagsLength);
  const bytes = value.byteOffset === 0 && value.buffer.byteLength === value.length ? body : new Uint8Array(body);
  return decodedEntry(bytes, expires, tags);
}

const utf8 = new TextDecoder();

/**
 * An entry whose `html` is decoded only when read: a page writes a hit's
 * bytes and never needs the string (decoding every hit was the largest
 * single cost of a Redis hit in profiles). An own enumerable getter, so a
 * spread (`{ ...entry }`, as the in-process layer makes) reads it.
 */
function decodedEntry(bytes: Uint8Array, expires: number, tags: string[] | undefined): CacheEntry {
  let html: string | undefined;
  const entry = { expires, bytes } as CacheEntry;
  Object.defineProperty(entry, 'html', { enumerable: true, configurable: true, get: () => (html ??= utf8.decode(bytes)) });
  if (tags !== undefined) entry.tags = tags;
  return entry;
}

/** The purge message's tags, or undefined for junk. */
function purgeMessageTags(message: string): readonly string[] | undefined {
  try {
    const parsed: unknown = JSON.parse(message);
    const tags = (parsed as { tags?: unknown } | null)?.tags;
    return Array.isArray(tags) && tags.length <= 1000 && tags.every(isCacheTag) ? tags : undefined;
  } catch {
    return undefined;
  }
}

interface ScriptCommands {
  atollPurge(...args: string[]): Promise<number>;
  atollSetTagged(...args: Array<string | Buffer>): Promise<number>;
}

/** The shared store on Redis. Connects at once, in the background: a Redis that is not there yet is a miss, not a failed start. */
export function redisStore(options: RedisStoreOptions): SharedCacheStore {
  const prefix = options.prefix ?? 'atoll:';
  const entryPrefix = `${prefix}${options.version ?? ''}:e:`;
  const channel = `${prefix}purge`;
  const maxValue = options.maxValueBytes ?? DEFAULT_MAX_VALUE;
  const maxInFlight = options.maxInFlight ?? 256;
  const logger = options.logger;
  const where = redactedUrl(options.url);
  const listeners: Array<(tags: readonly string[] | 'all') => void> = [];
  const counts = { unavailable: 0, busy: 0, tooLarge: 0, badValues: 0, badMessages: 0, connects: 0 };
  let inFlight = 0;
  let closing = false;
  const tooLargeLogged = new Set<string>();

  const connection = {
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    connectTimeout: 2000,
    // Back off up to 2 s, and keep trying for as long as the process runs.
    retryStrategy: (times: number) => (closing ? null : Math.min(50 * 2 ** Math.min(times, 6), 2000)),
    // A lost connection must not keep a stopping process alive.
    lazyConnect: false,
  } as const;
  const client = new Redis(options.url, connection);
  // The subscriber queues its one SUBSCRIBE until connected, and subscribes again after every reconnect.
  const sub = client.duplicate({ enableOfflineQueue: true, autoResubscribe: true });
  client.defineCommand('atollPurge', { lua: PURGE_SCRIPT });
  client.defineCommand('atollSetTagged', { lua: SET_TAGGED_SCRIPT });
  const scripts = client as unknown as ScriptCommands;

  const say = (level: 'info' | 'warn', fields: Record<string, unknown>, message: string): void => {
    try {
      logger[level]({ cache: 'redis', redis: where, ...fields }, message);
    } catch {
      // a logger that throws cannot stop the cache
    }
  };

  // One line when the connection is lost, one when it is back; not one per retry.
  let down: 'never-up' | 'up' | 'down' = 'never-up';
  client.on('ready', () => {
    counts.connects++;
    // Unreferenced: an idle cache connection must not keep the process alive.
    (client.stream as { unref?: () => void } | undefined)?.unref?.();
    say('info', {}, down === 'down' ? 'render cache: Redis is back; the shared layer is in use again' : 'render cache: connected to Redis');
    down = 'up';
  });
  client.on('error', (err: unknown) => {
    if (down === 'down' || closing) return;
    down = 'down';
    say('warn', { ...errorFields(err) }, 'render cache: Redis is unreachable; pages render without the shared layer until it is back');
  });
  client.on('close', () => {
    if (down === 'up' && !closing) {
      down = 'down';
      say('warn', {}, 'render cache: the connection to Redis was lost; pages render without the shared layer until it is back');
    }
  });
  // The subscriber: purge messages, and after a gap (the connection was lost
  // after it had been up: messages may have been missed) a purge of
  // everything local once it is back (ioredis subscribes again on ready).
  let subWasReady = false;
  let subGap = false;
  sub.on('error', () => {
    // reported through the main connection's lines
  });
  sub.on('ready', () => {
    (sub.stream as { unref?: () => void } | undefined)?.unref?.();
    subWasReady = true;
    if (subGap) {
      subGap = false;
      for (const l of listeners) l('all');
    }
  });
  sub.on('close', () => {
    if (subWasReady && !closing) subGap = true;
  });
  sub.on('message', (ch: string, message: string) => {
    if (ch !== channel) return;
    const tags = purgeMessageTags(message);
    if (tags === undefined) {
      counts.badMessages++;
      return;
    }
    for (const l of listeners) l(tags);
  });
  sub.subscribe(channel).catch(() => {
    // retried on reconnect (autoResubscribe)
  });

  const ready = (): boolean => client.status === 'ready';
  /** Runs a command unless the connection is not ready or too many wait already. */
  const run = <T>(command: () => Promise<T>): Promise<T> | undefined => {
    if (!ready()) {
      counts.unavailable++;
      return undefined;
    }
    if (inFlight >= maxInFlight) {
      counts.busy++;
      return undefined;
    }
    inFlight++;
    const p = command();
    p.then(
      () => inFlight--,
      () => inFlight--,
    );
    return p;
  };
  const entryKey = (key: string): string => entryPrefix + createHash('sha256').update(key).digest('base64url');

  return {
    async get(key) {
      const reply = run(() => client.getBuffer(entryKey(key)));
      if (reply === undefined) return undefined;
      const value = await reply;
      if (value === null) return undefined;
      const entry = decodeValue(value);
      if (entry === undefined) counts.badValues++;
      return entry;
    },

    async set(key, entry) {
      const ttl = Math.floor(entry.expires - Date.now());
      if (ttl < 1) return;
      const value = encodeValue(entry);
      if (value.length > maxValue) {
        counts.tooLarge++;
        const tag = key.slice(0, Math.max(0, key.indexOf('\u0000')));
        if (!tooLargeLogged.has(tag) && tooLargeLogged.size < 1000) {
          tooLargeLogged.add(tag);
          say('warn', { element: tag, bytes: value.length, maxValueBytes: maxValue }, 'render cache: a rendering is larger than maxValueBytes and is not stored in Redis (said once per element)');
        }
        return;
      }
      const rkey = entryKey(key);
      const tags = entry.tags ?? [];
      await run<unknown>(() =>
        tags.length === 0
          ? client.set(rkey, value, 'PX', ttl)
          : scripts.atollSetTagged(String(1 + tags.length), rkey, ...tags.map((t) => `${prefix}t:${t}`), value, String(ttl)),
      );
    },

    async purge(tags) {
      if (tags.length === 0) return 0;
      if (!ready()) throw new Error(`the render cache's Redis (${where}) is not connected: the purge did not reach it`);
      const n = await scripts.atollPurge(String(tags.length), ...tags.map((t) => `${prefix}t:${t}`));
      await client.publish(channel, JSON.stringify({ tags }));
      return n;
    },

    onPurge(listener) {
      listeners.push(listener);
    },

    stats: () => ({ ...counts, inFlight, connection: client.status }),

    async close() {
      closing = true;
      // QUIT waits for an answer; a hung server must not hold the close.
      await Promise.race([Promise.allSettled([client.quit(), sub.quit()]), new Promise((r) => setTimeout(r, 500).unref())]);
      client.disconnect();
      sub.disconnect();
    },
  };
}
