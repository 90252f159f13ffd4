/**
 * The client build's manifest (`<outDir>/manifest.json`): which file is each
 * element's entry, which chunks it imports, every file's raw and gzip size,
 * the loader, and a fingerprint of the inputs so that `atoll serve` can tell
 * when the build is stale.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { SPECIFIER_PREFIX } from '../../islands/protocol.ts';
import type { ElementRegistry } from '../site/registry.ts';

/** Bumped whenever the build's output format changes: older builds are stale. */
export const BUILD_FORMAT = 1;

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
  kind: 'entry' | 'chunk' | 'loader' | 'embed' | 'map';
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
  /** Tag → client module. */
  elements: Record<string, ManifestElement>;
  /** File name (relative to the output folder) → kind and sizes. */
  files: Record<string, ManifestFile>;
  /** What the build read, to decide staleness. */
  inputs: {
    /** The registry entries the build saw. */
    registry: string;
    /** Every file rollup read (absolute paths). */
    files: string[];
    /** Digest of their sizes and modification times. */
    digest: string;
  };
}

/** The registry as the build sees it: tag, module and client of every built element. */
export function registrySignature(registry: ElementRegistry): string {
  const rows: string[] = [];
  for (const def of registry.values()) {
    if (def.kind === 'module' || def.client !== undefined) rows.push(`${def.tag} ${def.moduleUrl ?? ''} ${def.client ?? ''}`);
  }
  return rows.sort().join('\n');
}

/** Digest of the size and mtime of `files` (a missing file counts too). */
export function inputsDigest(files: readonly string[]): string {
  const hash = createHash('sha256');
  hash.update(`format ${BUILD_FORMAT}\n`);
  for (const f of files) {
    let stamp = 'missing';
    try {
      const s = statSync(f);
      stamp = `${s.size}:${s.mtimeMs}`;
    } catch {
      // A deleted input makes the build stale.
    }
    hash.update(`${f} ${stamp}\n`);
  }
  return hash.digest('base64url');
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
 * changed.
 */
export function staleReason(manifest: ClientManifest | undefined, registry: ElementRegistry, outDir: string): string | undefined {
  if (manifest === undefined) return 'there is no client build yet';
  if (manifest.inputs.registry !== registrySignature(registry)) return 'the element registry changed';
  if (inputsDigest(manifest.inputs.files) !== manifest.inputs.digest) return 'a source file changed';
  for (const name of Object.keys(manifest.files)) {
    if (!existsSync(join(outDir, name))) return `the built file ${name} is missing`;
  }
  return undefined;
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
