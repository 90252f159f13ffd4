/**
 * `atoll build`: bundles a site's client side with rollup — one ES module
 * entry per element, shared chunks (one copy of Lit), the island loader —
 * into content-hashed files, and writes the manifest and the import map.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { nodeResolve } from '@rollup/plugin-node-resolve';
import terserPlugin from '@rollup/plugin-terser';
import { rollup, type OutputAsset, type OutputChunk, type RollupCache, type RollupLog } from 'rollup';
import esbuild from 'rollup-plugin-esbuild';
import type { Site } from '../site/load.ts';
import { defaultOutDir, importMapFor } from './manifest.ts';
import { resolveModule } from '../site/registry.ts';
import {
  ASSET_PATH,
  BUILD_FORMAT,
  buildInputs,
  type ClientManifest,
  type ManifestElement,
  type ManifestFile,
} from './manifest.ts';
import { elementEntries, elementEntryId, siteResolution } from './plugins.ts';
import { buildEmbed } from '../embed/build.ts';
import { bundleScript } from './script.ts';

// The plugin's types describe its CommonJS build; Node's ESM import gives the function.
const terser = terserPlugin as unknown as typeof terserPlugin.default;

/** Atoll's package root (this file is `ssr-server/build/build.ts`). */
export const ATOLL_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

/** The loader's source entry. */
export const LOADER_SOURCE = join(ATOLL_ROOT, 'islands', 'loader.ts');

/** The client router's source entry (docs/navigation.md). */
export const ROUTER_SOURCE = join(ATOLL_ROOT, 'islands', 'router.ts');

const LIT_PACKAGES = /[\\/]node_modules[\\/](lit|lit-html|lit-element|@lit|@lit-labs)[\\/]/;

export { defaultOutDir, importMapFor } from './manifest.ts';

/** Options for {@link buildClient}. */
export interface BuildOptions {
  /** Output folder (default `<root>/.atoll/client`). */
  outDir?: string;
  /** Minify element bundles (default true; the loader is always minified). */
  minify?: boolean;
  /** Receives rollup's warnings (default: ignored). */
  onWarning?: (message: string) => void;
  /**
   * Kept between builds of the same site (`atoll dev`): rollup's module
   * cache (an unchanged module is not loaded or transformed again, so only
   * the changed entries cost), the built loader and embed script.
   */
  cache?: ClientBuildCache;
  /** Write the files and the manifest to `outDir` (default true); false: only return them in `files`. */
  write?: boolean;
  /**
   * Content hashes in the names of element entries and chunks (default
   * true). `atoll dev` turns them off: an edit then changes no URL, so a
   * page rendered before the new build finished loads the new files.
   */
  hashNames?: boolean;
}

/** What {@link BuildOptions.cache} keeps between builds. */
export interface ClientBuildCache {
  rollup?: RollupCache;
  loader?: BuiltLoader;
  embed?: BuiltLoader;
  router?: BuiltLoader;
}

/** What {@link buildClient} produced. */
export interface BuildResult {
  outDir: string;
  manifest: ClientManifest;
  /** Milliseconds the build took. */
  ms: number;
  /** The built files by name (with `importmap.json` and `manifest.json`). */
  files: ReadonlyMap<string, string>;
}

/** The built loader: its minified text and the files it was built from. */
export interface BuiltLoader {
  code: string;
  inputs: string[];
}

const sizeOf = (kind: ManifestFile['kind'], text: string): ManifestFile => ({
  kind,
  bytes: Buffer.byteLength(text),
  gzip: gzipSync(text, { level: 9 }).length,
});

/** Bundles `islands/loader.ts` into one minified IIFE (the inline loader). */
export async function buildLoader(): Promise<BuiltLoader> {
  return bundleScript(LOADER_SOURCE, 'iife');
}

/**
 * Builds the client side of a loaded site. Files are written next to the
 * previous build's and the manifest last, each through a rename, so a
 * server reading the folder never sees half a file; files that the new
 * manifest does not list are removed afterwards. Reads only `site.root` and
 * `site.registry` (`atoll dev` builds in a worker thread and sends only
 * those, without the hook functions).
 */
export async function buildClient(site: Site, options: BuildOptions = {}): Promise<BuildResult> {
  const started = performance.now();
  const outDir = resolve(options.outDir ?? defaultOutDir(site.root));
  const modules = new Map<string, string>();
  const elements: Record<string, ManifestElement> = {};
  const serverHooks = new Set<string>();
  for (const def of site.registry.values()) {
    if (def.hooksFile !== undefined) serverHooks.add(resolve(def.hooksFile));
    if (def.client !== undefined && /^https?:\/\//.test(def.client)) {
      elements[def.tag] = { url: def.client };
      continue;
    }
    const url = def.client !== undefined ? resolveModule(site.root, def.client) : def.moduleUrl;
    if (def.kind !== 'module' && def.client === undefined) continue;
    if (url === undefined) continue;
    modules.set(def.tag, url.startsWith('file:') ? fileURLToPath(url) : url);
  }

  const warn = (log: RollupLog): void => options.onWarning?.(log.message);
  const cache = options.cache;
  const loader = cache?.loader ?? (await buildLoader());
  if (cache !== undefined) cache.loader = loader;
  const files = new Map<string, { kind: ManifestFile['kind']; text: string }>();
  const loaderName = `loader-${createHash('sha256').update(loader.code).digest('base64url').slice(0, 10)}.js`;
  files.set(loaderName, { kind: 'loader', text: loader.code });
  const embed = cache?.embed ?? (await buildEmbed());
  if (cache !== undefined) cache.embed = embed;
  const embedName = `embed-${createHash('sha256').update(embed.code).digest('base64url').slice(0, 10)}.js`;
  files.set(embedName, { kind: 'embed', text: embed.code });
  // The client router: imported by the loader in pages served with navigation on.
  const router = cache?.router ?? (await bundleScript(ROUTER_SOURCE, 'es'));
  if (cache !== undefined) cache.router = router;
  const routerName = `router-${createHash('sha256').update(router.code).digest('base64url').slice(0, 10)}.js`;
  files.set(routerName, { kind: 'router', text: router.code });

  let watchFiles: string[] = [];
  if (modules.size > 0) {
    const hydrateSupport = '@lit-labs/ssr-client/lit-element-hydrate-support.js';
    const bundle = await rollup({
      cache: cache?.rollup,
      input: Object.fromEntries([...modules.keys()].map((tag) => [tag, elementEntryId(tag)])),
      plugins: [
        elementEntries(modules, hydrateSupport),
        siteResolution({ atollRoot: ATOLL_ROOT, serverHooks }),
        nodeResolve({ browser: true, extensions: ['.mjs', '.js', '.ts', '.mts', '.json'] }),
        esbuild({ target: 'es2022', tsconfig: false, define: { 'process.env.NODE_ENV': '"production"' } }),
      ],
      onwarn: warn,
    });
    if (cache !== undefined) cache.rollup = bundle.cache;
    try {
      const { output } = await bundle.generate({
        format: 'es',
        entryFileNames: options.hashNames === false ? '[name].js' : '[name]-[hash].js',
        // Lit and its hydrate support in one chunk that every element shares;
        // every entry imports the hydrate support first, so it runs first.
        manualChunks: (id) => (LIT_PACKAGES.test(id) ? 'lit' : undefined),
        chunkFileNames: options.hashNames === false ? 'chunks/[name].js' : 'chunks/[name]-[hash].js',
        sourcemap: true,
        plugins: options.minify === false ? [] : [terser({ ecma: 2020, module: true, format: { comments: false } })],
      });
      for (const item of output as Array<OutputChunk | OutputAsset>) {
        if (item.type === 'asset') {
          files.set(item.fileName, { kind: 'map', text: String(item.source) });
          continue;
        }
        files.set(item.fileName, { kind: item.isEntry ? 'entry' : 'chunk', text: item.code });
        if (item.isEntry) elements[item.name] = { file: item.fileName, imports: item.imports };
      }
      watchFiles = bundle.watchFiles.filter((f) => !f.startsWith('\0'));
    } finally {
      await bundle.close();
    }
  }

  // The build's own code counts too: a new Atoll means a new build.
  const buildCode = ['build', 'plugins', 'manifest'].map((f) => join(ATOLL_ROOT, 'ssr-server', 'build', f + (import.meta.url.endsWith('.ts') ? '.ts' : '.js')));
  const inputFiles = [...new Set([...loader.inputs, ...embed.inputs, ...router.inputs, ...watchFiles, ...buildCode])].sort();
  const manifest: ClientManifest = {
    format: BUILD_FORMAT,
    loader: loaderName,
    embed: embedName,
    router: routerName,
    elements,
    files: Object.fromEntries([...files].map(([name, f]) => [name, sizeOf(f.kind, f.text)])),
    inputs: buildInputs(site.root, site.registry, inputFiles),
  };
  const importMap = { imports: importMapFor(manifest, Object.keys(elements), ASSET_PATH) };
  const built = new Map([...files].map(([name, f]) => [name, f.text]));
  built.set('importmap.json', JSON.stringify(importMap, null, 2) + '\n');
  built.set('manifest.json', JSON.stringify(manifest, null, 2) + '\n');
  if (options.write === false) return { outDir, manifest, ms: performance.now() - started, files: built };

  mkdirSync(outDir, { recursive: true });
  const tmp = `.tmp-${process.pid}-${Math.random().toString(36).slice(2)}`;
  const writeAtomically = (name: string, text: string): void => {
    const path = join(outDir, name);
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path + tmp, text);
    renameSync(path + tmp, path);
  };
  for (const [name, text] of built) if (name !== 'manifest.json') writeAtomically(name, text);
  writeAtomically('manifest.json', built.get('manifest.json')!);
  pruneOutDir(outDir, new Set(built.keys()));
  return { outDir, manifest, ms: performance.now() - started, files: built };
}

/** A human-readable summary of a build: every script with its sizes. */
export function formatBuild({ outDir, manifest, ms }: BuildResult): string {
  const kb = (n: number): string => `${(n / 1024).toFixed(1)} KB`.padStart(9);
  const rows = Object.entries(manifest.files).filter(([, f]) => f.kind !== 'map');
  const width = Math.max(...rows.map(([name]) => name.length));
  let out = `${'file'.padEnd(width)}       raw      gzip\n`;
  for (const [name, f] of rows) out += `${name.padEnd(width)} ${kb(f.bytes)} ${kb(f.gzip)}\n`;
  const elements = Object.keys(manifest.elements).length;
  out += `built ${elements} element${elements === 1 ? '' : 's'} into ${outDir} in ${Math.round(ms)} ms\n`;
  return out;
}

/** Removes files under `outDir` that the new build does not list. */
function pruneOutDir(outDir: string, keep: ReadonlySet<string>): void {
  const walk = (dir: string): void => {
    for (const name of readdirSync(dir)) {
      const full = join(dir, name);
      const rel = relative(outDir, full).split('\\').join('/');
      if (statSync(full).isDirectory()) walk(full);
      else if (!keep.has(rel) && !name.includes('.tmp-')) rmSync(full, { force: true });
    }
  };
  walk(outDir);
}

