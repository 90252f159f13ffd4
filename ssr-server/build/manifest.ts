/**
 * The client build's manifest (`<outDir>/manifest.json`): which file is each
 * element's entry, which chunks it imports, every file's raw and gzip size,
 * the loader, and a fingerprint of the inputs so that `atoll serve` can tell
 * when the build is stale.
 *
 * Relocatable: nothing in it is an absolute path of the machine that built
 * it. Input files are recorded relative to the site (`elements/x-a.ts`), or
 * to Atoll's own package (`atoll:islands/loader.ts`) for Atoll's files
 * outside the site; the fingerprint is of their contents (sha256), not of
 * paths or modification times. A site copied to another folder (with its
 * `.atoll/client`) is still fresh there, and stale once a source changes.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { isAbsolute, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SPECIFIER_PREFIX } from '../../islands/protocol.ts';
import type { ElementRegistry } from '../site/registry.ts';

/** Bumped whenever the build's output format changes: older builds are stale. */
export const BUILD_FORMAT = 2;

/** The URL path under which built files are served. */
export const ASSET_PATH = '/_atoll/assets/';

/** Where a site's build goes unless told otherwise. */
export const defaultOutDir = (root: string): string => join(root, '.atoll', 'client');

/** The import map prefix of element modules: `@atoll/<tag>`. */
export const ELEMENT_SPECIFIER_PREFIX = SPECIFIER_PREFIX;

/** One element's client module. */
export type ManifestElement =
  /** Built here: its entry file and the chunks it imports statically. */
  | { file: string; imports: string[] }
  /** An absolute `client` URL from the registry: loaded from there, not built. */
  | { url: string };

/** One output file. */
export interface ManifestFile {
  kind: 'entry' | 'chunk' | 'loader' | 'embed' | 'router' | 'map';
  bytes: number;
  gzip: number;
}

/** The manifest written by `atoll build`. */
export interface ClientManifest {
  format: number;
  /** The loader's file name (its text is inlined by `<atoll-head>`). */
  loader: string;
  /** embed.js's code, with the element table still a placeholder (`ssr-server/embed/`); missing in older builds. */
  embed?: string;
  /** The client router's file (docs/navigation.md); missing in older builds (no client navigation then). */
  router?: string;
  /** Tag → client module. */
  elements: Record<string, ManifestElement>;
  /** File name (relative to the output folder) → kind and sizes. */
  files: Record<string, ManifestFile>;
  /** What the build read, to decide staleness. */
  inputs: {
    /** The registry entries the build saw. */
    registry: string;
    /** Every file the build read: relative to the site, `atoll:<path>` for Atoll's own, else absolute (see {@link inputKey}). */
    files: string[];
    /** Digest of their contents (see {@link inputsDigest}). */
    digest: string;
  };
}

/** Atoll's package folder (this file is `<package>/ssr-server/build/manifest.ts`). */
const ATOLL_PACKAGE = resolve(fileURLToPath(new URL('.', import.meta.url)), '..', '..');
const ATOLL_KEY = 'atoll:';

const inside = (dir: string, path: string): boolean => {
  const rel = relative(dir, path);
  return rel !== '' && !rel.startsWith('..') && !isAbsolute(rel);
};

/**
 * How the manifest records an input file: relative to `root` (with `/`)
 * when inside the site, `atoll:<path>` when inside Atoll's package, else
 * the absolute path.
 */
export function inputKey(root: string, file: string): string {
  const abs = resolve(file);
  if (inside(root, abs)) return relative(root, abs).split(sep).join('/');
  if (inside(ATOLL_PACKAGE, abs)) return ATOLL_KEY + relative(ATOLL_PACKAGE, abs).split(sep).join('/');
  return abs;
}

/** The file an input key names, for a site at `root`. */
export function inputPath(root: string, key: string): string {
  if (key.startsWith(ATOLL_KEY)) return join(ATOLL_PACKAGE, key.slice(ATOLL_KEY.length));
  return isAbsolute(key) ? key : join(root, key);
}

/** Whether a registry entry's browser module is an absolute URL: loaded from there, never built. */
export const hasClientUrl = (def: { client?: string | undefined }): boolean => def.client !== undefined && /^https?:\/\//i.test(def.client);

/**
 * The registry as the build sees it: tag, module (relative to the site when
 * inside it) and client of every built element. Elements whose client is an
 * absolute URL are not built, so they are left out: an independent deploy's
 * map elements (docs/deploys.md) change with every deploy without making the
 * build stale; pages take their URLs from the registry ({@link withClientUrls}).
 */
export function registrySignature(registry: ElementRegistry, root?: string): string {
  const rows: string[] = [];
  for (const def of registry.values()) {
    if (def.kind !== 'module' && def.client === undefined) continue;
    if (hasClientUrl(def)) continue;
    let module = def.moduleUrl ?? '';
    if (root !== undefined && module.startsWith('file:')) {
      try {
        module = inputKey(root, fileURLToPath(module));
      } catch {
        // not a local file: kept as it is
      }
    }
    rows.push(`${def.tag} ${module} ${def.client ?? ''}`);
  }
  return rows.sort().join('\n');
}

/**
 * Digest of the contents of the input files `keys` (see {@link inputKey}) of
 * the site at `root`; a missing file counts too. Paths and modification
 * times do not: a copy of the site in another folder has the same digest.
 */
export function inputsDigest(root: string, keys: readonly string[]): string {
  const hash = createHash('sha256');
  hash.update(`format ${BUILD_FORMAT}\n`);
  for (const key of keys) {
    let stamp = 'missing';
    try {
      stamp = createHash('sha256').update(readFileSync(inputPath(root, key))).digest('base64url');
    } catch {
      // A deleted input makes the build stale.
    }
    hash.update(`${key} ${stamp}\n`);
  }
  return hash.digest('base64url');
}

/** The manifest's `inputs` for a build of the site at `root` that read `files` (absolute paths). */
export function buildInputs(root: string, registry: ElementRegistry, files: readonly string[]): ClientManifest['inputs'] {
  const keys = [...new Set(files.map((f) => inputKey(root, f)))].sort();
  return { registry: registrySignature(registry, root), files: keys, digest: inputsDigest(root, keys) };
}

/** Reads `<outDir>/manifest.json`; undefined when missing or unreadable. */
export function readManifest(outDir: string): ClientManifest | undefined {
  const path = join(outDir, 'manifest.json');
  if (!existsSync(path)) return undefined;
  try {
    const m = JSON.parse(readFileSync(path, 'utf8')) as ClientManifest;
    return m.format === BUILD_FORMAT ? m : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Why a build is out of date for `registry`, or undefined when it is fresh:
 * an element was added, removed or moved, or any file it was built from
 * changed. `root` is the site folder (default: two levels above `outDir`,
 * where the default `<root>/.atoll/client` puts it).
 */
export function staleReason(manifest: ClientManifest | undefined, registry: ElementRegistry, outDir: string, root = resolve(outDir, '..', '..')): string | undefined {
  if (manifest === undefined) return 'there is no client build yet';
  // A built element that an entry with a client URL now replaces (a map element over the site's own) is not needed, not stale.
  const replaced = new Set([...registry.values()].filter(hasClientUrl).map((d) => d.tag));
  const built = replaced.size === 0 ? manifest.inputs.registry : manifest.inputs.registry.split('\n').filter((row) => !replaced.has(row.slice(0, row.indexOf(' ')))).join('\n');
  if (built !== registrySignature(registry, root)) return 'the element registry changed';
  if (inputsDigest(root, manifest.inputs.files) !== manifest.inputs.digest) return 'a source file changed';
  for (const name of Object.keys(manifest.files)) {
    if (!existsSync(join(outDir, name))) return `the built file ${name} is missing`;
  }
  return undefined;
}

/**
 * `manifest` as pages of the site with `registry` see it: every entry whose
 * client is an absolute URL maps its tag to that URL, whatever the build saw
 * (the build records such URLs but does not depend on them: a map element's
 * URL changes with each deploy). The same manifest when nothing differs.
 */
export function withClientUrls(manifest: ClientManifest, registry: ElementRegistry): ClientManifest {
  let elements: Record<string, ManifestElement> | undefined;
  for (const def of registry.values()) {
    if (!hasClientUrl(def)) continue;
    const entry = manifest.elements[def.tag];
    if (entry !== undefined && 'url' in entry && entry.url === def.client) continue;
    elements ??= { ...manifest.elements };
    elements[def.tag] = { url: def.client! };
  }
  return elements === undefined ? manifest : { ...manifest, elements };
}

/**
 * The import map entries (`@atoll/<tag>` → URL) for `tags`, with built files
 * under `assetUrl` (e.g. `/_atoll/assets/`).
 */
export function importMapFor(manifest: ClientManifest, tags: Iterable<string>, assetUrl: string): Record<string, string> {
  const imports: Record<string, string> = {};
  for (const tag of tags) {
    const entry = manifest.elements[tag];
    if (entry === undefined) continue;
    imports[ELEMENT_SPECIFIER_PREFIX + tag] = 'url' in entry ? entry.url : assetUrl + entry.file;
  }
  return imports;
}
