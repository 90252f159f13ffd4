/**
 * Independent deploys (SPEC 9c): a server import map's elements as `elements`
 * config entries, which a generation hands to `createAtoll` merged over the
 * site's own. Each entry loads the element from its prepared server module
 * (a local file: `module-cache.ts`), takes the server hooks the same module
 * exports, and maps `@atoll/<tag>` to the entry's client URL in the page's
 * import map — an absolute URL, which the client build neither builds nor
 * counts in its staleness (build/manifest.ts), so a new map never rebuilds
 * the client or makes it stale.
 */
import { createHash } from 'node:crypto';
import { isAbsolute } from 'node:path';
import type { AtollConfig } from '../site/config.ts';
import type { PreparedModules, ServerImportMap } from './types.ts';

/** The `elements` config entries of `map`, whose server modules `modules` has as local files. */
export function elementsConfig(map: ServerImportMap, modules: PreparedModules): NonNullable<AtollConfig['elements']> {
  const out: NonNullable<AtollConfig['elements']> = {};
  for (const [tag, entry] of Object.entries(map.elements)) {
    const file = Object.hasOwn(modules, tag) ? modules[tag] : undefined;
    if (file === undefined || !isAbsolute(file)) {
      throw new Error(`the import map's <${tag}> has no prepared server module (${entry.server}): prepare the map's modules first (prepareModules)`);
    }
    out[tag] = {
      module: file,
      // The same module: an element's server build re-exports its hooks (`data`, `head`, …).
      server: file,
      client: entry.client,
      // Part of the element's render-cache keys: a render of another version is never served for this one.
      version: entryVersion(entry.server),
    };
  }
  return out;
}

/** The render-cache version of a map entry: a digest of its server module's URL (immutable per URL). */
export function entryVersion(serverUrl: string): string {
  return createHash('sha256').update(serverUrl).digest('base64url').slice(0, 22);
}
