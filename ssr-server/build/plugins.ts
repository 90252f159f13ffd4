/**
 * Rollup plugins of the client build: one virtual entry per element that
 * evaluates `lit-element-hydrate-support` before the element (and so before
 * Lit), resolution and TypeScript compilation that match the server's (one
 * Lit, `.js` → `.ts`, Atoll's dependencies as a fallback, each site file
 * compiled with its nearest tsconfig.json by the compiler the server uses),
 * and guards that keep server hooks and Node built-ins out of browser bundles.
 */
import { existsSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { dirname, join, resolve as resolvePath } from 'node:path';
import type { Plugin } from 'rollup';
import { engineLocation } from '../site/install-hooks.ts';
import { compileSiteFile, isSiteFile } from '../site/resolve-hooks.mjs';

const VIRTUAL = '\0atoll-element:';
const LIT_FAMILY = /^(lit|lit-html|lit-element|@lit\/reactive-element|@lit-labs\/ssr-dom-shim|@lit-labs\/ssr-client)(\/|$)/;
const BARE = /^(?![./]|[a-z][a-z0-9+.-]*:)/i;
const BUILTINS = new Set(builtinModules);

/**
 * The decoder of the server's `data()` props (devalue's `parse`: JSON plus
 * references, no eval): every element entry installs it as
 * `globalThis.atollDecode` (where the island loader, embed.js and the
 * testing kit find it, since the inline loader has no room for it) and
 * exports it under the same name. Rollup puts devalue in a chunk that the
 * entries share, so a page fetches it once.
 */
export const DECODER = 'atollDecode';

/** The rollup input id of an element's entry. */
export const elementEntryId = (tag: string): string => VIRTUAL + tag;

/**
 * Virtual entries: `import '<hydrate support>'; import '<element module>';`,
 * and the props decoder ({@link DECODER}).
 * ES module evaluation order then guarantees that the hydrate support runs
 * before the first evaluation of `lit-element`, whichever element loads
 * first, and rollup keeps that order when it groups modules into chunks.
 */
export function elementEntries(modules: ReadonlyMap<string, string>, hydrateSupport: string): Plugin {
  return {
    name: 'atoll-element-entries',
    resolveId(source) {
      return source.startsWith(VIRTUAL) ? source : null;
    },
    load(id) {
      if (!id.startsWith(VIRTUAL)) return null;
      const file = modules.get(id.slice(VIRTUAL.length));
      if (file === undefined) return null;
      return (
        `import ${JSON.stringify(hydrateSupport)};\n` +
        `import { parse as ${DECODER} } from 'devalue';\n` +
        `import ${JSON.stringify(file)};\n` +
        `globalThis.${DECODER} ??= ${DECODER};\n` +
        `export { ${DECODER} };\n`
      );
    },
  };
}

/** Options of {@link siteResolution}. */
export interface SiteResolutionOptions {
  /** Atoll's own package root: Lit and fallbacks resolve from here. */
  atollRoot: string;
  /** Server hooks files (absolute paths) that must never be bundled. */
  serverHooks: ReadonlySet<string>;
}

/** The language level of client bundles (browsers that run Lit 3 and import maps). */
export const CLIENT_TARGET = 'es2022';

/**
 * Resolution as on the server (`site/resolve-hooks.mjs`): Lit's packages
 * always from Atoll's copy; other bare specifiers from the importer, else
 * from Atoll's dependencies; relative `./x.js` finds `./x.ts` (TypeScript's
 * convention). Importing server hooks or a Node built-in is a build error.
 * Site TypeScript is compiled here, as on the server, with the tsconfig.json
 * nearest to each file (legacy decorators, `useDefineForClassFields`, …), so
 * the browser runs the class the server rendered.
 */
export function siteResolution({ atollRoot, serverHooks }: SiteResolutionOptions): Plugin {
  const atollImporter = join(atollRoot, 'package.json');
  const { engineDirs } = engineLocation();
  return {
    name: 'atoll-site-resolution',
    async resolveId(source, importer, options) {
      if (source.startsWith('\0') || importer === undefined) return null;
      if (source.startsWith('node:') || BUILTINS.has(source)) {
        this.error(`${importer} imports "${source}", a Node built-in: browser bundles cannot include it (move that code to the element's server hooks)`);
      }
      const resolveOpts = { ...options, skipSelf: true };
      if (LIT_FAMILY.test(source)) return this.resolve(source, atollImporter, resolveOpts);
      if (BARE.test(source)) {
        return (await this.resolve(source, importer, resolveOpts)) ?? this.resolve(source, atollImporter, resolveOpts);
      }
      if (/^\.\.?\//.test(source) && /\.m?js$/.test(source) && !importer.startsWith('\0')) {
        const file = resolvePath(dirname(importer), source);
        if (!existsSync(file)) {
          const ts = file.replace(/\.js$/, '.ts').replace(/\.mjs$/, '.mts');
          if (existsSync(ts)) return ts;
        }
      }
      return null;
    },
    load(id) {
      if (serverHooks.has(id)) {
        this.error(`${id} holds server hooks (data, headers) and must never reach the browser, but a client module imports it`);
      }
      return null;
    },
    async transform(code, id) {
      if (id.startsWith('\0') || !/\.(ts|mts|cts|tsx)$/.test(id) || !isSiteFile(id, engineDirs)) return null;
      try {
        const compiled = await compileSiteFile(id, code, { target: CLIENT_TARGET });
        return { code: compiled.code, map: compiled.map === '' ? null : compiled.map };
      } catch (e) {
        const at = (e as { at?: unknown }).at;
        return this.error(typeof at === 'string' ? `${at}: ${(e as Error).message}` : (e as Error).message);
      }
    },
  };
}
