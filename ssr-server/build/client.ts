/**
 * Ties a site's client build to its server: builds it when asked (always, or
 * only when missing or stale), loads the manifest, and gives the
 * `<atoll-head>` renderer and the asset store that `handle()` serves from;
 * and lists the site's `public/` folder (served at the root).
 */
import { isMainThread } from 'node:worker_threads';
import { join, resolve } from 'node:path';
import type { Logger } from '../log.ts';
import type { PageEnvironment } from '../render/page.ts';
import type { Site } from '../site/load.ts';
import { AssetStore } from '../assets/store.ts';
import { PublicFiles } from '../assets/public.ts';
import { earlyHints, headRenderer, type NonceOption } from './head.ts';
import { buildIdentity } from '../render/navigation.ts';
import { buildInChild } from './child.ts';
import { ASSET_PATH, defaultOutDir, readManifest, staleReason, withClientUrls, type ClientManifest } from './manifest.ts';

/** Client-side options of `createAtoll`. */
export interface ClientOptions {
  /**
   * When to run the client build at start-up: `'if-stale'` (when it is
   * missing or any input changed — what `atoll serve` does), `true` (always)
   * or `false` (never; the default: use whatever `atoll build` left). The
   * build runs in a child process, so rollup never loads into this one; a
   * build error rejects `createAtoll` with rollup's error.
   */
  build?: boolean | 'if-stale';
  /** The build folder (default: the config's `outDir`, else `<root>/.atoll/client`). */
  outDir?: string;
  /**
   * The public URL path the site is mounted at (default `/`): built files are
   * referenced as `<base>_atoll/assets/<file>`.
   */
  base?: string;
  /**
   * A CSP nonce for the inline scripts Atoll writes (import map, loader):
   * a string, or a function of the request.
   */
  nonce?: NonceOption;
  /**
   * How many microfrontends, from the top of a page in document order, count
   * as its first screen: the `visible` islands among them get their modules
   * and chunks modulepreloaded by `<atoll-head>` (default 2; 0: only
   * `hydrate="load"` islands are preloaded). See docs/islands.md.
   */
  firstScreen?: number;
}

/** What the engine needs from the client build (all undefined when there is none). */
export interface ClientSide {
  assets: AssetStore | undefined;
  /** The site's `public/` files (undefined when the folder is missing or empty). */
  publicFiles: PublicFiles | undefined;
  head: PageEnvironment['head'];
  preloads: PageEnvironment['preloads'];
  /** The URL of an element's client module (for the fragment endpoint's `Link` header). */
  moduleUrl: ((tag: string) => string | undefined) | undefined;
  /** The build's identity, part of every page's layout id (client navigation; render/navigation.ts). */
  build: string | undefined;
}

/**
 * Runs the client build when `options.build` says so (always, or when the
 * build is missing or stale) in a child process (`child.ts`), and returns
 * the manifest, or undefined when there is no build. `atoll serve --workers`
 * calls this once in the primary.
 */
export async function ensureBuild(site: Site, options: Pick<ClientOptions, 'build' | 'outDir'>, logger: Logger): Promise<ClientManifest | undefined> {
  const outDir = buildFolder(site, options.outDir);
  const manifest = readManifest(outDir);
  const stale = staleReason(manifest, site.registry, outDir, site.root);
  if (options.build === true || (options.build === 'if-stale' && stale !== undefined)) {
    // In a child process: rollup and its plugins (~110 MB that V8 keeps) never load into the serving process.
    const reason = options.build === true ? 'asked' : stale;
    const built = await buildInChild(site, outDir, logger, (pid) => logger.info({ outDir, reason, pid }, 'building the client in a child process'));
    logger.info({ outDir, ms: Math.round(built.ms), reason, pid: built.pid }, 'client build done');
    return built.manifest;
  }
  if (manifest === undefined) {
    logger.warn({ outDir }, 'no client build: pages render without the island loader, so nothing hydrates (run `atoll build`)');
  } else if (stale !== undefined) {
    logger.warn({ outDir, reason: stale }, 'the client build is stale (run `atoll build`)');
  }
  return manifest;
}

/**
 * The build folder of `site`: `outDir` when given (resolved against the
 * working directory), else the config's `outDir` (relative to the site),
 * else `<root>/.atoll/client`.
 */
export function buildFolder(site: Pick<Site, 'root' | 'config'>, outDir?: string): string {
  if (outDir !== undefined) return resolve(outDir);
  const configured = (site.config as { outDir?: unknown }).outDir;
  return typeof configured === 'string' ? resolve(site.root, configured) : defaultOutDir(site.root);
}

/** Lists `<root>/public` (undefined when there is nothing to serve), logging what it leaves out. */
export function listPublicFiles(root: string, logger: Logger): PublicFiles | undefined {
  const files = new PublicFiles(join(root, 'public'));
  for (const why of files.skipped) logger.warn({ file: `public/${why}` }, 'a public/ file is not served');
  return files.size === 0 ? undefined : files;
}

/** Prepares the client side of `site` (building first when `options.build` says so). */
export async function prepareClient(site: Site, options: ClientOptions, logger: Logger): Promise<ClientSide> {
  const publicFiles = listPublicFiles(site.root, logger);
  const built = await ensureBuild(site, options, logger);
  // Entries with a client URL (an independent deploy's map elements) are mapped to it, whatever the build saw.
  const manifest = built === undefined ? undefined : withClientUrls(built, site.registry);
  if (manifest === undefined) return { assets: undefined, publicFiles, head: undefined, preloads: undefined, moduleUrl: undefined, build: undefined };
  // A worker thread (a generation of independent deploys) compresses a file only if it is ever asked for it.
  const assets = new AssetStore(buildFolder(site, options.outDir), manifest, { precompress: isMainThread });
  const base = (options.base ?? '/').replace(/\/*$/, '/');
  const assetUrl = base + ASSET_PATH.slice(1);
  const loader = new TextDecoder().decode(assets.bytes(manifest.loader));
  return { assets, publicFiles, ...pageClient(manifest, loader, assetUrl, options) };
}

/**
 * What pages take from a build's manifest: the `<atoll-head>` renderer, the
 * Early Hints, and each element's module URL. Shared by `prepareClient` and
 * `atoll dev` (which holds its build in memory).
 */
export function pageClient(
  manifest: ClientManifest,
  loader: string,
  assetUrl: string,
  options: Pick<ClientOptions, 'nonce' | 'firstScreen'> = {},
): { [K in 'head' | 'preloads' | 'moduleUrl' | 'build']: NonNullable<ClientSide[K]> } {
  return {
    build: buildIdentity(manifest),
    head: headRenderer({ manifest, loader, assetUrl, nonce: options.nonce, firstScreen: options.firstScreen }),
    preloads: earlyHints(manifest, assetUrl),
    moduleUrl: (tag) => {
      const entry = manifest.elements[tag];
      return entry === undefined ? undefined : 'url' in entry ? entry.url : assetUrl + entry.file;
    },
  };
}
