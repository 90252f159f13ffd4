/**
 * Independent deploys (SPEC 9c, issue 16): the types shared by the modules
 * of `ssr-server/deploys/`. A leaf module (types and constants only), so the
 * import-map reader, the module cache, the generation manager and the
 * overrides can depend on it without depending on each other.
 *
 * The flow, in short:
 *
 * 1. `import-map.ts` reads the **server import map** the config names (a file
 *    path or an allowed `http(s)` URL) into an {@link ImportMapSnapshot}:
 *    tag → the absolute URLs of that element's server module (which exports
 *    its hooks too) and client module.
 * 2. `module-cache.ts` makes every server module a local file
 *    ({@link PreparedModules}): `file:` URLs as they are, allowed `http(s)`
 *    URLs downloaded once into the disk cache (immutable per URL).
 * 3. `generations.ts` (main thread) runs each distinct map in a worker thread
 *    (`generation-worker.ts`) that loads the site with those modules, probes
 *    them, then takes new requests; the previous generation finishes what it
 *    started and is terminated (no growth per deploy).
 * 4. `overrides.ts`: a signed cookie replaces some entries for one client;
 *    the manager runs such a map as an extra, bounded generation.
 */

/** One element's live version: absolute URLs (`file:`, `http:` or `https:`). */
export interface ImportMapEntry {
  /** The server module: defines the tag, and exports its server hooks (`data`, `headers`, `head`, …) when it has any. */
  server: string;
  /** The browser module (what the page's `<script type="importmap">` maps `@atoll/<tag>` to). */
  client: string;
}

/** A server import map, checked and with every URL made absolute. */
export interface ServerImportMap {
  /** Tag → entry, in the file's order. */
  elements: Readonly<Record<string, ImportMapEntry>>;
}

/** One read of the import map. */
export interface ImportMapSnapshot {
  /** Where it was read from (a file path or a URL), for messages. */
  source: string;
  /** sha256 (hex) of a canonical form of `map`: equal digests, same versions. */
  digest: string;
  map: ServerImportMap;
}

/** What `module-cache.ts` hands the generation: tag → the local file of its server module. */
export type PreparedModules = Readonly<Record<string, string>>;

/**
 * What a generation worker is started with (`workerData`, structured-clone
 * safe). The worker loads the site at `root` with `elements` merged over the
 * config's `elements` (each `{ module: <file>, server: <file>, client: <url> }`).
 */
export interface GenerationSpec {
  /** A number never used before in this process (1, 2, …); override generations too. */
  id: number;
  /** The map's digest (the base map's, or the override map's). */
  digest: string;
  /** The site folder and config file, as `createAtoll` got them. */
  root: string;
  configPath?: string | undefined;
  map: ServerImportMap;
  modules: PreparedModules;
  /** Tags whose entries came from a developer's override (their pages are `private, no-store`). */
  overridden: readonly string[];
}

/** Where a generation is in its life. */
export type GenerationState = 'loading' | 'probing' | 'serving' | 'draining' | 'stopped' | 'failed';

/** What `GET /_atoll/deploys` and `atoll.deploys.status()` report. */
export interface DeployStatus {
  /** The generation taking new requests (undefined until the first is ready). */
  current: { id: number; digest: string; since: string; elements: Readonly<Record<string, ImportMapEntry>> } | undefined;
  /** Generations still finishing requests they started. */
  draining: ReadonlyArray<{ id: number; digest: string; inFlight: number }>;
  /** Override generations alive now (bounded, least recently used dropped first). */
  overrides: ReadonlyArray<{ id: number; digest: string; inFlight: number; lastUsed: string }>;
  /** The last map that did not take traffic, and why (cleared when a later one does). */
  lastFailure: { digest: string | undefined; at: string; reason: string } | undefined;
  /** The last successful read of the import map (even when unchanged). */
  lastPoll: string | undefined;
  swaps: number;
}

/** The cookie that carries a developer's overrides (overrides.ts). */
export const OVERRIDE_COOKIE = 'atoll-override';
/** The admin endpoints (main thread; bearer `ATOLL_DEPLOY_TOKEN`). */
export const DEPLOYS_PATH = '/_atoll/deploys';
